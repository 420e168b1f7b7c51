package testdb

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"

	_ "modernc.org/sqlite"
)

// Tamper runs query (with ? placeholders) directly against the database at
// dsn with the audit log's append-only triggers out of the way, the way an
// attacker with the database owner's rights could. Tests use it to check
// that verification notices what the triggers cannot prevent.
func Tamper(t testing.TB, dsn, query string, args ...any) {
	t.Helper()
	ctx := context.Background()
	pg := strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
	driver, source := "sqlite", "file:"+dsn
	if pg {
		driver, source = "pgx", dsn
		n := 0
		var b strings.Builder
		for _, r := range query {
			if r == '?' {
				n++
				fmt.Fprintf(&b, "$%d", n)
				continue
			}
			b.WriteRune(r)
		}
		query = b.String()
	}
	db, err := sql.Open(driver, source)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var setup, teardown []string
	if pg {
		setup = []string{`ALTER TABLE audit_log DISABLE TRIGGER USER`, `ALTER TABLE audit_checkpoints DISABLE TRIGGER USER`}
		teardown = []string{`ALTER TABLE audit_log ENABLE TRIGGER USER`, `ALTER TABLE audit_checkpoints ENABLE TRIGGER USER`}
	} else {
		setup = []string{`PRAGMA busy_timeout = 10000`, `INSERT INTO audit_prune_guard (open) VALUES (1)`,
			`DROP TRIGGER IF EXISTS audit_log_no_update`, `DROP TRIGGER IF EXISTS audit_checkpoints_no_update`}
		teardown = []string{`DELETE FROM audit_prune_guard`,
			`CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END`,
			`CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only'); END`}
	}
	for _, q := range setup {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatalf("tamper setup %q: %v", q, err)
		}
	}
	_, err = conn.ExecContext(ctx, query, args...)
	for _, q := range teardown {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatalf("tamper teardown %q: %v", q, err)
		}
	}
	if err != nil {
		t.Fatalf("tamper %q: %v", query, err)
	}
}
