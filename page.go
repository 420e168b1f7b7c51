package quire

import (
	"encoding/json"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits on pages; see PRODUCT.md §2 and §4. Lengths of text are counted in
// characters (runes), as JSON Schema's maxLength counts them.
const (
	MaxSlugLen  = 200
	MaxTitleLen = 300
	MaxNoteLen  = 1000
	// MaxBlocksPerPage bounds a page's working copy and every snapshot of it.
	MaxBlocksPerPage = 500
	// MaxBlockContentBytes bounds one block's content as the client sends it.
	MaxBlockContentBytes = 64 << 10
	// MaxPageContentBytes bounds the content of all of a page's blocks
	// together, as compact JSON: 500 blocks of 64 KiB would be 32 MiB, more
	// than one request may carry (QUIRE_MAX_PAGE_BODY_BYTES, 4 MiB by
	// default). 3 MiB leaves a megabyte for the rest of the JSON (types,
	// ids, escaping), so a page at its limits can always be saved whole.
	MaxPageContentBytes = 3 << 20
)

// Page is the working copy of a page: what editors change. Front-ends read
// published revisions, never this.
type Page struct {
	ID                    string     `json:"id"`
	Slug                  string     `json:"slug"`
	Title                 string     `json:"title"`
	CreatedBy             string     `json:"created_by"`
	UpdatedBy             string     `json:"updated_by"`
	CreatedAt             time.Time  `json:"created_at"`
	UpdatedAt             time.Time  `json:"updated_at"`
	Version               int64      `json:"version"`
	PublishedRevisionID   *string    `json:"published_revision_id"`
	PublishedAt           *time.Time `json:"published_at"`
	HasUnpublishedChanges bool       `json:"has_unpublished_changes"`
	Blocks                []Block    `json:"blocks"`
	// Schedule is the page's pending scheduled publish/unpublish, in the
	// answer to GET /pages/{id} only.
	Schedule *PageSchedule `json:"schedule,omitempty"`
	// ContentHash fingerprints title, slug and blocks (see ContentHash).
	ContentHash string `json:"-"`
}

// Block is one typed content block of a page's working copy. Content is the
// normalised JSON object that ValidateBlock returned.
type Block struct {
	ID        string          `json:"id"`
	PageID    string          `json:"-"`
	Type      string          `json:"type"`
	Position  int             `json:"position"`
	Content   json.RawMessage `json:"content"`
	CreatedBy string          `json:"created_by"`
	CreatedAt time.Time       `json:"created_at"`
	UpdatedAt time.Time       `json:"updated_at"`
}

// RevisionStatus is where a revision stands in the publishing workflow.
type RevisionStatus string

const (
	RevisionDraft     RevisionStatus = "draft"
	RevisionPublished RevisionStatus = "published"
	RevisionArchived  RevisionStatus = "archived"
)

// Valid reports whether s is one of the known statuses.
func (s RevisionStatus) Valid() bool {
	switch s {
	case RevisionDraft, RevisionPublished, RevisionArchived:
		return true
	}
	return false
}

// Revision is an immutable snapshot of a page: its title, slug and ordered
// blocks as they were when the revision was made. At most one revision of a
// page is published.
type Revision struct {
	ID          string          `json:"id"`
	PageID      string          `json:"page_id"`
	Number      int             `json:"number"`
	Status      RevisionStatus  `json:"status"`
	Title       string          `json:"title"`
	Slug        string          `json:"slug"`
	Blocks      []SnapshotBlock `json:"blocks"`
	Note        string          `json:"note"`
	CreatedBy   string          `json:"created_by_user_id"`
	CreatedAt   time.Time       `json:"created_at"`
	PublishedAt *time.Time      `json:"published_at"`
	ContentHash string          `json:"-"`
}

// SnapshotBlock is a block inside a revision; its place in Revision.Blocks is
// its position. The id is the working-copy block's, so that restoring a
// revision keeps block ids stable for front-ends that key on them.
type SnapshotBlock struct {
	ID      string          `json:"id"`
	Type    string          `json:"type"`
	Content json.RawMessage `json:"content"`
}

// slugRE: lowercase a-z0-9 words joined by single hyphens, in segments
// joined by single slashes.
var slugRE = regexp.MustCompile(`^[a-z0-9]+(?:-[a-z0-9]+)*(?:/[a-z0-9]+(?:-[a-z0-9]+)*)*$`)

// ValidateSlug checks a page slug: "home", "blog/my-post-2".
func ValidateSlug(v *Validator, field, slug string) {
	switch {
	case slug == "":
		v.Add(field, "is required")
	case len(slug) > MaxSlugLen:
		v.Add(field, "must be at most 200 characters")
	case !slugRE.MatchString(slug):
		v.Add(field, "must be lowercase a-z and 0-9 words joined by single hyphens, optionally nested with single slashes, e.g. blog/my-post-2")
	}
}

// ValidateTitle checks a page title: required, one line, bounded.
func ValidateTitle(v *Validator, field, title string) {
	switch {
	case !utf8.ValidString(title):
		v.Add(field, "must be valid UTF-8")
	case strings.TrimSpace(title) == "":
		v.Add(field, "is required")
	case utf8.RuneCountInString(title) > MaxTitleLen:
		v.Add(field, "must be at most 300 characters")
	case hasControl(title, false):
		v.Add(field, "must not contain control characters")
	}
}

// ValidateNote checks a revision note: optional free text, line breaks allowed.
func ValidateNote(v *Validator, field, note string) {
	switch {
	case !utf8.ValidString(note):
		v.Add(field, "must be valid UTF-8")
	case utf8.RuneCountInString(note) > MaxNoteLen:
		v.Add(field, "must be at most 1000 characters")
	case hasControl(note, true):
		v.Add(field, "must not contain control characters other than tabs and line breaks")
	}
}

// hasControl reports whether s holds a C0 or C1 control character or DEL;
// multiline allows tab, line feed and carriage return. NUL matters most:
// PostgreSQL cannot store it in text or jsonb.
func hasControl(s string, multiline bool) bool {
	for _, r := range s {
		if isControl(r, multiline) {
			return true
		}
	}
	return false
}

func isControl(r rune, multiline bool) bool {
	if r < 0x20 {
		return !multiline || (r != '\t' && r != '\n' && r != '\r')
	}
	return r >= 0x7f && r <= 0x9f
}
