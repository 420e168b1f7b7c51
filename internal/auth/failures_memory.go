package auth

import (
	"container/list"
	"context"
	"sync"
	"time"
)

// MemoryFailures keeps a Throttle's failures in this process: right for a
// single node (SQLite). Memory is bounded by maxKeys, the least recently
// failing key forgotten first.
type MemoryFailures struct {
	maxKeys int

	mu   sync.Mutex
	keys map[string]*list.Element // of *throttleEntry
	// lru holds entries by time of last failure, oldest first. The front is
	// both the first to expire and the first to evict, so both are O(1).
	lru *list.List
}

type throttleEntry struct {
	key   string
	fails []time.Time // ascending, at most the throttle's max
}

// NewMemoryFailures keeps failures of at most maxKeys keys (a
// non-positive maxKeys is a programming error and panics).
func NewMemoryFailures(maxKeys int) *MemoryFailures {
	if maxKeys < 1 {
		panic("auth: NewMemoryFailures: maxKeys must be positive")
	}
	return &MemoryFailures{maxKeys: maxKeys, keys: make(map[string]*list.Element), lru: list.New()}
}

// Recent implements Failures.
func (m *MemoryFailures) Recent(_ context.Context, key string, since time.Time, limit int) ([]time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.expire(since)
	el := m.keys[key]
	if el == nil {
		return nil, nil
	}
	e := el.Value.(*throttleEntry)
	e.prune(since)
	if len(e.fails) == 0 {
		m.remove(el)
		return nil, nil
	}
	return append([]time.Time(nil), e.fails[max(0, len(e.fails)-limit):]...), nil
}

// Add implements Failures.
func (m *MemoryFailures) Add(_ context.Context, key string, at, since time.Time, limit int) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.expire(since)
	el := m.keys[key]
	if el == nil {
		if len(m.keys) >= m.maxKeys {
			// Under a flood of distinct keys the least recently failing key
			// is forgotten; a real attacker's key stays hot and stays put.
			m.remove(m.lru.Front())
		}
		e := &throttleEntry{key: key, fails: make([]time.Time, 0, min(limit, 8))}
		el = m.lru.PushBack(e)
		m.keys[key] = el
	} else {
		m.lru.MoveToBack(el)
	}
	e := el.Value.(*throttleEntry)
	e.prune(since)
	if len(e.fails) >= limit {
		// Only the newest limit failures matter for the decision; keep the
		// memory per key bounded too.
		e.fails = append(e.fails[:0], e.fails[len(e.fails)-limit+1:]...)
	}
	e.fails = append(e.fails, at)
	return nil
}

// Forget implements Failures.
func (m *MemoryFailures) Forget(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if el := m.keys[key]; el != nil {
		m.remove(el)
	}
	return nil
}

// expire drops keys whose newest failure is at or before since.
func (m *MemoryFailures) expire(since time.Time) {
	for el := m.lru.Front(); el != nil; el = m.lru.Front() {
		e := el.Value.(*throttleEntry)
		if e.fails[len(e.fails)-1].After(since) {
			return
		}
		m.remove(el)
	}
}

func (m *MemoryFailures) remove(el *list.Element) {
	delete(m.keys, el.Value.(*throttleEntry).key)
	m.lru.Remove(el)
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
