package storage_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/quirecms/quire/internal/s3test"
	"github.com/quirecms/quire/internal/storage"
)

// each runs fn on both backends: a local directory and a real
// S3-compatible server on loopback.
func each(t *testing.T, fn func(t *testing.T, s storage.Storage)) {
	t.Run("local", func(t *testing.T) {
		s, err := storage.NewLocal(filepath.Join(t.TempDir(), "media"))
		if err != nil {
			t.Fatal(err)
		}
		fn(t, s)
	})
	t.Run("s3", func(t *testing.T) { fn(t, s3test.Storage(t)) })
}

func keys(t *testing.T, s storage.Storage, prefix string) []string {
	t.Helper()
	var out []string
	if err := s.List(context.Background(), prefix, func(i storage.Info) error {
		out = append(out, i.Key)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func TestPutOpenDeleteList(t *testing.T) {
	each(t, func(t *testing.T, s storage.Storage) {
		ctx := context.Background()
		// Larger than one S3 part, so the multipart path is exercised.
		data := randomBytes(6<<20 + 123)
		n, err := s.Put(ctx, "media/a1/original", bytes.NewReader(data))
		if err != nil || n != int64(len(data)) {
			t.Fatalf("Put = %d, %v", n, err)
		}
		if _, err := s.Put(ctx, "media/a1/w64.jpg", strings.NewReader("variant")); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Put(ctx, "media/b2/original", strings.NewReader("")); err != nil {
			t.Fatal(err)
		}
		o, err := s.Open(ctx, "media/a1/original")
		if err != nil {
			t.Fatal(err)
		}
		if o.Size() != int64(len(data)) || o.ModTime().IsZero() {
			t.Fatalf("size %d, modtime %v", o.Size(), o.ModTime())
		}
		// Seek into the middle, as a Range request does.
		if _, err := o.Seek(5<<20, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		part := make([]byte, 1000)
		if _, err := io.ReadFull(o, part); err != nil || !bytes.Equal(part, data[5<<20:5<<20+1000]) {
			t.Fatalf("ranged read: %v", err)
		}
		if end, err := o.Seek(0, io.SeekEnd); err != nil || end != int64(len(data)) {
			t.Fatalf("seek end = %d, %v", end, err)
		}
		if _, err := o.Seek(0, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		all, err := io.ReadAll(o)
		if err != nil || !bytes.Equal(all, data) {
			t.Fatalf("read back %d bytes, %v", len(all), err)
		}
		o.Close()

		if got := strings.Join(keys(t, s, "media/"), ","); got != "media/a1/original,media/a1/w64.jpg,media/b2/original" {
			t.Fatalf("list = %s", got)
		}
		if got := strings.Join(keys(t, s, "media/a1/"), ","); got != "media/a1/original,media/a1/w64.jpg" {
			t.Fatalf("list a1 = %s", got)
		}
		if err := storage.DeletePrefix(ctx, s, "media/a1/"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Open(ctx, "media/a1/original"); !errors.Is(err, storage.ErrNotExist) {
			t.Fatalf("open after delete: %v", err)
		}
		if err := s.Delete(ctx, "media/a1/original"); err != nil {
			t.Fatalf("deleting a missing key: %v", err)
		}
		if got := strings.Join(keys(t, s, ""), ","); got != "media/b2/original" {
			t.Fatalf("list after delete = %s", got)
		}
	})
}

type failingReader struct {
	r     io.Reader
	after int
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.after <= 0 {
		return 0, errors.New("client went away")
	}
	n, err := f.r.Read(p[:min(len(p), f.after)])
	f.after -= n
	return n, err
}

// A Put whose reader fails leaves nothing behind, on both backends and on
// both sides of S3's single-part/multipart threshold.
func TestFailedPutLeavesNothing(t *testing.T) {
	each(t, func(t *testing.T, s storage.Storage) {
		for _, size := range []int{100, 7 << 20} {
			_, err := s.Put(context.Background(), "media/c3/original", &failingReader{r: bytes.NewReader(randomBytes(size * 2)), after: size})
			if err == nil {
				t.Fatal("Put succeeded with a failing reader")
			}
			if got := keys(t, s, ""); len(got) != 0 {
				t.Fatalf("left behind: %v", got)
			}
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := s.Put(ctx, "media/c3/original", strings.NewReader("x")); err == nil {
			t.Fatal("Put succeeded with a cancelled context")
		}
		if got := keys(t, s, ""); len(got) != 0 {
			t.Fatalf("left behind: %v", got)
		}
	})
}

func TestKeysAreChecked(t *testing.T) {
	each(t, func(t *testing.T, s storage.Storage) {
		for _, k := range []string{"", "../x", "media/../../etc/passwd", "/abs", "media/.hidden", "Media/X", "a//b", "a/b/", "a\\b", "a b"} {
			if _, err := s.Put(context.Background(), k, strings.NewReader("x")); err == nil {
				t.Errorf("Put(%q) accepted", k)
			}
			if _, err := s.Open(context.Background(), k); err == nil || errors.Is(err, storage.ErrNotExist) {
				t.Errorf("Open(%q) = %v, want a key error", k, err)
			}
		}
	})
}

// The local backend writes through a temp file renamed into place: the
// file appears whole, with owner-only permissions, and no temp file
// remains.
func TestLocalWritesAtomically(t *testing.T) {
	root := filepath.Join(t.TempDir(), "media")
	s, err := storage.NewLocal(root)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(context.Background(), "media/d4/original", strings.NewReader("hello")); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(filepath.Join(root, "media", "d4"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "original" {
		t.Fatalf("directory holds %v", entries)
	}
	st, _ := os.Stat(filepath.Join(root, "media", "d4", "original"))
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", st.Mode())
	}
	if storage.IsPartial("media/d4/original") || !storage.IsPartial("media/d4/original.partial-123") {
		t.Fatal("IsPartial")
	}
	// Deleting the last file removes the emptied directories, up to the
	// media directory itself.
	if err := s.Delete(context.Background(), "media/d4/original"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "media", "d4")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("empty directories left: %v", err)
	}
	if st, err := os.Stat(filepath.Join(root, "media")); err != nil || !st.IsDir() {
		t.Fatalf("the media directory went: %v", err)
	}
}
