package httpapi_test

import (
	"fmt"
	"net/http"
	"regexp"
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
}

var callers = []caller{
	{name: "anonymous"},
	{name: "viewer", role: quire.RoleViewer, session: true},
	{name: "author", role: quire.RoleAuthor, session: true},
	{name: "editor", role: quire.RoleEditor, session: true},
	{name: "admin", role: quire.RoleAdmin, session: true},
	{name: "api-token-viewer", role: quire.RoleViewer, token: true},
	{name: "api-token-editor", role: quire.RoleEditor, token: true},
	{name: "api-token-admin", role: quire.RoleAdmin, token: true},
}

// expectation derives, from the route table alone, what each caller must
// get: so a new route is covered the moment it is added.
func expectation(rt httpapi.Route, c caller) (denied int) {
	switch {
	case rt.MinRole == httpapi.Public:
		return 0
	case c.role == "":
		return http.StatusUnauthorized
	case !(&quire.Principal{Role: c.role}).Can(rt.MinRole):
		return http.StatusForbidden
	case rt.SessionOnly && c.token:
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
