package cli_test

import (
	"archive/tar"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/quirecms/quire/internal/testdb"
)

type entry struct {
	name string
	body []byte
}

func readTar(t *testing.T, path string) []entry {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []entry
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		out = append(out, entry{h.Name, b})
	}
}

func writeTar(t *testing.T, path string, entries []entry) {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		if err := tw.WriteHeader(&tar.Header{Name: e.name, Mode: 0o600, Size: int64(len(e.body))}); err != nil {
			t.Fatal(err)
		}
		_, _ = tw.Write(e.body)
	}
	_ = tw.Close()
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// A bad archive is refused with the part at fault named, and nothing is
// written: the target database stays without a schema.
func TestImportRefusesBadArchives(t *testing.T) {
	src := newInstance(t, testdb.SQLite(t))
	populate(t, src)
	dir := t.TempDir()
	good := filepath.Join(dir, "good.tar")
	src.must("", "export", "--out", good)
	entries := readTar(t, good)
	raw, _ := os.ReadFile(good)

	variant := func(name string, edit func([]entry) []entry) string {
		cp := make([]entry, len(entries))
		for i, e := range entries {
			cp[i] = entry{e.name, append([]byte(nil), e.body...)}
		}
		path := filepath.Join(dir, name)
		writeTar(t, path, edit(cp))
		return path
	}
	editManifest := func(fn func(map[string]any)) func([]entry) []entry {
		return func(es []entry) []entry {
			for i, e := range es {
				if e.name == "manifest.json" {
					var m map[string]any
					_ = json.Unmarshal(e.body, &m)
					fn(m)
					es[i].body, _ = json.Marshal(m)
				}
			}
			return es
		}
	}
	truncated := filepath.Join(dir, "truncated.tar")
	_ = os.WriteFile(truncated, raw[:len(raw)/2], 0o600)
	notTar := filepath.Join(dir, "notes.txt")
	_ = os.WriteFile(notTar, []byte(strings.Repeat("just some text\n", 100)), 0o600)

	cases := []struct {
		name, file string
		want       []string
	}{
		{"a flipped byte", variant("flipped.tar", func(es []entry) []entry {
			for i, e := range es {
				if e.name == "tables/pages.jsonl" {
					es[i].body[10] ^= 1
				}
			}
			return es
		}), []string{"tables/pages.jsonl", "SHA-256"}},
		{"a missing media file", variant("nomedia.tar", func(es []entry) []entry {
			var out []entry
			for _, e := range es {
				if !strings.HasPrefix(e.name, "media/") {
					out = append(out, e)
				}
			}
			return out
		}), []string{"media/", "missing from the archive"}},
		{"truncated", truncated, []string{"truncated"}},
		{"not a tar file", notTar, []string{"not a Quire archive"}},
		{"another tool's tar", variant("other.tar", func([]entry) []entry {
			return []entry{{"README", []byte("hello")}}
		}), []string{"not a Quire archive", "no manifest.json"}},
		{"another format", variant("format.tar", editManifest(func(m map[string]any) { m["format"] = "something-else" })), []string{"manifest.json", "not written by quire export"}},
		{"a newer schema", variant("newer.tar", editManifest(func(m map[string]any) { m["schema_version"] = 9999 })), []string{"newer Quire", "9999"}},
		{"a media key outside the media area", variant("key.tar", editManifest(func(m map[string]any) {
			m["media"].([]any)[0].(map[string]any)["key"] = "../../etc/cron.d/evil"
		})), []string{"manifest.json", "invalid key"}},
		{"a part twice", variant("twice.tar", func(es []entry) []entry {
			for _, e := range es {
				if e.name == "tables/users.jsonl" {
					return append([]entry{{e.name, []byte("[]\n")}}, es...)
				}
			}
			return es
		}), []string{"tables/users.jsonl", "twice"}},
		{"an extra part", variant("extra.tar", func(es []entry) []entry {
			return append(es, entry{"tables/evil.jsonl", []byte("[]\n")})
		}), []string{"tables/evil.jsonl", "not listed"}},
	}
	testdb.Each(t, func(t *testing.T, dsn string) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				dst := newInstance(t, dsn)
				expect(t, dst.run("", "import", c.file), 1, "stderr", c.want...)
				v, err := dst.openStore().SchemaVersion(context.Background())
				if err != nil || v != 0 {
					t.Errorf("the target has schema version %d (%v): something was written", v, err)
				}
			})
		}
	})
}

// An import refuses a database with content; an interrupted import leaves
// the database marked, and the server (every migrating command) and a
// second import refuse it with a message that says what to do.
func TestImportRefusesNonEmptyAndIncomplete(t *testing.T) {
	src := newInstance(t, testdb.SQLite(t))
	populate(t, src)
	archive := filepath.Join(t.TempDir(), "a.tar")
	src.must("", "export", "--out", archive)
	testdb.Each(t, func(t *testing.T, dsn string) {
		used := newInstance(t, dsn)
		used.must("x"+password+"\n", "user", "create", "--email", "someone@example.com", "--role", "admin")
		expect(t, used.run("", "import", archive), 1, "stderr", "not empty", "users (1 rows)")

		// A database migrated but unused (its only rows the migrations' own) is empty.
		migrated := newInstance(t, freshLike(t, dsn))
		migrated.must("", "migrate", "up")
		expect(t, migrated.must("", "import", archive), 0, "stdout", "audit verify: ok")

		cut := newInstance(t, testdb.SQLite(t))
		if strings.HasPrefix(dsn, "postgres") {
			cut = newInstance(t, testdb.Postgres(t))
		}
		db := cut.openStore()
		ctx := context.Background()
		if err := db.BeginImport(ctx, "a.tar"); err != nil {
			t.Fatal(err)
		}
		expect(t, cut.run("", "migrate", "up"), 1, "stderr", "did not finish", "a.tar", "run `quire import` again")
		expect(t, cut.run("", "import", archive), 1, "stderr", "did not finish")
		expect(t, cut.run("", "export", "--out", filepath.Join(t.TempDir(), "x.tar")), 1, "stderr", "did not finish")
	})
}

// An archive from an older schema is loaded at that schema and migrated up.
func TestImportMigratesAnOlderArchive(t *testing.T) {
	ctx := context.Background()
	old := newInstance(t, testdb.SQLite(t))
	db := old.openStore()
	if err := db.MigrateTo(ctx, 13); err != nil {
		t.Fatal(err)
	}
	// A page with an inline snapshot revision, as schema 13 kept them.
	raw, err := sql.Open("sqlite", old.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	func() {
		for _, q := range []string{
			`INSERT INTO users (id, email, hashed_password, role, last_token_issue, created_at, updated_at) VALUES ('u1', 'old@example.com', 'x', 'admin', '2025-01-01T00:00:00.000000Z', '2025-01-01T00:00:00.000000Z', '2025-01-01T00:00:00.000000Z')`,
			`INSERT INTO pages (id, slug, title, created_by, updated_by, created_at, updated_at) VALUES ('p1', 'old', 'Old', 'u1', 'u1', '2025-01-01T00:00:00.000000Z', '2025-01-01T00:00:00.000000Z')`,
			`INSERT INTO page_revisions (id, page_id, number, status, title, slug, blocks, created_by_user_id, created_at) VALUES ('r1', 'p1', 1, 'draft', 'Old', 'old', '[{"id":"b1","type":"paragraph","content":{"text":"kept"}}]', 'u1', '2025-01-01T00:00:00.000000Z')`,
		} {
			if _, err := raw.ExecContext(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
	}()
	archive := filepath.Join(t.TempDir(), "old.tar")
	expect(t, old.must("", "export", "--out", archive), 0, "stdout", "schema version 13")
	testdb.Each(t, func(t *testing.T, dsn string) {
		dst := newInstance(t, dsn)
		expect(t, dst.must("", "import", archive), 0, "stdout", "schema version 13", "audit verify: ok")
		tdb := dst.openStore()
		v, _ := tdb.SchemaVersion(ctx)
		latest, _ := tdb.LatestSchemaVersion()
		if v != latest {
			t.Errorf("schema version %d after import, want %d", v, latest)
		}
		d := dump(t, dst.dsn)
		if len(d["revision_contents"]) != 1 || len(d["users"]) != 1 {
			t.Errorf("the old revision was not migrated: %v", d["revision_contents"])
		}
	})
}

// A live media record whose bytes are gone fails the export, naming it,
// and leaves no archive behind.
func TestExportRefusesMissingMedia(t *testing.T) {
	src := newInstance(t, testdb.SQLite(t))
	made := populate(t, src)
	cfg := instanceConfig(t, src)
	if err := os.Remove(filepath.Join(cfg.DataDir, filepath.FromSlash(made.keys[0]))); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "a.tar")
	expect(t, src.run("", "export", "--out", out), 1, "stderr", made.keys[0], "no such object")
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("an archive was left behind: %v", err)
	}
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(out), "*"))
	if len(left) != 0 {
		t.Errorf("files left behind: %v", left)
	}
}
