package storage

import (
	"context"
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

// Local keeps objects as files under a directory. A write goes to a temp
// file beside its target, is fsynced, renamed into place, and the
// directory is fsynced, so that after Put returns the file survives a
// crash and a reader never sees half of it.
type Local struct {
	root string
}

// partialMarker is part of every temp file's name, so that `quire media
// gc` can recognise what a crash left behind.
const partialMarker = ".partial-"

// NewLocal returns storage under root, creating it (mode 0700) if needed.
func NewLocal(root string) (*Local, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("media directory: %w", err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, fmt.Errorf("media directory: %w", err)
	}
	return &Local{root: abs}, nil
}

func (l *Local) String() string { return "local " + l.root }

func (l *Local) path(key string) string { return filepath.Join(l.root, filepath.FromSlash(key)) }

// Put writes r to key atomically and durably.
func (l *Local) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	if err := CheckKey(key); err != nil {
		return 0, err
	}
	target := l.path(key)
	dir := filepath.Dir(target)
	var f *os.File
	var err error
	// A concurrent Delete may remove an emptied directory between MkdirAll
	// and CreateTemp; try again then.
	for range 3 {
		if err = l.mkdirAll(dir); err != nil {
			return 0, fmt.Errorf("storage: %w", err)
		}
		if f, err = os.CreateTemp(dir, filepath.Base(target)+partialMarker+"*"); !errors.Is(err, fs.ErrNotExist) {
			break
		}
	}
	if err != nil {
		return 0, fmt.Errorf("storage: %w", err)
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
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
	if err := os.Chmod(tmp, 0o600); err != nil {
		return n, fmt.Errorf("storage: %w", err)
	}
	if err := os.Rename(tmp, target); err != nil {
		return n, fmt.Errorf("storage: %w", err)
	}
	ok = true
	if err := syncDir(dir); err != nil {
		return n, fmt.Errorf("storage: %w", err)
	}
	return n, nil
}

// mkdirAll creates dir and its missing parents, fsyncing the parent of
// each directory it creates so that the new entries are durable too.
func (l *Local) mkdirAll(dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	parent := filepath.Dir(dir)
	if parent != dir && strings.HasPrefix(parent, l.root) {
		if err := l.mkdirAll(parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return syncDir(parent)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Open opens key for reading.
func (l *Local) Open(ctx context.Context, key string) (Object, error) {
	if err := CheckKey(key); err != nil {
		return nil, err
	}
	f, err := os.Open(l.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotExist
	}
	if err != nil {
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

type localObject struct {
	*os.File
	size int64
	mod  time.Time
}

func (o *localObject) Size() int64        { return o.size }
func (o *localObject) ModTime() time.Time { return o.mod }

// Delete removes key and then any directories it leaves empty.
func (l *Local) Delete(ctx context.Context, key string) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	p := l.path(key)
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("storage: %w", err)
	}
	for dir := filepath.Dir(p); dir != l.root && strings.HasPrefix(dir, l.root); dir = filepath.Dir(dir) {
		if os.Remove(dir) != nil {
			break // not empty, or gone already
		}
	}
	return nil
}

// List walks the files under prefix in lexical order.
func (l *Local) List(ctx context.Context, prefix string, fn func(Info) error) error {
	if err := checkPrefix(prefix); err != nil {
		return err
	}
	start := l.root
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		start = l.path(prefix[:i])
	}
	err := filepath.WalkDir(start, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, err := filepath.Rel(l.root, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if d.IsDir() {
			// Skip directories that cannot hold a match.
			if p != start && !strings.HasPrefix(key+"/", prefix) && !strings.HasPrefix(prefix, key+"/") {
				return filepath.SkipDir
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
