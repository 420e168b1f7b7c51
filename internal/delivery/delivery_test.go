package delivery_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/delivery"
	"github.com/quirecms/quire/internal/service"
	"github.com/quirecms/quire/internal/store"
	"github.com/quirecms/quire/internal/testdb"
)

// fixture is a migrated database with an editor.
type fixture struct {
	db     *store.DB
	editor *quire.Principal
}

var startMu sync.Mutex // see eachParallel in the httpapi tests: goose's lock is polled every 5 s

func each(t *testing.T, fn func(t *testing.T, f fixture)) {
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
		u := &quire.User{Email: "editor@example.com", Role: quire.RoleEditor, Active: true}
		if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.CreateUser(ctx, u, "hash") }); err != nil {
			t.Fatal(err)
		}
		fn(t, fixture{db: db, editor: &quire.Principal{UserID: u.ID, Role: u.Role}})
	})
}

// publish creates the page at slug if id is empty, sets its title and
// publishes it; it returns the page id.
func (f fixture) publish(t *testing.T, pages *service.Pages, id, slug, title string) string {
	t.Helper()
	ctx := context.Background()
	if id == "" {
		p, err := pages.Create(ctx, f.editor, service.NewPage{Slug: slug, Title: title})
		if err != nil {
			t.Fatal(err)
		}
		id = p.ID
	} else if _, err := pages.Update(ctx, f.editor, id, 0, service.PagePatch{Title: &title}); err != nil {
		t.Fatal(err)
	}
	if _, err := pages.Publish(ctx, f.editor, id, 0, ""); err != nil {
		t.Fatal(err)
	}
	return id
}

func title(t *testing.T, doc *delivery.Document) string {
	t.Helper()
	if doc.NotFound {
		return ""
	}
	var p delivery.PublicPage
	if err := json.Unmarshal(doc.Body, &p); err != nil {
		t.Fatal(err)
	}
	return p.Title
}

func page(t *testing.T, d *delivery.Pages, slug string) *delivery.Document {
	t.Helper()
	doc, err := d.Page(context.Background(), slug)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// Entries, found or not, are served from memory until invalidated.
func TestCacheUntilInvalidated(t *testing.T) {
	each(t, func(t *testing.T, f fixture) {
		d := delivery.NewPages(f.db, time.Hour)
		quiet := service.NewPages(f.db, nil) // writes that do not tell delivery

		id := f.publish(t, quiet, "", "cached", "First")
		first := page(t, d, "cached")
		if title(t, first) != "First" || first.ETag == "" {
			t.Fatalf("first answer: %+v", first)
		}
		f.publish(t, quiet, id, "", "Second")
		if again := page(t, d, "cached"); again != first {
			t.Fatal("a cached page was read again before its entry expired")
		}
		d.Invalidate("cached")
		second := page(t, d, "cached")
		if title(t, second) != "Second" || second.ETag == first.ETag {
			t.Fatalf("after invalidation: %q %s (was %s)", title(t, second), second.ETag, first.ETag)
		}

		// "Nothing here" is cached too, and invalidated the same way.
		if !page(t, d, "later").NotFound {
			t.Fatal("unpublished slug found")
		}
		f.publish(t, quiet, "", "later", "Later")
		if !page(t, d, "later").NotFound {
			t.Fatal("a cached 404 was read again before its entry expired")
		}
		d.Invalidate("later")
		if title(t, page(t, d, "later")) != "Later" {
			t.Fatal("invalidated 404 not rebuilt")
		}
	})
}

// An entry older than the TTL is rebuilt: what bounds staleness when
// another node made the change.
func TestCacheTTL(t *testing.T) {
	each(t, func(t *testing.T, f fixture) {
		d := delivery.NewPages(f.db, 20*time.Millisecond)
		quiet := service.NewPages(f.db, nil)
		id := f.publish(t, quiet, "", "ttl", "Old")
		if title(t, page(t, d, "ttl")) != "Old" {
			t.Fatal("first read")
		}
		f.publish(t, quiet, id, "", "New")
		time.Sleep(30 * time.Millisecond)
		if got := title(t, page(t, d, "ttl")); got != "New" {
			t.Fatalf("after the TTL: %q", got)
		}
	})
}

// A slug that cannot exist is answered without the database.
func TestInvalidSlugSkipsDatabase(t *testing.T) {
	each(t, func(t *testing.T, f fixture) {
		d := delivery.NewPages(f.db, time.Hour)
		f.db.Close()
		for _, slug := range []string{"", "Upper", "a//b", "a_b", "-a", "a/", string(make([]byte, 300))} {
			doc, err := d.Page(context.Background(), slug)
			if err != nil || !doc.NotFound {
				t.Fatalf("%q: %+v, %v", slug, doc, err)
			}
		}
		if _, err := d.Page(context.Background(), "valid-slug"); err == nil {
			t.Fatal("a valid slug did not reach the (closed) database")
		}
	})
}

// Read-your-writes: once a publish returns, every read of its slug shows
// it, even while other readers keep rebuilding the entry. A TTL of zero
// makes every read a rebuild, so that some rebuild that began before the
// publish is nearly always in flight when it commits: the read after the
// publish must not join it.
func TestFreshAfterPublishUnderLoad(t *testing.T) {
	each(t, func(t *testing.T, f fixture) {
		d := delivery.NewPages(f.db, 0)
		pages := service.NewPages(f.db, d.Invalidate)
		id := f.publish(t, pages, "", "busy", "v0")
		var stop atomic.Bool
		var wg sync.WaitGroup
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for !stop.Load() {
					if _, err := d.Page(context.Background(), "busy"); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		defer func() { stop.Store(true); wg.Wait() }()
		for i := 1; i <= 20; i++ {
			want := fmt.Sprint("v", i)
			f.publish(t, pages, id, "", want)
			if got := title(t, page(t, d, "busy")); got != want {
				t.Fatalf("read after publish %d shows %q", i, got)
			}
		}
	})
}
