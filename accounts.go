package quire

// Audit actions of account recovery, invitations, sessions and two-factor
// sign-in (docs/security/accounts.md).
const (
	// Password reset: requested by mail, link made by an admin, completed.
	ActionPasswordResetRequest = "user.password_reset_request"
	ActionPasswordResetLink    = "user.password_reset_link"
	ActionPasswordReset        = "user.password_reset"
	// Invitations: made, sent again with a new link, revoked, accepted
	// (which creates the user).
	ActionInvitationCreate = "invitation.create"
	ActionInvitationResend = "invitation.resend"
	ActionInvitationRevoke = "invitation.revoke"
	ActionInvitationAccept = "invitation.accept"
	// Sessions: one ended by its owner, all of a user's ended by an admin.
	ActionSessionRevoke      = "auth.session_revoke"
	ActionUserSessionsRevoke = "user.sessions_revoke"
	// Two-factor sign-in turned on (after the confirmation code) and off.
	ActionTwoFactorEnable  = "user.two_factor_enable"
	ActionTwoFactorDisable = "user.two_factor_disable"
	// Passkeys (WebAuthn credentials): registered, renamed, removed. A
	// sign-in with one is auth.login with method (or second_factor)
	// "passkey"; a refused one auth.login_failed with the reason.
	ActionPasskeyRegister = "user.passkey_register"
	ActionPasskeyRename   = "user.passkey_rename"
	ActionPasskeyRemove   = "user.passkey_remove"
)
