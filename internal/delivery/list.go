package delivery

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"sync"
	"time"
)

// maxListEntries bounds the cached pages of the public list: a client
// walking deep cursors replaces entries instead of growing the map.
const maxListEntries = 256

// listCache holds encoded pages of the public page list. Its entries are
// valid for the invalidation generation they were built in: every
// Invalidate (a publish, unpublish, slug change or delete committed
// through this node) bumps the generation, and so drops them all through
// the same call that drops page entries. The TTL bounds what other
// nodes' writes leave stale, as for pages.
type listCache struct {
	mu      sync.Mutex
	entries map[string]listEntry
}

type listEntry struct {
	doc *Document
	gen uint64
}

// List returns the encoded public list page that key names (the caller's
// canonical form of cursor and limit), calling build on a miss. One build
// runs per key and generation however many requests miss at once.
func (d *Pages) List(ctx context.Context, key string, build func(ctx context.Context) ([]byte, error)) (*Document, error) {
	d.mu.RLock()
	gen := d.gen
	d.mu.RUnlock()
	c := &d.lists
	c.mu.Lock()
	e, ok := c.entries[key]
	c.mu.Unlock()
	if ok && e.gen == gen && time.Since(e.doc.built) < d.ttl {
		return e.doc, nil
	}
	// The generation is part of the flight's key: a reader arriving after
	// an invalidation starts its own build rather than joining one that
	// may have read the database before the change committed.
	res, err, _ := d.group.Do("list\x00"+strconv.FormatUint(gen, 10)+"\x00"+key, func() (any, error) {
		body, err := build(context.WithoutCancel(ctx))
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(body)
		doc := &Document{Body: body, ETag: `"` + hex.EncodeToString(sum[:16]) + `"`, built: time.Now()}
		c.mu.Lock()
		if c.entries == nil || len(c.entries) >= maxListEntries {
			c.entries = make(map[string]listEntry, maxListEntries)
		}
		c.entries[key] = listEntry{doc: doc, gen: gen}
		c.mu.Unlock()
		return doc, nil
	})
	if err != nil {
		return nil, err
	}
	return res.(*Document), nil
}
