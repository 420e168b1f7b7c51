package quire

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
)

// ContentHash fingerprints what a revision snapshots: title, slug and the
// ordered blocks' types and contents. Content is canonicalised (decoded and
// re-encoded, so keys are sorted and numbers normalised) because PostgreSQL
// returns jsonb re-encoded; the same content must give the same hash
// whether it was just validated or read back from either database.
func ContentHash(title, slug string, blocks []SnapshotBlock) string {
	type item struct {
		Type    string `json:"type"`
		Content any    `json:"content"`
	}
	items := make([]item, len(blocks))
	for i, b := range blocks {
		var c any
		_ = json.Unmarshal(b.Content, &c) // stored content is valid JSON
		items[i] = item{b.Type, c}
	}
	enc, _ := json.Marshal(struct {
		Title  string `json:"title"`
		Slug   string `json:"slug"`
		Blocks []item `json:"blocks"`
	}{title, slug, items})
	sum := sha256.Sum256(enc)
	return hex.EncodeToString(sum[:])
}

// Snapshot turns working-copy blocks into revision blocks, in order.
func Snapshot(blocks []Block) []SnapshotBlock {
	out := make([]SnapshotBlock, len(blocks))
	for i, b := range blocks {
		out[i] = SnapshotBlock{ID: b.ID, Type: b.Type, Content: b.Content}
	}
	return out
}
