package store

import (
	"context"

	"github.com/quirecms/quire"
)

// RevisionMeta returns one revision of a page without its snapshot.
func (tx *Tx) RevisionMeta(ctx context.Context, pageID, id string) (*quire.Revision, error) {
	return scanRevision(tx.queryRow(ctx, `SELECT `+revisionColumns+` FROM page_revisions WHERE page_id = ? AND id = ?`, pageID, id), false)
}
