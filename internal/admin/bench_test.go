package admin_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/quirecms/quire/internal/config"
	"github.com/quirecms/quire/internal/loadtest"
	"github.com/quirecms/quire/internal/store"
)

// benchAdmin is an admin on SQLite with 100,000 pages (one block each)
// and one page of 50 blocks, signed in through the admin's own form.
type benchAdmin struct {
	f      *loadtest.Fixture
	cookie *http.Cookie
	bigID  string
}

func newBenchAdmin(b *testing.B) *benchAdmin {
	b.Helper()
	ctx := context.Background()
	cfg := config.Default()
	cfg.DataDir = b.TempDir()
	cfg.DatabaseURL = cfg.DataDir + "/quire.db"
	f, err := loadtest.NewFixture(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), 100_000, 1)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { f.Server.Close() })
	if _, err := loadtest.Seed(ctx, cfg.DSN(), f.UserID, "big", 1, 50); err != nil {
		b.Fatal(err)
	}
	// The 50-block page is the one created last.
	newest, _, err := f.Server.DB.Reader().Pages(ctx, store.PageFilter{SortBy: "created_at", Limit: 1})
	if err != nil || len(newest) != 1 {
		b.Fatal(err)
	}
	pg := newest[0]
	form := url.Values{"email": {f.Email}, "password": {f.Password}}
	req := httptest.NewRequest("POST", "/admin/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	f.Server.API.ServeHTTP(rec, req)
	cookies := rec.Result().Cookies()
	if rec.Code != http.StatusSeeOther || len(cookies) != 1 {
		b.Fatalf("sign in: %d %v", rec.Code, cookies)
	}
	return &benchAdmin{f: f, cookie: cookies[0], bigID: pg.ID}
}

// get serves one admin screen in process: server time only, no network.
func (ba *benchAdmin) get(b *testing.B, path string) string {
	req := httptest.NewRequest("GET", path, nil)
	req.AddCookie(ba.cookie)
	rec := httptest.NewRecorder()
	ba.f.Server.API.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Fatalf("GET %s: %d", path, rec.Code)
	}
	return rec.Body.String()
}

var nextLink = regexp.MustCompile(`rel="next" href="([^"]+)"`)

// BenchmarkAdminScreens measures the page list of 100,000 pages (first
// screen, a later screen through the keyset cursor, a status filter) and
// the editor of a 50-block page, each including the session check.
// Results: docs/performance.md.
func BenchmarkAdminScreens(b *testing.B) {
	ba := newBenchAdmin(b)
	first := ba.get(b, "/admin/pages")
	m := nextLink.FindStringSubmatch(first)
	if m == nil {
		b.Fatal("no next link on the first screen of the list")
	}
	later := strings.ReplaceAll(m[1], "&amp;", "&")
	for _, c := range []struct{ name, path string }{
		{"pages_first", "/admin/pages"},
		{"pages_next", later},
		{"pages_published", "/admin/pages?status=published"},
		{"pages_search", "/admin/pages?q=page+99999"},
		{"editor_50_blocks", "/admin/pages/" + ba.bigID},
		{"dashboard", "/admin/"},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				ba.get(b, c.path)
			}
		})
	}
}
