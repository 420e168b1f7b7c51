package httpapi

// Component schemas of account recovery, kept beside the rest in schemas.
func init() {
	for k, v := range (obj{
		"PasswordForgot": object([]string{"email"}, obj{"email": str("format", "email", "maxLength", 254)}),
		"PasswordReset": object([]string{"token", "new_password"}, obj{
			"token":        str("description", "The secret of the reset link (qpr_…)"),
			"new_password": str("minLength", 10, "maxLength", 1024),
		}),
		"ResetLink": object([]string{"user_id", "token", "url", "expires_at"}, obj{
			"user_id": str(), "expires_at": dateTime,
			"token": str("description", "The secret of the link (qpr_…). Shown once; only its hash is stored."),
			"url":   str("description", "QUIRE_PUBLIC_URL/admin/password/reset?token=…; empty when QUIRE_PUBLIC_URL is not set"),
		}),
		"NewInvitation": object([]string{"email", "role"}, obj{"email": str("format", "email", "maxLength", 254), "role": roleEnum}),
		"Invitation": object([]string{"id", "email", "role", "created_by", "created_at", "expires_at", "mailed"}, obj{
			"id": str(), "email": str(), "role": roleEnum, "created_by": str(), "created_at": dateTime, "expires_at": dateTime,
			"mailed": obj{"type": "boolean", "description": "Whether the link was mailed; when not (no SMTP), token and url are in this answer, once"},
			"token":  str("description", "The secret of the invitation (qiv_…), only when it was not mailed. Shown once; only its hash is stored."),
			"url":    str("description", "QUIRE_PUBLIC_URL/admin/invitation?token=…, only when not mailed and QUIRE_PUBLIC_URL is set"),
		}),
		"PendingInvitation": object([]string{"id", "email", "role", "created_by", "created_at", "expires_at"}, obj{
			"id": str(), "email": str(), "role": roleEnum, "created_by": str(), "created_at": dateTime, "expires_at": dateTime,
		}),
		"InvitationList": listOf("PendingInvitation"),
		"InvitationAccept": object([]string{"token", "password"}, obj{
			"token": str(), "password": str("minLength", 10, "maxLength", 1024), "display_name": str("maxLength", 200),
		}),
		"Session": object([]string{"id", "created_at", "last_used_at", "expires_at", "ip", "user_agent", "current"}, obj{
			"id": str(), "created_at": dateTime, "expires_at": dateTime,
			"last_used_at": obj{"type": "string", "format": "date-time", "description": "The sign-in or the latest refresh of the session"},
			"ip":           str(), "user_agent": str(),
			"current": obj{"type": "boolean", "description": "The session this request was made with"},
		}),
		"SessionList": listOf("Session"),
		"SignInChallenge": object([]string{"challenge", "expires_in", "methods"}, obj{
			"challenge":  str("description", "Send it with a code to /auth/login/2fa; valid expires_in seconds, 5 wrong codes end it"),
			"expires_in": obj{"type": "integer"},
			"methods":    obj{"type": "array", "items": str("enum", []string{"totp", "recovery_code", "passkey"})},
			"passkey":    obj{"type": "object", "description": "With method passkey: the publicKey options for navigator.credentials.get; send the answer to /auth/login/2fa/passkey"},
		}),
		"SignInSecondFactor": object([]string{"challenge", "code"}, obj{
			"challenge": str(), "code": str("maxLength", 64, "description", "A 6-digit TOTP code or a recovery code (abcd-efgh-ijkl-mnop)"),
		}),
		"TwoFactorStatus": object([]string{"totp", "recovery_codes_left"}, obj{
			"totp": obj{"type": "boolean"}, "recovery_codes_left": obj{"type": "integer"},
			"passkeys": obj{"type": "integer", "description": "How many passkeys the caller has; each is a second factor too"},
		}),
		"TOTPEnrolment": object([]string{"secret", "otpauth_uri", "qr_code"}, obj{
			"secret": str("description", "Base32 secret, to type into an app"), "otpauth_uri": str(),
			"qr_code": str("description", "The otpauth URI as a QR code: a data:image/png;base64 URL"),
		}),
		"TOTPCode":      object([]string{"code"}, obj{"code": str("maxLength", 64)}),
		"RecoveryCodes": object([]string{"recovery_codes"}, obj{"recovery_codes": obj{"type": "array", "items": str(), "description": "Ten single-use codes, shown once"}}),
		"PasswordCheck": object([]string{"password"}, obj{"password": str()}),
	}) {
		schemas[k] = v
	}
}
