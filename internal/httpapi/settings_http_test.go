package httpapi_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/quirecms/quire"
)

func TestSettingsLifecycle(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		admin := e.admin().AccessToken
		_, editor := e.newUser(quire.RoleEditor)
		_, author := e.newUser(quire.RoleAuthor)

		// Every JSON type is a value.
		for i, v := range []string{`"Quire"`, `7`, `-1.5e3`, `false`, `null`, `[1,"two",[3]]`, `{"a":{"b":[true,null]}}`} {
			key := "site.v" + string(rune('a'+i))
			r := e.do("PUT", "/api/v1/settings/"+key, admin, `{"value":`+v+`,"public":true}`).want(t, 201)
			var s quire.Setting
			r.json(t, &s)
			var got, want any
			_ = json.Unmarshal(s.Value, &got)
			_ = json.Unmarshal([]byte(v), &want)
			if gj, _ := json.Marshal(got); string(gj) != mustJSON(want) || !s.Public || r.Header.Get("ETag") != `"v1"` {
				t.Fatalf("PUT %s: %s (etag %s)", v, r.Body, r.Header.Get("ETag"))
			}
		}

		// Public document: every public setting, cached, ETag and 304.
		pub := e.do("GET", "/api/v1/public/settings", "", nil).want(t, 200)
		var doc map[string]any
		pub.json(t, &doc)
		if len(doc) != 7 || doc["site.va"] != "Quire" {
			t.Fatalf("public settings = %s", pub.Body)
		}
		tag := pub.Header.Get("ETag")
		e.do("GET", "/api/v1/public/settings", "", nil, "If-None-Match", tag).want(t, 304)

		// Editors read, authors do not, only admins write.
		e.do("GET", "/api/v1/settings/site.va", editor.AccessToken, nil).want(t, 200)
		e.do("GET", "/api/v1/settings", author.AccessToken, nil).want(t, 403)
		e.do("PUT", "/api/v1/settings/site.va", editor.AccessToken, `{"value":1}`).want(t, 403)

		// Private again: gone from the public document at once, new ETag.
		e.do("PUT", "/api/v1/settings/site.va", admin, `{"value":"Quire","public":false}`, "If-Match", `"v1"`).want(t, 200)
		pub2 := e.do("GET", "/api/v1/public/settings", "", nil, "If-None-Match", tag).want(t, 200)
		if strings.Contains(string(pub2.Body), "site.va") || pub2.Header.Get("ETag") == tag {
			t.Fatalf("private setting still public: %s", pub2.Body)
		}

		// Stale If-Match: 412 and nothing changes.
		e.do("PUT", "/api/v1/settings/site.va", admin, `{"value":"lost"}`, "If-Match", `"v1"`).want(t, 412)
		e.do("DELETE", "/api/v1/settings/site.va", admin, nil, "If-Match", `"v1"`).want(t, 412)
		var s quire.Setting
		e.do("GET", "/api/v1/settings/site.va", admin, nil).want(t, 200).json(t, &s)
		if string(s.Value) != `"Quire"` || s.Version != 2 {
			t.Fatalf("after stale writes: %+v", s)
		}
		e.do("DELETE", "/api/v1/settings/site.va", admin, nil, "If-Match", `"v2"`).want(t, 204)
		e.do("GET", "/api/v1/settings/site.va", admin, nil).want(t, 404)

		// Each write is audited with before and after.
		actions := strings.Join(e.auditActions(), " ")
		for _, a := range []string{"setting.create", "setting.update", "setting.delete"} {
			if !strings.Contains(actions, a) {
				t.Errorf("no %s in audit log: %s", a, actions)
			}
		}
		res := e.do("GET", "/api/v1/audit-log?action=setting.update", admin, nil).want(t, 200)
		if !strings.Contains(string(res.Body), `\"public\":false`) && !strings.Contains(string(res.Body), `"public":false`) {
			t.Fatalf("update entry lacks before/after: %s", res.Body)
		}
	})
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestSettingsBadInput(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		admin := e.admin().AccessToken
		big := `{"value":"` + strings.Repeat("x", 64<<10) + `"}`
		for name, tc := range map[string]struct {
			key, body string
			status    int
			field     string
		}{
			"uppercase key":    {"Site", `{"value":1}`, 422, "key"},
			"key starts digit": {"1site", `{"value":1}`, 422, "key"},
			"key too long":     {strings.Repeat("a", 101), `{"value":1}`, 422, "key"},
			"missing value":    {"site.x", `{"public":true}`, 422, "value"},
			"oversize value":   {"site.x", big, 413, "value"},
			"public not bool":  {"site.x", `{"value":1,"public":"yes"}`, 422, "public"},
			"unknown field":    {"site.x", `{"value":1,"secret":true}`, 422, "secret"},
			"malformed":        {"site.x", `{"value":`, 400, ""},
		} {
			t.Run(name, func(t *testing.T) {
				r := e.do("PUT", "/api/v1/settings/"+tc.key, admin, tc.body).want(t, tc.status)
				p := r.problem(t)
				if tc.field != "" && (len(p.Errors) == 0 || p.Errors[0].Field != tc.field) {
					t.Fatalf("problem does not name %s: %s", tc.field, r.Body)
				}
			})
		}
		var list struct{ Data []quire.Setting }
		e.do("GET", "/api/v1/settings", admin, nil).want(t, 200).json(t, &list)
		if len(list.Data) != 0 {
			t.Fatalf("bad input stored something: %+v", list.Data)
		}
	})
}

func TestAuditLogAPI(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		admin := e.admin().AccessToken
		for range 5 {
			e.newUser(quire.RoleViewer)
		}
		// Walk every page of user.create entries, newest first.
		var seen []quire.AuditEntry
		cursor := ""
		for {
			var page struct {
				Data       []quire.AuditEntry `json:"data"`
				NextCursor *string            `json:"next_cursor"`
			}
			e.do("GET", "/api/v1/audit-log?action=user.&limit=2"+cursor, admin, nil).want(t, 200).json(t, &page)
			seen = append(seen, page.Data...)
			if page.NextCursor == nil {
				break
			}
			cursor = "&cursor=" + *page.NextCursor
		}
		if len(seen) != 6 { // the bootstrapped admin and five more
			t.Fatalf("%d user.* entries, want 6", len(seen))
		}
		for i := 1; i < len(seen); i++ {
			if seen[i].Seq >= seen[i-1].Seq {
				t.Fatalf("not newest first")
			}
		}
		var one quire.AuditEntry
		e.do("GET", "/api/v1/audit-log/"+seen[0].ID, admin, nil).want(t, 200).json(t, &one)
		if one.Hash != seen[0].Hash {
			t.Fatalf("get by id: %+v", one)
		}
		e.do("GET", "/api/v1/audit-log?resource_type=user&resource_id="+seen[0].ResourceID, admin, nil).want(t, 200)
		e.do("GET", "/api/v1/audit-log?since=yesterday", admin, nil).want(t, 422)
		e.do("GET", "/api/v1/audit-log?cursor=!!", admin, nil).want(t, 422)
		e.do("GET", "/api/v1/audit-log/nope", admin, nil).want(t, 404)
		var v quire.AuditVerification
		e.do("GET", "/api/v1/audit-log/verify", admin, nil).want(t, 200).json(t, &v)
		if !v.OK || v.Entries < 10 {
			t.Fatalf("verify = %+v", v)
		}
	})
}
