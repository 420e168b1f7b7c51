// Package storage keeps the bytes of the media library: a local directory
// (the default, under the data directory) or an S3-compatible bucket. Keys
// are made by the media service, never from a client's file name; both
// backends refuse any key outside a small safe alphabet.
package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"
)

// ErrNotExist is returned by Open for a key that holds nothing.
var ErrNotExist = errors.New("storage: no such object")

// Object is a stored file opened for reading; it seeks, so that
// http.ServeContent can answer Range requests from it.
type Object interface {
	io.ReadSeekCloser
	Size() int64
	ModTime() time.Time
}

// Info describes a stored object in a listing.
type Info struct {
	Key     string
	Size    int64
	ModTime time.Time
}

// Storage is what the media library needs of a place to keep bytes.
type Storage interface {
	// Put stores everything r yields under key and returns the number of
	// bytes. It is all or nothing: when it returns an error (r failed, the
	// context ended, the disk filled) nothing is left under key, and when
	// it returns nil the bytes are durable.
	Put(ctx context.Context, key string, r io.Reader) (int64, error)
	// Open opens key for reading, or returns ErrNotExist.
	Open(ctx context.Context, key string) (Object, error)
	// Delete removes key; a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// List calls fn for every object whose key starts with prefix.
	List(ctx context.Context, prefix string, fn func(Info) error) error
	// String names the backend for logs: "local /var/lib/quire/media".
	String() string
}

// keyRE: lowercase ASCII words of letters, digits, dot, dash and
// underscore, joined by single slashes; no element starts with a dot
// (so no "..", no hidden files).
var keyRE = regexp.MustCompile(`^[a-z0-9_-][a-z0-9._-]*(/[a-z0-9_-][a-z0-9._-]*)*$`)

// CheckKey refuses keys outside the safe alphabet.
func CheckKey(key string) error {
	if len(key) > 512 || !keyRE.MatchString(key) {
		return fmt.Errorf("storage: invalid key %q", key)
	}
	return nil
}

func checkPrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	return CheckKey(strings.TrimSuffix(prefix, "/"))
}

// DeletePrefix removes every object under prefix (which should end in "/").
func DeletePrefix(ctx context.Context, s Storage, prefix string) error {
	var keys []string
	if err := s.List(ctx, prefix, func(i Info) error {
		keys = append(keys, i.Key)
		return nil
	}); err != nil {
		return err
	}
	var errs []error
	for _, k := range keys {
		errs = append(errs, s.Delete(ctx, k))
	}
	return errors.Join(errs...)
}
