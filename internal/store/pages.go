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

// pageColumns reads a page from its own row: published_at and
// published_hash are copies of the published revision's (see
// SetPublishedRevision), so no page read or list touches a snapshot.
const pageColumns = `p.id, p.slug, p.title, p.created_by, p.updated_by, p.created_at, p.updated_at, p.version,
	p.published_revision_id, p.published_at, p.content_hash, coalesce(p.published_hash, '')`

const pageSelect = `SELECT ` + pageColumns + ` FROM pages p`

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

// SetPublishedRevision points the page at its published revision (or
// none), copying the revision's publish time and content hash onto the
// page in the same statement: the lists sort and filter on them there.
func (tx *Tx) SetPublishedRevision(ctx context.Context, pageID string, revisionID *string) error {
	_, err := tx.exec(ctx, `UPDATE pages SET published_revision_id = ?,
		published_at = (SELECT r.published_at FROM page_revisions r WHERE r.id = ?),
		published_hash = (SELECT r.content_hash FROM page_revisions r WHERE r.id = ?)
		WHERE id = ?`, revisionID, revisionID, revisionID, pageID)
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

// Pages lists pages newest first by f.SortBy, without blocks. Each status
// and author filter is the range of an index in the chosen sort (migration
// 00008); a status within one author's pages and the title search q filter
// a window of the range (ScanWindow). resume, when not nil, is where that
// window ended before the list was full: the next page starts after it.
func (tx *Tx) Pages(ctx context.Context, f PageFilter) (pages []*quire.Page, resume *PageCursor, err error) {
	k := pagesQuery(f)
	q, args := k.sql()
	if pages, err = queryAll(ctx, tx, scanPage, q, args...); err != nil {
		return nil, nil, err
	}
	var c PageCursor
	more, err := tx.resume(ctx, k, len(pages), scanTime{&c.At}, &c.ID)
	if err != nil || !more {
		return pages, nil, err
	}
	return pages, &c, nil
}

func pagesQuery(f PageFilter) *keyset {
	k := &keyset{cols: pageColumns, from: "pages p", alias: "p", keys: "p.updated_at, p.id", desc: true, limit: f.Limit}
	if f.SortBy == "created_at" {
		k.keys = "p.created_at, p.id"
	}
	// Written exactly as the partial indexes' predicates, which is how
	// SQLite recognises that an index applies.
	status := map[string]string{
		"draft":     "p.published_revision_id IS NULL",
		"published": "p.published_revision_id IS NOT NULL",
		"changed":   "p.content_hash <> p.published_hash",
	}[f.Status]
	if f.CreatedBy != "" {
		k.and(`p.created_by = ?`, f.CreatedBy)
		if status != "" {
			k.filter(status)
		}
	} else if status != "" {
		k.and(status)
	}
	if f.Q != "" {
		k.filter(`lower(p.title) LIKE ? ESCAPE '\'`, "%"+likeEscaper.Replace(strings.ToLower(f.Q))+"%")
	}
	if f.After != nil {
		k.after(f.After.At, f.After.ID)
	}
	return k
}

var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
