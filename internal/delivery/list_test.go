package delivery_test

import (
	"context"
	"testing"
	"time"

	"github.com/quirecms/quire/internal/delivery"
)

// A list page is built once and served from memory until an
// invalidation; one that was being built while an invalidation happened
// is not kept, since its read may predate the write.
func TestListCache(t *testing.T) {
	each(t, func(t *testing.T, f fixture) {
		d := delivery.NewPages(f.db, time.Hour)
		ctx := context.Background()
		builds := 0
		build := func(body string, during func()) func(context.Context) ([]byte, error) {
			return func(context.Context) ([]byte, error) {
				builds++
				if during != nil {
					during()
				}
				return []byte(body), nil
			}
		}
		get := func(key string, b func(context.Context) ([]byte, error)) *delivery.Document {
			t.Helper()
			doc, err := d.List(ctx, key, b)
			if err != nil {
				t.Fatal(err)
			}
			return doc
		}
		one := get("20|", build("one", nil))
		if string(one.Body) != "one" || one.ETag == "" || get("20|", build("two", nil)) != one || builds != 1 {
			t.Fatalf("not cached: %q, %d builds", one.Body, builds)
		}
		if other := get("1|", build("other", nil)); string(other.Body) != "other" || other.ETag == one.ETag {
			t.Fatalf("keys share an entry: %q", other.Body)
		}
		d.Invalidate() // no slug: nothing public changed
		if get("20|", build("x", nil)) != one {
			t.Fatal("an empty invalidation dropped the list")
		}
		d.Invalidate("some-slug")
		if two := get("20|", build("two", func() { d.Invalidate("during") })); string(two.Body) != "two" {
			t.Fatalf("after invalidation: %q", two.Body)
		}
		if three := get("20|", build("three", nil)); string(three.Body) != "three" {
			t.Fatalf("a build raced by an invalidation was kept: %q", three.Body)
		}
		if get("20|", build("four", nil)).ETag == one.ETag {
			t.Fatal("same ETag for other bytes")
		}
	})
}
