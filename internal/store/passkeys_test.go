package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/quirecms/quire/internal/store"
)

// A user's passkeys are read through passkeys_user_idx among many users'
// passkeys, never by a full scan. They are not paged (at most 20 a user),
// so they are not in listCases; PostgreSQL may sort those few rows after
// a bitmap index scan rather than walk the index in order, which is as
// cheap, so a sort step is accepted here.
func TestPasskeyListIsIndexRange(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		pg := db.Dialect() == store.Postgres
		ts, id := "'2026-01-01T00:00:00.000000Z'", "printf('u%08d', x % 500)"
		if pg {
			ts, id = "timestamptz '2026-01-01 00:00:00+00'", "'u' || lpad((x % 500)::text, 8, '0')"
		}
		series := "WITH RECURSIVE c(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM c WHERE x < %d) "
		err := db.InTx(ctx, func(tx *store.Tx) error {
			for _, s := range []string{
				fmt.Sprintf(series, 499) + `INSERT INTO users (id, email, hashed_password, role, display_name, active, last_token_issue, created_at, updated_at, version)
					SELECT ` + id + `, 'u' || x || '@example.com', 'x', 'editor', '', TRUE, ` + ts + `, ` + ts + `, ` + ts + `, 1 FROM c`,
				fmt.Sprintf(series, 4999) + `INSERT INTO passkeys (id, user_id, credential_id, public_key, name, created_at)
					SELECT 'k' || x, ` + id + `, 'cred' || x, 'pk', 'Key', ` + ts + ` FROM c`,
				`ANALYZE`,
			} {
				if err := store.ExecForTest(ctx, tx, s); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		var plans []store.Plan
		keys, err := store.Explaining(db, &plans).Passkeys(ctx, "u00000007")
		if err != nil || len(plans) != 1 {
			t.Fatalf("%d passkeys, %d plans, %v", len(keys), len(plans), err)
		}
		plan := plans[0].Plan
		bad := badPlan(db.Dialect(), plan)
		if bad == "a sort step" && strings.Contains(plan, "passkeys_user_idx") {
			bad = ""
		}
		if bad != "" {
			t.Errorf("%s\n%s\n%s", bad, plans[0].Query, plans[0].Plan)
		}
		if keys, err := db.Reader().Passkeys(ctx, "u00000007"); err != nil || len(keys) != 10 {
			t.Fatalf("%d passkeys, %v", len(keys), err)
		}
	})
}
