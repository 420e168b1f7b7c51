package httpapi_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sync"
	"testing"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/service"
)

type auditDetails struct {
	Before map[string]any `json:"before"`
	After  map[string]any `json:"after"`
}

func details(t *testing.T, en *quire.AuditEntry) (auditDetails, map[string]any) {
	t.Helper()
	var d auditDetails
	var all map[string]any
	if err := json.Unmarshal(en.Details, &d); err != nil {
		t.Fatalf("details of %s: %v", en.Action, err)
	}
	if err := json.Unmarshal(en.Details, &all); err != nil {
		t.Fatal(err)
	}
	return d, all
}

// Every action writes exactly one entry, by the right actor, about the
// right resource, recording what changed.
func TestAuditEntryPerAction(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		var adm service.TokenPair
		var u quire.User
		var us service.TokenPair
		var tok createdToken
		admin := func() string { return adm.AccessToken }
		steps := []struct {
			action       string
			actor        func() string // user id recorded, "" for none
			resourceType string
			resourceID   func() string
			act          func() *resp
			check        func(t *testing.T, d auditDetails, all map[string]any)
		}{
			{quire.ActionLogin, func() string { return adm.User.ID }, "user", func() string { return adm.User.ID },
				func() *resp { r := e.loginResp(adminEmail, adminPassword).want(t, 200); r.json(t, &adm); return r },
				func(t *testing.T, d auditDetails, all map[string]any) {
					if s, _ := all["session_id"].(string); s == "" {
						t.Fatalf("no session_id: %v", all)
					}
				}},
			{quire.ActionLoginFailed, func() string { return adm.User.ID }, "user", func() string { return adm.User.ID },
				func() *resp { return e.loginResp(adminEmail, "wrong password!").want(t, 401) },
				func(t *testing.T, d auditDetails, all map[string]any) {
					if all["email"] != adminEmail {
						t.Fatalf("details %v", all)
					}
				}},
			{quire.ActionLoginFailed, func() string { return "" }, "user", func() string { return "" },
				func() *resp { return e.loginResp("ghost@example.com", "wrong password!").want(t, 401) },
				func(t *testing.T, d auditDetails, all map[string]any) {
					if all["email"] != "ghost@example.com" {
						t.Fatalf("details %v", all)
					}
				}},
			{quire.ActionUserCreate, func() string { return adm.User.ID }, "user", func() string { return u.ID },
				func() *resp {
					r := e.do("POST", "/api/v1/users", admin(), map[string]any{"email": "audited@example.com", "password": testPassword, "role": "editor"}).want(t, 201)
					r.json(t, &u)
					return r
				},
				func(t *testing.T, d auditDetails, all map[string]any) {
					want := map[string]any{"email": "audited@example.com", "display_name": "", "role": "editor", "active": true}
					if d.Before != nil || !reflect.DeepEqual(d.After, want) {
						t.Fatalf("details %v", all)
					}
				}},
			{quire.ActionUserUpdate, func() string { return adm.User.ID }, "user", func() string { return u.ID },
				func() *resp { return e.patchUser(admin(), u.ID, map[string]any{"display_name": "Audrey"}).want(t, 200) },
				func(t *testing.T, d auditDetails, all map[string]any) {
					if !reflect.DeepEqual(d.Before, map[string]any{"display_name": ""}) || !reflect.DeepEqual(d.After, map[string]any{"display_name": "Audrey"}) {
						t.Fatalf("details %v", all)
					}
				}},
			{quire.ActionUserRoleChange, func() string { return adm.User.ID }, "user", func() string { return u.ID },
				func() *resp { return e.patchUser(admin(), u.ID, map[string]any{"role": "viewer"}).want(t, 200) },
				func(t *testing.T, d auditDetails, all map[string]any) {
					if !reflect.DeepEqual(d.Before, map[string]any{"role": "editor"}) || !reflect.DeepEqual(d.After, map[string]any{"role": "viewer"}) {
						t.Fatalf("details %v", all)
					}
				}},
			{quire.ActionUserUpdate, func() string { return adm.User.ID }, "user", func() string { return u.ID },
				func() *resp {
					return e.patchUser(admin(), u.ID, map[string]any{"password": "an admin-set password"}).want(t, 200)
				},
				func(t *testing.T, d auditDetails, all map[string]any) {
					if all["password_reset"] != true || len(d.Before) != 0 || len(d.After) != 0 {
						t.Fatalf("details %v", all)
					}
				}},
			{quire.ActionLogin, func() string { return u.ID }, "user", func() string { return u.ID },
				func() *resp {
					r := e.loginResp(u.Email, "an admin-set password").want(t, 200)
					r.json(t, &us)
					return r
				}, nil},
			{quire.ActionPasswordChange, func() string { return u.ID }, "user", func() string { return u.ID },
				func() *resp {
					r := e.do("POST", "/api/v1/auth/password", us.AccessToken, map[string]string{"current_password": "an admin-set password", "new_password": newPassword}).want(t, 200)
					r.json(t, &us)
					return r
				},
				func(t *testing.T, d auditDetails, all map[string]any) {
					if all["other_sessions_revoked"] != true {
						t.Fatalf("details %v", all)
					}
				}},
			{quire.ActionLogoutAll, func() string { return u.ID }, "user", func() string { return u.ID },
				func() *resp { return e.do("POST", "/api/v1/auth/logout-all", us.AccessToken, nil).want(t, 204) }, nil},
			{quire.ActionLogin, func() string { return u.ID }, "user", func() string { return u.ID },
				func() *resp {
					r := e.loginResp(u.Email, newPassword).want(t, 200)
					r.json(t, &us)
					return r
				}, nil},
			{quire.ActionLogout, func() string { return u.ID }, "session", nil,
				func() *resp {
					return e.do("POST", "/api/v1/auth/logout", "", map[string]string{"refresh_token": us.RefreshToken}).want(t, 204)
				}, nil},
			{quire.ActionUserDeactivate, func() string { return adm.User.ID }, "user", func() string { return u.ID },
				func() *resp { return e.patchUser(admin(), u.ID, map[string]any{"active": false}).want(t, 200) },
				func(t *testing.T, d auditDetails, all map[string]any) {
					if !reflect.DeepEqual(d.Before, map[string]any{"active": true}) || !reflect.DeepEqual(d.After, map[string]any{"active": false}) {
						t.Fatalf("details %v", all)
					}
				}},
			{quire.ActionUserDelete, func() string { return adm.User.ID }, "user", func() string { return u.ID },
				func() *resp { return e.do("DELETE", "/api/v1/users/"+u.ID, admin(), nil).want(t, 204) },
				func(t *testing.T, d auditDetails, all map[string]any) {
					want := map[string]any{"email": "audited@example.com", "display_name": "Audrey", "role": "viewer", "active": false}
					if d.After != nil || !reflect.DeepEqual(d.Before, want) {
						t.Fatalf("details %v", all)
					}
				}},
			{quire.ActionTokenCreate, func() string { return adm.User.ID }, "api_token", func() string { return tok.ID },
				func() *resp {
					r := e.do("POST", "/api/v1/api-tokens", admin(), map[string]any{"name": "ci", "role": "author", "scopes": []string{"content:write", "media"}}).want(t, 201)
					r.json(t, &tok)
					return r
				},
				func(t *testing.T, d auditDetails, all map[string]any) {
					if d.Before != nil || d.After["name"] != "ci" || d.After["role"] != "author" || d.After["prefix"] != tok.Prefix || d.After["created_by"] != adm.User.ID || d.After["scopes"] != "content:write media" {
						t.Fatalf("details %v", all)
					}
				}},
			{quire.ActionTokenRevoke, func() string { return adm.User.ID }, "api_token", func() string { return tok.ID },
				func() *resp { return e.do("DELETE", "/api/v1/api-tokens/"+tok.ID, admin(), nil).want(t, 204) },
				func(t *testing.T, d auditDetails, all map[string]any) {
					if d.After != nil || d.Before["name"] != "ci" || d.Before["role"] != "author" {
						t.Fatalf("details %v", all)
					}
				}},
			{quire.ActionRefreshReuse, func() string { return adm.User.ID }, "session", nil,
				func() *resp {
					old := adm.RefreshToken
					r := e.refresh(old).want(t, 200)
					r.json(t, &adm)
					return e.refresh(old).want(t, 401)
				}, nil},
		}
		for i, st := range steps {
			before := e.auditLog()
			r := st.act()
			after := e.auditLog()
			added := after[len(before):]
			if len(added) != 1 || added[0].Action != st.action {
				var got []string
				for _, en := range added {
					got = append(got, en.Action)
				}
				t.Fatalf("step %d: want one %s entry, got %v", i, st.action, got)
			}
			en := added[0]
			if en.UserID != st.actor() || en.ResourceType != st.resourceType {
				t.Fatalf("step %d %s: user %q resource type %q", i, st.action, en.UserID, en.ResourceType)
			}
			if st.resourceID != nil && en.ResourceID != st.resourceID() {
				t.Fatalf("step %d %s: resource %q, want %q", i, st.action, en.ResourceID, st.resourceID())
			}
			if en.RequestID != r.Header.Get("X-Request-Id") || en.IP != "192.0.2.1" {
				t.Fatalf("step %d %s: request %q (response %q), ip %q", i, st.action, en.RequestID, r.Header.Get("X-Request-Id"), en.IP)
			}
			if st.check != nil {
				d, all := details(t, en)
				st.check(t, d, all)
			}
		}
		// Reads and refused requests write nothing.
		adm = e.admin() // the reuse above ended the previous session
		before := len(e.auditLog())
		e.do("GET", "/api/v1/users", adm.AccessToken, nil).want(t, 200)
		e.me(adm.AccessToken).want(t, 200)
		e.do("GET", "/api/v1/users", "", nil).want(t, 401)
		e.do("POST", "/api/v1/users", adm.AccessToken, map[string]any{"email": adminEmail, "password": testPassword, "role": "viewer"}).want(t, 409)
		if n := len(e.auditLog()); n != before {
			t.Fatalf("%d entries for reads and refusals", n-before)
		}
		var v quire.AuditVerification
		e.do("GET", "/api/v1/audit-log/verify", adm.AccessToken, nil).want(t, 200).json(t, &v)
		if !v.OK || v.Entries != int64(before) || v.FirstBadID != "" {
			t.Fatalf("verify = %+v, want ok over %d entries", v, before)
		}
	})
}

// An entry edited, re-hashed or removed directly in the database is
// reported by the verifier, at the first entry that no longer fits.
func TestAuditVerifyDetectsTampering(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		// tamper edits the chain around target (an entry in the middle)
		// and returns the id the verifier must report.
		tamper func(e *env, target, next *quire.AuditEntry) string
	}{
		{"details edited", func(e *env, target, next *quire.AuditEntry) string {
			e.tamper(`UPDATE audit_log SET details = ? WHERE id = ?`, `{"after":{"email":"x@example.com","role":"viewer"}}`, target.ID)
			return target.ID
		}},
		{"details edited to equivalent JSON", func(e *env, target, next *quire.AuditEntry) string {
			e.tamper(`UPDATE audit_log SET details = ? WHERE id = ?`, " "+string(target.Details), target.ID)
			return target.ID
		}},
		{"action edited", func(e *env, target, next *quire.AuditEntry) string {
			e.tamper(`UPDATE audit_log SET action = ? WHERE id = ?`, quire.ActionUserUpdate, target.ID)
			return target.ID
		}},
		{"actor erased", func(e *env, target, next *quire.AuditEntry) string {
			e.tamper(`UPDATE audit_log SET user_id = NULL WHERE id = ?`, target.ID)
			return target.ID
		}},
		{"edited and re-hashed", func(e *env, target, next *quire.AuditEntry) string {
			forged := *target
			forged.Details = json.RawMessage(`{"after":{"role":"viewer"}}`)
			e.tamper(`UPDATE audit_log SET details = ?, hash = ? WHERE id = ?`, string(forged.Details), forged.ComputeHash(), target.ID)
			return next.ID
		}},
		{"deleted", func(e *env, target, next *quire.AuditEntry) string {
			e.tamper(`DELETE FROM audit_log WHERE id = ?`, target.ID)
			return next.ID
		}},
	}
	each(t, func(t *testing.T, e *env) {
		adm := e.admin().AccessToken
		var u quire.User
		e.do("POST", "/api/v1/users", adm, map[string]any{"email": "t@example.com", "password": testPassword, "role": "editor"}).want(t, 201).json(t, &u)
		e.patchUser(adm, u.ID, map[string]any{"display_name": "T"}).want(t, 200)
		verify := func(t *testing.T) quire.AuditVerification {
			t.Helper()
			var v quire.AuditVerification
			e.do("GET", "/api/v1/audit-log/verify", adm, nil).want(t, 200).json(t, &v)
			return v
		}
		if v := verify(t); !v.OK || v.FirstBadID != "" || v.Entries < 4 {
			t.Fatalf("before tampering: %+v", v)
		}
		log := e.auditLog()
		var target, next *quire.AuditEntry
		for i, en := range log {
			if en.Action == quire.ActionUserCreate && en.ResourceID == u.ID {
				target, next = en, log[i+1]
			}
		}
		if target == nil {
			t.Fatal("no user.create entry")
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				e := e.with(t)
				bad := c.tamper(e, target, next)
				if v := verify(t); v.OK || v.FirstBadID != bad {
					t.Fatalf("after tampering: %+v, want first_bad_id %s", v, bad)
				}
				// Put the original row back: the chain verifies again, so
				// the report above was about the edit and nothing else.
				var userID any
				if target.UserID != "" {
					userID = target.UserID
				}
				e.tamper(`DELETE FROM audit_log WHERE id = ?`, target.ID)
				e.tamper(`INSERT INTO audit_log (seq, id, at, user_id, action, resource_type, resource_id, details, request_id, ip, prev_hash, hash)
					VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
					target.Seq, target.ID, e.dbTime(target.At), userID, target.Action, target.ResourceType, target.ResourceID,
					string(target.Details), target.RequestID, target.IP, target.PrevHash, target.Hash)
				if v := verify(t); !v.OK {
					t.Fatalf("after restoring the entry: %+v", v)
				}
			})
		}
	})
}

// Concurrent writers never fork or break the chain.
func TestAuditChainUnderConcurrentWriters(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		adm := e.admin().AccessToken
		before := len(e.auditLog())
		const n = 20
		statuses := make([]int, 2*n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(2)
			go func() {
				defer wg.Done()
				statuses[i] = e.do("POST", "/api/v1/users", adm, map[string]any{"email": fmt.Sprintf("c%d@example.com", i), "password": testPassword, "role": "viewer"}).Status
			}()
			go func() {
				defer wg.Done()
				statuses[n+i] = e.loginResp(adminEmail, "wrong password!").Status
			}()
		}
		wg.Wait()
		for i, s := range statuses {
			if want := map[bool]int{true: 201, false: 401}[i < n]; s != want {
				t.Fatalf("request %d: status %d, want %d", i, s, want)
			}
		}
		log := e.auditLog()
		if len(log) != before+2*n {
			t.Fatalf("%d entries, want %d", len(log), before+2*n)
		}
		for i, en := range log {
			if en.Seq != int64(i+1) || (i > 0 && en.PrevHash != log[i-1].Hash) {
				t.Fatalf("entry %d (seq %d) does not link to the one before", i, en.Seq)
			}
		}
		var v quire.AuditVerification
		e.do("GET", "/api/v1/audit-log/verify", adm, nil).want(t, 200).json(t, &v)
		if !v.OK || v.Entries != int64(len(log)) {
			t.Fatalf("verify = %+v over %d entries", v, len(log))
		}
	})
}
