package store_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/store"
	"github.com/quirecms/quire/internal/testdb"
)

// eachWith opens a migrated database with opts on every engine.
func eachWith(t *testing.T, opts store.Options, fn func(t *testing.T, db *store.DB)) {
	testdb.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db, err := store.OpenWith(ctx, dsn, opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		fn(t, db)
	})
}

func putSetting(ctx context.Context, tx *store.Tx, key string) error {
	return tx.CreateSetting(ctx, &quire.Setting{Key: key, Value: json.RawMessage(`"x"`)})
}

func wantNoSetting(t *testing.T, db *store.DB, key string) {
	t.Helper()
	if _, err := db.Reader().Setting(context.Background(), key); quire.ErrorCode(err) != quire.ENOTFOUND {
		t.Fatalf("setting %s: %v: the write was committed", key, err)
	}
}

// A transaction that runs past the timeout is rolled back, and the
// caller hears EUNAVAILABLE, even when fn itself reports success: a write
// that finishes after the client was given up on must not land.
func TestTransactionPastItsDeadlineRollsBack(t *testing.T) {
	eachWith(t, store.Options{Timeout: 300 * time.Millisecond}, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		err := db.InTx(ctx, func(tx *store.Tx) error {
			if err := putSetting(ctx, tx, "late.write"); err != nil {
				return err
			}
			time.Sleep(500 * time.Millisecond) // the network stalls before commit
			return nil
		})
		wantCode(t, err, quire.EUNAVAILABLE)
		wantNoSetting(t, db, "late.write")
		// The pool is healthy afterwards.
		if err := db.InTx(ctx, func(tx *store.Tx) error { return putSetting(ctx, tx, "next.write") }); err != nil {
			t.Fatal(err)
		}
	})
}

// Cancelling the caller's context before commit (the client went away)
// rolls the write back.
func TestCancelledTransactionDoesNotCommit(t *testing.T) {
	eachWith(t, store.Options{Timeout: 5 * time.Second}, func(t *testing.T, db *store.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		err := db.InTx(ctx, func(tx *store.Tx) error {
			if err := putSetting(ctx, tx, "gone.client"); err != nil {
				return err
			}
			cancel()
			return nil
		})
		if err == nil {
			t.Fatal("InTx reported success for a cancelled transaction")
		}
		wantNoSetting(t, db, "gone.client")
	})
}

// A read that the database does not answer ends at the timeout with
// EUNAVAILABLE instead of hanging.
func TestReadPastItsDeadlineEnds(t *testing.T) {
	eachWith(t, store.Options{Timeout: 300 * time.Millisecond}, func(t *testing.T, db *store.DB) {
		done := make(chan error, 1)
		start := time.Now()
		go func() { done <- store.EndlessQueryForTest(context.Background(), db) }()
		select {
		case err := <-done:
			wantCode(t, err, quire.EUNAVAILABLE)
			if d := time.Since(start); d > 3*time.Second {
				t.Fatalf("the read took %s", d)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("the read is still running after 20 s: no deadline")
		}
		if err := db.Ready(context.Background()); err != nil {
			t.Fatalf("ready after a timed-out read: %v", err)
		}
	})
}

// SQLite with max_page_count stands in for a full disk: the write fails
// with ESTORAGEFULL (507), readiness says so, and a write that commits
// after room was made clears it.
func TestFullDiskIsStorageFullAndNotReady(t *testing.T) {
	eachWith(t, store.Options{Timeout: 5 * time.Second}, func(t *testing.T, db *store.DB) {
		if db.Dialect() != store.SQLite {
			t.Skip("a full disk is simulated with SQLite's max_page_count; PostgreSQL's 53100 disk_full maps the same way (TestFaultCodes)")
		}
		ctx := context.Background()
		if err := store.LimitPagesForTest(ctx, db, 2); err != nil {
			t.Fatal(err)
		}
		big := json.RawMessage(`"` + strings.Repeat("x", 60_000) + `"`)
		err := db.InTx(ctx, func(tx *store.Tx) error {
			return tx.CreateSetting(ctx, &quire.Setting{Key: "big", Value: big})
		})
		wantCode(t, err, quire.ESTORAGEFULL)
		wantCode(t, db.Ready(ctx), quire.ESTORAGEFULL)
		if err := store.LimitPagesForTest(ctx, db, 1000); err != nil {
			t.Fatal(err)
		}
		if err := db.InTx(ctx, func(tx *store.Tx) error { return putSetting(ctx, tx, "small") }); err != nil {
			t.Fatal(err)
		}
		if err := db.Ready(ctx); err != nil {
			t.Fatalf("ready after a write went through: %v", err)
		}
	})
}

// SQLite commits durably by default; NORMAL is an opt-in.
func TestSQLiteSynchronous(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		opt  string
		want int
	}{{"", 2}, {"full", 2}, {"normal", 1}} {
		db, err := store.OpenWith(ctx, testdb.SQLite(t), store.Options{SQLiteSynchronous: c.opt})
		if err != nil {
			t.Fatal(err)
		}
		got, err := store.SynchronousForTest(ctx, db)
		db.Close()
		if err != nil || got != c.want {
			t.Fatalf("synchronous with %q = %d, %v; want %d", c.opt, got, err, c.want)
		}
	}
	if _, err := store.OpenWith(ctx, testdb.SQLite(t), store.Options{SQLiteSynchronous: "off"}); err == nil {
		t.Fatal("synchronous=off was accepted")
	}
}
