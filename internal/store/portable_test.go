package store_test

import (
	"context"
	"slices"
	"testing"

	"github.com/quirecms/quire/internal/store"
)

// Portable tables are every table of the migrated schema but the
// bookkeeping ones, each after the tables it references, with the one
// cycle (a page's published revision) broken at its nullable column; a
// table a migration adds is found without code here.
func TestPortableTables(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		tables, err := db.PortableTables(ctx)
		if err != nil {
			t.Fatal(err)
		}
		at := map[string]int{}
		for i, tb := range tables {
			at[tb.Name] = i
			if len(tb.Key) == 0 {
				t.Errorf("%s has no key", tb.Name)
			}
		}
		for _, name := range []string{"users", "pages", "page_blocks", "page_revisions", "revision_contents", "media",
			"site_settings", "audit_log", "audit_checkpoints", "events", "webhooks", "webhook_deliveries",
			"page_schedules", "page_previews", "api_tokens", "auth_sessions", "refresh_tokens"} {
			if _, ok := at[name]; !ok {
				t.Errorf("%s is not portable", name)
			}
		}
		for name := range at {
			if name == "goose_db_version" || name == "audit_prune_guard" || len(name) > 6 && name[:6] == "river_" {
				t.Errorf("%s should not be carried", name)
			}
		}
		for _, before := range [][2]string{{"users", "pages"}, {"pages", "page_blocks"}, {"pages", "page_revisions"}, {"webhooks", "webhook_deliveries"}, {"auth_sessions", "refresh_tokens"}} {
			if at[before[0]] > at[before[1]] {
				t.Errorf("%s is loaded after %s", before[0], before[1])
			}
		}
		// Only the tables known as seeded hold rows in a new database.
		snap, err := db.BeginSnapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, tb := range tables {
			if n, err := snap.Count(ctx, tb); err != nil || n > 0 && !tb.Seeded() {
				t.Errorf("a new database has %d rows in %s (%v): add it to seededTables", n, tb.Name, err)
			}
		}
		snap.Close()
		pages := tables[at["pages"]]
		if !slices.Contains(pages.Deferred, "published_revision_id") {
			t.Errorf("pages defers %v, want published_revision_id", pages.Deferred)
		}
		if c, ok := pages.Column("created_at"); !ok || (db.Dialect() == store.Postgres) != (c.Kind == store.KindTimestamp) {
			t.Errorf("pages.created_at is %+v", c)
		}
		if err := db.BeginImport(ctx, "test"); err != nil {
			t.Fatal(err)
		}
		again, err := db.PortableTables(ctx)
		if err != nil || len(again) != len(tables) {
			t.Errorf("the import marker is listed: %d tables, then %d (%v)", len(tables), len(again), err)
		}
		if err := db.Migrate(ctx); err == nil {
			t.Error("Migrate ran on a database marked incomplete")
		}
		if err := db.EndImport(ctx); err != nil {
			t.Fatal(err)
		}
		if err := db.Migrate(ctx); err != nil {
			t.Errorf("Migrate after EndImport: %v", err)
		}
	})
}
