package httpapi_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/quirecms/quire"
)

type createdToken struct {
	ID        string        `json:"id"`
	Name      string        `json:"name"`
	Prefix    string        `json:"prefix"`
	Role      quire.Role    `json:"role"`
	Scopes    []quire.Scope `json:"scopes"`
	CreatedBy string        `json:"created_by"`
	ExpiresAt *time.Time    `json:"expires_at"`
	Token     string        `json:"token"`
}

func (e *env) createToken(adminToken string, body map[string]any) createdToken {
	e.t.Helper()
	var c createdToken
	e.do("POST", "/api/v1/api-tokens", adminToken, body).want(e.t, 201).json(e.t, &c)
	return c
}

func TestAPITokenLifecycle(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		adm := e.admin()
		c := e.createToken(adm.AccessToken, map[string]any{"name": " deploy ", "role": "editor", "scopes": []string{"content:write", "media"}})
		if !strings.HasPrefix(c.Token, "qpat_") || len(c.Token) < 40 || c.Prefix != c.Token[:len(c.Prefix)] || len(c.Prefix) >= len(c.Token)/2 {
			t.Fatalf("created %+v", c)
		}
		if c.Name != "deploy" || c.Role != quire.RoleEditor || c.CreatedBy != adm.User.ID || c.ExpiresAt != nil ||
			!reflect.DeepEqual(c.Scopes, []quire.Scope{quire.ScopeContentWrite, quire.ScopeMedia}) {
			t.Fatalf("created %+v", c)
		}

		// Usable as a bearer credential, with its own role.
		e.do("GET", "/api/v1/pages", c.Token, nil).want(t, 200)
		wantProblem(t, e.do("GET", "/api/v1/users", c.Token, nil), 403, "")
		// Session-only routes refuse it.
		wantProblem(t, e.do("POST", "/api/v1/auth/logout-all", c.Token, nil), 403, "")

		// The secret is shown once: never in a list.
		r := e.do("GET", "/api/v1/api-tokens", adm.AccessToken, nil).want(t, 200)
		if strings.Contains(string(r.Body), c.Token) || strings.Contains(string(r.Body), `"token"`) {
			t.Fatalf("list shows the secret: %s", r.Body)
		}
		var l struct {
			Data []map[string]any `json:"data"`
		}
		r.json(t, &l)
		if len(l.Data) != 1 || l.Data[0]["id"] != c.ID || l.Data[0]["prefix"] != c.Prefix || l.Data[0]["last_used_at"] == nil ||
			!reflect.DeepEqual(l.Data[0]["scopes"], []any{"content:write", "media"}) {
			t.Fatalf("list = %s", r.Body)
		}

		// Revoked: refused on its next use; revoking again is 404.
		e.do("DELETE", "/api/v1/api-tokens/"+c.ID, adm.AccessToken, nil).want(t, 204)
		want401(t, e.me(c.Token))
		wantProblem(t, e.do("DELETE", "/api/v1/api-tokens/"+c.ID, adm.AccessToken, nil), 404, "")
		wantProblem(t, e.do("DELETE", "/api/v1/api-tokens/no-such-token", adm.AccessToken, nil), 404, "")
	})
}

func TestAPITokenPagination(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		adm := e.admin().AccessToken
		var secrets []string
		for range 5 {
			secrets = append(secrets, e.newAPIToken(quire.RoleViewer))
		}
		ids := walk(t, e, "/api/v1/api-tokens", adm, 2)
		seen := map[string]bool{}
		for _, id := range ids {
			if seen[id] {
				t.Fatalf("%s listed twice", id)
			}
			seen[id] = true
		}
		if len(ids) != 5 {
			t.Fatalf("%d tokens listed, want 5", len(ids))
		}
		for _, limit := range []string{"0", "101", "x"} {
			wantProblem(t, e.do("GET", "/api/v1/api-tokens?limit="+limit, adm, nil), 422, "limit")
		}
		r := e.do("GET", "/api/v1/api-tokens?limit=100", adm, nil).want(t, 200)
		for _, s := range secrets {
			if strings.Contains(string(r.Body), s) {
				t.Fatalf("list shows a secret")
			}
		}
	})
}

// What an API token may do is decided again on every use.
func TestAPITokenValidity(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		adm := e.admin().AccessToken
		t.Run("expired", func(t *testing.T) {
			e := e.with(t)
			c := e.createToken(adm, map[string]any{"name": "soon", "role": "viewer", "scopes": []string{"content:read"}, "expires_at": time.Now().Add(time.Hour).Format(time.RFC3339)})
			if c.ExpiresAt == nil {
				t.Fatal("expires_at not returned")
			}
			e.me(c.Token).want(t, 200)
			e.tamper(`UPDATE api_tokens SET expires_at = ? WHERE id = ?`, e.dbTime(time.Now().Add(-time.Second)), c.ID)
			want401(t, e.me(c.Token))
		})
		t.Run("an expiry in the past is refused", func(t *testing.T) {
			e := e.with(t)
			before := e.counts()
			wantProblem(t, e.do("POST", "/api/v1/api-tokens", adm, map[string]any{"name": "old", "role": "viewer", "scopes": []string{"content:read"}, "expires_at": "2000-01-01T00:00:00Z"}), 422, "expires_at")
			if e.counts() != before {
				t.Fatal("stored something")
			}
		})
		t.Run("capped by its owner's current role", func(t *testing.T) {
			e := e.with(t)
			owner, os := e.newUser(quire.RoleAdmin)
			c := e.createToken(os.AccessToken, map[string]any{"name": "owner's", "role": "admin", "scopes": []string{"admin"}})
			e.do("GET", "/api/v1/audit-log", c.Token, nil).want(t, 200)
			e.patchUser(adm, owner.ID, map[string]any{"role": "editor"}).want(t, 200)
			wantProblem(t, e.do("GET", "/api/v1/audit-log", c.Token, nil), 403, "")
			var me map[string]any
			e.me(c.Token).want(t, 200).json(t, &me)
			if me["role"] != "editor" {
				t.Fatalf("me = %v, want the capped role editor", me)
			}
			e.patchUser(adm, owner.ID, map[string]any{"role": "viewer"}).want(t, 200)
			wantProblem(t, e.do("GET", "/api/v1/audit-log", c.Token, nil), 403, "")
			e.patchUser(adm, owner.ID, map[string]any{"role": "admin"}).want(t, 200)
			e.do("GET", "/api/v1/audit-log", c.Token, nil).want(t, 200)

			// Deactivating the owner stops the token; deleting the owner removes it.
			e.patchUser(adm, owner.ID, map[string]any{"active": false}).want(t, 200)
			want401(t, e.me(c.Token))
			e.patchUser(adm, owner.ID, map[string]any{"active": true}).want(t, 200)
			e.me(c.Token).want(t, 200)
			e.do("DELETE", "/api/v1/users/"+owner.ID, adm, nil).want(t, 204)
			want401(t, e.me(c.Token))
		})
		t.Run("a token's role is never raised", func(t *testing.T) {
			e := e.with(t)
			viewer := e.newAPIToken(quire.RoleViewer)
			wantProblem(t, e.do("GET", "/api/v1/audit-log", viewer, nil), 403, "")
			wantProblem(t, e.do("POST", "/api/v1/api-tokens", viewer, map[string]any{"name": "x", "role": "admin", "scopes": []string{"admin"}}), 403, "")
		})
		t.Run("unknown and malformed tokens", func(t *testing.T) {
			e := e.with(t)
			real := e.newAPIToken(quire.RoleViewer)
			for _, tok := range []string{"qpat_" + strings.Repeat("A", 43), real + "x", real[:len(real)-1], "qpat_", "qpat_" + strings.Repeat("A", 200)} {
				want401(t, e.me(tok))
			}
			e.me(real).want(t, 200)
		})
	})
}
