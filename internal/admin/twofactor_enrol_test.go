package admin_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/service"
)

// checkScreen fails on serious axe violations (at phone and desktop
// widths), sideways scrolling and CSP violations of the current page.
func checkScreen(t *testing.T, b *browser, name string) {
	t.Helper()
	src, err := os.ReadFile("testdata/axe-core-4.14.1.min.js")
	if err != nil {
		t.Fatal(err)
	}
	for _, width := range []int64{390, 1280} {
		b.do(chromedp.EmulateViewport(width, 900))
		for _, v := range b.axe(string(src)) {
			t.Errorf("%s at %dpx: %s (%s): %s %v", name, width, v.ID, v.Impact, v.Help, v.Nodes)
		}
		if run(b, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`)) {
			t.Errorf("%s at %dpx scrolls sideways", name, width)
		}
	}
	if v := b.cspViolations(); len(v) > 0 {
		t.Errorf("%s: CSP violations %v", name, v)
	}
}

// enrolOnPage starts an enrolment on the enrolment screen, confirms it with
// a code computed from the secret the page shows (as a user would type it
// into an app), and returns the secret and the recovery codes shown.
func enrolOnPage(t *testing.T, b *browser) (string, []string) {
	t.Helper()
	checkScreen(t, b, "enrolment start")
	b.submit(`form[action="/admin/account/two-factor/start"] button`)
	if !run(b, chromedp.Evaluate[bool](`document.querySelector("img.qr").complete && document.querySelector("img.qr").naturalWidth === 256`)) {
		t.Error("the QR code did not load")
	}
	secret := strings.TrimSpace(b.text("#totp-secret"))
	checkScreen(t, b, "enrolment")
	b.screenshot("two-factor-enrol")

	// A wrong code keeps the same secret on the screen.
	now := time.Now()
	code, err := totp.GenerateCode(secret, now)
	if err != nil {
		t.Fatalf("secret %q: %v", secret, err)
	}
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	b.do(chromedp.SendKeys(chromedp.ID("code"), wrong))
	b.submit(`form[action="/admin/account/two-factor/confirm"] button`)
	if got := b.text("#code-error"); !strings.Contains(got, "not correct") {
		t.Errorf("wrong code: %q", got)
	}
	if again := strings.TrimSpace(b.text("#totp-secret")); again != secret {
		t.Fatalf("the secret changed after a wrong code: %q, was %q", again, secret)
	}
	checkScreen(t, b, "enrolment, wrong code")

	b.do(chromedp.SendKeys(chromedp.ID("code"), code))
	b.submit(`form[action="/admin/account/two-factor/confirm"] button`)
	codes := run(b, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#recovery-codes code")).map(c => c.textContent)`))
	if len(codes) != 10 || !strings.Contains(b.text("main"), "shown only this once") {
		t.Fatalf("recovery codes screen: %d codes, %q", len(codes), b.text("main"))
	}
	checkScreen(t, b, "recovery codes")
	b.screenshot("two-factor-codes")
	return secret, codes
}

func signOut(t *testing.T, b *browser) {
	t.Helper()
	b.submit(`form[action="/admin/logout"] button`)
	if p := b.path(); p != "/admin/login?done=signed_out" {
		t.Fatalf("after signing out: %s", p)
	}
}

// TestTwoFactorEnrolInAdmin: a user turns TOTP on from My account, signs
// in with a code and then with a recovery code, and turns it off with
// their password.
func TestTwoFactorEnrolInAdmin(t *testing.T) {
	each(t, func(t *testing.T, in *instance) {
		u := in.user(quire.RoleEditor)
		b := newBrowser(t, in)
		b.signIn(u.Email, userPassword)
		b.open("/admin/account")
		if got := b.text("#two-factor"); !strings.Contains(got, "Off") {
			t.Fatalf("two-factor section: %q", got)
		}
		b.submit(`#two-factor a`)
		secret, codes := enrolOnPage(t, b)
		b.submit(`main a.button`)
		if p := b.path(); p != "/admin/account" {
			t.Fatalf("after the codes: %s", p)
		}
		if got := b.text("#recovery-left"); got != "10" {
			t.Errorf("recovery codes left: %q", got)
		}
		checkScreen(t, b, "account with two-factor on")

		// A code from the app (a later step: the one that confirmed is
		// spent), then a recovery code.
		signOut(t, b)
		b.signIn(u.Email, userPassword)
		next, _ := totp.GenerateCode(secret, time.Now().Add(30*time.Second))
		b.do(chromedp.SendKeys(chromedp.ID("code"), next))
		b.submit(`form[action="/admin/login/2fa"] button`)
		if p := b.path(); p != "/admin/" {
			t.Fatalf("after a TOTP code: %s %q", p, b.text("main"))
		}
		signOut(t, b)
		b.signIn(u.Email, userPassword)
		b.do(chromedp.SendKeys(chromedp.ID("code"), codes[3]))
		b.submit(`form[action="/admin/login/2fa"] button`)
		if p := b.path(); p != "/admin/" {
			t.Fatalf("after a recovery code: %s %q", p, b.text("main"))
		}
		b.open("/admin/account")
		if got := b.text("#recovery-left"); got != "9" {
			t.Errorf("recovery codes left after using one: %q", got)
		}

		// Off, with the password (a wrong one is refused).
		b.do(chromedp.SendKeys(chromedp.ID("two_factor_password"), "not my password"))
		b.submit(`form[action="/admin/account/two-factor/disable"] button`)
		if got := b.text("#two_factor_password-error"); !strings.Contains(got, "not correct") {
			t.Errorf("wrong password: %q", got)
		}
		b.do(chromedp.SendKeys(chromedp.ID("two_factor_password"), userPassword))
		b.submit(`form[action="/admin/account/two-factor/disable"] button`)
		if got := b.text("#two-factor"); !strings.Contains(got, "Off") {
			t.Errorf("after turning it off: %q", got)
		}
		signOut(t, b)
		b.signIn(u.Email, userPassword)
		if p := b.path(); p != "/admin/" {
			t.Errorf("password alone after turning it off: %s", p)
		}
	})
}

// TestTwoFactorRequiredInAdmin: a user whose role requires a second
// factor lands on the enrolment screen after the password, can use no
// other screen (only sign out) until enrolled, then goes where they were
// going.
func TestTwoFactorRequiredInAdmin(t *testing.T) {
	each(t, func(t *testing.T, in *instance) {
		if _, _, err := in.srv.Settings.Put(t.Context(), in.admin(), service.RequireTwoFactorSetting, 0,
			service.SettingInput{Value: json.RawMessage(`["author"]`)}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(service.AccountCacheTTL + 100*time.Millisecond) // the policy is cached that long
		u := in.user(quire.RoleAuthor)
		b := newBrowser(t, in)
		b.signIn(u.Email, userPassword)
		if p := b.path(); p != "/admin/account/two-factor" {
			t.Fatalf("after the password: %s %q", p, b.text("main"))
		}
		if b.has("header.top") {
			t.Error("the enrolment screen shows the navigation")
		}
		for _, path := range []string{"/admin/pages", "/admin/account", "/admin/media"} {
			b.open(path)
			if p := b.path(); !strings.HasPrefix(p, "/admin/account/two-factor") {
				t.Errorf("%s before enrolling: at %s", path, p)
			}
		}
		// Signing out works from there.
		signOut(t, b)

		b.signIn(u.Email, userPassword)
		b.open("/admin/pages")
		if p := b.path(); p != "/admin/account/two-factor?next=%2Fadmin%2Fpages" {
			t.Fatalf("pages before enrolling: %s", p)
		}
		enrolOnPage(t, b)
		b.submit(`main a.button`)
		if p := b.path(); p != "/admin/pages" {
			t.Fatalf("after enrolling: %s %q", p, b.text("main"))
		}
		if !b.has("header.top") {
			t.Error("no navigation after enrolling")
		}
	})
}
