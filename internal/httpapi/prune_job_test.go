package httpapi_test

import (
	"context"
	"testing"
	"time"
)

// A running queue enqueues the daily revisions prune when it starts (the
// leader's periodic job, once a day however often nodes restart), and a
// worker completes it.
func TestDailyPruneRunsAtStart(t *testing.T) {
	eachWithJobs(t, nil, func(t *testing.T, e *env) {
		db, _ := e.rawDB()
		defer db.Close()
		deadline := time.Now().Add(20 * time.Second)
		for {
			var n int
			err := db.QueryRowContext(context.Background(),
				`SELECT count(*) FROM river_job WHERE kind = 'revisions.prune' AND state = 'completed'`).Scan(&n)
			if err != nil {
				t.Fatal(err)
			}
			if n == 1 {
				return
			}
			if n > 1 || time.Now().After(deadline) {
				t.Fatalf("%d completed prune jobs", n)
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
}
