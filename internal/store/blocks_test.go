package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/store"
	"github.com/quirecms/quire/internal/testdb"
)

// eachParallel is each with the test and its database subtests run in
// parallel with other parallel tests; start-up takes turns because
// goose's PostgreSQL migration lock is server-wide and polled every 5 s.
func eachParallel(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, dsn string) {
		t.Parallel()
		ctx := context.Background()
		startMu.Lock()
		db, err := store.Open(ctx, dsn)
		if err == nil {
			if err = db.Migrate(ctx); err != nil {
				db.Close()
			}
		}
		startMu.Unlock()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		fn(t, db)
	})
}

var startMu sync.Mutex

// blockPage creates a page whose blocks are paragraphs named by texts, in
// order, and returns its id.
func blockPage(t *testing.T, db *store.DB, u *quire.User, slug string, texts ...string) string {
	t.Helper()
	p := &quire.Page{Slug: slug, Title: slug, CreatedBy: u.ID, UpdatedBy: u.ID}
	inTx(t, db, func(tx *store.Tx) error {
		if err := tx.CreatePage(context.Background(), p); err != nil {
			return err
		}
		return tx.ReplaceBlocks(context.Background(), p.ID, u.ID, paragraphs(texts...))
	})
	return p.ID
}

func paragraphs(texts ...string) []quire.Block {
	out := make([]quire.Block, len(texts))
	for i, s := range texts {
		c, _ := json.Marshal(map[string]string{"text": s})
		out[i] = quire.Block{Type: quire.BlockParagraph, Content: c}
	}
	return out
}

func inTx(t *testing.T, db *store.DB, fn func(tx *store.Tx) error) {
	t.Helper()
	if err := db.InTx(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

// texts returns the page's block texts in position order, after checking
// that positions are exactly 0..n-1.
func texts(t *testing.T, db *store.DB, pageID string) []string {
	t.Helper()
	blocks, err := db.Reader().PageBlocks(context.Background(), pageID)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(blocks))
	for i, b := range blocks {
		if b.Position != i {
			t.Fatalf("positions are not dense: block %d has position %d (%v)", i, b.Position, blocks)
		}
		var c struct{ Text string }
		if err := json.Unmarshal(b.Content, &c); err != nil {
			t.Fatal(err)
		}
		out[i] = c.Text
	}
	return out
}

func wantTexts(t *testing.T, db *store.DB, pageID string, want ...string) {
	t.Helper()
	if got := texts(t, db, pageID); !slices.Equal(got, want) {
		t.Fatalf("blocks = %v, want %v", got, want)
	}
}

func blockID(t *testing.T, db *store.DB, pageID string, pos int) string {
	t.Helper()
	blocks, err := db.Reader().PageBlocks(context.Background(), pageID)
	if err != nil {
		t.Fatal(err)
	}
	return blocks[pos].ID
}

func TestInsertBlock(t *testing.T) {
	eachParallel(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		u := mustUser(t, db, "blocks@example.com", quire.RoleAuthor)
		id := blockPage(t, db, u, "insert", "a", "b", "c")
		insert := func(pos int, text string) int {
			b := &paragraphs(text)[0]
			b.PageID, b.CreatedBy, b.Position = id, u.ID, pos
			inTx(t, db, func(tx *store.Tx) error { return tx.InsertBlock(ctx, b) })
			if b.ID == "" {
				t.Fatal("InsertBlock gave the block no id")
			}
			return b.Position
		}
		if got := insert(0, "start"); got != 0 {
			t.Fatalf("position at start = %d", got)
		}
		wantTexts(t, db, id, "start", "a", "b", "c")
		insert(2, "middle")
		wantTexts(t, db, id, "start", "a", "middle", "b", "c")
		if got := insert(5, "end"); got != 5 {
			t.Fatalf("position at end = %d", got)
		}
		wantTexts(t, db, id, "start", "a", "middle", "b", "c", "end")
		// Out of range either way means "at the end".
		if got := insert(99, "far"); got != 6 {
			t.Fatalf("position beyond the end = %d, want 6", got)
		}
		if got := insert(-1, "last"); got != 7 {
			t.Fatalf("position -1 = %d, want 7", got)
		}
		wantTexts(t, db, id, "start", "a", "middle", "b", "c", "end", "far", "last")

		// Another page's positions are not disturbed, and an empty page takes
		// its first block at 0.
		other := blockPage(t, db, u, "insert-other")
		b := &paragraphs("only")[0]
		b.PageID, b.CreatedBy, b.Position = other, u.ID, 3
		inTx(t, db, func(tx *store.Tx) error { return tx.InsertBlock(ctx, b) })
		wantTexts(t, db, other, "only")
		wantTexts(t, db, id, "start", "a", "middle", "b", "c", "end", "far", "last")
	})
}

func TestMoveBlock(t *testing.T) {
	eachParallel(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		u := mustUser(t, db, "move@example.com", quire.RoleAuthor)
		id := blockPage(t, db, u, "move", "a", "b", "c", "d", "e")
		move := func(from, to, wantAt int, want ...string) {
			t.Helper()
			bid := blockID(t, db, id, from)
			var got int
			inTx(t, db, func(tx *store.Tx) (err error) {
				got, err = tx.MoveBlock(ctx, id, bid, to)
				return err
			})
			if got != wantAt {
				t.Fatalf("move %d→%d landed at %d, want %d", from, to, got, wantAt)
			}
			wantTexts(t, db, id, want...)
		}
		move(3, 1, 1, "a", "d", "b", "c", "e")   // up
		move(1, 3, 3, "a", "b", "c", "d", "e")   // down
		move(2, 2, 2, "a", "b", "c", "d", "e")   // same place
		move(0, 4, 4, "b", "c", "d", "e", "a")   // first to last
		move(4, 0, 0, "a", "b", "c", "d", "e")   // last to first
		move(1, 100, 4, "a", "c", "d", "e", "b") // beyond the end: clamped
		move(4, -3, 0, "b", "a", "c", "d", "e")  // below zero: clamped

		var err error
		err = db.InTx(ctx, func(tx *store.Tx) error { _, err := tx.MoveBlock(ctx, id, store.NewID(), 0); return err })
		wantCode(t, err, quire.ENOTFOUND)
		// A block is found only through its own page.
		other := blockPage(t, db, u, "move-other", "x")
		err = db.InTx(ctx, func(tx *store.Tx) error { _, err := tx.MoveBlock(ctx, other, blockID(t, db, id, 0), 0); return err })
		wantCode(t, err, quire.ENOTFOUND)
		wantTexts(t, db, id, "b", "a", "c", "d", "e")
	})
}

func TestDeleteBlock(t *testing.T) {
	eachParallel(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		u := mustUser(t, db, "delete@example.com", quire.RoleAuthor)
		id := blockPage(t, db, u, "delete", "a", "b", "c", "d", "e")
		del := func(pos int, want ...string) {
			t.Helper()
			bid := blockID(t, db, id, pos)
			inTx(t, db, func(tx *store.Tx) error { return tx.DeleteBlock(ctx, id, bid) })
			wantTexts(t, db, id, want...)
		}
		del(2, "a", "b", "d", "e") // middle
		del(0, "b", "d", "e")      // first
		del(2, "b", "d")           // last
		wantCode(t, db.InTx(ctx, func(tx *store.Tx) error { return tx.DeleteBlock(ctx, id, store.NewID()) }), quire.ENOTFOUND)
		del(0, "d")
		del(0)
		n, err := db.Reader().CountBlocks(ctx, id)
		if err != nil || n != 0 {
			t.Fatalf("CountBlocks = %d, %v", n, err)
		}
	})
}

func TestReplaceBlocks(t *testing.T) {
	eachParallel(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		u := mustUser(t, db, "replace@example.com", quire.RoleAuthor)
		id := blockPage(t, db, u, "replace", "old-1", "old-2")

		// 250 blocks: more than one insert batch, in order, dense.
		want := make([]string, 250)
		for i := range want {
			want[i] = fmt.Sprintf("b%03d", i)
		}
		inTx(t, db, func(tx *store.Tx) error { return tx.ReplaceBlocks(ctx, id, u.ID, paragraphs(want...)) })
		wantTexts(t, db, id, want...)

		// Blocks that keep their id (a restore) keep it; the rest get new ones.
		blocks, err := db.Reader().PageBlocks(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		keep := []quire.Block{{ID: blocks[7].ID, Type: quire.BlockParagraph, Content: blocks[7].Content}, paragraphs("fresh")[0]}
		keep = append(keep, quire.Block{ID: blocks[3].ID, Type: quire.BlockParagraph, Content: blocks[3].Content})
		inTx(t, db, func(tx *store.Tx) error { return tx.ReplaceBlocks(ctx, id, u.ID, keep) })
		wantTexts(t, db, id, "b007", "fresh", "b003")
		after, _ := db.Reader().PageBlocks(ctx, id)
		if after[0].ID != blocks[7].ID || after[2].ID != blocks[3].ID || after[1].ID == "" || after[1].CreatedBy != u.ID {
			t.Fatalf("ids not kept: %+v", after)
		}

		// Replacing with nothing empties the page.
		inTx(t, db, func(tx *store.Tx) error { return tx.ReplaceBlocks(ctx, id, u.ID, nil) })
		wantTexts(t, db, id)
	})
}

// Any sequence of inserts, moves and deletes keeps positions dense and the
// order the one a slice model predicts.
func TestBlockOperationsAgreeWithModel(t *testing.T) {
	eachParallel(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		u := mustUser(t, db, "model@example.com", quire.RoleAuthor)
		id := blockPage(t, db, u, "model")
		var model []string
		seq := 0
		for step := range 60 {
			switch {
			case len(model) < 3 || step%3 == 0:
				seq++
				text := fmt.Sprintf("n%d", seq)
				pos := (step * 7) % (len(model) + 1)
				b := &paragraphs(text)[0]
				b.PageID, b.CreatedBy, b.Position = id, u.ID, pos
				inTx(t, db, func(tx *store.Tx) error { return tx.InsertBlock(ctx, b) })
				model = slices.Insert(model, pos, text)
			case step%3 == 1:
				from, to := (step*5)%len(model), (step*11)%len(model)
				bid := blockID(t, db, id, from)
				inTx(t, db, func(tx *store.Tx) error { _, err := tx.MoveBlock(ctx, id, bid, to); return err })
				text := model[from]
				model = slices.Insert(slices.Delete(model, from, from+1), to, text)
			default:
				pos := (step * 13) % len(model)
				bid := blockID(t, db, id, pos)
				inTx(t, db, func(tx *store.Tx) error { return tx.DeleteBlock(ctx, id, bid) })
				model = slices.Delete(model, pos, pos+1)
			}
			wantTexts(t, db, id, model...)
		}
	})
}
