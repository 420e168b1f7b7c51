package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/auth"
	"github.com/quirecms/quire/internal/config"
	"github.com/quirecms/quire/internal/mailtest"
	"github.com/quirecms/quire/internal/server"
	"github.com/quirecms/quire/internal/service"
	"github.com/quirecms/quire/internal/testdb"
)

// newMailEnv is an instance with its job queue running that mails through
// mp (nil: no SMTP configured).
func newMailEnv(t *testing.T, dsn string, mp *mailtest.Server) *env {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.DatabaseURL = dsn
	cfg.AdminEmail, cfg.AdminPassword = adminEmail, adminPassword
	cfg.LoginFailures, cfg.LoginIPFailures = 1000, 1000
	if mp != nil {
		cfg.SMTPURL, cfg.MailFrom, cfg.PublicURL = mp.URL(), "Quire <cms@example.com>", "https://cms.example.com"
	}
	var out io.Writer = io.Discard
	if os.Getenv("QUIRE_TEST_LOG") != "" {
		out = os.Stderr
	}
	srv, err := server.New(context.Background(), cfg, slog.New(slog.NewTextHandler(out, nil)), server.Options{Argon2: auth.FastArgon2,
		JobPollInterval: 50 * time.Millisecond, MailRetryBase: 50 * time.Millisecond, ForgotDuration: 150 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	e := &env{t: t, srv: srv, cfg: cfg, schema: newOpenAPIChecker(t, srv.API)}
	e.startJobs()
	return e
}

var resetLink = regexp.MustCompile(`https://cms\.example\.com/admin/password/reset\?token=(qpr_[A-Za-z0-9_-]{43})`)

func TestPasswordResetByMail(t *testing.T) {
	testdb.Each(t, func(t *testing.T, dsn string) {
		mp := mailtest.Start(t)
		e := newMailEnv(t, dsn, mp)
		admin := &quire.Principal{UserID: e.adminID(), Role: quire.RoleAdmin, SessionID: "test"}
		if _, _, err := e.srv.Settings.Put(context.Background(), admin, "site.name", 0, service.SettingInput{Value: json.RawMessage(`"Acme Docs"`)}); err != nil {
			t.Fatal(err)
		}
		u, old := e.newUser(quire.RoleEditor)

		start := time.Now()
		known := e.do("POST", "/api/v1/auth/password/forgot", "", map[string]string{"email": strings.ToUpper(u.Email)}).want(t, 202)
		tookKnown, start := time.Since(start), time.Now()
		unknown := e.do("POST", "/api/v1/auth/password/forgot", "", map[string]string{"email": "nobody@example.com"}).want(t, 202)
		// Both take at least the floor (150 ms here), whatever the work.
		if tookUnknown := time.Since(start); tookKnown < 150*time.Millisecond || tookUnknown < 150*time.Millisecond {
			t.Fatalf("answers took %v and %v, want both at least the 150 ms floor", tookKnown, tookUnknown)
		}
		if string(known.Body) != string(unknown.Body) || known.Header.Get("Content-Type") != unknown.Header.Get("Content-Type") {
			t.Fatalf("answers differ: %q %v / %q %v", known.Body, known.Header, unknown.Body, unknown.Header)
		}
		msgs := mp.WaitFor(t, u.Email, 1, 10*time.Second)
		m := msgs[0]
		if m.Subject != "Reset your Acme Docs password" || m.From.Address != "cms@example.com" {
			t.Fatalf("mail: subject %q from %q", m.Subject, m.From.Address)
		}
		match := resetLink.FindStringSubmatch(m.Text)
		if match == nil || !strings.Contains(m.HTML, match[0]) || !strings.Contains(m.HTML, "Acme Docs") {
			t.Fatalf("no reset link in text %q / html %q", m.Text, m.HTML)
		}
		token := match[1]
		time.Sleep(200 * time.Millisecond)
		if all := mp.Messages(t); len(all) != 1 {
			t.Fatalf("%d mails, want only the one to the account", len(all))
		}

		p := e.do("POST", "/api/v1/auth/password/reset", "", map[string]string{"token": token, "new_password": "short"}).want(t, 422).problem(t)
		if len(p.Errors) != 1 || p.Errors[0].Field != "new_password" {
			t.Fatalf("problem %+v", p)
		}
		e.do("POST", "/api/v1/auth/password/reset", "", map[string]string{"token": token, "new_password": "a brand new password"}).want(t, 204)
		// Every earlier session and token ended; the new password works, the old does not.
		e.do("GET", "/api/v1/auth/me", old.AccessToken, nil).want(t, 401)
		e.do("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": old.RefreshToken}).want(t, 401)
		e.do("POST", "/api/v1/auth/login", "", map[string]string{"email": u.Email, "password": testPassword}).want(t, 401)
		e.login(u.Email, "a brand new password")
		// The link works once.
		p = e.do("POST", "/api/v1/auth/password/reset", "", map[string]string{"token": token, "new_password": "another new password"}).want(t, 422).problem(t)
		if len(p.Errors) != 1 || p.Errors[0].Field != "token" {
			t.Fatalf("problem %+v", p)
		}
		actions := e.auditActions()
		for _, a := range []string{quire.ActionPasswordResetRequest, quire.ActionPasswordReset} {
			if !slices.Contains(actions, a) {
				t.Errorf("audit log lacks %s: %v", a, actions)
			}
		}
		for _, s := range []string{token, auth.HashSecret(token)} {
			if strings.Contains(string(e.auditJSON()), s) {
				t.Fatal("the audit log holds the reset token or its hash")
			}
		}
	})
}

func TestPasswordResetLinkExpiresAndIsEndedByAReset(t *testing.T) {
	testdb.Each(t, func(t *testing.T, dsn string) {
		e := newMailEnv(t, dsn, nil)
		u, _ := e.newUser(quire.RoleAuthor)
		adminTok := e.admin().AccessToken
		var first, second, third service.ResetLink
		e.do("POST", "/api/v1/users/"+u.ID+"/password-reset", adminTok, nil).want(t, 201).json(t, &first)
		e.do("POST", "/api/v1/users/"+u.ID+"/password-reset", adminTok, nil).want(t, 201).json(t, &second)
		e.do("POST", "/api/v1/users/"+u.ID+"/password-reset", adminTok, nil).want(t, 201).json(t, &third)
		if first.URL != "" || !strings.HasPrefix(first.Token, service.ResetPrefix) || time.Until(first.ExpiresAt) > time.Hour {
			t.Fatalf("link %+v", first)
		}
		// An expired link is refused.
		testdb.Tamper(t, e.cfg.DSN(), `UPDATE account_tokens SET expires_at = ? WHERE token_hash = ?`, "2001-01-01T00:00:00Z", auth.HashSecret(first.Token))
		e.do("POST", "/api/v1/auth/password/reset", "", map[string]string{"token": first.Token, "new_password": "a brand new password"}).want(t, 422)
		// Using one link ends the others.
		e.do("POST", "/api/v1/auth/password/reset", "", map[string]string{"token": second.Token, "new_password": "a brand new password"}).want(t, 204)
		e.do("POST", "/api/v1/auth/password/reset", "", map[string]string{"token": third.Token, "new_password": "yet another password"}).want(t, 422)
		e.login(u.Email, "a brand new password")
		if !slices.Contains(e.auditActions(), quire.ActionPasswordResetLink) {
			t.Fatal("making a link is not audited")
		}
		// Without SMTP, forgot still answers 202 and sends nothing.
		e.do("POST", "/api/v1/auth/password/forgot", "", map[string]string{"email": u.Email}).want(t, 202)
		e.do("POST", "/api/v1/auth/password/forgot", "", map[string]string{"email": "not an address"}).want(t, 422)
		e.do("POST", "/api/v1/users/nope/password-reset", adminTok, nil).want(t, 404)
	})
}

func TestPasswordResetThrottles(t *testing.T) {
	mp := mailtest.Start(t)
	e := newMailEnv(t, testdb.SQLite(t), mp)
	u, _ := e.newUser(quire.RoleViewer)
	for i := 0; i < 5; i++ {
		e.do("POST", "/api/v1/auth/password/forgot", "", map[string]string{"email": u.Email}).want(t, 202)
	}
	// Per address: three mails an hour, the rest answered alike but not sent.
	time.Sleep(time.Second)
	if got := len(mp.WaitFor(t, u.Email, 3, 10*time.Second)); got != 3 {
		t.Fatalf("%d mails, want 3", got)
	}
	// Per client: 20 requests an hour, then 429.
	status := 0
	for i := 0; i < 20 && status != 429; i++ {
		status = e.do("POST", "/api/v1/auth/password/forgot", "", map[string]string{"email": "x" + string(rune('a'+i)) + "@example.com"}).Status
	}
	if status != 429 {
		t.Fatalf("no 429 after 25 requests from one client")
	}
	// Guessing reset tokens is throttled per client too.
	status = 0
	for i := 0; i < 25 && status != 429; i++ {
		status = e.do("POST", "/api/v1/auth/password/reset", "", map[string]string{"token": "qpr_guess", "new_password": "a long enough password"}).Status
	}
	if status != 429 {
		t.Fatal("reset guesses are not throttled")
	}
}

// adminID is the id of the bootstrapped admin.
func (e *env) adminID() string {
	e.t.Helper()
	u, _, err := e.srv.DB.Reader().UserByEmail(context.Background(), adminEmail)
	if err != nil {
		e.t.Fatal(err)
	}
	return u.ID
}

// auditJSON is the whole audit log as JSON, to search for leaked secrets.
func (e *env) auditJSON() []byte {
	e.t.Helper()
	entries, err := e.srv.DB.Reader().AuditEntries(context.Background(), storeFilterAll)
	if err != nil {
		e.t.Fatal(err)
	}
	b, err := json.Marshal(entries)
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}
