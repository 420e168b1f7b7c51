package quire

import (
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
