package service

import (
	"context"
	"errors"
	"time"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/store"
)

// Retention removes revisions that the retention policy no longer keeps,
// with the block contents only they used and the page's expired preview
// links. It is what `quire revisions prune` runs, and what the daily
// background job runs (retention_job.go, docs/revisions.md).
type Retention struct {
	db     *store.DB
	policy quire.RetentionPolicy
	jobs   JobQueue // continues a long background prune; nil in the CLI
}

// NewRetention returns the retention service for policy.
func NewRetention(db *store.DB, policy quire.RetentionPolicy) (*Retention, error) {
	if policy.KeepLast < 1 || policy.KeepFor < 0 {
		return nil, errors.New("retention: keep at least the newest revision, for a duration that is not negative")
	}
	return &Retention{db: db, policy: policy}, nil
}

// PagePrune is what one run removed (or, dry, would remove) from a page.
type PagePrune struct {
	PageID          string
	Slug            string
	Revisions       int
	OldestNumber    int
	NewestNumber    int
	Contents        int
	ExpiredPreviews int
}

// PruneSummary totals a run.
type PruneSummary struct {
	PagesVisited    int
	PagesPruned     int
	Revisions       int
	Contents        int
	ExpiredPreviews int
}

// Prune visits every page in id order and prunes each in its own
// transaction, with one audit entry per page that lost anything. With
// dryRun it only reads and reports. progress, when not nil, hears about
// each page that has something to remove.
func (s *Retention) Prune(ctx context.Context, dryRun bool, progress func(PagePrune)) (PruneSummary, error) {
	sum, _, err := s.pruneFrom(ctx, dryRun, "", time.Time{}, progress)
	return sum, err
}

// pruneFrom is Prune over the pages after the id after, stopping after the
// first page finished once stop (unless zero) has passed; next is the page
// to resume after, "" when every page was visited.
func (s *Retention) pruneFrom(ctx context.Context, dryRun bool, after string, stop time.Time, progress func(PagePrune)) (sum PruneSummary, next string, err error) {
	for {
		ids, err := s.db.Reader().PageIDs(ctx, after, 200)
		if err != nil {
			return sum, "", err
		}
		if len(ids) == 0 {
			return sum, "", nil
		}
		candidates, err := s.db.Reader().PagesToPrune(ctx, ids, s.policy.KeepLast)
		if err != nil {
			return sum, "", err
		}
		for _, id := range ids {
			if !stop.IsZero() && sum.PagesVisited > 0 && time.Now().After(stop) {
				return sum, after, nil
			}
			after = id
			sum.PagesVisited++
			if !candidates[id] {
				continue // nothing past the newest KeepLast, no expired preview
			}
			// Look first without the write lock: most pages have nothing to prune.
			pp, err := s.plan(ctx, s.db.Reader(), id, false)
			if quire.ErrorCode(err) == quire.ENOTFOUND {
				continue // deleted since it was listed
			}
			if err != nil {
				return sum, "", err
			}
			if pp.Revisions == 0 && pp.ExpiredPreviews == 0 {
				continue
			}
			if !dryRun {
				if pp, err = s.prunePage(ctx, id); err != nil {
					return sum, "", err
				}
				if pp.Revisions == 0 && pp.ExpiredPreviews == 0 {
					continue
				}
			}
			sum.PagesPruned++
			sum.Revisions += pp.Revisions
			sum.Contents += pp.Contents
			sum.ExpiredPreviews += pp.ExpiredPreviews
			if progress != nil {
				progress(pp)
			}
		}
	}
}

// plan works out what pruning the page removes; with apply it removes it.
func (s *Retention) plan(ctx context.Context, tx *store.Tx, pageID string, apply bool) (PagePrune, error) {
	var page *quire.Page
	var err error
	if apply {
		page, err = tx.PageForUpdate(ctx, pageID) // saves and publishes of the page wait
	} else {
		page, err = tx.Page(ctx, pageID)
	}
	if err != nil {
		return PagePrune{}, err
	}
	pp := PagePrune{PageID: pageID, Slug: page.Slug}
	revs, err := tx.PrunableRevisions(ctx, pageID, s.policy)
	if err != nil {
		return pp, err
	}
	ids := make([]string, len(revs))
	for i, r := range revs {
		ids[i] = r.ID
	}
	if pp.Revisions = len(revs); pp.Revisions > 0 {
		pp.OldestNumber, pp.NewestNumber = revs[0].Number, revs[len(revs)-1].Number
	}
	if pp.ExpiredPreviews, err = tx.ExpiredPreviews(ctx, pageID, apply); err != nil {
		return pp, err
	}
	if len(ids) == 0 {
		return pp, nil
	}
	if apply {
		// Expired links to these revisions went above; live ones keep
		// their revision, so the cascade removes nothing that works.
		if err := tx.DeleteRevisions(ctx, pageID, ids); err != nil {
			return pp, err
		}
	}
	hashes, err := tx.UnreferencedContents(ctx, pageID, ids)
	if err != nil {
		return pp, err
	}
	pp.Contents = len(hashes)
	if apply {
		err = tx.DeleteContents(ctx, pageID, hashes)
	}
	return pp, err
}

// prunePage removes what the policy lets go of one page, with its audit
// entry, in one transaction.
func (s *Retention) prunePage(ctx context.Context, pageID string) (PagePrune, error) {
	var pp PagePrune
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if pp, err = s.plan(ctx, tx, pageID, true); err != nil {
			return err
		}
		if pp.Revisions == 0 && pp.ExpiredPreviews == 0 {
			return nil
		}
		details := map[string]any{"revisions": pp.Revisions, "block_contents": pp.Contents, "expired_previews": pp.ExpiredPreviews,
			"keep_last": s.policy.KeepLast, "keep_for_hours": int(s.policy.KeepFor / time.Hour)}
		if pp.Revisions > 0 {
			details["oldest_number"], details["newest_number"] = pp.OldestNumber, pp.NewestNumber
		}
		return audit(ctx, tx, "", quire.ActionRevisionsPrune, "page", pageID, details)
	})
	if quire.ErrorCode(err) == quire.ENOTFOUND {
		return PagePrune{}, nil // the page was deleted meanwhile: nothing left to prune
	}
	return pp, err
}
