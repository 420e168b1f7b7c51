package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/pressly/goose/v3"

	"github.com/quirecms/quire"
)

// snapshotsVersion is migration 00014, written in Go because converting
// inline snapshots into content-addressed blocks needs SHA-256, which SQLite
// does not have. It runs in one transaction, like every migration: the
// tables, the conversion of every revision, or nothing.
const snapshotsVersion = 14

func snapshotsMigration(d Dialect) *goose.Migration {
	return goose.NewGoMigration(snapshotsVersion, &goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error {
		return migrateSnapshots(ctx, &Tx{db: &DB{dialect: d}, q: tx, now: Now()})
	}}, nil)
}

// goMigrationName names a migration written in Go for `quire migrate status`.
func goMigrationName(version int64) string {
	if version == snapshotsVersion {
		return "00014_revision_contents (Go)"
	}
	return fmt.Sprintf("%05d (Go)", version)
}

var snapshotsDDL = []string{
	// One row per distinct block of a page's history. Content is kept as
	// text on both databases: its exact bytes are what the hash covers.
	`CREATE TABLE revision_contents (
		page_id  TEXT NOT NULL REFERENCES pages (id) ON DELETE CASCADE,
		hash     TEXT NOT NULL CHECK (length(hash) = 32),
		block_id TEXT NOT NULL,
		type     TEXT NOT NULL,
		content  TEXT NOT NULL,
		PRIMARY KEY (page_id, hash)
	)`,
	// The ordered hashes of a revision's blocks, as a JSON array.
	`ALTER TABLE page_revisions ADD COLUMN block_refs TEXT NOT NULL DEFAULT '[]'`,
}

// migrateSnapshots creates the tables and moves every revision's inline
// snapshot into them, a batch of revisions at a time (in id order), so that
// memory does not grow with the history.
func migrateSnapshots(ctx context.Context, tx *Tx) error {
	for _, q := range snapshotsDDL {
		if _, err := tx.exec(ctx, q); err != nil {
			return fmt.Errorf("revision contents: %w", err)
		}
	}
	type inline struct {
		id, pageID string
		blocks     []byte
	}
	after := ""
	for {
		rows, err := tx.query(ctx, `SELECT id, page_id, blocks FROM page_revisions WHERE id > ? ORDER BY id LIMIT 200`, after)
		if err != nil {
			return err
		}
		var batch []inline
		for rows.Next() {
			var r inline
			if err := rows.Scan(&r.id, &r.pageID, &r.blocks); err != nil {
				rows.Close()
				return mapErr(err)
			}
			batch = append(batch, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return mapErr(err)
		}
		if len(batch) == 0 {
			return nil
		}
		for _, r := range batch {
			var blocks []quire.SnapshotBlock
			if err := json.Unmarshal(r.blocks, &blocks); err != nil {
				return fmt.Errorf("revision %s: stored blocks: %w", r.id, err)
			}
			refs, err := tx.putBlocks(ctx, r.pageID, blocks)
			if err != nil {
				return fmt.Errorf("revision %s: %w", r.id, err)
			}
			if _, err := tx.exec(ctx, `UPDATE page_revisions SET block_refs = ?, blocks = '[]' WHERE id = ?`, refs, r.id); err != nil {
				return err
			}
		}
		after = batch[len(batch)-1].id
	}
}
