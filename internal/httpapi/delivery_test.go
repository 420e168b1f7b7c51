package httpapi_test

import (
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/config"
)

// Public delivery: what front-ends read, with no credentials.

var strongETag = regexp.MustCompile(`^"[0-9a-f]{32}"$`)

func TestPublicPageCaching(t *testing.T) {
	eachParallelWith(t, func(c *config.Config) { c.PublicMaxAge = 123 * time.Second }, func(t *testing.T, e *env) {
		adm := e.admin().AccessToken
		p := e.createPage(adm, "about", "About", blk("paragraph", map[string]any{"text": "We make things."}))
		e.publishPage(adm, p.ID)

		_, r := e.publicPage("about")
		tag := r.Header.Get("ETag")
		if !strongETag.MatchString(tag) {
			t.Fatalf("ETag %q is not a strong validator", tag)
		}
		if cc := r.Header.Get("Cache-Control"); cc != "public, max-age=123" {
			t.Fatalf("Cache-Control %q, want public, max-age=123 (QUIRE_PUBLIC_MAX_AGE)", cc)
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			t.Fatalf("Content-Type %q", ct)
		}
		if again := e.public("about").want(t, 200); string(again.Body) != string(r.Body) || again.Header.Get("ETag") != tag {
			t.Fatal("the same page answered differently twice")
		}

		for _, inm := range []string{tag, "W/" + tag, `"nope", ` + tag, "*"} {
			nm := e.public("about", "If-None-Match", inm)
			if nm.Status != 304 || len(nm.Body) != 0 {
				t.Fatalf("If-None-Match %s: %d %q, want 304 without a body", inm, nm.Status, nm.Body)
			}
			if nm.Header.Get("ETag") != tag || nm.Header.Get("Cache-Control") != "public, max-age=123" {
				t.Fatalf("304 headers: %v", nm.Header)
			}
		}
		e.public("about", "If-None-Match", `"0123456789abcdef0123456789abcdef"`).want(t, 200)

		// A new publish is a new representation: the old tag no longer matches.
		e.do("PATCH", "/api/v1/pages/"+p.ID, adm, map[string]any{"title": "About us"}, anyVersion...).want(t, 200)
		e.public("about", "If-None-Match", tag).want(t, 304)
		e.publishPage(adm, p.ID)
		r = e.public("about", "If-None-Match", tag).want(t, 200)
		if r.Header.Get("ETag") == tag || !strongETag.MatchString(r.Header.Get("ETag")) {
			t.Fatalf("ETag after republish: %q (was %q)", r.Header.Get("ETag"), tag)
		}

		list := e.do("GET", "/api/v1/public/pages", "", nil).want(t, 200)
		if cc := list.Header.Get("Cache-Control"); cc != "public, max-age=123" {
			t.Fatalf("public list Cache-Control %q", cc)
		}
	})
}

func TestPublicNestedSlugsAndSlugChange(t *testing.T) {
	eachParallel(t, func(t *testing.T, e *env) {
		adm := e.admin().AccessToken
		p := e.createPage(adm, "blog/my-post", "My post", blk("paragraph", map[string]any{"text": "Hello"}))
		e.wantPublic404("blog/my-post")
		first := e.publishPage(adm, p.ID)
		doc, _ := e.publicPage("blog/my-post")
		if doc.Slug != "blog/my-post" || doc.Title != "My post" {
			t.Fatalf("public doc %+v", doc)
		}
		for _, miss := range []string{"blog", "blog/my-post/more", "Blog/My-Post", "blog/my-post/", "blog/my_post"} {
			if r := e.public(miss); r.Status != 404 {
				t.Fatalf("%s: %d, want 404", miss, r.Status)
			}
		}

		// The old URL is in the cache now; renaming the published page moves
		// it at once: old 404, new 200, still the published snapshot.
		var renamed quire.Page
		e.do("PATCH", "/api/v1/pages/"+p.ID, adm, map[string]any{"slug": "blog/2026/renamed", "title": "Draft title"}, anyVersion...).want(t, 200).json(t, &renamed)
		if !renamed.HasUnpublishedChanges {
			t.Fatal("a renamed page has no unpublished changes")
		}
		e.wantPublic404("blog/my-post")
		doc, _ = e.publicPage("blog/2026/renamed")
		if doc.Slug != "blog/2026/renamed" || doc.Title != "My post" {
			t.Fatalf("after rename: %+v", doc)
		}

		// Another page may take the freed slug, and serves it once published.
		q := e.createPage(adm, "blog/my-post", "Successor")
		e.wantPublic404("blog/my-post")
		e.publishPage(adm, q.ID)
		if doc, _ = e.publicPage("blog/my-post"); doc.Title != "Successor" {
			t.Fatalf("freed slug serves %+v", doc)
		}
		// Taking a slug in use is a conflict that changes nothing, whether
		// by a rename or by restoring a revision made under that slug.
		wantProblem(t, e.do("PATCH", "/api/v1/pages/"+q.ID, adm, map[string]any{"slug": "blog/2026/renamed"}, anyVersion...), 409, "")
		before := e.pageState(adm, p.ID)
		wantProblem(t, e.do("POST", "/api/v1/pages/"+p.ID+"/revisions/"+first.ID+"/restore", adm, nil, anyVersion...), 409, "")
		if after := e.pageState(adm, p.ID); after != before {
			t.Fatalf("refused restore changed the page: %+v → %+v", before, after)
		}
		if doc, _ = e.publicPage("blog/2026/renamed"); doc.Title != "My post" {
			t.Fatalf("conflicting rename changed delivery: %+v", doc)
		}

		// Renaming an unpublished page publishes nothing.
		d := e.createPage(adm, "drafts/one", "Draft")
		e.do("PATCH", "/api/v1/pages/"+d.ID, adm, map[string]any{"slug": "drafts/two"}, anyVersion...).want(t, 200)
		e.wantPublic404("drafts/one")
		e.wantPublic404("drafts/two")
	})
}

func TestNoDraftIsPublic(t *testing.T) {
	eachParallel(t, func(t *testing.T, e *env) {
		adm := e.admin().AccessToken
		open := e.createPage(adm, "open", "Public title", blk("paragraph", map[string]any{"text": "Public words"}))
		pub := e.publishPage(adm, open.ID)
		e.do("PUT", "/api/v1/pages/"+open.ID+"/blocks", adm, map[string]any{"blocks": []any{blk("paragraph", map[string]any{"text": "Secret draft words"})}}, anyVersion...).want(t, 200)
		e.do("PATCH", "/api/v1/pages/"+open.ID, adm, map[string]any{"title": "Secret title"}, anyVersion...).want(t, 200)
		var openDraft quire.Revision
		e.do("POST", "/api/v1/pages/"+open.ID+"/revisions", adm, map[string]any{"note": "secret"}).want(t, 201).json(t, &openDraft)
		hidden := e.createPage(adm, "hidden", "Secret hidden", blk("paragraph", map[string]any{"text": "Secret"}))
		var hiddenDraft quire.Revision
		e.do("POST", "/api/v1/pages/"+hidden.ID+"/revisions", adm, nil).want(t, 201).json(t, &hiddenDraft)

		_, plain := e.publicPage("open")
		tricks := []struct {
			query   string
			headers []string
		}{
			{query: ""},
			{query: "?draft=1"},
			{query: "?preview=true"},
			{query: "?status=draft&version=latest"},
			{query: "?revision=" + openDraft.ID},
			{query: "?revision_id=" + hiddenDraft.ID},
			{headers: []string{"X-Preview", "true"}},
			{headers: []string{"X-Draft", "1"}},
			{headers: []string{"Authorization", "Bearer " + adm}},
			{headers: []string{"Cookie", "preview=1"}},
		}
		for _, tr := range tricks {
			// The published page answers with the published snapshot only,
			// byte for byte what everyone gets.
			r := e.public("open"+tr.query, tr.headers...).want(t, 200)
			if string(r.Body) != string(plain.Body) || strings.Contains(string(r.Body), "Secret") {
				t.Fatalf("open%s %v: %s", tr.query, tr.headers, r.Body)
			}
			// The draft is not there by any of these.
			wantProblem(t, e.public("hidden"+tr.query, tr.headers...), 404, "")
		}
		// Nor by any id in place of a slug.
		for _, id := range []string{hidden.ID, open.ID, hiddenDraft.ID, openDraft.ID, pub.ID, strings.ToUpper(hidden.ID)} {
			wantProblem(t, e.public(id), 404, "")
			wantProblem(t, e.public(url.PathEscape("hidden?draft=1")), 404, "")
		}
		var list struct {
			Data []map[string]any `json:"data"`
		}
		e.do("GET", "/api/v1/public/pages?draft=1", "", nil, "X-Preview", "true").want(t, 200).json(t, &list)
		if len(list.Data) != 1 || list.Data[0]["slug"] != "open" || list.Data[0]["title"] != "Public title" {
			t.Fatalf("public list: %v", list.Data)
		}
	})
}

func TestPublicImageBlocks(t *testing.T) {
	eachParallel(t, func(t *testing.T, e *env) {
		adm := e.admin().AccessToken
		adminID := e.userID(adm)
		cat := e.insertMedia(adminID, "cat photo.png", 640, 480)
		sizeless := e.insertMedia(adminID, "diagram.png", 0, 0)
		gone := e.insertMedia(adminID, "gone.png", 10, 10)
		e.deleteMedia(gone)
		missing := "0190f3f4-0000-7000-8000-00000000abcd"

		p := e.createPage(adm, "gallery", "Gallery",
			blk("image", map[string]any{"media_id": strings.ToUpper(cat), "alt": "A cat", "caption": "Our cat"}),
			blk("paragraph", map[string]any{"text": "Between"}),
			blk("image", map[string]any{"media_id": sizeless}))
		if c := string(p.Blocks[0].Content); !strings.Contains(c, `"media_id":"`+cat+`"`) {
			t.Fatalf("media id not normalised to lowercase: %s", c)
		}
		e.publishPage(adm, p.ID)
		doc, _ := e.publicPage("gallery")
		if len(doc.Blocks) != 3 {
			t.Fatalf("public blocks: %+v", doc.Blocks)
		}
		img := doc.Blocks[0].Content
		if img["url"] != "/media/"+cat+"/cat%20photo.png" || img["width"] != 640.0 || img["height"] != 480.0 ||
			img["mime_type"] != "image/png" || img["alt"] != "A cat" || img["caption"] != "Our cat" || img["media_id"] != cat {
			t.Fatalf("public image block: %v", img)
		}
		if c := doc.Blocks[2].Content; c["url"] != "/media/"+sizeless+"/diagram.png" || c["width"] != nil || c["height"] != nil {
			t.Fatalf("image without a known size: %v", c)
		}

		// Missing or deleted media is refused, naming the block, and nothing is stored.
		before := e.pageState(adm, p.ID)
		for _, id := range []string{missing, gone} {
			blocks := []any{blk("divider", nil), blk("paragraph", map[string]any{"text": "x"}), blk("image", map[string]any{"media_id": id})}
			wantProblem(t, e.do("PUT", "/api/v1/pages/"+p.ID+"/blocks", adm, map[string]any{"blocks": blocks}, anyVersion...), 422, "blocks[2].content.media_id")
			wantProblem(t, e.do("POST", "/api/v1/pages/"+p.ID+"/blocks", adm, blk("image", map[string]any{"media_id": id}), anyVersion...), 422, "content.media_id")
			wantProblem(t, e.do("PATCH", "/api/v1/pages/"+p.ID+"/blocks/"+p.Blocks[0].ID, adm, map[string]any{"content": map[string]any{"media_id": id}}, anyVersion...), 422, "content.media_id")
			wantProblem(t, e.do("POST", "/api/v1/pages", adm, map[string]any{"slug": "new", "title": "New", "blocks": []any{blk("image", map[string]any{"media_id": id})}}), 422, "blocks[0].content.media_id")
		}
		if after := e.pageState(adm, p.ID); after != before {
			t.Fatalf("refused writes changed the page: %+v → %+v", before, after)
		}
		var created struct{ Data []any }
		if e.do("GET", "/api/v1/pages?q=new", adm, nil).want(t, 200).json(t, &created); len(created.Data) != 0 {
			t.Fatalf("a refused create stored a page: %v", created.Data)
		}

		// Media deleted after publishing: once delivery rebuilds the page
		// (here after a re-publish invalidates it), the image is left out
		// rather than pointing front-ends at a file that is gone. The
		// revision keeps the block, so restoring the media brings it back.
		e.deleteMedia(cat)
		rev := e.publishPage(adm, p.ID)
		doc, _ = e.publicPage("gallery")
		if len(doc.Blocks) != 2 || doc.Blocks[0].Type != "paragraph" || doc.Blocks[1].Content["media_id"] != sizeless {
			t.Fatalf("public page after its media was deleted: %+v", doc.Blocks)
		}
		var full quire.Revision
		e.do("GET", "/api/v1/pages/"+p.ID+"/revisions/"+rev.ID, adm, nil).want(t, 200).json(t, &full)
		if len(full.Blocks) != 3 {
			t.Fatalf("revision lost the block: %+v", full.Blocks)
		}
		// Restoring a revision that uses deleted media is a conflict.
		wantProblem(t, e.do("POST", "/api/v1/pages/"+p.ID+"/revisions/"+rev.ID+"/restore", adm, nil, anyVersion...), 409, "blocks[0].content.media_id")
		e.execRaw(`UPDATE media SET deleted_at = NULL WHERE id = ?`, cat)
		e.publishPage(adm, p.ID)
		if doc, _ = e.publicPage("gallery"); len(doc.Blocks) != 3 {
			t.Fatalf("restored media not delivered: %+v", doc.Blocks)
		}
	})
}

func TestPublicPageList(t *testing.T) {
	eachParallel(t, func(t *testing.T, e *env) {
		adm := e.admin().AccessToken
		var order []string // slugs, most recently published first
		ids := map[string]string{}
		for _, slug := range []string{"p0", "p1", "p2", "p3", "p4", "p5"} {
			p := e.createPage(adm, "list/"+slug, "Title "+slug)
			ids[slug] = p.ID
			e.publishPage(adm, p.ID)
			order = append([]string{"list/" + slug}, order...)
		}
		e.createPage(adm, "list/draft-a", "Draft A")
		e.createPage(adm, "list/draft-b", "Draft B")
		gone := e.createPage(adm, "list/gone", "Gone")
		e.publishPage(adm, gone.ID)
		e.do("POST", "/api/v1/pages/"+gone.ID+"/unpublish", adm, nil, anyVersion...).want(t, 200)
		// An unpublished edit does not show; a re-publish moves p2 first.
		e.do("PATCH", "/api/v1/pages/"+ids["p4"], adm, map[string]any{"title": "Unpublished title"}, anyVersion...).want(t, 200)
		e.publishPage(adm, ids["p2"])
		order = append([]string{"list/p2"}, slices.DeleteFunc(order, func(s string) bool { return s == "list/p2" })...)

		for _, limit := range []int{1, 2, 4, 100} {
			items := walkQuery(t, e, "/api/v1/public/pages", "", limit)
			if got := field(items, "slug"); !slices.Equal(got, order) {
				t.Fatalf("limit %d: slugs %v, want %v", limit, got, order)
			}
			for _, it := range items {
				if it["title"] == "Unpublished title" || it["revision"] == nil || it["published_at"] == nil {
					t.Fatalf("list item %v", it)
				}
			}
		}
		wantProblem(t, e.do("GET", "/api/v1/public/pages?cursor=bm9wZQ", "", nil), 422, "cursor")
		wantProblem(t, e.do("GET", "/api/v1/public/pages?limit=0", "", nil), 422, "limit")
	})
}
