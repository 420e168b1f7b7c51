package httpapi_test

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/httpapi"
	"github.com/quirecms/quire/internal/store"
	"github.com/quirecms/quire/internal/testdb"
)

var storeFilterAll = store.AuditFilter{Limit: 100000}

// caller is one row of the permission matrix.
type caller struct {
	name    string
	role    quire.Role // "" for anonymous
	token   bool       // an API token rather than a login
	session bool
	scopes  []quire.Scope // of a token; nil for quire.RoleScopes(role)
}

// callers: each role with a login session, and API tokens per role (with
// the scopes of their role) and per scope (admin role, one scope each, so
// only the scope limits them; and an author with a read-only scope).
var callers = []caller{
	{name: "anonymous"},
	{name: "viewer", role: quire.RoleViewer, session: true},
	{name: "author", role: quire.RoleAuthor, session: true},
	{name: "editor", role: quire.RoleEditor, session: true},
	{name: "admin", role: quire.RoleAdmin, session: true},
	{name: "api-token-viewer", role: quire.RoleViewer, token: true},
	{name: "api-token-author", role: quire.RoleAuthor, token: true},
	{name: "api-token-editor", role: quire.RoleEditor, token: true},
	{name: "api-token-admin", role: quire.RoleAdmin, token: true},
	{name: "api-token-admin-content-read", role: quire.RoleAdmin, token: true, scopes: []quire.Scope{quire.ScopeContentRead}},
	{name: "api-token-admin-content-write", role: quire.RoleAdmin, token: true, scopes: []quire.Scope{quire.ScopeContentWrite}},
	{name: "api-token-admin-media", role: quire.RoleAdmin, token: true, scopes: []quire.Scope{quire.ScopeMedia}},
	{name: "api-token-admin-settings", role: quire.RoleAdmin, token: true, scopes: []quire.Scope{quire.ScopeSettings}},
	{name: "api-token-author-content-read", role: quire.RoleAuthor, token: true, scopes: []quire.Scope{quire.ScopeContentRead}},
}

// principal is the caller as the server sees it.
func (c caller) principal() *quire.Principal {
	p := &quire.Principal{Role: c.role, SessionID: "s"}
	if c.token {
		p.SessionID, p.TokenID, p.Scopes = "", "t", c.scopes
		if c.scopes == nil {
			p.Scopes = quire.RoleScopes(c.role)
		}
	}
	return p
}

// expectation derives, from the route table alone, what each caller must
// get: so a new route is covered the moment it is added.
func expectation(rt httpapi.Route, c caller) (denied int) {
	switch {
	case rt.MinRole == httpapi.Public:
		return 0
	case c.role == "":
		return http.StatusUnauthorized
	case !c.principal().Can(rt.MinRole):
		return http.StatusForbidden
	case rt.SessionOnly && c.token:
		return http.StatusForbidden
	case rt.Scope != httpapi.AnyScope && !c.principal().Allows(rt.Scope):
		return http.StatusForbidden
	}
	return 0
}

func TestPermissionMatrix(t *testing.T) {
	testdb.Each(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, nil)
		// One user per role, logged in afresh for every case, because some
		// routes (logout-all, password) end the caller's earlier tokens.
		emails := map[quire.Role]string{quire.RoleAdmin: adminEmail}
		for _, role := range []quire.Role{quire.RoleViewer, quire.RoleAuthor, quire.RoleEditor} {
			u, _ := e.newUser(role)
			emails[role] = u.Email
		}
		for _, rt := range e.srv.API.Routes() {
			// A public route answers every caller the same: credentials
			// neither help nor hurt (login with an empty body is a 4xx for all).
			publicStatus := 0
			for _, c := range callers {
				t.Run(fmt.Sprintf("%s %s as %s", rt.Method, rt.Path, c.name), func(t *testing.T) {
					token := ""
					switch {
					case c.token && c.scopes != nil:
						token = e.newScopedToken(c.role, c.scopes...)
					case c.token:
						token = e.newAPIToken(c.role)
					case c.role == quire.RoleAdmin:
						token = e.admin().AccessToken
					case c.role != "":
						token = e.login(emails[c.role], testPassword).AccessToken
					}
					path := strings.NewReplacer("{id}", store.NewID(), "{key}", "matrix.key", "{block_id}", store.NewID(),
						"{rid}", store.NewID(), "{slug...}", "no-such-page", "{filename}", "x.png").Replace(rt.Path)
					var body any
					if rt.Request != "" {
						body = map[string]any{}
					}
					r := e.do(rt.Method, path, token, body)
					denied := expectation(rt, c)
					if rt.MinRole == httpapi.Public {
						if publicStatus == 0 {
							publicStatus = r.Status
						}
						if r.Status != publicStatus {
							t.Fatalf("public route answered %d, but %d to anonymous: %s", r.Status, publicStatus, r.Body)
						}
					}
					switch {
					case denied != 0 && r.Status != denied:
						t.Fatalf("got %d, want %d: %s", r.Status, denied, r.Body)
					case denied == 0 && rt.MinRole != httpapi.Public && (r.Status == http.StatusUnauthorized || r.Status == http.StatusForbidden):
						t.Fatalf("allowed caller refused with %d: %s", r.Status, r.Body)
					case r.Status >= 500:
						t.Fatalf("server error %d: %s", r.Status, r.Body)
					}
				})
			}
		}
	})
}

// Every route the mux serves is in the OpenAPI document, and every
// documented operation exists, checked against the served document.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	e := newEnv(t, testdb.SQLite(t), nil)
	var doc struct {
		OpenAPI string                               `json:"openapi"`
		Paths   map[string]map[string]map[string]any `json:"paths"`
	}
	e.do("GET", "/api/v1/openapi.json", "", nil).want(t, 200).json(t, &doc)
	if doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi = %q", doc.OpenAPI)
	}
	n := 0
	for _, rt := range e.srv.API.Routes() {
		op, ok := doc.Paths[httpapi.OpenAPIPath(rt.Path)][strings.ToLower(rt.Method)]
		if !ok {
			t.Errorf("%s %s is served but missing from the OpenAPI document", rt.Method, rt.Path)
			continue
		}
		if op["summary"] == "" || op["responses"] == nil {
			t.Errorf("%s %s has no summary or responses", rt.Method, rt.Path)
		}
		n++
	}
	for path, ops := range doc.Paths {
		for method := range ops {
			r := e.do(strings.ToUpper(method), regexp.MustCompile(`\{[a-z_]+\}`).ReplaceAllString(path, "x"), "", nil)
			if r.Status == http.StatusNotFound && strings.Contains(string(r.Body), "no such route") || r.Status == http.StatusMethodNotAllowed {
				t.Errorf("documented %s %s is not served", method, path)
			}
		}
	}
	if n < 20 {
		t.Fatalf("only %d routes checked", n)
	}
}

// Managing users and API tokens needs a login session: the route table
// says so for every such route (the services enforce it; see
// TestAPITokensCannotManageAccounts), and every other authenticated route
// names the scope a token needs.
func TestRouteTableDeclaresSessionsAndScopes(t *testing.T) {
	e := newEnv(t, testdb.SQLite(t), nil)
	for _, rt := range e.srv.API.Routes() {
		if (rt.Tag == "users" || rt.Tag == "api-tokens") && !rt.SessionOnly {
			t.Errorf("%s %s manages accounts but is not SessionOnly", rt.Method, rt.Path)
		}
		if rt.MinRole != httpapi.Public && !rt.SessionOnly && !slices.Contains(append(quire.Scopes, httpapi.AnyScope), rt.Scope) {
			t.Errorf("%s %s declares no valid scope (%q)", rt.Method, rt.Path, rt.Scope)
		}
	}
}
