package storage

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// Local keeps objects as files under a directory: key media/<id>/… is the
// file <dir>/media/<id>/…, and only keys under media/ exist. A write goes
// to a temp file beside its target, is fsynced, renamed into place, and
// the directory is fsynced, so that after Put returns the file survives a
// crash and a reader never sees half of it.
//
// Every file operation goes through an os.Root opened on <dir>/media: a
// symbolic link planted inside it (by another program, a restored backup,
// a careless operator) that points outside is never followed, so nothing
// outside the media directory — the database beside it included — can be
// served, overwritten or removed through a key. Links that stay inside
// the media directory still work.
type Local struct {
	dir  string // <dir>/media, for messages
	root *os.Root
}

// keyPrefix starts every key the local backend holds.
const keyPrefix = "media/"

// partialMarker is part of every temp file's name, so that `quire media
// gc` can recognise what a crash left behind.
const partialMarker = ".partial-"

// NewLocal returns storage under dir, creating dir/media (mode 0700) if
// needed. Either may be a symbolic link (a data disk mounted elsewhere):
// only what lies below the media directory is confined.
func NewLocal(dir string) (*Local, error) {
	abs, err := filepath.Abs(filepath.Join(dir, "media"))
	if err != nil {
		return nil, fmt.Errorf("media directory: %w", err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, fmt.Errorf("media directory: %w", err)
	}
	root, err := os.OpenRoot(abs)
	if err != nil {
		return nil, fmt.Errorf("media directory: %w", err)
	}
	return &Local{dir: abs, root: root}, nil
}

func (l *Local) String() string { return "local " + l.dir }

// name is key (checked) as a path relative to the root.
func name(key string) (string, error) {
	if err := CheckKey(key); err != nil {
		return "", err
	}
	rest, ok := strings.CutPrefix(key, keyPrefix)
	if !ok {
		return "", fmt.Errorf("storage: invalid key %q: local keys start with %s", key, keyPrefix)
	}
	return filepath.FromSlash(rest), nil
}

// Put writes r to key atomically and durably.
func (l *Local) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	target, err := name(key)
	if err != nil {
		return 0, err
	}
	dir := filepath.Dir(target)
	var f *os.File
	var tmp string
	// A concurrent Delete may remove an emptied directory between mkdirAll
	// and the create; try again then.
	for range 3 {
		if err = l.mkdirAll(dir); err != nil {
			return 0, fmt.Errorf("storage: %w", err)
		}
		tmp = target + partialMarker + randomSuffix()
		if f, err = l.root.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); !errors.Is(err, fs.ErrNotExist) {
			break
		}
	}
	if err != nil {
		return 0, fmt.Errorf("storage: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			f.Close()
			_ = l.root.Remove(tmp)
		}
	}()
	n, err := io.Copy(f, ctxReader{ctx, r})
	if err != nil {
		return n, err
	}
	if err := f.Sync(); err != nil {
		return n, fmt.Errorf("storage: %w", err)
	}
	if err := f.Close(); err != nil {
		return n, fmt.Errorf("storage: %w", err)
	}
	if err := l.root.Rename(tmp, target); err != nil {
		return n, fmt.Errorf("storage: %w", err)
	}
	ok = true
	if err := l.syncDir(dir); err != nil {
		return n, fmt.Errorf("storage: %w", err)
	}
	return n, nil
}

func randomSuffix() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// mkdirAll creates dir (relative to the root) and its missing parents,
// fsyncing the parent of each directory it creates so that the new
// entries are durable too.
func (l *Local) mkdirAll(dir string) error {
	if dir == "." {
		return nil
	}
	if st, err := l.root.Stat(dir); err == nil && st.IsDir() {
		return nil
	}
	parent := filepath.Dir(dir)
	if err := l.mkdirAll(parent); err != nil {
		return err
	}
	if err := l.root.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return l.syncDir(parent)
}

func (l *Local) syncDir(dir string) error {
	d, err := l.root.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Open opens key for reading. A key that leads through a symbolic link
// out of the directory is reported as missing (and the service logs a
// record without its bytes), never opened.
func (l *Local) Open(ctx context.Context, key string) (Object, error) {
	p, err := name(key)
	if err != nil {
		return nil, err
	}
	f, err := l.root.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotExist
	}
	if err != nil {
		if l.throughLink(p) {
			return nil, fmt.Errorf("%w (%s leads through a symbolic link out of the media directory)", ErrNotExist, key)
		}
		return nil, fmt.Errorf("storage: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("storage: %w", err)
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, ErrNotExist
	}
	return &localObject{File: f, size: st.Size(), mod: st.ModTime()}, nil
}

// throughLink reports whether some element of p is a symbolic link:
// what explains an open that the root refused.
func (l *Local) throughLink(p string) bool {
	for ; p != "."; p = filepath.Dir(p) {
		if st, err := l.root.Lstat(p); err == nil && st.Mode()&fs.ModeSymlink != 0 {
			return true
		}
	}
	return false
}

type localObject struct {
	*os.File
	size int64
	mod  time.Time
}

func (o *localObject) Size() int64        { return o.size }
func (o *localObject) ModTime() time.Time { return o.mod }

// Delete removes key and then any directories it leaves empty. A link
// is removed itself, never what it points to.
func (l *Local) Delete(ctx context.Context, key string) error {
	p, err := name(key)
	if err != nil {
		return err
	}
	if err := l.root.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("storage: %w", err)
	}
	for dir := filepath.Dir(p); dir != "."; dir = filepath.Dir(dir) {
		if l.root.Remove(dir) != nil {
			break // not empty, or gone already
		}
	}
	return nil
}

// List walks the regular files under prefix in lexical order; symbolic
// links are neither listed nor followed.
func (l *Local) List(ctx context.Context, prefix string, fn func(Info) error) error {
	if err := checkPrefix(prefix); err != nil {
		return err
	}
	var rel string // prefix below the root
	switch {
	case strings.HasPrefix(prefix, keyPrefix):
		rel = prefix[len(keyPrefix):]
	case !strings.HasPrefix(keyPrefix, prefix):
		return nil // no local key can match
	}
	start := "."
	if i := strings.LastIndexByte(rel, '/'); i >= 0 {
		start = rel[:i]
	}
	err := fs.WalkDir(l.root.FS(), start, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		key := keyPrefix + p
		if d.IsDir() {
			key = strings.TrimSuffix(key, "/.")
			// Skip directories that cannot hold a match.
			if p != start && !strings.HasPrefix(key+"/", prefix) && !strings.HasPrefix(prefix, key+"/") {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || !strings.HasPrefix(key, prefix) {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		return fn(Info{Key: path.Clean(key), Size: info.Size(), ModTime: info.ModTime()})
	})
	if err != nil {
		return fmt.Errorf("storage: list %q: %w", prefix, err)
	}
	return nil
}

// IsPartial reports whether key names a temp file of an interrupted Put.
func IsPartial(key string) bool { return strings.Contains(path.Base(key), partialMarker) }

// ctxReader stops a copy when the context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
