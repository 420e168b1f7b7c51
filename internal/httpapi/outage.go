package httpapi

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// outageLogInterval is how often a database outage is logged while it
// lasts. Every request fails alike during one; an ERROR line each would
// bury the log (4,000 lines in 20 s were seen) without saying more.
const outageLogInterval = 10 * time.Second

// retryAfterUnavailable is the Retry-After of a 503 or 507 whose error
// does not name one: long enough not to hammer a database that is
// coming back, short enough to notice it is back.
const retryAfterUnavailable = 5

// outageLog logs the first failure of an outage and then at most one
// line per interval, with the number of failures it did not log.
type outageLog struct {
	mu         sync.Mutex
	every      time.Duration
	last       time.Time
	suppressed int
}

func (o *outageLog) report(ctx context.Context, log *slog.Logger, level slog.Level, msg string, err error) {
	o.mu.Lock()
	now := time.Now()
	if !o.last.IsZero() && now.Sub(o.last) < o.every {
		o.suppressed++
		o.mu.Unlock()
		return
	}
	n := o.suppressed
	o.last, o.suppressed = now, 0
	o.mu.Unlock()
	log.Log(ctx, level, msg, "err", err, "not_logged_since_last", n, "logged_at_most_every", o.every)
}
