package admin_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/auth"
	"github.com/quirecms/quire/internal/config"
	"github.com/quirecms/quire/internal/server"
	"github.com/quirecms/quire/internal/service"
	"github.com/quirecms/quire/internal/testdb"
)

// startLocalhost starts a server reached as http://localhost:port with
// QUIRE_PUBLIC_URL set to that: WebAuthn wants a domain as the relying
// party id (not an IP address), and localhost is a secure context.
func startLocalhost(t *testing.T, dsn string) *instance {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://localhost:" + strings.TrimPrefix(ln.Addr().String(), "127.0.0.1:")
	cfg := config.Default()
	cfg.DataDir, cfg.DatabaseURL, cfg.PublicURL = t.TempDir(), dsn, base
	cfg.AdminEmail, cfg.AdminPassword = adminEmail, adminPassword
	srv, err := server.New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), server.Options{Argon2: auth.FastArgon2})
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		srv.Close()
	})
	return &instance{t: t, srv: srv, base: base}
}

// virtualAuthenticator gives the browser's tab a platform authenticator
// (CTAP2, internal, discoverable credentials, user verification) that
// answers every prompt at once.
func (b *browser) virtualAuthenticator() {
	b.t.Helper()
	b.do(chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		if _, err := chromedp.Call(ctx, webauthn.Enable, webauthn.EnableParams{}); err != nil {
			return err
		}
		_, err := chromedp.Call(ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{Options: &webauthn.VirtualAuthenticatorOptions{
			Protocol: webauthn.AuthenticatorProtocolCtap2, Transport: webauthn.AuthenticatorTransportInternal,
			HasResidentKey: true, HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true,
		}})
		return err
	}))
}

// checkScreen runs axe-core on the current page at desktop and phone
// widths (no serious or critical violation, no sideways scrolling).
func (b *browser) checkScreen(name string) {
	b.t.Helper()
	src, err := os.ReadFile("testdata/axe-core-4.14.1.min.js")
	if err != nil {
		b.t.Fatal(err)
	}
	for _, width := range []int64{390, 1280} {
		b.do(chromedp.EmulateViewport(width, 900))
		for _, v := range b.axe(string(src)) {
			b.t.Errorf("%s at %dpx: %s (%s): %s %v", name, width, v.ID, v.Impact, v.Help, v.Nodes)
		}
		if run(b, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`)) {
			b.t.Errorf("%s at %dpx scrolls sideways", name, width)
		}
	}
}

// TestPasskeysInTheAdmin: add a passkey on My account, sign out, sign in
// with it alone, then use it as the second factor after the password;
// rename and remove it. No screen breaks the CSP.
func TestPasskeysInTheAdmin(t *testing.T) {
	testdb.Each(t, func(t *testing.T, dsn string) {
		in := startLocalhost(t, dsn)
		u := in.user(quire.RoleEditor)
		b := newBrowser(t, in)
		b.virtualAuthenticator()
		b.signIn(u.Email, userPassword)
		b.open("/admin/account")
		if b.has(`#passkeys tbody tr`) {
			t.Fatal("a passkey before any was added")
		}
		b.do(chromedp.SendKeys(chromedp.ID("passkey-name"), "Test laptop"))
		b.submit("#passkey-add")
		if p := b.path(); p != "/admin/account?done=passkey_added" {
			t.Fatalf("after adding: %s %q", p, b.text("main"))
		}
		if got := b.text("#passkeys tbody"); !strings.Contains(got, "Test laptop") || !strings.Contains(got, "Never") {
			t.Fatalf("passkey list: %q", got)
		}
		if v := b.cspViolations(); len(v) > 0 {
			t.Errorf("CSP violations on My account: %v", v)
		}
		b.checkScreen("/admin/account")

		// Passwordless.
		b.submit(`form[action="/admin/logout"] button`)
		b.open("/admin/login")
		b.checkScreen("/admin/login")
		b.submit("#passkey-signin")
		if p := b.path(); p != "/admin/" {
			t.Fatalf("after the passkey sign-in: %s %q", p, b.text("main"))
		}
		if v := b.cspViolations(); len(v) > 0 {
			t.Errorf("CSP violations: %v", v)
		}

		// As the second factor: the password, then the passkey.
		b.submit(`form[action="/admin/logout"] button`)
		b.signIn(u.Email, userPassword)
		if !b.has(`form[action="/admin/login/2fa/passkey"]`) || b.has(`#code`) {
			t.Fatalf("second step for a passkey-only account: %s %q", b.path(), b.text("main"))
		}
		b.checkScreen("/admin/login/2fa")
		b.submit("#passkey-2fa")
		if p := b.path(); p != "/admin/" {
			t.Fatalf("after the passkey second factor: %s %q", p, b.text("main"))
		}

		// Rename, then remove (password asked again).
		b.open("/admin/account")
		b.do(chromedp.SetValue(chromedp.CSS(`#passkeys input[name="name"]`), "Work laptop"))
		b.submit(`#passkeys form[action$="/rename"] button`)
		if got := b.text("#passkeys tbody"); !strings.Contains(got, "Work laptop") || strings.Contains(got, "Never") {
			t.Fatalf("after renaming: %q", got)
		}
		b.do(chromedp.SendKeys(chromedp.CSS(`#passkeys input[name="password"]`), userPassword))
		b.submit(`#passkeys form[action$="/remove"] button`)
		if p := b.path(); p != "/admin/account?done=passkey_removed" || b.has(`#passkeys tbody tr`) {
			t.Fatalf("after removing: %s %q", p, b.text("#passkeys"))
		}
		b.submit(`form[action="/admin/logout"] button`)
		b.signIn(u.Email, userPassword)
		if p := b.path(); p != "/admin/" {
			t.Fatalf("password alone after removing the passkey: %s", p)
		}
	})
}

// A user whose role requires a second factor can set up a passkey instead
// of TOTP on the enrolment screen, and then uses the admin.
func TestPasskeyEnrolmentWhenRequired(t *testing.T) {
	testdb.Each(t, func(t *testing.T, dsn string) {
		in := startLocalhost(t, dsn)
		if _, _, err := in.srv.Settings.Put(t.Context(), in.admin(), service.RequireTwoFactorSetting, 0,
			service.SettingInput{Value: json.RawMessage(`["author"]`)}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(service.AccountCacheTTL + 100*time.Millisecond) // the policy is cached that long
		u := in.user(quire.RoleAuthor)
		b := newBrowser(t, in)
		b.virtualAuthenticator()
		b.signIn(u.Email, userPassword)
		if p := b.path(); p != "/admin/account/two-factor" || !b.has("#passkey-add") {
			t.Fatalf("after the password: %s %q", p, b.text("main"))
		}
		b.checkScreen("/admin/account/two-factor (required, with passkeys)")
		b.do(chromedp.SendKeys(chromedp.ID("passkey-name"), "Phone"))
		b.submit("#passkey-add")
		b.open("/admin/pages")
		if p := b.path(); p != "/admin/pages" {
			t.Fatalf("pages after adding a passkey: %s %q", p, b.text("main"))
		}
		if v := b.cspViolations(); len(v) > 0 {
			t.Errorf("CSP violations: %v", v)
		}
	})
}
