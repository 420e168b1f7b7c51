package store

import (
	"context"
	"time"
)

// Invitations lists pending invitations (neither used, revoked nor
// expired at now) by id after afterID: a keyset range of
// account_tokens_purpose_idx.
func (tx *Tx) Invitations(ctx context.Context, now time.Time, afterID string, limit int) ([]*AccountToken, error) {
	rows, err := tx.query(ctx, `SELECT `+accountTokenColumns+` FROM account_tokens
		WHERE purpose = ? AND id > ? AND used_at IS NULL AND revoked_at IS NULL AND expires_at > ? ORDER BY id LIMIT ?`,
		PurposeInvite, afterID, now, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*AccountToken
	for rows.Next() {
		t, err := scanAccountToken(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, mapErr(rows.Err())
}

// AccountToken returns the link id of purpose.
func (tx *Tx) AccountToken(ctx context.Context, purpose, id string) (*AccountToken, error) {
	return scanAccountToken(tx.queryRow(ctx, `SELECT `+accountTokenColumns+` FROM account_tokens WHERE id = ? AND purpose = ?`, id, purpose))
}

// PendingInvitationFor reports whether email has a pending invitation.
func (tx *Tx) PendingInvitationFor(ctx context.Context, email string, now time.Time) (bool, error) {
	var n int
	err := tx.queryRow(ctx, `SELECT COUNT(*) FROM account_tokens WHERE purpose = ? AND email = ? AND used_at IS NULL AND revoked_at IS NULL AND expires_at > ?`,
		PurposeInvite, email, now).Scan(&n)
	return n > 0, mapErr(err)
}

// RevokeAccountToken ends one link; false when it was used or ended already.
func (tx *Tx) RevokeAccountToken(ctx context.Context, id string) (bool, error) {
	res, err := tx.exec(ctx, `UPDATE account_tokens SET revoked_at = ? WHERE id = ? AND used_at IS NULL AND revoked_at IS NULL`, tx.now, id)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, mapErr(err)
}

// SetAccountTokenUser records the account an accepted invitation made.
func (tx *Tx) SetAccountTokenUser(ctx context.Context, id, userID string) error {
	_, err := tx.exec(ctx, `UPDATE account_tokens SET user_id = ? WHERE id = ?`, userID, id)
	return err
}
