package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/quirecms/quire"
)

var errPageNotFound = quire.Errorf(quire.ENOTFOUND, "page not found")

const pageSelect = `SELECT p.id, p.slug, p.title, p.created_by, p.updated_by, p.created_at, p.updated_at, p.version,
	p.published_revision_id, r.published_at, p.content_hash, coalesce(r.content_hash, '')
	FROM pages p LEFT JOIN page_revisions r ON r.id = p.published_revision_id`

func scanPage(row interface{ Scan(...any) error }) (*quire.Page, error) {
	var p quire.Page
	var pubID sql.NullString
	var pubHash string
	err := row.Scan(&p.ID, &p.Slug, &p.Title, &p.CreatedBy, &p.UpdatedBy, scanTime{&p.CreatedAt}, scanTime{&p.UpdatedAt}, &p.Version,
		&pubID, scanNullTime{&p.PublishedAt}, &p.ContentHash, &pubHash)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errPageNotFound
	}
	if err != nil {
		return nil, mapErr(err)
	}
	if pubID.Valid {
		p.PublishedRevisionID = &pubID.String
		p.HasUnpublishedChanges = p.ContentHash != pubHash
	}
	return &p, nil
}

func slugTaken(err error) error {
	if errors.Is(err, ErrUniqueViolation) {
		return quire.Wrap(quire.ECONFLICT, err, "another page already uses this slug")
	}
	return err
}

// CreatePage inserts a page without blocks.
func (tx *Tx) CreatePage(ctx context.Context, p *quire.Page) error {
	p.ID, p.CreatedAt, p.UpdatedAt, p.Version = NewID(), tx.now, tx.now, 1
	_, err := tx.exec(ctx, `INSERT INTO pages (id, slug, title, created_by, updated_by, created_at, updated_at, version, content_hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, p.ID, p.Slug, p.Title, p.CreatedBy, p.UpdatedBy, p.CreatedAt, p.UpdatedAt, p.Version, p.ContentHash)
	return slugTaken(err)
}

// Page returns a page without its blocks.
func (tx *Tx) Page(ctx context.Context, id string) (*quire.Page, error) {
	return scanPage(tx.queryRow(ctx, pageSelect+` WHERE p.id = ?`, id))
}

// PageForUpdate reads a page and, on PostgreSQL, locks its row until
// commit without changing it (saving a draft revision does not change the
// page, but its revision number must not race).
func (tx *Tx) PageForUpdate(ctx context.Context, id string) (*quire.Page, error) {
	q := pageSelect + ` WHERE p.id = ?`
	if tx.db.dialect == Postgres {
		q += ` FOR UPDATE OF p`
	}
	return scanPage(tx.queryRow(ctx, q, id))
}

// LockPage starts a change to page id: it bumps the version (checking it
// against ifMatch when not zero) and records who changed it and when. On
// PostgreSQL the row stays locked until commit, so concurrent editors of
// one page queue here and every later read in the transaction sees the
// other's committed work; on SQLite the single writer does the same.
func (tx *Tx) LockPage(ctx context.Context, id string, ifMatch int64, userID string) (*quire.Page, error) {
	q := `UPDATE pages SET version = version + 1, updated_at = ?, updated_by = ? WHERE id = ?`
	args := []any{tx.now, userID, id}
	if ifMatch != 0 {
		q += ` AND version = ?`
		args = append(args, ifMatch)
	}
	res, err := tx.exec(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err := tx.Page(ctx, id); err != nil {
			return nil, err
		}
		return nil, quire.Errorf(quire.EPRECONDITION, "the page was changed by someone else; fetch it again")
	}
	return tx.Page(ctx, id)
}

// UpdatePageFields writes title, slug and content hash of a locked page.
func (tx *Tx) UpdatePageFields(ctx context.Context, p *quire.Page) error {
	_, err := tx.exec(ctx, `UPDATE pages SET title = ?, slug = ?, content_hash = ? WHERE id = ?`, p.Title, p.Slug, p.ContentHash, p.ID)
	return slugTaken(err)
}

// SetPublishedRevision points the page at its published revision (or none).
func (tx *Tx) SetPublishedRevision(ctx context.Context, pageID string, revisionID *string) error {
	_, err := tx.exec(ctx, `UPDATE pages SET published_revision_id = ? WHERE id = ?`, revisionID, pageID)
	return err
}

// DeletePage removes a page; its blocks and revisions go with it.
func (tx *Tx) DeletePage(ctx context.Context, id string) error {
	if err := tx.SetPublishedRevision(ctx, id, nil); err != nil {
		return err
	}
	return tx.execOne(ctx, errPageNotFound, `DELETE FROM pages WHERE id = ?`, id)
}

// PageFilter selects pages for a list. Status is "" (all), "draft" (not
// published now: never, or unpublished since), "published" or "changed"
// (published, with unpublished changes).
type PageFilter struct {
	Status    string
	CreatedBy string
	Q         string // case-insensitive substring of the title
	SortBy    string // "updated_at" (default) or "created_at"; newest first
	After     *PageCursor
	Limit     int
}

// PageCursor is the keyset position of the last page seen.
type PageCursor struct {
	At time.Time
	ID string
}

// Pages lists pages newest first by f.SortBy, without blocks.
func (tx *Tx) Pages(ctx context.Context, f PageFilter) ([]*quire.Page, error) {
	col := "p.updated_at"
	if f.SortBy == "created_at" {
		col = "p.created_at"
	}
	q := pageSelect + ` WHERE 1 = 1`
	var args []any
	switch f.Status {
	case "draft":
		q += ` AND p.published_revision_id IS NULL`
	case "published":
		q += ` AND p.published_revision_id IS NOT NULL`
	case "changed":
		q += ` AND p.published_revision_id IS NOT NULL AND p.content_hash <> r.content_hash`
	}
	if f.CreatedBy != "" {
		q += ` AND p.created_by = ?`
		args = append(args, f.CreatedBy)
	}
	if f.Q != "" {
		q += ` AND lower(p.title) LIKE ? ESCAPE '\'`
		args = append(args, "%"+likeEscaper.Replace(strings.ToLower(f.Q))+"%")
	}
	if f.After != nil {
		q += ` AND (` + col + ` < ? OR (` + col + ` = ? AND p.id < ?))`
		args = append(args, f.After.At, f.After.At, f.After.ID)
	}
	q += ` ORDER BY ` + col + ` DESC, p.id DESC LIMIT ?`
	args = append(args, f.Limit)
	rows, err := tx.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*quire.Page
	for rows.Next() {
		p, err := scanPage(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, mapErr(rows.Err())
}

var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
