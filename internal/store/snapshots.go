package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
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

// blocksJoin joins a revision r to its blocks in order, one row a block
// (one row of NULLs for a revision without blocks): j.key is the block's
// place and j.value its hash, from the JSON array block_refs by each
// database's table function; c is the stored content, NULL if missing.
// One query reads a revision whole, as one did when blocks were inline.
func (tx *Tx) blocksJoin() string {
	refs := `json_each(r.block_refs) AS j`
	if tx.db.dialect == Postgres {
		refs = `LATERAL jsonb_array_elements_text(r.block_refs::jsonb) WITH ORDINALITY AS j(value, key)`
	}
	return ` LEFT JOIN ` + refs + ` ON 1 = 1 LEFT JOIN revision_contents c ON c.page_id = r.page_id AND c.hash = j.value`
}

// snapshotBlockColumns are what blocksJoin adds to each row, scanned by blockCols.
const snapshotBlockColumns = `j.value, c.block_id, c.type, c.content`

type blockCols struct{ hash, id, typ, content sql.NullString }

func (b *blockCols) dest() []any { return []any{&b.hash, &b.id, &b.typ, &b.content} }

// add appends the row's block, if it has one, to blocks.
func (b *blockCols) add(blocks []quire.SnapshotBlock, revisionID string) ([]quire.SnapshotBlock, error) {
	if !b.hash.Valid {
		return blocks, nil // a revision without blocks
	}
	if !b.id.Valid {
		return nil, fmt.Errorf("revision %s: block content %s is missing", revisionID, b.hash.String)
	}
	return append(blocks, quire.SnapshotBlock{ID: b.id.String, Type: b.typ.String, Content: json.RawMessage(b.content.String)}), nil
}

// withCols scans a row's own columns, then extra ones.
type withCols struct {
	row   interface{ Scan(...any) error }
	extra []any
}

func (w withCols) Scan(dest ...any) error { return w.row.Scan(append(dest, w.extra...)...) }

// discard is n scan destinations that keep nothing: the columns that
// repeat on every block row after the first.
func discard(n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = new(sql.RawBytes)
	}
	return out
}

// revisionColumnsR are revisionColumns of the table aliased r.
var revisionColumnsR = "r." + strings.ReplaceAll(revisionColumns, ", ", ", r.")

// Revision returns one revision of a page with its snapshot.
func (tx *Tx) Revision(ctx context.Context, pageID, id string) (*quire.Revision, error) {
	rows, err := tx.query(ctx, `SELECT `+revisionColumnsR+`, `+snapshotBlockColumns+` FROM page_revisions r`+tx.blocksJoin()+
		` WHERE r.page_id = ? AND r.id = ? ORDER BY j.key`, pageID, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var rev *quire.Revision
	blocks := []quire.SnapshotBlock{}
	skip := discard(strings.Count(revisionColumns, ",") + 1)
	for rows.Next() {
		var b blockCols
		if rev == nil {
			if rev, err = scanRevision(withCols{rows, b.dest()}, false); err != nil {
				return nil, err
			}
		} else if err := rows.Scan(append(skip, b.dest()...)...); err != nil {
			return nil, mapErr(err) // the revision's columns again: read once is enough
		}
		if blocks, err = b.add(blocks, id); err != nil {
			return nil, err
		}
	}
	if err := rows.Err(); err != nil {
		return nil, mapErr(err)
	}
	if rev == nil {
		return nil, errRevisionNotFound
	}
	rev.Blocks = blocks
	return rev, nil
}

// RevisionMeta returns one revision of a page without its snapshot.
func (tx *Tx) RevisionMeta(ctx context.Context, pageID, id string) (*quire.Revision, error) {
	return scanRevision(tx.queryRow(ctx, `SELECT `+revisionColumns+` FROM page_revisions WHERE page_id = ? AND id = ?`, pageID, id), false)
}

// PublishedBySlug returns the published snapshot of the page whose slug is
// slug, or ENOTFOUND when there is none. Drafts are unreachable here: the
// join goes through published_revision_id only.
func (tx *Tx) PublishedBySlug(ctx context.Context, slug string) (*PublishedPage, error) {
	rows, err := tx.query(ctx, `SELECT p.id, p.slug, r.title, r.id, r.published_at, r.number, `+snapshotBlockColumns+`
		FROM pages p JOIN page_revisions r ON r.id = p.published_revision_id`+tx.blocksJoin()+`
		WHERE p.slug = ? AND r.status = 'published' ORDER BY j.key`, slug)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var p *PublishedPage
	var revisionID string
	skip := discard(6)
	for rows.Next() {
		var b blockCols
		if p == nil {
			p = &PublishedPage{Blocks: []quire.SnapshotBlock{}}
			err = rows.Scan(append([]any{&p.PageID, &p.Slug, &p.Title, &revisionID, scanTime{&p.PublishedAt}, &p.Revision}, b.dest()...)...)
		} else {
			err = rows.Scan(append(skip, b.dest()...)...)
		}
		if err != nil {
			return nil, mapErr(err)
		}
		if p.Blocks, err = b.add(p.Blocks, revisionID); err != nil {
			return nil, err
		}
	}
	if err := rows.Err(); err != nil {
		return nil, mapErr(err)
	}
	if p == nil {
		return nil, errPageNotFound
	}
	p.RevisionID = revisionID
	return p, nil
}
