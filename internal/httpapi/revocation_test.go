package httpapi_test

import (
	"testing"

	"github.com/quirecms/quire"
)

// Authentication caches what it reads about users and sessions for a
// moment (service.AccountCache); every write that revokes must still take
// effect on the very next request. Each case uses the credential first,
// so that the cache holds the state from before the revocation.
func TestRevocationIsImmediate(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		t.Run("logout", func(t *testing.T) {
			e := e.with(t)
			u, _ := e.newUser(quire.RoleViewer)
			s := e.login(u.Email, testPassword)
			e.me(s.AccessToken).want(t, 200)
			e.do("POST", "/api/v1/auth/logout", "", map[string]string{"refresh_token": s.RefreshToken}).want(t, 204)
			want401(t, e.me(s.AccessToken))
		})
		t.Run("reuse of a refresh token", func(t *testing.T) {
			e := e.with(t)
			u, _ := e.newUser(quire.RoleViewer)
			s := e.login(u.Email, testPassword)
			var next struct {
				AccessToken string `json:"access_token"`
			}
			e.refresh(s.RefreshToken).want(t, 200).json(t, &next)
			e.me(s.AccessToken).want(t, 200)
			e.me(next.AccessToken).want(t, 200)
			want401(t, e.refresh(s.RefreshToken)) // reuse: the session is revoked
			want401(t, e.me(s.AccessToken))
			want401(t, e.me(next.AccessToken))
		})
		t.Run("user deleted", func(t *testing.T) {
			e := e.with(t)
			u, s := e.newUser(quire.RoleViewer)
			e.me(s.AccessToken).want(t, 200)
			e.do("DELETE", "/api/v1/users/"+u.ID, e.admin().AccessToken, nil).want(t, 204)
			want401(t, e.me(s.AccessToken))
		})
		t.Run("role change", func(t *testing.T) {
			e := e.with(t)
			u, s := e.newUser(quire.RoleEditor)
			e.do("GET", "/api/v1/settings", s.AccessToken, nil).want(t, 200)
			e.patchUser(e.admin().AccessToken, u.ID, map[string]any{"role": "viewer"}).want(t, 200)
			want401(t, e.do("GET", "/api/v1/settings", s.AccessToken, nil))
		})
		t.Run("token owner deactivated", func(t *testing.T) {
			e := e.with(t)
			owner, os := e.newUser(quire.RoleAdmin)
			c := e.createToken(os.AccessToken, map[string]any{"name": "o", "role": "viewer", "scopes": []string{"content:read"}})
			e.me(c.Token).want(t, 200)
			e.patchUser(e.admin().AccessToken, owner.ID, map[string]any{"active": false}).want(t, 200)
			want401(t, e.me(c.Token))
		})
	})
}
