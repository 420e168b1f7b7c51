package service

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/store"
)

// WebAuthn ceremonies (docs/security/accounts.md, Passkeys).
const (
	// PasskeyCeremonyTTL is how long a begun ceremony may take; browsers
	// time the prompt out after the same.
	PasskeyCeremonyTTL = 5 * time.Minute
	// PasskeyCeremonyPrefix marks the secret that names a ceremony.
	PasskeyCeremonyPrefix = "qwc_"
	// MaxPasskeys is how many passkeys one user may register.
	MaxPasskeys = 20
	// MaxPasskeyName is the length limit of a passkey's name, in characters.
	MaxPasskeyName = 64
	// MaxPasskeyBody bounds a finish call's body: an attestation with its
	// certificate chain is a few KiB.
	MaxPasskeyBody = 64 << 10
)

// NewWebAuthn returns the relying party of publicURL (QUIRE_PUBLIC_URL):
// its host is the RP id and its origin the only origin accepted. Without a
// public URL it returns nil and passkeys are off: an RP id guessed from
// request headers could be steered by whoever sends them.
func NewWebAuthn(publicURL string) (*webauthn.WebAuthn, error) {
	if publicURL == "" {
		return nil, nil
	}
	u, err := url.Parse(publicURL)
	if err != nil || u.Hostname() == "" {
		return nil, fmt.Errorf("passkeys: QUIRE_PUBLIC_URL %q has no host", publicURL)
	}
	return webauthn.New(&webauthn.Config{
		RPID:          u.Hostname(),
		RPDisplayName: "Quire",
		RPOrigins:     []string{u.Scheme + "://" + u.Host},
		Timeouts: webauthn.TimeoutsConfig{
			Login:        webauthn.TimeoutConfig{Enforce: true, Timeout: PasskeyCeremonyTTL},
			Registration: webauthn.TimeoutConfig{Enforce: true, Timeout: PasskeyCeremonyTTL},
		},
	})
}

var errPasskeysOff = quire.Errorf(quire.ECONFLICT, "passkeys are off: they need QUIRE_PUBLIC_URL, whose host is the relying party id")

// waUser is a user as the WebAuthn library sees it. The user handle is the
// user's id (a random UUIDv7, no personal data); it is what a
// passwordless sign-in's assertion names.
type waUser struct {
	u     *quire.User
	creds []webauthn.Credential
}

func (w *waUser) WebAuthnID() []byte   { return []byte(w.u.ID) }
func (w *waUser) WebAuthnName() string { return w.u.Email }
func (w *waUser) WebAuthnDisplayName() string {
	if w.u.DisplayName != "" {
		return w.u.DisplayName
	}
	return w.u.Email
}
func (w *waUser) WebAuthnCredentials() []webauthn.Credential { return w.creds }

// loadWAUser reads u's passkeys as library credentials.
func loadWAUser(ctx context.Context, tx *store.Tx, u *quire.User) (*waUser, []*store.Passkey, error) {
	keys, err := tx.Passkeys(ctx, u.ID)
	if err != nil {
		return nil, nil, err
	}
	w := &waUser{u: u}
	for _, k := range keys {
		c, err := credentialOf(k)
		if err != nil {
			return nil, nil, err
		}
		w.creds = append(w.creds, c)
	}
	return w, keys, nil
}

func credentialOf(k *store.Passkey) (webauthn.Credential, error) {
	id, err := base64.RawURLEncoding.DecodeString(k.CredentialID)
	if err != nil {
		return webauthn.Credential{}, fmt.Errorf("passkey %s: credential id: %w", k.ID, err)
	}
	pub, err := base64.StdEncoding.DecodeString(k.PublicKey)
	if err != nil {
		return webauthn.Credential{}, fmt.Errorf("passkey %s: public key: %w", k.ID, err)
	}
	c := webauthn.Credential{ID: id, PublicKey: pub, AttestationType: k.Attestation,
		Flags:         webauthn.CredentialFlagsFromMsgpByte(k.Flags),
		Authenticator: webauthn.Authenticator{SignCount: k.SignCount}}
	for t := range strings.SplitSeq(k.Transports, ",") {
		if t != "" {
			c.Transport = append(c.Transport, protocol.AuthenticatorTransport(t))
		}
	}
	return c, nil
}

// passkeyByCredential finds the stored passkey of a library credential.
func passkeyByCredential(keys []*store.Passkey, id []byte) *store.Passkey {
	enc := base64.RawURLEncoding.EncodeToString(id)
	for _, k := range keys {
		if k.CredentialID == enc {
			return k
		}
	}
	return nil
}

func encodeSession(s *webauthn.SessionData) (string, error) {
	b, err := json.Marshal(s)
	return string(b), err
}

func decodeSession(s string) (webauthn.SessionData, error) {
	var out webauthn.SessionData
	return out, json.Unmarshal([]byte(s), &out)
}
