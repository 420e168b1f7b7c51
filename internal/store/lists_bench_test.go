package store_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/quirecms/quire/internal/store"
	"github.com/quirecms/quire/internal/testdb"
)

// BenchmarkLists reads a page of 20 of every list at 1,000 and 100,000
// rows per table, first and about half way down (a cursor), so that
// growth with size and depth shows. Every list is an index range, so the
// figures should stay flat. 100,000 rows are skipped under -short.
//
//	go test -run '^$' -bench Lists -benchtime 2000x ./internal/store/
//
// (PostgreSQL too with QUIRE_TEST_DATABASE_URL set.)
func BenchmarkLists(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchListsOn(b, func() string { return testdb.SQLite(b) }) })
	b.Run("postgres", func(b *testing.B) { benchListsOn(b, func() string { return testdb.Postgres(b) }) })
}

// benchCases are the lists benchmarked: each kind of plan once.
var benchCases = map[string]bool{
	"pages updated_at all": true, "pages created_at draft": true, "pages updated_at changed": true,
	"pages updated_at author": true, "pages updated_at q": true, "media live": true, "media type": true,
	"public pages": true, "revisions": true, "settings": true, "users": true, "tokens": true,
	"audit": true, "audit user": true,
}

func benchListsOn(b *testing.B, dsn func() string) {
	for _, n := range []int{1_000, 100_000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			if n > 1_000 && testing.Short() {
				b.Skip("100,000 rows under -short")
			}
			ctx := context.Background()
			db, err := store.Open(ctx, dsn())
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { db.Close() })
			if err := db.Migrate(ctx); err != nil {
				b.Fatal(err)
			}
			seedLists(b, db, n)
			for _, c := range listCases() {
				if !benchCases[c.name] {
					continue
				}
				// The cursor half way down (or where a filtered window
				// stopped), read once outside the timing.
				var deep any
				for l := n / 2; deep == nil && l >= 20; l /= 2 {
					if _, deep, err = c.page(ctx, db.Reader(), nil, l); err != nil {
						b.Fatal(err)
					}
				}
				for _, at := range []struct {
					name   string
					cursor any
				}{{"first", nil}, {"deep", deep}} {
					if at.cursor == nil && at.name == "deep" {
						continue
					}
					b.Run(c.name+"/"+at.name, func(b *testing.B) {
						for b.Loop() {
							if _, _, err := c.page(ctx, db.Reader(), at.cursor, 20); err != nil {
								b.Fatal(err)
							}
						}
					})
				}
			}
			benchBefore(b, db, n)
		})
	}
}

// benchBefore times the two queries issue 11 measured, as they were
// before migration 00008 (keyset as OR, the public list sorted on the
// revisions, the admin list joined to them), for comparison.
func benchBefore(b *testing.B, db *store.DB, n int) {
	ctx := context.Background()
	var at time.Time
	if err := store.QueryForTest(ctx, db, "SELECT id FROM pages ORDER BY updated_at DESC, id DESC LIMIT 1 OFFSET "+strconv.Itoa(n/2), func(string) {}); err != nil {
		b.Fatal(err)
	}
	ps, _, err := db.Reader().Pages(ctx, store.PageFilter{Limit: n / 2})
	if err != nil {
		b.Fatal(err)
	}
	deepPage := ps[len(ps)-1]
	pub, err := db.Reader().PublishedPages(ctx, nil, n/4)
	if err != nil {
		b.Fatal(err)
	}
	deepPub := pub[len(pub)-1]
	at = deepPub.PublishedAt
	for _, q := range []struct {
		name, sql string
		args      []any
	}{
		{"before: public pages/first", `SELECT p.id, p.slug, r.title, r.published_at, r.number
			FROM pages p JOIN page_revisions r ON r.id = p.published_revision_id WHERE r.status = 'published'
			ORDER BY r.published_at DESC, p.id DESC LIMIT 21`, nil},
		{"before: public pages/deep", `SELECT p.id, p.slug, r.title, r.published_at, r.number
			FROM pages p JOIN page_revisions r ON r.id = p.published_revision_id WHERE r.status = 'published'
			AND (r.published_at < ? OR (r.published_at = ? AND p.id < ?))
			ORDER BY r.published_at DESC, p.id DESC LIMIT 21`, []any{at, at, deepPub.PageID}},
		{"before: pages updated_at all/deep", `SELECT p.id, p.slug, p.title, p.created_by, p.updated_by, p.created_at, p.updated_at, p.version,
			p.published_revision_id, r.published_at, p.content_hash, coalesce(r.content_hash, '')
			FROM pages p LEFT JOIN page_revisions r ON r.id = p.published_revision_id
			WHERE (p.updated_at < ? OR (p.updated_at = ? AND p.id < ?)) ORDER BY p.updated_at DESC, p.id DESC LIMIT 21`,
			[]any{deepPage.UpdatedAt, deepPage.UpdatedAt, deepPage.ID}},
	} {
		b.Run(q.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := store.CountForTest(ctx, db, q.sql, append([]any{}, q.args...)...); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
