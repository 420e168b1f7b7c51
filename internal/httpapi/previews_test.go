package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/auth"
	"github.com/quirecms/quire/internal/config"
)

const previewTemplate = "https://site.example/api/preview?token={token}&slug={slug}"

// createdPreview is the answer to POST /pages/{id}/previews.
type createdPreview struct {
	quire.Preview
	Token string  `json:"token"`
	URL   *string `json:"url"`
}

// previewDoc is what a preview link shows.
type previewDoc struct {
	Slug        string            `json:"slug"`
	Title       string            `json:"title"`
	Blocks      []json.RawMessage `json:"blocks"`
	PublishedAt *time.Time        `json:"published_at"`
	Revision    *int              `json:"revision"`
	RevisionID  *string           `json:"revision_id"`
	Preview     bool              `json:"preview"`
}

func withPreviewURL(c *config.Config) { c.PreviewURL = previewTemplate }

func (e *env) createPreview(token, pageID string, body any) createdPreview {
	e.t.Helper()
	var out createdPreview
	e.do("POST", "/api/v1/pages/"+pageID+"/previews", token, body).want(e.t, 201).json(e.t, &out)
	return out
}

// openPreview fetches a preview link with no credentials and checks the
// headers that keep it out of caches, indexes and Referer.
func (e *env) openPreview(token string) *resp {
	e.t.Helper()
	r := e.do("GET", "/api/v1/preview/"+token, "", nil)
	for k, v := range map[string]string{"Cache-Control": "no-store", "X-Robots-Tag": "noindex", "Referrer-Policy": "no-referrer"} {
		if got := r.Header.Get(k); got != v {
			e.t.Fatalf("%s = %q, want %q (status %d)", k, got, v, r.Status)
		}
	}
	return r
}

func (e *env) previewDoc(token string) previewDoc {
	e.t.Helper()
	var d previewDoc
	e.openPreview(token).want(e.t, 200).json(e.t, &d)
	if !d.Preview {
		e.t.Fatalf("preview = false")
	}
	return d
}

func TestPreviewOfTheWorkingCopyFollowsEverySave(t *testing.T) {
	eachParallelWith(t, withPreviewURL, func(t *testing.T, e *env) {
		admin := e.admin().AccessToken
		p := e.createPage(admin, "news/draft-story", "Draft", blk("paragraph", map[string]any{"text": "first"}))
		pv := e.createPreview(admin, p.ID, nil)
		if !strings.HasPrefix(pv.Token, quire.PreviewTokenPrefix) || pv.RevisionID != nil || pv.RevisionNumber != nil {
			t.Fatalf("created %+v", pv)
		}
		if want := "https://site.example/api/preview?token=" + pv.Token + "&slug=news/draft-story"; pv.URL == nil || *pv.URL != want {
			t.Fatalf("url = %v, want %s", pv.URL, want)
		}
		if d := time.Until(pv.ExpiresAt); d < 59*time.Minute || d > 61*time.Minute {
			t.Fatalf("default expiry in %v, want an hour", d)
		}
		d := e.previewDoc(pv.Token)
		if d.Title != "Draft" || d.Slug != "news/draft-story" || d.Revision != nil || d.RevisionID != nil || d.PublishedAt != nil || len(d.Blocks) != 1 {
			t.Fatalf("preview %+v", d)
		}
		// A save shows on the next request: nothing is cached.
		e.do("PATCH", "/api/v1/pages/"+p.ID, admin, map[string]any{"title": "Better"}, anyVersion...).want(t, 200)
		e.do("PUT", "/api/v1/pages/"+p.ID+"/blocks", admin, map[string]any{"blocks": []any{
			blk("paragraph", map[string]any{"text": "second"}), blk("divider", nil)}}, anyVersion...).want(t, 200)
		d = e.previewDoc(pv.Token)
		if d.Title != "Better" || len(d.Blocks) != 2 || !strings.Contains(string(d.Blocks[0]), `"second"`) {
			t.Fatalf("preview after saves %+v", d)
		}
		// The page is not published: the public API still knows nothing.
		e.wantPublic404("news/draft-story")
	})
}

func TestPreviewOfARevisionIsFixedAndEncodedLikeThePublicPage(t *testing.T) {
	eachParallel(t, func(t *testing.T, e *env) {
		admin := e.admin().AccessToken
		media := e.insertMedia(e.userID(admin), "cat.png", 640, 480)
		p := e.createPage(admin, "about", "About", everyBlockType(media)...)
		rev := e.publishPage(admin, p.ID)
		pv := e.createPreview(admin, p.ID, map[string]any{"revision_id": rev.ID, "expires_in": 7 * 24 * 3600})
		if pv.URL != nil || pv.RevisionNumber == nil || *pv.RevisionNumber != rev.Number {
			t.Fatalf("created %+v (no QUIRE_PREVIEW_URL: url must be null)", pv)
		}
		if d := time.Until(pv.ExpiresAt); d < 7*24*time.Hour-time.Minute || d > 7*24*time.Hour+time.Minute {
			t.Fatalf("expiry in %v, want 7 days", d)
		}
		e.do("PATCH", "/api/v1/pages/"+p.ID, admin, map[string]any{"title": "Changed later"}, anyVersion...).want(t, 200)
		d := e.previewDoc(pv.Token)
		if d.Title != "About" || d.Revision == nil || *d.Revision != rev.Number || *d.RevisionID != rev.ID || d.PublishedAt == nil {
			t.Fatalf("preview %+v", d)
		}
		// The same encoder as public delivery: block for block the same bytes
		// (image blocks with their media's url and size).
		var public struct{ Blocks []json.RawMessage }
		e.public("about").want(t, 200).json(t, &public)
		if len(public.Blocks) != len(d.Blocks) || len(d.Blocks) != len(everyBlockType(media)) {
			t.Fatalf("%d blocks in preview, %d public", len(d.Blocks), len(public.Blocks))
		}
		for i := range d.Blocks {
			if string(d.Blocks[i]) != string(public.Blocks[i]) {
				t.Fatalf("block %d: preview %s, public %s", i, d.Blocks[i], public.Blocks[i])
			}
		}
		if !strings.Contains(string(d.Blocks[3]), `"url":"/media/`+media+`/cat.png"`) {
			t.Fatalf("image block without its url: %s", d.Blocks[3])
		}
	})
}

func TestPreviewLinksThatDoNotOpenAllAnswerTheSame404(t *testing.T) {
	eachParallel(t, func(t *testing.T, e *env) {
		admin := e.admin().AccessToken
		p := e.createPage(admin, "secret", "Secret")
		expired := e.createPreview(admin, p.ID, map[string]any{"expires_in": 60})
		revoked := e.createPreview(admin, p.ID, nil)
		live := e.createPreview(admin, p.ID, nil)
		e.execRaw(`UPDATE page_previews SET expires_at = ? WHERE id = ?`, e.dbTime(time.Now().Add(-time.Second)), expired.ID)
		e.do("DELETE", "/api/v1/pages/"+p.ID+"/previews/"+revoked.ID, admin, nil).want(t, 204)
		e.do("DELETE", "/api/v1/pages/"+p.ID+"/previews/"+revoked.ID, admin, nil).want(t, 404)
		e.do("DELETE", "/api/v1/pages/"+p.ID+"/previews/"+expired.ID, admin, nil).want(t, 404)
		unknown, _, _ := auth.NewSecret(quire.PreviewTokenPrefix)
		var first string
		for name, token := range map[string]string{"expired": expired.Token, "revoked": revoked.Token, "unknown": unknown,
			"malformed": "qpv_short", "api token shape": strings.Replace(live.Token, "qpv_", "qpat", 1)} {
			r := e.openPreview(token)
			pr := wantProblem(t, r, 404, "")
			if first == "" {
				first = pr.Detail
			} else if pr.Detail != first {
				t.Fatalf("%s: detail %q differs from %q: an oracle", name, pr.Detail, first)
			}
		}
		e.previewDoc(live.Token)
		// Only the live one is listed; a deleted page takes its links with it.
		items := walkQuery(t, e, "/api/v1/pages/"+p.ID+"/previews", admin, 1)
		if got := field(items, "id"); len(got) != 1 || got[0] != live.ID {
			t.Fatalf("listed %v, want only %s", got, live.ID)
		}
		for _, it := range items {
			if _, ok := it["token"]; ok {
				t.Fatalf("a list shows a token: %v", it)
			}
		}
		e.do("DELETE", "/api/v1/pages/"+p.ID, admin, nil, anyVersion...).want(t, 204)
		wantProblem(t, e.openPreview(live.Token), 404, "")
	})
}

func TestPreviewTokenIsStoredHashedAndNeverAudited(t *testing.T) {
	eachParallel(t, func(t *testing.T, e *env) {
		admin := e.admin().AccessToken
		p := e.createPage(admin, "hashed", "Hashed")
		r := e.do("POST", "/api/v1/pages/"+p.ID+"/previews", admin, nil).want(t, 201)
		if r.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("the answer with the token may be cached: %q", r.Header.Get("Cache-Control"))
		}
		var pv createdPreview
		r.json(t, &pv)
		db, _ := e.rawDB()
		defer db.Close()
		var hash string
		if err := db.QueryRowContext(context.Background(), `SELECT token_hash FROM page_previews WHERE id = '`+pv.ID+`'`).Scan(&hash); err != nil {
			t.Fatal(err)
		}
		if hash != auth.HashSecret(pv.Token) || strings.Contains(hash, pv.Token[4:]) {
			t.Fatalf("stored %q for token %q", hash, pv.Token)
		}
		e.do("DELETE", "/api/v1/pages/"+p.ID+"/previews/"+pv.ID, admin, nil).want(t, 204)
		log := e.auditLog()
		var seen []string
		for _, en := range log {
			if strings.Contains(string(en.Details), pv.Token[len(quire.PreviewTokenPrefix)+6:]) {
				t.Fatalf("audit entry %s holds the token: %s", en.Action, en.Details)
			}
			if en.ResourceID == p.ID && strings.HasPrefix(en.Action, "page.preview") {
				seen = append(seen, en.Action)
				var d map[string]any
				_ = json.Unmarshal(en.Details, &d)
				if d["preview_id"] != pv.ID || d["prefix"] != pv.Prefix {
					t.Fatalf("%s details %s", en.Action, en.Details)
				}
			}
		}
		if strings.Join(seen, ",") != quire.ActionPreviewCreate+","+quire.ActionPreviewRevoke {
			t.Fatalf("preview audit entries %v", seen)
		}
		// Opening a link is a read: it writes no entry.
		n := len(log)
		e.createPreview(admin, p.ID, nil)
		e.previewDoc(e.createPreview(admin, p.ID, nil).Token)
		if got := len(e.auditLog()); got != n+2 {
			t.Fatalf("%d entries after two creations and a read, want %d", got, n+2)
		}
		e.wantAuditOK(admin)
	})
}

func TestPreviewInputIsChecked(t *testing.T) {
	eachParallel(t, func(t *testing.T, e *env) {
		admin := e.admin().AccessToken
		p := e.createPage(admin, "checked", "Checked")
		other := e.createPage(admin, "other", "Other")
		otherRev := e.publishPage(admin, other.ID)
		before := len(e.auditLog())
		path := "/api/v1/pages/" + p.ID + "/previews"
		wantProblem(t, e.do("POST", path, admin, map[string]any{"expires_in": 59}), 422, "expires_in")
		wantProblem(t, e.do("POST", path, admin, map[string]any{"expires_in": 30*24*3600 + 1}), 422, "expires_in")
		wantProblem(t, e.do("POST", path, admin, map[string]any{"expires_in": "1h"}), 422, "expires_in")
		wantProblem(t, e.do("POST", path, admin, map[string]any{"revision_id": otherRev.ID}), 422, "revision_id")
		wantProblem(t, e.do("POST", path, admin, map[string]any{"revision_id": ""}), 422, "revision_id")
		wantProblem(t, e.do("POST", path, admin, map[string]any{"token": "mine"}), 422, "")
		wantProblem(t, e.do("POST", "/api/v1/pages/"+quire.PreviewTokenPrefix+"x/previews", admin, nil), 404, "")
		if n := len(e.auditLog()); n != before {
			t.Fatalf("refused input wrote %d audit entries", n-before)
		}
		if items := walkQuery(t, e, path, admin, 10); len(items) != 0 {
			t.Fatalf("refused input stored %d previews", len(items))
		}
	})
}

// Anyone who can edit the page manages its previews: editors and admins
// every page, authors their own; viewers none.
func TestPreviewPermissions(t *testing.T) {
	eachParallel(t, func(t *testing.T, e *env) {
		admin := e.admin().AccessToken
		_, author := e.newUser(quire.RoleAuthor)
		_, otherAuthor := e.newUser(quire.RoleAuthor)
		_, editor := e.newUser(quire.RoleEditor)
		_, viewer := e.newUser(quire.RoleViewer)
		own := e.createPage(author.AccessToken, "authors-own", "Own")
		foreign := e.createPage(otherAuthor.AccessToken, "someone-elses", "Foreign")
		cases := []struct {
			name  string
			token string
			page  string
			want  int
		}{
			{"author, own page", author.AccessToken, own.ID, 201},
			{"author, other's page", author.AccessToken, foreign.ID, 403},
			{"editor, any page", editor.AccessToken, foreign.ID, 201},
			{"admin, any page", admin, own.ID, 201},
			{"viewer", viewer.AccessToken, own.ID, 403},
			{"anonymous", "", own.ID, 401},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				base := "/api/v1/pages/" + c.page + "/previews"
				r := e.do("POST", base, c.token, nil)
				if r.Status != c.want {
					t.Fatalf("create: %d, want %d: %s", r.Status, c.want, r.Body)
				}
				listWant, revokeWant := http.StatusOK, http.StatusNoContent
				if c.want != 201 {
					listWant, revokeWant = c.want, c.want
				}
				e.do("GET", base, c.token, nil).want(t, listWant)
				// Revoke a link someone else (the admin) made on the same page.
				victim := e.createPreview(admin, c.page, nil)
				e.do("DELETE", base+"/"+victim.ID, c.token, nil).want(t, revokeWant)
				status := 200
				if revokeWant == http.StatusNoContent {
					status = 404
				}
				e.openPreview(victim.Token).want(t, status)
			})
		}
	})
}
