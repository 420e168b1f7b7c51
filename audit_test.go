package quire

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func chain(n int) []*AuditEntry {
	prev := GenesisHash
	var out []*AuditEntry
	for i := 1; i <= n; i++ {
		e := &AuditEntry{Seq: int64(i), ID: "id" + string(rune('a'+i)), At: time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC),
			Action: ActionUserCreate, ResourceType: "user", ResourceID: "u", Details: []byte(`{"after":{"email":"a<b>@x.io"}}`), PrevHash: prev}
		e.Hash = e.ComputeHash()
		prev = e.Hash
		out = append(out, e)
	}
	return out
}

func verify(entries []*AuditEntry) AuditVerification {
	v := NewChainVerifier()
	for _, e := range entries {
		if !v.Next(e) {
			break
		}
	}
	return v.Result
}

func TestChainVerifier(t *testing.T) {
	if r := verify(chain(5)); !r.OK || r.Entries != 5 {
		t.Fatalf("intact chain: %+v", r)
	}
	edited := chain(5)
	edited[2].Action = "user.delete"
	deleted := chain(5)
	deleted = append(deleted[:1], deleted[2:]...)
	reordered := chain(5)
	reordered[1], reordered[2] = reordered[2], reordered[1]
	for name, tc := range map[string]struct {
		entries []*AuditEntry
		bad     int64
	}{"edited": {edited, 3}, "deleted": {deleted, 3}, "reordered": {reordered, 3}} {
		r := verify(tc.entries)
		if r.OK || r.FirstBad != tc.bad {
			t.Errorf("%s: got %+v, want first bad seq %d", name, r, tc.bad)
		}
	}
}

func TestCanonicalIsStable(t *testing.T) {
	e := chain(1)[0]
	got := string(e.Canonical())
	want := `["quire-audit-v1",1,"idb","2026-01-02T03:04:05.123456Z",null,"user.create","user","u","{\"after\":{\"email\":\"a<b>@x.io\"}}","","","` + GenesisHash + `"]`
	if got != want {
		t.Fatalf("canonical encoding changed:\n got %s\nwant %s", got, want)
	}
}

func TestChangesRedactsSecrets(t *testing.T) {
	d := Changes(map[string]any{"email": "a@x.io", "password": "old-secret"}, map[string]any{"email": "b@x.io", "password": "new-secret", "role": "admin"})
	s := strings.Join([]string{toString(d["before"]), toString(d["after"])}, " ")
	if strings.Contains(s, "secret") {
		t.Fatalf("secret leaked into details: %v", d)
	}
	if d["after"].(map[string]any)["email"] != "b@x.io" {
		t.Fatalf("change missing: %v", d)
	}
	same := Changes(map[string]any{"a": 1}, map[string]any{"a": 1})
	if len(same["after"].(map[string]any)) != 0 {
		t.Fatalf("unchanged field reported: %v", same)
	}
}

func toString(v any) string {
	m, _ := v.(map[string]any)
	var b strings.Builder
	for k, v := range m {
		b.WriteString(k)
		if s, ok := v.(string); ok {
			b.WriteString(s)
		}
	}
	return b.String()
}

// The worked example of docs/audit.md: two entries without a token (the
// v1 encoding every entry had before tokens were recorded, whose hashes
// must never change) and one made with an API token (v2).
func TestCanonicalDocumentedExample(t *testing.T) {
	e1 := &AuditEntry{Seq: 1, ID: "01a21b1e-b037-7031-981d-e4d5e38c17d1", At: time.Date(2026, 11, 27, 3, 48, 45, 751000000, time.UTC),
		Action: "user.create", ResourceType: "user", ResourceID: "01a21b1e-b036-7c3e-a2d4-5f0e8b1c9d27",
		Details:  json.RawMessage(`{"after":{"active":true,"display_name":"Zoë \"Z\" \u003cz\u003e","email":"zoe@example.com","role":"editor"}}`),
		PrevHash: GenesisHash}
	e2 := &AuditEntry{Seq: 2, ID: "01a21b1e-f2a0-7b11-8c3d-0a9e4f6b2c18", At: time.Date(2026, 11, 27, 3, 49, 2, 123456000, time.UTC),
		UserID: "01a21b1e-b036-7c3e-a2d4-5f0e8b1c9d27", Action: "auth.login", ResourceType: "user", ResourceID: "01a21b1e-b036-7c3e-a2d4-5f0e8b1c9d27",
		Details: json.RawMessage(`{"session_id":"01a21b1e-f29f-7e55-9d0b-3c7a1e2f4d60"}`), RequestID: "69fa5afe72fc5e800b91f374ee2218b5", IP: "203.0.113.7"}
	e3 := &AuditEntry{Seq: 3, ID: "01a21b1f-0c41-7d02-9a6e-5b3c2d1e0f99", At: time.Date(2026, 11, 27, 3, 50, 10, 500000000, time.UTC),
		UserID: "01a21b1d-9e00-7c00-8000-000000000001", APITokenID: "01a21b1e-d000-7e00-9f00-0123456789ab", APITokenName: "site build",
		Action: "page.create", ResourceType: "page", ResourceID: "01a21b1f-0c40-7a11-b2c3-d4e5f6a7b8c9",
		Details: json.RawMessage(`{"after":{"slug":"about","title":"About"}}`), RequestID: "7d1c0e5f9a2b4c6d8e0f1a2b3c4d5e6f", IP: "198.51.100.4"}
	v := NewChainVerifier()
	for _, c := range []struct {
		e    *AuditEntry
		hash string
	}{
		{e1, "a89b9febf69abf4d2cb9d905823d819818f12d298b61965c1da5d2bde7db15c9"},
		{e2, "b0870df829b27ac94700e2ecb6c779396ab15493d6d0d2772b473819b80dd7dc"},
		{e3, "aa8c625374d4b88c5480f4ac603e0712afcbd3f314ec972c936ef6c8f33a0345"},
	} {
		if c.e.Seq > 1 {
			c.e.PrevHash = v.prevHash
		}
		c.e.Hash = c.hash
		if got := c.e.ComputeHash(); got != c.hash {
			t.Fatalf("entry %d hashes to %s, docs/audit.md says %s", c.e.Seq, got, c.hash)
		}
		if !v.Next(c.e) {
			t.Fatalf("entry %d does not verify: %+v", c.e.Seq, v.Result)
		}
	}
	want := `["quire-audit-v2",3,"01a21b1f-0c41-7d02-9a6e-5b3c2d1e0f99","2026-11-27T03:50:10.500000Z","01a21b1d-9e00-7c00-8000-000000000001",` +
		`"01a21b1e-d000-7e00-9f00-0123456789ab","site build","page.create","page","01a21b1f-0c40-7a11-b2c3-d4e5f6a7b8c9",` +
		`"{\"after\":{\"slug\":\"about\",\"title\":\"About\"}}","7d1c0e5f9a2b4c6d8e0f1a2b3c4d5e6f","198.51.100.4",` +
		`"b0870df829b27ac94700e2ecb6c779396ab15493d6d0d2772b473819b80dd7dc"]`
	if got := string(e3.Canonical()); got != want {
		t.Fatalf("v2 encoding:\n got %s\nwant %s", got, want)
	}

	// Removing the token from an entry, or adding one to an old entry, or
	// moving the name into the id, changes its hash.
	for name, edit := range map[string]func(e *AuditEntry){
		"token removed":      func(e *AuditEntry) { e.APITokenID, e.APITokenName = "", "" },
		"token id removed":   func(e *AuditEntry) { e.APITokenID = "" },
		"token name removed": func(e *AuditEntry) { e.APITokenName = "" },
		"token name changed": func(e *AuditEntry) { e.APITokenName = "other" },
		"fields swapped":     func(e *AuditEntry) { e.APITokenID, e.APITokenName = e.APITokenName, e.APITokenID },
		"token added to v1":  func(e *AuditEntry) { e.Seq, e.APITokenID, e.APITokenName = 2, "t", "n" },
		"name only on v1":    func(e *AuditEntry) { e.Seq, e.APITokenID, e.APITokenName = 2, "", "n" },
	} {
		src := e3
		if strings.HasSuffix(name, "v1") {
			src = e2
		}
		c := *src
		edit(&c)
		if c.ComputeHash() == src.Hash {
			t.Errorf("%s: hash unchanged", name)
		}
	}
}
