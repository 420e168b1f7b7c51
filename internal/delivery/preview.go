package delivery

import (
	"context"
	"encoding/json"
	"time"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/auth"
)

// PreviewPage is the JSON of a preview link: the public page's fields,
// plus preview: true and what it shows. Revision and RevisionID are null
// for a working-copy preview, PublishedAt for a revision never published.
type PreviewPage struct {
	Slug        string            `json:"slug"`
	Title       string            `json:"title"`
	Blocks      []json.RawMessage `json:"blocks"`
	PublishedAt *time.Time        `json:"published_at"`
	Revision    *int              `json:"revision"`
	RevisionID  *string           `json:"revision_id"`
	Preview     bool              `json:"preview"`
	ExpiresAt   time.Time         `json:"expires_at"`
}

// errNoPreview is the answer for every token that does not open a
// preview now (malformed, unknown, expired, revoked, or its page gone),
// so that the answer tells nothing about which.
var errNoPreview = quire.Errorf(quire.ENOTFOUND, "no preview for this link; it may have expired or been revoked")

// Preview returns the encoded preview that token opens. It is never
// cached: a working-copy preview shows the latest saved state every time,
// and a revoked link stops at once.
func (d *Pages) Preview(ctx context.Context, token string) ([]byte, error) {
	if !quire.LooksLikePreviewToken(token) {
		return nil, errNoPreview
	}
	r := d.db.Reader()
	pv, err := r.LivePreviewByHash(ctx, auth.HashSecret(token))
	if err != nil {
		return nil, hideNotFound(err)
	}
	out := PreviewPage{Preview: true, ExpiresAt: pv.ExpiresAt}
	var blocks []quire.SnapshotBlock
	if pv.RevisionID != nil {
		rev, err := r.Revision(ctx, pv.PageID, *pv.RevisionID)
		if err != nil {
			return nil, hideNotFound(err)
		}
		out.Slug, out.Title, blocks = rev.Slug, rev.Title, rev.Blocks
		out.Revision, out.RevisionID, out.PublishedAt = &rev.Number, &rev.ID, rev.PublishedAt
	} else {
		page, err := r.Page(ctx, pv.PageID)
		if err != nil {
			return nil, hideNotFound(err)
		}
		working, err := r.PageBlocks(ctx, pv.PageID)
		if err != nil {
			return nil, err
		}
		out.Slug, out.Title, blocks = page.Slug, page.Title, quire.Snapshot(working)
	}
	if out.Blocks, _, err = publicBlocks(ctx, r, blocks); err != nil {
		return nil, err
	}
	return json.Marshal(out)
}

func hideNotFound(err error) error {
	if quire.ErrorCode(err) == quire.ENOTFOUND {
		return errNoPreview
	}
	return err
}
