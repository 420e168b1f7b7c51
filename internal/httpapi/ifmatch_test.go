package httpapi_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/quirecms/quire/internal/config"
	"github.com/quirecms/quire/internal/testdb"
)

// ifMatchWrite is one write that QUIRE_REQUIRE_IF_MATCH covers.
type ifMatchWrite struct {
	method, pattern string // the route, as in the route table
	path            string
	body            any
	ok              int // the status with If-Match
}

// ifMatchWrites lists one request for each route that requires If-Match,
// against a page with one block and a published revision.
func (e *env) ifMatchWrites(token string) (pageID string, writes []ifMatchWrite) {
	e.t.Helper()
	p := e.createPage(token, "conditional", "Conditional", blk("paragraph", map[string]any{"text": "one"}))
	rev := e.publishPageIfMatch(token, p.ID, p.Version)
	base := "/api/v1/pages/" + p.ID
	block := base + "/blocks/" + p.Blocks[0].ID
	para := blk("paragraph", map[string]any{"text": "two"})
	return p.ID, []ifMatchWrite{
		{"PATCH", "/api/v1/pages/{id}", base, map[string]any{"title": "Changed"}, 200},
		{"POST", "/api/v1/pages/{id}/blocks", base + "/blocks", para, 201},
		{"PATCH", "/api/v1/pages/{id}/blocks/{block_id}", block, map[string]any{"content": map[string]any{"text": "three"}}, 200},
		{"PUT", "/api/v1/pages/{id}/blocks", base + "/blocks", map[string]any{"blocks": []any{para}}, 200},
		{"POST", "/api/v1/pages/{id}/publish", base + "/publish", nil, 200},
		{"POST", "/api/v1/pages/{id}/revisions/{rid}/restore", base + "/revisions/" + rev.ID + "/restore", nil, 200},
		{"POST", "/api/v1/pages/{id}/unpublish", base + "/unpublish", nil, 200},
		{"POST", "/api/v1/pages/{id}/schedule", base + "/schedule", map[string]any{"publish_at": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}, 200},
		{"DELETE", "/api/v1/pages/{id}/schedule", base + "/schedule", nil, 204},
		// The block is gone after PUT replaced the list: delete the new one.
		{"DELETE", "/api/v1/pages/{id}/blocks/{block_id}", "", nil, 200},
		{"DELETE", "/api/v1/pages/{id}", base, nil, 204},
	}
}

func (e *env) publishPageIfMatch(token, id string, version int64) struct{ ID string } {
	e.t.Helper()
	var rev struct{ ID string }
	e.do("POST", "/api/v1/pages/"+id+"/publish", token, nil, ifMatch(version)...).want(e.t, 200).json(e.t, &rev)
	return rev
}

// Writes to pages, blocks and revisions without If-Match answer 428 and
// change nothing; with it they go through. The list is checked against
// the route table, so that a route marked RequireIfMatch cannot go
// untested.
func TestIfMatchRequired(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		admin := e.admin().AccessToken
		id, writes := e.ifMatchWrites(admin)
		var marked, tested []string
		for _, rt := range e.srv.API.Routes() {
			if rt.RequireIfMatch {
				marked = append(marked, rt.Method+" "+rt.Path)
			}
		}
		for _, w := range writes {
			tested = append(tested, w.method+" "+w.pattern)
			before := e.getPage(admin, id)
			path := w.path
			if path == "" {
				path = "/api/v1/pages/" + id + "/blocks/" + before.Blocks[0].ID
			}
			r := e.do(w.method, path, admin, w.body).want(t, http.StatusPreconditionRequired)
			if p := r.problem(t); !strings.Contains(p.Detail, "If-Match") {
				t.Errorf("%s %s: detail %q does not name If-Match", w.method, w.pattern, p.Detail)
			}
			if after := e.getPage(admin, id); after.Version != before.Version {
				t.Fatalf("%s %s without If-Match changed the page (version %d → %d)", w.method, w.pattern, before.Version, after.Version)
			}
			// Authentication comes first: no 428 for a stranger.
			e.do(w.method, path, "", w.body).want(t, http.StatusUnauthorized)
			e.do(w.method, path, admin, w.body, ifMatch(before.Version)...).want(t, w.ok)
		}
		slices.Sort(marked)
		slices.Sort(tested)
		if !slices.Equal(marked, tested) {
			t.Errorf("routes marked RequireIfMatch %v, tested %v", marked, tested)
		}
	})
}

// "If-Match: *" is a precondition the client chose: any version will do.
func TestIfMatchStarOverwrites(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		admin := e.admin().AccessToken
		p := e.createPage(admin, "star", "Star")
		e.do("PATCH", "/api/v1/pages/"+p.ID, admin, map[string]any{"title": "Any"}, "If-Match", "*").want(t, 200)
	})
}

// With QUIRE_REQUIRE_IF_MATCH=false a write without If-Match wins, as before.
func TestIfMatchOptionalWhenConfigured(t *testing.T) {
	eachWith(t, func(c *config.Config) { c.RequireIfMatch = false }, func(t *testing.T, e *env) {
		admin := e.admin().AccessToken
		p := e.createPage(admin, "optional", "Optional")
		e.do("PATCH", "/api/v1/pages/"+p.ID, admin, map[string]any{"title": "Mine"}).want(t, 200)
		e.do("POST", "/api/v1/pages/"+p.ID+"/publish", admin, nil).want(t, 200)
	})
}

// The OpenAPI document says where If-Match is required (428) and where it
// is honoured, following the configuration.
func TestOpenAPIDocumentsIfMatch(t *testing.T) {
	type param struct {
		Name     string `json:"name"`
		In       string `json:"in"`
		Required bool   `json:"required"`
	}
	type op struct {
		Parameters []param        `json:"parameters"`
		Responses  map[string]any `json:"responses"`
	}
	load := func(e *env) map[string]map[string]op {
		var doc struct {
			Paths map[string]map[string]op `json:"paths"`
		}
		e.do("GET", "/api/v1/openapi.json", "", nil).want(e.t, 200).json(e.t, &doc)
		return doc.Paths
	}
	ifMatchParam := func(o op) *param {
		for _, p := range o.Parameters {
			if p.Name == "If-Match" && p.In == "header" {
				return &p
			}
		}
		return nil
	}
	check := func(t *testing.T, required bool, tweak func(*config.Config)) {
		e := newEnv(t, testdb.SQLite(t), tweak)
		paths := load(e)
		for _, rt := range e.srv.API.Routes() {
			o := paths[strings.ReplaceAll(rt.Path, "...}", "}")][strings.ToLower(rt.Method)]
			p := ifMatchParam(o)
			_, has428 := o.Responses["428"]
			switch {
			case rt.RequireIfMatch:
				if p == nil || p.Required != required || has428 != required {
					t.Errorf("%s %s: If-Match %+v, 428 documented %v; want required=%v", rt.Method, rt.Path, p, has428, required)
				}
			case rt.Responses[412] != "":
				if p == nil || p.Required || has428 {
					t.Errorf("%s %s answers 412 but If-Match is documented as %+v (428: %v)", rt.Method, rt.Path, p, has428)
				}
			default:
				if p != nil {
					t.Errorf("%s %s does not honour If-Match but documents it", rt.Method, rt.Path)
				}
			}
		}
		// The routes the review found undocumented.
		for _, path := range []string{"/api/v1/pages/{id}/publish", "/api/v1/pages/{id}/unpublish", "/api/v1/pages/{id}/revisions/{rid}/restore", "/api/v1/pages/{id}/blocks", "/api/v1/media/{id}/restore"} {
			if ifMatchParam(paths[path]["post"]) == nil {
				t.Errorf("POST %s does not document If-Match", path)
			}
		}
	}
	t.Run("required", func(t *testing.T) { check(t, true, nil) })
	t.Run("optional", func(t *testing.T) { check(t, false, func(c *config.Config) { c.RequireIfMatch = false }) })
}
