package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/quirecms/quire"
)

// The generic matrix (permissions_test.go) checks each route's least role.
// Pages add ownership and publishing state, which only a real page can
// show: authors edit their own pages only, never publish, and delete their
// own pages only while they were never published. Every case runs on a
// page made for it.

// pageActor is who calls: a login, an API token (acting for the admin who
// made it) or nobody.
type pageActor struct {
	name  string
	role  quire.Role
	token string
}

// pageAction is one route applied to a fixture page.
type pageAction struct {
	name   string
	kind   string // read, edit, publish or delete
	method string
	path   string // {id}, {block} and {rev} are the fixture's
	body   any
	ok     int
	state  string // the fixture before the call: draft, published or was-published
}

var pageActions = []pageAction{
	{name: "get page", kind: "read", method: "GET", path: "/pages/{id}", ok: 200},
	{name: "list blocks", kind: "read", method: "GET", path: "/pages/{id}/blocks", ok: 200},
	{name: "list revisions", kind: "read", method: "GET", path: "/pages/{id}/revisions", ok: 200},
	{name: "get revision", kind: "read", method: "GET", path: "/pages/{id}/revisions/{rev}", ok: 200},
	{name: "patch page", kind: "edit", method: "PATCH", path: "/pages/{id}", body: map[string]any{"title": "Changed"}, ok: 200},
	{name: "put blocks", kind: "edit", method: "PUT", path: "/pages/{id}/blocks", body: map[string]any{"blocks": []any{blk("divider", nil)}}, ok: 200},
	{name: "post block", kind: "edit", method: "POST", path: "/pages/{id}/blocks", body: blk("paragraph", map[string]any{"text": "added"}), ok: 201},
	{name: "patch block", kind: "edit", method: "PATCH", path: "/pages/{id}/blocks/{block}", body: map[string]any{"content": map[string]any{"text": "edited"}}, ok: 200},
	{name: "delete block", kind: "edit", method: "DELETE", path: "/pages/{id}/blocks/{block}", ok: 200},
	{name: "save draft", kind: "edit", method: "POST", path: "/pages/{id}/revisions", body: map[string]any{"note": "n"}, ok: 201},
	{name: "publish", kind: "publish", method: "POST", path: "/pages/{id}/publish", ok: 200},
	{name: "unpublish", kind: "publish", method: "POST", path: "/pages/{id}/unpublish", ok: 200, state: "published"},
	{name: "restore", kind: "publish", method: "POST", path: "/pages/{id}/revisions/{rev}/restore", ok: 200},
	{name: "delete never published", kind: "delete", method: "DELETE", path: "/pages/{id}", ok: 204},
	{name: "delete published", kind: "delete", method: "DELETE", path: "/pages/{id}", ok: 204, state: "published"},
	{name: "delete once published", kind: "delete", method: "DELETE", path: "/pages/{id}", ok: 204, state: "was-published"},
}

// pageExpectation is PRODUCT.md §3 for pages, written out.
func pageExpectation(a pageActor, own bool, act pageAction) int {
	if a.role == "" {
		return http.StatusUnauthorized
	}
	p := &quire.Principal{Role: a.role}
	switch act.kind {
	case "edit":
		if !p.Can(quire.RoleAuthor) || (!p.Can(quire.RoleEditor) && !own) {
			return http.StatusForbidden
		}
	case "publish":
		if !p.Can(quire.RoleEditor) {
			return http.StatusForbidden
		}
	case "delete":
		if !p.Can(quire.RoleAuthor) || (!p.Can(quire.RoleEditor) && (!own || act.state != "")) {
			return http.StatusForbidden
		}
	}
	return act.ok
}

func TestPagePermissions(t *testing.T) {
	eachParallel(t, func(t *testing.T, e *env) {
		admin := e.admin().AccessToken
		_, viewer := e.newUser(quire.RoleViewer)
		_, author := e.newUser(quire.RoleAuthor)
		_, other := e.newUser(quire.RoleAuthor)
		_, editor := e.newUser(quire.RoleEditor)
		actors := []pageActor{
			{name: "anonymous"},
			{name: "viewer", role: quire.RoleViewer, token: viewer.AccessToken},
			{name: "author", role: quire.RoleAuthor, token: author.AccessToken},
			{name: "editor", role: quire.RoleEditor, token: editor.AccessToken},
			{name: "admin", role: quire.RoleAdmin, token: admin},
			{name: "api-token-viewer", role: quire.RoleViewer, token: e.newAPIToken(quire.RoleViewer)},
			{name: "api-token-author", role: quire.RoleAuthor, token: e.newAPIToken(quire.RoleAuthor)},
			{name: "api-token-editor", role: quire.RoleEditor, token: e.newAPIToken(quire.RoleEditor)},
			{name: "api-token-admin", role: quire.RoleAdmin, token: e.newAPIToken(quire.RoleAdmin)},
		}
		seq := 0
		// fixture makes a page owned by ownerToken with two blocks and a
		// draft revision, in state.
		type fix struct{ id, block, rev string }
		fixture := func(e *env, ownerToken, state string) fix {
			seq++
			p := e.createPage(ownerToken, fmt.Sprintf("perm-%d", seq), "Fixture",
				blk("heading", map[string]any{"text": "Hello", "level": 1}), blk("paragraph", map[string]any{"text": "Body"}))
			var r quire.Revision
			e.do("POST", "/api/v1/pages/"+p.ID+"/revisions", ownerToken, nil).want(e.t, 201).json(e.t, &r)
			switch state {
			case "published":
				e.publishPage(editor.AccessToken, p.ID)
			case "was-published":
				e.publishPage(editor.AccessToken, p.ID)
				e.do("POST", "/api/v1/pages/"+p.ID+"/unpublish", editor.AccessToken, nil, e.current(editor.AccessToken, p.ID)...).want(e.t, 200)
			}
			return fix{p.ID, p.Blocks[1].ID, r.ID}
		}
		// Requests that must change nothing (reads and refusals) share one
		// fixture per owner and state; each is checked unchanged at the end.
		shared := map[string]fix{}
		sharedBefore := map[string]pageState{}
		for _, a := range actors {
			for _, own := range []bool{false, true} {
				// Only someone who can create a page can own one.
				if own && !(&quire.Principal{Role: a.role}).Can(quire.RoleAuthor) {
					continue
				}
				for _, act := range pageActions {
					whose := "another author's"
					if own {
						whose = "own"
					}
					t.Run(fmt.Sprintf("%s %s on %s page", a.name, act.name, whose), func(t *testing.T) {
						e := e.with(t)
						owner := other.AccessToken
						if own {
							owner = a.token
						}
						want := pageExpectation(a, own, act)
						var f fix
						if want >= 400 || act.kind == "read" {
							key := owner + " " + act.state
							var ok bool
							if f, ok = shared[key]; !ok {
								f = fixture(e, owner, act.state)
								shared[key], sharedBefore[key] = f, e.pageState(admin, f.id)
							}
						} else {
							f = fixture(e, owner, act.state)
						}
						path := "/api/v1" + strings.NewReplacer("{id}", f.id, "{block}", f.block, "{rev}", f.rev).Replace(act.path)
						var headers []string
						if act.kind != "read" {
							headers = e.current(admin, f.id)
						}
						r := e.do(act.method, path, a.token, act.body, headers...)
						if r.Status != want {
							t.Fatalf("status %d, want %d: %s", r.Status, want, r.Body)
						}
						if want >= 400 {
							wantProblem(t, r, want, "")
						}
					})
				}
			}
		}
		for key, f := range shared {
			after := e.pageState(admin, f.id)
			// The audit log grew with the other cases; the page did not change.
			after.audit = sharedBefore[key].audit
			if after != sharedBefore[key] {
				t.Fatalf("reads or refused requests changed a page: %+v → %+v", sharedBefore[key], after)
			}
		}

		t.Run("author's edits are recorded as theirs", func(t *testing.T) {
			e := e.with(t)
			p := e.createPage(author.AccessToken, "mine", "Mine")
			var got quire.Page
			e.do("PATCH", "/api/v1/pages/"+p.ID, author.AccessToken, map[string]any{"title": "Still mine"}, anyVersion...).want(t, 200).json(t, &got)
			if got.CreatedBy != p.CreatedBy || got.UpdatedBy != p.CreatedBy || got.Title != "Still mine" {
				t.Fatalf("page after author's edit: %+v", got)
			}
			// An editor's edit does not make the page the editor's: the
			// author can still edit it.
			e.do("PATCH", "/api/v1/pages/"+p.ID, editor.AccessToken, map[string]any{"title": "Edited"}, anyVersion...).want(t, 200)
			e.do("PATCH", "/api/v1/pages/"+p.ID, author.AccessToken, map[string]any{"title": "Mine again"}, anyVersion...).want(t, 200)
			e.do("PATCH", "/api/v1/pages/"+p.ID, other.AccessToken, map[string]any{"title": "Theirs"}, anyVersion...).want(t, 403)
		})

		t.Run("missing page is 404 to writers, not 403", func(t *testing.T) {
			e := e.with(t)
			e.do("PATCH", "/api/v1/pages/0190f3f4-0000-7000-8000-000000000000", author.AccessToken, map[string]any{"title": "x"}, anyVersion...).want(t, 404)
			e.do("DELETE", "/api/v1/pages/0190f3f4-0000-7000-8000-000000000000", editor.AccessToken, nil, anyVersion...).want(t, 404)
		})
	})
}
