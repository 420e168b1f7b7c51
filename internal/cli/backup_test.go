package cli_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/auth"
	"github.com/quirecms/quire/internal/server"
	"github.com/quirecms/quire/internal/service"
	"github.com/quirecms/quire/internal/testdb"
)

// A backup taken while pages are being written restores to a consistent
// state: every page with all its blocks, every revision with the block
// contents it references, every published page's revision present, and the
// audit chain verifying. `quire restore` refuses a used database unless
// --force, which first empties it.
func TestBackupDuringWritesRestores(t *testing.T) {
	testdb.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		in := newInstance(t, dsn)
		srv, err := server.New(ctx, instanceConfig(t, in), slog.New(slog.NewTextHandler(io.Discard, nil)), server.Options{Argon2: auth.FastArgon2})
		if err != nil {
			t.Fatal(err)
		}
		u, err := srv.Users.CreateSystem(ctx, service.NewUser{Email: "load@example.com", Password: password, Role: quire.RoleAdmin})
		if err != nil {
			t.Fatal(err)
		}
		p := &quire.Principal{UserID: u.ID, Role: u.Role}
		var written atomic.Int64
		stop := make(chan struct{})
		var wg sync.WaitGroup
		var loadErr error
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				blocks := []quire.BlockInput{
					{Type: "heading", Content: json.RawMessage(fmt.Sprintf(`{"text":"Page %d","level":2}`, i))},
					{Type: "paragraph", Content: json.RawMessage(fmt.Sprintf(`{"text":"body %d"}`, i))},
					{Type: "divider", Content: json.RawMessage(`{}`)},
				}
				pg, err := srv.Pages.Create(ctx, p, service.NewPage{Slug: fmt.Sprintf("load-%d", i), Title: "Load", Blocks: blocks})
				if err == nil {
					_, err = srv.Pages.Publish(ctx, p, pg.ID, 0, "")
				}
				if err != nil {
					loadErr = err
					return
				}
				written.Add(1)
			}
		})
		for written.Load() < 20 {
			time.Sleep(10 * time.Millisecond)
		}
		out := filepath.Join(t.TempDir(), "backup.tar")
		r := in.must("", "backup", "--out", out)
		close(stop)
		wg.Wait()
		srv.Close()
		if loadErr != nil {
			t.Fatal(loadErr)
		}
		expect(t, r, 0, "stdout", "backed up")

		dst := newInstance(t, freshLike(t, dsn))
		expect(t, dst.must("", "restore", out), 0, "stdout", "imported", "audit verify: ok")
		d := dump(t, dst.dsn)
		if n := int64(len(d["pages"])); n < 20 || n > written.Load() {
			t.Fatalf("restored %d pages; %d were written, 20 before the backup", n, written.Load())
		}
		checkConsistent(t, d)
		expect(t, dst.must("", "audit", "verify"), 0, "stdout", "ok:")

		// A used database is refused, and emptied first with --force.
		expect(t, dst.run("", "restore", out), 1, "stderr", "not empty")
		expect(t, dst.must("", "restore", "--force", out), 0, "stdout", "audit verify: ok")
		if len(dump(t, dst.dsn)["pages"]) != len(d["pages"]) {
			t.Error("restore --force did not restore the same pages")
		}
	})
}

// freshLike returns a new, empty database of the same kind as dsn.
func freshLike(t *testing.T, dsn string) string {
	if strings.HasPrefix(dsn, "postgres") {
		return testdb.Postgres(t)
	}
	return testdb.SQLite(t)
}

// checkConsistent checks what a torn copy would break: blocks per page,
// the contents a revision references, the published revision of a page.
func checkConsistent(t *testing.T, d map[string][][]any) {
	t.Helper()
	col := func(table, name string) int {
		for i, c := range d["_columns_"+table] {
			if c[0] == name {
				return i
			}
		}
		t.Fatalf("no column %s.%s", table, name)
		return -1
	}
	blocks := map[any]int{}
	for _, b := range d["page_blocks"] {
		blocks[b[col("page_blocks", "page_id")]]++
	}
	revisions := map[any]bool{}
	revsOfPage := map[any]int{}
	contents := map[string]bool{}
	for _, c := range d["revision_contents"] {
		contents[fmt.Sprint(c[col("revision_contents", "page_id")], "/", c[col("revision_contents", "hash")])] = true
	}
	for _, r := range d["page_revisions"] {
		revisions[r[col("page_revisions", "id")]] = true
		page := r[col("page_revisions", "page_id")]
		revsOfPage[page]++
		refs, _ := r[col("page_revisions", "block_refs")].([]any)
		if len(refs) != 3 {
			t.Errorf("revision %v references %d blocks", r[0], len(refs))
		}
		for _, h := range refs {
			if !contents[fmt.Sprint(page, "/", h)] {
				t.Errorf("revision %v references missing content %v", r[0], h)
			}
		}
	}
	for _, pg := range d["pages"] {
		id := pg[col("pages", "id")]
		if blocks[id] != 3 {
			t.Errorf("page %v has %d blocks", id, blocks[id])
		}
		if pub := pg[col("pages", "published_revision_id")]; pub != nil && !revisions[pub] {
			t.Errorf("page %v's published revision %v is missing", id, pub)
		}
	}
}
