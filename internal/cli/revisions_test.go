package cli_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/auth"
	"github.com/quirecms/quire/internal/server"
	"github.com/quirecms/quire/internal/service"
	"github.com/quirecms/quire/internal/store"
	"github.com/quirecms/quire/internal/testdb"
)

// `quire revisions prune` removes exactly the revisions no retention rule
// keeps (published, shown by a live preview, among the newest N, younger
// than D), with the block contents only they used and expired preview
// links, in one audit entry per page; --dry-run reports the same and
// changes nothing; what is kept reads back unchanged.
func TestRevisionsPrune(t *testing.T) {
	testdb.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		in := newInstance(t, dsn)
		in.env["QUIRE_REVISIONS_KEEP"] = "5"
		srv, err := server.New(ctx, instanceConfig(t, in), slog.New(slog.NewTextHandler(io.Discard, nil)), server.Options{Argon2: auth.FastArgon2})
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Close()
		u, err := srv.Users.CreateSystem(ctx, service.NewUser{Email: "prune@example.com", Password: password, Role: quire.RoleAdmin})
		if err != nil {
			t.Fatal(err)
		}
		p := &quire.Principal{UserID: u.ID, Role: u.Role}
		pages, previews := service.NewPages(srv.DB, nil), service.NewPreviews(srv.DB, "")
		blocks := func(v int) []quire.BlockInput {
			return []quire.BlockInput{
				{Type: "paragraph", Content: json.RawMessage(fmt.Sprintf(`{"text":"version %d"}`, v))},
				{Type: "heading", Content: json.RawMessage(`{"text":"Same","level":2}`)},
				{Type: "divider", Content: json.RawMessage(`{}`)},
			}
		}
		a, err := pages.Create(ctx, p, service.NewPage{Slug: "long-history", Title: "Long", Blocks: blocks(0)})
		if err != nil {
			t.Fatal(err)
		}
		revs := map[int]string{} // number → id
		for n := 1; n <= 12; n++ {
			var ids []string
			for _, b := range a.Blocks {
				ids = append(ids, b.ID)
			}
			in := blocks(n)
			for i := range in {
				in[i].ID = ids[i]
			}
			if a, err = pages.ReplaceBlocks(ctx, p, a.ID, 0, in); err != nil {
				t.Fatal(err)
			}
			var rev *quire.Revision
			if n == 4 {
				rev, err = pages.Publish(ctx, p, a.ID, 0, "")
			} else {
				rev, err = pages.SaveDraft(ctx, p, a.ID, "")
			}
			if err != nil {
				t.Fatal(err)
			}
			revs[rev.Number] = rev.ID
		}
		b, err := pages.Create(ctx, p, service.NewPage{Slug: "short-history", Title: "Short", Blocks: blocks(0)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pages.SaveDraft(ctx, p, b.ID, ""); err != nil {
			t.Fatal(err)
		}
		live, err := previews.Create(ctx, p, a.ID, service.NewPreview{RevisionID: ptr(revs[2])})
		if err != nil {
			t.Fatal(err)
		}
		expired, err := previews.Create(ctx, p, a.ID, service.NewPreview{RevisionID: ptr(revs[1])})
		if err != nil {
			t.Fatal(err)
		}
		// Age everything but the two newest revisions past 90 days, and
		// expire one link.
		old := time.Now().Add(-100 * 24 * time.Hour)
		rawExec(t, dsn, `UPDATE page_revisions SET created_at = ? WHERE number <= 10`, old)
		rawExec(t, dsn, `UPDATE page_previews SET expires_at = ? WHERE id = ?`, old, expired.ID)
		read := func() (map[int]string, int) {
			out := map[int]string{}
			for n, id := range revs {
				rev, err := srv.DB.Reader().Revision(ctx, a.ID, id)
				if quire.ErrorCode(err) == quire.ENOTFOUND {
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				enc, _ := json.Marshal(rev)
				out[n] = string(enc)
			}
			return out, rawCount(t, dsn, `SELECT count(*) FROM revision_contents WHERE page_id = ?`, a.ID)
		}
		before, contentsBefore := read()
		auditBefore := len(auditEntries(t, srv.DB))

		dry := in.must("", "revisions", "prune", "--dry-run")
		expect(t, dry, 0, "stdout", "newest 5", "long-history ("+a.ID+"): would remove 5 revisions (numbers 1–7), 5 block contents, 1 expired preview links",
			"dry run: 2 pages visited, 1 pruned: would remove 5 revisions, 5 block contents, 1 expired preview links")
		if strings.Contains(dry.stdout, "short-history") {
			t.Fatalf("dry run lists a page with nothing to prune:\n%s", dry.stdout)
		}
		if now, c := read(); len(now) != 12 || c != contentsBefore || len(auditEntries(t, srv.DB)) != auditBefore {
			t.Fatalf("dry run changed something: %d revisions, %d contents", len(now), c)
		}

		run := in.must("", "revisions", "prune")
		expect(t, run, 0, "stdout", "long-history ("+a.ID+"): removed 5 revisions (numbers 1–7), 5 block contents, 1 expired preview links",
			"2 pages visited, 1 pruned: removed 5 revisions, 5 block contents, 1 expired preview links")
		after, contentsAfter := read()
		var kept []int
		for n, enc := range after {
			kept = append(kept, n)
			if enc != before[n] {
				t.Fatalf("kept revision %d reads back differently", n)
			}
		}
		slices.Sort(kept)
		// 2: live preview; 4: published; 8–12: the newest five (11, 12 also young).
		if fmt.Sprint(kept) != "[2 4 8 9 10 11 12]" || contentsAfter != contentsBefore-5 {
			t.Fatalf("kept %v and %d of %d contents", kept, contentsAfter, contentsBefore)
		}
		entries := auditEntries(t, srv.DB)[auditBefore:]
		if len(entries) != 1 || entries[0].Action != quire.ActionRevisionsPrune || entries[0].ResourceID != a.ID || entries[0].UserID != "" {
			t.Fatalf("audit entries %+v", entries)
		}
		var d map[string]any
		_ = json.Unmarshal(entries[0].Details, &d)
		if d["revisions"] != 5.0 || d["block_contents"] != 5.0 || d["expired_previews"] != 1.0 || d["oldest_number"] != 1.0 || d["newest_number"] != 7.0 || d["keep_last"] != 5.0 {
			t.Fatalf("audit details %s", entries[0].Details)
		}
		if v, err := srv.Audit.VerifySystem(ctx); err != nil || !v.OK {
			t.Fatalf("audit chain after prune: %+v %v", v, err)
		}
		if _, err := srv.DB.Reader().LivePreview(ctx, a.ID, live.ID); err != nil {
			t.Fatalf("the live preview link went: %v", err)
		}
		expect(t, in.must("", "revisions", "prune"), 0, "stdout", "2 pages visited, 0 pruned: removed 0 revisions")
	})
}

func ptr[T any](v T) *T { return &v }

// auditEntries returns the audit log oldest first.
func auditEntries(t *testing.T, db *store.DB) []*quire.AuditEntry {
	t.Helper()
	entries, err := db.Reader().AuditEntries(context.Background(), store.AuditFilter{Limit: 100000})
	if err != nil {
		t.Fatal(err)
	}
	slices.Reverse(entries)
	return entries
}

// rawDB opens the test database directly, with ? placeholders rewritten
// for PostgreSQL and times in each database's stored form.
func rawDB(t *testing.T, dsn, query string, args []any) (*sql.DB, string, []any) {
	t.Helper()
	pg := strings.HasPrefix(dsn, "postgres://")
	driver, source := "sqlite", "file:"+dsn+"?_pragma=busy_timeout(10000)"
	if pg {
		driver, source = "pgx", dsn
		for n := 1; strings.Contains(query, "?"); n++ {
			query = strings.Replace(query, "?", "$"+strconv.Itoa(n), 1)
		}
	}
	for i, a := range args {
		if tm, ok := a.(time.Time); ok && !pg {
			args[i] = tm.UTC().Format(quire.AuditTimeLayout)
		}
	}
	db, err := sql.Open(driver, source)
	if err != nil {
		t.Fatal(err)
	}
	return db, query, args
}

func rawExec(t *testing.T, dsn, query string, args ...any) {
	t.Helper()
	db, q, a := rawDB(t, dsn, query, args)
	defer db.Close()
	if _, err := db.Exec(q, a...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func rawCount(t *testing.T, dsn, query string, args ...any) int {
	t.Helper()
	db, q, a := rawDB(t, dsn, query, args)
	defer db.Close()
	var n int
	if err := db.QueryRow(q, a...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// Pruning while editors save: the page lock orders them, so no save loses
// a block content that pruning collected, and every revision left reads.
func TestRevisionsPruneDuringSaves(t *testing.T) {
	testdb.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		in := newInstance(t, dsn)
		srv, err := server.New(ctx, instanceConfig(t, in), slog.New(slog.NewTextHandler(io.Discard, nil)), server.Options{Argon2: auth.FastArgon2})
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Close()
		u, err := srv.Users.CreateSystem(ctx, service.NewUser{Email: "race@example.com", Password: password, Role: quire.RoleAdmin})
		if err != nil {
			t.Fatal(err)
		}
		p := &quire.Principal{UserID: u.ID, Role: u.Role}
		pages := service.NewPages(srv.DB, nil)
		page, err := pages.Create(ctx, p, service.NewPage{Slug: "busy", Title: "Busy", Blocks: []quire.BlockInput{
			{Type: "paragraph", Content: json.RawMessage(`{"text":"a"}`)}, {Type: "divider", Content: json.RawMessage(`{}`)}}})
		if err != nil {
			t.Fatal(err)
		}
		// Keep only the newest revision, whatever its age: the most pruning can do.
		r, err := service.NewRetention(srv.DB, quire.RetentionPolicy{KeepLast: 1, KeepFor: time.Nanosecond})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() {
			for n := 0; n < 30; n++ {
				blocks := []quire.BlockInput{{Type: "paragraph", Content: json.RawMessage(fmt.Sprintf(`{"text":"save %d"}`, n%3))},
					{Type: "divider", Content: json.RawMessage(`{}`)}}
				if _, err := pages.ReplaceBlocks(ctx, p, page.ID, 0, blocks); err != nil {
					done <- err
					return
				}
				if _, err := pages.SaveDraft(ctx, p, page.ID, ""); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
		for running := true; running; {
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
				running = false
			default:
			}
			if _, err := r.Prune(ctx, false, nil); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := r.Prune(ctx, false, nil); err != nil {
			t.Fatal(err)
		}
		list, err := srv.DB.Reader().Revisions(ctx, page.ID, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 1 || list[0].Number != 30 {
			t.Fatalf("%d revisions left, want the newest only", len(list))
		}
		rev, err := srv.DB.Reader().Revision(ctx, page.ID, list[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(rev.Blocks) != 2 || string(rev.Blocks[0].Content) != `{"text":"save 2"}` {
			t.Fatalf("newest revision reads %+v", rev.Blocks)
		}
		if n := rawCount(t, dsn, `SELECT count(*) FROM revision_contents WHERE page_id = ?`, page.ID); n != 2 {
			t.Fatalf("%d block contents left for a 2-block revision", n)
		}
	})
}
