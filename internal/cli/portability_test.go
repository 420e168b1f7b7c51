package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/auth"
	"github.com/quirecms/quire/internal/s3test"
	"github.com/quirecms/quire/internal/server"
	"github.com/quirecms/quire/internal/service"
	"github.com/quirecms/quire/internal/store"
	"github.com/quirecms/quire/internal/testdb"
)

// site is what populate made: the slugs of published pages and the
// storage keys of media, to compare across instances.
type site struct {
	slugs []string
	keys  []string
}

// populate fills in with real content through the services: users, pages
// with blocks and several revisions, published and draft, an image, public
// and private settings, a scheduled publish (a pending job) and the audit
// entries all of that writes.
func populate(t *testing.T, in *instance) site {
	t.Helper()
	ctx := context.Background()
	srv, err := server.New(ctx, instanceConfig(t, in), slog.New(slog.NewTextHandler(io.Discard, nil)), server.Options{Argon2: auth.FastArgon2})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	admin, err := srv.Users.CreateSystem(ctx, service.NewUser{Email: "admin@example.com", Password: password, Role: quire.RoleAdmin, DisplayName: "Ädmin ✓"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Users.CreateSystem(ctx, service.NewUser{Email: "author@example.com", Password: password, Role: quire.RoleAuthor}); err != nil {
		t.Fatal(err)
	}
	p := &quire.Principal{UserID: admin.ID, Role: admin.Role}
	var out site
	var img bytes.Buffer
	pic := image.NewRGBA(image.Rect(0, 0, 8, 6))
	for i := range pic.Pix {
		pic.Pix[i] = byte(i * 7)
	}
	pic.Set(1, 1, color.RGBA{255, 0, 0, 255})
	if err := png.Encode(&img, pic); err != nil {
		t.Fatal(err)
	}
	up, err := srv.Media.Stage(ctx, p, "pic.png", &img)
	if err != nil {
		t.Fatal(err)
	}
	media, _, err := up.Commit(ctx, p, "A picture", "")
	if err != nil {
		t.Fatal(err)
	}
	out.keys = append(out.keys, media.StorageKey)
	for i := range 6 {
		slug := fmt.Sprintf("page-%d", i)
		blocks := []quire.BlockInput{
			{Type: "heading", Content: json.RawMessage(`{"text":"Title <` + slug + `> & more","level":2}`)},
			{Type: "paragraph", Content: json.RawMessage(`{"text":"first version"}`)},
			{Type: "image", Content: json.RawMessage(`{"media_id":"` + media.ID + `","alt":"pic"}`)},
		}
		pg, err := srv.Pages.Create(ctx, p, service.NewPage{Slug: slug, Title: "Page " + slug, Blocks: blocks})
		if err != nil {
			t.Fatal(err)
		}
		for v := range 3 {
			in := make([]quire.BlockInput, len(pg.Blocks))
			for j, b := range pg.Blocks {
				in[j] = quire.BlockInput{ID: b.ID, Type: b.Type, Content: b.Content}
			}
			in[1].Content = json.RawMessage(fmt.Sprintf(`{"text":"version %d of %s"}`, v, slug))
			if pg, err = srv.Pages.ReplaceBlocks(ctx, p, pg.ID, 0, in); err != nil {
				t.Fatal(err)
			}
			if i%2 == 0 && v == 1 {
				_, err = srv.Pages.Publish(ctx, p, pg.ID, 0, "published")
			} else {
				_, err = srv.Pages.SaveDraft(ctx, p, pg.ID, "draft")
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		if i%2 == 0 {
			out.slugs = append(out.slugs, slug)
		}
		if i == 5 {
			at := time.Now().Add(48 * time.Hour)
			if _, err := srv.Pages.Schedule(ctx, p, pg.ID, 0, service.ScheduleInput{PublishAt: &at, Note: "later"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	yes := true
	for key, value := range map[string]string{"site.title": `{"en": "Quire", "nested": {"b": 1, "a": [true, null, 2.5]}}`, "footer": `"© 2026"`} {
		if _, _, err := srv.Settings.Put(ctx, p, key, 0, service.SettingInput{Value: json.RawMessage(value), Public: &yes}); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// dump reads every portable table in a form that compares across the two
// databases: booleans as 0/1, JSON text parsed (PostgreSQL's jsonb keeps
// its own key order and spacing), everything else as stored.
func dump(t *testing.T, dsn string) map[string][][]any {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tables, err := db.PortableTables(ctx)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := db.BeginSnapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	out := map[string][][]any{}
	for _, tb := range tables {
		rows := [][]any{}
		err := snap.Rows(ctx, tb, func(row []any) error {
			for i, v := range row {
				switch x := v.(type) {
				case bool:
					row[i] = map[bool]int64{false: 0, true: 1}[x]
				case string:
					var j any
					if (strings.HasPrefix(x, "{") || strings.HasPrefix(x, "[")) && json.Unmarshal([]byte(x), &j) == nil {
						row[i] = j
					}
				}
			}
			rows = append(rows, row)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		out[tb.Name] = rows
		var cols [][]any
		for _, c := range tb.Columns {
			cols = append(cols, []any{c.Name})
		}
		out["_columns_"+tb.Name] = cols
	}
	return out
}

func sameTables(t *testing.T, what string, a, b map[string][][]any) {
	t.Helper()
	for name := range b {
		if _, ok := a[name]; !ok && !strings.HasSuffix(name, "instance_secrets") {
			t.Errorf("%s: table %s only in the second", what, name)
		}
	}
	for name, rows := range a {
		if strings.HasSuffix(name, "instance_secrets") {
			continue // SQLite keeps the signing key in a file: see signingKey
		}
		if !reflect.DeepEqual(rows, b[name]) {
			t.Errorf("%s: table %s differs:\n%v\n%v", what, name, rows, b[name])
		}
	}
}

// public fetches every published page from the public API of a server
// over in's settings.
func public(t *testing.T, in *instance, slugs []string) map[string]string {
	t.Helper()
	ctx := context.Background()
	srv, err := server.New(ctx, instanceConfig(t, in), slog.New(slog.NewTextHandler(io.Discard, nil)), server.Options{Argon2: auth.FastArgon2})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	out := map[string]string{}
	for _, s := range append([]string{""}, slugs...) {
		path := "/api/v1/public/pages"
		if s != "" {
			path += "/" + s
		}
		w := httptest.NewRecorder()
		srv.API.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		if w.Code != 200 {
			t.Fatalf("GET %s: %d %s", path, w.Code, w.Body)
		}
		out[path] = w.Body.String()
	}
	return out
}

// mediaBytes reads the stored bytes of every key from in's storage.
func mediaBytes(t *testing.T, in *instance, keys []string) map[string]string {
	t.Helper()
	ctx := context.Background()
	files, err := server.OpenMediaStorage(ctx, instanceConfig(t, in))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, k := range keys {
		obj, err := files.Open(ctx, k)
		if err != nil {
			t.Fatalf("%s: %s: %v", files, k, err)
		}
		b, err := io.ReadAll(obj)
		obj.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[k] = string(b)
	}
	return out
}

// SQLite → archive → the other database (media moved to S3) → archive →
// SQLite (media back on disk): every table identical at each step, the
// media byte-identical, the audit chain verifying, the public API serving
// the same bytes. With PostgreSQL off, the middle database is SQLite.
func TestExportImportRoundTrip(t *testing.T) {
	s3 := s3test.Start(t)
	testdb.Each(t, func(t *testing.T, dsn string) {
		a := newInstance(t, testdb.SQLite(t))
		made := populate(t, a)
		dir := t.TempDir()
		first, second := filepath.Join(dir, "a.tar"), filepath.Join(dir, "b.tar")
		expect(t, a.must("", "export", "--out", first), 0, "stdout", "exported", "1 media files", "1 pending jobs")

		b := newInstance(t, dsn)
		b.env["QUIRE_S3_ENDPOINT"], b.env["QUIRE_S3_BUCKET"] = s3.Endpoint, s3.Bucket(t)
		b.env["QUIRE_S3_ACCESS_KEY"], b.env["QUIRE_S3_SECRET_KEY"], b.env["QUIRE_S3_PATH_STYLE"] = s3.AccessKey, s3.SecretKey, "true"
		expect(t, b.must("", "import", "--media-to", "s3", first), 0, "stdout", "imported", "audit verify: ok", "s3")
		expect(t, b.must("", "audit", "verify"), 0, "stdout", "ok:")
		expect(t, b.must("", "export", "--out", second), 0, "stdout", "exported")

		c := newInstance(t, testdb.SQLite(t))
		expect(t, c.must("", "import", "--media-to", "local", second), 0, "stdout", "imported", "audit verify: ok")
		expect(t, c.must("", "audit", "verify"), 0, "stdout", "ok:")

		da, db, dc := dump(t, a.dsn), dump(t, b.dsn), dump(t, c.dsn)
		if len(da["pages"]) != 6 || len(da["page_revisions"]) < 18 || len(da["audit_log"]) < 20 {
			t.Fatalf("populate made %d pages, %d revisions", len(da["pages"]), len(da["page_revisions"]))
		}
		sameTables(t, "A and B", da, db)
		sameTables(t, "A and C", da, dc)
		if ka, kb, kc := signingKey(t, a), signingKey(t, b), signingKey(t, c); ka == "" || ka != kb || ka != kc {
			t.Errorf("signing keys %q, %q, %q", ka, kb, kc)
		}
		ma, mb, mc := mediaBytes(t, a, made.keys), mediaBytes(t, b, made.keys), mediaBytes(t, c, made.keys)
		if !reflect.DeepEqual(ma, mb) || !reflect.DeepEqual(ma, mc) {
			t.Error("media bytes differ")
		}
		pa, pb, pc := public(t, a, made.slugs), public(t, b, made.slugs), public(t, c, made.slugs)
		if !reflect.DeepEqual(pa, pb) || !reflect.DeepEqual(pa, pc) {
			t.Errorf("public API differs:\nA %v\nB %v\nC %v", pa, pb, pc)
		}
		// The scheduled publish is still pending in C.
		if n := countJobs(t, c.dsn); n != 1 {
			t.Errorf("C has %d pending jobs, want 1", n)
		}
	})
}

func countJobs(t *testing.T, dsn string) int {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	snap, err := db.BeginSnapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	n := 0
	if err := snap.PendingJobs(ctx, func(store.PendingJob) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

// signingKey is the instance's generated signing key, wherever it keeps it.
func signingKey(t *testing.T, in *instance) string {
	t.Helper()
	if !strings.HasPrefix(in.dsn, "postgres") {
		b, err := os.ReadFile(server.SigningKeyFile(instanceConfig(t, in)))
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(b))
	}
	db := in.openStore()
	key, err := db.InstanceSecret(context.Background(), "jwt_signing_key", nil)
	if err != nil {
		t.Fatal(err)
	}
	return key
}
