package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/store"
	"github.com/quirecms/quire/internal/testdb"
)

// Contents that encoders like to change: markup and ampersands (HTML
// escaping), non-ASCII text and emoji, escaped quotes and control
// characters, nested arrays, numbers, an empty object.
var awkwardBlocks = []string{
	`{"id":"b-rich","type":"rich_text","content":{"html":"<p>Fish &amp; chips <strong>\"hot\"</strong> — café 😀</p>"}}`,
	`{"id":"b-head","type":"heading","content":{"text":"Tab\there","level":2}}`,
	`{"id":"b-list","type":"list","content":{"style":"ordered","items":["one","two <b>", "ünïcode"]}}`,
	`{"id":"b-code","type":"code","content":{"language":"go","code":"if a < b && c > d {\n\treturn \"\\u00e9\"\n}"}}`,
	`{"id":"b-div","type":"divider","content":{}}`,
}

// The conversion of migration 00014: every revision written in the old
// inline form reads back, through the store and encoded for the API,
// byte for byte as it did before; equal blocks are stored once.
func TestSnapshotMigrationKeepsEveryRevisionByteIdentical(t *testing.T) {
	testdb.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db, err := store.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if err := store.MigrateToForTest(ctx, db, 13); err != nil {
			t.Fatal(err)
		}
		u := mustUser(t, db, "old@example.com", quire.RoleEditor)
		type key struct{ page, id string }
		var revs []key
		var publishedSlug string
		var publishedKey key
		err = db.InTx(ctx, func(tx *store.Tx) error {
			for pi := 0; pi < 3; pi++ {
				p := &quire.Page{Slug: fmt.Sprintf("old-%d", pi), Title: "Old", CreatedBy: u.ID, UpdatedBy: u.ID}
				if err := tx.CreatePage(ctx, p); err != nil {
					return err
				}
				// 90 revisions a page, 270 in all: more than one batch of the
				// conversion. Each changes one block of the last; some are empty.
				for n := 1; n <= 90; n++ {
					blocks := append([]string(nil), awkwardBlocks...)
					blocks = append(blocks, fmt.Sprintf(`{"id":"b-para","type":"paragraph","content":{"text":"save %d"}}`, n/3))
					if n%17 == 0 {
						blocks = nil
					}
					inline := "[" + strings.Join(blocks, ",") + "]"
					id, status := store.NewID(), "draft"
					if pi == 0 && n == 90 {
						status, publishedSlug = "published", p.Slug
					}
					var pubAt any
					if status == "published" {
						pubAt = tx.Now()
					}
					if err := store.ExecForTest(ctx, tx, `INSERT INTO page_revisions (id, page_id, number, status, title, slug, blocks, note, created_by_user_id, created_at, published_at, content_hash)
						VALUES (?, ?, ?, ?, ?, ?, ?, '', ?, ?, ?, '')`, id, p.ID, n, status, "Title "+fmt.Sprint(n), p.Slug, inline, u.ID, tx.Now(), pubAt); err != nil {
						return err
					}
					if status == "published" {
						if err := tx.SetPublishedRevision(ctx, p.ID, &id); err != nil {
							return err
						}
					}
					revs = append(revs, key{p.ID, id})
					if status == "published" {
						publishedKey = revs[len(revs)-1]
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}

		// What the API answered before: the old read path, the row and its
		// inline blocks decoded, encoded as the API encodes a revision.
		before := map[key][]byte{}
		r := db.Reader()
		for _, k := range revs {
			rev, err := r.RevisionMeta(ctx, k.page, k.id)
			if err != nil {
				t.Fatal(err)
			}
			var inline string
			if err := r.QueryRowForTest(ctx, `SELECT blocks FROM page_revisions WHERE id = ?`, k.id).Scan(&inline); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal([]byte(inline), &rev.Blocks); err != nil {
				t.Fatal(err)
			}
			before[k], _ = json.Marshal(rev)
		}
		// As the database returned it (PostgreSQL reorders jsonb keys).
		var wantPublished quire.Revision
		if err := json.Unmarshal(before[publishedKey], &wantPublished); err != nil {
			t.Fatal(err)
		}

		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		r = db.Reader()
		for _, k := range revs {
			rev, err := r.Revision(ctx, k.page, k.id)
			if err != nil {
				t.Fatal(err)
			}
			after, _ := json.Marshal(rev)
			if string(after) != string(before[k]) {
				t.Fatalf("revision %s reads back differently:\nbefore %s\nafter  %s", k.id, before[k], after)
			}
		}
		pub, err := r.PublishedBySlug(ctx, publishedSlug)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := json.Marshal(pub.Blocks)
		want, _ := json.Marshal(wantPublished.Blocks)
		if string(got) != string(want) {
			t.Fatalf("published blocks:\n%s\nwant\n%s", got, want)
		}
		// Stored once: per page, the five fixed blocks and 31 paragraphs.
		var contents, inlineLeft int
		if err := r.QueryRowForTest(ctx, `SELECT count(*) FROM revision_contents`).Scan(&contents); err != nil {
			t.Fatal(err)
		}
		if want := 3 * (len(awkwardBlocks) + 31); contents != want {
			t.Fatalf("%d stored contents, want %d", contents, want)
		}
		if err := r.QueryRowForTest(ctx, `SELECT count(*) FROM page_revisions WHERE CAST(blocks AS TEXT) <> '[]'`).Scan(&inlineLeft); err != nil {
			t.Fatal(err)
		}
		if inlineLeft != 0 {
			t.Fatalf("%d revisions still hold inline blocks", inlineLeft)
		}
	})
}

// New revisions reuse the stored contents of unchanged blocks.
func TestRevisionsStoreEachDistinctBlockOnce(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		u := mustUser(t, db, "saver@example.com", quire.RoleEditor)
		p := &quire.Page{Slug: "saved", Title: "Saved", CreatedBy: u.ID, UpdatedBy: u.ID}
		blocks := make([]quire.SnapshotBlock, 10)
		for i := range blocks {
			blocks[i] = quire.SnapshotBlock{ID: store.NewID(), Type: "paragraph", Content: json.RawMessage(fmt.Sprintf(`{"text":"block %d"}`, i))}
		}
		var ids []string
		err := db.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.CreatePage(ctx, p); err != nil {
				return err
			}
			for n := 0; n < 5; n++ {
				blocks[n].Content = json.RawMessage(fmt.Sprintf(`{"text":"changed in save %d"}`, n))
				rev := &quire.Revision{PageID: p.ID, Status: quire.RevisionDraft, Title: "T", Slug: "saved", Blocks: append([]quire.SnapshotBlock(nil), blocks...), CreatedBy: u.ID}
				if err := tx.CreateRevision(ctx, rev); err != nil {
					return err
				}
				ids = append(ids, rev.ID)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		var n int
		if err := db.Reader().QueryRowForTest(ctx, `SELECT count(*) FROM revision_contents WHERE page_id = ?`, p.ID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 10+4 {
			t.Fatalf("%d contents for 5 saves of 10 blocks changing one each, want 14", n)
		}
		rev, err := db.Reader().Revision(ctx, p.ID, ids[2])
		if err != nil {
			t.Fatal(err)
		}
		// A reference whose content is gone is an error, never a shorter page.
		h, _, _ := store.StoredBlock(rev.Blocks[9])
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			return store.ExecForTest(ctx, tx, `DELETE FROM revision_contents WHERE page_id = ? AND hash = ?`, p.ID, h)
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Reader().Revision(ctx, p.ID, ids[2]); err == nil || !strings.Contains(err.Error(), "missing") {
			t.Fatalf("reading a revision with a missing block: %v", err)
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(rev.Blocks) != 10 || string(rev.Blocks[2].Content) != `{"text":"changed in save 2"}` || string(rev.Blocks[3].Content) != `{"text":"block 3"}` || rev.Blocks[9].ID != blocks[9].ID {
			t.Fatalf("revision 3 reads back %+v", rev.Blocks)
		}
	})
}
