package service

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/auth"
	"github.com/quirecms/quire/internal/store"
	"github.com/quirecms/quire/internal/testdb"
)

// countingMail counts the mail queued through it.
type countingMail struct {
	mu sync.Mutex
	n  int
}

func (m *countingMail) Enabled() bool { return true }

func (m *countingMail) Queue(context.Context, *store.Tx, string, string, map[string]any) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.n++
	return nil
}

func (m *countingMail) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.n
}

// The password reset and invitation link limits hold across nodes: two
// services on one database (as two nodes run them on PostgreSQL, where
// the server counts in login_failures) share their counts, so a client
// alternating between them gets no more than the limit.
func TestResetLimitsSharedAcrossNodes(t *testing.T) {
	testdb.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := testdb.Open(t, dsn)
		hasher := auth.NewHasher(auth.FastArgon2)
		if _, err := NewUsers(db, hasher, nil).CreateSystem(ctx, NewUser{Email: "own@example.com", Password: "the right password", Role: quire.RoleViewer}); err != nil {
			t.Fatal(err)
		}
		mail := &countingMail{}
		var nodes [2]*Recovery
		var invites [2]*Invitations
		for i := range nodes {
			nodes[i] = NewRecovery(db, RecoveryConfig{Hasher: hasher, Mail: mail, PublicURL: "https://quire.example",
				MinDuration: time.Millisecond, Failures: func(scope string) auth.Failures { return db.LoginFailures(scope) }})
			invites[i] = NewInvitations(db, nodes[i])
		}
		from := func(ip string) context.Context { return WithMeta(ctx, Meta{IP: ip}) }

		// At most 3 mails per address per hour, wherever asked.
		for i := range 6 {
			if err := nodes[i%2].Forgot(from("198.51.100.1"), "own@example.com"); err != nil {
				t.Fatalf("request %d: %v", i, err)
			}
		}
		if got := mail.count(); got != resetsPerAddress {
			t.Errorf("%d mails to one address from two nodes, want %d", got, resetsPerAddress)
		}

		// At most 20 requests per client, wherever sent.
		for i := range resetsPerClient {
			if err := nodes[i%2].Forgot(from("198.51.100.2"), fmt.Sprintf("n%d@example.com", i)); err != nil {
				t.Fatalf("request %d: %v", i, err)
			}
		}
		for i, n := range nodes {
			if err := n.Forgot(from("198.51.100.2"), "more@example.com"); quire.ErrorCode(err) != quire.ETOOMANY {
				t.Errorf("node %d, request past the client limit: %v, want 429", i, err)
			}
		}

		// Failed resets and failed invitation acceptances count against
		// the client on every node.
		for i := range resetsPerClient {
			if err := nodes[i%2].Reset(from("198.51.100.3"), "qpr_unknown", "a new long password"); quire.ErrorCode(err) != quire.EINVALID {
				t.Fatalf("bad reset %d: %v", i, err)
			}
			if _, err := invites[i%2].Accept(from("198.51.100.3"), AcceptInvitation{Token: "qiv_unknown", Password: "a new long password", DisplayName: "X"}); quire.ErrorCode(err) != quire.EINVALID {
				t.Fatalf("bad acceptance %d: %v", i, err)
			}
		}
		for i := range nodes {
			if err := nodes[i].Reset(from("198.51.100.3"), "qpr_unknown", "a new long password"); quire.ErrorCode(err) != quire.ETOOMANY {
				t.Errorf("node %d, reset past the limit: %v, want 429", i, err)
			}
			if _, err := invites[i].Accept(from("198.51.100.3"), AcceptInvitation{Token: "qiv_unknown", Password: "a new long password", DisplayName: "X"}); quire.ErrorCode(err) != quire.ETOOMANY {
				t.Errorf("node %d, acceptance past the limit: %v, want 429", i, err)
			}
		}
		// Another client is not affected.
		if err := nodes[1].Reset(from("198.51.100.4"), "qpr_unknown", "a new long password"); quire.ErrorCode(err) != quire.EINVALID {
			t.Errorf("another client: %v", err)
		}
	})
}
