package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/store"
)

// An entry never has an earlier time than the one before it (a
// transaction that started before the previous append takes its time),
// so that the audit list's time filters are seq ranges.
func TestAuditTimeNeverGoesBack(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		seedAudit(t, db, 1)
		future := store.Now().Add(time.Hour)
		at := any(future.Format("2006-01-02T15:04:05.000000Z"))
		if db.Dialect() == store.Postgres {
			at = future
		}
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			return store.ExecForTest(ctx, tx, `INSERT INTO audit_log (seq, id, at, action, resource_type, resource_id, details, prev_hash, hash)
				SELECT 2, 'ahead', ?, 'x.y', 'x', 'y', '{}', hash, 'h' FROM audit_log WHERE seq = 1`, at)
		}); err != nil {
			t.Fatal(err)
		}
		e := &quire.AuditEntry{Action: "x.z", ResourceType: "x", ResourceID: "z"}
		if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.AppendAudit(ctx, e) }); err != nil {
			t.Fatal(err)
		}
		if !e.At.Equal(future) {
			t.Fatalf("at = %v, want the previous entry's %v", e.At, future)
		}
		got, err := db.Reader().AuditEntries(ctx, store.AuditFilter{Since: &future, Limit: 10})
		if err != nil || len(got) != 2 || got[0].ID != e.ID || got[1].ID != "ahead" {
			t.Fatalf("since: %v, %v", got, err)
		}
		got, err = db.Reader().AuditEntries(ctx, store.AuditFilter{Until: &future, Limit: 10})
		if err != nil || len(got) != 1 || got[0].Seq != 1 {
			t.Fatalf("until: %v, %v", got, err)
		}
	})
}
