package httpapi_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/quirecms/quire"
)

// The media rules of PRODUCT.md §3, with authors acting on their own
// media and on someone else's: reading is for every role, uploading for
// authors and up, changing metadata and deleting for editors and admins
// or the uploader, restoring for editors and admins, purging for admins;
// files are public. Each case acts on fresh media.
func TestMediaPermissionsOwnAndOthers(t *testing.T) {
	eachStorage(t, nil, func(t *testing.T, e *env) {
		admin := e.admin().AccessToken
		_, owner := e.newUser(quire.RoleAuthor)
		_, other := e.newUser(quire.RoleAuthor)
		_, viewer := e.newUser(quire.RoleViewer)
		_, editor := e.newUser(quire.RoleEditor)
		tokens := map[string]string{
			"anonymous": "", "viewer": viewer.AccessToken, "author (owner)": owner.AccessToken,
			"author (other)": other.AccessToken, "editor": editor.AccessToken, "admin": admin,
		}
		seq := 0
		fresh := func(deleted bool) quire.Media {
			seq++
			m := e.mustUpload(owner.AccessToken, fmt.Sprintf("f%d.txt", seq), []byte(fmt.Sprintf("content %d", seq)))
			if deleted {
				e.do("DELETE", "/api/v1/media/"+m.ID, admin, nil).want(t, 204)
			}
			return m
		}
		type action struct {
			name    string
			deleted bool // acts on deleted media
			do      func(token string, m quire.Media) *resp
			want    map[string]int
		}
		all := func(anon, v, own, oth, ed, ad int) map[string]int {
			return map[string]int{"anonymous": anon, "viewer": v, "author (owner)": own, "author (other)": oth, "editor": ed, "admin": ad}
		}
		actions := []action{
			{"list", false, func(tok string, m quire.Media) *resp { return e.do("GET", "/api/v1/media", tok, nil) }, all(401, 200, 200, 200, 200, 200)},
			{"list deleted", false, func(tok string, m quire.Media) *resp { return e.do("GET", "/api/v1/media?deleted=true", tok, nil) }, all(401, 403, 403, 403, 200, 200)},
			{"get", false, func(tok string, m quire.Media) *resp { return e.do("GET", "/api/v1/media/"+m.ID, tok, nil) }, all(401, 200, 200, 200, 200, 200)},
			{"get deleted", true, func(tok string, m quire.Media) *resp { return e.do("GET", "/api/v1/media/"+m.ID, tok, nil) }, all(401, 404, 404, 404, 200, 200)},
			{"file", false, func(tok string, m quire.Media) *resp { return e.do("GET", m.URL, tok, nil) }, all(200, 200, 200, 200, 200, 200)},
			{"file of deleted", true, func(tok string, m quire.Media) *resp { return e.do("GET", m.URL, tok, nil) }, all(404, 404, 404, 404, 404, 404)},
			{"upload", false, func(tok string, m quire.Media) *resp {
				seq++
				return e.upload(tok, "new.txt", []byte(fmt.Sprintf("new %d", seq)))
			}, all(401, 403, 201, 201, 201, 201)},
			{"patch", false, func(tok string, m quire.Media) *resp {
				return e.do("PATCH", "/api/v1/media/"+m.ID, tok, map[string]string{"alt": "changed"})
			}, all(401, 403, 200, 403, 200, 200)},
			{"delete", false, func(tok string, m quire.Media) *resp { return e.do("DELETE", "/api/v1/media/"+m.ID, tok, nil) }, all(401, 403, 204, 403, 204, 204)},
			{"restore", true, func(tok string, m quire.Media) *resp {
				return e.do("POST", "/api/v1/media/"+m.ID+"/restore", tok, nil)
			}, all(401, 403, 403, 403, 200, 200)},
			{"purge", false, func(tok string, m quire.Media) *resp {
				return e.do("DELETE", "/api/v1/media/"+m.ID+"?purge=true", tok, nil)
			}, all(401, 403, 403, 403, 403, 204)},
			{"purge deleted", true, func(tok string, m quire.Media) *resp {
				return e.do("DELETE", "/api/v1/media/"+m.ID+"?purge=true", tok, nil)
			}, all(401, 403, 403, 403, 403, 204)},
		}
		for _, a := range actions {
			for who, want := range a.want {
				t.Run(a.name+" as "+who, func(t *testing.T) {
					e := e.with(t)
					m := fresh(a.deleted)
					r := a.do(tokens[who], m)
					if want >= 400 {
						wantProblem(t, r, want, "")
					} else {
						r.want(t, want)
					}
					if r.Status == http.StatusForbidden || r.Status == http.StatusNotFound {
						// a refused change changed nothing
						var after quire.Media
						e.do("GET", "/api/v1/media/"+m.ID, admin, nil).want(t, 200).json(t, &after)
						if after.Version != m.Version+map[bool]int64{true: 1}[a.deleted] {
							t.Fatalf("refused %s changed the media: %+v", a.name, after)
						}
					}
				})
			}
		}
	})
}
