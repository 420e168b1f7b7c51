package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/quirecms/quire"
)

// Passkey is a stored WebAuthn credential. PublicKey and CredentialID
// never leave the server in an answer, a log or an audit entry.
type Passkey struct {
	ID           string
	UserID       string
	CredentialID string // base64url of the raw credential id
	PublicKey    string // base64 of the COSE key
	SignCount    uint32
	Transports   string // comma-separated
	Flags        byte
	AAGUID       string
	Attestation  string // attestation type ("none", "basic_full", ...)
	Name         string
	CreatedAt    time.Time
	LastUsedAt   *time.Time
}

var errNoPasskey = quire.Errorf(quire.ENOTFOUND, "passkey not found")

const passkeyColumns = `id, user_id, credential_id, public_key, sign_count, transports, flags, aaguid, attestation, name, created_at, last_used_at`

func scanPasskey(row interface{ Scan(...any) error }) (*Passkey, error) {
	var k Passkey
	var count int64
	var flags int
	err := row.Scan(&k.ID, &k.UserID, &k.CredentialID, &k.PublicKey, &count, &k.Transports, &flags, &k.AAGUID, &k.Attestation, &k.Name,
		scanTime{&k.CreatedAt}, scanNullTime{&k.LastUsedAt})
	k.SignCount, k.Flags = uint32(count), byte(flags)
	return &k, err
}

// Passkeys lists userID's passkeys by id (passkeys_user_idx); a user has
// at most a few (the service's limit), so there is no paging.
func (tx *Tx) Passkeys(ctx context.Context, userID string) ([]*Passkey, error) {
	return queryAll(ctx, tx, scanPasskey, `SELECT `+passkeyColumns+` FROM passkeys WHERE user_id = ? ORDER BY id`, userID)
}

// CountPasskeys counts userID's passkeys.
func (tx *Tx) CountPasskeys(ctx context.Context, userID string) (int, error) {
	var n int
	err := tx.queryRow(ctx, `SELECT COUNT(*) FROM passkeys WHERE user_id = ?`, userID).Scan(&n)
	return n, mapErr(err)
}

// Passkey returns userID's passkey id; another user's is not found.
func (tx *Tx) Passkey(ctx context.Context, userID, id string) (*Passkey, error) {
	k, err := scanPasskey(tx.queryRow(ctx, `SELECT `+passkeyColumns+` FROM passkeys WHERE id = ? AND user_id = ?`, id, userID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNoPasskey
	}
	return k, mapErr(err)
}

// CreatePasskey stores a new credential; a credential id that is already
// registered (to anyone) is a conflict.
func (tx *Tx) CreatePasskey(ctx context.Context, k *Passkey) error {
	k.ID, k.CreatedAt = NewID(), tx.now
	_, err := tx.exec(ctx, `INSERT INTO passkeys (`+passkeyColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)`,
		k.ID, k.UserID, k.CredentialID, k.PublicKey, int64(k.SignCount), k.Transports, int(k.Flags), k.AAGUID, k.Attestation, k.Name, k.CreatedAt)
	return err
}

// RenamePasskey names userID's passkey id.
func (tx *Tx) RenamePasskey(ctx context.Context, userID, id, name string) error {
	return tx.execOne(ctx, errNoPasskey, `UPDATE passkeys SET name = ? WHERE id = ? AND user_id = ?`, name, id, userID)
}

// DeletePasskey removes userID's passkey id.
func (tx *Tx) DeletePasskey(ctx context.Context, userID, id string) error {
	return tx.execOne(ctx, errNoPasskey, `DELETE FROM passkeys WHERE id = ? AND user_id = ?`, id, userID)
}

// UsePasskey records a successful assertion: the new counter and flags.
// It only moves the counter forward (or keeps 0 for authenticators that
// have none), so two concurrent sign-ins with the same counter cannot
// both pass: false means another one got there first.
func (tx *Tx) UsePasskey(ctx context.Context, id string, count uint32, flags byte) (bool, error) {
	if count == 0 {
		return tx.updated(tx.exec(ctx, `UPDATE passkeys SET flags = ?, last_used_at = ? WHERE id = ? AND sign_count = 0`, int(flags), tx.now, id))
	}
	return tx.updated(tx.exec(ctx, `UPDATE passkeys SET sign_count = ?, flags = ?, last_used_at = ? WHERE id = ? AND sign_count < ?`,
		int64(count), int(flags), tx.now, id, int64(count)))
}

// Ceremony is the server-side state of a WebAuthn ceremony.
type Ceremony struct {
	ID        string
	Kind      string // register, login, second_factor
	UserID    string // "" for a passwordless login
	Session   string // the library's session data, JSON
	ExpiresAt time.Time
	UsedAt    *time.Time
}

var errNoCeremony = quire.Errorf(quire.ENOTFOUND, "no such passkey ceremony")

// CreateCeremony stores a ceremony under the hash of its secret, and drops
// expired ones (webauthn_ceremonies_expires_idx), so that unauthenticated
// begins cannot pile rows up.
func (tx *Tx) CreateCeremony(ctx context.Context, c *Ceremony, hash string) error {
	if _, err := tx.exec(ctx, `DELETE FROM webauthn_ceremonies WHERE expires_at < ?`, tx.now); err != nil {
		return err
	}
	c.ID = NewID()
	var user any
	if c.UserID != "" {
		user = c.UserID
	}
	_, err := tx.exec(ctx, `INSERT INTO webauthn_ceremonies (id, token_hash, kind, user_id, session, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		c.ID, hash, c.Kind, user, c.Session, tx.now, c.ExpiresAt)
	return err
}

// CeremonyByHash finds a ceremony of kind by the hash of its secret.
func (tx *Tx) CeremonyByHash(ctx context.Context, kind, hash string) (*Ceremony, error) {
	var c Ceremony
	var user sql.NullString
	err := tx.queryRow(ctx, `SELECT id, kind, user_id, session, expires_at, used_at FROM webauthn_ceremonies WHERE token_hash = ? AND kind = ?`, hash, kind).
		Scan(&c.ID, &c.Kind, &user, &c.Session, scanTime{&c.ExpiresAt}, scanNullTime{&c.UsedAt})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNoCeremony
	}
	c.UserID = user.String
	return &c, mapErr(err)
}

// UseCeremony spends a ceremony; false when it was spent already.
func (tx *Tx) UseCeremony(ctx context.Context, id string) (bool, error) {
	return tx.updated(tx.exec(ctx, `UPDATE webauthn_ceremonies SET used_at = ? WHERE id = ? AND used_at IS NULL`, tx.now, id))
}
