package quire

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Block change kinds of a revision diff.
const (
	BlockAdded   = "added"
	BlockRemoved = "removed"
	BlockChanged = "changed" // type or content changed (and maybe moved too)
	BlockMoved   = "moved"   // only its place among the other blocks changed
)

// DiffSide names one side of a diff: a revision, or the working copy.
type DiffSide struct {
	RevisionID  *string         `json:"revision_id"`
	Number      *int            `json:"number"`
	WorkingCopy bool            `json:"working_copy"`
	Title       string          `json:"-"`
	Slug        string          `json:"-"`
	Blocks      []SnapshotBlock `json:"-"`
}

// RevisionSide is the diff side of a revision.
func RevisionSide(r *Revision) DiffSide {
	return DiffSide{RevisionID: &r.ID, Number: &r.Number, Title: r.Title, Slug: r.Slug, Blocks: r.Blocks}
}

// WorkingSide is the diff side of a page's working copy.
func WorkingSide(p *Page) DiffSide {
	return DiffSide{WorkingCopy: true, Title: p.Title, Slug: p.Slug, Blocks: Snapshot(p.Blocks)}
}

// FieldChange is a page field that differs.
type FieldChange struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// BlockChange is what happened to one block, matched by its stable id.
// Positions are 0-based places in each side's block list; Moved says the
// block changed place relative to the blocks both sides share (a block
// pushed down by an insertion above it has not moved).
type BlockChange struct {
	ID          string          `json:"id"`
	Change      string          `json:"change"`
	Type        string          `json:"type"`
	OldType     string          `json:"old_type,omitempty"`
	OldPosition *int            `json:"old_position"`
	NewPosition *int            `json:"new_position"`
	Moved       bool            `json:"moved"`
	Content     json.RawMessage `json:"content,omitempty"`   // of an added or removed block
	Patch       []PatchOp       `json:"patch,omitempty"`     // of a changed block's content
	TextDiff    []TextChange    `json:"text_diff,omitempty"` // of its visible text, when that changed
}

// DiffSummary counts blocks by what happened to them.
type DiffSummary struct {
	Added     int `json:"added"`
	Removed   int `json:"removed"`
	Changed   int `json:"changed"`
	Moved     int `json:"moved"`
	Unchanged int `json:"unchanged"`
}

// RevisionDiff is what changed from one side to the other. Blocks lists
// the blocks of To that are new, changed or moved, in To's order, then the
// blocks of From that To no longer has, in From's order; unchanged blocks
// are only counted.
type RevisionDiff struct {
	From      DiffSide      `json:"from"`
	To        DiffSide      `json:"to"`
	Identical bool          `json:"identical"`
	Title     *FieldChange  `json:"title"`
	Slug      *FieldChange  `json:"slug"`
	Blocks    []BlockChange `json:"blocks"`
	Summary   DiffSummary   `json:"summary"`
}

// Diff compares two snapshots of a page.
func Diff(from, to DiffSide) (*RevisionDiff, error) {
	d := &RevisionDiff{From: from, To: to, Blocks: []BlockChange{}}
	if from.Title != to.Title {
		d.Title = &FieldChange{from.Title, to.Title}
	}
	if from.Slug != to.Slug {
		d.Slug = &FieldChange{from.Slug, to.Slug}
	}
	oldPos := make(map[string]int, len(from.Blocks))
	for i, b := range from.Blocks {
		oldPos[b.ID] = i
	}
	newPos := make(map[string]int, len(to.Blocks))
	for i, b := range to.Blocks {
		newPos[b.ID] = i
	}
	moved := movedBlocks(from.Blocks, to.Blocks, oldPos, newPos)
	for j, b := range to.Blocks {
		i, kept := oldPos[b.ID]
		if !kept {
			d.Blocks = append(d.Blocks, BlockChange{ID: b.ID, Change: BlockAdded, Type: b.Type, NewPosition: ptr(j), Content: b.Content})
			d.Summary.Added++
			continue
		}
		c, err := blockChange(from.Blocks[i], b)
		if err != nil {
			return nil, err
		}
		c.OldPosition, c.NewPosition, c.Moved = ptr(i), ptr(j), moved[b.ID]
		switch {
		case c.Change == BlockChanged:
			d.Summary.Changed++
		case c.Moved:
			c.Change = BlockMoved
			d.Summary.Moved++
		default:
			d.Summary.Unchanged++
			continue
		}
		d.Blocks = append(d.Blocks, c)
	}
	for i, b := range from.Blocks {
		if _, kept := newPos[b.ID]; !kept {
			d.Blocks = append(d.Blocks, BlockChange{ID: b.ID, Change: BlockRemoved, Type: b.Type, OldPosition: ptr(i), Content: b.Content})
			d.Summary.Removed++
		}
	}
	d.Identical = d.Title == nil && d.Slug == nil && len(d.Blocks) == 0
	return d, nil
}

func ptr(i int) *int { return &i }

// movedBlocks finds the shared blocks outside a longest common subsequence
// of the two orders: the fewest blocks whose moving explains the new order.
func movedBlocks(from, to []SnapshotBlock, oldPos, newPos map[string]int) map[string]bool {
	var a, b []string
	for _, x := range from {
		if _, ok := newPos[x.ID]; ok {
			a = append(a, x.ID)
		}
	}
	for _, x := range to {
		if _, ok := oldPos[x.ID]; ok {
			b = append(b, x.ID)
		}
	}
	moved := map[string]bool{}
	for _, e := range diffSeq(a, b) {
		if e.Kind == editInsert {
			moved[b[e.B]] = true
		}
	}
	return moved
}

// blockChange compares one block's two versions; Change is BlockChanged
// when its type or content differs, else empty.
func blockChange(a, b SnapshotBlock) (BlockChange, error) {
	c := BlockChange{ID: b.ID, Type: b.Type}
	if a.Type != b.Type {
		c.OldType, c.Change = a.Type, BlockChanged
	}
	if bytes.Equal(a.Content, b.Content) {
		return c, nil
	}
	ops, err := JSONPatch(a.Content, b.Content)
	if err != nil {
		return c, fmt.Errorf("block %s: stored content: %w", b.ID, err)
	}
	if len(ops) == 0 {
		return c, nil // the same content, encoded differently
	}
	c.Change, c.Patch = BlockChanged, ops
	if ta, tb := visibleText(a), visibleText(b); ta != tb {
		c.TextDiff = WordDiff(ta, tb)
	}
	return c, nil
}

// visibleText is the text of a block that a reader sees: rich_text html
// without markup, the text of paragraphs, headings and quotes.
func visibleText(b SnapshotBlock) string {
	var c struct {
		HTML string `json:"html"`
		Text string `json:"text"`
	}
	_ = json.Unmarshal(b.Content, &c)
	switch b.Type {
	case BlockRichText:
		return VisibleText(c.HTML)
	case BlockParagraph, BlockHeading, BlockQuote:
		return c.Text
	}
	return ""
}
