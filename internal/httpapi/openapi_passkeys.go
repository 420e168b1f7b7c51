package httpapi

// Component schemas of passkeys (WebAuthn), kept beside the rest in schemas.
func init() {
	webauthnJSON := func(desc string) obj { return obj{"type": "object", "description": desc} }
	for k, v := range (obj{
		"Passkey": object([]string{"id", "name", "created_at", "last_used_at", "transports", "backup_eligible", "backed_up", "aaguid"}, obj{
			"id": str(), "name": str("maxLength", 64), "created_at": dateTime,
			"last_used_at":    obj{"type": []string{"string", "null"}, "format": "date-time", "description": "The latest sign-in with it; null before the first"},
			"transports":      obj{"type": "array", "items": str(), "description": "How the browser reaches the authenticator (internal, usb, hybrid, ...)"},
			"backup_eligible": obj{"type": "boolean", "description": "A synced passkey (it can be backed up)"},
			"backed_up":       obj{"type": "boolean"},
			"aaguid":          str("description", "The authenticator model's AAGUID; all zeros or empty when it did not say"),
		}),
		"PasskeyList": listOf("Passkey"),
		"PasskeyCeremony": object([]string{"ceremony", "expires_in", "options"}, obj{
			"ceremony":   str("description", "Send it back with the browser's answer; valid expires_in seconds, once"),
			"expires_in": obj{"type": "integer"},
			"options":    webauthnJSON("The publicKey options for navigator.credentials.create or .get (PublicKeyCredentialCreationOptionsJSON / RequestOptionsJSON: binary fields base64url)"),
		}),
		"PasskeyRegistration": object([]string{"ceremony", "name", "credential"}, obj{
			"ceremony": str(), "name": str("minLength", 1, "maxLength", 64),
			"credential": webauthnJSON("The PublicKeyCredential from navigator.credentials.create, as its toJSON() gives it (RegistrationResponseJSON)"),
		}),
		"PasskeyRename": object([]string{"name"}, obj{"name": str("minLength", 1, "maxLength", 64)}),
		"PasskeySignIn": object([]string{"ceremony", "credential"}, obj{
			"ceremony":   str(),
			"credential": webauthnJSON("The PublicKeyCredential from navigator.credentials.get, as its toJSON() gives it (AuthenticationResponseJSON)"),
		}),
		"SignInPasskeySecondFactor": object([]string{"challenge", "credential"}, obj{
			"challenge":  str("description", "The challenge of the first step"),
			"credential": webauthnJSON("The PublicKeyCredential from navigator.credentials.get with the challenge's passkey options (AuthenticationResponseJSON)"),
		}),
	}) {
		schemas[k] = v
	}
}
