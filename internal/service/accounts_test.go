package service

import (
	"context"
	"testing"
	"time"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/auth"
	"github.com/quirecms/quire/internal/store"
	"github.com/quirecms/quire/internal/testdb"
)

// The cache answers from memory within its TTL (a change made behind its
// back, as another node would, is not seen), reads again after it, and
// Forget makes the next read see the database at once.
func TestAccountCache(t *testing.T) {
	testdb.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := testdb.Open(t, dsn)
		u := &quire.User{Email: "c@example.com", Role: quire.RoleAdmin, Active: true}
		s := &store.Session{ExpiresAt: time.Now().Add(time.Hour)}
		err := db.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.CreateUser(ctx, u, "hash"); err != nil {
				return err
			}
			s.UserID = u.ID
			return tx.CreateSession(ctx, s)
		})
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		c := NewAccountCache(2*time.Second, func() time.Time { return now })
		role := func() quire.Role {
			t.Helper()
			got, err := c.user(ctx, db.Reader(), u.ID)
			if err != nil {
				t.Fatal(err)
			}
			return got.Role
		}
		revoked := func() bool {
			t.Helper()
			got, err := c.session(ctx, db.Reader(), s.ID)
			if err != nil {
				t.Fatal(err)
			}
			return got.RevokedAt != nil
		}

		if role() != quire.RoleAdmin || revoked() {
			t.Fatal("first read")
		}
		testdb.Tamper(t, dsn, `UPDATE users SET role = 'viewer' WHERE id = ?`, u.ID)
		testdb.Tamper(t, dsn, `UPDATE auth_sessions SET revoked_at = expires_at WHERE id = ?`, s.ID)
		now = now.Add(1900 * time.Millisecond)
		if role() != quire.RoleAdmin || revoked() {
			t.Fatal("within the TTL the cache was not used")
		}
		now = now.Add(200 * time.Millisecond)
		if role() != quire.RoleViewer || !revoked() {
			t.Fatal("after the TTL the change is not seen")
		}

		testdb.Tamper(t, dsn, `UPDATE users SET role = 'editor' WHERE id = ?`, u.ID)
		c.Forget()
		if role() != quire.RoleEditor {
			t.Fatal("Forget did not drop the entry")
		}

		// A nil cache and a zero TTL read every time.
		for _, nc := range []*AccountCache{nil, NewAccountCache(0, nil)} {
			testdb.Tamper(t, dsn, `UPDATE users SET role = 'author' WHERE id = ?`, u.ID)
			if got, _ := nc.user(ctx, db.Reader(), u.ID); got.Role != quire.RoleAuthor {
				t.Fatal("uncached read")
			}
			testdb.Tamper(t, dsn, `UPDATE users SET role = 'editor' WHERE id = ?`, u.ID)
		}
	})
}

// BenchmarkAuthenticate measures an access token's authentication with
// and without the account cache (SQLite): what every authenticated
// request pays before its handler runs.
func BenchmarkAuthenticate(b *testing.B) {
	ctx := context.Background()
	db, err := store.Open(ctx, testdb.SQLite(b))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	u := &quire.User{Email: "b@example.com", Role: quire.RoleEditor, Active: true}
	s := &store.Session{ExpiresAt: time.Now().Add(time.Hour)}
	err = db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.CreateUser(ctx, u, "hash"); err != nil {
			return err
		}
		s.UserID = u.ID
		return tx.CreateSession(ctx, s)
	})
	if err != nil {
		b.Fatal(err)
	}
	issuer, err := auth.NewIssuer([]byte("0123456789abcdef0123456789abcdef"), "quire", "quire-api", time.Hour, nil)
	if err != nil {
		b.Fatal(err)
	}
	tok, _, err := issuer.Issue(u.ID, s.ID)
	if err != nil {
		b.Fatal(err)
	}
	for name, cache := range map[string]*AccountCache{"uncached": nil, "cached": NewAccountCache(AccountCacheTTL, nil)} {
		a := NewAuth(db, AuthConfig{Issuer: issuer, AccountFailures: 1, AddrFailures: 1, Window: time.Minute, Accounts: cache})
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := a.Authenticate(ctx, tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
