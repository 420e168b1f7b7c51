package admin_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/auth"
	"github.com/quirecms/quire/internal/config"
	"github.com/quirecms/quire/internal/server"
	"github.com/quirecms/quire/internal/service"
	"github.com/quirecms/quire/internal/testdb"
)

const (
	adminEmail    = "admin@example.com"
	adminPassword = "admin password 123"
	userPassword  = "a long user password"
)

// instance is a running Quire server, as `quire serve` runs it, on :0.
type instance struct {
	t    *testing.T
	srv  *server.Server
	base string
}

// each runs fn against a fresh server on every database engine.
func each(t *testing.T, fn func(t *testing.T, in *instance)) {
	testdb.Each(t, func(t *testing.T, dsn string) { fn(t, start(t, dsn)) })
}

func start(t *testing.T, dsn string) *instance { return startWith(t, dsn, nil) }

// startWith starts a server with tweak applied to its configuration.
func startWith(t *testing.T, dsn string, tweak func(*config.Config)) *instance {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.DatabaseURL = dsn
	cfg.AdminEmail, cfg.AdminPassword = adminEmail, adminPassword
	if tweak != nil {
		tweak(&cfg)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := server.New(context.Background(), cfg, log, server.Options{Argon2: auth.FastArgon2})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
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
	return &instance{t: t, srv: srv, base: "http://" + ln.Addr().String()}
}

// user creates a user with role and returns its email.
func (in *instance) user(role quire.Role) *quire.User {
	in.t.Helper()
	email := fmt.Sprintf("%s-%d@example.com", role, time.Now().UnixNano())
	u, err := in.srv.Users.CreateSystem(context.Background(), service.NewUser{Email: email, Password: userPassword, Role: role, DisplayName: "Test " + string(role)})
	if err != nil {
		in.t.Fatal(err)
	}
	return u
}

// admin returns the principal of the first admin, as the API would build it.
func (in *instance) admin() *quire.Principal {
	in.t.Helper()
	users, _, err := in.srv.Users.List(context.Background(), &quire.Principal{Role: quire.RoleAdmin, SessionID: "test"}, "", 100)
	if err != nil {
		in.t.Fatal(err)
	}
	for _, u := range users {
		if u.Email == adminEmail {
			return &quire.Principal{UserID: u.ID, Role: u.Role, SessionID: "test"}
		}
	}
	in.t.Fatal("no admin")
	return nil
}

// api calls the JSON API and decodes the answer into out (may be nil).
func (in *instance) api(method, path, token, body string, out any) int {
	in.t.Helper()
	req, err := http.NewRequest(method, in.base+path, strings.NewReader(body))
	if err != nil {
		in.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		in.t.Fatal(err)
	}
	defer res.Body.Close()
	if out != nil {
		if err := json.NewDecoder(res.Body).Decode(out); err != nil {
			in.t.Fatalf("%s %s: decode: %v", method, path, err)
		}
	}
	return res.StatusCode
}

// token logs in through the API and returns an access token.
func (in *instance) token(email, password string) string {
	in.t.Helper()
	var pair struct {
		AccessToken string `json:"access_token"`
	}
	body, _ := json.Marshal(map[string]string{"email": email, "password": password})
	if st := in.api("POST", "/api/v1/auth/login", "", string(body), &pair); st != http.StatusOK {
		in.t.Fatalf("API login: %d", st)
	}
	return pair.AccessToken
}

// chromium finds the browser the tests drive, or skips the test.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("QUIRE_TEST_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("QUIRE_REQUIRE_CHROMIUM") != "" {
		t.Fatal("QUIRE_REQUIRE_CHROMIUM is set but no chromium was found")
	}
	t.Skip("browser tests skipped: no chromium found (apt-get install chromium, or set QUIRE_TEST_CHROMIUM)")
	return ""
}

// browser is one headless Chromium with a fresh profile, driven by chromedp.
type browser struct {
	t    *testing.T
	ctx  context.Context
	base string
	// dialogs counts the dialogs the pages opened, by type (confirm,
	// beforeunload, ...); each was accepted.
	mu      sync.Mutex
	dialogs map[string]int
}

func (b *browser) dialogCount(typ string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.dialogs[typ]
}

// actionTimeout bounds each step; two shared cores make a cold browser slow.
const actionTimeout = 45 * time.Second

func newBrowser(t *testing.T, in *instance) *browser {
	t.Helper()
	path := chromium(t)
	dir, err := os.MkdirTemp("", "quire-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.Flag("password-store", "basic"),
		chromedp.UserDataDir(dir), chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
		for range 50 { // the browser's children may still write for a moment
			if os.RemoveAll(dir) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	b := &browser{t: t, ctx: ctx, base: in.base, dialogs: map[string]int{}}
	// Confirmation dialogs are accepted, as a user who means it would.
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.dialogs[string(ev.Type)]++
			b.mu.Unlock()
			_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()
	// Every page records Content-Security-Policy violations, so a test can
	// show that no screen needs anything the policy forbids.
	b.do(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
			Source: `window.__csp = []; document.addEventListener("securitypolicyviolation", e => window.__csp.push(e.violatedDirective + " " + e.blockedURI));`})
		return err
	}))
	return b
}

func (b *browser) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, actionTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("browser: %v", err)
	}
}

func run[T any](b *browser, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, actionTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatalf("browser: %v", err)
	}
	return v
}

// open navigates to an admin path and waits for the page.
func (b *browser) open(path string) {
	b.t.Helper()
	b.do(chromedp.Navigate(b.base+path), chromedp.WaitReady(chromedp.CSS("body")))
}

func (b *browser) path() string {
	b.t.Helper()
	loc := run(b, chromedp.Location())
	return strings.TrimPrefix(loc, b.base)
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	return run(b, chromedp.Text(chromedp.CSS(sel)))
}

func (b *browser) has(sel string) bool {
	b.t.Helper()
	return run(b, chromedp.Evaluate[bool](`document.querySelector(`+jsString(sel)+`) !== null`))
}

// submit clicks a button and waits until the page it leads to has loaded.
func (b *browser) submit(sel string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, actionTimeout)
	defer cancel()
	loaded := chromedp.Events(ctx, page.LoadEventFired)
	b.do(chromedp.Click(chromedp.CSS(sel)))
	for _, err := range loaded {
		if err != nil {
			b.t.Fatalf("waiting for the page after clicking %s: %v", sel, err)
		}
		break
	}
}

func (b *browser) signIn(email, password string) {
	b.t.Helper()
	b.open("/admin/login")
	b.do(chromedp.SendKeys(chromedp.ID("email"), email), chromedp.SendKeys(chromedp.ID("password"), password))
	b.submit(`form[action="/admin/login"] button[type=submit]`)
}

// cspViolations returns what the current page's policy blocked.
func (b *browser) cspViolations() []string {
	b.t.Helper()
	return run(b, chromedp.Evaluate[[]string](`window.__csp || []`))
}

// screenshot saves the viewport as name.png in QUIRE_ADMIN_SCREENSHOTS
// (or a temp directory), for docs/admin and for looking at failures.
func (b *browser) screenshot(name string) {
	b.t.Helper()
	dir := os.Getenv("QUIRE_ADMIN_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "quire-admin-screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	png := run(b, chromedp.CaptureScreenshot())
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
