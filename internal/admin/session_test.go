package admin_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/config"
	"github.com/quirecms/quire/internal/service"
	"github.com/quirecms/quire/internal/store"
	"github.com/quirecms/quire/internal/testdb"
)

// TestSignInAndOut signs in with a wrong and then the right password,
// checks that the login went through the API's own login (its audit entry
// carries the admin request's id), and signs out.
func TestSignInAndOut(t *testing.T) {
	each(t, func(t *testing.T, in *instance) {
		b := newBrowser(t, in)
		b.open("/admin/pages")
		if p := b.path(); p != "/admin/login?next=%2Fadmin%2Fpages" {
			t.Fatalf("signed out, /admin/pages went to %s", p)
		}
		b.do(chromedp.SendKeys(chromedp.ID("email"), adminEmail), chromedp.SendKeys(chromedp.ID("password"), "not the password"))
		b.submit(`form[action="/admin/login"] button`)
		if got := b.text(".error-box"); !strings.Contains(got, "not right") {
			t.Errorf("wrong password: error %q", got)
		}
		b.open("/admin/")
		if p := b.path(); !strings.HasPrefix(p, "/admin/login") {
			t.Fatalf("a failed sign-in must not sign in; /admin/ went to %s", p)
		}

		b.do(chromedp.SendKeys(chromedp.ID("email"), adminEmail), chromedp.SendKeys(chromedp.ID("password"), adminPassword))
		b.submit(`form[action="/admin/login"] button`)
		if p := b.path(); p != "/admin/" {
			t.Fatalf("after sign-in at /admin/: %s", p)
		}
		if h := b.text("h1"); h != "Dashboard" {
			t.Errorf("dashboard heading %q", h)
		}
		b.screenshot("dashboard")
		if v := b.cspViolations(); len(v) > 0 {
			t.Errorf("the dashboard broke its own CSP: %v", v)
		}

		// The failed and the successful login are the API's audit entries,
		// with the admin request's id and the browser's address.
		admin := &quire.Principal{Role: quire.RoleAdmin, SessionID: "test"}
		entries, err := in.srv.Audit.List(context.Background(), admin, store.AuditFilter{Action: "auth.", Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		actions := map[string]*quire.AuditEntry{}
		for _, e := range entries {
			actions[e.Action] = e
		}
		for _, a := range []string{quire.ActionLogin, quire.ActionLoginFailed} {
			e := actions[a]
			if e == nil || e.RequestID == "" || e.IP != "127.0.0.1" {
				t.Errorf("audit entry %s: %+v", a, e)
			}
		}

		// Signing in again in this browser ends the session it had.
		b.signIn(adminEmail, adminPassword)
		b.submit(`form[action="/admin/logout"] button`)
		logouts, err := in.srv.Audit.List(context.Background(), admin, store.AuditFilter{Action: quire.ActionLogout, Limit: 10})
		if err != nil || len(logouts) != 2 || logouts[0].ResourceID == logouts[1].ResourceID {
			t.Errorf("two sessions should have ended, one by the second sign-in and one by signing out: %v %+v", err, logouts)
		}
		if got := b.text(".flash"); !strings.Contains(got, "signed out") {
			t.Errorf("after sign-out: %q", got)
		}
		b.open("/admin/")
		if p := b.path(); !strings.HasPrefix(p, "/admin/login") {
			t.Errorf("after sign-out /admin/ went to %s", p)
		}
		b.screenshot("login")
	})
}

// TestSessionEndsWithTheAccount: logout-everywhere through the API, a
// deactivation and a role change each take effect on the admin session's
// next request.
func TestSessionEndsWithTheAccount(t *testing.T) {
	each(t, func(t *testing.T, in *instance) {
		editor := in.user(quire.RoleEditor)
		b := newBrowser(t, in)
		b.signIn(editor.Email, userPassword)
		if !b.has(`a[href="/admin/pages/new"]`) {
			t.Fatal("an editor sees no New page link")
		}

		// A role change ends the sessions of the user (Users.Update moves
		// last_token_issue); signed in again, the screen shows the new role.
		ctx := context.Background()
		admin := in.admin()
		viewer := quire.RoleViewer
		if _, err := in.srv.Users.Update(ctx, admin, editor.ID, 0, service.UserPatch{Role: &viewer}); err != nil {
			t.Fatal(err)
		}
		b.open("/admin/")
		if p := b.path(); !strings.HasPrefix(p, "/admin/login") {
			t.Errorf("after a role change the admin session still shows %s", p)
		}
		b.signIn(editor.Email, userPassword)
		if b.has(`a[href="/admin/pages/new"]`) {
			t.Error("demoted to viewer, the admin still offers New page")
		}
		if r := b.text(".role"); r != "viewer" {
			t.Errorf("role shown after the change: %q", r)
		}

		// Logout-everywhere through the API ends the open admin session.
		b.signIn(editor.Email, userPassword)
		tok := in.token(editor.Email, userPassword)
		if st := in.api("POST", "/api/v1/auth/logout-all", tok, "", nil); st != http.StatusNoContent {
			t.Fatalf("logout-all: %d", st)
		}
		b.open("/admin/pages")
		if p := b.path(); !strings.HasPrefix(p, "/admin/login") {
			t.Errorf("after logout-all through the API the admin still shows %s", p)
		}

		// Deactivation ends it too.
		b.signIn(editor.Email, userPassword)
		if p := b.path(); p != "/admin/" {
			t.Fatalf("signed in again at %s", p)
		}
		inactive := false
		u, err := in.srv.Users.Get(ctx, admin, editor.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := in.srv.Users.Update(ctx, admin, editor.ID, u.Version, service.UserPatch{Active: &inactive}); err != nil {
			t.Fatal(err)
		}
		b.open("/admin/")
		if p := b.path(); !strings.HasPrefix(p, "/admin/login") {
			t.Errorf("a deactivated user's admin session still shows %s", p)
		}
	})
}

// TestCrossSiteFormPostRefused: a page on another site posts a form to the
// admin (logout-everywhere); it is refused and the session lives on.
func TestCrossSiteFormPostRefused(t *testing.T) {
	each(t, func(t *testing.T, in *instance) {
		b := newBrowser(t, in)
		b.signIn(adminEmail, adminPassword)
		evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			_, _ = w.Write([]byte(`<!doctype html><form method="post" action="` + in.base + `/admin/account/logout-all">` +
				`<button id="go" type="submit">Win a prize</button></form>`))
		}))
		defer evil.Close()
		// localhost and 127.0.0.1 are different sites to the browser.
		b.do(chromedp.Navigate(strings.Replace(evil.URL, "127.0.0.1", "localhost", 1)))
		b.submit("#go")
		if got := b.text("main"); !strings.Contains(got, "another site") {
			t.Errorf("cross-site post answered %q", got)
		}
		b.open("/admin/")
		if p := b.path(); p != "/admin/" {
			t.Errorf("the refused cross-site post ended the session: %s", p)
		}
	})
}

// TestAdminUIOff: with QUIRE_ADMIN_UI=false there is no admin, only the API.
func TestAdminUIOff(t *testing.T) {
	testdb.Each(t, func(t *testing.T, dsn string) {
		in := startWith(t, dsn, func(c *config.Config) { c.AdminUI = false })
		for _, path := range []string{"/admin", "/admin/login", "/admin/static/admin.css"} {
			res, err := http.Get(in.base + path)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusNotFound {
				t.Errorf("GET %s with the admin off: %d", path, res.StatusCode)
			}
		}
		if st := in.api("GET", "/healthz", "", "", nil); st != http.StatusOK {
			t.Errorf("the API is off too: %d", st)
		}
	})
}

// TestHeaders checks the security headers and the cross-origin refusal
// without a browser: a CSP with no inline script, and 403 for a
// state-changing request another site sent.
func TestHeaders(t *testing.T) {
	each(t, func(t *testing.T, in *instance) {
		res, err := http.Get(in.base + "/admin/login")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		csp := res.Header.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("CSP %q lacks %q", csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
			t.Errorf("CSP allows inline code: %q", csp)
		}
		for h, want := range map[string]string{"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"} {
			if got := res.Header.Get(h); got != want {
				t.Errorf("%s = %q, want %q", h, got, want)
			}
		}
		if res.Header.Get("X-Request-Id") == "" {
			t.Error("the admin answer has no X-Request-Id")
		}

		for name, hdr := range map[string][2]string{
			"sec-fetch-site": {"Sec-Fetch-Site", "cross-site"},
			"origin":         {"Origin", "https://evil.example"},
		} {
			req, _ := http.NewRequest("POST", in.base+"/admin/login", strings.NewReader("email=a%40b.c&password=x"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set(hdr[0], hdr[1])
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusForbidden {
				t.Errorf("%s: cross-origin login post answered %d, want 403", name, res.StatusCode)
			}
		}
	})
}
