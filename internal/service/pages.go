package service

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/store"
)

// Pages manages pages, their blocks and revisions: the editor's side.
// Changes that affect what the public sees call invalidate after commit.
type Pages struct {
	db         *store.DB
	invalidate func(slugs ...string)
	jobs       JobQueue // scheduled publishing (schedule.go)
}

// NewPages returns the page service; invalidate is told every slug whose
// public answer may have changed, after the change commits.
func NewPages(db *store.DB, invalidate func(slugs ...string)) *Pages {
	if invalidate == nil {
		invalidate = func(...string) {}
	}
	return &Pages{db: db, invalidate: invalidate}
}

// Page audit actions.
const (
	ActionPageCreate    = "page.create"
	ActionPageUpdate    = "page.update"
	ActionPageDelete    = "page.delete"
	ActionBlocksReplace = "page.blocks_replace"
	ActionPageSave      = "page.save" // title or slug, and blocks, in one save
	ActionBlockCreate   = "page.block_create"
	ActionBlockUpdate   = "page.block_update"
	ActionBlockDelete   = "page.block_delete"
	ActionRevisionSave  = "page.revision_create"
	ActionPublish       = "page.publish"
	ActionUnpublish     = "page.unpublish"
	ActionRestore       = "page.restore"
)

// NewPage is the body of POST /pages.
type NewPage struct {
	Slug   string             `json:"slug"`
	Title  string             `json:"title"`
	Blocks []quire.BlockInput `json:"blocks"`
}

// PagePatch is the body of PATCH /pages/{id}.
type PagePatch struct {
	Slug  *string `json:"slug"`
	Title *string `json:"title"`
}

// canEdit: editors and admins edit every page, authors their own.
func canEdit(p *quire.Principal, page *quire.Page) error {
	if err := require(p, quire.RoleAuthor); err != nil {
		return err
	}
	if !p.Can(quire.RoleEditor) && page.CreatedBy != p.UserID {
		return quire.Errorf(quire.EFORBIDDEN, "authors can change only their own pages")
	}
	return nil
}

// validateBlocks validates a whole block list and checks, in tx, that every
// image block names live media.
func validateBlocks(ctx context.Context, tx *store.Tx, in []quire.BlockInput) ([]quire.Block, error) {
	blocks, err := newBlocks(in)
	if err != nil {
		return nil, err
	}
	return blocks, checkBlockMedia(ctx, tx, blocks)
}

// newBlocks validates a whole block list: the part of validateBlocks that
// needs no transaction, so that a create does it before taking the writer.
func newBlocks(in []quire.BlockInput) ([]quire.Block, error) {
	contents, err := quire.ValidateBlocks(in)
	if err != nil {
		return nil, err
	}
	blocks := make([]quire.Block, len(in))
	for i := range in {
		blocks[i] = quire.Block{ID: in[i].ID, Type: in[i].Type, Content: contents[i]}
	}
	return blocks, nil
}

func checkBlockMedia(ctx context.Context, tx *store.Tx, blocks []quire.Block) error {
	return checkMedia(ctx, tx, blocks, func(i int) string { return fmt.Sprintf("blocks[%d].content.media_id", i) })
}

// checkMedia refuses image blocks whose media is missing or deleted, with
// one query for the whole list, and holds the media it accepts against a
// concurrent purge or delete until the write commits.
func checkMedia(ctx context.Context, tx *store.Tx, blocks []quire.Block, field func(i int) string) error {
	ids := make([]string, 0)
	index := map[int]string{}
	for i, b := range blocks {
		if b.Type != quire.BlockImage {
			continue
		}
		var c struct {
			MediaID string `json:"media_id"`
		}
		if err := json.Unmarshal(b.Content, &c); err == nil && c.MediaID != "" {
			ids = append(ids, c.MediaID)
			index[i] = c.MediaID
		}
	}
	if len(ids) == 0 {
		return nil
	}
	// Locked until commit: a purge of the same media waits for this write
	// (and then sees its block), or this write waits for the purge (and
	// then finds the media gone).
	live, err := tx.ShareLiveMedia(ctx, ids)
	if err != nil {
		return err
	}
	var v quire.Validator
	for i := range blocks {
		if id, ok := index[i]; ok {
			if _, ok := live[id]; !ok {
				v.Add(field(i), "names media that does not exist or was deleted")
			}
		}
	}
	return v.Err()
}

// rehash recomputes the locked page's content hash from its stored blocks
// and writes title, slug and hash; it returns the blocks.
func rehash(ctx context.Context, tx *store.Tx, page *quire.Page) ([]quire.Block, error) {
	blocks, err := tx.PageBlocks(ctx, page.ID)
	if err != nil {
		return nil, err
	}
	page.ContentHash = quire.ContentHash(page.Title, page.Slug, quire.Snapshot(blocks))
	return blocks, tx.UpdatePageFields(ctx, page)
}

// reload reads the page back after a change, with blocks and derived fields.
func reload(ctx context.Context, tx *store.Tx, id string) (*quire.Page, error) {
	page, err := tx.Page(ctx, id)
	if err != nil {
		return nil, err
	}
	if page.Blocks, err = tx.PageBlocks(ctx, id); err != nil {
		return nil, err
	}
	return page, nil
}

func pageFields(p *quire.Page) map[string]any {
	return map[string]any{"slug": p.Slug, "title": p.Title}
}

// Create adds a page, optionally with its first blocks.
func (s *Pages) Create(ctx context.Context, p *quire.Principal, in NewPage) (*quire.Page, error) {
	if err := require(p, quire.RoleAuthor); err != nil {
		return nil, err
	}
	var v quire.Validator
	quire.ValidateSlug(&v, "slug", in.Slug)
	quire.ValidateTitle(&v, "title", in.Title)
	if err := v.Err(); err != nil {
		return nil, err
	}
	// Everything that needs no database is done before the transaction:
	// on SQLite the writer runs one transaction at a time, and a create's
	// time in it is what bounds creates per second (docs/performance.md).
	blocks, err := newBlocks(in.Blocks)
	if err != nil {
		return nil, err
	}
	if err := keepBlockIDs(blocks, nil); err != nil {
		return nil, err
	}
	page := &quire.Page{Slug: in.Slug, Title: in.Title, CreatedBy: p.UserID, UpdatedBy: p.UserID,
		ContentHash: quire.ContentHash(in.Title, in.Slug, quire.Snapshot(blocks))}
	after := pageFields(page)
	after["blocks"] = len(blocks)
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := checkBlockMedia(ctx, tx, blocks); err != nil {
			return err
		}
		if err := tx.CreatePage(ctx, page); err != nil {
			return err
		}
		// A new page has no blocks to delete, and its answer is what was
		// written: nothing is read back.
		if err := tx.InsertBlocks(ctx, page.ID, p.UserID, blocks); err != nil {
			return err
		}
		// The audit entry and the event go last: on PostgreSQL they take
		// the chain's lock, held until commit, so nothing else may run
		// after them (docs/performance.md, "Writes").
		if err := audit(ctx, tx, p.UserID, ActionPageCreate, "page", page.ID, quire.Changes(nil, after)); err != nil {
			return err
		}
		return emit(ctx, tx, pageEvent(quire.EventPageCreated, page, 0, false))
	})
	if err != nil {
		return nil, err
	}
	page.Blocks = blocks
	return page, nil
}

// Get returns a page with its ordered blocks (two queries, whatever the
// number of blocks).
func (s *Pages) Get(ctx context.Context, p *quire.Principal, id string) (*quire.Page, error) {
	if err := require(p, quire.RoleViewer); err != nil {
		return nil, err
	}
	r := s.db.Reader()
	page, err := reload(ctx, r, id)
	if err != nil {
		return nil, err
	}
	if page.Schedule, err = r.PageSchedule(ctx, id, false); quire.ErrorCode(err) == quire.ENOTFOUND {
		err = nil
	}
	return page, err
}

// List returns pages without blocks. resume is store.Pages's: where a
// filtered window stopped.
func (s *Pages) List(ctx context.Context, p *quire.Principal, f store.PageFilter) (pages []*quire.Page, resume *store.PageCursor, err error) {
	if err := require(p, quire.RoleViewer); err != nil {
		return nil, nil, err
	}
	return s.db.Reader().Pages(ctx, f)
}

// change runs fn on a locked page that p may edit, then rehashes the
// working copy, writes the audit entry fn describes and returns the page.
func (s *Pages) change(ctx context.Context, p *quire.Principal, id string, ifMatch int64,
	fn func(tx *store.Tx, page *quire.Page) (action string, details map[string]any, err error)) (*quire.Page, error) {
	var out *quire.Page
	var slugs []string
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		page, err := tx.Page(ctx, id)
		if err != nil {
			return err
		}
		if err := canEdit(p, page); err != nil {
			return err
		}
		if page, err = tx.LockPage(ctx, id, ifMatch, p.UserID); err != nil {
			return err
		}
		oldSlug := page.Slug
		action, details, err := fn(tx, page)
		if err != nil {
			return err
		}
		blocks, err := rehash(ctx, tx, page)
		if err != nil {
			return err
		}
		// Changes that add content must leave the page within its limit;
		// renaming a page or removing a block is always allowed.
		if action != ActionPageUpdate && action != ActionBlockDelete {
			if err := quire.CheckPageContentSize(blocks); err != nil {
				return err
			}
		}
		if page.PublishedRevisionID != nil && page.Slug != oldSlug {
			slugs = []string{oldSlug, page.Slug}
		}
		// Read back before the audit entry, which takes the chain's lock.
		if out, err = reload(ctx, tx, id); err != nil {
			return err
		}
		if err := audit(ctx, tx, p.UserID, action, "page", id, details); err != nil {
			return err
		}
		ev := pageEvent(quire.EventPageUpdated, page, 0, slugs != nil)
		if page.Slug != oldSlug {
			ev.PreviousSlug = oldSlug
		}
		return emit(ctx, tx, ev)
	})
	if err != nil {
		return nil, err
	}
	s.invalidate(slugs...)
	return out, nil
}

// PageSave is the editor's whole save: title, slug and block list under
// one version. A nil part is left as it is; Blocks, when set, replaces the
// whole list (an empty list removes every block).
type PageSave struct {
	PagePatch
	Blocks *[]quire.BlockInput
}

// Update changes a page's title or slug (PATCH /pages/{id}).
func (s *Pages) Update(ctx context.Context, p *quire.Principal, id string, ifMatch int64, in PagePatch) (*quire.Page, error) {
	return s.Save(ctx, p, id, ifMatch, PageSave{PagePatch: in})
}

// ReplaceBlocks makes in the page's whole block list (PUT /pages/{id}/blocks).
func (s *Pages) ReplaceBlocks(ctx context.Context, p *quire.Principal, id string, ifMatch int64, in []quire.BlockInput) (*quire.Page, error) {
	return s.Save(ctx, p, id, ifMatch, PageSave{Blocks: &in})
}

// Save changes title, slug and block list together: one transaction, one
// version, one audit entry and one event, so that a save whose blocks are
// refused leaves title and slug as they were. Update and ReplaceBlocks
// are this with one part set; their audit actions stay page.update and
// page.blocks_replace, and a save of both is page.save.
func (s *Pages) Save(ctx context.Context, p *quire.Principal, id string, ifMatch int64, in PageSave) (*quire.Page, error) {
	var v quire.Validator
	if in.Slug != nil {
		quire.ValidateSlug(&v, "slug", *in.Slug)
	}
	if in.Title != nil {
		quire.ValidateTitle(&v, "title", *in.Title)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	fields := in.Slug != nil || in.Title != nil
	return s.change(ctx, p, id, ifMatch, func(tx *store.Tx, page *quire.Page) (string, map[string]any, error) {
		before := pageFields(page)
		if in.Slug != nil {
			page.Slug = *in.Slug
		}
		if in.Title != nil {
			page.Title = *in.Title
		}
		details := quire.Changes(before, pageFields(page))
		if in.Blocks == nil {
			return ActionPageUpdate, details, nil
		}
		was, now, err := replaceBlocks(ctx, tx, p, id, *in.Blocks)
		if err != nil {
			return "", nil, err
		}
		// The counts are kept even when equal: they say the list was replaced.
		details["before"].(map[string]any)["blocks"] = was
		details["after"].(map[string]any)["blocks"] = now
		if !fields {
			return ActionBlocksReplace, details, nil
		}
		return ActionPageSave, details, nil
	})
}

// replaceBlocks validates in and makes it the page's block list, keeping
// the ids (and creation) of the blocks it names; it returns the number of
// blocks before and after.
func replaceBlocks(ctx context.Context, tx *store.Tx, p *quire.Principal, id string, in []quire.BlockInput) (was, now int, err error) {
	blocks, err := validateBlocks(ctx, tx, in)
	if err != nil {
		return 0, 0, err
	}
	current, err := tx.PageBlocks(ctx, id)
	if err != nil {
		return 0, 0, err
	}
	if err := keepBlockIDs(blocks, current); err != nil {
		return 0, 0, err
	}
	return len(current), len(blocks), tx.ReplaceBlocks(ctx, id, p.UserID, blocks)
}

// keepBlockIDs lets a whole-list save name existing blocks by id: those
// keep their id and creation; ids that are not the page's, or named twice,
// are refused.
func keepBlockIDs(blocks []quire.Block, current []quire.Block) error {
	existing := make(map[string]quire.Block, len(current))
	for _, b := range current {
		existing[b.ID] = b
	}
	seen := map[string]bool{}
	var v quire.Validator
	for i := range blocks {
		id := blocks[i].ID
		if id == "" {
			continue
		}
		old, ok := existing[id]
		switch {
		case !ok:
			v.Add(fmt.Sprintf("blocks[%d].id", i), "is not a block of this page (leave it out for a new block)")
		case seen[id]:
			v.Add(fmt.Sprintf("blocks[%d].id", i), "names a block that appears earlier in the list")
		default:
			blocks[i].CreatedAt, blocks[i].CreatedBy = old.CreatedAt, old.CreatedBy
		}
		seen[id] = true
	}
	return v.Err()
}

// NewBlock is the body of POST /pages/{id}/blocks.
type NewBlock struct {
	Type     string          `json:"type"`
	Content  json.RawMessage `json:"content"`
	Position *int            `json:"position"` // default: at the end
}

// BlockPatch is the body of PATCH /pages/{id}/blocks/{block_id}.
type BlockPatch struct {
	Type     *string         `json:"type"`
	Content  json.RawMessage `json:"content"`
	Position *int            `json:"position"`
}

func oneBlock(ctx context.Context, tx *store.Tx, in quire.BlockInput) (json.RawMessage, error) {
	content, err := quire.ValidateSingleBlock(in)
	if err != nil {
		return nil, err
	}
	b := []quire.Block{{Type: in.Type, Content: content}}
	return content, checkMedia(ctx, tx, b, func(int) string { return "content.media_id" })
}

// validPosition refuses a negative position, which the store would
// otherwise quietly read as "at the end" (AddBlock) or "first" (a move).
func validPosition(pos *int) error {
	if pos != nil && *pos < 0 {
		return quire.Invalid(quire.FieldError{Field: "position", Message: "must be 0 or more"})
	}
	return nil
}

// AddBlock inserts one block.
func (s *Pages) AddBlock(ctx context.Context, p *quire.Principal, id string, ifMatch int64, in NewBlock) (*quire.Page, error) {
	if err := validPosition(in.Position); err != nil {
		return nil, err
	}
	return s.change(ctx, p, id, ifMatch, func(tx *store.Tx, page *quire.Page) (string, map[string]any, error) {
		content, err := oneBlock(ctx, tx, quire.BlockInput{Type: in.Type, Content: in.Content})
		if err != nil {
			return "", nil, err
		}
		n, err := tx.CountBlocks(ctx, id)
		if err != nil {
			return "", nil, err
		}
		if n >= quire.MaxBlocksPerPage {
			return "", nil, quire.Errorf(quire.ETOOLARGE, "a page has at most %d blocks", quire.MaxBlocksPerPage)
		}
		b := &quire.Block{PageID: id, Type: in.Type, Content: content, CreatedBy: p.UserID, Position: -1}
		if in.Position != nil {
			b.Position = *in.Position
		}
		if err := tx.InsertBlock(ctx, b); err != nil {
			return "", nil, err
		}
		return ActionBlockCreate, map[string]any{"after": map[string]any{"block_id": b.ID, "type": b.Type, "position": b.Position}}, nil
	})
}

// UpdateBlock changes one block's content (and type) and/or moves it.
func (s *Pages) UpdateBlock(ctx context.Context, p *quire.Principal, id, blockID string, ifMatch int64, in BlockPatch) (*quire.Page, error) {
	if err := validPosition(in.Position); err != nil {
		return nil, err
	}
	return s.change(ctx, p, id, ifMatch, func(tx *store.Tx, page *quire.Page) (string, map[string]any, error) {
		b, err := tx.Block(ctx, id, blockID)
		if err != nil {
			return "", nil, err
		}
		before := map[string]any{"type": b.Type, "position": b.Position, "content": json.RawMessage(b.Content)}
		if in.Type != nil || in.Content != nil {
			typ, content := b.Type, json.RawMessage(b.Content)
			if in.Type != nil {
				typ = *in.Type
			}
			if in.Content != nil {
				content = in.Content
			}
			if b.Content, err = oneBlock(ctx, tx, quire.BlockInput{Type: typ, Content: content}); err != nil {
				return "", nil, err
			}
			b.Type = typ
			if err := tx.UpdateBlockContent(ctx, &b); err != nil {
				return "", nil, err
			}
		}
		if in.Position != nil {
			if b.Position, err = tx.MoveBlock(ctx, id, blockID, *in.Position); err != nil {
				return "", nil, err
			}
		}
		after := map[string]any{"type": b.Type, "position": b.Position, "content": json.RawMessage(b.Content)}
		d := quire.Changes(toAny(before), toAny(after))
		d["block_id"] = blockID
		return ActionBlockUpdate, d, nil
	})
}

// toAny round-trips v through JSON so that Changes compares plain values.
func toAny(m map[string]any) map[string]any {
	b, _ := json.Marshal(m)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return out
}

// DeleteBlock removes one block.
func (s *Pages) DeleteBlock(ctx context.Context, p *quire.Principal, id, blockID string, ifMatch int64) (*quire.Page, error) {
	return s.change(ctx, p, id, ifMatch, func(tx *store.Tx, page *quire.Page) (string, map[string]any, error) {
		b, err := tx.Block(ctx, id, blockID)
		if err != nil {
			return "", nil, err
		}
		if err := tx.DeleteBlock(ctx, id, blockID); err != nil {
			return "", nil, err
		}
		return ActionBlockDelete, map[string]any{"before": map[string]any{"block_id": blockID, "type": b.Type, "position": b.Position}}, nil
	})
}

// Delete removes a page. Editors and admins may delete any page; authors
// only their own, and only if it was never published.
func (s *Pages) Delete(ctx context.Context, p *quire.Principal, id string, ifMatch int64) error {
	var slug string
	published := false
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		page, err := tx.Page(ctx, id)
		if err != nil {
			return err
		}
		if err := canEdit(p, page); err != nil {
			return err
		}
		if page, err = tx.LockPage(ctx, id, ifMatch, p.UserID); err != nil {
			return err
		}
		if !p.Can(quire.RoleEditor) {
			ever, err := tx.EverPublished(ctx, id)
			if err != nil {
				return err
			}
			if ever {
				return quire.Errorf(quire.EFORBIDDEN, "authors cannot delete a page that was ever published; ask an editor")
			}
		}
		slug, published = page.Slug, page.PublishedRevisionID != nil
		if err := tx.DeletePage(ctx, id); err != nil {
			return err
		}
		if err := audit(ctx, tx, p.UserID, ActionPageDelete, "page", id, quire.Changes(pageFields(page), nil)); err != nil {
			return err
		}
		return emit(ctx, tx, pageEvent(quire.EventPageDeleted, page, 0, published))
	})
	if err != nil {
		return err
	}
	if published {
		s.invalidate(slug)
	}
	return nil
}
