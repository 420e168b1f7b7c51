package delivery_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/delivery"
	"github.com/quirecms/quire/internal/service"
	"github.com/quirecms/quire/internal/store"
)

// An expired entry is kept when its published revision and the liveness
// of its images are unchanged, and rebuilt when either changed, without
// any invalidation (what another node's writes look like to this one).
// After each change the cached bytes equal a fresh build's.
func TestExpiredEntryRevalidated(t *testing.T) {
	each(t, func(t *testing.T, f fixture) {
		ctx := context.Background()
		const ttl = 20 * time.Millisecond
		d := delivery.NewPages(f.db, ttl)
		quiet := service.NewPages(f.db, nil)
		w, h := 4, 3
		m := &quire.Media{ID: store.NewID(), Filename: "cat.png", MimeType: "image/png", SizeBytes: 10, Checksum: strings.Repeat("c", 64),
			Width: &w, Height: &h, StorageKey: "k", UploadedBy: f.editor.UserID}
		if err := f.db.InTx(ctx, func(tx *store.Tx) error { return tx.CreateMedia(ctx, m) }); err != nil {
			t.Fatal(err)
		}
		img, _ := json.Marshal(map[string]any{"media_id": m.ID, "alt": "A cat"})
		p, err := quiet.Create(ctx, f.editor, service.NewPage{Slug: "pics", Title: "Pics", Blocks: []quire.BlockInput{
			{Type: quire.BlockImage, Content: img}}})
		if err != nil {
			t.Fatal(err)
		}
		f.publish(t, quiet, p.ID, "", "Pics")

		fresh := func() []byte { // what a cold cache builds now
			t.Helper()
			return page(t, delivery.NewPages(f.db, time.Hour), "pics").Body
		}
		expire := func() { time.Sleep(ttl + 10*time.Millisecond) }
		setDeleted := func(deleted bool) {
			t.Helper()
			err := f.db.InTx(ctx, func(tx *store.Tx) error {
				cur, err := tx.Media(ctx, m.ID)
				if err != nil {
					return err
				}
				cur.DeletedAt = nil
				if deleted {
					now := time.Now()
					cur.DeletedAt = &now
				}
				return tx.UpdateMedia(ctx, cur)
			})
			if err != nil {
				t.Fatal(err)
			}
		}

		first := page(t, d, "pics")
		if !bytes.Contains(first.Body, []byte(`"url"`)) {
			t.Fatalf("image not delivered: %s", first.Body)
		}
		expire()
		if again := page(t, d, "pics"); again != first {
			t.Fatal("an unchanged page was rebuilt after its TTL instead of revalidated")
		}

		setDeleted(true)
		expire()
		gone := page(t, d, "pics")
		if bytes.Contains(gone.Body, []byte(`"url"`)) || !bytes.Equal(gone.Body, fresh()) {
			t.Fatalf("deleted image still delivered, or not a fresh build: %s", gone.Body)
		}
		setDeleted(false)
		expire()
		if back := page(t, d, "pics"); !bytes.Equal(back.Body, first.Body) {
			t.Fatalf("restored image not delivered again: %s", back.Body)
		}

		f.publish(t, quiet, p.ID, "", "Pics 2")
		expire()
		if got := page(t, d, "pics"); title(t, got) != "Pics 2" || !bytes.Equal(got.Body, fresh()) {
			t.Fatalf("a new publish was not seen after the TTL: %s", got.Body)
		}
		if _, err := quiet.Unpublish(ctx, f.editor, p.ID, 0); err != nil {
			t.Fatal(err)
		}
		expire()
		if !page(t, d, "pics").NotFound {
			t.Fatal("an unpublished page was kept after its TTL")
		}
	})
}

// The cache holds at most its byte budget, evicting to stay under it, and
// evicted pages are read again correctly.
func TestCacheByteBudget(t *testing.T) {
	each(t, func(t *testing.T, f fixture) {
		d := delivery.NewPages(f.db, time.Hour)
		quiet := service.NewPages(f.db, nil)
		const n = 12
		for i := range n {
			f.publish(t, quiet, "", fmt.Sprintf("p%d", i), fmt.Sprintf("Page %d", i))
		}
		one := page(t, delivery.NewPages(f.db, time.Hour), "p0")
		budget := int64(4 * (len(one.Body) + 300)) // room for about four
		d.SetBudget(budget)
		for round := range 3 {
			for i := range n {
				if got := title(t, page(t, d, fmt.Sprintf("p%d", i))); got != fmt.Sprintf("Page %d", i) {
					t.Fatalf("round %d, p%d: %q", round, i, got)
				}
				if held := d.CachedBytes(); held > budget || held <= 0 {
					t.Fatalf("cache holds %d bytes against a budget of %d", held, budget)
				}
			}
		}
		// Invalidation keeps the count of held bytes right.
		d.InvalidateAll()
		if held := d.CachedBytes(); held != 0 {
			t.Fatalf("after InvalidateAll: %d bytes", held)
		}
		page(t, d, "p1")
		d.Invalidate("p1")
		if held := d.CachedBytes(); held != 0 {
			t.Fatalf("after Invalidate: %d bytes", held)
		}
		// An entry larger than the whole budget is served, not kept.
		d.SetBudget(10)
		if title(t, page(t, d, "p2")) != "Page 2" || d.CachedBytes() != 0 {
			t.Fatalf("oversized entry: %d bytes held", d.CachedBytes())
		}
	})
}
