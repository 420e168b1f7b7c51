package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/store"
	"github.com/quirecms/quire/internal/testdb"
)

var testKey = []byte("a test key for audit checkpoints")

// each gives each test a migrated database on every engine.
func each(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	eachDSN(t, func(t *testing.T, db *store.DB, _ string) { fn(t, db) })
}

// eachDSN also passes the DSN, for tests that reach the database directly.
func eachDSN(t *testing.T, fn func(t *testing.T, db *store.DB, dsn string)) {
	testdb.Each(t, func(t *testing.T, dsn string) {
		fn(t, testdb.Open(t, dsn), dsn)
	})
}

func mustUser(t *testing.T, db *store.DB, email string, role quire.Role) *quire.User {
	t.Helper()
	u := &quire.User{Email: email, Role: role, Active: true}
	if err := db.InTx(context.Background(), func(tx *store.Tx) error { return tx.CreateUser(context.Background(), u, "hash") }); err != nil {
		t.Fatal(err)
	}
	return u
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := quire.ErrorCode(err); got != code {
		t.Fatalf("error code = %s (%v), want %s", got, err, code)
	}
}

func TestMigrateIsIdempotent(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if err := db.Migrate(ctx); err != nil {
			t.Fatalf("second migrate: %v", err)
		}
		st, err := db.MigrationStatus(ctx)
		if err != nil || len(st) == 0 || !st[0].Applied {
			t.Fatalf("status = %+v, %v", st, err)
		}
	})
}

func TestUsers(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		u := mustUser(t, db, "ann@example.com", quire.RoleEditor)

		got, err := db.Reader().User(ctx, u.ID)
		if err != nil || got.Email != u.Email || got.Role != quire.RoleEditor || !got.Active || got.Version != 1 {
			t.Fatalf("User = %+v, %v", got, err)
		}
		if !got.CreatedAt.Equal(u.CreatedAt) || got.CreatedAt.Location() != time.UTC {
			t.Fatalf("created_at round trip: %v vs %v", got.CreatedAt, u.CreatedAt)
		}
		_, hash, err := db.Reader().UserByEmail(ctx, "ANN@example.com")
		if err != nil || hash != "hash" {
			t.Fatalf("UserByEmail: %q %v", hash, err)
		}

		// Case-insensitive uniqueness is the database's job, not only the service's.
		err = db.InTx(ctx, func(tx *store.Tx) error {
			return tx.CreateUser(ctx, &quire.User{Email: "ANN@example.com", Role: quire.RoleViewer}, "h")
		})
		wantCode(t, err, quire.ECONFLICT)

		// A role outside the enum is refused by the CHECK constraint.
		err = db.InTx(ctx, func(tx *store.Tx) error {
			return tx.CreateUser(ctx, &quire.User{Email: "x@example.com", Role: "root"}, "h")
		})
		wantCode(t, err, quire.EINVALID)

		// Optimistic concurrency: a stale version is a precondition failure.
		stale := *got
		got.DisplayName = "Ann"
		if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.UpdateUser(ctx, got) }); err != nil {
			t.Fatal(err)
		}
		stale.DisplayName = "Lost update"
		wantCode(t, db.InTx(ctx, func(tx *store.Tx) error { return tx.UpdateUser(ctx, &stale) }), quire.EPRECONDITION)

		_, err = db.Reader().User(ctx, "nope")
		wantCode(t, err, quire.ENOTFOUND)
		wantCode(t, db.InTx(ctx, func(tx *store.Tx) error { return tx.DeleteUser(ctx, "nope") }), quire.ENOTFOUND)
	})
}

func TestUserListKeyset(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		for i := range 7 {
			mustUser(t, db, fmt.Sprintf("u%d@example.com", i), quire.RoleViewer)
		}
		var seen []string
		after := ""
		for {
			page, err := db.Reader().Users(ctx, after, 3)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			for _, u := range page {
				seen = append(seen, u.Email)
			}
			after = page[len(page)-1].ID
		}
		if len(seen) != 7 || seen[0] != "u0@example.com" || seen[6] != "u6@example.com" {
			t.Fatalf("pages = %v", seen)
		}
	})
}

func TestDeleteUserOwningContentIsConflict(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		u := mustUser(t, db, "owner@example.com", quire.RoleAuthor)
		// Insert a page directly: the content issue will bring its own store methods.
		err := db.InTx(ctx, func(tx *store.Tx) error {
			return store.ExecForTest(ctx, tx, `INSERT INTO pages (id, slug, title, created_by, updated_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
				store.NewID(), "home", "Home", u.ID, u.ID, tx.Now(), tx.Now())
		})
		if err != nil {
			t.Fatal(err)
		}
		wantCode(t, db.InTx(ctx, func(tx *store.Tx) error { return tx.DeleteUser(ctx, u.ID) }), quire.ECONFLICT)
		// And a reference to a user that does not exist is refused.
		err = db.InTx(ctx, func(tx *store.Tx) error {
			return store.ExecForTest(ctx, tx, `INSERT INTO pages (id, slug, title, created_by, updated_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
				store.NewID(), "other", "Other", "ghost", "ghost", tx.Now(), tx.Now())
		})
		if !errors.Is(err, store.ErrForeignKey) {
			t.Fatalf("want foreign key error, got %v", err)
		}
	})
}

func TestRefreshTokenSingleUse(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		u := mustUser(t, db, "r@example.com", quire.RoleViewer)
		s := &store.Session{UserID: u.ID, ExpiresAt: time.Now().Add(time.Hour)}
		var tok *store.RefreshToken
		err := db.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.CreateSession(ctx, s); err != nil {
				return err
			}
			if err := tx.AddRefreshToken(ctx, s.ID, "h1", time.Now().Add(time.Hour)); err != nil {
				return err
			}
			var err error
			tok, err = tx.RefreshTokenByHash(ctx, "h1")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		var wins int
		var mu sync.Mutex
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_ = db.InTx(ctx, func(tx *store.Tx) error {
					ok, err := tx.UseRefreshToken(ctx, tok.ID)
					if ok {
						mu.Lock()
						wins++
						mu.Unlock()
					}
					return err
				})
			}()
		}
		wg.Wait()
		if wins != 1 {
			t.Fatalf("%d goroutines used one refresh token, want exactly 1", wins)
		}
	})
}

func appendEntry(ctx context.Context, db *store.DB, action string) error {
	return db.InTx(ctx, func(tx *store.Tx) error {
		return tx.AppendAudit(ctx, &quire.AuditEntry{Action: action, ResourceType: "user", ResourceID: "x",
			Details: json.RawMessage(`{"after":{"note":"<b>&amp; ü"}}`)})
	})
}

func TestAuditChainConcurrentAndTamper(t *testing.T) {
	eachDSN(t, func(t *testing.T, db *store.DB, dsn string) {
		ctx := context.Background()
		var wg sync.WaitGroup
		errs := make(chan error, 40)
		for i := range 40 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- appendEntry(ctx, db, fmt.Sprintf("test.%d", i))
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		res, err := db.Reader().VerifyAudit(ctx, testKey)
		if err != nil || !res.OK || res.Entries != 40 {
			t.Fatalf("verify = %+v, %v", res, err)
		}
		entries, err := db.Reader().AuditEntries(ctx, store.AuditFilter{Limit: 100})
		if err != nil || len(entries) != 40 {
			t.Fatalf("entries: %d %v", len(entries), err)
		}
		victim := entries[20] // newest first, so seq 20
		testdb.Tamper(t, dsn, `UPDATE audit_log SET action = ? WHERE id = ?`, "user.delete", victim.ID)
		res, err = db.Reader().VerifyAudit(ctx, testKey)
		if err != nil || res.OK || res.FirstBadID != victim.ID {
			t.Fatalf("after tamper: %+v, %v (victim %s)", res, err, victim.ID)
		}
	})
}

// A rolled-back transaction leaves neither the change nor its audit entry.
func TestAuditRollsBackWithChange(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		err := db.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.CreateUser(ctx, &quire.User{Email: "gone@example.com", Role: quire.RoleViewer}, "h"); err != nil {
				return err
			}
			if err := tx.AppendAudit(ctx, &quire.AuditEntry{Action: quire.ActionUserCreate, ResourceType: "user", ResourceID: "x"}); err != nil {
				return err
			}
			return errors.New("boom")
		})
		if err == nil {
			t.Fatal("want error")
		}
		if n, _ := db.Reader().CountUsers(ctx); n != 0 {
			t.Fatalf("user survived rollback")
		}
		if e, _ := db.Reader().AuditEntries(ctx, store.AuditFilter{}); len(e) != 0 {
			t.Fatalf("audit entry survived rollback")
		}
	})
}

func TestOnePublishedRevisionPerPage(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		u := mustUser(t, db, "p@example.com", quire.RoleEditor)
		pageID := store.NewID()
		rev := func(n int, status string) error {
			return db.InTx(ctx, func(tx *store.Tx) error {
				return store.ExecForTest(ctx, tx, `INSERT INTO page_revisions (id, page_id, number, status, title, slug, created_by_user_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
					store.NewID(), pageID, n, status, "T", "t", u.ID, tx.Now())
			})
		}
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			return store.ExecForTest(ctx, tx, `INSERT INTO pages (id, slug, title, created_by, updated_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
				pageID, "p", "P", u.ID, u.ID, tx.Now(), tx.Now())
		}); err != nil {
			t.Fatal(err)
		}
		if err := rev(1, "published"); err != nil {
			t.Fatal(err)
		}
		wantCode(t, rev(2, "published"), quire.ECONFLICT)
		wantCode(t, rev(3, "bogus"), quire.EINVALID)
		if err := rev(4, "archived"); err != nil {
			t.Fatal(err)
		}
	})
}
