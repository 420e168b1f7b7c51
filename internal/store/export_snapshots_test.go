package store

import (
	"context"
	"fmt"
)

// MigrateToForTest applies the embedded migrations up to and including
// version, for tests of a migration against data written before it.
func MigrateToForTest(ctx context.Context, db *DB, version int64) error {
	p, err := db.migrationProvider()
	if err != nil {
		return err
	}
	if _, err := p.UpTo(ctx, version); err != nil {
		return fmt.Errorf("migrate to %d: %w", version, err)
	}
	return nil
}

// QueryRowForTest runs one query with ? placeholders on tx.
func (tx *Tx) QueryRowForTest(ctx context.Context, query string, args ...any) interface{ Scan(...any) error } {
	return tx.queryRow(ctx, query, args...)
}
