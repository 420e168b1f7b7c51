package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/quirecms/quire"
)

var errRevisionNotFound = quire.Errorf(quire.ENOTFOUND, "revision not found for this page")

const revisionColumns = `id, page_id, number, status, title, slug, blocks, note, created_by_user_id, created_at, published_at, content_hash`

func scanRevision(row interface{ Scan(...any) error }, withBlocks bool) (*quire.Revision, error) {
	var r quire.Revision
	var blocks []byte
	err := row.Scan(&r.ID, &r.PageID, &r.Number, &r.Status, &r.Title, &r.Slug, &blocks, &r.Note, &r.CreatedBy,
		scanTime{&r.CreatedAt}, scanNullTime{&r.PublishedAt}, &r.ContentHash)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errRevisionNotFound
	}
	if err != nil {
		return nil, mapErr(err)
	}
	if withBlocks {
		if err := json.Unmarshal(blocks, &r.Blocks); err != nil {
			return nil, fmt.Errorf("revision %s: stored blocks: %w", r.ID, err)
		}
	}
	return &r, nil
}

// CreateRevision snapshots r (numbered after the page's latest revision).
// The caller holds the page lock, so numbers never race.
func (tx *Tx) CreateRevision(ctx context.Context, r *quire.Revision) error {
	refs, err := tx.putBlocks(ctx, r.PageID, r.Blocks)
	if err != nil {
		return err
	}
	if err := tx.queryRow(ctx, `SELECT coalesce(max(number), 0) + 1 FROM page_revisions WHERE page_id = ?`, r.PageID).Scan(&r.Number); err != nil {
		return mapErr(err)
	}
	r.ID, r.CreatedAt = NewID(), tx.now
	_, err = tx.exec(ctx, `INSERT INTO page_revisions (`+revisionColumns+`, block_refs) VALUES (?, ?, ?, ?, ?, ?, '[]', ?, ?, ?, ?, ?, ?)`,
		r.ID, r.PageID, r.Number, r.Status, r.Title, r.Slug, r.Note, r.CreatedBy, r.CreatedAt, r.PublishedAt, r.ContentHash, refs)
	if errors.Is(err, ErrUniqueViolation) {
		return quire.Wrap(quire.ECONFLICT, err, "the page was published by someone else at the same moment; try again")
	}
	return err
}

// revisionSummaryColumns are revisionColumns without the snapshot: a
// list shows none, and reading it would read every snapshot listed.
const revisionSummaryColumns = `id, page_id, number, status, title, slug, '[]', note, created_by_user_id, created_at, published_at, content_hash`

// Revisions lists a page's revisions newest first, without snapshots,
// after the revision number afterNumber (0 for the first page): a range of
// the (page_id, number) unique index.
func (tx *Tx) Revisions(ctx context.Context, pageID string, afterNumber, limit int) ([]*quire.Revision, error) {
	q, args := revisionsQuery(pageID, afterNumber, limit)
	rows, err := tx.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*quire.Revision
	for rows.Next() {
		r, err := scanRevision(rows, false)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, mapErr(rows.Err())
}

func revisionsQuery(pageID string, afterNumber, limit int) (string, []any) {
	k := &keyset{cols: revisionSummaryColumns, from: "page_revisions", keys: "number", desc: true, limit: limit}
	k.and(`page_id = ?`, pageID)
	if afterNumber > 0 {
		k.after(afterNumber)
	}
	return k.sql()
}

// EverPublished reports whether any revision of the page was ever published.
func (tx *Tx) EverPublished(ctx context.Context, pageID string) (bool, error) {
	var n int
	err := tx.queryRow(ctx, `SELECT count(*) FROM page_revisions WHERE page_id = ? AND published_at IS NOT NULL`, pageID).Scan(&n)
	return n > 0, mapErr(err)
}

// ArchivePublished archives the page's published revision, if any.
func (tx *Tx) ArchivePublished(ctx context.Context, pageID string) (bool, error) {
	res, err := tx.exec(ctx, `UPDATE page_revisions SET status = 'archived' WHERE page_id = ? AND status = 'published'`, pageID)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, mapErr(err)
}

// MarkPublished makes an existing revision of a page its published one
// (the previous one must be archived first), published now.
func (tx *Tx) MarkPublished(ctx context.Context, pageID, revisionID string) error {
	return tx.execOne(ctx, quire.Errorf(quire.ENOTFOUND, "revision not found"),
		`UPDATE page_revisions SET status = 'published', published_at = ? WHERE id = ? AND page_id = ?`, tx.now, revisionID, pageID)
}

// PublishedPage is what public delivery serves for a slug.
type PublishedPage struct {
	PageID      string
	RevisionID  string
	Slug        string
	Title       string
	Blocks      []quire.SnapshotBlock
	PublishedAt time.Time
	Revision    int
}

// PublishedSummary is one row of the public page list.
type PublishedSummary struct {
	Slug        string    `json:"slug"`
	Title       string    `json:"title"`
	PublishedAt time.Time `json:"published_at"`
	Revision    int       `json:"revision"`
	PageID      string    `json:"-"`
}

// PublishedPages lists published pages, most recently published first,
// after the keyset position after when not nil: a range of the partial
// index pages_public_idx, then each listed page's revision by primary key
// for its published title and number (columns stored before the snapshot).
func (tx *Tx) PublishedPages(ctx context.Context, after *PageCursor, limit int) ([]PublishedSummary, error) {
	q, args := publishedPagesQuery(after, limit)
	rows, err := tx.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []PublishedSummary
	for rows.Next() {
		var s PublishedSummary
		if err := rows.Scan(&s.PageID, &s.Slug, &s.Title, scanTime{&s.PublishedAt}, &s.Revision); err != nil {
			return nil, mapErr(err)
		}
		out = append(out, s)
	}
	return out, mapErr(rows.Err())
}

func publishedPagesQuery(after *PageCursor, limit int) (string, []any) {
	k := &keyset{cols: `p.id, p.slug, r.title, p.published_at, r.number`,
		from:  `pages p JOIN page_revisions r ON r.id = p.published_revision_id`,
		alias: "p", keys: "p.published_at, p.id", desc: true, limit: limit}
	k.and(`p.published_revision_id IS NOT NULL`)
	if after != nil {
		k.after(after.At, after.ID)
	}
	return k.sql()
}

// MediaRef is what delivery needs of an image: where and how big.
type MediaRef struct {
	ID       string
	Filename string
	MimeType string
	Width    *int
	Height   *int
}

// LiveMedia returns the media with these ids that exist and are not
// deleted, in one query.
func (tx *Tx) LiveMedia(ctx context.Context, ids []string) (map[string]MediaRef, error) {
	out := make(map[string]MediaRef, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	q := `SELECT id, filename, mime_type, width, height FROM media WHERE deleted_at IS NULL AND id IN (?` + strings.Repeat(", ?", len(ids)-1) + `)`
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := tx.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var m MediaRef
		var w, h sql.NullInt64
		if err := rows.Scan(&m.ID, &m.Filename, &m.MimeType, &w, &h); err != nil {
			return nil, mapErr(err)
		}
		if w.Valid && h.Valid {
			wi, hi := int(w.Int64), int(h.Int64)
			m.Width, m.Height = &wi, &hi
		}
		out[m.ID] = m
	}
	return out, mapErr(rows.Err())
}
