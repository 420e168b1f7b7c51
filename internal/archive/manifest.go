// Package archive writes and reads Quire's portable archive: one tar file
// holding a JSON Lines file per table, the media bytes named by their
// SHA-256, River's pending jobs, and manifest.json (the last entry) with the
// format, the schema version and the size and SHA-256 of every other part.
// `quire export`, `quire import`, and `quire backup`/`restore` on
// PostgreSQL use it; see docs/operations.md.
package archive

import (
	"fmt"

	"github.com/quirecms/quire/internal/store"
)

// Format names the archive format; FormatVersion changes when a reader of
// the previous version could not read the new one.
const (
	Format        = "quire-archive"
	FormatVersion = 1
	manifestName  = "manifest.json"
	jobsName      = "jobs.jsonl"
)

// Manifest is manifest.json.
type Manifest struct {
	Format        string `json:"format"`
	FormatVersion int    `json:"format_version"`
	// SchemaVersion is the source's highest applied migration (goose).
	SchemaVersion  int64       `json:"schema_version"`
	SourceDatabase string      `json:"source_database"`
	CreatedAt      string      `json:"created_at"`
	Tables         []TablePart `json:"tables"`
	Media          []MediaPart `json:"media"`
	Jobs           Part        `json:"jobs"`
}

// Part is one entry of the tar file.
type Part struct {
	File   string `json:"file"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	// Rows counts lines, for table and job parts.
	Rows int64 `json:"rows,omitempty"`
}

// TablePart is a table's rows, one JSON array per line in Columns order.
type TablePart struct {
	Name    string                 `json:"name"`
	Columns []store.PortableColumn `json:"columns"`
	Part
}

// MediaPart says which stored object (by its storage key) holds which bytes.
type MediaPart struct {
	Key string `json:"key"`
	Part
}

func tableFile(name string) string { return "tables/" + name + ".jsonl" }
func mediaFile(sum string) string  { return "media/" + sum }

// PartError names the part of an archive at fault.
type PartError struct {
	Part string
	Err  error
}

func (e *PartError) Error() string { return fmt.Sprintf("archive part %s: %v", e.Part, e.Err) }
func (e *PartError) Unwrap() error { return e.Err }
