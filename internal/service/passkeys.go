package service

import (
	"context"
	"encoding/base64"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/google/uuid"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/auth"
	"github.com/quirecms/quire/internal/store"
)

// Passkeys lets a signed-in user register, list, rename and remove
// WebAuthn credentials. Signing in with one is Auth's (auth_passkey.go).
type Passkeys struct {
	db   *store.DB
	auth *Auth
}

// NewPasskeys returns the passkey service; it shares Auth's relying party,
// password hasher and throttles.
func NewPasskeys(db *store.DB, a *Auth) *Passkeys { return &Passkeys{db: db, auth: a} }

// Enabled reports whether passkeys are on (QUIRE_PUBLIC_URL is set).
func (s *Passkeys) Enabled() bool { return s.auth.webauthn != nil }

// PasskeyInfo is a passkey as its owner sees it: never its key or id bytes.
type PasskeyInfo struct {
	ID             string     `json:"id"`
	Name           string     `json:"name"`
	CreatedAt      time.Time  `json:"created_at"`
	LastUsedAt     *time.Time `json:"last_used_at"`
	Transports     []string   `json:"transports"`
	BackupEligible bool       `json:"backup_eligible"`
	BackedUp       bool       `json:"backed_up"`
	AAGUID         string     `json:"aaguid"`
}

func passkeyInfo(k *store.Passkey) *PasskeyInfo {
	f := webauthn.CredentialFlagsFromMsgpByte(k.Flags)
	tr := []string{}
	for t := range strings.SplitSeq(k.Transports, ",") {
		if t != "" {
			tr = append(tr, t)
		}
	}
	return &PasskeyInfo{ID: k.ID, Name: k.Name, CreatedAt: k.CreatedAt, LastUsedAt: k.LastUsedAt, Transports: tr,
		BackupEligible: f.BackupEligible, BackedUp: f.BackupState, AAGUID: k.AAGUID}
}

// PasskeyCeremony is a begun ceremony: Options go to
// navigator.credentials.create/get (as publicKey), Ceremony comes back
// with the browser's answer.
type PasskeyCeremony struct {
	Ceremony  string `json:"ceremony"`
	ExpiresIn int    `json:"expires_in"`
	Options   any    `json:"options"`
}

var errCeremony = quire.Invalid(quire.FieldError{Field: "ceremony", Message: "is invalid, used or expired; start again"})

// checkPasskeyName trims name and checks its length and characters.
func checkPasskeyName(name string) (string, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return "", quire.Invalid(quire.FieldError{Field: "name", Message: "is required"})
	case !utf8.ValidString(name) || utf8.RuneCountInString(name) > MaxPasskeyName:
		return "", quire.Invalid(quire.FieldError{Field: "name", Message: "must be at most 64 characters"})
	case strings.ContainsFunc(name, unicode.IsControl):
		return "", quire.Invalid(quire.FieldError{Field: "name", Message: "must not contain control characters"})
	}
	return name, nil
}

var errTooManyPasskeys = quire.Errorf(quire.ECONFLICT, "you have the most passkeys allowed (20); remove one first")

// BeginRegistration starts adding a passkey: options for
// navigator.credentials.create that exclude the caller's existing ones.
func (s *Passkeys) BeginRegistration(ctx context.Context, p *quire.Principal) (*PasskeyCeremony, error) {
	if err := requireSession(p, quire.RoleViewer); err != nil {
		return nil, err
	}
	if !s.Enabled() {
		return nil, errPasskeysOff
	}
	plain, hash, err := auth.NewSecret(PasskeyCeremonyPrefix)
	if err != nil {
		return nil, err
	}
	var out *PasskeyCeremony
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		u, err := tx.User(ctx, p.UserID)
		if err != nil {
			return err
		}
		w, keys, err := loadWAUser(ctx, tx, u)
		if err != nil {
			return err
		}
		if len(keys) >= MaxPasskeys {
			return errTooManyPasskeys
		}
		// A discoverable credential when the authenticator can (it is
		// what passwordless sign-in needs); user verification when it
		// can, required only at a passwordless sign-in.
		creation, session, err := s.auth.webauthn.BeginRegistration(w,
			webauthn.WithExclusions(webauthn.Credentials(w.creds).CredentialDescriptors()),
			webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{
				ResidentKey: protocol.ResidentKeyRequirementPreferred, UserVerification: protocol.VerificationPreferred}),
			webauthn.WithConveyancePreference(protocol.PreferNoAttestation))
		if err != nil {
			return err
		}
		enc, err := encodeSession(session)
		if err != nil {
			return err
		}
		if err := tx.CreateCeremony(ctx, &store.Ceremony{Kind: "register", UserID: u.ID, Session: enc, ExpiresAt: tx.Now().Add(PasskeyCeremonyTTL)}, hash); err != nil {
			return err
		}
		out = &PasskeyCeremony{Ceremony: plain, ExpiresIn: int(PasskeyCeremonyTTL.Seconds()), Options: creation.Response}
		return nil
	})
	return out, err
}

// spendCeremony finds a ceremony of kind by its secret and spends it, in
// a transaction of its own: a failed finish burns it too, so every
// attempt needs a new begin (and a new challenge).
func (a *Auth) spendCeremony(ctx context.Context, kind, secret string) (*store.Ceremony, error) {
	if !strings.HasPrefix(secret, PasskeyCeremonyPrefix) || len(secret) > 128 {
		return nil, errCeremony
	}
	var c *store.Ceremony
	err := a.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		c, err = tx.CeremonyByHash(ctx, kind, auth.HashSecret(secret))
		if err != nil {
			return notFoundIs(err, errCeremony)
		}
		if c.UsedAt != nil || !tx.Now().Before(c.ExpiresAt) {
			return errCeremony
		}
		if fresh, err := tx.UseCeremony(ctx, c.ID); err != nil || !fresh {
			if err == nil {
				err = errCeremony
			}
			return err
		}
		return nil
	})
	return c, err
}

// FinishRegistration checks the browser's answer to a registration
// ceremony of the caller's and stores the passkey under name.
func (s *Passkeys) FinishRegistration(ctx context.Context, p *quire.Principal, ceremony, name string, credential []byte) (*PasskeyInfo, error) {
	if err := requireSession(p, quire.RoleViewer); err != nil {
		return nil, err
	}
	if !s.Enabled() {
		return nil, errPasskeysOff
	}
	name, err := checkPasskeyName(name)
	if err != nil {
		return nil, err
	}
	if ok, wait, err := s.auth.byUser.Allow(ctx, p.UserID); err != nil || !ok {
		return nil, throttled(wait, err)
	}
	c, err := s.auth.spendCeremony(ctx, "register", ceremony)
	if err != nil {
		return nil, err
	}
	if c.UserID != p.UserID {
		return nil, errCeremony
	}
	session, err := decodeSession(c.Session)
	if err != nil {
		return nil, err
	}
	badCredential := func(why string) error {
		if err := s.auth.byUser.Fail(ctx, p.UserID); err != nil {
			return err
		}
		s.auth.log.Info("passkey registration refused", "user_id", p.UserID, "reason", why)
		return quire.Invalid(quire.FieldError{Field: "credential", Message: "is not a valid answer to this ceremony"})
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(credential)
	if err != nil {
		return nil, badCredential(webauthnReason(err))
	}
	var out *PasskeyInfo
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		u, err := tx.User(ctx, p.UserID)
		if err != nil {
			return err
		}
		w, keys, err := loadWAUser(ctx, tx, u)
		if err != nil {
			return err
		}
		if len(keys) >= MaxPasskeys {
			return errTooManyPasskeys
		}
		cred, err := s.auth.webauthn.CreateCredential(w, session, parsed)
		if err != nil {
			return badCredential(webauthnReason(err))
		}
		k := &store.Passkey{UserID: u.ID, CredentialID: base64.RawURLEncoding.EncodeToString(cred.ID),
			PublicKey: base64.StdEncoding.EncodeToString(cred.PublicKey), SignCount: cred.Authenticator.SignCount,
			Flags: cred.Flags.MsgpByte(), Attestation: cred.AttestationType, Name: name}
		if id, err := uuid.FromBytes(cred.Authenticator.AAGUID); err == nil {
			k.AAGUID = id.String()
		}
		var tr []string
		for _, t := range cred.Transport {
			if len(t) <= 32 {
				tr = append(tr, string(t))
			}
		}
		k.Transports = truncate(strings.Join(tr, ","), 256)
		if len(k.CredentialID) > 1400 {
			return badCredential("credential id too long")
		}
		if err := tx.CreatePasskey(ctx, k); err != nil {
			if quire.ErrorCode(err) == quire.ECONFLICT {
				return quire.Errorf(quire.ECONFLICT, "this passkey is registered already")
			}
			return err
		}
		out = passkeyInfo(k)
		return audit(ctx, tx, u.ID, quire.ActionPasskeyRegister, "user", u.ID, map[string]any{"passkey_id": k.ID, "name": k.Name, "aaguid": k.AAGUID})
	})
	return out, err
}

// webauthnReason is the library's short reason for a refusal, for the log.
func webauthnReason(err error) string {
	if e, ok := err.(*protocol.Error); ok {
		return e.Type + ": " + e.Details
	}
	return "malformed"
}

// List returns the caller's passkeys.
func (s *Passkeys) List(ctx context.Context, p *quire.Principal) ([]*PasskeyInfo, error) {
	if err := requireSession(p, quire.RoleViewer); err != nil {
		return nil, err
	}
	keys, err := s.db.Reader().Passkeys(ctx, p.UserID)
	if err != nil {
		return nil, err
	}
	out := make([]*PasskeyInfo, 0, len(keys))
	for _, k := range keys {
		out = append(out, passkeyInfo(k))
	}
	return out, nil
}

// Rename names one of the caller's passkeys; another user's is not found.
func (s *Passkeys) Rename(ctx context.Context, p *quire.Principal, id, name string) (*PasskeyInfo, error) {
	if err := requireSession(p, quire.RoleViewer); err != nil {
		return nil, err
	}
	name, err := checkPasskeyName(name)
	if err != nil {
		return nil, err
	}
	var out *PasskeyInfo
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.RenamePasskey(ctx, p.UserID, id, name); err != nil {
			return err
		}
		k, err := tx.Passkey(ctx, p.UserID, id)
		if err != nil {
			return err
		}
		out = passkeyInfo(k)
		return audit(ctx, tx, p.UserID, quire.ActionPasskeyRename, "user", p.UserID, map[string]any{"passkey_id": id, "name": name})
	})
	return out, err
}

// Remove deletes one of the caller's passkeys after checking the password
// again, as turning TOTP off does: a session left open on a shared
// computer must not be enough to take a second factor away.
func (s *Passkeys) Remove(ctx context.Context, p *quire.Principal, id, password string) error {
	if err := requireSession(p, quire.RoleViewer); err != nil {
		return err
	}
	if err := s.auth.recheckPassword(ctx, p.UserID, password); err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		k, err := tx.Passkey(ctx, p.UserID, id)
		if err != nil {
			return err
		}
		if err := tx.DeletePasskey(ctx, p.UserID, id); err != nil {
			return err
		}
		return audit(ctx, tx, p.UserID, quire.ActionPasskeyRemove, "user", p.UserID, map[string]any{"passkey_id": id, "name": k.Name})
	})
}

// recheckPassword checks a signed-in user's password again, throttled per
// user; a wrong one is a 422 naming the field.
func (a *Auth) recheckPassword(ctx context.Context, userID, password string) error {
	if ok, wait, err := a.byUser.Allow(ctx, userID); err != nil || !ok {
		return throttled(wait, err)
	}
	hash, err := a.db.Reader().PasswordHash(ctx, userID)
	if err != nil {
		return err
	}
	if ok, _ := a.hasher.Verify(hash, password); !ok || len(password) > 4*quire.MaxPasswordLen {
		if err := a.byUser.Fail(ctx, userID); err != nil {
			return err
		}
		return quire.Invalid(quire.FieldError{Field: "password", Message: "is not correct"})
	}
	return nil
}
