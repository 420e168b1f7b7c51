package service

import (
	"context"
	"sync"
	"time"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/store"
)

// Refused attempts on administrative routes are audited, but at most one
// entry per caller and route per refusalWindow, each with the number of
// refusals it stands for, so that a script hammering /users cannot flood
// the log (every entry also waits on the chain lock).
const (
	refusalWindow  = time.Minute
	maxRefusalKeys = 10_000
)

// refusals counts refused attempts per key (caller and route) in this
// process. Several nodes each record their own; the counts add up.
type refusals struct {
	now func() time.Time

	mu   sync.Mutex
	seen map[string]*refusalCount
}

type refusalCount struct {
	last time.Time // when the last entry for this key was written
	held int       // refusals since then, not yet in an entry
}

func newRefusals(now func() time.Time) *refusals {
	if now == nil {
		now = time.Now
	}
	return &refusals{now: now, seen: map[string]*refusalCount{}}
}

// note counts one refusal for key. It reports whether an entry is due now
// and how many refusals that entry stands for: this one and those held
// back since the previous entry. Held-back refusals are carried into the
// key's next entry; the count of a key's last window is lost if that key
// is never refused again (the first refusal of every window is recorded).
func (r *refusals) note(key string) (record bool, count int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	c := r.seen[key]
	if c != nil && now.Sub(c.last) < refusalWindow {
		c.held++
		return false, 0
	}
	count = 1
	if c != nil {
		count += c.held
	} else {
		if len(r.seen) >= maxRefusalKeys {
			r.sweep(now)
		}
		c = &refusalCount{}
		r.seen[key] = c
	}
	c.last, c.held = now, 0
	return true, count
}

// sweep forgets keys whose window has passed, bounding memory. Keys need
// an authenticated caller, so there are at most callers × admin routes.
func (r *refusals) sweep(now time.Time) {
	for k, c := range r.seen {
		if now.Sub(c.last) >= refusalWindow {
			delete(r.seen, k)
		}
	}
}

// RecordForbidden audits a refused attempt (403) by p on the administrative
// route (method and pattern, e.g. "POST /api/v1/users"), rate-limited per
// caller and route. reason says which rule refused it. The refusal stands
// whether or not the entry can be written, so a failure is only logged.
// ctx should carry the caller (WithCaller) so that a token is named.
func (a *Auth) RecordForbidden(ctx context.Context, p *quire.Principal, route, reason string) {
	if p == nil {
		return
	}
	who := "user:" + p.UserID
	if p.TokenID != "" {
		who = "token:" + p.TokenID
	}
	record, count := a.refusals.note(who + " " + route)
	if !record {
		return
	}
	err := a.db.InTx(ctx, func(tx *store.Tx) error {
		return audit(ctx, tx, p.UserID, quire.ActionForbidden, "route", route, map[string]any{
			"reason": reason, "count": count, "window_seconds": int(refusalWindow.Seconds()),
		})
	})
	if err != nil {
		a.log.Warn("could not audit a refused request", "route", route, "err", err)
	}
}
