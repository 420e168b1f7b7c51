package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/quirecms/quire"
)

var errBlockNotFound = quire.Errorf(quire.ENOTFOUND, "block not found on this page")

const blockColumns = `id, page_id, type, position, content, created_by, created_at, updated_at`

func scanBlock(row interface{ Scan(...any) error }) (quire.Block, error) {
	var b quire.Block
	var content []byte
	err := row.Scan(&b.ID, &b.PageID, &b.Type, &b.Position, &content, &b.CreatedBy, scanTime{&b.CreatedAt}, scanTime{&b.UpdatedAt})
	if errors.Is(err, sql.ErrNoRows) {
		return b, errBlockNotFound
	}
	b.Content = content
	return b, mapErr(err)
}

// PageBlocks returns the ordered blocks of a page, in one query.
func (tx *Tx) PageBlocks(ctx context.Context, pageID string) ([]quire.Block, error) {
	rows, err := tx.query(ctx, `SELECT `+blockColumns+` FROM page_blocks WHERE page_id = ? ORDER BY position`, pageID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []quire.Block{}
	for rows.Next() {
		b, err := scanBlock(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, mapErr(rows.Err())
}

// Block returns one block of a page.
func (tx *Tx) Block(ctx context.Context, pageID, blockID string) (quire.Block, error) {
	return scanBlock(tx.queryRow(ctx, `SELECT `+blockColumns+` FROM page_blocks WHERE page_id = ? AND id = ?`, pageID, blockID))
}

// ReplaceBlocks makes blocks, in order, the page's whole block list. Blocks
// without an id get a new one; positions are 0..n-1.
func (tx *Tx) ReplaceBlocks(ctx context.Context, pageID, userID string, blocks []quire.Block) error {
	if _, err := tx.exec(ctx, `DELETE FROM page_blocks WHERE page_id = ?`, pageID); err != nil {
		return err
	}
	return tx.InsertBlocks(ctx, pageID, userID, blocks)
}

// InsertBlocks adds blocks, in order, to a page that has none (a new page),
// and fills in what the rows hold: ids, positions and times.
func (tx *Tx) InsertBlocks(ctx context.Context, pageID, userID string, blocks []quire.Block) error {
	// Batches keep each statement well under both databases' parameter limits.
	const batch = 100
	for start := 0; start < len(blocks); start += batch {
		end := min(start+batch, len(blocks))
		var sb strings.Builder
		sb.WriteString(`INSERT INTO page_blocks (` + blockColumns + `) VALUES `)
		args := make([]any, 0, 8*(end-start))
		for i := start; i < end; i++ {
			b := &blocks[i]
			if b.ID == "" {
				b.ID, b.CreatedAt, b.CreatedBy = NewID(), tx.now, userID
			}
			if b.CreatedAt.IsZero() {
				b.CreatedAt, b.CreatedBy = tx.now, userID
			}
			b.PageID, b.Position, b.UpdatedAt = pageID, i, tx.now
			if i > start {
				sb.WriteString(", ")
			}
			sb.WriteString("(?, ?, ?, ?, ?, ?, ?, ?)")
			args = append(args, b.ID, b.PageID, b.Type, b.Position, string(b.Content), b.CreatedBy, b.CreatedAt, b.UpdatedAt)
		}
		if _, err := tx.exec(ctx, sb.String(), args...); err != nil {
			return err
		}
	}
	return nil
}

// offset lifts positions out of the way so that renumbering never collides
// with the unique (page_id, position) constraint, which SQLite checks row
// by row.
const offset = 1_000_000

// shiftBlocks adds delta (±1) to the position of every block of the page
// at or after from, through the band [offset, 2·offset); a block parked at
// 2·offset by MoveBlock is left alone.
func (tx *Tx) shiftBlocks(ctx context.Context, pageID string, from, delta int) error {
	if _, err := tx.exec(ctx, `UPDATE page_blocks SET position = position + ? WHERE page_id = ? AND position >= ? AND position < ?`,
		offset+delta, pageID, from, offset); err != nil {
		return err
	}
	_, err := tx.exec(ctx, `UPDATE page_blocks SET position = position - ? WHERE page_id = ? AND position >= ? AND position < ?`,
		offset, pageID, offset, 2*offset)
	return err
}

// CountBlocks returns how many blocks a page has.
func (tx *Tx) CountBlocks(ctx context.Context, pageID string) (int, error) {
	var n int
	err := tx.queryRow(ctx, `SELECT count(*) FROM page_blocks WHERE page_id = ?`, pageID).Scan(&n)
	return n, mapErr(err)
}

// InsertBlock adds b at b.Position (clamped to the end), moving later blocks down.
func (tx *Tx) InsertBlock(ctx context.Context, b *quire.Block) error {
	n, err := tx.CountBlocks(ctx, b.PageID)
	if err != nil {
		return err
	}
	if b.Position < 0 || b.Position > n {
		b.Position = n
	}
	if err := tx.shiftBlocks(ctx, b.PageID, b.Position, 1); err != nil {
		return err
	}
	b.ID, b.CreatedAt, b.UpdatedAt = NewID(), tx.now, tx.now
	_, err = tx.exec(ctx, `INSERT INTO page_blocks (`+blockColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		b.ID, b.PageID, b.Type, b.Position, string(b.Content), b.CreatedBy, b.CreatedAt, b.UpdatedAt)
	return err
}

// UpdateBlockContent replaces a block's type and content.
func (tx *Tx) UpdateBlockContent(ctx context.Context, b *quire.Block) error {
	b.UpdatedAt = tx.now
	return tx.execOne(ctx, errBlockNotFound, `UPDATE page_blocks SET type = ?, content = ?, updated_at = ? WHERE page_id = ? AND id = ?`,
		b.Type, string(b.Content), b.UpdatedAt, b.PageID, b.ID)
}

// MoveBlock moves a block to position to (clamped), keeping positions dense.
func (tx *Tx) MoveBlock(ctx context.Context, pageID, blockID string, to int) (int, error) {
	b, err := tx.Block(ctx, pageID, blockID)
	if err != nil {
		return 0, err
	}
	n, err := tx.CountBlocks(ctx, pageID)
	if err != nil {
		return 0, err
	}
	to = max(0, min(to, n-1))
	if to == b.Position {
		return to, nil
	}
	// Park the block, close its gap, open the new one, land it.
	if _, err := tx.exec(ctx, `UPDATE page_blocks SET position = ? WHERE id = ?`, 2*offset, blockID); err != nil {
		return 0, err
	}
	if err := tx.shiftBlocks(ctx, pageID, b.Position+1, -1); err != nil {
		return 0, err
	}
	if err := tx.shiftBlocks(ctx, pageID, to, 1); err != nil {
		return 0, err
	}
	_, err = tx.exec(ctx, `UPDATE page_blocks SET position = ?, updated_at = ? WHERE id = ?`, to, tx.now, blockID)
	return to, err
}

// DeleteBlock removes a block and closes the gap it leaves.
func (tx *Tx) DeleteBlock(ctx context.Context, pageID, blockID string) error {
	b, err := tx.Block(ctx, pageID, blockID)
	if err != nil {
		return err
	}
	if err := tx.execOne(ctx, errBlockNotFound, `DELETE FROM page_blocks WHERE id = ?`, blockID); err != nil {
		return err
	}
	return tx.shiftBlocks(ctx, pageID, b.Position+1, -1)
}
