// Package loadtest holds what Quire's benchmarks and its load command
// share: seeding a database with published pages at real size, driving an
// HTTP server with concurrent keep-alive connections, and a bare net/http
// handler to compare against.
package loadtest

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/store" // also registers the sqlite and pgx drivers
)

// Seed writes n published pages straight into the database at dsn (a
// migrated Quire database), each with blocksPerPage blocks and one
// published revision, owned by authorID, and returns their slugs in
// order: prefix+"/page-00000", …
//
// It is a fixture, not a feature: rows go in with multi-row INSERTs in
// one transaction, without the services, so that 10,000 pages take a
// second or two instead of 10,000 requests. Seeded pages are what the
// page service would have stored (same content hashes, so no unpublished
// changes), except that they have no audit entries.
func Seed(ctx context.Context, dsn, authorID, prefix string, n, blocksPerPage int) ([]string, error) {
	blocks := Blocks(0, blocksPerPage)
	// The content is built, not validated page by page; check once that
	// the shape is what validation would store.
	if _, err := quire.ValidateBlocks(blocks); err != nil {
		return nil, fmt.Errorf("seed blocks: %w", err)
	}
	pg := strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
	db, err := openRaw(dsn, pg)
	if err != nil {
		return nil, err
	}
	defer db.Close()

	now := time.Now().UTC().Truncate(time.Microsecond)
	var at any = now
	if !pg {
		at = now.Format(quire.AuditTimeLayout) // how the store keeps time on SQLite
	}
	var pages, blockRows, revisions, contents [][]any
	slugs := make([]string, n)
	for i := range n {
		slug, title := fmt.Sprintf("%s/page-%05d", prefix, i), "Page "+strconv.Itoa(i)
		pageID := store.NewID()
		snap := make([]quire.SnapshotBlock, blocksPerPage)
		for k, b := range Blocks(i, blocksPerPage) {
			snap[k] = quire.SnapshotBlock{ID: store.NewID(), Type: b.Type, Content: b.Content}
			blockRows = append(blockRows, []any{snap[k].ID, pageID, b.Type, k, string(b.Content), authorID, at, at})
		}
		hash := quire.ContentHash(title, slug, snap)
		refs := make([]string, len(snap))
		for k, b := range snap {
			ref, content, err := store.StoredBlock(b)
			if err != nil {
				return nil, err
			}
			refs[k] = ref
			contents = append(contents, []any{pageID, ref, b.ID, b.Type, content})
		}
		refsJSON, err := json.Marshal(refs)
		if err != nil {
			return nil, err
		}
		pages = append(pages, []any{pageID, slug, title, authorID, authorID, at, at, 1, hash})
		revisions = append(revisions, []any{store.NewID(), pageID, 1, string(quire.RevisionPublished), title, slug, string(refsJSON), "seeded", authorID, at, at, hash})
		slugs[i] = slug
	}

	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	err = errors.Join(
		insert(ctx, tx, pg, "pages", "id, slug, title, created_by, updated_by, created_at, updated_at, version, content_hash", pages),
		insert(ctx, tx, pg, "page_blocks", "id, page_id, type, position, content, created_by, created_at, updated_at", blockRows),
		insert(ctx, tx, pg, "revision_contents", "page_id, hash, block_id, type, content", contents),
		insert(ctx, tx, pg, "page_revisions", "id, page_id, number, status, title, slug, block_refs, note, created_by_user_id, created_at, published_at, content_hash", revisions),
	)
	if err == nil {
		// Pages point at their revisions last, in one statement: were the
		// pages inserted pointing at revisions not yet there, SQLite would
		// scan pages for every revision inserted to settle the deferred
		// foreign key. Only seeded pages can match: a page the services
		// published always has its published_revision_id set.
		// The publish time and hash are copied as SetPublishedRevision does.
		_, err = tx.ExecContext(ctx, `UPDATE pages SET
			published_revision_id = (SELECT r.id FROM page_revisions r WHERE r.page_id = pages.id AND r.status = 'published'),
			published_at = (SELECT r.published_at FROM page_revisions r WHERE r.page_id = pages.id AND r.status = 'published'),
			published_hash = (SELECT r.content_hash FROM page_revisions r WHERE r.page_id = pages.id AND r.status = 'published')
			WHERE published_revision_id IS NULL
			AND EXISTS (SELECT 1 FROM page_revisions r WHERE r.page_id = pages.id AND r.status = 'published')`)
	}
	if err != nil {
		_ = tx.Rollback()
		return nil, fmt.Errorf("seed: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	return slugs, nil
}

// openRaw opens dsn the way the store does, with a single connection.
func openRaw(dsn string, pg bool) (*sql.DB, error) {
	driver, source := "pgx", dsn
	if !pg {
		path := strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite://"), "file:")
		if i := strings.IndexByte(path, '?'); i >= 0 {
			path = path[:i]
		}
		driver = "sqlite"
		source = "file:" + (&url.URL{Path: path}).EscapedPath() + "?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_txlock=immediate"
	}
	db, err := sql.Open(driver, source)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	return db, nil
}

// insert writes rows into table with as few statements as the databases'
// parameter limits allow.
func insert(ctx context.Context, tx *sql.Tx, pg bool, table, columns string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	width := len(rows[0])
	per := 30000 / width // under SQLite's 32,766 and PostgreSQL's 65,535 parameters
	for start := 0; start < len(rows); start += per {
		chunk := rows[start:min(start+per, len(rows))]
		var b strings.Builder
		args := make([]any, 0, len(chunk)*width)
		b.WriteString("INSERT INTO " + table + " (" + columns + ") VALUES ")
		for i, row := range chunk {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteByte('(')
			for k := range row {
				if k > 0 {
					b.WriteString(", ")
				}
				if pg {
					b.WriteString("$" + strconv.Itoa(len(args)+k+1))
				} else {
					b.WriteByte('?')
				}
			}
			b.WriteByte(')')
			args = append(args, row...)
		}
		if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("%s: %w", table, err)
		}
	}
	return nil
}

// Blocks returns n blocks of ordinary article content for page i: a
// heading, then paragraphs, lists and quotes in turn, each a few hundred
// bytes of JSON, the size of what editors write. The content is what
// validation stores for it.
func Blocks(i, n int) []quire.BlockInput {
	out := make([]quire.BlockInput, n)
	text := strings.Repeat("Sentence "+strconv.Itoa(i)+" of a page about load testing, long enough to look like prose. ", 3)
	for k := range out {
		var typ string
		var content any
		switch {
		case k == 0:
			typ, content = quire.BlockHeading, map[string]any{"text": "Page " + strconv.Itoa(i), "level": 1}
		case k%4 == 1 || k%4 == 3:
			typ, content = quire.BlockParagraph, map[string]any{"text": text}
		case k%8 == 2:
			typ, content = quire.BlockList, map[string]any{"style": "unordered", "items": []string{"one item", "another item", "a third item"}}
		default:
			typ, content = quire.BlockQuote, map[string]any{"text": "Premature optimisation is the root of all evil.", "cite": "Donald Knuth"}
		}
		b, _ := json.Marshal(content)
		out[k] = quire.BlockInput{Type: typ, Content: b}
	}
	return out
}
