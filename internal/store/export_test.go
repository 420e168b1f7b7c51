package store

import "context"

// ExecForTest runs raw SQL inside a transaction, for tests that tamper with
// stored rows or insert rows whose store methods do not exist yet.
func ExecForTest(ctx context.Context, tx *Tx, query string, args ...any) error {
	_, err := tx.exec(ctx, query, args...)
	return err
}
