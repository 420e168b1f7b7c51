package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/store"
)

func appendEvent(t *testing.T, db *store.DB, typ string) *quire.Event {
	t.Helper()
	ev := &quire.Event{Type: typ, ResourceType: "page", ResourceID: "p1", Slug: "s"}
	if err := db.InTx(context.Background(), func(tx *store.Tx) error { return tx.AppendEvent(context.Background(), ev) }); err != nil {
		t.Fatal(err)
	}
	return ev
}

// Concurrent writers get consecutive seqs with no gaps or duplicates, and
// a rolled-back event leaves no trace.
func TestEventSeqConsecutive(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		var wg sync.WaitGroup
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ev := &quire.Event{Type: quire.EventPageUpdated, ResourceType: "page", ResourceID: "p1"}
				if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.AppendEvent(ctx, ev) }); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		_ = db.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.AppendEvent(ctx, &quire.Event{Type: "page.updated", ResourceType: "page", ResourceID: "x"}); err != nil {
				t.Fatal(err)
			}
			return context.Canceled // roll back
		})
		evs, err := db.Reader().EventsAfter(ctx, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != 20 {
			t.Fatalf("%d events, want 20", len(evs))
		}
		for i, ev := range evs {
			if ev.Seq != int64(i+1) {
				t.Fatalf("event %d has seq %d", i, ev.Seq)
			}
		}
		if more, _ := db.Reader().EventsAfter(ctx, 15, 3); len(more) != 3 || more[0].Seq != 16 {
			t.Fatalf("EventsAfter(15, 3) = %d events", len(more))
		}
	})
}

// Pruning removes old events but never the newest, so seq never restarts.
func TestPruneEventsKeepsNewest(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		for range 5 {
			appendEvent(t, db, quire.EventPagePublished)
		}
		var n int64
		err := db.InTx(ctx, func(tx *store.Tx) error {
			var err error
			n, err = tx.PruneEvents(ctx, time.Now().Add(time.Hour))
			return err
		})
		if err != nil || n != 4 {
			t.Fatalf("pruned %d, %v; want 4", n, err)
		}
		first, last, err := db.Reader().EventBounds(ctx)
		if err != nil || first != 5 || last != 5 {
			t.Fatalf("bounds %d..%d, %v", first, last, err)
		}
		if ev := appendEvent(t, db, quire.EventPageDeleted); ev.Seq != 6 {
			t.Fatalf("seq after pruning = %d, want 6", ev.Seq)
		}
		err = db.InTx(ctx, func(tx *store.Tx) error {
			n, err = tx.PruneEvents(ctx, time.Now().Add(-time.Hour))
			return err
		})
		if err != nil || n != 0 {
			t.Fatalf("pruned %d recent events, %v", n, err)
		}
	})
}
