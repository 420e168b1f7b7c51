package store

import "context"

// ShareLiveMedia returns which of ids name live (not deleted) media and,
// on PostgreSQL, locks those rows FOR SHARE until commit. A page write
// that is about to reference media calls it: a purge or delete of the
// same media locks its row FOR UPDATE, so the two serialise on that one
// row. If the write locks first, the purge waits, then sees the new block
// and refuses; if the purge locks first, the write waits and then finds
// the row gone (or deleted) and refuses. Rows are locked in id order.
// On SQLite the single writer already serialises the two.
func (tx *Tx) ShareLiveMedia(ctx context.Context, ids []string) (map[string]bool, error) {
	if len(ids) == 0 {
		return map[string]bool{}, nil
	}
	q := `SELECT id FROM media WHERE deleted_at IS NULL AND id IN ` + inList(len(ids)) + ` ORDER BY id`
	if tx.db.dialect == Postgres {
		q += ` FOR SHARE`
	}
	return tx.idSet(ctx, q, anys(ids)...)
}
