package store

import (
	"context"
	"time"
)

// LoginFailures keeps a login throttle's failures in the database, so that
// every node on it counts the same failures (auth.Failures). Scope
// separates throttles that share the table (by account, by address).
type LoginFailures struct {
	db    *DB
	scope string
}

// LoginFailures returns the failures of the throttle named scope.
func (db *DB) LoginFailures(scope string) *LoginFailures {
	return &LoginFailures{db: db, scope: scope}
}

func (f *LoginFailures) key(k string) string { return f.scope + ":" + k }

// Recent returns key's newest limit failures after since, oldest first.
func (f *LoginFailures) Recent(ctx context.Context, key string, since time.Time, limit int) ([]time.Time, error) {
	rows, err := f.db.Reader().query(ctx, `SELECT at FROM login_failures WHERE key = ? AND at > ? ORDER BY at DESC LIMIT ?`,
		f.key(key), since, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []time.Time
	for rows.Next() {
		var at time.Time
		if err := rows.Scan(scanTime{&at}); err != nil {
			return nil, mapErr(err)
		}
		out = append(out, at)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, mapErr(rows.Err())
}

// Add records a failure and deletes every failure, of any key, that has
// left the window, so that the table holds only the current window. A
// key's failures are few (it is blocked after limit of them), so limit
// needs no enforcing here.
func (f *LoginFailures) Add(ctx context.Context, key string, at, since time.Time, _ int) error {
	return f.db.InTx(ctx, func(tx *Tx) error {
		if _, err := tx.exec(ctx, `DELETE FROM login_failures WHERE at <= ? AND key LIKE ?`, since, f.scope+":%"); err != nil {
			return err
		}
		_, err := tx.exec(ctx, `INSERT INTO login_failures (id, key, at) VALUES (?, ?, ?)`, NewID(), f.key(key), at)
		return err
	})
}

// Forget drops key's failures.
func (f *LoginFailures) Forget(ctx context.Context, key string) error {
	return f.db.InTx(ctx, func(tx *Tx) error {
		_, err := tx.exec(ctx, `DELETE FROM login_failures WHERE key = ?`, f.key(key))
		return err
	})
}
