package auth

import (
	"context"
	"time"
)

// Throttle counts failures per key (an email, an IP) in a sliding window and
// blocks a key once it has too many. Where the failures are kept is its
// Failures: this process's memory (one node), or the database, shared by
// every node (so that N nodes do not mean N times the attempts). It slows
// online guessing. Safe for concurrent use.
type Throttle struct {
	max    int
	window time.Duration
	now    func() time.Time
	store  Failures
}

// Failures is where a Throttle keeps failure times; the policy (how many,
// how long) stays in the Throttle.
type Failures interface {
	// Recent returns key's failures after since, oldest first: the newest
	// limit of them.
	Recent(ctx context.Context, key string, since time.Time, limit int) ([]time.Time, error)
	// Add records a failure of key at at. Failures at or before since no
	// longer count, and at most limit per key need be kept.
	Add(ctx context.Context, key string, at, since time.Time, limit int) error
	// Forget drops key's failures.
	Forget(ctx context.Context, key string) error
}

// NewThrottle allows at most max failures per key within window, counted
// in store; after that Allow answers false with how long until the oldest
// failure leaves the window. now defaults to time.Now when nil.
// Non-positive arguments are programming errors and panic.
func NewThrottle(max int, window time.Duration, store Failures, now func() time.Time) *Throttle {
	if max < 1 || window <= 0 || store == nil {
		panic("auth: NewThrottle: max and window must be positive, store set")
	}
	if now == nil {
		now = time.Now
	}
	return &Throttle{max: max, window: window, now: now, store: store}
}

// Allow reports whether key may try again. When it may not, retryAfter is
// how long until it may (always > 0); round it up for a Retry-After header.
func (t *Throttle) Allow(ctx context.Context, key string) (ok bool, retryAfter time.Duration, err error) {
	now := t.now()
	fails, err := t.store.Recent(ctx, key, now.Add(-t.window), t.max)
	if err != nil || len(fails) < t.max {
		return err == nil, 0, err
	}
	// A failure at f counts while now < f+window.
	return false, fails[0].Add(t.window).Sub(now), nil
}

// Fail records a failed attempt for key.
func (t *Throttle) Fail(ctx context.Context, key string) error {
	now := t.now()
	return t.store.Add(ctx, key, now, now.Add(-t.window), t.max)
}

// Reset forgets key, e.g. after a successful login.
func (t *Throttle) Reset(ctx context.Context, key string) error {
	return t.store.Forget(ctx, key)
}

// Count is how many failures key has within the window (at most max).
func (t *Throttle) Count(ctx context.Context, key string) (int, error) {
	fails, err := t.store.Recent(ctx, key, t.now().Add(-t.window), t.max)
	return len(fails), err
}
