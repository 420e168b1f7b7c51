package httpapi_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/service"
)

// Scopes are chosen at creation and validated; a bad list is a 422 naming
// the field and stores nothing.
func TestAPITokenScopesValidated(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		adm := e.admin().AccessToken
		tokens := func() int { return len(walk(t, e, "/api/v1/api-tokens", adm, 100)) }
		before := tokens()
		for _, scopes := range []any{nil, []string{}, []string{"root"}, []string{"admin", "admin"}, []string{"content:read", ""}, []string{"Content:Read"}} {
			body := map[string]any{"name": "x", "role": "viewer"}
			if scopes != nil {
				body["scopes"] = scopes
			}
			wantProblem(t, e.do("POST", "/api/v1/api-tokens", adm, body), 422, "scopes")
		}
		wantProblem(t, e.do("POST", "/api/v1/api-tokens", adm, `{"name":"x","role":"viewer","scopes":"content:read"}`), 422, "scopes")
		if tokens() != before {
			t.Fatal("a refused token was stored")
		}
		for _, s := range quire.Scopes {
			c := e.createToken(adm, map[string]any{"name": "one " + string(s), "role": "editor", "scopes": []quire.Scope{s}})
			if !reflect.DeepEqual(c.Scopes, []quire.Scope{s}) {
				t.Fatalf("created with %v, answered %v", s, c.Scopes)
			}
		}
	})
}

// Finding 1: an API token, whatever its role and scopes, cannot manage users
// or API tokens, so a leaked token cannot outlive its own revocation. The
// rule is the services' (requireSession), so the admin UI, which calls them
// with a cookie session's principal, gets it too.
func TestAPITokensCannotManageAccounts(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		adm := e.admin()
		tok := e.newScopedToken(quire.RoleAdmin, quire.ScopeAdmin)
		victim, _ := e.newUser(quire.RoleViewer)
		other := e.createToken(adm.AccessToken, map[string]any{"name": "other", "role": "viewer", "scopes": []string{"content:read"}})
		users, tokens := e.counts().users, len(walk(t, e, "/api/v1/api-tokens", adm.AccessToken, 100))

		for _, c := range []struct {
			method, path string
			body         any
		}{
			{"POST", "/api/v1/users", map[string]any{"email": "mallory@example.com", "password": testPassword, "role": "admin"}},
			{"POST", "/api/v1/api-tokens", map[string]any{"name": "persist", "role": "admin", "scopes": []string{"admin"}}},
			{"PATCH", "/api/v1/users/" + victim.ID, map[string]any{"role": "admin"}},
			{"PATCH", "/api/v1/users/" + victim.ID, map[string]any{"active": false}},
			{"DELETE", "/api/v1/users/" + victim.ID, nil},
			{"DELETE", "/api/v1/api-tokens/" + other.ID, nil},
			{"GET", "/api/v1/users", nil},
			{"GET", "/api/v1/users/" + victim.ID, nil},
			{"GET", "/api/v1/api-tokens", nil},
		} {
			p := wantProblem(t, e.do(c.method, c.path, tok, c.body), 403, "")
			if !strings.Contains(p.Detail, "login session") {
				t.Fatalf("%s %s: detail %q", c.method, c.path, p.Detail)
			}
		}
		if e.counts().users != users || len(walk(t, e, "/api/v1/api-tokens", adm.AccessToken, 100)) != tokens {
			t.Fatal("a refused request stored something")
		}
		if u := e.getUser(victim.ID); u.Role != quire.RoleViewer || !u.Active {
			t.Fatalf("victim changed: %+v", u)
		}

		// The services refuse on their own, without the HTTP layer.
		ctx := context.Background()
		asToken := &quire.Principal{UserID: adm.User.ID, Role: quire.RoleAdmin, TokenID: other.ID, TokenName: "other", Scopes: []quire.Scope{quire.ScopeAdmin}}
		asSession := &quire.Principal{UserID: adm.User.ID, Role: quire.RoleAdmin, SessionID: "s"}
		_, err := e.srv.Users.Create(ctx, asToken, service.NewUser{Email: "svc@example.com", Password: testPassword, Role: quire.RoleAdmin})
		wantCode(t, err, quire.EFORBIDDEN)
		_, _, err = e.srv.Users.List(ctx, asToken, "", 10)
		wantCode(t, err, quire.EFORBIDDEN)
		_, err = e.srv.Users.Update(ctx, asToken, victim.ID, 0, service.UserPatch{Role: ptr(quire.RoleAdmin)})
		wantCode(t, err, quire.EFORBIDDEN)
		wantCode(t, e.srv.Users.Delete(ctx, asToken, victim.ID, 0), quire.EFORBIDDEN)
		_, _, err = e.srv.API.Tokens.Create(ctx, asToken, service.NewToken{Name: "svc", Role: quire.RoleAdmin, Scopes: []quire.Scope{quire.ScopeAdmin}})
		wantCode(t, err, quire.EFORBIDDEN)
		_, _, err = e.srv.API.Tokens.List(ctx, asToken, "", 10)
		wantCode(t, err, quire.EFORBIDDEN)
		wantCode(t, e.srv.API.Tokens.Revoke(ctx, asToken, other.ID), quire.EFORBIDDEN)
		// A session principal (the admin UI's cookie carries one) may.
		_, _, err = e.srv.Users.List(ctx, asSession, "", 10)
		wantCode(t, err, "")

		// A login session still manages both.
		e.createToken(adm.AccessToken, map[string]any{"name": "fine", "role": "viewer", "scopes": []string{"content:read"}})
		e.patchUser(adm.AccessToken, victim.ID, map[string]any{"role": "author"}).want(t, 200)
	})
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := quire.ErrorCode(err); got != code && !(code == "" && err == nil) {
		t.Fatalf("error = %v (code %q), want code %q", err, got, code)
	}
}

func ptr[T any](v T) *T { return &v }

// A front-end's read-only token reads content and nothing else, even with
// the admin role.
func TestReadOnlyAPIToken(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		adm := e.admin().AccessToken
		page := e.createPage(adm, "about", "About")
		media := e.mustUpload(adm, "a.png", pngOf(4, 4, 1))
		ro := e.newScopedToken(quire.RoleAdmin, quire.ScopeContentRead)

		for _, path := range []string{"/api/v1/pages", "/api/v1/pages/" + page.ID, "/api/v1/pages/" + page.ID + "/blocks",
			"/api/v1/pages/" + page.ID + "/revisions", "/api/v1/media", "/api/v1/media/" + media.ID, "/api/v1/auth/me"} {
			e.do("GET", path, ro, nil).want(t, 200)
		}
		for _, c := range []struct {
			method, path string
			body         any
		}{
			{"POST", "/api/v1/pages", map[string]any{"slug": "x", "title": "X"}},
			{"PATCH", "/api/v1/pages/" + page.ID, map[string]any{"title": "Y"}},
			{"POST", "/api/v1/pages/" + page.ID + "/publish", map[string]any{}},
			{"DELETE", "/api/v1/pages/" + page.ID, nil},
			{"PATCH", "/api/v1/media/" + media.ID, map[string]any{"alt": "x"}},
			{"DELETE", "/api/v1/media/" + media.ID, nil},
			{"GET", "/api/v1/settings", nil},
			{"PUT", "/api/v1/settings/site.title", map[string]any{"value": "x"}},
			{"GET", "/api/v1/audit-log", nil},
		} {
			p := wantProblem(t, e.do(c.method, c.path, ro, c.body), 403, "")
			if !strings.Contains(p.Detail, "scope") {
				t.Fatalf("%s %s: detail %q", c.method, c.path, p.Detail)
			}
		}
		wantProblem(t, e.upload(ro, "b.png", pngOf(4, 4, 2)), 403, "")
		if got := e.getPage(adm, page.ID); got.Title != "About" || got.Version != page.Version {
			t.Fatalf("page changed: %+v", got)
		}
	})
}

// Finding 8: GET /auth/me answers an API token with the token's own
// identity, and a login session with the user, as before.
func TestMeWithAPIToken(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		adm := e.admin()
		c := e.createToken(adm.AccessToken, map[string]any{"name": "site build", "role": "editor", "scopes": []string{"content:read", "media"},
			"expires_at": "2999-01-01T00:00:00Z"})
		var me map[string]any
		e.me(c.Token).want(t, 200).json(t, &me)
		if me["kind"] != "api_token" || me["id"] != c.ID || me["name"] != "site build" || me["role"] != "editor" ||
			!reflect.DeepEqual(me["scopes"], []any{"content:read", "media"}) || me["expires_at"] != "2999-01-01T00:00:00Z" ||
			me["created_by"] != adm.User.ID || me["prefix"] != c.Prefix {
			t.Fatalf("me = %v", me)
		}
		if _, ok := me["email"]; ok {
			t.Fatalf("a token's me shows its maker's email: %v", me)
		}
		if _, ok := me["token"]; ok {
			t.Fatalf("me shows a secret: %v", me)
		}

		var u map[string]any
		e.me(adm.AccessToken).want(t, 200).json(t, &u)
		if u["email"] != adminEmail || u["role"] != "admin" || u["id"] != adm.User.ID {
			t.Fatalf("session me = %v", u)
		}
		if _, ok := u["kind"]; ok {
			t.Fatalf("session me changed shape: %v", u)
		}
	})
}

// An author-role token acts for its maker: "own" pages and media are its
// maker's, and a write scope does not lift the author's limits on others'.
func TestAuthorTokenOwnAndOthers(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		adm := e.admin().AccessToken
		maker, ms := e.newUser(quire.RoleAuthor)
		_, os := e.newUser(quire.RoleAuthor)
		// Only admins make tokens; promote the maker for a moment.
		e.patchUser(adm, maker.ID, map[string]any{"role": "admin"}).want(t, 200)
		ms = e.login(maker.Email, testPassword)
		c := e.createToken(ms.AccessToken, map[string]any{"name": "author bot", "role": "author", "scopes": []string{"content:write", "media"}})
		e.patchUser(adm, maker.ID, map[string]any{"role": "author"}).want(t, 200)
		ms = e.login(maker.Email, testPassword)

		own := e.createPage(ms.AccessToken, "makers", "Maker's")
		others := e.createPage(os.AccessToken, "others", "Other's")
		e.do("PATCH", "/api/v1/pages/"+own.ID, c.Token, map[string]any{"title": "Edited by bot"}, ifMatch(own.Version)...).want(t, 200)
		wantProblem(t, e.do("PATCH", "/api/v1/pages/"+others.ID, c.Token, map[string]any{"title": "x"}, ifMatch(others.Version)...), 403, "")
		wantProblem(t, e.do("POST", "/api/v1/pages/"+own.ID+"/publish", c.Token, map[string]any{}, ifMatch(own.Version+1)...), 403, "")
		ownMedia := e.mustUpload(ms.AccessToken, "m.png", pngOf(2, 2, 3))
		othersMedia := e.mustUpload(os.AccessToken, "o.png", pngOf(2, 2, 4))
		e.do("PATCH", "/api/v1/media/"+ownMedia.ID, c.Token, map[string]any{"alt": "bot"}, ifMatch(ownMedia.Version)...).want(t, 200)
		wantProblem(t, e.do("PATCH", "/api/v1/media/"+othersMedia.ID, c.Token, map[string]any{"alt": "x"}, ifMatch(othersMedia.Version)...), 403, "")
	})
}
