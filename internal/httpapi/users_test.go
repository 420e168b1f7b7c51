package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/service"
)

func TestUserCRUD(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		adm := e.admin().AccessToken
		r := e.do("POST", "/api/v1/users", adm, map[string]any{"email": "  Carol@Example.COM ", "password": testPassword, "role": "author", "display_name": "Carol"}).want(t, 201)
		var u quire.User
		r.json(t, &u)
		if u.Email != "carol@example.com" || u.Role != quire.RoleAuthor || !u.Active || u.DisplayName != "Carol" || u.Version != 1 {
			t.Fatalf("created %+v", u)
		}
		if r.Header.Get("ETag") != `"v1"` || r.Header.Get("Location") != "/api/v1/users/"+u.ID {
			t.Fatalf("ETag %q, Location %q", r.Header.Get("ETag"), r.Header.Get("Location"))
		}
		e.login("carol@example.com", testPassword)

		g := e.do("GET", "/api/v1/users/"+u.ID, adm, nil).want(t, 200)
		if g.Header.Get("ETag") != `"v1"` {
			t.Fatalf("GET ETag %q", g.Header.Get("ETag"))
		}
		wantProblem(t, e.do("GET", "/api/v1/users/no-such-id", adm, nil), 404, "")

		// PATCH honours If-Match: the current version works and moves the ETag on.
		p := e.patchUser(adm, u.ID, map[string]any{"display_name": "Carol B."}, "If-Match", `"v1"`).want(t, 200)
		if p.Header.Get("ETag") != `"v2"` {
			t.Fatalf("PATCH ETag %q", p.Header.Get("ETag"))
		}
		// A stale or foreign validator is 412 and changes nothing.
		for _, im := range []string{`"v1"`, `"v3"`, `W/"v2"`, `v2`, `"x"`} {
			wantProblem(t, e.patchUser(adm, u.ID, map[string]any{"display_name": "lost update"}, "If-Match", im), 412, "")
		}
		got := e.getUser(u.ID)
		if got.DisplayName != "Carol B." || got.Version != 2 {
			t.Fatalf("after stale PATCHes: %+v", got)
		}
		e.patchUser(adm, u.ID, map[string]any{"display_name": "Carol C."}, "If-Match", "*").want(t, 200)
		e.patchUser(adm, u.ID, map[string]any{"email": "carol.c@example.com"}).want(t, 200) // no If-Match: last write wins
		wantProblem(t, e.patchUser(adm, "no-such-id", map[string]any{"display_name": "x"}), 404, "")

		// DELETE: stale If-Match is 412 and the user stays.
		wantProblem(t, e.do("DELETE", "/api/v1/users/"+u.ID, adm, nil, "If-Match", `"v1"`), 412, "")
		cur := e.getUser(u.ID)
		e.do("DELETE", "/api/v1/users/"+u.ID, adm, nil, "If-Match", fmt.Sprintf(`"v%d"`, cur.Version)).want(t, 204)
		wantProblem(t, e.do("GET", "/api/v1/users/"+u.ID, adm, nil), 404, "")
		wantProblem(t, e.do("DELETE", "/api/v1/users/"+u.ID, adm, nil), 404, "")
	})
}

// Any signed-in user may rename themselves, with If-Match, and nothing else.
func TestSelfUpdate(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		u, s := e.newUser(quire.RoleViewer)
		r := e.do("PATCH", "/api/v1/auth/me", s.AccessToken, map[string]string{"display_name": "Vera"}, "If-Match", `"v1"`).want(t, 200)
		if r.Header.Get("ETag") != `"v2"` {
			t.Fatalf("ETag %q", r.Header.Get("ETag"))
		}
		wantProblem(t, e.do("PATCH", "/api/v1/auth/me", s.AccessToken, map[string]string{"display_name": "Lost"}, "If-Match", `"v1"`), 412, "")
		var me quire.User
		e.me(s.AccessToken).want(t, 200).json(t, &me)
		if me.DisplayName != "Vera" || me.Version != 2 || me.Role != quire.RoleViewer {
			t.Fatalf("me = %+v", me)
		}
		log := e.auditLog()
		last := log[len(log)-1]
		d, _ := details(t, last)
		if last.Action != quire.ActionUserUpdate || last.UserID != u.ID || last.ResourceID != u.ID ||
			d.Before["display_name"] != "" || d.After["display_name"] != "Vera" || len(d.After) != 1 {
			t.Fatalf("audit entry %s by %s: %s", last.Action, last.UserID, last.Details)
		}
		// An API token has no profile of its own to change.
		wantProblem(t, e.do("PATCH", "/api/v1/auth/me", e.newAPIToken(quire.RoleAdmin), map[string]string{"display_name": "x"}), 403, "")
	})
}

// A user who owns nothing can be deleted; their tokens and login go with them.
func TestDeleteUserWhoOwnsNothing(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		adm := e.admin().AccessToken
		u, s := e.newUser(quire.RoleViewer)
		e.do("DELETE", "/api/v1/users/"+u.ID, adm, nil).want(t, 204)
		want401(t, e.me(s.AccessToken))
		want401(t, e.refresh(s.RefreshToken))
		want401(t, e.loginResp(u.Email, testPassword))
		// The address is free again.
		e.do("POST", "/api/v1/users", adm, map[string]any{"email": u.Email, "password": testPassword, "role": "viewer"}).want(t, 201)
	})
}

// A user who owns content cannot be deleted (409, nothing changes); they
// can be deactivated instead.
func TestDeleteUserWhoOwnsContent(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		adm := e.admin().AccessToken
		u, s := e.newUser(quire.RoleAuthor)
		e.do("POST", "/api/v1/pages", s.AccessToken, map[string]any{"slug": "owned", "title": "Owned"}).want(t, 201)
		before := e.counts()
		wantProblem(t, e.do("DELETE", "/api/v1/users/"+u.ID, adm, nil), 409, "")
		if after := e.counts(); after != before {
			t.Fatalf("a refused delete stored something: %+v → %+v", before, after)
		}
		e.me(s.AccessToken).want(t, 200)
		e.patchUser(adm, u.ID, map[string]any{"active": false}).want(t, 200)
	})
}

func TestUserPagination(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		adm := e.admin().AccessToken
		for range 5 {
			e.newUser(quire.RoleViewer)
		}
		var all []string
		for _, limit := range []int{1, 2, 3, 6, 100} {
			ids := walk(t, e, "/api/v1/users", adm, limit)
			if len(ids) != 6 {
				t.Fatalf("limit %d: %d users, want 6: %v", limit, len(ids), ids)
			}
			seen := map[string]bool{}
			for _, id := range ids {
				if seen[id] {
					t.Fatalf("limit %d: %s listed twice", limit, id)
				}
				seen[id] = true
			}
			if all == nil {
				all = ids
			} else if !slices.Equal(all, ids) {
				t.Fatalf("limit %d lists %v, limit 1 listed %v", limit, ids, all)
			}
		}
		var def struct {
			Data []quire.User `json:"data"`
		}
		e.do("GET", "/api/v1/users", adm, nil).want(t, 200).json(t, &def)
		if len(def.Data) != 6 {
			t.Fatalf("default page has %d users", len(def.Data))
		}
		for _, q := range []struct{ query, field string }{
			{"limit=0", "limit"}, {"limit=101", "limit"}, {"limit=-1", "limit"}, {"limit=abc", "limit"}, {"limit=1.5", "limit"},
			{"cursor=!!!", "cursor"}, {"cursor=" + strings.Repeat("QUFB", 50), "cursor"},
		} {
			r := e.do("GET", "/api/v1/users?"+q.query, adm, nil)
			if r.Status < 400 || r.Status >= 500 {
				t.Fatalf("%s: status %d", q.query, r.Status)
			}
			wantProblem(t, r, r.Status, q.field)
		}
	})
}

// The last active admin cannot be demoted, deactivated or deleted.
func TestLastAdmin(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		first := e.admin()
		id := first.User.ID
		for _, c := range []struct {
			name string
			do   func() *resp
		}{
			{"demote", func() *resp { return e.patchUser(first.AccessToken, id, map[string]any{"role": "editor"}) }},
			{"deactivate", func() *resp { return e.patchUser(first.AccessToken, id, map[string]any{"active": false}) }},
			{"demote and deactivate", func() *resp {
				return e.patchUser(first.AccessToken, id, map[string]any{"role": "viewer", "active": false})
			}},
			{"delete", func() *resp { return e.do("DELETE", "/api/v1/users/"+id, first.AccessToken, nil) }},
		} {
			before := e.counts()
			wantProblem(t, c.do(), 409, "")
			if u := e.getUser(id); u.Role != quire.RoleAdmin || !u.Active || u.Version != 1 {
				t.Fatalf("%s: the only admin changed: %+v", c.name, u)
			}
			if after := e.counts(); after.audit != before.audit+1 || after.users != before.users { // +1: getUser logs in
				t.Fatalf("%s: stored something: %+v → %+v", c.name, before, after)
			}
		}

		// A deactivated admin does not count.
		idle, _ := e.newUser(quire.RoleAdmin)
		e.patchUser(first.AccessToken, idle.ID, map[string]any{"active": false}).want(t, 200)
		wantProblem(t, e.patchUser(first.AccessToken, id, map[string]any{"role": "editor"}), 409, "")

		// With two admins, the first demotion works and the second is refused.
		second, _ := e.newUser(quire.RoleAdmin)
		e.patchUser(first.AccessToken, id, map[string]any{"role": "editor"}).want(t, 200) // demotes itself
		want401(t, e.me(first.AccessToken))
		st := e.login(second.Email, testPassword).AccessToken
		wantProblem(t, e.patchUser(st, second.ID, map[string]any{"role": "editor"}), 409, "")
		wantProblem(t, e.patchUser(st, second.ID, map[string]any{"active": false}), 409, "")
		wantProblem(t, e.do("DELETE", "/api/v1/users/"+second.ID, st, nil), 409, "")
		var me quire.User
		e.me(st).want(t, 200).json(t, &me)
		if me.Role != quire.RoleAdmin || !me.Active {
			t.Fatalf("last admin is now %+v", me)
		}
	})
}

// Email addresses are unique whatever their case.
func TestDuplicateEmail(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		adm := e.admin().AccessToken
		e.do("POST", "/api/v1/users", adm, map[string]any{"email": "dup@example.com", "password": testPassword, "role": "viewer"}).want(t, 201)
		other, _ := e.newUser(quire.RoleViewer)
		before := e.counts()
		for _, email := range []string{"dup@example.com", "DUP@Example.COM", " dup@example.com ", strings.ToUpper(adminEmail)} {
			wantProblem(t, e.do("POST", "/api/v1/users", adm, map[string]any{"email": email, "password": testPassword, "role": "viewer"}), 409, "")
			wantProblem(t, e.patchUser(adm, other.ID, map[string]any{"email": email}), 409, "")
		}
		if after := e.counts(); after != before {
			t.Fatalf("a refused duplicate stored something: %+v → %+v", before, after)
		}
		if u := e.getUser(other.ID); u.Email != other.Email || u.Version != 1 {
			t.Fatalf("user changed: %+v", u)
		}
	})
}

// No response and no audit entry carries a password hash or a secret,
// except the one response that hands a token to its owner.
func TestNoSecretsInResponsesOrAudit(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		type issued struct {
			secret string
			in     int // index of the response that may carry it
		}
		var bodies [][]byte
		var secrets []issued
		rec := func(r *resp) *resp { bodies = append(bodies, r.Body); return r }
		secret := func(s string) { secrets = append(secrets, issued{s, len(bodies) - 1}) }
		passwords := []string{adminPassword, testPassword, newPassword, "admin-reset password", "wrong password here"}

		var adm service.TokenPair
		rec(e.loginResp(adminEmail, adminPassword)).want(t, 200).json(t, &adm)
		secret(adm.AccessToken)
		secret(adm.RefreshToken)
		rec(e.loginResp(adminEmail, "wrong password here")).want(t, 401)
		var u quire.User
		rec(e.do("POST", "/api/v1/users", adm.AccessToken, map[string]any{"email": "s@example.com", "password": testPassword, "role": "editor"})).want(t, 201).json(t, &u)
		rec(e.do("GET", "/api/v1/users/"+u.ID, adm.AccessToken, nil)).want(t, 200)
		rec(e.do("GET", "/api/v1/users", adm.AccessToken, nil)).want(t, 200)
		rec(e.patchUser(adm.AccessToken, u.ID, map[string]any{"password": "admin-reset password"})).want(t, 200)
		var s service.TokenPair
		rec(e.loginResp("s@example.com", "admin-reset password")).want(t, 200).json(t, &s)
		secret(s.AccessToken)
		secret(s.RefreshToken)
		var p service.TokenPair
		rec(e.do("POST", "/api/v1/auth/password", s.AccessToken, map[string]string{"current_password": "admin-reset password", "new_password": newPassword})).want(t, 200).json(t, &p)
		secret(p.AccessToken)
		secret(p.RefreshToken)
		var p2 service.TokenPair
		rec(e.refresh(p.RefreshToken)).want(t, 200).json(t, &p2)
		secret(p2.AccessToken)
		secret(p2.RefreshToken)
		rec(e.refresh(p.RefreshToken)).want(t, 401) // reuse
		rec(e.me(s.AccessToken)).want(t, 401)
		var tok struct {
			ID    string `json:"id"`
			Token string `json:"token"`
		}
		rec(e.do("POST", "/api/v1/api-tokens", adm.AccessToken, map[string]any{"name": "deploy", "role": "viewer", "scopes": []string{"content:read"}})).want(t, 201).json(t, &tok)
		secret(tok.Token)
		rec(e.do("GET", "/api/v1/api-tokens", adm.AccessToken, nil)).want(t, 200)
		rec(e.do("GET", "/api/v1/auth/me", tok.Token, nil)).want(t, 200)
		rec(e.do("DELETE", "/api/v1/api-tokens/"+tok.ID, adm.AccessToken, nil)).want(t, 204)
		rec(e.do("POST", "/api/v1/auth/logout", "", map[string]string{"refresh_token": adm.RefreshToken})).want(t, 204)
		var v quire.AuditVerification
		rec(e.do("GET", "/api/v1/audit-log/verify", e.admin().AccessToken, nil)).want(t, 200).json(t, &v)

		forbidden := []string{"hashed_password", "password_hash", "$argon2id", "token_hash"}
		for i, b := range bodies {
			for _, f := range append(forbidden, passwords...) {
				if strings.Contains(string(b), f) {
					t.Fatalf("response %d contains %q: %s", i, f, b)
				}
			}
			for _, s := range secrets {
				if i != s.in && strings.Contains(string(b), s.secret) {
					t.Fatalf("response %d repeats a secret issued by response %d: %s", i, s.in, b)
				}
			}
		}
		log := e.auditLog()
		for _, en := range log {
			j, err := json.Marshal(en)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range append(forbidden, passwords...) {
				if strings.Contains(string(j), f) {
					t.Fatalf("audit entry %s contains %q: %s", en.Action, f, j)
				}
			}
			for _, s := range secrets {
				if strings.Contains(string(j), s.secret) {
					t.Fatalf("audit entry %s contains a secret: %s", en.Action, j)
				}
			}
		}
		if len(log) < 10 {
			t.Fatalf("only %d audit entries were checked", len(log))
		}
	})
}

// Concurrent demotions cannot leave the instance without an active admin.
func TestLastAdminUnderConcurrency(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		boss := e.admin() // the only admin at the start of each round
		for round := range 4 {
			// Two more admins take over from boss, so that they are the only
			// two, then each demotes the other at the same time.
			var pair [2]*quire.User
			var tokens [2]string
			for i := range pair {
				email := fmt.Sprintf("r%d-%d@example.com", round, i)
				var u quire.User
				e.do("POST", "/api/v1/users", boss.AccessToken, map[string]any{"email": email, "password": testPassword, "role": "admin"}).want(t, 201).json(t, &u)
				pair[i], tokens[i] = &u, e.login(email, testPassword).AccessToken
			}
			e.patchUser(tokens[0], boss.User.ID, map[string]any{"role": "viewer"}).want(t, 200)
			statuses := make([]int, 2)
			var wg sync.WaitGroup
			for i := range pair {
				wg.Add(1)
				go func() {
					defer wg.Done()
					statuses[i] = e.patchUser(tokens[i], pair[1-i].ID, map[string]any{"role": "viewer"}).Status
				}()
			}
			wg.Wait()
			ok := 0
			for _, s := range statuses {
				switch s {
				case 200:
					ok++
				case 409, 401: // refused by the rule, or the caller was demoted first
				default:
					t.Fatalf("round %d: status %d", round, s)
				}
			}
			if ok != 1 {
				t.Fatalf("round %d: %d demotions succeeded (%v)", round, ok, statuses)
			}
			var survivor *quire.User
			for _, u := range pair {
				got, err := e.srv.DB.Reader().User(context.Background(), u.ID)
				if err != nil {
					t.Fatal(err)
				}
				if got.Role == quire.RoleAdmin && got.Active {
					if survivor != nil {
						t.Fatalf("round %d: both admins survived", round)
					}
					survivor = got
				}
			}
			if survivor == nil {
				t.Fatalf("round %d: no active admin left (%v)", round, statuses)
			}
			boss = e.login(survivor.Email, testPassword)
		}
	})
}

// Two creations with one address: one wins, the other is a 409, never a 500.
func TestDuplicateEmailUnderConcurrency(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		adm := e.admin().AccessToken
		const n = 6
		statuses := make([]int, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				email := "race@example.com"
				if i%2 == 1 {
					email = "RACE@example.com"
				}
				statuses[i] = e.do("POST", "/api/v1/users", adm, map[string]any{"email": email, "password": testPassword, "role": "viewer"}).Status
			}()
		}
		wg.Wait()
		created := 0
		for _, s := range statuses {
			switch s {
			case 201:
				created++
			case 409:
			default:
				t.Fatalf("statuses %v", statuses)
			}
		}
		if created != 1 {
			t.Fatalf("statuses %v", statuses)
		}
	})
}
