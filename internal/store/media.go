package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/quirecms/quire"
)

var errMediaNotFound = quire.Errorf(quire.ENOTFOUND, "media not found")

const mediaColumns = `id, filename, mime_type, size_bytes, checksum_sha256, width, height, alt, title, storage_key,
	uploaded_by_user_id, created_at, updated_at, deleted_at, version`

func scanMedia(row interface{ Scan(...any) error }) (*quire.Media, error) {
	var m quire.Media
	var w, h sql.NullInt64
	err := row.Scan(&m.ID, &m.Filename, &m.MimeType, &m.SizeBytes, &m.Checksum, &w, &h, &m.Alt, &m.Title, &m.StorageKey,
		&m.UploadedBy, scanTime{&m.CreatedAt}, scanTime{&m.UpdatedAt}, scanNullTime{&m.DeletedAt}, &m.Version)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errMediaNotFound
	}
	if err != nil {
		return nil, mapErr(err)
	}
	if w.Valid && h.Valid {
		wi, hi := int(w.Int64), int(h.Int64)
		m.Width, m.Height = &wi, &hi
	}
	m.URL = quire.MediaURL(m.ID, m.Filename)
	return &m, nil
}

// CreateMedia inserts m (whose ID the caller chose: it names the bytes'
// place in storage). Live media with the same checksum is ECONFLICT
// wrapping ErrUniqueViolation.
func (tx *Tx) CreateMedia(ctx context.Context, m *quire.Media) error {
	m.CreatedAt, m.UpdatedAt, m.Version = tx.now, tx.now, 1
	m.URL = quire.MediaURL(m.ID, m.Filename)
	_, err := tx.exec(ctx, `INSERT INTO media (`+mediaColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.ID, m.Filename, m.MimeType, m.SizeBytes, m.Checksum, m.Width, m.Height, m.Alt, m.Title, m.StorageKey,
		m.UploadedBy, m.CreatedAt, m.UpdatedAt, m.DeletedAt, m.Version)
	return err
}

// Media returns one media record, deleted or not.
func (tx *Tx) Media(ctx context.Context, id string) (*quire.Media, error) {
	return scanMedia(tx.queryRow(ctx, `SELECT `+mediaColumns+` FROM media WHERE id = ?`, id))
}

// MediaForUpdate reads a media record and, on PostgreSQL, locks its row
// until commit (SQLite's single writer already serialises writers).
func (tx *Tx) MediaForUpdate(ctx context.Context, id string) (*quire.Media, error) {
	q := `SELECT ` + mediaColumns + ` FROM media WHERE id = ?`
	if tx.db.dialect == Postgres {
		q += ` FOR UPDATE`
	}
	return scanMedia(tx.queryRow(ctx, q, id))
}

// LiveMediaByChecksum returns the media that is not deleted and holds
// these bytes, or ENOTFOUND.
func (tx *Tx) LiveMediaByChecksum(ctx context.Context, checksum string) (*quire.Media, error) {
	return scanMedia(tx.queryRow(ctx, `SELECT `+mediaColumns+` FROM media WHERE checksum_sha256 = ? AND deleted_at IS NULL`, checksum))
}

// UpdateMedia writes alt, title and deleted_at of m, which was read in
// this transaction, and bumps its version.
func (tx *Tx) UpdateMedia(ctx context.Context, m *quire.Media) error {
	err := tx.execOne(ctx, errMediaNotFound, `UPDATE media SET alt = ?, title = ?, deleted_at = ?, updated_at = ?, version = version + 1
		WHERE id = ? AND version = ?`, m.Alt, m.Title, m.DeletedAt, tx.now, m.ID, m.Version)
	if err != nil {
		return err
	}
	m.UpdatedAt, m.Version = tx.now, m.Version+1
	return nil
}

// DeleteMedia removes the record of a media (its purge).
func (tx *Tx) DeleteMedia(ctx context.Context, id string) error {
	return tx.execOne(ctx, errMediaNotFound, `DELETE FROM media WHERE id = ?`, id)
}

// MediaFilter selects media for a list, newest first.
type MediaFilter struct {
	TypePrefix string // "image" matches image/*, "image/png" matches that type
	UploadedBy string
	Q          string // case-insensitive substring of the file name or title
	Deleted    bool   // only deleted media instead of only live media
	After      *PageCursor
	Limit      int
}

// MediaList lists media by creation time, newest first: a range of the
// live or deleted partial index, or of one uploader's index. The type and
// the substring search filter a window of that range (ScanWindow); resume,
// when not nil, is where the window ended before the list was full.
func (tx *Tx) MediaList(ctx context.Context, f MediaFilter) (media []*quire.Media, resume *PageCursor, err error) {
	k := mediaQuery(f)
	q, args := k.sql()
	if media, err = queryAll(ctx, tx, scanMedia, q, args...); err != nil {
		return nil, nil, err
	}
	var c PageCursor
	more, err := tx.resume(ctx, k, len(media), scanTime{&c.At}, &c.ID)
	if err != nil || !more {
		return media, nil, err
	}
	return media, &c, nil
}

func mediaQuery(f MediaFilter) *keyset {
	k := &keyset{cols: mediaColumns, from: "media m", alias: "m", keys: "m.created_at, m.id", desc: true, limit: f.Limit}
	deleted := "m.deleted_at IS NULL"
	if f.Deleted {
		deleted = "m.deleted_at IS NOT NULL"
	}
	if f.UploadedBy != "" {
		k.and(`m.uploaded_by_user_id = ?`, f.UploadedBy)
		k.filter(deleted)
	} else {
		k.and(deleted) // as the partial indexes' predicates are written
	}
	if f.TypePrefix != "" {
		// "image" must not match "imagex/…": compare whole type or "prefix/".
		p := strings.ToLower(f.TypePrefix)
		if !strings.Contains(p, "/") {
			p += "/"
		}
		k.filter(`(m.mime_type = ? OR m.mime_type LIKE ? ESCAPE '\')`, p, likeEscaper.Replace(p)+"%")
	}
	if f.Q != "" {
		like := "%" + likeEscaper.Replace(strings.ToLower(f.Q)) + "%"
		k.filter(`(lower(m.filename) LIKE ? ESCAPE '\' OR lower(m.title) LIKE ? ESCAPE '\')`, like, like)
	}
	if f.After != nil {
		k.after(f.After.At, f.After.ID)
	}
	return k
}

// MediaUse is one place where a media is used by a page.
type MediaUse struct {
	PageID string
	Slug   string // the page's current slug, which public delivery answers at
	// Where is "working copy" or "published revision N".
	Where string
	// Published reports a use by the page's published revision.
	Published bool
}

// MediaUses returns the pages whose working copy or published revision
// has an image block naming mediaID. Draft and archived revisions are
// not looked at: restoring one checks its media again (and refuses).
// The SQL finds candidates by the id's text; each is confirmed by
// decoding its blocks, so an id quoted in a paragraph is no use.
func (tx *Tx) MediaUses(ctx context.Context, mediaID string) ([]MediaUse, error) {
	like := "%" + likeEscaper.Replace(mediaID) + "%"
	var out []MediaUse
	rows, err := tx.query(ctx, `SELECT p.id, p.slug, b.content FROM page_blocks b JOIN pages p ON p.id = b.page_id
		WHERE b.type = ? AND CAST(b.content AS TEXT) LIKE ? ESCAPE '\' ORDER BY p.slug`, quire.BlockImage, like)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for rows.Next() {
		var u MediaUse
		var content []byte
		if err := rows.Scan(&u.PageID, &u.Slug, &content); err != nil {
			rows.Close()
			return nil, mapErr(err)
		}
		if imageMediaID(content) == mediaID && !seen[u.PageID] {
			seen[u.PageID] = true
			u.Where = "working copy"
			out = append(out, u)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, mapErr(err)
	}
	// Published snapshots keep blocks by reference (snapshots.go): a
	// candidate image content of the page counts when the published
	// revision's references name it.
	rows, err = tx.query(ctx, `SELECT p.id, p.slug, r.number, r.block_refs, c.hash, c.content FROM revision_contents c
		JOIN pages p ON p.id = c.page_id JOIN page_revisions r ON r.id = p.published_revision_id
		WHERE r.status = 'published' AND c.type = ? AND c.content LIKE ? ESCAPE '\' ORDER BY p.slug`, quire.BlockImage, like)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var u MediaUse
		var number int
		var refs, hash string
		var content []byte
		if err := rows.Scan(&u.PageID, &u.Slug, &number, &refs, &hash, &content); err != nil {
			return nil, mapErr(err)
		}
		var hashes []string
		if err := json.Unmarshal([]byte(refs), &hashes); err != nil {
			return nil, err
		}
		if imageMediaID(content) == mediaID && slices.Contains(hashes, hash) && !seen["published "+u.PageID] {
			seen["published "+u.PageID] = true
			u.Where, u.Published = "published revision "+strconv.Itoa(number), true
			out = append(out, u)
		}
	}
	return out, mapErr(rows.Err())
}

func imageMediaID(content []byte) string {
	var c struct {
		MediaID string `json:"media_id"`
	}
	_ = json.Unmarshal(content, &c)
	return c.MediaID
}

// MediaStorageKeys calls fn with the storage key of every media record,
// deleted or not: what `quire media gc` must keep.
func (tx *Tx) MediaStorageKeys(ctx context.Context, fn func(id, key string) error) error {
	rows, err := tx.query(ctx, `SELECT id, storage_key FROM media`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id, key string
		if err := rows.Scan(&id, &key); err != nil {
			return mapErr(err)
		}
		if err := fn(id, key); err != nil {
			return err
		}
	}
	return mapErr(rows.Err())
}
