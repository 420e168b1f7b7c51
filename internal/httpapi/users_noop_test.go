package httpapi_test

import (
	"testing"

	"github.com/quirecms/quire"
)

// A PATCH that changes nothing is answered with the user as it is: no new
// version, no audit entry, no tokens revoked.
func TestUserPatchThatChangesNothing(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		admin := e.admin().AccessToken
		u, login := e.newUser(quire.RoleEditor)
		before := len(e.auditActions())
		for _, body := range []string{`{}`, `{"role":"editor","active":true}`} {
			var got quire.User
			e.do("PATCH", "/api/v1/users/"+u.ID, admin, body).want(t, 200).json(t, &got)
			if got.Version != u.Version {
				t.Fatalf("%s: version %d, want %d", body, got.Version, u.Version)
			}
		}
		if after := len(e.auditActions()); after != before {
			t.Fatalf("%d audit entries written for no change", after-before)
		}
		e.do("GET", "/api/v1/auth/me", login.AccessToken, nil).want(t, 200)
	})
}
