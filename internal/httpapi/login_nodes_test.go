package httpapi_test

import (
	"testing"

	"github.com/quirecms/quire/internal/config"
	"github.com/quirecms/quire/internal/testdb"
)

// Two nodes on one PostgreSQL count the same failed logins: failures
// spread over both reach the limit, and then both refuse the account, even
// with the right password. Per node counting would allow twice as many.
func TestLoginThrottleAcrossNodes(t *testing.T) {
	t.Parallel()
	dsn := testdb.Postgres(t)
	startMu.Lock()
	a := newJobsEnv(t, dsn, func(c *config.Config) { c.LoginFailures = 4 })
	startMu.Unlock()
	b := secondNode(t, a)
	for i := range 4 {
		n := a
		if i%2 == 1 {
			n = b
		}
		if r := n.loginResp(adminEmail, "a wrong password"); r.Status != 401 {
			t.Fatalf("failure %d: status %d: %s", i+1, r.Status, r.Body)
		}
	}
	for name, n := range map[string]*env{"a": a, "b": b} {
		r := n.loginResp(adminEmail, adminPassword)
		if r.Status != 429 {
			t.Fatalf("node %s after 4 failures on two nodes: status %d", name, r.Status)
		}
		wantProblem(t, r, 429, "")
	}
	if r := b.loginResp("other@example.com", "a wrong password"); r.Status != 401 {
		t.Fatalf("another account: status %d", r.Status)
	}
}
