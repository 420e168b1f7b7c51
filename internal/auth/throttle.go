package auth

import (
	"container/list"
	"sync"
	"time"
)

// Throttle counts failures per key (an email, an IP) in a sliding window and
// blocks a key once it has too many. It is in memory and per process: it
// slows online guessing, it is not a distributed rate limiter. Safe for
// concurrent use.
type Throttle struct {
	max     int
	window  time.Duration
	maxKeys int
	now     func() time.Time

	mu   sync.Mutex
	keys map[string]*list.Element // of *throttleEntry
	// lru holds entries by time of last failure, oldest first. The front is
	// both the first to expire and the first to evict, so both are O(1).
	lru *list.List
}

type throttleEntry struct {
	key   string
	fails []time.Time // ascending, at most max
}

// NewThrottle allows at most max failures per key within window; after that
// Allow answers false with how long until the oldest failure leaves the
// window. maxKeys bounds memory (oldest/expired keys evicted first). now
// defaults to time.Now when nil. Non-positive arguments are programming
// errors and panic.
func NewThrottle(max int, window time.Duration, maxKeys int, now func() time.Time) *Throttle {
	if max < 1 || window <= 0 || maxKeys < 1 {
		panic("auth: NewThrottle: max, window and maxKeys must be positive")
	}
	if now == nil {
		now = time.Now
	}
	return &Throttle{
		max: max, window: window, maxKeys: maxKeys, now: now,
		keys: make(map[string]*list.Element),
		lru:  list.New(),
	}
}

// Allow reports whether key may try again. When it may not, retryAfter is
// how long until it may (always > 0); round it up for a Retry-After header.
func (t *Throttle) Allow(key string) (ok bool, retryAfter time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	t.expire(now)
	el := t.keys[key]
	if el == nil {
		return true, 0
	}
	e := el.Value.(*throttleEntry)
	e.prune(now.Add(-t.window))
	if len(e.fails) == 0 {
		t.remove(el)
		return true, 0
	}
	if len(e.fails) < t.max {
		return true, 0
	}
	return false, e.fails[0].Add(t.window).Sub(now)
}

// Fail records a failed attempt for key.
func (t *Throttle) Fail(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	t.expire(now)
	el := t.keys[key]
	if el == nil {
		if len(t.keys) >= t.maxKeys {
			// Under a flood of distinct keys the least recently failing key
			// is forgotten; a real attacker's key stays hot and stays put.
			t.remove(t.lru.Front())
		}
		e := &throttleEntry{key: key, fails: make([]time.Time, 0, min(t.max, 8))}
		el = t.lru.PushBack(e)
		t.keys[key] = el
	} else {
		t.lru.MoveToBack(el)
	}
	e := el.Value.(*throttleEntry)
	e.prune(now.Add(-t.window))
	if len(e.fails) == t.max {
		// Only the newest max failures matter for the decision; keep the
		// memory per key bounded too.
		e.fails = append(e.fails[:0], e.fails[1:]...)
	}
	e.fails = append(e.fails, now)
}

// Reset forgets key, e.g. after a successful login.
func (t *Throttle) Reset(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if el := t.keys[key]; el != nil {
		t.remove(el)
	}
}

// expire drops keys whose newest failure has left the window.
func (t *Throttle) expire(now time.Time) {
	cutoff := now.Add(-t.window)
	for el := t.lru.Front(); el != nil; el = t.lru.Front() {
		e := el.Value.(*throttleEntry)
		if e.fails[len(e.fails)-1].After(cutoff) {
			return
		}
		t.remove(el)
	}
}

func (t *Throttle) remove(el *list.Element) {
	delete(t.keys, el.Value.(*throttleEntry).key)
	t.lru.Remove(el)
}

// prune drops failures at or before cutoff: a failure at f counts while
// now < f+window.
func (e *throttleEntry) prune(cutoff time.Time) {
	i := 0
	for i < len(e.fails) && !e.fails[i].After(cutoff) {
		i++
	}
	if i > 0 {
		e.fails = append(e.fails[:0], e.fails[i:]...)
	}
}

// Failures is how many failures key has within the window (at most max).
func (t *Throttle) Failures(key string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	el := t.keys[key]
	if el == nil {
		return 0
	}
	e := el.Value.(*throttleEntry)
	e.prune(t.now().Add(-t.window))
	return len(e.fails)
}
