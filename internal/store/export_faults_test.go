package store

import (
	"context"
	"strconv"
)

// EndlessQueryForTest runs a query that never ends on its own, on the
// reader: only a deadline or a cancellation stops it.
func EndlessQueryForTest(ctx context.Context, db *DB) error {
	var n int64
	return db.Reader().queryRow(ctx, `WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c`).Scan(&n)
}

// LimitPagesForTest caps the SQLite database at its current size plus
// extra pages, on the write connection, so that a write that needs more
// fails with SQLITE_FULL as on a full disk.
func LimitPagesForTest(ctx context.Context, db *DB, extra int64) error {
	var n int64
	if err := db.write.QueryRowContext(ctx, `PRAGMA page_count`).Scan(&n); err != nil {
		return err
	}
	var got int64
	return db.write.QueryRowContext(ctx, `PRAGMA max_page_count = `+strconv.FormatInt(n+extra, 10)).Scan(&got)
}

// SynchronousForTest reports the synchronous pragma of the write
// connection: 1 is NORMAL, 2 is FULL.
func SynchronousForTest(ctx context.Context, db *DB) (int, error) {
	var n int
	return n, db.write.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&n)
}
