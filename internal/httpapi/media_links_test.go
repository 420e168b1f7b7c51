package httpapi_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/quirecms/quire/internal/testdb"
)

// A symbolic link planted in the local media directory in place of a
// file, pointing outside it (here at the database file beside it, and at
// a file elsewhere), is never followed: the file answers 404 and nothing
// of the target is served, original or variant.
func TestMediaLinkOutOfStorageNotServed(t *testing.T) {
	testdb.Each(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, nil)
		tok := e.admin().AccessToken
		secret := []byte("SECRET-OUTSIDE-THE-MEDIA-DIRECTORY")
		outside := filepath.Join(t.TempDir(), "secret.txt")
		if err := os.WriteFile(outside, secret, 0o600); err != nil {
			t.Fatal(err)
		}
		beside := filepath.Join(e.cfg.DataDir, "beside.txt")
		if err := os.WriteFile(beside, secret, 0o600); err != nil {
			t.Fatal(err)
		}
		for i, target := range []string{outside, beside, "../../beside.txt"} {
			m := e.mustUpload(tok, "notes.txt", []byte{'n', 'o', 't', 'e', 's', byte('0' + i)})
			file := filepath.Join(e.cfg.DataDir, "media", m.ID, "original")
			if err := os.Remove(file); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(target, file); err != nil {
				t.Fatal(err)
			}
			r := e.do("GET", m.URL, "", nil)
			if bytes.Contains(r.Body, secret) {
				t.Fatalf("served the link's target %s: %s", target, r.Body)
			}
			r.want(t, 404)
		}
		// A variant made from a linked original is refused too.
		m := e.mustUpload(tok, "p.png", pngOf(300, 200, 9))
		file := filepath.Join(e.cfg.DataDir, "media", m.ID, "original")
		if err := os.Remove(file); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(outside, file); err != nil {
			t.Fatal(err)
		}
		if r := e.do("GET", m.URL+"?w=64", "", nil); r.Status == 200 {
			t.Fatalf("variant of a linked original: %d", r.Status)
		}
	})
}
