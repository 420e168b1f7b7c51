package service

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/auth"
	"github.com/quirecms/quire/internal/testdb"
)

// The sign-in limits: a wrong guess from one address is refused (429)
// past the pair limit there, while the same account from another address
// still signs in; failures of one account from many addresses only slow
// its sign-ins down, doubling up to 30 s, and its owner still gets in.
func TestSignInLimitsDelayRatherThanLockOut(t *testing.T) {
	testdb.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := testdb.Open(t, dsn)
		hasher := auth.NewHasher(auth.FastArgon2)
		issuer, err := auth.NewIssuer([]byte("0123456789abcdef0123456789abcdef"), "quire", "quire-api", time.Minute, nil)
		if err != nil {
			t.Fatal(err)
		}
		var slept []time.Duration
		a := NewAuth(db, AuthConfig{Hasher: hasher, Issuer: issuer, RefreshTTL: time.Hour, AccountFailures: 3, AddrFailures: 100,
			Window: time.Hour, Sleep: func(_ context.Context, d time.Duration) { slept = append(slept, d) }})
		if _, err := NewUsers(db, hasher, nil).CreateSystem(ctx, NewUser{Email: "own@example.com", Password: "the right password", Role: quire.RoleViewer}); err != nil {
			t.Fatal(err)
		}
		from := func(ip string) context.Context { return WithMeta(ctx, Meta{IP: ip}) }
		for i := 0; i < 3; i++ {
			if _, err := a.SignIn(from("198.51.100.1"), "own@example.com", "wrong"); quire.ErrorCode(err) != quire.EUNAUTHORIZED {
				t.Fatalf("guess %d: %v", i, err)
			}
		}
		if _, err := a.SignIn(from("198.51.100.1"), "own@example.com", "wrong"); quire.ErrorCode(err) != quire.ETOOMANY {
			t.Fatalf("fourth guess from one address: %v, want 429", err)
		}
		// The owner elsewhere is not locked out, nor slowed yet.
		if res, err := a.SignIn(from("203.0.113.9"), "own@example.com", "the right password"); err != nil || res.Tokens == nil {
			t.Fatalf("owner: %v", err)
		}
		if len(slept) != 0 {
			t.Fatalf("delayed before the account threshold: %v", slept)
		}
		// Guesses from many addresses: past 2×3 failures, each attempt waits
		// 1 s, 2 s, 4 s, … at most 30 s; none is refused.
		for i := 0; i < 12; i++ {
			if _, err := a.SignIn(from(fmt.Sprintf("192.0.2.%d", i)), "own@example.com", "wrong"); quire.ErrorCode(err) != quire.EUNAUTHORIZED {
				t.Fatalf("guess from address %d: %v", i, err)
			}
		}
		want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 30 * time.Second, 30 * time.Second, 30 * time.Second, 30 * time.Second}
		if fmt.Sprint(slept) != fmt.Sprint(want) {
			t.Fatalf("delays %v, want %v", slept, want)
		}
		if res, err := a.SignIn(from("203.0.113.9"), "own@example.com", "the right password"); err != nil || res.Tokens == nil {
			t.Fatalf("owner under attack: %v", err)
		}
		if slept[len(slept)-1] != 30*time.Second {
			t.Fatal("the owner's attempt was not delayed like everyone's")
		}
	})
}
