// Package jobs runs Quire's durable background work on River
// (github.com/riverqueue/river): jobs are rows in the database, inserted in
// the transaction of the change that causes them, claimed by one node at a
// time, retried with backoff, and rescued from a node that died. The queue
// runs inside `quire serve`; see docs/events.md.
package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/quirecms/quire/internal/store"
)

// Config tunes the queue; zero values take the defaults.
type Config struct {
	// Workers is how many jobs this node runs at once (default 4).
	Workers int
	// PollInterval is how often an idle node looks for due jobs (default
	// 1 s). PostgreSQL through database/sql has no LISTEN in River, so this
	// bounds the latency of a new job on another node.
	PollInterval time.Duration
	// RescueAfter is how long a job may run before another node takes it
	// over as abandoned (its node died); default 1 minute, well above the
	// longest job (a webhook delivery: 10 s).
	RescueAfter time.Duration
	// Periodic jobs are enqueued by the elected leader node on their
	// schedule (the daily revisions prune).
	Periodic []*river.PeriodicJob
	Log      *slog.Logger
}

// Queue inserts and runs jobs.
type Queue struct {
	client *river.Client[*sql.Tx]
}

// New builds a queue over db running the given workers. A queue with nil
// workers only inserts (command-line tools).
func New(db *store.DB, workers *river.Workers, cfg Config) (*Queue, error) {
	if cfg.Workers <= 0 {
		cfg.Workers = 4
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = time.Second
	}
	if cfg.RescueAfter <= 0 {
		cfg.RescueAfter = time.Minute
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	rc := &river.Config{
		Logger:               cfg.Log.With("component", "jobs"),
		FetchPollInterval:    cfg.PollInterval,
		FetchCooldown:        min(cfg.PollInterval, 100*time.Millisecond),
		RescueStuckJobsAfter: cfg.RescueAfter,
		// A job is cancelled before it could be rescued as abandoned
		// (River requires it): 1 minute, or less with a shorter rescue.
		JobTimeout: min(time.Minute, cfg.RescueAfter),
		// Keep finished jobs a day for inspection; the delivery log keeps
		// the history that matters in Quire's own tables.
		CompletedJobRetentionPeriod: 24 * time.Hour,
	}
	if workers != nil {
		rc.Workers = workers
		rc.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cfg.Workers}}
		rc.PeriodicJobs = cfg.Periodic
	}
	client, err := river.NewClient(db.JobDriver(), rc)
	if err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	return &Queue{client: client}, nil
}

// InsertTx enqueues a job inside tx: it exists if and only if tx commits.
func (q *Queue) InsertTx(ctx context.Context, tx *store.Tx, args river.JobArgs, opts *river.InsertOpts) error {
	sqlTx, err := tx.JobTx()
	if err != nil {
		return err
	}
	if _, err := q.client.InsertTx(ctx, sqlTx, args, opts); err != nil {
		return fmt.Errorf("enqueue %s: %w", args.Kind(), err)
	}
	return nil
}

// Start runs the workers until Stop.
func (q *Queue) Start(ctx context.Context) error {
	if err := q.client.Start(ctx); err != nil {
		return fmt.Errorf("jobs: start: %w", err)
	}
	return nil
}

// Stop lets running jobs finish until ctx ends, then cancels them (they
// are retried later, here or on another node) and returns.
func (q *Queue) Stop(ctx context.Context) error {
	err := q.client.Stop(ctx)
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		hard, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err = q.client.StopAndCancel(hard)
	}
	if err != nil {
		return fmt.Errorf("jobs: stop: %w", err)
	}
	return nil
}

// Backoff is the retry schedule of work that talks to the outside world:
// base·2^(attempt-1), capped at max, with ±10 % jitter so that many
// failures at once do not retry in step.
func Backoff(attempt int, base, maxDelay time.Duration, jitter func() float64) time.Duration {
	d := maxDelay
	if attempt < 1 {
		attempt = 1
	}
	if attempt < 40 {
		if e := base << (attempt - 1); e > 0 && e < maxDelay {
			d = e
		}
	}
	return time.Duration(float64(d) * (0.9 + 0.2*jitter()))
}

// JobRow is River's row of a running job, for workers that look at it.
type JobRow = rivertype.JobRow
