// Package delivery is the public read side of Quire: published pages by
// slug, served from an in-process cache of encoded response bytes. It is
// the hot path of the product, so a cache hit is a map lookup and a write
// of bytes that were encoded once.
package delivery

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/store"
)

// Document is an encoded public response and its strong ETag. A Document
// with NotFound set is a cached "nothing is published at this slug".
type Document struct {
	Body     []byte
	ETag     string
	NotFound bool
	built    time.Time
}

// Pages serves published pages.
type Pages struct {
	db     *store.DB
	ttl    time.Duration
	budget int64 // bytes the page entries may hold (budget.go)
	group  singleflight.Group

	mu      sync.RWMutex
	entries map[string]*entry
	bytes   int64  // held by entries
	gen     uint64 // bumped by every invalidation

	lists listCache // pages of the public list (list.go)
}

// NewPages returns the delivery service. ttl bounds how long this node may
// serve an entry that another node's write made stale; writes through this
// node invalidate at once.
func NewPages(db *store.DB, ttl time.Duration) *Pages {
	return &Pages{db: db, ttl: ttl, budget: DefaultCacheBytes, entries: map[string]*entry{}}
}

// InvalidateAll drops every cached answer: a change whose pages are not
// known by slug (media another node deleted or restored).
func (d *Pages) InvalidateAll() {
	d.mu.Lock()
	for s := range d.entries {
		d.group.Forget(s)
	}
	d.entries = map[string]*entry{}
	d.bytes = 0
	d.gen++
	d.mu.Unlock()
}

// Invalidate drops the cached answers for slugs, and every cached page of
// the public list (list.go). The page service calls it after a publish,
// unpublish, slug change or delete commits.
func (d *Pages) Invalidate(slugs ...string) {
	if len(slugs) == 0 {
		return // a write public delivery does not show: keep the cache
	}
	d.mu.Lock()
	for _, s := range slugs {
		d.drop(s)
		// A build already in flight may have read the database before the
		// change committed; later readers must start their own rather than
		// join it, or a read right after a publish could show the old page.
		d.group.Forget(s)
	}
	d.gen++
	d.mu.Unlock()
}

// Page returns the public document for slug. Invalid slugs are answered
// NotFound without touching the database.
func (d *Pages) Page(ctx context.Context, slug string) (*Document, error) {
	d.mu.RLock()
	e, ok := d.entries[slug]
	d.mu.RUnlock()
	if ok && time.Now().Before(e.expires) {
		return e.doc, nil
	}
	var v quire.Validator
	if quire.ValidateSlug(&v, "slug", slug); v.Err() != nil {
		return &Document{NotFound: true}, nil
	}
	// One database read per slug however many requests miss at once.
	res, err, _ := d.group.Do(slug, func() (any, error) {
		d.mu.RLock()
		gen := d.gen
		d.mu.RUnlock()
		ctx := context.WithoutCancel(ctx)
		// An expired entry whose revision and images are unchanged is
		// kept: one indexed read instead of a rebuild (budget.go).
		var next *entry
		if ok {
			still, err := d.revalidate(ctx, slug, e)
			if err != nil {
				return nil, err
			}
			if still {
				renewed := *e
				next = &renewed
			}
		}
		if next == nil {
			var err error
			if next, err = d.build(ctx, slug); err != nil {
				return nil, err
			}
		}
		next.expires = time.Now().Add(d.jittered())
		d.mu.Lock()
		// Keep it only if nothing was invalidated while we read: the
		// write that did it may not be in doc.
		if d.gen == gen {
			d.keep(slug, next)
		}
		d.mu.Unlock()
		return next.doc, nil
	})
	if err != nil {
		return nil, err
	}
	return res.(*Document), nil
}

// PublicPage is the public JSON of a published page.
type PublicPage struct {
	Slug        string            `json:"slug"`
	Title       string            `json:"title"`
	Blocks      []json.RawMessage `json:"blocks"`
	PublishedAt time.Time         `json:"published_at"`
	Revision    int               `json:"revision"`
}

type publicBlock struct {
	ID      string          `json:"id"`
	Type    string          `json:"type"`
	Content json.RawMessage `json:"content"`
}

func (d *Pages) build(ctx context.Context, slug string) (*entry, error) {
	r := d.db.Reader()
	p, err := r.PublishedBySlug(ctx, slug)
	if quire.ErrorCode(err) == quire.ENOTFOUND {
		return &entry{doc: &Document{NotFound: true, built: time.Now()}, size: entryOverhead + len(slug)}, nil
	}
	if err != nil {
		return nil, err
	}
	blocks, media, err := publicBlocks(ctx, r, p.Blocks)
	if err != nil {
		return nil, err
	}
	out := PublicPage{Slug: p.Slug, Title: p.Title, PublishedAt: p.PublishedAt, Revision: p.Revision, Blocks: blocks}
	body, err := json.Marshal(out)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(body)
	doc := &Document{Body: body, ETag: `"` + hex.EncodeToString(sum[:16]) + `"`, built: time.Now()}
	images := imageIDs(p.Blocks)
	return &entry{doc: doc, revisionID: p.RevisionID, images: images, live: liveKey(media),
		size: entryOverhead + len(slug) + len(body) + len(doc.ETag) + 40*len(images)}, nil
}

// publicBlocks encodes snapshot blocks as front-ends receive them: image
// blocks carry their media's url, type and size. Published pages and
// previews both go through here, so that a preview shows exactly what
// publishing would.
func publicBlocks(ctx context.Context, r *store.Tx, blocks []quire.SnapshotBlock) ([]json.RawMessage, map[string]store.MediaRef, error) {
	media, err := r.LiveMedia(ctx, imageIDs(blocks))
	if err != nil {
		return nil, nil, err
	}
	out := make([]json.RawMessage, 0, len(blocks))
	for _, b := range blocks {
		content := b.Content
		if b.Type == quire.BlockImage {
			// An image whose media was deleted is dropped from delivery
			// rather than pointing front-ends at a dead URL.
			if content = withMedia(b.Content, media); content == nil {
				continue
			}
		}
		enc, err := json.Marshal(publicBlock{ID: b.ID, Type: b.Type, Content: content})
		if err != nil {
			return nil, nil, err
		}
		out = append(out, enc)
	}
	return out, media, nil
}

func imageIDs(blocks []quire.SnapshotBlock) []string {
	var ids []string
	seen := map[string]bool{}
	for _, b := range blocks {
		if b.Type != quire.BlockImage {
			continue
		}
		if id := mediaID(b.Content); id != "" && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	return ids
}

func mediaID(content json.RawMessage) string {
	var c struct {
		MediaID string `json:"media_id"`
	}
	_ = json.Unmarshal(content, &c)
	return c.MediaID
}

// withMedia adds url, width and height of the block's media to its
// content, or returns nil when the media is gone.
func withMedia(content json.RawMessage, media map[string]store.MediaRef) json.RawMessage {
	var c map[string]any
	if err := json.Unmarshal(content, &c); err != nil {
		return nil
	}
	id, _ := c["media_id"].(string)
	m, ok := media[id]
	if !ok {
		return nil
	}
	c["url"] = "/media/" + m.ID + "/" + url.PathEscape(m.Filename)
	c["mime_type"] = m.MimeType
	c["width"], c["height"] = m.Width, m.Height
	out, _ := json.Marshal(c)
	return out
}

// Summary is one row of the public page list.
type Summary = store.PublishedSummary

// Summaries reads published pages, most recently published first, from
// the database: what List caches.
func (d *Pages) Summaries(ctx context.Context, after *store.PageCursor, limit int) ([]Summary, error) {
	return d.db.Reader().PublishedPages(ctx, after, limit)
}
