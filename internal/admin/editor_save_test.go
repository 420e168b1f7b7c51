package admin_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/service"
	"github.com/quirecms/quire/internal/store"
)

// signedInClient signs in to the admin over HTTP and returns a client
// carrying the session cookie.
func signedInClient(t *testing.T, in *instance) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	form := url.Values{"email": {adminEmail}, "password": {adminPassword}}
	req, _ := http.NewRequest("POST", in.base+"/admin/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in: %d", res.StatusCode)
	}
	return c
}

type saveAnswer struct {
	Title string      `json:"title"`
	Page  *quire.Page `json:"page"`
}

func postSave(t *testing.T, in *instance, c *http.Client, id string, body any) (int, saveAnswer) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", in.base+"/admin/pages/"+id+"/save", strings.NewReader(string(b)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	res, err := c.Do(req)
	if err != nil {
		t.Error(err)
		return 0, saveAnswer{}
	}
	defer res.Body.Close()
	var out saveAnswer
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		t.Errorf("save answer: %v", err)
	}
	return res.StatusCode, out
}

// TestEditorSaveIsOneWrite: the editor's save is one service call. A save
// whose blocks are refused changes neither title nor slug and writes no
// audit entry; a save of title, slug and blocks is one new version and
// one audit entry; of concurrent saves from one version, one wins and
// every other gets the editor's conflict message with the page as it is.
func TestEditorSaveIsOneWrite(t *testing.T) {
	each(t, func(t *testing.T, in *instance) {
		ctx, admin := context.Background(), in.admin()
		c := signedInClient(t, in)
		pg, err := in.srv.Pages.Create(ctx, admin, service.NewPage{Slug: "save-me", Title: "Save me",
			Blocks: []quire.BlockInput{{Type: quire.BlockParagraph, Content: json.RawMessage(`{"text":"one"}`)}}})
		if err != nil {
			t.Fatal(err)
		}
		audits := func() int {
			es, err := in.srv.Audit.List(ctx, admin, store.AuditFilter{ResourceType: "page", ResourceID: pg.ID, Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			return len(es)
		}
		before := audits()
		block := map[string]any{"id": pg.Blocks[0].ID, "type": "paragraph", "content": map[string]any{"text": "one, edited"}}
		embed := map[string]any{"type": "embed", "content": map[string]any{"url": "http://example.com/video"}}

		st, _ := postSave(t, in, c, pg.ID, map[string]any{"version": pg.Version, "title": "Renamed", "slug": "renamed", "blocks": []any{block, embed}})
		if st != http.StatusUnprocessableEntity {
			t.Fatalf("invalid blocks: %d", st)
		}
		now, _ := in.srv.Pages.Get(ctx, admin, pg.ID)
		if now.Title != "Save me" || now.Slug != "save-me" || now.Version != pg.Version {
			t.Fatalf("a refused save changed the page: %q %q v%d", now.Title, now.Slug, now.Version)
		}
		if n := audits(); n != before {
			t.Fatalf("a refused save wrote %d audit entries", n-before)
		}

		st, ans := postSave(t, in, c, pg.ID, map[string]any{"version": pg.Version, "title": "Renamed", "slug": "renamed", "blocks": []any{block}})
		if st != http.StatusOK || ans.Page == nil || ans.Page.Version != pg.Version+1 || ans.Page.Title != "Renamed" || ans.Page.Blocks[0].ID != pg.Blocks[0].ID {
			t.Fatalf("save: %d %+v", st, ans.Page)
		}
		if n := audits(); n != before+1 {
			t.Fatalf("one save wrote %d audit entries", n-before)
		}

		// Concurrent saves from one version: exactly one lands.
		from := ans.Page.Version
		const n = 4
		var wg sync.WaitGroup
		statuses, answers := make([]int, n), make([]saveAnswer, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				title := "Concurrent " + string(rune('A'+i))
				statuses[i], answers[i] = postSave(t, in, c, pg.ID, map[string]any{"version": from, "title": title, "slug": "renamed", "blocks": []any{block}})
			}()
		}
		wg.Wait()
		ok := 0
		for i := range n {
			switch statuses[i] {
			case http.StatusOK:
				ok++
			case http.StatusPreconditionFailed:
				if answers[i].Title != "someone else saved this page after you opened it" || answers[i].Page == nil || answers[i].Page.Version != from+1 {
					t.Errorf("conflict answer: %q %+v", answers[i].Title, answers[i].Page)
				}
			default:
				t.Errorf("concurrent save: %d %q", statuses[i], answers[i].Title)
			}
		}
		if ok != 1 {
			t.Errorf("%d of %d concurrent saves from one version landed", ok, n)
		}
	})
}
