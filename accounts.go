package quire

// Audit actions of account recovery, invitations, sessions and two-factor
// sign-in (docs/security/accounts.md).
const (
	// Password reset: requested by mail, link made by an admin, completed.
	ActionPasswordResetRequest = "user.password_reset_request"
	ActionPasswordResetLink    = "user.password_reset_link"
	ActionPasswordReset        = "user.password_reset"
)
