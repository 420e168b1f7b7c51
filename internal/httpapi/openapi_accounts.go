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
	}) {
		schemas[k] = v
	}
}
