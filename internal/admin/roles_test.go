package admin_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/service"
	"github.com/quirecms/quire/internal/store"
)

// post sends a same-origin form post from the page, as a hand-made form
// would, and returns the status: the server, not the hidden button, must
// refuse what the role does not allow.
func (b *browser) post(path string, form map[string]string) int {
	b.t.Helper()
	var parts []string
	for k, v := range form {
		parts = append(parts, k+"="+v)
	}
	js := fmt.Sprintf(`fetch(%s, {method: "POST", headers: {"Content-Type": "application/x-www-form-urlencoded"}, body: %s, redirect: "manual"}).then(r => r.status)`,
		jsString(path), jsString(strings.Join(parts, "&")))
	return run(b, chromedp.Evaluate[int](js, chromedp.EvalAwaitPromise))
}

// TestAuthorAndViewer: an author writes but cannot publish, cannot delete
// another's page and sees no activity log; a viewer reads and can change
// nothing, whatever they send.
func TestAuthorAndViewer(t *testing.T) {
	each(t, func(t *testing.T, in *instance) {
		ctx := context.Background()
		admin := in.admin()
		others, err := in.srv.Pages.Create(ctx, admin, service.NewPage{Title: "The admin's page", Slug: "admins-page"})
		if err != nil {
			t.Fatal(err)
		}
		author := in.user(quire.RoleAuthor)

		b := newBrowser(t, in)
		b.signIn(author.Email, userPassword)
		if b.has("table") {
			t.Error("an author's dashboard shows the activity log")
		}
		b.open("/admin/pages/new")
		b.do(chromedp.SendKeys(chromedp.ID("title"), "Author page"))
		b.submit(`form[action="/admin/pages"] button`)
		if got := b.text(".flash"); got != "Page created." {
			t.Fatalf("author create: %q", got)
		}
		if b.has(`form[action$="/publish"]`) {
			t.Error("an author is offered Publish")
		}
		if !b.has(`#save`) || !b.has(`form[action$="/draft"]`) {
			t.Error("an author cannot save or keep a draft of their own page")
		}
		mine := strings.TrimPrefix(strings.SplitN(b.path(), "?", 2)[0], "/admin/pages/")
		if st := b.post("/admin/pages/"+mine+"/publish", map[string]string{"version": "1"}); st != http.StatusForbidden {
			t.Errorf("an author's publish post answered %d", st)
		}
		// The admin's page: read-only for the author, no delete offered or allowed.
		b.open("/admin/pages/" + others.ID)
		if b.has("#save") || !b.has("fieldset[disabled]") {
			t.Error("an author may edit another's page in the admin")
		}
		b.open("/admin/pages")
		if b.has(`form[action="/admin/pages/` + others.ID + `/delete"]`) {
			t.Error("an author is offered to delete another's page")
		}
		if st := b.post("/admin/pages/"+others.ID+"/delete", map[string]string{"version": "1"}); st != http.StatusForbidden {
			t.Errorf("an author's delete of another's page answered %d", st)
		}
		if !b.has(`form[action="/admin/pages/` + mine + `/delete"]`) {
			t.Error("an author is not offered to delete their own unpublished page")
		}
		b.screenshot("pages-author")
		b.submit(`form[action="/admin/pages/` + mine + `/delete"] button`)
		if got := b.text(".flash"); got != "Page deleted." {
			t.Errorf("author deleting their own page: %q", got)
		}
		if _, err := in.srv.Pages.Get(ctx, admin, mine); quire.ErrorCode(err) != quire.ENOTFOUND {
			t.Errorf("the deleted page is still there: %v", err)
		}

		viewer := in.user(quire.RoleViewer)
		v := newBrowser(t, in)
		v.signIn(viewer.Email, userPassword)
		if v.has(`a[href="/admin/pages/new"]`) {
			t.Error("a viewer is offered New page")
		}
		v.open("/admin/pages/" + others.ID)
		if v.has("#save") || v.has(`form[action$="/publish"]`) || v.has(`form[action$="/draft"]`) || v.has(`form[action$="/delete"]`) {
			t.Error("a viewer is offered a change")
		}
		if got := run(v, chromedp.Value(chromedp.ID("title"))); got != "The admin's page" {
			t.Errorf("a viewer cannot read the page: %q", got)
		}
		for path, form := range map[string]map[string]string{
			"/admin/pages":                             {"title": "x", "slug": "x"},
			"/admin/pages/" + others.ID + "/publish":   {"version": "1"},
			"/admin/pages/" + others.ID + "/draft":     {"note": "x"},
			"/admin/pages/" + others.ID + "/delete":    {"version": "1"},
			"/admin/pages/" + others.ID + "/unpublish": {"version": "1"},
		} {
			if st := v.post(path, form); st != http.StatusForbidden {
				t.Errorf("viewer POST %s answered %d, want 403", path, st)
			}
		}
		js := `fetch("/admin/pages/` + others.ID + `/save", {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({version: 1, title: "Viewer was here", slug: "admins-page", blocks: []})}).then(r => r.status)`
		if st := run(v, chromedp.Evaluate[int](js, chromedp.EvalAwaitPromise)); st != http.StatusForbidden {
			t.Errorf("a viewer's save answered %d", st)
		}
		if pg, _ := in.srv.Pages.Get(ctx, admin, others.ID); pg.Title != "The admin's page" || pg.Version != others.Version {
			t.Errorf("a viewer changed the page: %+v", pg)
		}
		v.open("/admin/pages/new")
		if h := v.text("h1"); h != "Forbidden" {
			t.Errorf("a viewer's New page screen: %q", h)
		}
		// A refused administrative request is audited, as on the API.
		if st := v.post("/admin/users", map[string]string{"email": "x@example.com", "role": "admin", "password": "a long enough password"}); st != http.StatusForbidden {
			t.Errorf("a viewer's user creation answered %d", st)
		}
		entries, err := in.srv.Audit.List(ctx, admin, store.AuditFilter{Action: quire.ActionForbidden, UserID: viewer.ID, Limit: 10})
		if err != nil || len(entries) != 1 || entries[0].ResourceID != "admin POST /admin/users" {
			t.Errorf("refusal audit entries %+v, %v", entries, err)
		}
		// Ending another user's sessions is an admin's.
		if st := v.post("/admin/users/"+admin.UserID+"/logout-all", map[string]string{}); st != http.StatusForbidden {
			t.Errorf("a viewer ending the admin's sessions answered %d", st)
		}
	})
}

// TestPageList pages through the list with the API's keyset cursor and
// filters it by status, title and author.
func TestPageList(t *testing.T) {
	each(t, func(t *testing.T, in *instance) {
		ctx := context.Background()
		admin := in.admin()
		var last *quire.Page
		for i := range 30 {
			pg, err := in.srv.Pages.Create(ctx, admin, service.NewPage{Title: fmt.Sprintf("Page %02d", i), Slug: fmt.Sprintf("page-%02d", i)})
			if err != nil {
				t.Fatal(err)
			}
			last = pg
		}
		if _, err := in.srv.Pages.Publish(ctx, admin, last.ID, last.Version, "go"); err != nil {
			t.Fatal(err)
		}
		b := newBrowser(t, in)
		b.signIn(adminEmail, adminPassword)
		b.open("/admin/pages")
		rows := func() int {
			return run(b, chromedp.Evaluate[int](`document.querySelectorAll("#page-list tbody tr").length`))
		}
		if n := rows(); n != 25 {
			t.Fatalf("first page of the list: %d rows", n)
		}
		b.screenshot("pages")
		b.submit(`a[rel=next]`)
		if n := rows(); n != 5 || b.has(`a[rel=next]`) {
			t.Errorf("second page: %d rows, next link %v", n, b.has(`a[rel=next]`))
		}
		b.open("/admin/pages")
		b.do(chromedp.SetValue(chromedp.ID("status"), "published"))
		b.submit(`form.filters button`)
		if n := rows(); n != 1 || !strings.Contains(b.text("#page-list"), "Page 29") {
			t.Errorf("published filter: %d rows: %s", n, b.text("#page-list"))
		}
		b.open("/admin/pages?q=page+1")
		if n := rows(); n != 10 {
			t.Errorf("search 'page 1': %d rows", n)
		}
		b.open("/admin/pages?author=me&status=draft")
		if n := rows(); n != 25 {
			t.Errorf("my drafts: %d rows", n)
		}
		// The dashboard: the latest drafts, the published page, the activity.
		b.open("/admin/")
		rowsIn := func(sel string) int {
			return run(b, chromedp.Evaluate[int](`document.querySelectorAll(`+jsString(sel)+`).length`))
		}
		if n := rowsIn(".grid2 section:first-child .rows li a"); n != 10 {
			t.Errorf("dashboard unpublished work: %d pages, want 10", n)
		}
		if got := b.text(".grid2 section:nth-child(2) .rows"); !strings.Contains(got, "Page 29") || strings.Contains(got, "Page 28") {
			t.Errorf("dashboard recently published: %q", got)
		}
		if !strings.Contains(b.text("main table"), "page.publish") {
			t.Error("the admin's dashboard shows no recent activity")
		}
		b.open("/admin/pages?status=bogus")
		if h := b.text("h1"); h != "Unprocessable Entity" {
			t.Errorf("a bad filter: %q", h)
		}
	})
}
