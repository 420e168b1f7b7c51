package store

import (
	"context"
	"strings"
)

// ShareLiveMedia returns which of ids name live (not deleted) media and,
// on PostgreSQL, locks those rows FOR SHARE until commit. A page write
// that is about to reference media calls it: a purge or delete of the
// same media locks its row FOR UPDATE, so the two serialise on that one
// row. If the write locks first, the purge waits, then sees the new block
// and refuses; if the purge locks first, the write waits and then finds
// the row gone (or deleted) and refuses. Rows are locked in id order.
// On SQLite the single writer already serialises the two.
func (tx *Tx) ShareLiveMedia(ctx context.Context, ids []string) (map[string]bool, error) {
	out := make(map[string]bool, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	q := `SELECT id FROM media WHERE deleted_at IS NULL AND id IN (?` + strings.Repeat(", ?", len(ids)-1) + `) ORDER BY id`
	if tx.db.dialect == Postgres {
		q += ` FOR SHARE`
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := tx.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, mapErr(err)
		}
		out[id] = true
	}
	return out, mapErr(rows.Err())
}
