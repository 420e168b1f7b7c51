package service

import (
	"context"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/quirecms/quire/internal/store"
)

// PruneInterval is how often the background revisions prune runs.
const PruneInterval = 24 * time.Hour

// pruneSlice bounds one run of the prune job. River puts a job that runs
// longer than its rescue time (1 minute) back in the queue as abandoned,
// so a long prune goes on in a new job from the page where it stopped.
const pruneSlice = 30 * time.Second

// pruneArgs is the background revisions prune, resuming after page After.
type pruneArgs struct {
	After string `json:"after,omitempty"`
}

func (pruneArgs) Kind() string { return "revisions.prune" }

// pruneUnique lets one prune start per day, whichever node's leader
// enqueues it and however often nodes restart; a continuation differs by
// its args.
var pruneUnique = river.UniqueOpts{ByArgs: true, ByPeriod: PruneInterval}

// PrunePeriodic is the daily prune for the queue's periodic jobs: run at
// start (at most once a day, see pruneUnique) and every PruneInterval, so
// that deploys more often than daily do not postpone it for ever.
func PrunePeriodic() *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(PruneInterval),
		func() (river.JobArgs, *river.InsertOpts) {
			return pruneArgs{}, &river.InsertOpts{UniqueOpts: pruneUnique, MaxAttempts: 5}
		}, &river.PeriodicJobOpts{RunOnStart: true})
}

// EnablePruning registers the prune worker; the queue it continues long
// runs on is given by UseJobs.
func (s *Retention) EnablePruning(workers *river.Workers, log *slog.Logger) {
	if log == nil {
		log = slog.Default()
	}
	river.AddWorker(workers, &pruneWorker{r: s, slice: pruneSlice, log: log})
}

// UseJobs sets the queue a long prune continues on.
func (s *Retention) UseJobs(q JobQueue) { s.jobs = q }

type pruneWorker struct {
	river.WorkerDefaults[pruneArgs]
	r     *Retention
	slice time.Duration
	log   *slog.Logger
}

// Work prunes pages for one slice. Each page is its own transaction with
// its audit entry, and a page with nothing left to remove is skipped, so a
// run repeated after a crash (or rescued while still going) removes
// nothing twice and writes no second audit entry.
func (w *pruneWorker) Work(ctx context.Context, job *river.Job[pruneArgs]) error {
	// The first job of a day's run also deletes ended account rows
	// (retention_accounts.go), within the same slice.
	if job.Args.After == "" {
		n, err := w.r.pruneAccounts(ctx, time.Now().Add(w.slice))
		if err != nil {
			return err
		}
		w.log.Info("ended account rows deleted", "account_tokens", n["account_tokens"], "login_challenges", n["login_challenges"],
			"refresh_tokens", n["refresh_tokens"], "auth_sessions", n["auth_sessions"], "login_failures", n["login_failures"])
	}
	sum, next, err := w.r.pruneFrom(ctx, false, job.Args.After, time.Now().Add(w.slice), nil)
	if err != nil {
		return err
	}
	w.log.Info("revisions pruned", "pages_visited", sum.PagesVisited, "pages_pruned", sum.PagesPruned,
		"revisions", sum.Revisions, "block_contents", sum.Contents, "expired_previews", sum.ExpiredPreviews, "more", next != "")
	if next == "" || w.r.jobs == nil {
		return nil
	}
	return w.r.db.InTx(ctx, func(tx *store.Tx) error {
		return w.r.jobs.InsertTx(ctx, tx, pruneArgs{After: next}, &river.InsertOpts{MaxAttempts: 5})
	})
}
