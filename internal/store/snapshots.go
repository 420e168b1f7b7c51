package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/quirecms/quire"
)

// Revisions are stored content-addressed (see docs/revisions.md): each
// distinct block of a page's history, its id, type and content, is one row
// of revision_contents keyed by (page_id, hash), and a revision keeps the
// ordered list of its blocks' hashes in page_revisions.block_refs. A save
// that changes one block of fifty adds one content row and a list of fifty
// short hashes, not fifty blocks. The old inline column page_revisions.blocks
// is '[]' for every revision since migration 00014.

// StoredBlock is a snapshot block as revision_contents keeps it: the
// content compacted and HTML-escaped, as encoding/json writes a raw message
// (and as the old inline snapshots held it), so that reading it back and
// encoding it for the API gives the bytes it always gave.
func StoredBlock(b quire.SnapshotBlock) (hash, content string, err error) {
	enc, err := json.Marshal(b.Content)
	if err != nil {
		return "", "", fmt.Errorf("block %s: content: %w", b.ID, err)
	}
	content = string(enc)
	sum := sha256.Sum256([]byte(b.ID + "\x00" + b.Type + "\x00" + content))
	// 128 bits: collisions among one page's blocks are out of reach, and
	// the references of a revision stay short.
	return hex.EncodeToString(sum[:16]), content, nil
}

// putBlocks stores the contents of blocks that the page's history does not
// hold yet and returns the revision's references, in order.
func (tx *Tx) putBlocks(ctx context.Context, pageID string, blocks []quire.SnapshotBlock) (string, error) {
	refs := make([]string, len(blocks))
	const perInsert = 100 // 500 parameters a statement
	for start := 0; start < len(blocks); start += perInsert {
		part := blocks[start:min(start+perInsert, len(blocks))]
		var q strings.Builder
		q.WriteString(`INSERT INTO revision_contents (page_id, hash, block_id, type, content) VALUES `)
		args := make([]any, 0, 5*len(part))
		for i, b := range part {
			hash, content, err := StoredBlock(b)
			if err != nil {
				return "", err
			}
			refs[start+i] = hash
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString(`(?, ?, ?, ?, ?)`)
			args = append(args, pageID, hash, b.ID, b.Type, content)
		}
		q.WriteString(` ON CONFLICT (page_id, hash) DO NOTHING`)
		if _, err := tx.exec(ctx, q.String(), args...); err != nil {
			return "", err
		}
	}
	enc, err := json.Marshal(refs)
	return string(enc), err
}

// loadBlocks reads the blocks that refs (a block_refs value) names.
func (tx *Tx) loadBlocks(ctx context.Context, pageID, revisionID, refs string) ([]quire.SnapshotBlock, error) {
	var hashes []string
	if err := json.Unmarshal([]byte(refs), &hashes); err != nil {
		return nil, fmt.Errorf("revision %s: stored block references: %w", revisionID, err)
	}
	out := make([]quire.SnapshotBlock, len(hashes))
	if len(hashes) == 0 {
		return out, nil
	}
	found := make(map[string]quire.SnapshotBlock, len(hashes))
	args := []any{pageID}
	seen := map[string]bool{}
	for _, h := range hashes {
		if !seen[h] {
			seen[h] = true
			args = append(args, h)
		}
	}
	rows, err := tx.query(ctx, `SELECT hash, block_id, type, content FROM revision_contents WHERE page_id = ? AND hash IN (?`+
		strings.Repeat(", ?", len(args)-2)+`)`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var h, content string
		var b quire.SnapshotBlock
		if err := rows.Scan(&h, &b.ID, &b.Type, &content); err != nil {
			return nil, mapErr(err)
		}
		b.Content = json.RawMessage(content)
		found[h] = b
	}
	if err := rows.Err(); err != nil {
		return nil, mapErr(err)
	}
	for i, h := range hashes {
		b, ok := found[h]
		if !ok {
			return nil, fmt.Errorf("revision %s: block content %s is missing", revisionID, h)
		}
		out[i] = b
	}
	return out, nil
}

// refsRow scans a revision row followed by its block_refs column, so that
// scanRevision serves reads that need the references too.
type refsRow struct {
	row  interface{ Scan(...any) error }
	refs *string
}

func (r refsRow) Scan(dest ...any) error { return r.row.Scan(append(dest, r.refs)...) }

// Revision returns one revision of a page with its snapshot.
func (tx *Tx) Revision(ctx context.Context, pageID, id string) (*quire.Revision, error) {
	var refs string
	r, err := scanRevision(refsRow{tx.queryRow(ctx, `SELECT `+revisionColumns+`, block_refs FROM page_revisions WHERE page_id = ? AND id = ?`, pageID, id), &refs}, false)
	if err != nil {
		return nil, err
	}
	if r.Blocks, err = tx.loadBlocks(ctx, pageID, id, refs); err != nil {
		return nil, err
	}
	return r, nil
}

// RevisionMeta returns one revision of a page without its snapshot.
func (tx *Tx) RevisionMeta(ctx context.Context, pageID, id string) (*quire.Revision, error) {
	return scanRevision(tx.queryRow(ctx, `SELECT `+revisionColumns+` FROM page_revisions WHERE page_id = ? AND id = ?`, pageID, id), false)
}

// PublishedBySlug returns the published snapshot of the page whose slug is
// slug, or ENOTFOUND when there is none. Drafts are unreachable here: the
// join goes through published_revision_id only.
func (tx *Tx) PublishedBySlug(ctx context.Context, slug string) (*PublishedPage, error) {
	var p PublishedPage
	var revisionID, refs string
	err := tx.queryRow(ctx, `SELECT p.id, p.slug, r.title, r.id, r.block_refs, r.published_at, r.number
		FROM pages p JOIN page_revisions r ON r.id = p.published_revision_id
		WHERE p.slug = ? AND r.status = 'published'`, slug).
		Scan(&p.PageID, &p.Slug, &p.Title, &revisionID, &refs, scanTime{&p.PublishedAt}, &p.Revision)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errPageNotFound
	}
	if err != nil {
		return nil, mapErr(err)
	}
	if p.Blocks, err = tx.loadBlocks(ctx, p.PageID, revisionID, refs); err != nil {
		return nil, err
	}
	return &p, nil
}
