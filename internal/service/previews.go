package service

import (
	"context"
	"time"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/auth"
	"github.com/quirecms/quire/internal/store"
)

// Previews manages preview links: whoever may edit a page may show its
// draft to a front-end (or a colleague) through an expiring, revocable
// token, without lending any credential.
type Previews struct {
	db *store.DB
	// urlTemplate is QUIRE_PREVIEW_URL: the front-end address that
	// receives {token} and {slug}; empty when none is configured.
	urlTemplate string
}

// NewPreviews returns the preview link service.
func NewPreviews(db *store.DB, urlTemplate string) *Previews {
	return &Previews{db: db, urlTemplate: urlTemplate}
}

// NewPreview is the body of POST /pages/{id}/previews.
type NewPreview struct {
	// RevisionID names the revision to show; nil shows the working copy as
	// it is whenever the link is opened.
	RevisionID *string `json:"revision_id"`
	// ExpiresIn is the lifetime in seconds (default one hour, at most 30 days).
	ExpiresIn *int64 `json:"expires_in"`
}

// CreatedPreview is a new preview with its token, shown this once, and the
// front-end URL built from it when QUIRE_PREVIEW_URL is set.
type CreatedPreview struct {
	*quire.Preview
	Token string  `json:"token"`
	URL   *string `json:"url"`
}

// Create makes a preview link for a page that p may edit.
func (s *Previews) Create(ctx context.Context, p *quire.Principal, pageID string, in NewPreview) (*CreatedPreview, error) {
	if err := require(p, quire.RoleAuthor); err != nil {
		return nil, err
	}
	ttl := quire.DefaultPreviewTTL
	var v quire.Validator
	if in.ExpiresIn != nil {
		ttl = time.Duration(*in.ExpiresIn) * time.Second
		v.Check(*in.ExpiresIn >= int64(quire.MinPreviewTTL/time.Second) && *in.ExpiresIn <= int64(quire.MaxPreviewTTL/time.Second),
			"expires_in", "must be a number of seconds from 60 to 2592000 (30 days)")
	}
	if in.RevisionID != nil {
		v.Check(*in.RevisionID != "" && len(*in.RevisionID) <= 64, "revision_id", "must be a revision id, or absent for the working copy")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	token, hash, err := auth.NewSecret(quire.PreviewTokenPrefix)
	if err != nil {
		return nil, err
	}
	out := &CreatedPreview{Token: token}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		page, err := tx.PageForUpdate(ctx, pageID)
		if err != nil {
			return err
		}
		if err := canEdit(p, page); err != nil {
			return err
		}
		if n, err := tx.CountLivePreviews(ctx, pageID); err != nil {
			return err
		} else if n >= quire.MaxPreviewsPerPage {
			return quire.Errorf(quire.ECONFLICT, "this page has %d live preview links, the most it may have; revoke some first", n)
		}
		pv := &quire.Preview{PageID: pageID, RevisionID: in.RevisionID, CreatedBy: p.UserID,
			ExpiresAt: tx.Now().Add(ttl), Prefix: token[:len(quire.PreviewTokenPrefix)+6]}
		if in.RevisionID != nil {
			rev, err := tx.RevisionMeta(ctx, pageID, *in.RevisionID)
			if quire.ErrorCode(err) == quire.ENOTFOUND {
				return quire.Invalid(quire.FieldError{Field: "revision_id", Message: "is not a revision of this page"})
			}
			if err != nil {
				return err
			}
			pv.RevisionNumber = &rev.Number
		}
		if err := tx.CreatePreview(ctx, pv, hash); err != nil {
			return err
		}
		out.Preview = pv
		if s.urlTemplate != "" {
			u := quire.PreviewURL(s.urlTemplate, token, page.Slug)
			out.URL = &u
		}
		return audit(ctx, tx, p.UserID, quire.ActionPreviewCreate, "page", pageID, previewFields(pv))
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// previewFields is what the audit log records of a preview: never the
// token, only its public prefix.
func previewFields(v *quire.Preview) map[string]any {
	return map[string]any{"preview_id": v.ID, "revision_id": v.RevisionID, "prefix": v.Prefix,
		"expires_at": v.ExpiresAt.UTC().Format(time.RFC3339Nano)}
}

// editablePage reads a page and checks that p may edit it.
func editablePage(ctx context.Context, tx *store.Tx, p *quire.Principal, pageID string) error {
	if err := require(p, quire.RoleAuthor); err != nil {
		return err
	}
	page, err := tx.Page(ctx, pageID)
	if err != nil {
		return err
	}
	return canEdit(p, page)
}

// List returns a page's live previews newest first, before the id
// beforeID when it is not empty.
func (s *Previews) List(ctx context.Context, p *quire.Principal, pageID, beforeID string, limit int) ([]*quire.Preview, error) {
	r := s.db.Reader()
	if err := editablePage(ctx, r, p, pageID); err != nil {
		return nil, err
	}
	return r.LivePreviews(ctx, pageID, beforeID, limit)
}

// Revoke ends a preview link at once.
func (s *Previews) Revoke(ctx context.Context, p *quire.Principal, pageID, id string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := editablePage(ctx, tx, p, pageID); err != nil {
			return err
		}
		pv, err := tx.LivePreview(ctx, pageID, id)
		if err != nil {
			return err
		}
		if err := tx.DeletePreview(ctx, pageID, id); err != nil {
			return err
		}
		return audit(ctx, tx, p.UserID, quire.ActionPreviewRevoke, "page", pageID, previewFields(pv))
	})
}
