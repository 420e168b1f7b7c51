// Package eventstream follows the event log on every node: it wakes the
// live streams (Server-Sent Events) when events are recorded, on this node
// or any other, and on PostgreSQL tells this node's caches about changes
// other nodes committed. The event log is the channel between nodes: each
// node polls its head, a primary-key lookup, a few times a second.
package eventstream

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/store"
)

// Config tunes a hub; zero values take the defaults.
type Config struct {
	// Poll is how often the head of the event log is read (default 250 ms):
	// the bound on how late another node's change reaches this one.
	Poll time.Duration
	// Retention is how long events are kept for resuming streams
	// (default 7 days); older ones are pruned hourly.
	Retention time.Duration
	// OnChange, if set, is told about every event found by polling, in seq
	// order: the cache invalidation of changes made on other nodes.
	OnChange func(evs []*quire.Event)
	Log      *slog.Logger
}

// Hub follows the event log and bounds live connections.
type Hub struct {
	db   *store.DB
	cfg  Config
	mu   sync.Mutex
	wake chan struct{} // closed and replaced whenever new events are seen
	// stopped is closed while the hub does not run (before Run, after
	// Close): nothing would wake a stream, so streams end and clients
	// reconnect to a node that follows the log.
	stopped chan struct{}
	state   int            // 0 new, 1 running, 2 closed
	open    map[string]int // live connections per key (user, address)
}

// New returns a hub; Run follows the log until its context ends.
func New(db *store.DB, cfg Config) *Hub {
	if cfg.Poll <= 0 {
		cfg.Poll = 250 * time.Millisecond
	}
	if cfg.Retention <= 0 {
		cfg.Retention = 7 * 24 * time.Hour
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	stopped := make(chan struct{})
	close(stopped)
	return &Hub{db: db, cfg: cfg, wake: make(chan struct{}), stopped: stopped, open: map[string]int{}}
}

// Retention is how far back a stream can resume.
func (h *Hub) Retention() time.Duration { return h.cfg.Retention }

// Run polls the head of the log until ctx ends or Close.
func (h *Hub) Run(ctx context.Context) {
	h.mu.Lock()
	if h.state != 0 {
		h.mu.Unlock()
		return
	}
	h.state, h.stopped = 1, make(chan struct{})
	done := h.stopped
	h.mu.Unlock()
	defer h.Close()
	_, last, err := h.db.Reader().EventBounds(ctx)
	for err != nil { // the database is down at start: keep trying
		h.cfg.Log.Warn("event stream: cannot read the event log", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-done:
			return
		case <-time.After(time.Second):
		}
		_, last, err = h.db.Reader().EventBounds(ctx)
	}
	tick := time.NewTicker(h.cfg.Poll)
	defer tick.Stop()
	lastPrune := time.Time{}
	for {
		select {
		case <-ctx.Done():
			return
		case <-done:
			return
		case <-tick.C:
		}
		last = h.poll(ctx, last)
		if time.Since(lastPrune) > time.Hour {
			lastPrune = time.Now()
			err := h.db.InTx(ctx, func(tx *store.Tx) error {
				_, err := tx.PruneEvents(ctx, time.Now().Add(-h.cfg.Retention))
				return err
			})
			if err != nil && ctx.Err() == nil {
				h.cfg.Log.Warn("event stream: prune", "err", err)
			}
		}
	}
}

// poll reads what was recorded after last, tells OnChange and wakes the
// streams; it returns the new last seq.
func (h *Hub) poll(ctx context.Context, last int64) int64 {
	for {
		evs, err := h.db.Reader().EventsAfter(ctx, last, 500)
		if err != nil {
			if ctx.Err() == nil {
				h.cfg.Log.Warn("event stream: read", "err", err)
			}
			return last
		}
		if len(evs) == 0 {
			return last
		}
		last = evs[len(evs)-1].Seq
		if h.cfg.OnChange != nil {
			h.cfg.OnChange(evs)
		}
		h.mu.Lock()
		close(h.wake)
		h.wake = make(chan struct{})
		h.mu.Unlock()
		if len(evs) < 500 {
			return last
		}
	}
}

// Wake returns a channel closed when new events are next seen. Take it
// before reading the log, so that nothing recorded after the read is missed.
func (h *Hub) Wake() <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.wake
}

// Done is closed while the hub does not run: streams end.
func (h *Hub) Done() <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.stopped
}

// Close stops the hub and ends every stream (the HTTP server calls it when
// shutting down, since a shutdown does not cancel handlers that never
// return on their own).
func (h *Hub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.state == 1 {
		close(h.stopped)
	}
	h.state = 2
}

// Acquire counts a connection under key, refusing beyond max; release
// must be called when it ends.
func (h *Hub) Acquire(key string, max int) (release func(), ok bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.open[key] >= max {
		return nil, false
	}
	h.open[key]++
	return func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		if h.open[key]--; h.open[key] <= 0 {
			delete(h.open, key)
		}
	}, true
}

// After returns up to limit events after seq, oldest first.
func (h *Hub) After(ctx context.Context, seq int64, limit int) ([]*quire.Event, error) {
	return h.db.Reader().EventsAfter(ctx, seq, limit)
}

// Bounds returns the lowest and highest seq still in the log.
func (h *Hub) Bounds(ctx context.Context) (first, last int64, err error) {
	return h.db.Reader().EventBounds(ctx)
}

// VisibleTo reports whether p may see ev on the authenticated stream:
// everyone who may read content sees page and media events; settings that
// are not public only reach those who may read every setting (editors).
func VisibleTo(p *quire.Principal, ev *quire.Event) bool {
	if ev.ResourceType == "setting" && !ev.Public {
		return p.Can(quire.RoleEditor)
	}
	return p.Can(quire.RoleViewer)
}
