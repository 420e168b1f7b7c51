package store

import (
	"context"
	"time"
)

// endedRows are the account tables whose rows end, and the column that
// says when: reset and invitation links, sign-in challenges, refresh
// tokens and login sessions at expires_at (a used or revoked one is
// refused anyway, and expires within days), recorded login and reset
// failures at their time. Each column has an index (migrations 00016,
// 00019, 00021), so that a batch is a range of it.
var endedRows = []struct{ Table, Column string }{
	{"account_tokens", "expires_at"},
	{"login_challenges", "expires_at"},
	{"refresh_tokens", "expires_at"},
	{"auth_sessions", "expires_at"},
	{"login_failures", "at"},
}

// endedIDs returns up to limit ids of rows of table t (an entry of
// endedRows) that ended at or before before, oldest first.
func (tx *Tx) endedIDs(ctx context.Context, t int, before time.Time, limit int) ([]string, error) {
	e := endedRows[t]
	return queryAll(ctx, tx, func(r interface{ Scan(...any) error }) (string, error) {
		var id string
		return id, r.Scan(&id)
	}, `SELECT id FROM `+e.Table+` WHERE `+e.Column+` <= ? ORDER BY `+e.Column+` LIMIT ?`, before, limit)
}

// PruneAccountRows deletes the account rows that ended at or before
// before, batch rows per transaction, until none is left or stop has
// passed (the rest waits for the next run). It returns how many rows it
// deleted by table. Deleting a session deletes its refresh tokens too.
func (db *DB) PruneAccountRows(ctx context.Context, before time.Time, batch int, stop time.Time) (map[string]int, error) {
	out := map[string]int{}
	for t, e := range endedRows {
		for time.Now().Before(stop) {
			n := 0
			err := db.InTx(ctx, func(tx *Tx) error {
				ids, err := tx.endedIDs(ctx, t, before, batch)
				if err != nil || len(ids) == 0 {
					return err
				}
				res, err := tx.exec(ctx, `DELETE FROM `+e.Table+` WHERE id IN `+inList(len(ids)), anys(ids)...)
				if err != nil {
					return err
				}
				m, err := res.RowsAffected()
				n = int(m)
				return err
			})
			if err != nil {
				return out, err
			}
			out[e.Table] += n
			if n < batch {
				break
			}
		}
	}
	return out, nil
}
