package service

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/riverqueue/river"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/store"
)

// Schedule audit actions.
const (
	ActionSchedule       = "page.schedule"
	ActionScheduleCancel = "page.schedule_cancel"
)

// JobQueue enqueues jobs in a transaction (internal/jobs.Queue).
type JobQueue interface {
	InsertTx(ctx context.Context, tx *store.Tx, args river.JobArgs, opts *river.InsertOpts) error
}

// ScheduleInput is the body of POST /pages/{id}/schedule.
type ScheduleInput struct {
	PublishAt   *time.Time `json:"publish_at"`
	UnpublishAt *time.Time `json:"unpublish_at"`
	Note        string     `json:"note"`
	// RevisionID names a revision of the page to publish at publish_at
	// instead of the working copy of that moment.
	RevisionID string `json:"revision_id"`
}

// scheduledArgs is the job that publishes or unpublishes a page at its
// time. Token names the schedule it belongs to.
type scheduledArgs struct {
	PageID  string `json:"page_id"`
	Token   string `json:"token"`
	Publish bool   `json:"publish"` // false: unpublish
}

func (scheduledArgs) Kind() string { return "page.scheduled" }

// EnableScheduling registers the scheduled-publishing worker; call UseJobs
// with the queue built from those workers before serving.
func (s *Pages) EnableScheduling(workers *river.Workers) {
	river.AddWorker(workers, &scheduledWorker{pages: s})
}

// UseJobs sets the queue scheduled publishes are enqueued on.
func (s *Pages) UseJobs(q JobQueue) { s.jobs = q }

// Schedule sets (or replaces) when a page is published and/or unpublished
// (editors and admins; If-Match on the page). At that time the page's
// then-current working copy is published, once, whichever node runs it.
func (s *Pages) Schedule(ctx context.Context, p *quire.Principal, id string, ifMatch int64, in ScheduleInput) (*quire.PageSchedule, error) {
	if err := requireEditor(p); err != nil {
		return nil, err
	}
	if s.jobs == nil {
		return nil, quire.Errorf(quire.EINTERNAL, "scheduling is not available")
	}
	now := time.Now()
	var v quire.Validator
	v.Check(in.PublishAt != nil || in.UnpublishAt != nil, "publish_at", "publish_at or unpublish_at is required")
	if in.PublishAt != nil {
		v.Check(in.PublishAt.After(now), "publish_at", "must be in the future")
	}
	if in.UnpublishAt != nil {
		v.Check(in.UnpublishAt.After(now), "unpublish_at", "must be in the future")
		v.Check(in.PublishAt == nil || in.UnpublishAt.After(*in.PublishAt), "unpublish_at", "must be after publish_at")
	}
	quire.ValidateNote(&v, "note", in.Note)
	if in.RevisionID != "" {
		v.Check(in.PublishAt != nil, "revision_id", "needs publish_at")
		v.Check(len(in.RevisionID) <= 64 && utf8.ValidString(in.RevisionID) && !strings.ContainsRune(in.RevisionID, 0),
			"revision_id", "is not a revision id")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	sched := &quire.PageSchedule{PageID: id, PublishAt: utcMicros(in.PublishAt), UnpublishAt: utcMicros(in.UnpublishAt),
		Note: in.Note, RevisionID: in.RevisionID, CreatedBy: p.UserID, Token: store.NewID()}
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.LockPage(ctx, id, ifMatch, p.UserID); err != nil {
			return err
		}
		if in.RevisionID != "" {
			// Retention keeps a revision a schedule names, and deleting the
			// page takes the schedule with it, so it is there at its time.
			_, err := tx.Revision(ctx, id, in.RevisionID)
			if quire.ErrorCode(err) == quire.ENOTFOUND {
				return quire.Invalid(quire.FieldError{Field: "revision_id", Message: "is not a revision of this page"})
			}
			if err != nil {
				return err
			}
		}
		if err := tx.PutPageSchedule(ctx, sched); err != nil {
			return err
		}
		for _, at := range []struct {
			t       *time.Time
			publish bool
		}{{sched.PublishAt, true}, {sched.UnpublishAt, false}} {
			if at.t == nil {
				continue
			}
			args := scheduledArgs{PageID: id, Token: sched.Token, Publish: at.publish}
			if err := s.jobs.InsertTx(ctx, tx, args, &river.InsertOpts{ScheduledAt: *at.t, MaxAttempts: 10}); err != nil {
				return err
			}
		}
		return audit(ctx, tx, p.UserID, ActionSchedule, "page", id, map[string]any{
			"publish_at": sched.PublishAt, "unpublish_at": sched.UnpublishAt, "note": sched.Note, "revision_id": sched.RevisionID,
		})
	})
	if err != nil {
		return nil, err
	}
	return sched, nil
}

// CancelSchedule removes a page's schedule; its jobs then do nothing.
func (s *Pages) CancelSchedule(ctx context.Context, p *quire.Principal, id string, ifMatch int64) error {
	if err := requireEditor(p); err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.LockPage(ctx, id, ifMatch, p.UserID); err != nil {
			return err
		}
		cur, err := tx.PageSchedule(ctx, id, true)
		if err != nil {
			return err
		}
		if err := tx.DeletePageSchedule(ctx, id); err != nil {
			return err
		}
		return audit(ctx, tx, p.UserID, ActionScheduleCancel, "page", id, map[string]any{
			"publish_at": cur.PublishAt, "unpublish_at": cur.UnpublishAt,
		})
	})
}

// GetSchedule returns a page's pending schedule.
func (s *Pages) GetSchedule(ctx context.Context, p *quire.Principal, id string) (*quire.PageSchedule, error) {
	if err := require(p, quire.RoleViewer); err != nil {
		return nil, err
	}
	r := s.db.Reader()
	if _, err := r.Page(ctx, id); err != nil {
		return nil, err
	}
	return r.PageSchedule(ctx, id, false)
}

func utcMicros(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC().Truncate(time.Microsecond)
	return &u
}

type scheduledWorker struct {
	river.WorkerDefaults[scheduledArgs]
	pages *Pages
}

// Work acts on the schedule if it is still the one the job was made for
// and its time is still pending: the check, the publish, its revision,
// audit entry and event, and clearing the time are one transaction, so a
// second run — another node, or this job again after a crash between
// commit and completion — finds nothing to do.
func (w *scheduledWorker) Work(ctx context.Context, job *river.Job[scheduledArgs]) error {
	s, a := w.pages, job.Args
	var slug string
	acted := false
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		sched, err := tx.PageSchedule(ctx, a.PageID, true)
		if quire.ErrorCode(err) == quire.ENOTFOUND {
			return nil // cancelled, or the page was deleted
		}
		if err != nil {
			return err
		}
		due := sched.UnpublishAt
		if a.Publish {
			due = sched.PublishAt
		}
		if sched.Token != a.Token || due == nil {
			return nil // replaced, or already done
		}
		if due.After(time.Now()) {
			return river.JobSnooze(time.Until(*due))
		}
		if !a.Publish && sched.PublishAt != nil {
			// Both came due together (say, after downtime): the publish
			// goes first, or this would find nothing to take down.
			return river.JobSnooze(time.Second)
		}
		actor := sched.CreatedBy
		if actor == "" { // the user who scheduled it is gone: the page's last editor stands in
			cur, err := tx.Page(ctx, a.PageID)
			if err != nil {
				return err
			}
			actor = cur.UpdatedBy
		}
		page, err := tx.LockPage(ctx, a.PageID, 0, actor)
		if err != nil {
			return err
		}
		extra := map[string]any{"scheduled": true, "scheduled_for": due.Format(time.RFC3339Nano)}
		if a.Publish && sched.RevisionID != "" {
			sched.PublishAt = nil
			err = publishRevisionLocked(ctx, tx, actor, page, sched.RevisionID, sched.Note, extra)
		} else if a.Publish {
			sched.PublishAt = nil
			_, err = publishLocked(ctx, tx, actor, page, sched.Note, extra)
		} else {
			sched.UnpublishAt = nil
			err = unpublishLocked(ctx, tx, actor, page, extra)
			if quire.ErrorCode(err) == quire.ECONFLICT {
				err = nil // not published (any more): nothing to take down
			}
		}
		if err != nil {
			return err
		}
		slug, acted = page.Slug, true
		return tx.UpdatePageScheduleTimes(ctx, sched)
	})
	if err != nil {
		return err
	}
	if acted {
		s.invalidate(slug)
	}
	return nil
}

// publishRevisionLocked makes a named revision of a page locked in tx its
// published one — the revision itself, not a new copy of it; the working
// copy is left as it is — with the audit entry and event of any publish.
func publishRevisionLocked(ctx context.Context, tx *store.Tx, actor string, page *quire.Page, revisionID, note string, extra map[string]any) error {
	rev, err := tx.Revision(ctx, page.ID, revisionID)
	if err != nil {
		return err
	}
	previous := page.PublishedRevisionID
	if _, err := tx.ArchivePublished(ctx, page.ID); err != nil {
		return err
	}
	if err := tx.MarkPublished(ctx, page.ID, rev.ID); err != nil {
		return err
	}
	if err := tx.SetPublishedRevision(ctx, page.ID, &rev.ID); err != nil {
		return err
	}
	details := map[string]any{"revision": rev.Number, "revision_id": rev.ID, "note": note, "previous_revision_id": previous}
	for k, v := range extra {
		details[k] = v
	}
	if err := audit(ctx, tx, actor, ActionPublish, "page", page.ID, details); err != nil {
		return err
	}
	return emit(ctx, tx, pageEvent(quire.EventPagePublished, page, rev.Number, true))
}
