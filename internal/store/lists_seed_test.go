package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/quirecms/quire/internal/store"
)

// seedLists fills every listed table with n rows in a few bulk statements
// (fast enough for 100,000 rows in a benchmark's setup). Timestamps repeat
// (ten rows share each created_at, seven each updated_at), so keyset
// cursors are tested at ties. Row x (1…n):
//   - user u<x>; pages, media and tokens belong to users u1…u5 (x%5+1);
//   - page p<x>: published when x is even (its revision r<x>), with
//     unpublished changes when x%4 == 2;
//   - page p1 has min(n, 300) draft revisions;
//   - media m<x>: image/png, application/pdf or image/jpeg by x%3,
//     deleted when x%10 == 0; setting k<x>, public when x is even;
//   - token t<x>; audit entry seq x.
func seedLists(tb testing.TB, db *store.DB, n int) {
	tb.Helper()
	pg := db.Dialect() == store.Postgres
	pad := func(prefix, x string, width int) string {
		if pg {
			return fmt.Sprintf("'%s' || lpad((%s)::text, %d, '0')", prefix, x, width)
		}
		return fmt.Sprintf("'%s' || printf('%%0%dd', %s)", prefix, width, x)
	}
	ts := func(seconds string) string {
		if pg {
			return fmt.Sprintf("(timestamptz '2026-01-01 00:00:00+00' + (%s) * interval '1 second')", seconds)
		}
		return fmt.Sprintf("(strftime('%%Y-%%m-%%dT%%H:%%M:%%S', 1767225600 + (%s), 'unixepoch') || '.000000Z')", seconds)
	}
	series := fmt.Sprintf("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < %d) ", n)
	user := pad("u", "x % 5 + 1", 8)
	stmts := []string{
		series + `INSERT INTO users (id, email, hashed_password, role, display_name, active, last_token_issue, created_at, updated_at, version)
			SELECT ` + pad("u", "x", 8) + `, 'u' || x || '@example.com', 'x', 'editor', '', TRUE, ` + ts("x / 10") + `, ` + ts("x / 10") + `, ` + ts("x / 10") + `, 1 FROM c`,
		series + `INSERT INTO pages (id, slug, title, created_by, updated_by, created_at, updated_at, version, content_hash)
			SELECT ` + pad("p", "x", 8) + `, 's' || x, 'Page ' || x, ` + user + `, ` + user + `, ` + ts("x / 10") + `, ` + ts(fmt.Sprintf("(%d - x) / 7", n)) + `, 1, 'h' || x FROM c`,
		series + `INSERT INTO page_revisions (id, page_id, number, status, title, slug, blocks, note, created_by_user_id, created_at, published_at, content_hash)
			SELECT ` + pad("r", "x", 8) + `, ` + pad("p", "x", 8) + `, 1, 'published', 'Page ' || x, 's' || x, '[]', '', ` + user + `, ` + ts("x / 10") + `, ` + ts("x / 6") + `,
			CASE WHEN x % 4 = 2 THEN 'old' ELSE 'h' || x END FROM c WHERE x % 2 = 0`,
		fmt.Sprintf(`WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < %d) `, min(n, 300)) +
			`INSERT INTO page_revisions (id, page_id, number, status, title, slug, blocks, note, created_by_user_id, created_at, content_hash)
			SELECT ` + pad("d", "x", 8) + `, 'p00000001', x, 'draft', 'Page 1', 's1', '[]', '', 'u00000001', ` + ts("x") + `, '' FROM c`,
		// One join (correlated subqueries take PostgreSQL minutes at
		// 100,000 rows before ANALYZE).
		`UPDATE pages SET published_revision_id = r.id, published_at = r.published_at, published_hash = r.content_hash
			FROM page_revisions r WHERE r.page_id = pages.id AND r.status = 'published'`,
		series + `INSERT INTO media (id, filename, mime_type, size_bytes, checksum_sha256, storage_key, uploaded_by_user_id, created_at, updated_at, deleted_at, version)
			SELECT ` + pad("m", "x", 8) + `, 'file' || x || '.bin', CASE x % 3 WHEN 0 THEN 'image/png' WHEN 1 THEN 'application/pdf' ELSE 'image/jpeg' END, 1, ` + pad("", "x", 64) + `,
			'k' || x, ` + user + `, ` + ts("x / 10") + `, ` + ts("x / 10") + `, CASE WHEN x % 10 = 0 THEN ` + ts("x") + ` END, 1 FROM c`,
		series + `INSERT INTO site_settings (key, value, public, updated_at, version)
			SELECT ` + pad("k", "x", 8) + `, '1', x % 2 = 0, ` + ts("x") + `, 1 FROM c`,
		series + `INSERT INTO api_tokens (id, name, prefix, token_hash, role, created_by, created_at)
			SELECT ` + pad("t", "x", 8) + `, 'token ' || x, 'qt_', 'h' || x, 'editor', ` + user + `, ` + ts("x / 10") + ` FROM c`,
		series + `INSERT INTO audit_log (seq, id, at, user_id, action, resource_type, resource_id, details, prev_hash, hash)
			SELECT x, 'a' || x, ` + ts("x") + `, ` + user + `, 'page.update', 'page', 'p' || (x % 500), '{}', '', '' FROM c`,
		`ANALYZE`,
	}
	ctx := context.Background()
	if err := db.InTx(ctx, func(tx *store.Tx) error {
		for _, s := range stmts {
			if err := store.ExecForTest(ctx, tx, s); err != nil {
				return fmt.Errorf("%s: %w", strings.SplitN(strings.TrimSpace(s), "\n", 2)[0], err)
			}
		}
		return nil
	}); err != nil {
		tb.Fatal(err)
	}
}
