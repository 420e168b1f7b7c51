package store_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/store"
	"github.com/quirecms/quire/internal/testdb"
)

func TestSettings(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		u := mustUser(t, db, "s@example.com", quire.RoleAdmin)
		values := []string{`"text"`, `42`, `3.5`, `true`, `null`, `[1,"a",{"b":null}]`, `{"nested":{"deep":[1,2]}}`}
		for i, v := range values {
			s := &quire.Setting{Key: "k" + string(rune('a'+i)), Value: json.RawMessage(v), Public: i%2 == 0, UpdatedBy: u.ID}
			if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.CreateSetting(ctx, s) }); err != nil {
				t.Fatalf("create %s: %v", v, err)
			}
			got, err := db.Reader().Setting(ctx, s.Key)
			if err != nil {
				t.Fatal(err)
			}
			if !jsonEqual(t, got.Value, s.Value) || got.Public != s.Public || got.Version != 1 {
				t.Fatalf("round trip %s: %+v", v, got)
			}
		}
		public, err := db.Reader().Settings(ctx, true)
		if err != nil || len(public) != 4 {
			t.Fatalf("public settings: %d %v", len(public), err)
		}
		s, _ := db.Reader().Setting(ctx, "ka")
		dup := &quire.Setting{Key: "ka", Value: json.RawMessage(`1`)}
		if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.CreateSetting(ctx, dup) }); quire.ErrorCode(err) != quire.ECONFLICT {
			t.Fatalf("duplicate key: %v", err)
		}
		stale := *s
		s.Value, s.Public = json.RawMessage(`"new"`), false
		if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.UpdateSetting(ctx, s) }); err != nil {
			t.Fatal(err)
		}
		if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.UpdateSetting(ctx, &stale) }); quire.ErrorCode(err) != quire.EPRECONDITION {
			t.Fatalf("stale update: %v", err)
		}
		if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.DeleteSetting(ctx, "ka", 1) }); quire.ErrorCode(err) != quire.EPRECONDITION {
			t.Fatalf("stale delete: %v", err)
		}
		if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.DeleteSetting(ctx, "ka", 2) }); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Reader().Setting(ctx, "ka"); quire.ErrorCode(err) != quire.ENOTFOUND {
			t.Fatalf("deleted setting: %v", err)
		}
		// The database refuses what is not JSON even if a caller skipped validation.
		bad := &quire.Setting{Key: "bad", Value: json.RawMessage(`{nope`)}
		if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.CreateSetting(ctx, bad) }); err == nil {
			t.Fatal("invalid JSON stored")
		}
	})
}

func jsonEqual(t *testing.T, a, b json.RawMessage) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return string(xa) == string(ya)
}

// Data written under the first schema survives the later migrations, and
// the audit chain written before them still verifies.
func TestUpgradeFromFirstMigration(t *testing.T) {
	testdb.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db, err := store.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if err := store.MigrateTo(ctx, db, 1); err != nil {
			t.Fatal(err)
		}
		u := mustUser(t, db, "old@example.com", quire.RoleAdmin)
		seedOldAudit(t, db, 3)
		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		if got, err := db.Reader().User(ctx, u.ID); err != nil || got.Email != u.Email {
			t.Fatalf("user lost in upgrade: %v", err)
		}
		if res, err := db.Reader().VerifyAudit(ctx, testKey); err != nil || !res.OK || res.Entries != 3 {
			t.Fatalf("chain after upgrade: %+v %v", res, err)
		}
		err = db.InTx(ctx, func(tx *store.Tx) error { return store.ExecForTest(ctx, tx, `DELETE FROM audit_log`) })
		if err == nil {
			t.Fatal("append-only trigger missing after upgrade")
		}
	})
}
