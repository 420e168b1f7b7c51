package delivery

import (
	"context"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/store"
)

// DefaultCacheBytes is the page cache's default budget: 10,000 pages of
// about 2 KB fit (issue 11's benchmark; 16 MiB did not, and a cache that
// cannot hold a cyclic read of every page rebuilds on nearly every read),
// and with Go's heap allowed to double its live size between collections
// the anonymous memory stays near 64 MB. Larger sites set
// QUIRE_PAGE_CACHE_BYTES; pages past it are one indexed read away.
const DefaultCacheBytes = 24 << 20

// entryOverhead is what an entry costs beyond its bytes: the map slot,
// the entry and Document structs, the slug's string header. Counted so
// that a flood of 404s for random slugs is bounded too.
const entryOverhead = 200

// entry is a cached page and what revalidating it needs.
type entry struct {
	doc        *Document
	expires    time.Time
	revisionID string   // the published revision the page was built from
	images     []string // media ids the revision's image blocks name, sorted
	live       string   // those of them that were live, sorted and joined
	size       int      // bytes charged against the budget
}

// SetBudget sets the bytes the page entries may hold (QUIRE_PAGE_CACHE_BYTES).
// Call it before serving; zero or less keeps DefaultCacheBytes.
func (d *Pages) SetBudget(bytes int64) {
	if bytes <= 0 {
		return
	}
	d.mu.Lock()
	d.budget = bytes
	d.mu.Unlock()
}

// keep stores e at slug, evicting entries to stay within the budget;
// called with mu held. An entry larger than the whole budget is served
// but not kept.
func (d *Pages) keep(slug string, e *entry) {
	d.drop(slug)
	if int64(e.size) > d.budget {
		return
	}
	if d.bytes+int64(e.size) > d.budget {
		// Evict down to 90 % of the budget, whichever entries the map
		// yields first (Go randomises the order): bounded memory matters
		// more than perfect recency, and it is O(1) per kept entry on
		// average, with no list to maintain on every hit.
		target := d.budget*9/10 - int64(e.size)
		for k, old := range d.entries {
			if d.bytes <= target {
				break
			}
			delete(d.entries, k)
			d.bytes -= int64(old.size)
		}
	}
	d.entries[slug] = e
	d.bytes += int64(e.size)
}

// drop forgets slug's entry; called with mu held.
func (d *Pages) drop(slug string) {
	if old, ok := d.entries[slug]; ok {
		delete(d.entries, slug)
		d.bytes -= int64(old.size)
	}
}

// CachedBytes is what the page entries hold, against the budget.
func (d *Pages) CachedBytes() int64 {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.bytes
}

// jittered is the TTL less up to a quarter, at random, so that entries
// built together (a cold start, a deploy, an InvalidateAll) do not all
// expire in the same second and come back as a wave of rebuilds.
func (d *Pages) jittered() time.Duration {
	if d.ttl <= 0 {
		return d.ttl
	}
	return d.ttl - time.Duration(rand.Int64N(int64(d.ttl)/4+1))
}

// revalidate reports whether an expired entry still shows what a rebuild
// would: the revision published at slug is the one it was built from
// (revisions are immutable; a slug change or unpublish changes the answer
// of this read), and the images it names are live exactly as they were
// (a deleted image is dropped from the page, a restored one comes back).
// That is one indexed read, plus one for the media when there are images,
// instead of reading, decoding and encoding every block.
func (d *Pages) revalidate(ctx context.Context, slug string, e *entry) (bool, error) {
	if e.doc.NotFound {
		return false, nil // rebuilding a 404 is the same one read
	}
	r := d.db.Reader()
	id, err := r.PublishedRevisionID(ctx, slug)
	if quire.ErrorCode(err) == quire.ENOTFOUND {
		return false, nil
	}
	if err != nil || id != e.revisionID {
		return false, err
	}
	if len(e.images) == 0 {
		return true, nil
	}
	media, err := r.LiveMedia(ctx, e.images)
	if err != nil {
		return false, err
	}
	return liveKey(media) == e.live, nil
}

// liveKey is the sorted ids of media, joined: equal keys, equal sets.
func liveKey(media map[string]store.MediaRef) string {
	ids := make([]string, 0, len(media))
	for id := range media {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return strings.Join(ids, ",")
}
