package store_test

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/store"
)

// pager reads one page of a list after cursor (nil: the first) and
// returns the ids shown and the next cursor (nil: the end), the way the
// HTTP handlers do: limit+1 rows, else the store's resume position.
type pager func(ctx context.Context, tx *store.Tx, cursor any, limit int) ([]string, any, error)

type listCase struct {
	name string
	page pager
	want string // the list's rows in order, as one plain query
}

func ids[T any](items []T, id func(T) string) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = id(it)
	}
	return out
}

// cut keeps limit of limit+1 items and returns the next cursor.
func cut[T any](items []T, limit int, key func(T) any, resume *store.PageCursor) ([]T, any) {
	if len(items) > limit {
		return items[:limit], key(items[limit-1])
	}
	if resume != nil {
		return items, resume
	}
	return items, nil
}

func pageCur(c any) *store.PageCursor {
	p, _ := c.(*store.PageCursor)
	return p
}

func pagesPager(f store.PageFilter) pager {
	return func(ctx context.Context, tx *store.Tx, c any, limit int) ([]string, any, error) {
		f.After, f.Limit = pageCur(c), limit+1
		ps, resume, err := tx.Pages(ctx, f)
		ps, next := cut(ps, limit, func(p *quire.Page) any {
			if f.SortBy == "created_at" {
				return &store.PageCursor{At: p.CreatedAt, ID: p.ID}
			}
			return &store.PageCursor{At: p.UpdatedAt, ID: p.ID}
		}, resume)
		return ids(ps, func(p *quire.Page) string { return p.ID }), next, err
	}
}

func mediaPager(f store.MediaFilter) pager {
	return func(ctx context.Context, tx *store.Tx, c any, limit int) ([]string, any, error) {
		f.After, f.Limit = pageCur(c), limit+1
		ms, resume, err := tx.MediaList(ctx, f)
		ms, next := cut(ms, limit, func(m *quire.Media) any { return &store.PageCursor{At: m.CreatedAt, ID: m.ID} }, resume)
		return ids(ms, func(m *quire.Media) string { return m.ID }), next, err
	}
}

func stringPager[T any](list func(tx *store.Tx, ctx context.Context, after string, limit int) ([]T, error), key func(T) string) pager {
	return func(ctx context.Context, tx *store.Tx, c any, limit int) ([]string, any, error) {
		after, _ := c.(string)
		items, err := list(tx, ctx, after, limit+1)
		items, next := cut(items, limit, func(t T) any { return key(t) }, nil)
		return ids(items, key), next, err
	}
}

func auditPager(f store.AuditFilter) pager {
	return func(ctx context.Context, tx *store.Tx, c any, limit int) ([]string, any, error) {
		f.BeforeSeq, _ = c.(int64)
		f.Limit = limit + 1
		es, err := tx.AuditEntries(ctx, f)
		es, next := cut(es, limit, func(e *quire.AuditEntry) any { return e.Seq }, nil)
		return ids(es, func(e *quire.AuditEntry) string { return e.ID }), next, err
	}
}

// auditSince is the time of audit entry 1000 in seedLists.
var auditSince = time.Date(2026, 1, 1, 0, 0, 1000, 0, time.UTC)

// listCases is every list query with each sort and filter it offers.
func listCases() []listCase {
	var cases []listCase
	for _, sort := range []string{"updated_at", "created_at"} {
		order := " ORDER BY " + sort + " DESC, id DESC"
		for _, c := range []struct {
			name, where string
			f           store.PageFilter
		}{
			{"all", "1 = 1", store.PageFilter{}},
			{"draft", "published_revision_id IS NULL", store.PageFilter{Status: "draft"}},
			{"published", "published_revision_id IS NOT NULL", store.PageFilter{Status: "published"}},
			{"changed", "published_revision_id IS NOT NULL AND content_hash <> published_hash", store.PageFilter{Status: "changed"}},
			{"author", "created_by = 'u00000003'", store.PageFilter{CreatedBy: "u00000003"}},
			{"author changed", "created_by = 'u00000003' AND content_hash <> published_hash", store.PageFilter{CreatedBy: "u00000003", Status: "changed"}},
			{"q", "title LIKE '%12%'", store.PageFilter{Q: "12"}},
			{"q author draft", "title LIKE '%1%' AND created_by = 'u00000002' AND published_revision_id IS NULL", store.PageFilter{Q: "1", CreatedBy: "u00000002", Status: "draft"}},
		} {
			c.f.SortBy = sort
			cases = append(cases, listCase{"pages " + sort + " " + c.name, pagesPager(c.f), "SELECT id FROM pages WHERE " + c.where + order})
		}
	}
	order := " ORDER BY created_at DESC, id DESC"
	for _, c := range []struct {
		name, where string
		f           store.MediaFilter
	}{
		{"live", "deleted_at IS NULL", store.MediaFilter{}},
		{"deleted", "deleted_at IS NOT NULL", store.MediaFilter{Deleted: true}},
		{"uploader", "deleted_at IS NULL AND uploaded_by_user_id = 'u00000004'", store.MediaFilter{UploadedBy: "u00000004"}},
		{"type", "deleted_at IS NULL AND mime_type LIKE 'image/%'", store.MediaFilter{TypePrefix: "image"}},
		{"q", "deleted_at IS NULL AND filename LIKE '%77%'", store.MediaFilter{Q: "77"}},
	} {
		cases = append(cases, listCase{"media " + c.name, mediaPager(c.f), "SELECT id FROM media WHERE " + c.where + order})
	}
	cases = append(cases,
		listCase{"public pages", func(ctx context.Context, tx *store.Tx, c any, limit int) ([]string, any, error) {
			ps, err := tx.PublishedPages(ctx, pageCur(c), limit+1)
			ps, next := cut(ps, limit, func(s store.PublishedSummary) any { return &store.PageCursor{At: s.PublishedAt, ID: s.PageID} }, nil)
			return ids(ps, func(s store.PublishedSummary) string { return s.PageID }), next, err
		}, "SELECT id FROM pages WHERE published_revision_id IS NOT NULL ORDER BY published_at DESC, id DESC"},
		listCase{"revisions", func(ctx context.Context, tx *store.Tx, c any, limit int) ([]string, any, error) {
			after, _ := c.(int)
			rs, err := tx.Revisions(ctx, "p00000001", after, limit+1)
			rs, next := cut(rs, limit, func(r *quire.Revision) any { return r.Number }, nil)
			return ids(rs, func(r *quire.Revision) string { return r.ID }), next, err
		}, "SELECT id FROM page_revisions WHERE page_id = 'p00000001' ORDER BY number DESC"},
		listCase{"settings", stringPager((*store.Tx).SettingsAfter, func(s *quire.Setting) string { return s.Key }), "SELECT key FROM site_settings ORDER BY key"},
		listCase{"users", stringPager((*store.Tx).Users, func(u *quire.User) string { return u.ID }), "SELECT id FROM users ORDER BY id"},
		listCase{"tokens", stringPager((*store.Tx).APITokens, func(t *quire.APIToken) string { return t.ID }), "SELECT id FROM api_tokens ORDER BY id"},
		listCase{"audit", auditPager(store.AuditFilter{}), "SELECT id FROM audit_log ORDER BY seq DESC"},
		listCase{"audit resource", auditPager(store.AuditFilter{ResourceType: "page", ResourceID: "p7"}), "SELECT id FROM audit_log WHERE resource_id = 'p7' ORDER BY seq DESC"},
		listCase{"audit user", auditPager(store.AuditFilter{UserID: "u00000002"}), "SELECT id FROM audit_log WHERE user_id = 'u00000002' ORDER BY seq DESC"},
		listCase{"audit action", auditPager(store.AuditFilter{Action: "page."}), "SELECT id FROM audit_log ORDER BY seq DESC"},
		listCase{"audit action exact", auditPager(store.AuditFilter{Action: "page.update"}), "SELECT id FROM audit_log ORDER BY seq DESC"},
		listCase{"audit since", auditPager(store.AuditFilter{Since: &auditSince}), "SELECT id FROM audit_log WHERE seq >= 1000 ORDER BY seq DESC"},
		listCase{"audit until", auditPager(store.AuditFilter{Until: &auditSince}), "SELECT id FROM audit_log WHERE seq < 1000 ORDER BY seq DESC"},
		listCase{"audit user since", auditPager(store.AuditFilter{UserID: "u00000002", Since: &auditSince}), "SELECT id FROM audit_log WHERE user_id = 'u00000002' AND seq >= 1000 ORDER BY seq DESC"},
	)
	return cases
}

func column(t *testing.T, db *store.DB, q string) []string {
	t.Helper()
	var out []string
	err := store.QueryForTest(context.Background(), db, q, func(s string) { out = append(out, s) })
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return out
}

// Paging through every list returns each row exactly once, in order,
// although many rows share their sort time; filtered lists move on
// through windows that match nothing.
func TestListsPageThroughTies(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		seedLists(t, db, 2500)
		for _, c := range listCases() {
			want := column(t, db, c.want)
			if len(want) == 0 {
				t.Fatalf("%s: the seed has no rows for this list", c.name)
			}
			var got []string
			var cursor any
			for i := 0; ; i++ {
				page, next, err := c.page(ctx, db.Reader(), cursor, 13)
				if err != nil {
					t.Fatalf("%s: %v", c.name, err)
				}
				if len(page) > 13 || i > 3000 {
					t.Fatalf("%s: page of %d, %d pages", c.name, len(page), i)
				}
				got = append(got, page...)
				if next == nil {
					break
				}
				cursor = next
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s: paged %d rows, want %d (first difference at %d)", c.name, len(got), len(want), firstDiff(got, want))
			}
		}
	})
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// A search that matches nothing reads one window per request and says
// where it stopped, instead of reading the whole table at once.
func TestListWindowIsBounded(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		seedLists(t, db, 2500)
		ps, resume, err := db.Reader().Pages(ctx, store.PageFilter{Q: "no such title", Limit: 21})
		if err != nil || len(ps) != 0 || resume == nil {
			t.Fatalf("first window: %d pages, resume %v, %v", len(ps), resume, err)
		}
		// The window ends ScanWindow rows into the updated_at order.
		all := column(t, db, "SELECT id FROM pages ORDER BY updated_at DESC, id DESC")
		if resume.ID != all[store.ScanWindow-1] {
			t.Fatalf("resume at %s, want %s", resume.ID, all[store.ScanWindow-1])
		}
		ps, resume, err = db.Reader().Pages(ctx, store.PageFilter{Q: "no such title", Limit: 21, After: resume})
		if err != nil || len(ps) != 0 || resume == nil || resume.ID != all[2*store.ScanWindow-1] {
			t.Fatalf("second window: %d pages, resume %+v, %v", len(ps), resume, err)
		}
		ps, resume, err = db.Reader().Pages(ctx, store.PageFilter{Q: "no such title", Limit: 21, After: resume})
		if err != nil || len(ps) != 0 || resume != nil {
			t.Fatalf("last window: %d pages, resume %+v, %v", len(ps), resume, err)
		}
	})
}

var sqliteScan = regexp.MustCompile(`\bSCAN (\S+)`)

// Every list query with a cursor is an index range on both databases: no
// full scan, no sort step. The window of a filtered list is a range too;
// its outer query reads the window in order.
func TestListQueriesAreIndexRanges(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		seedLists(t, db, 5000)
		for _, c := range listCases() {
			// A cursor from the middle of the list.
			_, cursor, err := c.page(ctx, db.Reader(), nil, 5)
			if err != nil || cursor == nil {
				t.Fatalf("%s: first page: cursor %v, %v", c.name, cursor, err)
			}
			var plans []store.Plan
			if _, _, err := c.page(ctx, store.Explaining(db, &plans), cursor, 20); err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			for _, p := range plans {
				if bad := badPlan(db.Dialect(), p.Plan); bad != "" {
					t.Errorf("%s: %s\n%s\n%s", c.name, bad, p.Query, p.Plan)
				}
				if testing.Verbose() {
					t.Logf("%s:\n%s", c.name, p.Plan)
				}
			}
		}
	})
}

func badPlan(d store.Dialect, plan string) string {
	if d == store.Postgres {
		switch {
		case strings.Contains(plan, "Seq Scan"):
			return "a sequential scan"
		case strings.Contains(plan, "Sort"):
			return "a sort step"
		case !strings.Contains(plan, "Index Cond"):
			return "no index range"
		}
		return ""
	}
	if strings.Contains(plan, "TEMP B-TREE") {
		return "a sort step"
	}
	// "SCAN x" is a full scan, unless x is a window read as a co-routine
	// (or a materialized subquery) whose own plan is a SEARCH.
	for _, m := range sqliteScan.FindAllStringSubmatch(plan, -1) {
		if !strings.Contains(plan, "CO-ROUTINE "+m[1]) && !strings.Contains(plan, "MATERIALIZE "+m[1]) {
			return "a full scan of " + m[1]
		}
	}
	if !strings.Contains(plan, "SEARCH") {
		return "no index range"
	}
	return ""
}
