package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/store"
	"github.com/quirecms/quire/internal/testdb"
)

// BenchmarkRevisionHistory measures what issue 12 asks of revision storage:
// the space 1,000 saves of a 50-block page (about 1 KB a block) take when
// each save changes one block, beside what inline full snapshots took; and
// the time to read one revision and to diff two. It prints its figures:
//
//	go test ./internal/store -run '^$' -bench RevisionHistory -benchtime 2000x
func BenchmarkRevisionHistory(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchHistory(b, testdb.SQLite(b)) })
	if os.Getenv(testdb.EnvPostgres) != "" {
		b.Run("postgres", func(b *testing.B) { benchHistory(b, testdb.Postgres(b)) })
	}
}

const (
	benchSaves  = 1000
	benchBlocks = 50
)

func benchHistory(b *testing.B, dsn string) {
	ctx := context.Background()
	db, err := store.Open(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	base := dbSize(b, db)
	r := rand.New(rand.NewPCG(7, 12))
	text := func() string { // about 1 KB of words that do not compress to nothing
		var sb strings.Builder
		for sb.Len() < 1000 {
			fmt.Fprintf(&sb, "w%x ", r.Uint32())
		}
		return sb.String()
	}
	u := &quire.User{Email: "bench@example.com", Role: quire.RoleEditor, Active: true}
	page := &quire.Page{Slug: "history", Title: "History"}
	blocks := make([]quire.SnapshotBlock, benchBlocks)
	for i := range blocks {
		c, _ := json.Marshal(map[string]string{"text": text()})
		blocks[i] = quire.SnapshotBlock{ID: store.NewID(), Type: "paragraph", Content: c}
	}
	err = db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.CreateUser(ctx, u, "hash"); err != nil {
			return err
		}
		page.CreatedBy, page.UpdatedBy = u.ID, u.ID
		return tx.CreatePage(ctx, page)
	})
	if err != nil {
		b.Fatal(err)
	}
	inline := 0
	ids := make([]string, 0, benchSaves)
	for n := 0; n < benchSaves; n++ {
		c, _ := json.Marshal(map[string]string{"text": text()})
		blocks[r.IntN(benchBlocks)].Content = c
		snap := append([]quire.SnapshotBlock(nil), blocks...)
		enc, _ := json.Marshal(snap)
		inline += len(enc)
		rev := &quire.Revision{PageID: page.ID, Status: quire.RevisionDraft, Title: "History", Slug: "history", Blocks: snap, CreatedBy: u.ID}
		if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.CreateRevision(ctx, rev) }); err != nil {
			b.Fatal(err)
		}
		ids = append(ids, rev.ID)
	}
	size := dbSize(b, db) - base
	// The figures of the history itself; b.Loop has nothing to time here.
	b.Run("size", func(b *testing.B) {
		for b.Loop() {
		}
		b.ReportMetric(float64(size)/1e6, "MB")
		b.ReportMetric(float64(inline)/1e6, "inline-MB")
		b.ReportMetric(0, "ns/op")
	})

	b.Run("read", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, err := db.Reader().Revision(ctx, page.ID, ids[i%len(ids)]); err != nil {
				b.Fatal(err)
			}
		}
	})
	x, err := db.Reader().Revision(ctx, page.ID, ids[400])
	if err != nil {
		b.Fatal(err)
	}
	y, err := db.Reader().Revision(ctx, page.ID, ids[410])
	if err != nil {
		b.Fatal(err)
	}
	b.Run("diff", func(b *testing.B) {
		for b.Loop() {
			d, err := quire.Diff(quire.RevisionSide(x), quire.RevisionSide(y))
			if err != nil || d.Summary.Changed == 0 {
				b.Fatalf("%v %+v", err, d)
			}
		}
	})
}

// dbSize is the space the database uses: pages in use on SQLite (the file
// less its free list), the relations and indexes of the schema on PostgreSQL.
func dbSize(b *testing.B, db *store.DB) int64 {
	var n int64
	q := `SELECT (SELECT page_count FROM pragma_page_count()) * (SELECT page_size FROM pragma_page_size()) -
		(SELECT freelist_count FROM pragma_freelist_count()) * (SELECT page_size FROM pragma_page_size())`
	if db.Dialect() == store.Postgres {
		q = `SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
			WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'm')`
	}
	if err := db.Reader().QueryRowForTest(context.Background(), q).Scan(&n); err != nil {
		b.Fatal(err)
	}
	return n
}
