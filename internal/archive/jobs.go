package archive

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"

	"github.com/riverqueue/river"

	"github.com/quirecms/quire/internal/jobs"
	"github.com/quirecms/quire/internal/store"
)

// rawJob re-enqueues an archived job with its arguments exactly as stored.
type rawJob struct {
	kind string
	args json.RawMessage
}

func (j rawJob) Kind() string                 { return j.kind }
func (j rawJob) MarshalJSON() ([]byte, error) { return j.args, nil }

// loadJobs enqueues the archive's pending jobs again, in one transaction,
// at their scheduled times. Their River ids are new: nothing refers to them.
func loadJobs(ctx context.Context, db *store.DB, path string, p Part) error {
	if p.Rows == 0 {
		return nil
	}
	r, closePart, err := openPart(path, p.File)
	if err != nil {
		return err
	}
	defer closePart()
	q, err := jobs.New(db, nil, jobs.Config{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return err
	}
	var pending []store.PendingJob
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var j store.PendingJob
		if err := json.Unmarshal(sc.Bytes(), &j); err != nil || j.Kind == "" || !json.Valid([]byte(j.Args)) {
			return &PartError{Part: p.File, Err: fmt.Errorf("line %d is not a job", len(pending)+1)}
		}
		pending = append(pending, j)
	}
	if err := sc.Err(); err != nil {
		return &PartError{Part: p.File, Err: err}
	}
	return db.InTx(ctx, func(tx *store.Tx) error {
		for _, j := range pending {
			opts := &river.InsertOpts{Queue: j.Queue, Priority: j.Priority, MaxAttempts: j.MaxAttempts, ScheduledAt: j.ScheduledAt}
			if err := q.InsertTx(ctx, tx, rawJob{kind: j.Kind, args: json.RawMessage(j.Args)}, opts); err != nil {
				return &PartError{Part: p.File, Err: err}
			}
		}
		return nil
	})
}
