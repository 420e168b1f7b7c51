package admin_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/store"
)

// TestAcceptInvitation: an admin invites through the API (no SMTP, so the
// token is in the answer); the invitee opens the link, chooses a name and
// a password and lands signed in; the used link and a made-up one say so.
func TestAcceptInvitation(t *testing.T) {
	each(t, func(t *testing.T, in *instance) {
		var inv struct {
			Token string `json:"token"`
		}
		body := `{"email":"invitee@example.com","role":"editor"}`
		if st := in.api("POST", "/api/v1/users/invitations", in.token(adminEmail, adminPassword), body, &inv); st != 201 || inv.Token == "" {
			t.Fatalf("invite: %d %+v", st, inv)
		}
		b := newBrowser(t, in)
		link := "/admin/invitation?token=" + inv.Token
		b.open(link)
		b.do(chromedp.SendKeys(chromedp.ID("display_name"), "In Vitee"), chromedp.SendKeys(chromedp.ID("password"), "short"))
		// Past the browser's minlength, the service's own message shows
		// next to the field.
		b.do(chromedp.SetAttributeValue(chromedp.ID("password"), "minlength", "1"))
		b.submit(`form[action="/admin/invitation"] button`)
		if !b.has("#password-error") {
			t.Fatal("a short password: no message next to the field")
		}
		b.do(chromedp.SendKeys(chromedp.ID("password"), userPassword))
		b.submit(`form[action="/admin/invitation"] button`)
		if p := b.path(); p != "/admin/?done=welcome" {
			t.Fatalf("after accepting: %s", p)
		}
		if h := b.text("h1"); h != "Dashboard" {
			t.Errorf("heading %q", h)
		}
		if v := b.cspViolations(); len(v) > 0 {
			t.Errorf("CSP violations: %v", v)
		}
		b.open("/admin/account")
		if got := b.text(".facts"); !strings.Contains(got, "invitee@example.com") || !strings.Contains(got, "In Vitee") || !strings.Contains(got, "editor") {
			t.Errorf("my account after accepting: %q", got)
		}
		entries, err := in.srv.Audit.List(context.Background(), in.admin(), store.AuditFilter{Action: quire.ActionInvitationAccept, Limit: 5})
		if err != nil || len(entries) != 1 {
			t.Errorf("accept audit entries: %v %d", err, len(entries))
		}

		// The link works once; a second browser finds it used.
		b2 := newBrowser(t, in)
		b2.open(link)
		b2.do(chromedp.SendKeys(chromedp.ID("password"), "another long password"))
		b2.submit(`form[action="/admin/invitation"] button`)
		if got := b2.text("#token-error"); !strings.Contains(got, "not valid") {
			t.Errorf("used link: %q", got)
		}
		b2.open("/admin/invitation?token=qiv_made_up")
		b2.do(chromedp.SendKeys(chromedp.ID("password"), "another long password"))
		b2.submit(`form[action="/admin/invitation"] button`)
		if got := b2.text("#token-error"); !strings.Contains(got, "not valid") {
			t.Errorf("made-up link: %q", got)
		}
		b2.open("/admin/invitation")
		if !b2.has("#token-error") || b2.has(`form[action="/admin/invitation"]`) {
			t.Error("a link without a token shows the form")
		}
	})
}

// TestPasswordReset: "Forgot your password?" answers the same for a known
// and an unknown address; a link made as an admin would sets a new
// password once, ends the sessions, and the new password signs in.
func TestPasswordReset(t *testing.T) {
	each(t, func(t *testing.T, in *instance) {
		u := in.user(quire.RoleAuthor)
		b := newBrowser(t, in)
		b.open("/admin/login")
		b.submit(`a[href="/admin/password/forgot"]`)
		answers := map[string]string{}
		for _, email := range []string{u.Email, "nobody@example.com"} {
			b.do(chromedp.SendKeys(chromedp.ID("email"), email))
			b.submit(`form[action="/admin/password/forgot"] button`)
			answers[email] = b.path() + " " + b.text(".flash")
		}
		if answers[u.Email] != answers["nobody@example.com"] || !strings.Contains(answers[u.Email], "If an account uses this address") {
			t.Errorf("forgot answers differ or say nothing: %q", answers)
		}

		link, err := in.srv.Recovery.CreateResetLink(context.Background(), in.admin(), u.ID)
		if err != nil {
			t.Fatal(err)
		}
		apiToken := in.token(u.Email, userPassword)
		b.open("/admin/password/reset?token=" + link.Token)
		b.do(chromedp.SendKeys(chromedp.ID("new_password"), "a brand new password"))
		b.submit(`form[action="/admin/password/reset"] button`)
		if p := b.path(); p != "/admin/login?done=password_reset" {
			t.Fatalf("after reset: %s", p)
		}
		if st := in.api("GET", "/api/v1/auth/me", apiToken, "", nil); st != 401 {
			t.Errorf("a session from before the reset still works: %d", st)
		}
		b.signIn(u.Email, "a brand new password")
		if p := b.path(); p != "/admin/" {
			t.Errorf("sign-in with the new password: %s", p)
		}
		if v := b.cspViolations(); len(v) > 0 {
			t.Errorf("CSP violations: %v", v)
		}

		b2 := newBrowser(t, in)
		b2.open("/admin/password/reset?token=" + link.Token)
		b2.do(chromedp.SendKeys(chromedp.ID("new_password"), "yet another password"))
		b2.submit(`form[action="/admin/password/reset"] button`)
		if got := b2.text("#token-error"); !strings.Contains(got, "not valid") {
			t.Errorf("used reset link: %q", got)
		}
	})
}

// TestSignedOutFormsRefuseCrossSite: the forms that need no session are
// same-origin only like the others (a cross-site post could otherwise
// spend someone's link or code), and carry the admin's CSP.
func TestSignedOutFormsRefuseCrossSite(t *testing.T) {
	each(t, func(t *testing.T, in *instance) {
		for _, path := range []string{"/admin/invitation", "/admin/password/forgot", "/admin/password/reset", "/admin/login/2fa"} {
			req, _ := http.NewRequest("POST", in.base+path, strings.NewReader("token=qpr_x&email=a%40example.com"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Sec-Fetch-Site", "cross-site")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusForbidden || !strings.Contains(res.Header.Get("Content-Security-Policy"), "form-action 'self'") {
				t.Errorf("cross-site POST %s: %d, CSP %q", path, res.StatusCode, res.Header.Get("Content-Security-Policy"))
			}
		}
	})
}
