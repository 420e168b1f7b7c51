package httpapi_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"hash"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/auth"
	"github.com/quirecms/quire/internal/config"
)

const newPassword = "a brand new passphrase"

// Token scenarios share one instance per database; each makes its own users.
func TestTokenScenarios(t *testing.T) {
	t.Parallel()
	scenarios := []struct {
		name string
		run  func(t *testing.T, e *env)
	}{
		{"login then me", func(t *testing.T, e *env) {
			u, s := e.newUser(quire.RoleEditor)
			if s.TokenType != "Bearer" || s.ExpiresIn != 900 || !strings.HasPrefix(s.RefreshToken, "qrt_") || s.User == nil || s.User.ID != u.ID {
				t.Fatalf("token pair = %+v", s)
			}
			r := e.me(s.AccessToken).want(t, 200)
			var me quire.User
			r.json(t, &me)
			if me.ID != u.ID || me.Role != quire.RoleEditor || me.Email != u.Email {
				t.Fatalf("me = %+v, want %+v", me, u)
			}
			if r.Header.Get("ETag") != `"v1"` {
				t.Fatalf("ETag = %q", r.Header.Get("ETag"))
			}
			// The scheme is case-insensitive (RFC 9110).
			e.do("GET", "/api/v1/auth/me", "", nil, "Authorization", "bearer "+s.AccessToken).want(t, 200)
			for _, h := range []string{"", "Basic dXNlcjpwYXNz", "Bearer", "Bearer ", s.AccessToken} {
				r := e.do("GET", "/api/v1/auth/me", "", nil, "Authorization", h)
				want401(t, r)
				if !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
					t.Fatalf("Authorization %q: WWW-Authenticate = %q", h, r.Header.Get("WWW-Authenticate"))
				}
			}
		}},
		{"refresh rotates the pair", func(t *testing.T, e *env) {
			_, s := e.newUser(quire.RoleViewer)
			p1 := pair(t, e.refresh(s.RefreshToken))
			if p1.RefreshToken == s.RefreshToken || p1.AccessToken == s.AccessToken || !strings.HasPrefix(p1.RefreshToken, "qrt_") {
				t.Fatal("refresh did not return a new pair")
			}
			e.me(p1.AccessToken).want(t, 200)
			p2 := pair(t, e.refresh(p1.RefreshToken))
			e.me(p2.AccessToken).want(t, 200)
			want401(t, e.refresh(p1.RefreshToken)) // each refresh token works once
		}},
		{"reuse of a rotated refresh token revokes the session", func(t *testing.T, e *env) {
			u, s := e.newUser(quire.RoleAuthor)
			other := e.login(u.Email, testPassword)
			p1 := pair(t, e.refresh(s.RefreshToken))
			want401(t, e.refresh(s.RefreshToken)) // the stolen copy
			want401(t, e.refresh(p1.RefreshToken))
			want401(t, e.me(p1.AccessToken))
			want401(t, e.me(s.AccessToken))
			// Only that session ends.
			e.me(other.AccessToken).want(t, 200)
			pair(t, e.refresh(other.RefreshToken))
			found := false
			for _, en := range e.auditLog() {
				if en.Action == quire.ActionRefreshReuse && en.UserID == u.ID && en.ResourceType == "session" {
					found = true
				}
			}
			if !found {
				t.Fatalf("no %s entry for %s in %v", quire.ActionRefreshReuse, u.ID, e.auditActions())
			}
		}},
		{"logout ends the session of its refresh token", func(t *testing.T, e *env) {
			u, s := e.newUser(quire.RoleViewer)
			other := e.login(u.Email, testPassword)
			e.do("POST", "/api/v1/auth/logout", "", map[string]string{"refresh_token": s.RefreshToken}).want(t, 204)
			want401(t, e.refresh(s.RefreshToken))
			want401(t, e.me(s.AccessToken))
			e.me(other.AccessToken).want(t, 200)
			// Logging out again, or with a token that never existed, says nothing.
			for _, tok := range []string{s.RefreshToken, "qrt_doesnotexist", "garbage", other.AccessToken} {
				e.do("POST", "/api/v1/auth/logout", "", map[string]string{"refresh_token": tok}).want(t, 204)
			}
			e.me(other.AccessToken).want(t, 200)
		}},
		{"logout-all ends every earlier token", func(t *testing.T, e *env) {
			u, s1 := e.newUser(quire.RoleEditor)
			s2 := e.login(u.Email, testPassword)
			s3 := pair(t, e.refresh(s2.RefreshToken))
			e.do("POST", "/api/v1/auth/logout-all", s1.AccessToken, nil).want(t, 204)
			for i, tok := range []string{s1.AccessToken, s2.AccessToken, s3.AccessToken} {
				if r := e.me(tok); r.Status != 401 {
					t.Fatalf("access token %d still works: %d", i, r.Status)
				}
			}
			for i, tok := range []string{s1.RefreshToken, s3.RefreshToken} {
				if r := e.refresh(tok); r.Status != 401 {
					t.Fatalf("refresh token %d still works: %d", i, r.Status)
				}
			}
			fresh := e.login(u.Email, testPassword)
			e.me(fresh.AccessToken).want(t, 200)
			pair(t, e.refresh(fresh.RefreshToken))
		}},
		{"password change", func(t *testing.T, e *env) {
			u, s1 := e.newUser(quire.RoleAuthor)
			s2 := e.login(u.Email, testPassword)
			change := func(token, current, next string) *resp {
				return e.do("POST", "/api/v1/auth/password", token, map[string]string{"current_password": current, "new_password": next})
			}
			wantProblem(t, change(s1.AccessToken, "not the password", newPassword), 422, "current_password")
			wantProblem(t, change(s1.AccessToken, testPassword, "short"), 422, "new_password")
			e.login(u.Email, testPassword) // unchanged so far
			p := pair(t, change(s1.AccessToken, testPassword, newPassword))
			e.me(p.AccessToken).want(t, 200)
			want401(t, e.me(s2.AccessToken))
			want401(t, e.refresh(s2.RefreshToken))
			want401(t, e.me(s1.AccessToken))
			want401(t, e.refresh(s1.RefreshToken))
			p2 := pair(t, e.refresh(p.RefreshToken))
			e.me(p2.AccessToken).want(t, 200)
			want401(t, e.loginResp(u.Email, testPassword))
			e.login(u.Email, newPassword)
		}},
		{"role change takes effect on the next request", func(t *testing.T, e *env) {
			adm := e.admin().AccessToken
			u, s := e.newUser(quire.RoleEditor)
			e.patchUser(adm, u.ID, map[string]any{"role": "viewer"}).want(t, 200)
			want401(t, e.me(s.AccessToken))
			want401(t, e.refresh(s.RefreshToken))
			s2 := e.login(u.Email, testPassword)
			var me quire.User
			e.me(s2.AccessToken).want(t, 200).json(t, &me)
			if me.Role != quire.RoleViewer {
				t.Fatalf("role = %s", me.Role)
			}
			wantProblem(t, e.do("GET", "/api/v1/users", s2.AccessToken, nil), 403, "")

			// An admin demoted to editor loses the admin routes at once.
			a2, as := e.newUser(quire.RoleAdmin)
			e.do("GET", "/api/v1/users", as.AccessToken, nil).want(t, 200)
			e.patchUser(adm, a2.ID, map[string]any{"role": "editor"}).want(t, 200)
			want401(t, e.do("GET", "/api/v1/users", as.AccessToken, nil))
			as2 := e.login(a2.Email, testPassword)
			wantProblem(t, e.do("GET", "/api/v1/users", as2.AccessToken, nil), 403, "")

			// And a promotion needs a new login to be used.
			e.patchUser(adm, a2.ID, map[string]any{"role": "admin"}).want(t, 200)
			want401(t, e.do("GET", "/api/v1/users", as2.AccessToken, nil))
			e.do("GET", "/api/v1/users", e.login(a2.Email, testPassword).AccessToken, nil).want(t, 200)
		}},
		{"deactivation", func(t *testing.T, e *env) {
			adm := e.admin().AccessToken
			u, s := e.newUser(quire.RoleAuthor)
			e.patchUser(adm, u.ID, map[string]any{"active": false}).want(t, 200)
			want401(t, e.me(s.AccessToken))
			want401(t, e.refresh(s.RefreshToken))
			want401(t, e.loginResp(u.Email, testPassword))
			e.patchUser(adm, u.ID, map[string]any{"active": true}).want(t, 200)
			e.me(e.login(u.Email, testPassword).AccessToken).want(t, 200)
		}},
		{"expired access token", func(t *testing.T, e *env) {
			u, s := e.newUser(quire.RoleViewer)
			sid, _ := jwtPart(t, strings.Split(s.AccessToken, ".")[1])["sid"].(string)
			if sid == "" {
				t.Fatal("access token has no sid")
			}
			// Move last_token_issue back, so that only expiry can refuse the
			// tokens minted below.
			e.tamper(`UPDATE users SET last_token_issue = ? WHERE id = ?`, e.dbTime(time.Now().Add(-48*time.Hour)), u.ID)
			mint := func(at time.Time) string {
				iss, err := auth.NewIssuer([]byte(jwtSecret), "quire", "quire-api", 15*time.Minute, func() time.Time { return at })
				if err != nil {
					t.Fatal(err)
				}
				tok, _, err := iss.Issue(u.ID, sid)
				if err != nil {
					t.Fatal(err)
				}
				return tok
			}
			for _, c := range []struct {
				name   string
				issued time.Duration
				status int
			}{
				{"issued a minute ago (control)", -time.Minute, 200},
				{"expired an hour ago", -75 * time.Minute, 401},
				{"expired 10s ago, beyond the leeway", -(15*time.Minute + 10*time.Second), 401},
				{"issued in the future", time.Hour, 401},
			} {
				r := e.me(mint(time.Now().Add(c.issued)))
				if r.Status != c.status {
					t.Fatalf("%s: status %d, want %d: %s", c.name, r.Status, c.status, r.Body)
				}
			}
		}},
		{"tampered and forged access tokens", func(t *testing.T, e *env) {
			_, s := e.newUser(quire.RoleEditor)
			adminID := e.admin().User.ID
			parts := strings.Split(s.AccessToken, ".")
			if len(parts) != 3 {
				t.Fatalf("not a JWT: %q", s.AccessToken)
			}
			header, claims := jwtPart(t, parts[0]), jwtPart(t, parts[1])
			sign := func(h func() hash.Hash, key []byte, signingInput string) string {
				m := hmac.New(h, key)
				m.Write([]byte(signingInput))
				return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
			}
			with := func(m map[string]any, k string, v any) map[string]any {
				c := map[string]any{}
				for kk, vv := range m {
					c[kk] = vv
				}
				c[k] = v
				return c
			}
			newJTI := jwtSegment(t, with(claims, "jti", "another-id"))
			flipped := []byte(parts[1])
			i := len(flipped) / 2
			if flipped[i] == 'A' {
				flipped[i] = 'B'
			} else {
				flipped[i] = 'A'
			}
			noneHeader := jwtSegment(t, map[string]any{"alg": "none", "typ": "JWT"})
			hs512Header := jwtSegment(t, with(header, "alg", "HS512"))

			// Control: the test's signing is right, so the refusals below
			// are the server's checks and not a broken forgery.
			resigned := parts[0] + "." + newJTI
			e.me(resigned+"."+sign(sha256.New, []byte(jwtSecret), resigned)).want(t, 200)
			resign := func(c map[string]any) string {
				in := parts[0] + "." + jwtSegment(t, c)
				return in + "." + sign(sha256.New, []byte(jwtSecret), in)
			}
			e.me(resign(with(claims, "nbf", time.Now().Add(-time.Minute).Unix()))).want(t, 200)

			for _, c := range []struct{ name, token string }{
				{"payload character flipped", parts[0] + "." + string(flipped) + "." + parts[2]},
				{"claim changed, signature kept", parts[0] + "." + newJTI + "." + parts[2]},
				{"subject changed to the admin", parts[0] + "." + jwtSegment(t, with(claims, "sub", adminID)) + "." + parts[2]},
				{"alg none, no signature", noneHeader + "." + parts[1] + "."},
				{"alg none, original signature", noneHeader + "." + parts[1] + "." + parts[2]},
				{"alg None", jwtSegment(t, map[string]any{"alg": "None"}) + "." + parts[1] + "."},
				{"HS512 with the right key", hs512Header + "." + parts[1] + "." + sign(sha512.New, []byte(jwtSecret), hs512Header+"."+parts[1])},
				{"HS256 with another key", parts[0] + "." + parts[1] + "." + sign(sha256.New, bytes.Repeat([]byte("x"), 40), parts[0]+"."+parts[1])},
				{"signature removed", parts[0] + "." + parts[1] + "."},
				{"two segments", parts[0] + "." + parts[1]},
				{"wrong token type", parts[0] + "." + jwtSegment(t, with(claims, "typ", "refresh")) + "." + parts[2]},
				// RFC 8725: registered claims are validated strictly, each re-signed with the real key.
				{"nbf in the future", resign(with(claims, "nbf", time.Now().Add(time.Hour).Unix()))},
				{"exp as a string", resign(with(claims, "exp", strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)))},
				{"iat as a string", resign(with(claims, "iat", strconv.FormatInt(time.Now().Unix(), 10)))},
				{"exp missing", resign(with(claims, "exp", nil))},
				{"header typ JWT", jwtSegment(t, with(header, "typ", "JWT")) + "." + newJTI + "." + sign(sha256.New, []byte(jwtSecret), jwtSegment(t, with(header, "typ", "JWT"))+"."+newJTI)},
				{"refresh token used as access token", s.RefreshToken},
				{"garbage", "not-a-token"},
			} {
				r := e.me(c.token)
				if r.Status != 401 {
					t.Fatalf("%s: status %d, want 401: %s", c.name, r.Status, r.Body)
				}
				want401(t, r)
				if !strings.Contains(r.Header.Get("WWW-Authenticate"), "invalid_token") {
					t.Fatalf("%s: WWW-Authenticate = %q", c.name, r.Header.Get("WWW-Authenticate"))
				}
			}
			e.me(s.AccessToken).want(t, 200) // the genuine token still works
		}},
		{"refresh refuses anything but a refresh token", func(t *testing.T, e *env) {
			_, s := e.newUser(quire.RoleViewer)
			apiToken := e.newAPIToken(quire.RoleViewer)
			for _, tok := range []string{s.AccessToken, apiToken, "", "qrt_", "qrt_" + strings.Repeat("A", 43), s.RefreshToken + "x"} {
				want401(t, e.refresh(tok))
			}
			pair(t, e.refresh(s.RefreshToken)) // none of the above used it up
		}},
	}
	eachWith(t, withSecret, func(t *testing.T, e *env) {
		for _, sc := range scenarios {
			t.Run(sc.name, func(t *testing.T) { sc.run(t, e.with(t)) })
		}
	})
}

// An unknown email, a wrong password and a deactivated account get the
// same answer, byte for byte apart from the request id.
func TestLoginDoesNotEnumerateUsers(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		u, _ := e.newUser(quire.RoleViewer)
		off, _ := e.newUser(quire.RoleViewer)
		e.patchUser(e.admin().AccessToken, off.ID, map[string]any{"active": false}).want(t, 200)
		attempts := []struct{ name, email, password string }{
			{"unknown email", "nobody@example.com", testPassword},
			{"wrong password", u.Email, "not the right password"},
			{"deactivated account", off.Email, testPassword},
			{"unknown email, different case", "NOBODY@EXAMPLE.COM", "x"},
		}
		var first []byte
		for _, a := range attempts {
			r := e.loginResp(a.email, a.password)
			p := wantProblem(t, r, 401, "")
			body := bytes.Replace(r.Body, []byte(p.RequestID), nil, 1)
			if first == nil {
				first = body
				continue
			}
			if !bytes.Equal(body, first) {
				t.Fatalf("%s: body differs:\n%s\n%s", a.name, body, first)
			}
		}
	})
}

func TestLoginThrottle(t *testing.T) {
	t.Parallel()
	type attempt struct {
		email, password string
		xff             string // X-Forwarded-For, if any
		status          int
	}
	wrong := "a wrong password"
	cases := []struct {
		name     string
		tweak    func(*config.Config)
		attempts []attempt
		lastIP   string // the address the last audit entry records, if checked
	}{
		{"per account: the 4th attempt is refused even with the right password",
			func(c *config.Config) { c.LoginFailures = 3 },
			[]attempt{
				{adminEmail, wrong, "", 401}, {adminEmail, wrong, "", 401}, {adminEmail, wrong, "", 401},
				{adminEmail, adminPassword, "", 429},
				{"ADMIN@example.com", adminPassword, "", 429}, // same account, other spelling
				{"someone@example.com", wrong, "", 401},       // other accounts are not affected
			}, ""},
		{"per address, across accounts",
			func(c *config.Config) { c.LoginIPFailures = 3 },
			[]attempt{
				{"a@example.com", wrong, "", 401}, {"b@example.com", wrong, "", 401}, {"c@example.com", wrong, "", 401},
				{adminEmail, adminPassword, "", 429},
			}, ""},
		{"a forged X-Forwarded-For does not escape the address limit",
			func(c *config.Config) { c.LoginIPFailures = 3 },
			[]attempt{
				{"a@example.com", wrong, "198.51.100.1", 401}, {"b@example.com", wrong, "198.51.100.2", 401},
				{"c@example.com", wrong, "198.51.100.3", 401},
				{adminEmail, adminPassword, "198.51.100.4", 429},
			}, ""},
		{"behind a trusted proxy the forwarded client is throttled, not the proxy",
			func(c *config.Config) { c.LoginIPFailures = 3; c.TrustedProxies = "192.0.2.1" },
			[]attempt{
				{"a@example.com", wrong, "198.51.100.7", 401}, {"b@example.com", wrong, "198.51.100.7", 401},
				{"c@example.com", wrong, "198.51.100.7", 401},
				{adminEmail, adminPassword, "198.51.100.7", 429},
				{adminEmail, adminPassword, "198.51.100.8", 200},
			}, "198.51.100.8"},
		{"behind a trusted proxy, addresses a client prepends are ignored",
			func(c *config.Config) { c.LoginIPFailures = 3; c.TrustedProxies = "192.0.2.1" },
			[]attempt{
				{"a@example.com", wrong, "203.0.113.1, 198.51.100.7", 401}, {"b@example.com", wrong, "203.0.113.2, 198.51.100.7", 401},
				{"c@example.com", wrong, "203.0.113.3, 198.51.100.7", 401},
				{adminEmail, adminPassword, "203.0.113.4, 198.51.100.7", 429},
			}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			eachWith(t, c.tweak, func(t *testing.T, e *env) {
				for i, a := range c.attempts {
					var h []string
					if a.xff != "" {
						h = []string{"X-Forwarded-For", a.xff}
					}
					r := e.loginResp(a.email, a.password, h...)
					if r.Status != a.status {
						t.Fatalf("attempt %d (%s): status %d, want %d: %s", i+1, a.email, r.Status, a.status, r.Body)
					}
					if a.status == 429 {
						wantProblem(t, r, 429, "")
						if n, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || n <= 0 {
							t.Fatalf("Retry-After = %q", r.Header.Get("Retry-After"))
						}
					}
				}
				if c.lastIP != "" {
					// The audit log records the forwarded client too.
					log := e.auditLog()
					if last := log[len(log)-1]; last.Action != quire.ActionLogin || last.IP != c.lastIP {
						t.Fatalf("last entry %s from %q, want %s from %q", last.Action, last.IP, quire.ActionLogin, c.lastIP)
					}
				}
			})
		})
	}
}

// A throttled login writes no audit entry (an attacker cannot flood the log
// through a locked account).
func TestThrottledLoginIsNotAudited(t *testing.T) {
	t.Parallel()
	eachWith(t, func(c *config.Config) { c.LoginFailures = 1 }, func(t *testing.T, e *env) {
		want401(t, e.loginResp(adminEmail, "wrong password!"))
		before := e.auditActions()
		wantProblem(t, e.loginResp(adminEmail, adminPassword), 429, "")
		if after := e.auditActions(); !slices.Equal(before, after) {
			t.Fatalf("throttled login was audited: %v", after[len(before):])
		}
	})
}

// Two requests racing with one refresh token: one wins, the loser counts
// as reuse and ends the session, the winner's new pair included.
func TestConcurrentRefreshWithOneToken(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		for round := range 3 {
			_, s := e.newUser(quire.RoleViewer)
			results := make([]*resp, 2)
			var wg sync.WaitGroup
			for i := range results {
				wg.Add(1)
				go func() { defer wg.Done(); results[i] = e.refresh(s.RefreshToken) }()
			}
			wg.Wait()
			var winner *resp
			for _, r := range results {
				switch r.Status {
				case 200:
					if winner != nil {
						t.Fatalf("round %d: one refresh token was exchanged twice", round)
					}
					winner = r
				case 401:
				default:
					t.Fatalf("round %d: status %d: %s", round, r.Status, r.Body)
				}
			}
			if winner == nil {
				t.Fatalf("round %d: neither refresh succeeded", round)
			}
			p := pair(t, winner)
			want401(t, e.refresh(p.RefreshToken))
			want401(t, e.me(p.AccessToken))
		}
	})
}
