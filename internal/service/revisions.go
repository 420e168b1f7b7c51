package service

import (
	"context"
	"errors"
	"fmt"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/store"
)

// SaveDraft snapshots the working copy as a draft revision.
func (s *Pages) SaveDraft(ctx context.Context, p *quire.Principal, id, note string) (*quire.Revision, error) {
	var v quire.Validator
	quire.ValidateNote(&v, "note", note)
	if err := v.Err(); err != nil {
		return nil, err
	}
	var rev *quire.Revision
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		page, err := tx.PageForUpdate(ctx, id)
		if err != nil {
			return err
		}
		if err := canEdit(p, page); err != nil {
			return err
		}
		if rev, err = snapshot(ctx, tx, page, p.UserID, quire.RevisionDraft, note); err != nil {
			return err
		}
		return audit(ctx, tx, p.UserID, ActionRevisionSave, "page", id, map[string]any{"revision": rev.Number, "revision_id": rev.ID, "note": note})
	})
	return rev, err
}

// snapshot stores the page's working copy as a new revision.
func snapshot(ctx context.Context, tx *store.Tx, page *quire.Page, userID string, status quire.RevisionStatus, note string) (*quire.Revision, error) {
	blocks, err := tx.PageBlocks(ctx, page.ID)
	if err != nil {
		return nil, err
	}
	rev := &quire.Revision{PageID: page.ID, Status: status, Title: page.Title, Slug: page.Slug,
		Blocks: quire.Snapshot(blocks), Note: note, CreatedBy: userID, ContentHash: page.ContentHash}
	if status == quire.RevisionPublished {
		now := tx.Now()
		rev.PublishedAt = &now
	}
	return rev, tx.CreateRevision(ctx, rev)
}

func requireEditor(p *quire.Principal) error {
	if err := require(p, quire.RoleEditor); err != nil {
		if quire.ErrorCode(err) == quire.EFORBIDDEN {
			return quire.Errorf(quire.EFORBIDDEN, "only editors and admins publish, unpublish and restore")
		}
		return err
	}
	return nil
}

// Publish snapshots the working copy as the page's published revision and
// archives the one before it, atomically. The page row lock makes
// concurrent publishes queue; the partial unique index would refuse a
// second published revision even if they did not.
func (s *Pages) Publish(ctx context.Context, p *quire.Principal, id string, ifMatch int64, note string) (*quire.Revision, error) {
	if err := requireEditor(p); err != nil {
		return nil, err
	}
	var v quire.Validator
	quire.ValidateNote(&v, "note", note)
	if err := v.Err(); err != nil {
		return nil, err
	}
	var rev *quire.Revision
	var slug string
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		page, err := tx.LockPage(ctx, id, ifMatch, p.UserID)
		if err != nil {
			return err
		}
		slug = page.Slug
		rev, err = publishLocked(ctx, tx, p.UserID, page, note, nil)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.invalidate(slug)
	return rev, nil
}

// publishLocked publishes the working copy of a page locked in tx, with
// its audit entry (plus extra details) and event: the one publish path,
// for editors and for the scheduler.
func publishLocked(ctx context.Context, tx *store.Tx, actor string, page *quire.Page, note string, extra map[string]any) (*quire.Revision, error) {
	previous := page.PublishedRevisionID
	if _, err := tx.ArchivePublished(ctx, page.ID); err != nil {
		return nil, err
	}
	rev, err := snapshot(ctx, tx, page, actor, quire.RevisionPublished, note)
	if err != nil {
		return nil, err
	}
	if err := tx.SetPublishedRevision(ctx, page.ID, &rev.ID); err != nil {
		return nil, err
	}
	details := map[string]any{"revision": rev.Number, "revision_id": rev.ID, "note": note, "previous_revision_id": previous}
	for k, v := range extra {
		details[k] = v
	}
	if err := audit(ctx, tx, actor, ActionPublish, "page", page.ID, details); err != nil {
		return nil, err
	}
	return rev, emit(ctx, tx, pageEvent(quire.EventPagePublished, page, rev.Number, true))
}

// Unpublish archives the published revision; the page leaves public delivery.
func (s *Pages) Unpublish(ctx context.Context, p *quire.Principal, id string, ifMatch int64) (*quire.Page, error) {
	if err := requireEditor(p); err != nil {
		return nil, err
	}
	var out *quire.Page
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		page, err := tx.LockPage(ctx, id, ifMatch, p.UserID)
		if err != nil {
			return err
		}
		if err := unpublishLocked(ctx, tx, p.UserID, page, nil); err != nil {
			return err
		}
		out, err = reload(ctx, tx, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.invalidate(out.Slug)
	return out, nil
}

// unpublishLocked archives the published revision of a page locked in tx,
// with its audit entry (plus extra details) and event.
func unpublishLocked(ctx context.Context, tx *store.Tx, actor string, page *quire.Page, extra map[string]any) error {
	if page.PublishedRevisionID == nil {
		return quire.Errorf(quire.ECONFLICT, "the page is not published")
	}
	// The number, as in every other revision entry, tells an auditor
	// which version went offline without a second lookup.
	rev, err := tx.Revision(ctx, page.ID, *page.PublishedRevisionID)
	if err != nil {
		return err
	}
	if _, err := tx.ArchivePublished(ctx, page.ID); err != nil {
		return err
	}
	if err := tx.SetPublishedRevision(ctx, page.ID, nil); err != nil {
		return err
	}
	details := map[string]any{"revision": rev.Number, "revision_id": rev.ID}
	for k, v := range extra {
		details[k] = v
	}
	if err := audit(ctx, tx, actor, ActionUnpublish, "page", page.ID, details); err != nil {
		return err
	}
	return emit(ctx, tx, pageEvent(quire.EventPageUnpublished, page, rev.Number, true))
}

// Restore copies a revision's snapshot back into the working copy. What the
// public sees does not change until the page is published again, except
// that a published page answers at its restored slug.
func (s *Pages) Restore(ctx context.Context, p *quire.Principal, id, revisionID string, ifMatch int64) (*quire.Page, error) {
	if err := requireEditor(p); err != nil {
		return nil, err
	}
	return s.change(ctx, p, id, ifMatch, func(tx *store.Tx, page *quire.Page) (string, map[string]any, error) {
		rev, err := tx.Revision(ctx, id, revisionID)
		if err != nil {
			return "", nil, err
		}
		blocks := make([]quire.Block, len(rev.Blocks))
		for i, b := range rev.Blocks {
			blocks[i] = quire.Block{ID: b.ID, Type: b.Type, Content: b.Content}
		}
		err = checkMedia(ctx, tx, blocks, func(i int) string { return fmt.Sprintf("blocks[%d].content.media_id", i) })
		var e *quire.Error
		if errors.As(err, &e) && e.Code == quire.EINVALID {
			return "", nil, &quire.Error{Code: quire.ECONFLICT, Message: "the revision uses media that was deleted since; restore the media first", Fields: e.Fields}
		}
		if err != nil {
			return "", nil, err
		}
		before := pageFields(page)
		page.Title, page.Slug = rev.Title, rev.Slug
		if err := tx.ReplaceBlocks(ctx, id, p.UserID, blocks); err != nil {
			return "", nil, err
		}
		d := quire.Changes(before, pageFields(page))
		d["revision"], d["revision_id"] = rev.Number, rev.ID
		return ActionRestore, d, nil
	})
}

// Revisions lists a page's revisions newest first, without snapshots.
func (s *Pages) Revisions(ctx context.Context, p *quire.Principal, id string, afterNumber, limit int) ([]*quire.Revision, error) {
	if err := require(p, quire.RoleViewer); err != nil {
		return nil, err
	}
	r := s.db.Reader()
	if _, err := r.Page(ctx, id); err != nil {
		return nil, err
	}
	return r.Revisions(ctx, id, afterNumber, limit)
}

// Revision returns one revision with its snapshot.
func (s *Pages) Revision(ctx context.Context, p *quire.Principal, id, revisionID string) (*quire.Revision, error) {
	if err := require(p, quire.RoleViewer); err != nil {
		return nil, err
	}
	return s.db.Reader().Revision(ctx, id, revisionID)
}
