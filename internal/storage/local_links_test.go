package storage_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/quirecms/quire/internal/storage"
)

// localWithOutside is a local backend under a data directory, with a
// secret file beside the media directory (where the database lives) and
// another one elsewhere.
func localWithOutside(t *testing.T) (s *storage.Local, data, secret string) {
	t.Helper()
	data = filepath.Join(t.TempDir(), "data")
	s, err := storage.NewLocal(data)
	if err != nil {
		t.Fatal(err)
	}
	secret = filepath.Join(data, "quire.db")
	if err := os.WriteFile(secret, []byte("SECRET DATABASE"), 0o600); err != nil {
		t.Fatal(err)
	}
	return s, data, secret
}

// A symbolic link planted in the media directory that points outside it
// is never followed: not to serve, not to write, not to delete, and not
// even when it points at the data directory right beside it.
func TestLocalDoesNotFollowLinksOut(t *testing.T) {
	ctx := context.Background()
	s, data, secret := localWithOutside(t)
	elsewhere := t.TempDir()
	if err := os.WriteFile(filepath.Join(elsewhere, "passwd"), []byte("root:x:0:0"), 0o600); err != nil {
		t.Fatal(err)
	}
	media := filepath.Join(data, "media")
	mustLink := func(target, link string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(link), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
	}
	mustLink(secret, filepath.Join(media, "f1", "original"))                             // absolute, to the database
	mustLink("../../quire.db", filepath.Join(media, "f2", "original"))                   // relative, to the database
	mustLink(filepath.Join(elsewhere, "passwd"), filepath.Join(media, "f3", "original")) // elsewhere
	mustLink(elsewhere, filepath.Join(media, "d1"))                                      // a directory link

	for _, key := range []string{"media/f1/original", "media/f2/original", "media/f3/original", "media/d1/passwd"} {
		o, err := s.Open(ctx, key)
		if err == nil {
			b, _ := io.ReadAll(o)
			o.Close()
			t.Fatalf("Open(%s) served %q", key, b)
		}
		if !errors.Is(err, storage.ErrNotExist) {
			t.Errorf("Open(%s) = %v, want ErrNotExist", key, err)
		}
	}
	// Writing through the directory link fails and creates nothing outside.
	if _, err := s.Put(ctx, "media/d1/original", strings.NewReader("planted")); err == nil {
		t.Fatal("Put through a link out of the media directory succeeded")
	}
	if entries, _ := os.ReadDir(elsewhere); len(entries) != 1 {
		t.Fatalf("outside directory now holds %v", entries)
	}
	// Nor does a put replace what a file link points to.
	if _, err := s.Put(ctx, "media/f1/original", strings.NewReader("overwritten")); err != nil {
		t.Fatal(err) // the link itself is replaced by the rename: fine
	}
	if b, _ := os.ReadFile(secret); string(b) != "SECRET DATABASE" {
		t.Fatalf("the database was overwritten: %q", b)
	}
	// Deleting removes links, never their targets.
	if err := s.Delete(ctx, "media/f3/original"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(elsewhere, "passwd")); err != nil {
		t.Fatalf("delete removed the link's target: %v", err)
	}
	if err := s.Delete(ctx, "media/d1/passwd"); err == nil {
		if _, err := os.Stat(filepath.Join(elsewhere, "passwd")); err != nil {
			t.Fatalf("delete through a directory link removed %v", err)
		}
	}
	// Links are not listed (so gc never deletes through them either).
	var listed []string
	if err := s.List(ctx, "media/", func(i storage.Info) error { listed = append(listed, i.Key); return nil }); err != nil {
		t.Fatal(err)
	}
	if strings.Join(listed, ",") != "media/f1/original" {
		t.Fatalf("listed %v, want only the file written over the link", listed)
	}
}

// Keys outside media/ do not exist in the local backend: it holds the
// media directory only, not the data directory around it.
func TestLocalOnlyHoldsMedia(t *testing.T) {
	s, _, _ := localWithOutside(t)
	if _, err := s.Open(context.Background(), "quire.db"); err == nil || errors.Is(err, storage.ErrNotExist) {
		t.Fatalf("Open(quire.db) = %v, want a key error", err)
	}
	if _, err := s.Put(context.Background(), "other/x", strings.NewReader("x")); err == nil {
		t.Fatal("Put outside media/ accepted")
	}
}

// A link that stays inside the media directory still works (an operator
// may deduplicate files by hand).
func TestLocalFollowsLinksInside(t *testing.T) {
	ctx := context.Background()
	s, data, _ := localWithOutside(t)
	if _, err := s.Put(ctx, "media/g1/original", strings.NewReader("inside")); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(data, "media", "g2"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../g1/original", filepath.Join(data, "media", "g2", "original")); err != nil {
		t.Fatal(err)
	}
	o, err := s.Open(ctx, "media/g2/original")
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if b, _ := io.ReadAll(o); string(b) != "inside" {
		t.Fatalf("read %q", b)
	}
}
