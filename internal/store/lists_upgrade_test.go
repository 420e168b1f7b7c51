package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/quirecms/quire/internal/store"
	"github.com/quirecms/quire/internal/testdb"
)

// Upgrading copies each published page's publish time and hash onto the
// page, so lists and the public list show what they showed before.
func TestListMigrationBackfills(t *testing.T) {
	testdb.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db, err := store.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if err := store.MigrateTo(ctx, db, 3); err != nil {
			t.Fatal(err)
		}
		at := "'2026-02-03T04:05:06.000007Z'"
		if db.Dialect() == store.Postgres {
			at = "timestamptz '2026-02-03 04:05:06.000007+00'"
		}
		for _, q := range []string{
			`INSERT INTO users (id, email, hashed_password, role, last_token_issue, created_at, updated_at) VALUES ('u', 'u@example.com', 'x', 'admin', ` + at + `, ` + at + `, ` + at + `)`,
			`INSERT INTO pages (id, slug, title, created_by, updated_by, created_at, updated_at, content_hash) VALUES ('p', 'pub', 'T', 'u', 'u', ` + at + `, ` + at + `, 'new'), ('q', 'draft', 'D', 'u', 'u', ` + at + `, ` + at + `, 'h')`,
			`INSERT INTO page_revisions (id, page_id, number, status, title, slug, created_by_user_id, created_at, published_at, content_hash) VALUES ('r', 'p', 1, 'published', 'T', 'pub', 'u', ` + at + `, ` + at + `, 'old')`,
			`UPDATE pages SET published_revision_id = 'r' WHERE id = 'p'`,
		} {
			if err := db.InTx(ctx, func(tx *store.Tx) error { return store.ExecForTest(ctx, tx, q) }); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		want := time.Date(2026, 2, 3, 4, 5, 6, 7000, time.UTC)
		p, err := db.Reader().Page(ctx, "p")
		if err != nil || p.PublishedAt == nil || !p.PublishedAt.Equal(want) || !p.HasUnpublishedChanges {
			t.Fatalf("published page after upgrade: %+v, %v", p, err)
		}
		if d, err := db.Reader().Page(ctx, "q"); err != nil || d.PublishedAt != nil || d.HasUnpublishedChanges {
			t.Fatalf("draft after upgrade: %+v, %v", d, err)
		}
		pub, err := db.Reader().PublishedPages(ctx, nil, 10)
		if err != nil || len(pub) != 1 || pub[0].Slug != "pub" || !pub[0].PublishedAt.Equal(want) {
			t.Fatalf("public list after upgrade: %+v, %v", pub, err)
		}
		changed, _, err := db.Reader().Pages(ctx, store.PageFilter{Status: "changed", Limit: 10})
		if err != nil || len(changed) != 1 || changed[0].ID != "p" {
			t.Fatalf("changed after upgrade: %v, %v", changed, err)
		}
	})
}
