package httpapi_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/config"
	"github.com/quirecms/quire/internal/httpapi"
	"github.com/quirecms/quire/internal/service"
	"github.com/quirecms/quire/internal/store"
	"github.com/quirecms/quire/internal/testdb"
)

// Helpers shared by the scenario tests (auth, users, tokens, bad input,
// audit, headers). The harness itself is in harness_test.go.

// jwtSecret is a configured signing key, so that tests can mint their own
// access tokens (expired, forged) with auth.NewIssuer.
const jwtSecret = "0123456789abcdef0123456789abcdef-40bytes"

func withSecret(c *config.Config) { c.JWTSecret = jwtSecret }

// eachWith is each with a configuration tweak.
func eachWith(t *testing.T, tweak func(*config.Config), fn func(t *testing.T, e *env)) {
	t.Helper()
	testdb.Each(t, func(t *testing.T, dsn string) { fn(t, newEnv(t, dsn, tweak)) })
}

// with returns e reporting to t, for subtests that share one instance.
func (e *env) with(t *testing.T) *env {
	c := *e
	c.t = t
	return &c
}

func (e *env) me(token string) *resp { return e.do("GET", "/api/v1/auth/me", token, nil) }

func (e *env) refresh(refreshToken string) *resp {
	return e.do("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": refreshToken})
}

func (e *env) loginResp(email, password string, headers ...string) *resp {
	return e.do("POST", "/api/v1/auth/login", "", map[string]string{"email": email, "password": password}, headers...)
}

func (e *env) patchUser(token, id string, body any, headers ...string) *resp {
	return e.do("PATCH", "/api/v1/users/"+id, token, body, headers...)
}

// getUser reads a user as the admin.
func (e *env) getUser(id string) quire.User {
	e.t.Helper()
	var u quire.User
	e.do("GET", "/api/v1/users/"+id, e.admin().AccessToken, nil).want(e.t, 200).json(e.t, &u)
	return u
}

// auditLog returns every audit entry, oldest first.
func (e *env) auditLog() []*quire.AuditEntry {
	e.t.Helper()
	entries, err := e.srv.DB.Reader().AuditEntries(context.Background(), storeFilterAll)
	if err != nil {
		e.t.Fatal(err)
	}
	out := make([]*quire.AuditEntry, len(entries))
	for i, en := range entries {
		out[len(entries)-1-i] = en
	}
	return out
}

// rowCounts is what "nothing was stored" compares.
type rowCounts struct{ users, audit int }

func (e *env) counts() rowCounts {
	e.t.Helper()
	n, err := e.srv.DB.Reader().CountUsers(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return rowCounts{users: n, audit: len(e.auditLog())}
}

// tamper runs SQL (with ? placeholders) straight against the test's
// database, around the audit log's append-only triggers.
func (e *env) tamper(query string, args ...any) {
	e.t.Helper()
	testdb.Tamper(e.t, e.cfg.DSN(), query, args...)
}

// dbTime is a timestamp as the store keeps it: fixed-width text on SQLite.
func (e *env) dbTime(t time.Time) any {
	if e.srv.DB.Dialect() == store.SQLite {
		return t.UTC().Format(quire.AuditTimeLayout)
	}
	return t.UTC()
}

// wantProblem checks that r is an RFC 9457 problem with status, carrying
// the request id of the response, and naming field in errors when field
// is not empty.
func wantProblem(t *testing.T, r *resp, status int, field string) httpapi.Problem {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status = %d, want %d; body: %s", r.Status, status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type = %q, want application/problem+json; body: %s", ct, r.Body)
	}
	p := r.problem(t)
	if p.Status != status || p.Title == "" || p.Detail == "" {
		t.Fatalf("incomplete problem: %s", r.Body)
	}
	if p.RequestID == "" || p.RequestID != r.Header.Get("X-Request-Id") {
		t.Fatalf("problem request_id %q, X-Request-Id header %q", p.RequestID, r.Header.Get("X-Request-Id"))
	}
	if field != "" {
		found := false
		for _, f := range p.Errors {
			if f.Field == field && f.Message != "" {
				found = true
			}
		}
		if !found {
			t.Fatalf("problem does not name field %q: %s", field, r.Body)
		}
	}
	return p
}

// want401 checks a refused credential.
func want401(t *testing.T, r *resp) {
	t.Helper()
	wantProblem(t, r, http.StatusUnauthorized, "")
}

// jwtPart decodes one base64url segment of a JWT into a map.
func jwtPart(t *testing.T, seg string) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		t.Fatalf("decode JWT segment: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("JWT segment is not JSON: %v", err)
	}
	return m
}

func jwtSegment(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// walk follows next_cursor with limit through a list and returns the ids in order.
func walk(t *testing.T, e *env, path, token string, limit int) []string {
	t.Helper()
	var ids []string
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 100 {
			t.Fatal("pagination does not end")
		}
		url := path + "?limit=" + strconv.Itoa(limit)
		if cursor != "" {
			url += "&cursor=" + cursor
		}
		var page struct {
			Data       []map[string]any `json:"data"`
			NextCursor *string          `json:"next_cursor"`
		}
		e.do("GET", url, token, nil).want(t, 200).json(t, &page)
		if len(page.Data) > limit {
			t.Fatalf("page of %d items with limit %d", len(page.Data), limit)
		}
		for _, it := range page.Data {
			ids = append(ids, it["id"].(string))
		}
		if page.NextCursor == nil {
			return ids
		}
		if len(page.Data) != limit {
			t.Fatalf("short page (%d) with a next cursor", len(page.Data))
		}
		cursor = *page.NextCursor
	}
}

// pair decodes a token pair.
func pair(t *testing.T, r *resp) service.TokenPair {
	t.Helper()
	var p service.TokenPair
	r.want(t, 200).json(t, &p)
	return p
}
