package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/auth"
	"github.com/quirecms/quire/internal/config"
	"github.com/quirecms/quire/internal/httpapi"
	"github.com/quirecms/quire/internal/server"
	"github.com/quirecms/quire/internal/service"
	"github.com/quirecms/quire/internal/testdb"
)

const (
	adminEmail    = "admin@example.com"
	adminPassword = "admin password 123"
	testPassword  = "a long test password"
)

// env is one Quire instance on a fresh database, driven through the real
// router. Every response it sees is checked against the OpenAPI document.
type env struct {
	t      *testing.T
	srv    *server.Server
	cfg    config.Config
	schema *openAPIChecker
}

// each runs fn against a fresh instance on every database engine.
func each(t *testing.T, fn func(t *testing.T, e *env)) {
	testdb.Each(t, func(t *testing.T, dsn string) { fn(t, newEnv(t, dsn, nil)) })
}

func newEnv(t *testing.T, dsn string, tweak func(*config.Config)) *env {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.DatabaseURL = dsn
	cfg.AdminEmail, cfg.AdminPassword = adminEmail, adminPassword
	cfg.LoginFailures, cfg.LoginIPFailures = 1000, 1000
	// The race detector on a busy CI machine makes a 3 MiB page save take
	// seconds; the deadline's own tests (faults_test.go) set a short one.
	cfg.DBTimeout = 60 * time.Second
	if tweak != nil {
		tweak(&cfg)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := server.New(context.Background(), cfg, log, server.Options{Argon2: auth.FastArgon2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return &env{t: t, srv: srv, cfg: cfg, schema: newOpenAPIChecker(t, srv.API)}
}

// resp is a recorded response.
type resp struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r *resp) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

func (r *resp) problem(t *testing.T) httpapi.Problem {
	t.Helper()
	var p httpapi.Problem
	r.json(t, &p)
	return p
}

// do sends a request. body may be nil, a string (sent raw) or a value (sent as JSON).
func (e *env) do(method, path, token string, body any, headers ...string) *resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req := httptest.NewRequest(method, path, rd)
	req.RemoteAddr = "192.0.2.1:1234"
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	e.srv.API.ServeHTTP(rec, req)
	r := &resp{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
	e.schema.check(e.t, req, r)
	return r
}

// want fails the test unless r has status.
func (r *resp) want(t *testing.T, status int) *resp {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status = %d, want %d; body: %s", r.Status, status, r.Body)
	}
	return r
}

func (e *env) login(email, password string) service.TokenPair {
	e.t.Helper()
	var p service.TokenPair
	e.do("POST", "/api/v1/auth/login", "", map[string]string{"email": email, "password": password}).want(e.t, 200).json(e.t, &p)
	return p
}

func (e *env) admin() service.TokenPair { return e.login(adminEmail, adminPassword) }

var userSeq struct {
	sync.Mutex
	n int
}

// newUser creates a user with role through the API and returns it with a fresh login.
func (e *env) newUser(role quire.Role) (*quire.User, service.TokenPair) {
	e.t.Helper()
	userSeq.Lock()
	userSeq.n++
	email := string(role) + strconv.Itoa(userSeq.n) + "@example.com"
	userSeq.Unlock()
	var u quire.User
	e.do("POST", "/api/v1/users", e.admin().AccessToken, map[string]any{"email": email, "password": testPassword, "role": role}).
		want(e.t, 201).json(e.t, &u)
	return &u, e.login(email, testPassword)
}

// newAPIToken creates an API token with role and the scopes that let it do
// all the role allows (made by the admin).
func (e *env) newAPIToken(role quire.Role) string {
	e.t.Helper()
	return e.newScopedToken(role, quire.RoleScopes(role)...)
}

// newScopedToken creates an API token with role and scopes (made by the admin).
func (e *env) newScopedToken(role quire.Role, scopes ...quire.Scope) string {
	e.t.Helper()
	var out struct {
		Token string `json:"token"`
	}
	e.do("POST", "/api/v1/api-tokens", e.admin().AccessToken, map[string]any{"name": "t " + string(role), "role": role, "scopes": scopes}).want(e.t, 201).json(e.t, &out)
	return out.Token
}

// auditActions returns the actions of the audit log, oldest first.
func (e *env) auditActions() []string {
	e.t.Helper()
	entries, err := e.srv.DB.Reader().AuditEntries(context.Background(), storeFilterAll)
	if err != nil {
		e.t.Fatal(err)
	}
	out := make([]string, len(entries))
	for i, en := range entries {
		out[len(entries)-1-i] = en.Action
	}
	return out
}

// openAPIChecker validates responses against the schemas the document
// declares for their route and status.
type openAPIChecker struct {
	api     *httpapi.API
	schemas map[string]*jsonschema.Schema
}

func newOpenAPIChecker(t *testing.T, api *httpapi.API) *openAPIChecker {
	t.Helper()
	raw, err := json.Marshal(api.Document())
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("file:///openapi.json", doc); err != nil {
		t.Fatal(err)
	}
	ch := &openAPIChecker{api: api, schemas: map[string]*jsonschema.Schema{}}
	for _, rt := range api.Routes() {
		for _, name := range rt.Responses {
			if name != "" && ch.schemas[name] == nil {
				s, err := c.Compile("file:///openapi.json#/components/schemas/" + name)
				if err != nil {
					t.Fatalf("compile schema %s: %v", name, err)
				}
				ch.schemas[name] = s
			}
		}
	}
	if ch.schemas["Problem"] == nil {
		s, err := c.Compile("file:///openapi.json#/components/schemas/Problem")
		if err != nil {
			t.Fatal(err)
		}
		ch.schemas["Problem"] = s
	}
	return ch
}

func (ch *openAPIChecker) check(t *testing.T, req *http.Request, r *resp) {
	t.Helper()
	method, path := req.Method, req.URL.Path
	var name string
	if rt, found := ch.api.RouteFor(req); found {
		var ok bool
		if name, ok = rt.Responses[r.Status]; !ok && r.Status >= 400 {
			name = "Problem"
		}
	} else if r.Status >= 400 {
		name = "Problem"
	}
	if name == "" || len(r.Body) == 0 {
		return
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(r.Body))
	if err != nil {
		t.Fatalf("%s %s → %d: body is not JSON: %v", method, path, r.Status, err)
	}
	if err := ch.schemas[name].Validate(v); err != nil {
		t.Fatalf("%s %s → %d: response does not match the OpenAPI schema %s: %v\nbody: %s", method, path, r.Status, name, err, r.Body)
	}
}
