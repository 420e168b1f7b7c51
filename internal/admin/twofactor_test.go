package admin_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/service"
)

// TestTwoFactorSignIn: an account with TOTP gets a second screen after
// its password; a wrong code is refused there, a right TOTP code or a
// recovery code signs in, and the challenge never reaches the address bar.
func TestTwoFactorSignIn(t *testing.T) {
	each(t, func(t *testing.T, in *instance) {
		u := in.user(quire.RoleEditor)
		tok := in.token(u.Email, userPassword)
		var en service.TOTPEnrolment
		if st := in.api("POST", "/api/v1/auth/2fa/totp", tok, "", &en); st != 200 {
			t.Fatalf("enrol: %d", st)
		}
		now := time.Now()
		code, _ := totp.GenerateCode(en.Secret, now)
		var rc service.RecoveryCodes
		if st := in.api("POST", "/api/v1/auth/2fa/totp/confirm", tok, `{"code":"`+code+`"}`, &rc); st != 200 || len(rc.Codes) == 0 {
			t.Fatalf("confirm: %d", st)
		}

		b := newBrowser(t, in)
		b.open("/admin/pages")
		b.do(chromedp.SendKeys(chromedp.ID("email"), u.Email), chromedp.SendKeys(chromedp.ID("password"), userPassword))
		b.submit(`form[action="/admin/login"] button`)
		if !b.has(`form[action="/admin/login/2fa"]`) {
			t.Fatalf("no code screen after the password: %s %q", b.path(), b.text("main"))
		}
		if p := b.path(); strings.Contains(p, "qlc_") {
			t.Errorf("the challenge is in the address: %s", p)
		}
		wrong := "000000"
		if code == wrong {
			wrong = "111111"
		}
		b.do(chromedp.SendKeys(chromedp.ID("code"), wrong))
		b.submit(`form[action="/admin/login/2fa"] button`)
		if got := b.text(".error-box"); !strings.Contains(got, "not correct") {
			t.Errorf("wrong code: %q", got)
		}
		if p := b.path(); p != "/admin/login/2fa" {
			t.Fatalf("a wrong code went on to %s", p)
		}
		// The same challenge still takes a right code (a later step: the
		// one used to confirm is never accepted again).
		next, _ := totp.GenerateCode(en.Secret, now.Add(30*time.Second))
		b.do(chromedp.SendKeys(chromedp.ID("code"), next))
		b.submit(`form[action="/admin/login/2fa"] button`)
		if p := b.path(); p != "/admin/pages" {
			t.Fatalf("after the right code: %s %q", p, b.text("main"))
		}
		if v := b.cspViolations(); len(v) > 0 {
			t.Errorf("CSP violations: %v", v)
		}

		// A recovery code works too, once.
		b2 := newBrowser(t, in)
		for i, want := range []string{"/admin/", "/admin/login/2fa"} {
			b2.signIn(u.Email, userPassword)
			b2.do(chromedp.SendKeys(chromedp.ID("code"), rc.Codes[0]))
			b2.submit(`form[action="/admin/login/2fa"] button`)
			if p := b2.path(); p != want {
				t.Errorf("recovery code, try %d: at %s", i+1, p)
			}
		}
	})
}
