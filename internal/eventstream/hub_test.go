package eventstream_test

import (
	"context"
	"testing"
	"time"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/eventstream"
	"github.com/quirecms/quire/internal/store"
	"github.com/quirecms/quire/internal/testdb"
)

func TestHubFollowsTheLog(t *testing.T) {
	testdb.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := testdb.Open(t, dsn)
		seen := make(chan []*quire.Event, 10)
		h := eventstream.New(db, eventstream.Config{Poll: 20 * time.Millisecond, OnChange: func(evs []*quire.Event) { seen <- evs }})
		select {
		case <-h.Done():
		default:
			t.Fatal("a hub that does not run must end streams")
		}
		go h.Run(ctx)
		deadline := time.Now().Add(5 * time.Second)
		for {
			select {
			case <-h.Done():
				if time.Now().After(deadline) {
					t.Fatal("the hub did not start")
				}
				time.Sleep(10 * time.Millisecond)
				continue
			default:
			}
			break
		}
		// The hub reads the log's head when it starts; an event recorded
		// before that read is history, not news. So record until one wakes
		// the streams (on a loaded machine the head read can take a while).
		wake := h.Wake()
		woken := false
		for i := 0; i < 10 && !woken; i++ {
			err := db.InTx(ctx, func(tx *store.Tx) error {
				return tx.AppendEvent(ctx, &quire.Event{Type: quire.EventPagePublished, ResourceType: "page", ResourceID: "p", Slug: "s", Public: true})
			})
			if err != nil {
				t.Fatal(err)
			}
			select {
			case <-wake:
				woken = true
			case <-time.After(time.Second):
			}
		}
		if !woken {
			t.Fatal("streams were not woken")
		}
		select {
		case evs := <-seen:
			if len(evs) == 0 || evs[0].Slug != "s" {
				t.Fatalf("OnChange got %+v", evs)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("OnChange was not told")
		}
		// Connection bounds.
		r1, ok1 := h.Acquire("u", 2)
		_, ok2 := h.Acquire("u", 2)
		_, ok3 := h.Acquire("u", 2)
		if !ok1 || !ok2 || ok3 {
			t.Fatalf("acquire: %v %v %v", ok1, ok2, ok3)
		}
		r1()
		if _, ok := h.Acquire("u", 2); !ok {
			t.Fatal("a released slot was not given back")
		}
		h.Close()
		select {
		case <-h.Done():
		case <-time.After(time.Second):
			t.Fatal("Close did not end streams")
		}
	})
}
