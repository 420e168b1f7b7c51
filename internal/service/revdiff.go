package service

import (
	"context"

	"github.com/quirecms/quire"
)

// DiffTarget of Diff: compare with the working copy rather than a revision.
const DiffTarget = "working"

// Diff compares revision revisionID of a page with another revision, or
// with the working copy when to is "" or "working".
func (s *Pages) Diff(ctx context.Context, p *quire.Principal, pageID, revisionID, to string) (*quire.RevisionDiff, error) {
	if err := require(p, quire.RoleViewer); err != nil {
		return nil, err
	}
	if len(to) > 64 {
		return nil, quire.Invalid(quire.FieldError{Field: "to", Message: "must be a revision id or working"})
	}
	r := s.db.Reader()
	from, err := r.Revision(ctx, pageID, revisionID)
	if err != nil {
		return nil, err
	}
	var side quire.DiffSide
	if to == "" || to == DiffTarget {
		page, err := reload(ctx, r, pageID)
		if err != nil {
			return nil, err
		}
		side = quire.WorkingSide(page)
	} else {
		rev, err := r.Revision(ctx, pageID, to)
		if quire.ErrorCode(err) == quire.ENOTFOUND {
			return nil, quire.Invalid(quire.FieldError{Field: "to", Message: "is not a revision of this page (or working)"})
		}
		if err != nil {
			return nil, err
		}
		side = quire.RevisionSide(rev)
	}
	return quire.Diff(quire.RevisionSide(from), side)
}
