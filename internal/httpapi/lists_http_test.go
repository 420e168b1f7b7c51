package httpapi_test

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/quirecms/quire"
)

// The settings list pages by key like every other list (issue 8, finding
// 12): limit and cursor work, a key of 100 characters makes a cursor, and
// bad values are named problems.
func TestSettingsListPages(t *testing.T) {
	eachParallel(t, func(t *testing.T, e *env) {
		adm := e.admin().AccessToken
		keys := []string{"site.a", "site.b", "site.c", "z" + strings.Repeat("y", 99), "site.d", "a.first", "m.middle"}
		for _, k := range keys {
			e.do("PUT", "/api/v1/settings/"+k, adm, `{"value":1}`).want(t, 201)
		}
		slices.Sort(keys)
		for _, limit := range []int{1, 2, 3, 100} {
			got := field(walkQuery(t, e, "/api/v1/settings", adm, limit), "key")
			if !slices.Equal(got, keys) {
				t.Fatalf("limit %d: %v, want %v", limit, got, keys)
			}
		}
		var first struct {
			Data       []quire.Setting `json:"data"`
			NextCursor *string         `json:"next_cursor"`
		}
		e.do("GET", "/api/v1/settings?limit=2", adm, nil).want(t, 200).json(t, &first)
		if len(first.Data) != 2 || first.NextCursor == nil {
			t.Fatalf("limit ignored: %d settings, cursor %v", len(first.Data), first.NextCursor)
		}
		wantProblem(t, e.do("GET", "/api/v1/settings?limit=0", adm, nil), 422, "limit")
		wantProblem(t, e.do("GET", "/api/v1/settings?cursor=!!!", adm, nil), 422, "cursor")
	})
}

// The public list is served like the public page: bytes from the cache
// with a strong ETag and 304, until a publish, unpublish, slug change or
// delete commits through this node.
func TestPublicListCache(t *testing.T) {
	eachParallel(t, func(t *testing.T, e *env) {
		adm := e.admin().AccessToken
		list := func(query string, headers ...string) (*resp, []string) {
			t.Helper()
			r := e.do("GET", "/api/v1/public/pages"+query, "", nil, headers...)
			if r.Status != 200 {
				return r, nil
			}
			var l struct {
				Data []map[string]any `json:"data"`
			}
			r.json(t, &l)
			return r, field(l.Data, "slug")
		}
		want := func(query string, slugs ...string) *resp {
			t.Helper()
			r, got := list(query)
			if r.Status != 200 || !slices.Equal(got, slugs) {
				t.Fatalf("list%s = %d %v, want %v", query, r.Status, got, slugs)
			}
			return r
		}
		a := e.createPage(adm, "a", "A")
		e.publishPage(adm, a.ID)
		b := e.createPage(adm, "b", "B")
		e.publishPage(adm, b.ID)
		c := e.createPage(adm, "c", "C")

		first := want("", "b", "a")
		tag := first.Header.Get("ETag")
		if len(tag) < 3 || strings.HasPrefix(tag, "W/") || first.Header.Get("Cache-Control") == "" {
			t.Fatalf("ETag %q, Cache-Control %q", tag, first.Header.Get("Cache-Control"))
		}
		if r, _ := list("", "If-None-Match", tag); r.Status != 304 || len(r.Body) != 0 || r.Header.Get("ETag") != tag {
			t.Fatalf("If-None-Match: %d %q", r.Status, r.Body)
		}
		want("?limit=1", "b")

		// Served from memory: a change behind the server's back is not
		// seen until a write through it invalidates.
		e.execRaw(`UPDATE pages SET slug = 'sneaky' WHERE id = ?`, a.ID)
		if again := want("", "b", "a"); string(again.Body) != string(first.Body) {
			t.Fatal("cached list re-encoded")
		}
		e.execRaw(`UPDATE pages SET slug = 'a' WHERE id = ?`, a.ID)

		// Publish: every cached page of the list goes, the ETag changes.
		e.publishPage(adm, c.ID)
		if r := want("", "c", "b", "a"); r.Header.Get("ETag") == tag {
			t.Fatal("ETag unchanged after a publish")
		}
		want("?limit=1", "c")
		if r, _ := list("", "If-None-Match", tag); r.Status != 200 {
			t.Fatalf("old ETag answered %d", r.Status)
		}
		// Unpublish.
		e.do("POST", "/api/v1/pages/"+b.ID+"/unpublish", adm, nil, ifMatch(e.getPage(adm, b.ID).Version)...).want(t, 200)
		want("", "c", "a")
		// Slug change of a published page.
		e.do("PATCH", "/api/v1/pages/"+a.ID, adm, map[string]any{"slug": "a2"}, ifMatch(e.getPage(adm, a.ID).Version)...).want(t, 200)
		want("", "c", "a2")
		// Delete.
		e.do("DELETE", "/api/v1/pages/"+c.ID, adm, nil, ifMatch(e.getPage(adm, c.ID).Version)...).want(t, 204)
		want("", "a2")
		want("?limit=1", "a2")

		// Cursors still walk the list, each entry cached on its own.
		for _, s := range []string{"p1", "p2", "p3"} {
			p := e.createPage(adm, s, s)
			e.publishPage(adm, p.ID)
		}
		got := field(walkQuery(t, e, "/api/v1/public/pages", "", 2), "slug")
		if !slices.Equal(got, []string{"p3", "p2", "p1", "a2"}) {
			t.Fatalf("walk: %v", got)
		}
		wantProblem(t, e.do("GET", "/api/v1/public/pages?cursor="+url.QueryEscape("bm9wZQ"), "", nil), 422, "cursor")
	})
}

// A search reads a bounded window per request: over more rows than the
// window, a page may come back short (even empty) with a cursor that goes
// on, and following it finds what lies further down.
func TestPageSearchWindows(t *testing.T) {
	eachParallel(t, func(t *testing.T, e *env) {
		adm := e.admin().AccessToken
		needle := e.createPage(adm, "needle", "The needle")
		adminID := e.userID(adm)
		later := e.dbTime(time.Now().Add(time.Hour))
		e.execRaw(`WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1500)
			INSERT INTO pages (id, slug, title, created_by, updated_by, created_at, updated_at, version, content_hash)
			SELECT 'seed' || x, 'seed-' || x, 'Hay', ?, ?, ?, ?, 1, '' FROM c`, adminID, adminID, later, later)
		var ids []string
		cursor, requests := "", 0
		for {
			requests++
			if requests > 10 {
				t.Fatal("search does not end")
			}
			var page struct {
				Data       []quire.Page `json:"data"`
				NextCursor *string      `json:"next_cursor"`
			}
			u := "/api/v1/pages?q=needle&limit=5"
			if cursor != "" {
				u += "&cursor=" + url.QueryEscape(cursor)
			}
			e.do("GET", u, adm, nil).want(t, 200).json(t, &page)
			for _, p := range page.Data {
				ids = append(ids, p.ID)
			}
			if page.NextCursor == nil {
				break
			}
			cursor = *page.NextCursor
		}
		// 1,501 pages: a first window of hay, then the rest with the needle.
		if !slices.Equal(ids, []string{needle.ID}) || requests != 2 {
			t.Fatalf("found %v in %d requests", ids, requests)
		}
	})
}
