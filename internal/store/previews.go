package store

import (
	"context"
	"database/sql"
	"errors"

	"github.com/quirecms/quire"
)

// errPreviewNotFound is the one answer for an unknown, expired or revoked
// preview: callers must not be able to tell them apart.
var errPreviewNotFound = quire.Errorf(quire.ENOTFOUND, "preview not found")

const previewSelect = `SELECT v.id, v.page_id, v.revision_id, r.number, v.prefix, v.created_by, v.created_at, v.expires_at
	FROM page_previews v LEFT JOIN page_revisions r ON r.id = v.revision_id`

func scanPreview(row interface{ Scan(...any) error }) (*quire.Preview, error) {
	var v quire.Preview
	var rid sql.NullString
	var num sql.NullInt64
	err := row.Scan(&v.ID, &v.PageID, &rid, &num, &v.Prefix, &v.CreatedBy, scanTime{&v.CreatedAt}, scanTime{&v.ExpiresAt})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errPreviewNotFound
	}
	if err != nil {
		return nil, mapErr(err)
	}
	if rid.Valid {
		n := int(num.Int64)
		v.RevisionID, v.RevisionNumber = &rid.String, &n
	}
	return &v, nil
}

// CreatePreview stores a preview with the hash of its token.
func (tx *Tx) CreatePreview(ctx context.Context, v *quire.Preview, tokenHash string) error {
	v.ID, v.CreatedAt = NewID(), tx.now
	_, err := tx.exec(ctx, `INSERT INTO page_previews (id, page_id, revision_id, token_hash, prefix, created_by, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, v.ID, v.PageID, v.RevisionID, tokenHash, v.Prefix, v.CreatedBy, v.CreatedAt, v.ExpiresAt)
	return err
}

// LivePreviewByHash finds the unexpired preview whose token hashes to hash.
func (tx *Tx) LivePreviewByHash(ctx context.Context, hash string) (*quire.Preview, error) {
	return scanPreview(tx.queryRow(ctx, previewSelect+` WHERE v.token_hash = ? AND v.expires_at > ?`, hash, tx.now))
}

// LivePreview returns one unexpired preview of a page.
func (tx *Tx) LivePreview(ctx context.Context, pageID, id string) (*quire.Preview, error) {
	return scanPreview(tx.queryRow(ctx, previewSelect+` WHERE v.page_id = ? AND v.id = ? AND v.expires_at > ?`, pageID, id, tx.now))
}

// LivePreviews lists a page's unexpired previews newest first, before the
// id beforeID when it is not empty (keyset over page_previews_page_idx).
func (tx *Tx) LivePreviews(ctx context.Context, pageID, beforeID string, limit int) ([]*quire.Preview, error) {
	q := previewSelect + ` WHERE v.page_id = ? AND v.expires_at > ?`
	args := []any{pageID, tx.now}
	if beforeID != "" {
		q += ` AND v.id < ?`
		args = append(args, beforeID)
	}
	rows, err := tx.query(ctx, q+` ORDER BY v.id DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*quire.Preview
	for rows.Next() {
		v, err := scanPreview(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, mapErr(rows.Err())
}

// CountLivePreviews counts a page's unexpired previews.
func (tx *Tx) CountLivePreviews(ctx context.Context, pageID string) (int, error) {
	var n int
	err := tx.queryRow(ctx, `SELECT count(*) FROM page_previews WHERE page_id = ? AND expires_at > ?`, pageID, tx.now).Scan(&n)
	return n, mapErr(err)
}

// DeletePreview revokes a preview by removing it.
func (tx *Tx) DeletePreview(ctx context.Context, pageID, id string) error {
	return tx.execOne(ctx, errPreviewNotFound, `DELETE FROM page_previews WHERE page_id = ? AND id = ?`, pageID, id)
}
