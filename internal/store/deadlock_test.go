package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/store"
	"github.com/quirecms/quire/internal/testdb"
)

// Two transactions lock two rows in opposite order: PostgreSQL aborts one
// of them with 40P01, which must reach the caller as a retryable
// EUNAVAILABLE (503 with Retry-After), never as an internal error, while
// the other commits. SQLite runs one write transaction at a time, so the
// two cannot interleave there and the case does not arise.
func TestDeadlockIsRetryable(t *testing.T) {
	testdb.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db, err := store.OpenWith(ctx, dsn, store.Options{Timeout: 20 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if db.Dialect() != store.Postgres {
			t.Skip("SQLite has one writer at a time: transactions cannot deadlock")
		}
		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		keys := [2]string{"deadlock.a", "deadlock.b"}
		for _, k := range keys {
			if err := db.InTx(ctx, func(tx *store.Tx) error { return putSetting(ctx, tx, k) }); err != nil {
				t.Fatal(err)
			}
		}
		// Each transaction locks its first row, waits until the other has
		// locked its own, then asks for the other's.
		var barrier sync.WaitGroup
		barrier.Add(2)
		errs := make([]error, 2)
		var done sync.WaitGroup
		for i := range 2 {
			done.Add(1)
			go func() {
				defer done.Done()
				first, second := keys[i], keys[1-i]
				errs[i] = db.InTx(ctx, func(tx *store.Tx) error {
					if _, err := tx.SettingForUpdate(ctx, first); err != nil {
						barrier.Done()
						return err
					}
					barrier.Done()
					barrier.Wait()
					_, err := tx.SettingForUpdate(ctx, second)
					return err
				})
			}()
		}
		done.Wait()
		var failed []error
		for _, err := range errs {
			if err != nil {
				failed = append(failed, err)
			}
		}
		if len(failed) != 1 {
			t.Fatalf("want exactly one transaction aborted, got %v", errs)
		}
		err = failed[0]
		wantCode(t, err, quire.EUNAVAILABLE)
		if !errors.Is(err, store.ErrRetryable) {
			t.Errorf("not marked retryable: %v", err)
		}
		var e *quire.Error
		if !errors.As(err, &e) || e.RetryAfter <= 0 {
			t.Errorf("no Retry-After: %+v", e)
		}
	})
}
