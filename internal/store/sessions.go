package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/quirecms/quire"
)

// Session is a login: a chain of refresh tokens, each usable once.
type Session struct {
	ID        string
	UserID    string
	CreatedAt time.Time
	ExpiresAt time.Time
	RevokedAt *time.Time
	IP        string
	UserAgent string
}

// RefreshToken is one link of a session's chain; only its hash is stored.
type RefreshToken struct {
	ID        string
	SessionID string
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    *time.Time
}

var errSessionNotFound = quire.Errorf(quire.EUNAUTHORIZED, "the session is not valid")

// CreateSession starts a session for userID lasting until expires.
func (tx *Tx) CreateSession(ctx context.Context, s *Session) error {
	s.ID, s.CreatedAt = NewID(), tx.now
	_, err := tx.exec(ctx, `INSERT INTO auth_sessions (id, user_id, created_at, expires_at, ip, user_agent) VALUES (?, ?, ?, ?, ?, ?)`,
		s.ID, s.UserID, s.CreatedAt, s.ExpiresAt, s.IP, s.UserAgent)
	return err
}

// Session returns a session by id.
func (tx *Tx) Session(ctx context.Context, id string) (*Session, error) {
	var s Session
	err := tx.queryRow(ctx, `SELECT id, user_id, created_at, expires_at, revoked_at, ip, user_agent FROM auth_sessions WHERE id = ?`, id).
		Scan(&s.ID, &s.UserID, scanTime{&s.CreatedAt}, scanTime{&s.ExpiresAt}, scanNullTime{&s.RevokedAt}, &s.IP, &s.UserAgent)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errSessionNotFound
	}
	return &s, mapErr(err)
}

// AddRefreshToken stores the hash of a new refresh token for a session.
func (tx *Tx) AddRefreshToken(ctx context.Context, sessionID, tokenHash string, expires time.Time) error {
	_, err := tx.exec(ctx, `INSERT INTO refresh_tokens (id, session_id, token_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
		NewID(), sessionID, tokenHash, tx.now, expires)
	return err
}

// RefreshTokenByHash finds a refresh token by the hash of its secret.
func (tx *Tx) RefreshTokenByHash(ctx context.Context, hash string) (*RefreshToken, error) {
	var t RefreshToken
	err := tx.queryRow(ctx, `SELECT id, session_id, created_at, expires_at, used_at FROM refresh_tokens WHERE token_hash = ?`, hash).
		Scan(&t.ID, &t.SessionID, scanTime{&t.CreatedAt}, scanTime{&t.ExpiresAt}, scanNullTime{&t.UsedAt})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errSessionNotFound
	}
	return &t, mapErr(err)
}

// UseRefreshToken marks a token used. It reports false when the token had
// already been used: two requests racing with one token cannot both win,
// and the loser is treated as reuse.
func (tx *Tx) UseRefreshToken(ctx context.Context, id string) (bool, error) {
	res, err := tx.exec(ctx, `UPDATE refresh_tokens SET used_at = ? WHERE id = ? AND used_at IS NULL`, tx.now, id)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, mapErr(err)
}

// RevokeSession ends one session; revoking a revoked session is a no-op.
func (tx *Tx) RevokeSession(ctx context.Context, id string) error {
	_, err := tx.exec(ctx, `UPDATE auth_sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, tx.now, id)
	return err
}

// RevokeUserSessions ends every session of a user except keep (may be "").
func (tx *Tx) RevokeUserSessions(ctx context.Context, userID, keep string) error {
	_, err := tx.exec(ctx, `UPDATE auth_sessions SET revoked_at = ? WHERE user_id = ? AND id <> ? AND revoked_at IS NULL`, tx.now, userID, keep)
	return err
}
