package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/quirecms/quire"
)

// TOTP is a user's authenticator-app secret, sealed.
type TOTP struct {
	UserID       string
	SecretSealed string
	ConfirmedAt  *time.Time // nil while the enrolment awaits its first code
	LastStep     int64      // highest time step accepted
}

var errNoTOTP = quire.Errorf(quire.ENOTFOUND, "two-factor sign-in is not set up")

// TOTP returns userID's TOTP row.
func (tx *Tx) TOTP(ctx context.Context, userID string) (*TOTP, error) {
	var t TOTP
	err := tx.queryRow(ctx, `SELECT user_id, secret_sealed, confirmed_at, last_step FROM user_totp WHERE user_id = ?`, userID).
		Scan(&t.UserID, &t.SecretSealed, scanNullTime{&t.ConfirmedAt}, &t.LastStep)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNoTOTP
	}
	return &t, mapErr(err)
}

// PutPendingTOTP starts (or restarts) an enrolment with a new secret. A
// confirmed secret is left alone (the service refuses that case first).
func (tx *Tx) PutPendingTOTP(ctx context.Context, userID, sealed string) error {
	_, err := tx.exec(ctx, `INSERT INTO user_totp (user_id, secret_sealed, last_step, created_at) VALUES (?, ?, 0, ?)
		ON CONFLICT (user_id) DO UPDATE SET secret_sealed = excluded.secret_sealed, last_step = 0, created_at = excluded.created_at
		WHERE user_totp.confirmed_at IS NULL`, userID, sealed, tx.now)
	return err
}

// ConfirmTOTP turns a pending enrolment on, with step as the last code used.
func (tx *Tx) ConfirmTOTP(ctx context.Context, userID string, step int64) (bool, error) {
	return tx.updated(tx.exec(ctx, `UPDATE user_totp SET confirmed_at = ?, last_step = ? WHERE user_id = ? AND confirmed_at IS NULL`, tx.now, step, userID))
}

// UseTOTPStep records that the code of step was used; false when that
// step (or a later one) already was: a code never works twice.
func (tx *Tx) UseTOTPStep(ctx context.Context, userID string, step int64) (bool, error) {
	return tx.updated(tx.exec(ctx, `UPDATE user_totp SET last_step = ? WHERE user_id = ? AND confirmed_at IS NOT NULL AND last_step < ?`, step, userID, step))
}

// DeleteTwoFactor removes userID's TOTP secret and recovery codes.
func (tx *Tx) DeleteTwoFactor(ctx context.Context, userID string) error {
	if _, err := tx.exec(ctx, `DELETE FROM recovery_codes WHERE user_id = ?`, userID); err != nil {
		return err
	}
	_, err := tx.exec(ctx, `DELETE FROM user_totp WHERE user_id = ?`, userID)
	return err
}

// ReplaceRecoveryCodes stores new recovery code hashes for userID in place
// of the old ones.
func (tx *Tx) ReplaceRecoveryCodes(ctx context.Context, userID string, hashes []string) error {
	if _, err := tx.exec(ctx, `DELETE FROM recovery_codes WHERE user_id = ?`, userID); err != nil {
		return err
	}
	for _, h := range hashes {
		if _, err := tx.exec(ctx, `INSERT INTO recovery_codes (id, user_id, code_hash, created_at) VALUES (?, ?, ?, ?)`, NewID(), userID, h, tx.now); err != nil {
			return err
		}
	}
	return nil
}

// UseRecoveryCode spends one recovery code; false when it is not one of
// userID's unused codes.
func (tx *Tx) UseRecoveryCode(ctx context.Context, userID, hash string) (bool, error) {
	return tx.updated(tx.exec(ctx, `UPDATE recovery_codes SET used_at = ? WHERE user_id = ? AND code_hash = ? AND used_at IS NULL`, tx.now, userID, hash))
}

// RecoveryCodesLeft counts userID's unused recovery codes.
func (tx *Tx) RecoveryCodesLeft(ctx context.Context, userID string) (int, error) {
	var n int
	err := tx.queryRow(ctx, `SELECT COUNT(*) FROM recovery_codes WHERE user_id = ? AND used_at IS NULL`, userID).Scan(&n)
	return n, mapErr(err)
}

// Challenge is the pending second step of a login.
type Challenge struct {
	ID        string
	UserID    string
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    *time.Time
	Attempts  int
}

var errNoChallenge = quire.Errorf(quire.ENOTFOUND, "no such sign-in challenge")

// CreateChallenge stores a challenge with the hash of its secret.
func (tx *Tx) CreateChallenge(ctx context.Context, c *Challenge, hash string) error {
	c.ID, c.CreatedAt = NewID(), tx.now
	_, err := tx.exec(ctx, `INSERT INTO login_challenges (id, token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
		c.ID, hash, c.UserID, c.CreatedAt, c.ExpiresAt)
	return err
}

// ChallengeByHash finds a challenge by the hash of its secret.
func (tx *Tx) ChallengeByHash(ctx context.Context, hash string) (*Challenge, error) {
	var c Challenge
	err := tx.queryRow(ctx, `SELECT id, user_id, created_at, expires_at, used_at, attempts FROM login_challenges WHERE token_hash = ?`, hash).
		Scan(&c.ID, &c.UserID, scanTime{&c.CreatedAt}, scanTime{&c.ExpiresAt}, scanNullTime{&c.UsedAt}, &c.Attempts)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNoChallenge
	}
	return &c, mapErr(err)
}

// UseChallenge ends a challenge; false when it was used already.
func (tx *Tx) UseChallenge(ctx context.Context, id string) (bool, error) {
	return tx.updated(tx.exec(ctx, `UPDATE login_challenges SET used_at = ? WHERE id = ? AND used_at IS NULL`, tx.now, id))
}

// FailChallenge counts a wrong code against a challenge.
func (tx *Tx) FailChallenge(ctx context.Context, id string) error {
	_, err := tx.exec(ctx, `UPDATE login_challenges SET attempts = attempts + 1 WHERE id = ?`, id)
	return err
}

// updated reports whether an UPDATE touched exactly one row.
func (tx *Tx) updated(res sql.Result, err error) (bool, error) {
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, mapErr(err)
}
