package admin_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestMySessions: My account lists the user's sessions with this one
// marked; ending another signs it out (its API token stops working),
// ending this one signs this browser out.
func TestMySessions(t *testing.T) {
	each(t, func(t *testing.T, in *instance) {
		other := in.token(adminEmail, adminPassword)
		b := newBrowser(t, in)
		b.signIn(adminEmail, adminPassword)
		b.open("/admin/account")
		rows := run(b, chromedpRows())
		if len(rows) != 2 {
			t.Fatalf("sessions listed: %v", rows)
		}
		var mine, theirs string
		for id, text := range rows {
			if strings.Contains(text, "this browser") {
				mine = id
			} else {
				theirs = id
			}
		}
		if mine == "" || theirs == "" {
			t.Fatalf("this browser's session is not marked: %v", rows)
		}
		if v := b.cspViolations(); len(v) > 0 {
			t.Errorf("CSP violations: %v", v)
		}
		b.submit(`tr[data-session="` + theirs + `"] button`)
		if got := b.text(".flash"); !strings.Contains(got, "Session ended") {
			t.Errorf("after ending a session: %q", got)
		}
		if st := in.api("GET", "/api/v1/auth/me", other, "", nil); st != 401 {
			t.Errorf("the ended session's token still works: %d", st)
		}
		if rows := run(b, chromedpRows()); len(rows) != 1 {
			t.Errorf("sessions after ending one: %v", rows)
		}
		b.submit(`tr[data-session="` + mine + `"] button`)
		if p := b.path(); p != "/admin/login?done=signed_out" {
			t.Errorf("ending this session: at %s", p)
		}
		b.open("/admin/account")
		if p := b.path(); !strings.HasPrefix(p, "/admin/login") {
			t.Errorf("still signed in after ending this session: %s", p)
		}
	})
}

// chromedpRows returns the session rows of My account, text by id.
func chromedpRows() chromedp.Action[map[string]string] {
	return chromedp.Evaluate[map[string]string](`Object.fromEntries([...document.querySelectorAll("tr[data-session]")].map(r => [r.dataset.session, r.textContent]))`)
}
