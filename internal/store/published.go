package store

import (
	"context"
	"database/sql"
	"errors"
)

// PublishedRevisionID returns the id of the revision published at slug, or
// ENOTFOUND when nothing is: one read of the slug's unique index, which is
// what public delivery asks before keeping a cached page past its TTL.
func (tx *Tx) PublishedRevisionID(ctx context.Context, slug string) (string, error) {
	var id string
	err := tx.queryRow(ctx, `SELECT published_revision_id FROM pages WHERE slug = ? AND published_revision_id IS NOT NULL`, slug).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", errPageNotFound
	}
	if err != nil {
		return "", mapErr(err)
	}
	return id, nil
}
