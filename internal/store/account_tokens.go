package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/quirecms/quire"
)

// Purposes of account links.
const (
	PurposeReset  = "reset"
	PurposeInvite = "invite"
)

// AccountToken is a single-use account link: a password reset or an
// invitation. Only the hash of its secret is stored.
type AccountToken struct {
	ID        string     `json:"id"`
	Purpose   string     `json:"-"`
	UserID    string     `json:"-"`
	Email     string     `json:"email"`
	Role      quire.Role `json:"role,omitempty"`
	CreatedBy string     `json:"created_by"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt time.Time  `json:"expires_at"`
	UsedAt    *time.Time `json:"-"`
	RevokedAt *time.Time `json:"-"`
}

// Usable reports whether the link may still be used at now.
func (t *AccountToken) Usable(now time.Time) bool {
	return t.UsedAt == nil && t.RevokedAt == nil && now.Before(t.ExpiresAt)
}

var errAccountTokenNotFound = quire.Errorf(quire.ENOTFOUND, "the link is not valid")

const accountTokenColumns = `id, purpose, user_id, email, role, created_by, created_at, expires_at, used_at, revoked_at`

func scanAccountToken(row interface{ Scan(...any) error }) (*AccountToken, error) {
	var t AccountToken
	var userID, createdBy sql.NullString
	err := row.Scan(&t.ID, &t.Purpose, &userID, &t.Email, &t.Role, &createdBy, scanTime{&t.CreatedAt}, scanTime{&t.ExpiresAt},
		scanNullTime{&t.UsedAt}, scanNullTime{&t.RevokedAt})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errAccountTokenNotFound
	}
	t.UserID, t.CreatedBy = userID.String, createdBy.String
	return &t, mapErr(err)
}

// CreateAccountToken stores a link with the hash of its secret.
func (tx *Tx) CreateAccountToken(ctx context.Context, t *AccountToken, hash string) error {
	t.ID, t.CreatedAt = NewID(), tx.now
	_, err := tx.exec(ctx, `INSERT INTO account_tokens (id, purpose, token_hash, user_id, email, role, created_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		t.ID, t.Purpose, hash, nullString(t.UserID), t.Email, t.Role, nullString(t.CreatedBy), t.CreatedAt, t.ExpiresAt)
	return err
}

// AccountTokenByHash finds a link of purpose by the hash of its secret.
func (tx *Tx) AccountTokenByHash(ctx context.Context, purpose, hash string) (*AccountToken, error) {
	return scanAccountToken(tx.queryRow(ctx, `SELECT `+accountTokenColumns+` FROM account_tokens WHERE token_hash = ? AND purpose = ?`, hash, purpose))
}

// UseAccountToken marks a link used; false when it was used or revoked
// already, so two requests racing with one link cannot both succeed.
func (tx *Tx) UseAccountToken(ctx context.Context, id string) (bool, error) {
	res, err := tx.exec(ctx, `UPDATE account_tokens SET used_at = ? WHERE id = ? AND used_at IS NULL AND revoked_at IS NULL`, tx.now, id)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, mapErr(err)
}

// RevokeUserAccountTokens ends every open link of purpose for a user.
func (tx *Tx) RevokeUserAccountTokens(ctx context.Context, userID, purpose string) error {
	_, err := tx.exec(ctx, `UPDATE account_tokens SET revoked_at = ? WHERE user_id = ? AND purpose = ? AND used_at IS NULL AND revoked_at IS NULL`,
		tx.now, userID, purpose)
	return err
}
