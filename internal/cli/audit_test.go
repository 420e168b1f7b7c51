package cli_test

import (
	"bufio"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/testdb"
)

// reverify checks exported lines the way an outside tool would: from the
// fields alone, starting at the first line's prev_hash.
func reverify(t *testing.T, out string) quire.AuditVerification {
	t.Helper()
	v := quire.NewChainVerifier()
	first := true
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var line struct {
			Seq                                               int64
			ID, At                                            string
			UserID                                            *string `json:"user_id"`
			Action, ResourceType, ResourceID, Details         string
			RequestID, IP, PrevHash, Hash                     string
			XResourceType, XResourceID, XRequestID, XPrevHash string `json:"-"`
		}
		raw := map[string]any{}
		if err := json.Unmarshal(sc.Bytes(), &raw); err != nil {
			t.Fatalf("line is not JSON: %s", sc.Text())
		}
		_ = json.Unmarshal(sc.Bytes(), &line)
		at, err := time.Parse(quire.AuditTimeLayout, raw["at"].(string))
		if err != nil {
			t.Fatalf("at %q is not in the canonical layout", raw["at"])
		}
		for _, k := range []string{"api_token_id", "api_token_name"} {
			if _, ok := raw[k].(string); !ok {
				t.Fatalf("line has no string %s: %s", k, sc.Text())
			}
		}
		e := &quire.AuditEntry{Seq: line.Seq, ID: line.ID, At: at, Action: line.Action,
			APITokenID: raw["api_token_id"].(string), APITokenName: raw["api_token_name"].(string),
			ResourceType: raw["resource_type"].(string), ResourceID: raw["resource_id"].(string),
			Details: json.RawMessage(raw["details"].(string)), RequestID: raw["request_id"].(string), IP: line.IP,
			PrevHash: raw["prev_hash"].(string), Hash: line.Hash}
		if line.UserID != nil {
			e.UserID = *line.UserID
		}
		if first {
			v.StartAt(e.Seq-1, e.PrevHash)
			first = false
		}
		if !v.Next(e) {
			break
		}
	}
	return v.Result
}

func TestAuditPruneAndExport(t *testing.T) {
	testdb.Each(t, func(t *testing.T, dsn string) {
		in := newInstance(t, dsn)
		in.must(password+"\n", "user", "create", "--email", "first@example.com", "--role", "admin")
		time.Sleep(10 * time.Millisecond)
		cut := time.Now().UTC().Format(time.RFC3339Nano)
		time.Sleep(10 * time.Millisecond)
		in.must(password+"\n", "user", "create", "--email", "second@example.com", "--role", "editor")

		full := in.must("", "audit", "export").stdout
		if n := strings.Count(full, "\n"); n != 2 {
			t.Fatalf("export has %d lines, want 2:\n%s", n, full)
		}
		if res := reverify(t, full); !res.OK || res.Entries != 2 {
			t.Fatalf("exported chain does not re-verify: %+v", res)
		}

		r := in.must("", "audit", "prune", "--before", cut)
		if !strings.Contains(r.stdout, "pruned 1 entries through seq 1") {
			t.Fatalf("prune said: %s", r.stdout)
		}
		if r := in.must("", "audit", "verify"); !strings.Contains(r.stdout, "ok: 2 entries verified") {
			t.Fatalf("verify after prune: %s", r.stdout)
		}
		after := in.must("", "audit", "export").stdout
		if !strings.Contains(after, `"action":"audit.prune"`) || strings.Contains(after, "first@example.com") {
			t.Fatalf("export after prune:\n%s", after)
		}
		if res := reverify(t, after); !res.OK {
			t.Fatalf("chain after prune does not re-verify: %+v", res)
		}
		if r := in.must("", "audit", "prune", "--before", cut); !strings.Contains(r.stdout, "nothing to prune") {
			t.Fatalf("second prune: %s", r.stdout)
		}
		since := in.must("", "audit", "export", "--since", cut).stdout
		if strings.Count(since, "\n") != 2 {
			t.Fatalf("--since export:\n%s", since)
		}

		// An edit that the triggers would refuse, made by the database owner,
		// is caught by the outside verifier too.
		testdb.Tamper(t, dsn, `UPDATE audit_log SET action = 'user.delete' WHERE action = 'user.create'`)
		if res := reverify(t, in.must("", "audit", "export").stdout); res.OK {
			t.Fatal("tampered export re-verifies")
		}
		if r := in.run("", "audit", "verify"); r.code != 1 {
			t.Fatalf("verify after tamper: exit %d %s", r.code, r.stdout)
		}
	})
}

func TestAuditPruneUsage(t *testing.T) {
	in := newInstance(t, testdb.SQLite(t))
	in.must(password+"\n", "user", "create", "--email", "a@example.com", "--role", "admin")
	for _, args := range [][]string{
		{"audit", "prune"},
		{"audit", "prune", "--before", "yesterday"},
		{"audit", "prune", "--before", time.Now().Add(time.Hour).Format(time.RFC3339)},
		{"audit", "export", "--format", "csv"},
	} {
		if r := in.run("", args...); r.code != 2 {
			t.Errorf("quire %v: exit %d, want 2 (stderr %s)", args, r.code, r.stderr)
		}
	}
}
