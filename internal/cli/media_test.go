package cli_test

import (
	"context"
	"flag"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/auth"
	"github.com/quirecms/quire/internal/config"
	"github.com/quirecms/quire/internal/s3test"
	"github.com/quirecms/quire/internal/server"
	"github.com/quirecms/quire/internal/service"
	"github.com/quirecms/quire/internal/storage"
	"github.com/quirecms/quire/internal/store"
	"github.com/quirecms/quire/internal/testdb"
)

// `quire media gc` removes what a crash can leave behind (bytes written
// before a record that never committed, a half-written temp file, the
// bytes of a purge whose removal did not happen) and nothing else: not
// the files of live or deleted media, not their variants, not anything
// young enough to belong to an upload in flight.
func TestMediaGC(t *testing.T) {
	t.Run("local", func(t *testing.T) {
		testdb.Each(t, func(t *testing.T, dsn string) { testMediaGC(t, newInstance(t, dsn), true) })
	})
	t.Run("s3", func(t *testing.T) {
		srv := s3test.Start(t)
		testdb.Each(t, func(t *testing.T, dsn string) {
			in := newInstance(t, dsn)
			in.env["QUIRE_S3_ENDPOINT"], in.env["QUIRE_S3_BUCKET"] = srv.Endpoint, srv.Bucket(t)
			in.env["QUIRE_S3_ACCESS_KEY"], in.env["QUIRE_S3_SECRET_KEY"], in.env["QUIRE_S3_PATH_STYLE"] = srv.AccessKey, srv.SecretKey, "true"
			testMediaGC(t, in, false)
		})
	})
}

func testMediaGC(t *testing.T, in *instance, local bool) {
	ctx := context.Background()
	cfg := instanceConfig(t, in)
	srv, err := server.New(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), server.Options{Argon2: auth.FastArgon2})
	if err != nil {
		t.Fatal(err)
	}
	u, err := srv.Users.CreateSystem(ctx, service.NewUser{Email: "gc@example.com", Password: password, Role: quire.RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	p := &quire.Principal{UserID: u.ID, Role: u.Role}
	upload := func(name, content string) *quire.Media {
		up, err := srv.Media.Stage(ctx, p, name, strings.NewReader(content))
		if err != nil {
			t.Fatal(err)
		}
		m, _, err := up.Commit(ctx, p, "", "")
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	live := upload("live.txt", "live bytes")
	deleted := upload("deleted.txt", "deleted bytes")
	if err := srv.Media.Delete(ctx, p, deleted.ID, 0); err != nil {
		t.Fatal(err)
	}
	files := srv.Media.Storage()
	put := func(key, content string) {
		if _, err := files.Put(ctx, key, strings.NewReader(content)); err != nil {
			t.Fatal(err)
		}
	}
	liveDir := strings.TrimSuffix(live.StorageKey, "original")
	put(liveDir+"w64-h0-contain", "a variant")
	orphan := "media/" + store.NewID() + "/original" // an upload whose record never committed
	put(orphan, "orphan bytes")
	put(strings.TrimSuffix(orphan, "original")+"w64-h0-contain", "its variant")
	partial := liveDir + "original.partial-123" // a write cut short
	put(partial, "half")
	srv.Close()
	keys := func() []string {
		var out []string
		_ = files.List(ctx, "media/", func(i storage.Info) error { out = append(out, i.Key); return nil })
		return out
	}
	before := keys()
	if len(before) != 6 {
		t.Fatalf("stored %v", before)
	}

	// Everything is young: nothing goes.
	r := in.must("", "media", "gc")
	expect(t, r, 0, "stdout", "6 objects looked at", "removed 0", "3 unowned kept")
	if !slices.Equal(keys(), before) {
		t.Fatalf("gc removed young objects: %v", keys())
	}
	minAge := []string{"--min-age", "0s"}
	if local {
		// Age the leftovers, as if the crash happened yesterday.
		old := time.Now().Add(-24 * time.Hour)
		for _, k := range keys() {
			if err := os.Chtimes(filepath.Join(cfg.DataDir, filepath.FromSlash(k)), old, old); err != nil {
				t.Fatal(err)
			}
		}
		minAge = nil
	}
	r = in.must("", append([]string{"media", "gc", "--dry-run"}, minAge...)...)
	expect(t, r, 0, "stdout", "would remove "+orphan, "would remove "+partial, "would remove 3")
	if !slices.Equal(keys(), before) {
		t.Fatal("a dry run removed something")
	}
	r = in.must("", append([]string{"media", "gc"}, minAge...)...)
	expect(t, r, 0, "stdout", "removed "+orphan, "removed 3")
	want := []string{deleted.StorageKey, live.StorageKey, liveDir + "w64-h0-contain"}
	slices.Sort(want)
	if got := keys(); !slices.Equal(got, want) {
		t.Fatalf("after gc: %v, want %v", got, want)
	}

	// A record without its bytes is reported, never "fixed".
	if err := files.Delete(ctx, deleted.StorageKey); err != nil {
		t.Fatal(err)
	}
	r = in.run("", "media", "gc")
	expect(t, r, 1, "stderr", "media "+deleted.ID+" has no bytes")
	expect(t, in.run("", "media", "gc", "--min-age", "-1h"), 2, "stderr", "--min-age")
}

// instanceConfig is the configuration the command line builds from in's environment.
func instanceConfig(t *testing.T, in *instance) config.Config {
	t.Helper()
	fs := flag.NewFlagSet("quire", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cfg, err := config.Load(fs, nil, func(k string) string { return in.env[k] })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}
