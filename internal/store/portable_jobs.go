package store

import (
	"context"
	"fmt"
	"time"
)

// PendingJob is a River job that has yet to run (available, scheduled,
// retryable or pending): a scheduled publish, a webhook delivery waiting
// for its retry. River's tables differ between the databases (enum and
// arrays on PostgreSQL, JSON blobs on SQLite) and hold runtime state of
// the nodes (leaders, clients, finished jobs), so an archive carries only
// these jobs, in this form, and they are enqueued again on import.
type PendingJob struct {
	Kind        string    `json:"kind"`
	Args        string    `json:"args"`
	Queue       string    `json:"queue"`
	Priority    int       `json:"priority"`
	MaxAttempts int       `json:"max_attempts"`
	ScheduledAt time.Time `json:"scheduled_at"`
}

// PendingJobs calls fn with every job that has yet to run, in id order.
func (s *Snapshot) PendingJobs(ctx context.Context, fn func(PendingJob) error) error {
	args := "args::text"
	if s.db.dialect == SQLite {
		args = "json(args)"
	}
	rows, err := s.tx.QueryContext(ctx, `SELECT kind, `+args+`, queue, priority, max_attempts, scheduled_at FROM river_job
		WHERE state IN ('available', 'scheduled', 'retryable', 'pending') ORDER BY id`)
	if err != nil {
		return fmt.Errorf("read jobs: %w", mapErr(err))
	}
	defer rows.Close()
	for rows.Next() {
		var j PendingJob
		var at any
		if err := rows.Scan(&j.Kind, &j.Args, &j.Queue, &j.Priority, &j.MaxAttempts, &at); err != nil {
			return fmt.Errorf("read jobs: %w", err)
		}
		switch v := at.(type) {
		case time.Time:
			j.ScheduledAt = v.UTC()
		case string:
			// River on SQLite keeps UTC as datetime('now', 'subsec') does.
			t, err := time.Parse("2006-01-02 15:04:05.999999999", v)
			if err != nil {
				t, _, err = parseTimeText(v)
			}
			if err != nil {
				return fmt.Errorf("read jobs: scheduled_at %q: %w", v, err)
			}
			j.ScheduledAt = t.UTC()
		default:
			return fmt.Errorf("read jobs: scheduled_at is a %T", at)
		}
		if err := fn(j); err != nil {
			return err
		}
	}
	return mapErr(rows.Err())
}
