package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/quirecms/quire/internal/store"
)

// seedEndedRows puts n rows in every table the account prune covers, the
// row numbered x ending x seconds after 2026-01-01.
func seedEndedRows(t *testing.T, db *store.DB, n int) {
	t.Helper()
	pg := db.Dialect() == store.Postgres
	ts := func(seconds string) string {
		if pg {
			return fmt.Sprintf("(timestamptz '2026-01-01 00:00:00+00' + (%s) * interval '1 second')", seconds)
		}
		return fmt.Sprintf("(strftime('%%Y-%%m-%%dT%%H:%%M:%%S', 1767225600 + (%s), 'unixepoch') || '.000000Z')", seconds)
	}
	series := fmt.Sprintf("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < %d) ", n)
	hash := "substr('0000000000000000000000000000000000000000000000000000000000000000' || x, -64, 64)"
	if pg {
		hash = "lpad(x::text, 64, '0')"
	}
	stmts := []string{
		`INSERT INTO users (id, email, hashed_password, role, display_name, active, last_token_issue, created_at, updated_at, version)
			VALUES ('u1', 'u1@example.com', 'x', 'editor', '', TRUE, ` + ts("0") + `, ` + ts("0") + `, ` + ts("0") + `, 1)`,
		series + `INSERT INTO account_tokens (id, purpose, token_hash, user_id, email, created_at, expires_at)
			SELECT 'a' || x, 'reset', ` + hash + `, 'u1', 'u1@example.com', ` + ts("0") + `, ` + ts("x") + ` FROM c`,
		series + `INSERT INTO login_challenges (id, token_hash, user_id, created_at, expires_at)
			SELECT 'c' || x, ` + hash + `, 'u1', ` + ts("0") + `, ` + ts("x") + ` FROM c`,
		series + `INSERT INTO auth_sessions (id, user_id, created_at, expires_at)
			SELECT 's' || x, 'u1', ` + ts("0") + `, ` + ts("x") + ` FROM c`,
		series + `INSERT INTO refresh_tokens (id, session_id, token_hash, created_at, expires_at)
			SELECT 'r' || x, 's' || x, ` + hash + `, ` + ts("0") + `, ` + ts("x") + ` FROM c`,
		series + `INSERT INTO login_failures (id, key, at)
			SELECT 'f' || x, 'reset_client:k' || (x % 50), ` + ts("x") + ` FROM c`,
		`ANALYZE`,
	}
	ctx := context.Background()
	if err := db.InTx(ctx, func(tx *store.Tx) error {
		for _, s := range stmts {
			if err := store.ExecForTest(ctx, tx, s); err != nil {
				return fmt.Errorf("%.60s: %w", s, err)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// The daily prune deletes the account rows that ended before its cutoff,
// in batches that are each a range of an index, and nothing else.
func TestPruneAccountRows(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		const n = 3000
		seedEndedRows(t, db, n)
		cutoff := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(1000 * time.Second)

		for _, table := range store.EndedTablesForTest() {
			var plans []store.Plan
			ids, err := store.EndedIDsForTest(ctx, store.Explaining(db, &plans), table, cutoff, 100)
			if err != nil || len(ids) != 100 {
				t.Fatalf("%s: %d ids, %v", table, len(ids), err)
			}
			for _, p := range plans {
				if bad := badPlan(db.Dialect(), p.Plan); bad != "" {
					t.Errorf("%s: %s\n%s\n%s", table, bad, p.Query, p.Plan)
				}
			}
		}

		// A stop already passed deletes nothing.
		got, err := db.PruneAccountRows(ctx, cutoff, 100, time.Now().Add(-time.Second))
		if err != nil || len(got) != 0 {
			t.Fatalf("past stop: %v %v", got, err)
		}
		got, err = db.PruneAccountRows(ctx, cutoff, 128, time.Now().Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		for _, table := range store.EndedTablesForTest() {
			if table != "auth_sessions" && got[table] != 1000 {
				t.Errorf("%s: %d deleted, want 1000", table, got[table])
			}
			left, err := store.CountForTest(ctx, db, "SELECT id FROM "+table)
			if err != nil || left != n-1000 {
				t.Errorf("%s: %d left, want %d (%v)", table, left, n-1000, err)
			}
		}
		// The refresh tokens went with their sessions or before them.
		if got["auth_sessions"] != 1000 {
			t.Errorf("auth_sessions: %d deleted", got["auth_sessions"])
		}
		again, err := db.PruneAccountRows(ctx, cutoff, 128, time.Now().Add(time.Minute))
		for table, k := range again {
			if k != 0 || err != nil {
				t.Errorf("second run deleted %d of %s (%v)", k, table, err)
			}
		}
	})
}
