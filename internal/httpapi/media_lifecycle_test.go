package httpapi_test

import (
	"database/sql"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/store"
	"github.com/quirecms/quire/internal/testdb"
)

func imageBlock(mediaID string) map[string]any {
	return map[string]any{"type": "image", "content": map[string]any{"media_id": mediaID, "alt": "a picture"}}
}

// mediaWalk follows next_cursor through a media list (path may carry
// filters) and returns the ids in order.
func mediaWalk(t *testing.T, e *env, path, token string, limit int) []string {
	t.Helper()
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	var ids []string
	cursor := ""
	for range 100 {
		url := path + sep + "limit=" + strconv.Itoa(limit)
		if cursor != "" {
			url += "&cursor=" + cursor
		}
		var page struct {
			Data       []quire.Media `json:"data"`
			NextCursor *string       `json:"next_cursor"`
		}
		e.do("GET", url, token, nil).want(t, 200).json(t, &page)
		for _, m := range page.Data {
			ids = append(ids, m.ID)
		}
		if page.NextCursor == nil {
			return ids
		}
		cursor = *page.NextCursor
	}
	t.Fatal("pagination does not end")
	return nil
}

// pageWithImage creates a page whose working copy shows the media.
func (e *env) pageWithImage(token, slug, mediaID string) quire.Page {
	e.t.Helper()
	var p quire.Page
	e.do("POST", "/api/v1/pages", token, map[string]any{"slug": slug, "title": "Page " + slug,
		"blocks": []any{map[string]any{"type": "paragraph", "content": map[string]any{"text": "hello"}}, imageBlock(mediaID)}}).
		want(e.t, 201).json(e.t, &p)
	return p
}

// publicImages returns the urls of the image blocks of a published page.
func (e *env) publicImages(slug string) []string {
	e.t.Helper()
	var doc struct {
		Blocks []struct {
			Type    string         `json:"type"`
			Content map[string]any `json:"content"`
		} `json:"blocks"`
	}
	e.do("GET", "/api/v1/public/pages/"+slug, "", nil).want(e.t, 200).json(e.t, &doc)
	var urls []string
	for _, b := range doc.Blocks {
		if b.Type == "image" {
			url, _ := b.Content["url"].(string)
			urls = append(urls, url)
		}
	}
	return urls
}

// Delete → the file is gone (404) and the record leaves default lists →
// restore → served again. Editors see deleted media, others do not.
func TestMediaDeleteRestore(t *testing.T) {
	eachStorage(t, nil, func(t *testing.T, e *env) {
		_, author := e.newUser(quire.RoleAuthor)
		_, viewer := e.newUser(quire.RoleViewer)
		editor := e.newAPIToken(quire.RoleEditor)
		m := e.mustUpload(author.AccessToken, "photo.png", pngOf(16, 16, 3))
		e.do("GET", m.URL, "", nil).want(t, 200)

		wantProblem(t, e.do("DELETE", "/api/v1/media/"+m.ID, author.AccessToken, nil, "If-Match", `"v9"`), http.StatusPreconditionFailed, "")
		e.do("DELETE", "/api/v1/media/"+m.ID, author.AccessToken, nil, "If-Match", `"v1"`).want(t, 204)
		wantProblem(t, e.do("GET", m.URL, "", nil), http.StatusNotFound, "")
		wantProblem(t, e.do("GET", m.URL+"?w=64", "", nil), http.StatusNotFound, "")
		wantProblem(t, e.do("GET", "/api/v1/media/"+m.ID, author.AccessToken, nil), http.StatusNotFound, "")
		wantProblem(t, e.do("GET", "/api/v1/media/"+m.ID, viewer.AccessToken, nil), http.StatusNotFound, "")
		var deleted quire.Media
		e.do("GET", "/api/v1/media/"+m.ID, editor, nil).want(t, 200).json(t, &deleted)
		if deleted.DeletedAt == nil || deleted.Version != 2 {
			t.Fatalf("deleted media = %+v", deleted)
		}
		if ids := mediaWalk(t, e, "/api/v1/media", editor, 10); len(ids) != 0 {
			t.Fatalf("default list shows deleted media: %v", ids)
		}
		if ids := mediaWalk(t, e, "/api/v1/media?deleted=true", editor, 10); !slices.Equal(ids, []string{m.ID}) {
			t.Fatalf("deleted list = %v", ids)
		}
		wantProblem(t, e.do("GET", "/api/v1/media?deleted=true", author.AccessToken, nil), http.StatusForbidden, "")
		wantProblem(t, e.do("DELETE", "/api/v1/media/"+m.ID, editor, nil), http.StatusConflict, "")
		wantProblem(t, e.do("PATCH", "/api/v1/media/"+m.ID, editor, map[string]string{"alt": "x"}), http.StatusConflict, "")
		// Restoring is for editors and admins.
		wantProblem(t, e.do("POST", "/api/v1/media/"+m.ID+"/restore", author.AccessToken, nil), http.StatusForbidden, "")
		wantProblem(t, e.do("POST", "/api/v1/media/"+m.ID+"/restore", editor, nil, "If-Match", `"v1"`), http.StatusPreconditionFailed, "")
		var restored quire.Media
		r := e.do("POST", "/api/v1/media/"+m.ID+"/restore", editor, nil, "If-Match", `"v2"`).want(t, 200)
		r.json(t, &restored)
		if restored.DeletedAt != nil || restored.Version != 3 || r.Header.Get("ETag") != `"v3"` {
			t.Fatalf("restored = %+v", restored)
		}
		wantProblem(t, e.do("POST", "/api/v1/media/"+m.ID+"/restore", editor, nil), http.StatusConflict, "")
		e.do("GET", m.URL, "", nil).want(t, 200)
		if got := e.mediaAudit(); !slices.Equal(got, []string{quire.ActionMediaUpload, quire.ActionMediaDelete, quire.ActionMediaRestore}) {
			t.Fatalf("audit = %v", got)
		}
	})
}

// PATCH changes alt and title under If-Match, one audit entry with what changed.
func TestMediaPatch(t *testing.T) {
	eachStorage(t, nil, func(t *testing.T, e *env) {
		tok := e.admin().AccessToken
		m := e.mustUpload(tok, "a.txt", []byte("a"), "alt", "old alt")
		var got quire.Media
		r := e.do("PATCH", "/api/v1/media/"+m.ID, tok, map[string]string{"alt": "new alt", "title": "T"}, "If-Match", `"v1"`).want(t, 200)
		r.json(t, &got)
		if got.Alt != "new alt" || got.Title != "T" || got.Version != 2 || r.Header.Get("ETag") != `"v2"` || got.Filename != "a.txt" {
			t.Fatalf("patched = %+v", got)
		}
		wantProblem(t, e.do("PATCH", "/api/v1/media/"+m.ID, tok, map[string]string{"alt": "stale"}, "If-Match", `"v1"`), http.StatusPreconditionFailed, "")
		wantProblem(t, e.do("PATCH", "/api/v1/media/"+m.ID, tok, map[string]string{"alt": strings.Repeat("a", 1001)}), http.StatusUnprocessableEntity, "alt")
		wantProblem(t, e.do("PATCH", "/api/v1/media/"+m.ID, tok, map[string]string{"filename": "b.txt"}), http.StatusUnprocessableEntity, "filename")
		wantProblem(t, e.do("PATCH", "/api/v1/media/"+m.ID, tok, map[string]string{"title": "a\x00b"}), http.StatusUnprocessableEntity, "title")
		wantProblem(t, e.do("PATCH", "/api/v1/media/"+store.NewID(), tok, map[string]string{"alt": "x"}), http.StatusNotFound, "")
		log := e.auditLog()
		last := log[len(log)-1]
		var d map[string]map[string]any
		_ = json.Unmarshal(last.Details, &d)
		if last.Action != quire.ActionMediaUpdate || d["before"]["alt"] != "old alt" || d["after"]["alt"] != "new alt" || len(d["after"]) != 2 {
			t.Fatalf("audit %s %s", last.Action, last.Details)
		}
	})
}

// Lists: newest first, keyset pages, filters by type prefix, uploader and
// a search in file names and titles.
func TestMediaList(t *testing.T) {
	eachStorage(t, nil, func(t *testing.T, e *env) {
		admin := e.admin().AccessToken
		u, author := e.newUser(quire.RoleAuthor)
		var ids []string
		for i := range 7 {
			m := e.mustUpload(author.AccessToken, "pic"+string(rune('a'+i))+".png", pngOf(4, 4, byte(i)))
			ids = append([]string{m.ID}, ids...)
		}
		doc := e.mustUpload(admin, "Annual_Report.pdf", pdfOK, "title", "Money 100%")
		txt := e.mustUpload(admin, "notes.txt", []byte("notes"), "title", "Picnic list")
		all := mediaWalk(t, e, "/api/v1/media", admin, 3)
		if want := append([]string{txt.ID, doc.ID}, ids...); !slices.Equal(all, want) {
			t.Fatalf("list = %v, want %v", all, want)
		}
		check := func(query string, want ...string) {
			t.Helper()
			if got := mediaWalk(t, e, "/api/v1/media?"+query, admin, 4); !slices.Equal(got, want) {
				t.Errorf("%s → %v, want %v", query, got, want)
			}
		}
		check("type=image", ids...)
		check("type=image/png", ids...)
		check("type=application", doc.ID)
		check("type=text", txt.ID)
		check("type=video")
		check("uploaded_by="+u.ID, ids...)
		check("q=REPORT", doc.ID)
		check("q=pic", append([]string{txt.ID}, ids...)...) // file names, and the title "Picnic list"
		check("q=100%25", doc.ID)
		check("q=_", doc.ID) // LIKE wildcards are literal
		check("type=image&q=picb", ids[5])
		for _, bad := range []string{"type=Image!", "deleted=maybe", "sort=size", "cursor=!!", "limit=0"} {
			wantProblem(t, e.do("GET", "/api/v1/media?"+bad, admin, nil), http.StatusUnprocessableEntity, "")
		}
	})
}

// Purge is refused while a page's working copy or published revision uses
// the media, naming the pages; once nothing does, it removes the record,
// the bytes and every variant, after the transaction commits.
func TestMediaPurge(t *testing.T) {
	eachStorage(t, nil, func(t *testing.T, e *env) {
		admin := e.admin().AccessToken
		editor := e.newAPIToken(quire.RoleEditor)
		m := e.mustUpload(admin, "hero.png", pngOf(300, 200, 1))
		e.do("GET", m.URL+"?w=64", "", nil).want(t, 200) // a variant, stored beside the original
		if keys := e.storedKeys(); len(keys) != 2 {
			t.Fatalf("stored %v", keys)
		}
		page := e.pageWithImage(admin, "about", m.ID)

		purge := func(token string, headers ...string) *resp {
			return e.do("DELETE", "/api/v1/media/"+m.ID+"?purge=true", token, nil, headers...)
		}
		wantProblem(t, purge(editor), http.StatusForbidden, "")
		p := wantProblem(t, purge(admin), http.StatusConflict, "pages."+page.ID)
		if !strings.Contains(p.Detail, "about (working copy)") {
			t.Fatalf("conflict detail %q", p.Detail)
		}
		// Published, then removed from the working copy: the published
		// revision still holds it.
		e.do("POST", "/api/v1/pages/"+page.ID+"/publish", admin, nil, anyVersion...).want(t, 200)
		var pg quire.Page
		e.do("PUT", "/api/v1/pages/"+page.ID+"/blocks", admin, map[string]any{"blocks": []any{}}, anyVersion...).want(t, 200).json(t, &pg)
		p = wantProblem(t, purge(admin), http.StatusConflict, "")
		if !strings.Contains(p.Detail, "about (published revision 1)") || strings.Contains(p.Detail, "working copy") {
			t.Fatalf("conflict detail %q", p.Detail)
		}
		// Unpublished: only an archived revision remembers it, which does not count.
		e.do("POST", "/api/v1/pages/"+page.ID+"/unpublish", admin, nil, anyVersion...).want(t, 200)
		// A paragraph quoting the id is not a use.
		e.do("PUT", "/api/v1/pages/"+page.ID+"/blocks", admin, map[string]any{"blocks": []any{
			map[string]any{"type": "paragraph", "content": map[string]any{"text": "see media " + m.ID}}}}, anyVersion...).want(t, 200)
		wantProblem(t, purge(admin, "If-Match", `"v7"`), http.StatusPreconditionFailed, "")
		purge(admin, "If-Match", `"v1"`).want(t, 204)
		if keys := e.storedKeys(); len(keys) != 0 {
			t.Fatalf("purge left %v", keys)
		}
		wantProblem(t, e.do("GET", m.URL, "", nil), http.StatusNotFound, "")
		wantProblem(t, e.do("GET", "/api/v1/media/"+m.ID, admin, nil), http.StatusNotFound, "")
		wantProblem(t, purge(admin), http.StatusNotFound, "")
		// Restoring the archived revision that showed it is refused now.
		revs := e.do("GET", "/api/v1/pages/"+page.ID+"/revisions", admin, nil).want(t, 200)
		var list struct {
			Data []quire.Revision `json:"data"`
		}
		revs.json(t, &list)
		wantProblem(t, e.do("POST", "/api/v1/pages/"+page.ID+"/revisions/"+list.Data[len(list.Data)-1].ID+"/restore", admin, nil, anyVersion...), http.StatusConflict, "")
		log := e.auditLog()
		last := log[len(log)-1]
		if last.Action != quire.ActionMediaPurge || last.ResourceID != m.ID || strings.Contains(string(last.Details), "storage_key") {
			t.Fatalf("last audit entry %s %s", last.Action, last.Details)
		}
		// Soft-deleted media purges the same way.
		d := e.mustUpload(admin, "gone.txt", []byte("bye"))
		e.do("DELETE", "/api/v1/media/"+d.ID, admin, nil).want(t, 204)
		e.do("DELETE", "/api/v1/media/"+d.ID+"?purge=true", admin, nil).want(t, 204)
		if n := e.mediaRows(); n != 0 {
			t.Fatalf("%d records left", n)
		}
		wantProblem(t, e.do("DELETE", "/api/v1/media/"+d.ID+"?purge=yes", admin, nil), http.StatusUnprocessableEntity, "purge")
	})
}

// Deleting media that a published page shows is allowed; the public page
// then drops the image block at once (its cached answer is invalidated),
// rather than point at a URL that answers 404. Restoring brings it back.
func TestMediaDeleteAndPublicDelivery(t *testing.T) {
	eachStorage(t, nil, func(t *testing.T, e *env) {
		admin := e.admin().AccessToken
		m := e.mustUpload(admin, "hero.png", pngOf(30, 20, 4))
		page := e.pageWithImage(admin, "home", m.ID)
		e.do("POST", "/api/v1/pages/"+page.ID+"/publish", admin, nil, anyVersion...).want(t, 200)
		if urls := e.publicImages("home"); !slices.Equal(urls, []string{m.URL}) {
			t.Fatalf("public images = %v", urls)
		}
		e.do("GET", "/api/v1/public/pages/home", "", nil).want(t, 200) // cached now
		e.do("DELETE", "/api/v1/media/"+m.ID, admin, nil).want(t, 204)
		if urls := e.publicImages("home"); len(urls) != 0 {
			t.Fatalf("public page still shows deleted media: %v", urls)
		}
		log := e.auditLog()
		if d := string(log[len(log)-1].Details); !strings.Contains(d, `"published_pages":["home"]`) {
			t.Fatalf("delete entry %s", d)
		}
		e.do("POST", "/api/v1/media/"+m.ID+"/restore", admin, nil).want(t, 200)
		if urls := e.publicImages("home"); !slices.Equal(urls, []string{m.URL}) {
			t.Fatalf("after restore: %v", urls)
		}
		e.do("GET", m.URL, "", nil).want(t, 200)
	})
}

// On PostgreSQL a purge waits for a page save in flight that adds the
// media (the save holds the media's row FOR SHARE), then sees it and
// refuses; SQLite's single writer orders them the same way by
// construction. TestMediaPurgeRacesPageSaves races the real requests.
func TestMediaPurgeWaitsForPageSaves(t *testing.T) {
	e := newEnv(t, testdb.Postgres(t), nil)
	admin := e.admin().AccessToken
	m := e.mustUpload(admin, "hero.png", pngOf(10, 10, 1))
	var page quire.Page
	e.do("POST", "/api/v1/pages", admin, map[string]any{"slug": "race", "title": "Race"}).want(t, 201).json(t, &page)

	db, err := sql.Open("pgx", e.cfg.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	save, err := db.Begin() // a page save that has checked the media and written its block, not yet committed
	if err != nil {
		t.Fatal(err)
	}
	defer save.Rollback() // on failure: the schema cannot be dropped under its locks
	// What a save does first (store.ShareLiveMedia): hold the media's row.
	if _, err := save.Exec(`SELECT id FROM media WHERE id = $1 AND deleted_at IS NULL FOR SHARE`, m.ID); err != nil {
		t.Fatal(err)
	}
	content, _ := json.Marshal(map[string]any{"media_id": m.ID, "alt": "", "caption": ""})
	if _, err := save.Exec(`INSERT INTO page_blocks (id, page_id, type, position, content, created_by) VALUES ($1, $2, 'image', 0, $3, $4)`,
		store.NewID(), page.ID, string(content), page.CreatedBy); err != nil {
		t.Fatal(err)
	}
	done := make(chan *resp, 1)
	go func() { done <- e.do("DELETE", "/api/v1/media/"+m.ID+"?purge=true", admin, nil) }()
	select {
	case r := <-done:
		t.Fatalf("purge did not wait for the page save: %d %s", r.Status, r.Body)
	case <-time.After(300 * time.Millisecond):
	}
	if err := save.Commit(); err != nil {
		t.Fatal(err)
	}
	p := wantProblem(t, <-done, http.StatusConflict, "")
	if !strings.Contains(p.Detail, "race (working copy)") {
		t.Fatalf("detail %q", p.Detail)
	}
}
