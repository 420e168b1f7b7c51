package httpapi_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/config"
)

// Bad input is a 4xx problem naming the field, and nothing is stored.
func TestBadInput(t *testing.T) {
	t.Parallel()
	const okUser = `"password":"a long test password","role":"viewer"`
	newUser := func(fields string) string { return "{" + fields + "}" }
	type tc struct {
		name    string
		as      string // "admin" or "self" (a viewer changing their own profile)
		method  string
		path    string // {target} is the viewer's id
		body    string
		headers []string
		status  int
		field   string
		detail  string // part of the message, when it matters
	}
	cases := []tc{
		// Unparsable bodies: 400.
		{name: "malformed JSON", method: "POST", path: "/users", body: `{"email": "a@example.com", ` + okUser, status: 400},
		{name: "not JSON at all", method: "POST", path: "/users", body: `email=a@example.com`, status: 400},
		{name: "empty body", method: "POST", path: "/users", body: ``, status: 400},
		{name: "whitespace body", method: "POST", path: "/users", body: " \n\t ", status: 400},
		{name: "null body", method: "POST", path: "/users", body: `null`, status: 400},
		{name: "null body on PATCH", method: "PATCH", path: "/users/{target}", body: `null`, status: 400},
		{name: "array body", method: "POST", path: "/users", body: `[{"email":"a@example.com",` + okUser + `}]`, status: 400},
		{name: "string body", method: "POST", path: "/users", body: `"a@example.com"`, status: 400},
		{name: "trailing garbage", method: "POST", path: "/users", body: newUser(`"email":"a@example.com",`+okUser) + ` x`, status: 400},
		{name: "trailing brace", method: "POST", path: "/users", body: newUser(`"email":"a@example.com",`+okUser) + `}`, status: 400},
		{name: "trailing bracket", method: "POST", path: "/users", body: newUser(`"email":"a@example.com",`+okUser) + `]`, status: 400},
		{name: "two objects", method: "POST", path: "/users", body: newUser(`"email":"a@example.com",`+okUser) + newUser(`"email":"b@example.com",`+okUser), status: 400},
		{name: "duplicate key", method: "POST", path: "/users", body: newUser(`"email":"a@example.com","email":"b@example.com",` + okUser), status: 400, field: "email"},
		{name: "duplicate key in another case", method: "POST", path: "/users", body: newUser(`"email":"a@example.com","EMAIL":"b@example.com",` + okUser), status: 400, field: "EMAIL"},
		{name: "duplicate role on PATCH", method: "PATCH", path: "/users/{target}", body: `{"role":"viewer","Role":"admin"}`, status: 400, field: "Role"},
		{name: "text/plain", method: "POST", path: "/users", body: newUser(`"email":"a@example.com",` + okUser), headers: []string{"Content-Type", "text/plain"}, status: 400},
		{name: "form content type", method: "POST", path: "/users", body: newUser(`"email":"a@example.com",` + okUser), headers: []string{"Content-Type", "application/x-www-form-urlencoded"}, status: 400},
		{name: "a JSON-like content type", method: "POST", path: "/users", body: newUser(`"email":"a@example.com",` + okUser), headers: []string{"Content-Type", "application/jsonp"}, status: 400},
		{name: "unparsable content type", method: "POST", path: "/users", body: newUser(`"email":"a@example.com",` + okUser), headers: []string{"Content-Type", "application/json/x"}, status: 400},
		{name: "deeply nested", method: "POST", path: "/users", body: `{"email":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`, status: 400},
		{name: "login, malformed", method: "POST", path: "/auth/login", body: `{"email":`, status: 400},

		// Wrong types and unknown fields: 422 naming the field.
		{name: "email is a number", method: "POST", path: "/users", body: newUser(`"email":5,` + okUser), status: 422, field: "email"},
		{name: "role is a number", method: "PATCH", path: "/users/{target}", body: `{"role":1}`, status: 422, field: "role"},
		{name: "active is a string", method: "PATCH", path: "/users/{target}", body: `{"active":"no"}`, status: 422, field: "active"},
		{name: "password is an object", method: "POST", path: "/users", body: `{"email":"a@example.com","password":{},"role":"viewer"}`, status: 422, field: "password"},
		{name: "login email is an array", method: "POST", path: "/auth/login", body: `{"email":["a@example.com"],"password":"x"}`, status: 422, field: "email"},
		{name: "unknown field on create", method: "POST", path: "/users", body: newUser(`"email":"a@example.com","is_admin":true,` + okUser), status: 422, field: "is_admin"},
		{name: "role rides along on a self-update", as: "self", method: "PATCH", path: "/auth/me", body: `{"display_name":"x","role":"admin"}`, status: 422, field: "role"},
		{name: "active rides along on a self-update", as: "self", method: "PATCH", path: "/auth/me", body: `{"display_name":"x","active":false}`, status: 422, field: "active"},
		{name: "self-update without display_name", as: "self", method: "PATCH", path: "/auth/me", body: `{}`, status: 422, field: "display_name"},
		{name: "self-update, name too long", as: "self", method: "PATCH", path: "/auth/me", body: `{"display_name":"` + strings.Repeat("n", 201) + `"}`, status: 422, field: "display_name"},
		{name: "hashed_password rides along", method: "PATCH", path: "/users/{target}", body: `{"hashed_password":"$argon2id$x"}`, status: 422, field: "hashed_password"},
		{name: "token expiry is not a time", method: "POST", path: "/api-tokens", body: `{"name":"x","role":"viewer","expires_at":"tomorrow"}`, status: 400, detail: "RFC 3339"},
		{name: "token name missing", method: "POST", path: "/api-tokens", body: `{"role":"viewer"}`, status: 422, field: "name"},
		{name: "token name multi-line", method: "POST", path: "/api-tokens", body: `{"name":"a\nb","role":"viewer"}`, status: 422, field: "name"},
		{name: "token role invalid", method: "POST", path: "/api-tokens", body: `{"name":"x","role":"root"}`, status: 422, field: "role"},

		// Values out of their rules: 422 naming the field.
		{name: "short password", method: "POST", path: "/users", body: `{"email":"a@example.com","password":"nine char","role":"viewer"}`, status: 422, field: "password"},
		{name: "long password", method: "POST", path: "/users", body: `{"email":"a@example.com","password":"` + strings.Repeat("p", 1025) + `","role":"viewer"}`, status: 422, field: "password"},
		{name: "short password on PATCH", method: "PATCH", path: "/users/{target}", body: `{"password":"short"}`, status: 422, field: "password"},
		{name: "missing password", method: "POST", path: "/users", body: `{"email":"a@example.com","role":"viewer"}`, status: 422, field: "password"},
		{name: "invalid role", method: "POST", path: "/users", body: `{"email":"a@example.com","password":"a long test password","role":"superuser"}`, status: 422, field: "role"},
		{name: "role in the wrong case", method: "POST", path: "/users", body: `{"email":"a@example.com","password":"a long test password","role":"Admin"}`, status: 422, field: "role"},
		{name: "missing role", method: "POST", path: "/users", body: `{"email":"a@example.com","password":"a long test password"}`, status: 422, field: "role"},
		{name: "invalid role on PATCH", method: "PATCH", path: "/users/{target}", body: `{"role":"owner"}`, status: 422, field: "role"},
		{name: "display name with a newline", method: "PATCH", path: "/users/{target}", body: `{"display_name":"a\nb"}`, status: 422, field: "display_name"},
		{name: "invalid email on PATCH", method: "PATCH", path: "/users/{target}", body: `{"email":"not-an-email"}`, status: 422, field: "email"},
		{name: "new password too short", as: "self", method: "POST", path: "/auth/password", body: `{"current_password":"a long test password","new_password":"short"}`, status: 422, field: "new_password"},
	}
	for _, email := range []string{
		"", "plainaddress", "@example.com", "a@", "a@example", "a b@example.com", "a@@example.com", "a@example.com,b@example.com",
		"Alice <a@example.com>", "a@exa mple.com", "a\x00@example.com", "<a@example.com>", strings.Repeat("a", 250) + "@example.com",
	} {
		b, _ := json.Marshal(map[string]string{"email": email, "password": testPassword, "role": "viewer"})
		cases = append(cases, tc{name: fmt.Sprintf("invalid email %q", email), method: "POST", path: "/users",
			body: string(b), status: 422, field: "email"})
	}

	each(t, func(t *testing.T, e *env) {
		adm := e.admin().AccessToken
		target, self := e.newUser(quire.RoleViewer)
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				e := e.with(t)
				token := adm
				if c.as == "self" {
					token = self.AccessToken
				}
				before := e.counts()
				r := e.do(c.method, "/api/v1"+strings.ReplaceAll(c.path, "{target}", target.ID), token, c.body, c.headers...)
				if p := wantProblem(t, r, c.status, c.field); !strings.Contains(p.Detail, c.detail) {
					t.Fatalf("detail %q does not say %q", p.Detail, c.detail)
				}
				if after := e.counts(); after != before {
					t.Fatalf("stored something: %+v → %+v", before, after)
				}
				var u quire.User
				e.me(self.AccessToken).want(t, 200).json(t, &u)
				if u.Role != quire.RoleViewer || !u.Active || u.Version != 1 || u.DisplayName != "" || u.Email != target.Email {
					t.Fatalf("the user changed: %+v", u)
				}
			})
		}
	})
}

// Bodies over QUIRE_MAX_BODY_BYTES are 413 and change nothing.
func TestOversizeBody(t *testing.T) {
	t.Parallel()
	eachWith(t, func(c *config.Config) { c.MaxBodyBytes = 256 }, func(t *testing.T, e *env) {
		adm := e.admin().AccessToken
		u, s := e.newUser(quire.RoleViewer)
		big := strings.Repeat("x", 300)
		for _, c := range []struct{ name, method, path, token, body string }{
			{"create user", "POST", "/api/v1/users", adm, `{"email":"a@example.com","password":"` + big + `","role":"viewer"}`},
			{"patch user", "PATCH", "/api/v1/users/" + u.ID, adm, `{"display_name":"` + big + `"}`},
			{"self-update", "PATCH", "/api/v1/auth/me", s.AccessToken, `{"display_name":"` + big + `"}`},
			{"login", "POST", "/api/v1/auth/login", "", `{"email":"` + adminEmail + `","password":"` + adminPassword + `","x":"` + big + `"}`},
			{"whitespace padding", "POST", "/api/v1/auth/logout", "", `{"refresh_token":"` + s.RefreshToken + `"}` + strings.Repeat(" ", 300)},
		} {
			t.Run(c.name, func(t *testing.T) {
				e := e.with(t)
				before := e.counts()
				wantProblem(t, e.do(c.method, c.path, c.token, c.body), 413, "")
				if after := e.counts(); after != before {
					t.Fatalf("stored something: %+v → %+v", before, after)
				}
			})
		}
		// Just under the limit is fine, and the session survived the padded logout.
		e.patchUser(adm, u.ID, map[string]any{"display_name": strings.Repeat("y", 150)}).want(t, 200)
		e.me(s.AccessToken).want(t, 200)
	})
}

// Media types are case-insensitive and may carry parameters.
func TestJSONContentTypeVariants(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		adm := e.admin().AccessToken
		for i, ct := range []string{"application/json", "application/json; charset=utf-8", "Application/JSON; Charset=UTF-8", "APPLICATION/JSON", "application/json;", "application/json; charset"} {
			body := fmt.Sprintf(`{"email":"ct%d@example.com","password":%q,"role":"viewer"}`, i, testPassword)
			e.do("POST", "/api/v1/users", adm, body, "Content-Type", ct).want(t, 201)
		}
	})
}

// Text PostgreSQL cannot hold (NUL, invalid UTF-8) in a path, a query or a
// cursor is a 4xx on both databases, never a 500.
func TestTextTheDatabaseCannotHold(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		adm := e.admin().AccessToken
		nul := base64.RawURLEncoding.EncodeToString([]byte("a\x00b"))
		badUTF8 := base64.RawURLEncoding.EncodeToString([]byte{0xff, 0xfe})
		for _, c := range []struct {
			method, path string
			body         any
			status       int
		}{
			{"GET", "/api/v1/users/a%00b", nil, 400},
			{"GET", "/api/v1/users/a%FFb", nil, 400},
			{"PATCH", "/api/v1/users/a%00b", map[string]string{"display_name": "x"}, 400},
			{"DELETE", "/api/v1/users/a%00b", nil, 400},
			{"DELETE", "/api/v1/api-tokens/a%C0b", nil, 400},
			{"GET", "/api/v1/users?cursor=a%00b", nil, 400},
			{"GET", "/api/v1/users?x%00=1", nil, 400},
			{"GET", "/api/v1/users?cursor=" + nul, nil, 422},
			{"GET", "/api/v1/users?cursor=" + badUTF8, nil, 422},
			{"GET", "/api/v1/api-tokens?cursor=" + nul, nil, 422},
			{"POST", "/api/v1/auth/login", map[string]string{"email": "a\x00@example.com", "password": "whatever it is"}, 401},
			{"POST", "/api/v1/auth/login", map[string]string{"email": adminEmail + "\x00", "password": adminPassword}, 401},
			{"PUT", "/api/v1/settings/nul", map[string]any{"value": "a\x00b"}, 422},
			{"PUT", "/api/v1/settings/nul", map[string]any{"value": map[string]any{"k\x00": 1}}, 422},
			{"PUT", "/api/v1/settings/nul", "{\"value\":[\"\xff\"]}", 400}, // a raw byte 0xff: not UTF-8
		} {
			before := e.counts()
			r := e.do(c.method, c.path, adm, c.body)
			wantProblem(t, r, c.status, "")
			if after := e.counts(); after != before {
				t.Fatalf("%s %s stored something", c.method, c.path)
			}
		}
		// An escaped backslash is ordinary text.
		e.do("PUT", "/api/v1/settings/not-nul", adm, `{"value":"\\u0000"}`).want(t, 201)
	})
}
