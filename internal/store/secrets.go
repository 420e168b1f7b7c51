package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// ErrNoSecret: the instance secret asked for read-only does not exist yet.
var ErrNoSecret = errors.New("not in the database yet")

// InstanceSecret returns the named secret shared by every node, creating it
// with generate on first use (with a nil generate, a missing secret is an
// error). Only PostgreSQL deployments keep secrets in
// the database (several nodes must agree on them); SQLite keeps its own in
// the data directory.
func (db *DB) InstanceSecret(ctx context.Context, name string, generate func() (string, error)) (string, error) {
	if db.dialect != Postgres {
		return "", errors.New("instance secrets live in the database only on PostgreSQL")
	}
	if generate == nil {
		var value string
		err := db.Reader().queryRow(ctx, `SELECT value FROM instance_secrets WHERE name = ?`, name).Scan(&value)
		if errors.Is(err, sql.ErrNoRows) {
			return "", fmt.Errorf("instance secret %q: %w", name, ErrNoSecret)
		}
		return value, mapErr(err)
	}
	fresh, err := generate()
	if err != nil {
		return "", err
	}
	var value string
	err = db.InTx(ctx, func(tx *Tx) error {
		// ON CONFLICT DO NOTHING: when two nodes start together, the first
		// insert wins and both read the same value back.
		if _, err := tx.exec(ctx, `INSERT INTO instance_secrets (name, value, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING`, name, fresh, tx.now); err != nil {
			return err
		}
		return tx.queryRow(ctx, `SELECT value FROM instance_secrets WHERE name = ?`, name).Scan(&value)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("instance secret %q vanished", name)
	}
	return value, err
}
