package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/quirecms/quire"
)

var errTokenNotFound = quire.Errorf(quire.ENOTFOUND, "API token not found")

const tokenColumns = `id, name, prefix, role, scopes, created_by, created_at, expires_at, last_used_at`

func scanToken(row interface{ Scan(...any) error }) (*quire.APIToken, error) {
	var t quire.APIToken
	var scopes string
	err := row.Scan(&t.ID, &t.Name, &t.Prefix, &t.Role, &scopes, &t.CreatedBy, scanTime{&t.CreatedAt}, scanNullTime{&t.ExpiresAt}, scanNullTime{&t.LastUsedAt})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errTokenNotFound
	}
	t.Scopes = quire.SplitScopes(scopes)
	return &t, mapErr(err)
}

// CreateAPIToken stores a token with the hash of its secret.
func (tx *Tx) CreateAPIToken(ctx context.Context, t *quire.APIToken, hash string) error {
	t.ID, t.CreatedAt = NewID(), tx.now
	_, err := tx.exec(ctx, `INSERT INTO api_tokens (id, name, prefix, token_hash, role, scopes, created_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		t.ID, t.Name, t.Prefix, hash, t.Role, quire.JoinScopes(t.Scopes), t.CreatedBy, t.CreatedAt, t.ExpiresAt)
	return err
}

// APIToken returns a token by id.
func (tx *Tx) APIToken(ctx context.Context, id string) (*quire.APIToken, error) {
	return scanToken(tx.queryRow(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE id = ?`, id))
}

// APITokenByHash finds a token by the hash of its secret.
func (tx *Tx) APITokenByHash(ctx context.Context, hash string) (*quire.APIToken, error) {
	return scanToken(tx.queryRow(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE token_hash = ?`, hash))
}

// APITokens lists tokens by id after afterID (keyset pagination).
func (tx *Tx) APITokens(ctx context.Context, afterID string, limit int) ([]*quire.APIToken, error) {
	rows, err := tx.query(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE id > ? ORDER BY id LIMIT ?`, afterID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*quire.APIToken
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, mapErr(rows.Err())
}

// DeleteAPIToken revokes a token by removing it.
func (tx *Tx) DeleteAPIToken(ctx context.Context, id string) error {
	return tx.execOne(ctx, errTokenNotFound, `DELETE FROM api_tokens WHERE id = ?`, id)
}

// TouchAPIToken records that a token was just used.
func (tx *Tx) TouchAPIToken(ctx context.Context, id string) error {
	// At most one write a minute per token: a busy token must not turn every
	// read into a write.
	_, err := tx.exec(ctx, `UPDATE api_tokens SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)`, tx.now, id, tx.now.Add(-time.Minute))
	return err
}
