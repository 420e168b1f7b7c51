package httpapi_test

import (
	"encoding/json"
	"testing"

	"github.com/quirecms/quire"
)

// Finding 4: what an API token does is recorded with the token's id and
// name (and its maker as user_id), the chain still verifies, and the
// token fields are covered by the hash.
func TestAuditNamesAPIToken(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		adm := e.admin()
		c := e.createToken(adm.AccessToken, map[string]any{"name": "ci deploy", "role": "editor", "scopes": []string{"content:write", "media"}})
		page := e.createPage(c.Token, "from-ci", "From CI")
		e.do("POST", "/api/v1/pages/"+page.ID+"/publish", c.Token, map[string]any{}, "If-Match", ifMatch(page.Version)[1]).want(t, 200)
		media := e.mustUpload(c.Token, "ci.png", pngOf(3, 3, 7))
		byAdmin := e.createPage(adm.AccessToken, "by-hand", "By hand")

		var viaToken, viaSession []*quire.AuditEntry
		for _, en := range e.auditLog() {
			switch en.ResourceID {
			case page.ID, media.ID:
				viaToken = append(viaToken, en)
			case byAdmin.ID:
				viaSession = append(viaSession, en)
			}
		}
		if len(viaToken) != 3 || len(viaSession) != 1 {
			t.Fatalf("%d token entries, %d session entries", len(viaToken), len(viaSession))
		}
		for _, en := range viaToken {
			if en.UserID != adm.User.ID || en.APITokenID != c.ID || en.APITokenName != "ci deploy" {
				t.Fatalf("%s recorded as user %q token %q %q", en.Action, en.UserID, en.APITokenID, en.APITokenName)
			}
		}
		if en := viaSession[0]; en.UserID != adm.User.ID || en.APITokenID != "" || en.APITokenName != "" {
			t.Fatalf("session entry carries a token: %+v", en)
		}

		// The API shows and filters by the token.
		var l struct {
			Data []map[string]any `json:"data"`
		}
		e.do("GET", "/api/v1/audit-log?api_token_id="+c.ID, adm.AccessToken, nil).want(t, 200).json(t, &l)
		if len(l.Data) != 3 {
			t.Fatalf("filter by token: %d entries", len(l.Data))
		}
		for _, d := range l.Data {
			if d["api_token_id"] != c.ID || d["api_token_name"] != "ci deploy" {
				t.Fatalf("entry %v", d)
			}
		}
		var v quire.AuditVerification
		e.do("GET", "/api/v1/audit-log/verify", adm.AccessToken, nil).want(t, 200).json(t, &v)
		if !v.OK {
			t.Fatalf("chain does not verify: %+v", v)
		}

		// Erasing the token from an entry is caught by verification.
		target := viaToken[0]
		e.tamper(`UPDATE audit_log SET api_token_id = '', api_token_name = '' WHERE id = ?`, target.ID)
		e.do("GET", "/api/v1/audit-log/verify", adm.AccessToken, nil).want(t, 200).json(t, &v)
		if v.OK || v.FirstBadID != target.ID {
			t.Fatalf("tampered token fields not caught: %+v", v)
		}
	})
}

// Finding 4: refused attempts on administrative routes are audited as
// auth.forbidden, one entry per caller and route a minute with a count.
func TestForbiddenAttemptsAudited(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		adm := e.admin().AccessToken
		editor, es := e.newUser(quire.RoleEditor)
		_, vs := e.newUser(quire.RoleViewer)
		admTok := e.createToken(adm, map[string]any{"name": "leaked", "role": "admin", "scopes": []string{"admin"}})
		roTok := e.createToken(adm, map[string]any{"name": "front-end", "role": "admin", "scopes": []string{"content:read"}})

		for range 5 {
			wantProblem(t, e.do("GET", "/api/v1/users", es.AccessToken, nil), 403, "")
		}
		wantProblem(t, e.do("PUT", "/api/v1/settings/site.title", es.AccessToken, map[string]any{"value": "x"}), 403, "")
		for range 3 {
			wantProblem(t, e.do("POST", "/api/v1/users", admTok.Token, map[string]any{"email": "m@example.com", "password": testPassword, "role": "admin"}), 403, "")
		}
		wantProblem(t, e.do("GET", "/api/v1/audit-log", roTok.Token, nil), 403, "")
		// Not administrative, or not authenticated: not recorded.
		wantProblem(t, e.do("POST", "/api/v1/pages", vs.AccessToken, map[string]any{"slug": "x", "title": "x"}), 403, "")
		want401(t, e.do("GET", "/api/v1/users", "", nil))

		type refusal struct {
			user, token, route, reason string
			count                      float64
		}
		var got []refusal
		for _, en := range e.auditLog() {
			if en.Action != quire.ActionForbidden {
				continue
			}
			var d map[string]any
			if err := json.Unmarshal(en.Details, &d); err != nil || en.ResourceType != "route" {
				t.Fatalf("entry %+v", en)
			}
			count, _ := d["count"].(float64)
			reason, _ := d["reason"].(string)
			got = append(got, refusal{en.UserID, en.APITokenID, en.ResourceID, reason, count})
		}
		admID := e.admin().User.ID
		want := []refusal{
			{editor.ID, "", "GET /api/v1/users", "role", 1},
			{editor.ID, "", "PUT /api/v1/settings/{key}", "role", 1},
			{admID, admTok.ID, "POST /api/v1/users", "session_required", 1},
			{admID, roTok.ID, "GET /api/v1/audit-log", "scope", 1},
		}
		if len(got) != len(want) {
			t.Fatalf("auth.forbidden entries:\n got %+v\nwant %+v", got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("entry %d: got %+v, want %+v", i, got[i], want[i])
			}
		}
		var v quire.AuditVerification
		e.do("GET", "/api/v1/audit-log/verify", adm, nil).want(t, 200).json(t, &v)
		if !v.OK {
			t.Fatalf("chain does not verify: %+v", v)
		}
	})
}
