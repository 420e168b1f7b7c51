package cli_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"image"
	"image/png"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/auth"
	"github.com/quirecms/quire/internal/loadtest"
	"github.com/quirecms/quire/internal/server"
	"github.com/quirecms/quire/internal/service"
	"github.com/quirecms/quire/internal/testdb"
)

// The figures in docs/performance.md: export and import of 10,000 pages
// with 3 revisions each and 1,000 small images, on each database. It takes
// minutes, so it runs only with QUIRE_MEASURE_PORTABILITY=1.
func TestMeasurePortability(t *testing.T) {
	if os.Getenv("QUIRE_MEASURE_PORTABILITY") == "" {
		t.Skip("set QUIRE_MEASURE_PORTABILITY=1 to measure export and import at 10,000 pages")
	}
	testdb.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		in := newInstance(t, dsn)
		srv, err := server.New(ctx, instanceConfig(t, in), slog.New(slog.NewTextHandler(io.Discard, nil)), server.Options{Argon2: auth.FastArgon2})
		if err != nil {
			t.Fatal(err)
		}
		u, err := srv.Users.CreateSystem(ctx, service.NewUser{Email: "m@example.com", Password: password, Role: quire.RoleAdmin})
		if err != nil {
			t.Fatal(err)
		}
		p := &quire.Principal{UserID: u.ID, Role: u.Role}
		for i := range 1000 {
			img := image.NewGray(image.Rect(0, 0, 16, 16))
			for k := range img.Pix {
				img.Pix[k] = byte(i*31 + k*i)
			}
			img.Pix[0], img.Pix[1] = byte(i), byte(i>>8)
			var b bytes.Buffer
			_ = png.Encode(&b, img)
			up, err := srv.Media.Stage(ctx, p, fmt.Sprintf("img-%d.png", i), &b)
			if err == nil {
				_, _, err = up.Commit(ctx, p, "", "")
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		srv.Close()
		if _, err := loadtest.Seed(ctx, dsn, u.ID, "m", 10000, 5); err != nil {
			t.Fatal(err)
		}
		addRevisions(t, dsn)
		dir := t.TempDir()
		out := filepath.Join(dir, "a.tar")
		start := time.Now()
		r := in.must("", "export", "--out", out)
		exported := time.Since(start)
		st, _ := os.Stat(out)
		dst := newInstance(t, freshLike(t, dsn))
		start = time.Now()
		r2 := dst.must("", "import", out)
		imported := time.Since(start)
		load, _ := os.ReadFile("/proc/loadavg")
		t.Logf("%s: export %s, archive %.1f MB, import %s; load average %s\n%s%s", strings.SplitN(dsn, ":", 2)[0],
			exported.Round(10*time.Millisecond), float64(st.Size())/1e6, imported.Round(10*time.Millisecond), strings.TrimSpace(string(load)), r.stdout, r2.stdout)
	})
}

// addRevisions gives every seeded page two older revisions beside its
// published one (the seed makes one), as copies with numbers 2 and 3.
func addRevisions(t *testing.T, dsn string) {
	t.Helper()
	driver, path := "sqlite", dsn
	if strings.HasPrefix(dsn, "postgres") {
		driver = "pgx"
	}
	db, err := sql.Open(driver, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, n := range []int{2, 3} {
		q := fmt.Sprintf(`INSERT INTO page_revisions (id, page_id, number, status, title, slug, blocks, note, created_by_user_id, created_at, published_at, content_hash, block_refs)
			SELECT id || '-%d', page_id, %d, 'draft', title, slug, blocks, 'copy', created_by_user_id, created_at, NULL, content_hash, block_refs
			FROM page_revisions WHERE number = 1`, n, n)
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
}
