package quire

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
)

// contentHashOld is ContentHash as it was before its hand-written encoder:
// the reference that pagehash_test.go holds the new one to, bit for bit,
// since stored hashes are compared with freshly computed ones.
func contentHashOld(title, slug string, blocks []SnapshotBlock) string {
	type item struct {
		Type    string `json:"type"`
		Content any    `json:"content"`
	}
	items := make([]item, len(blocks))
	for i, b := range blocks {
		var c any
		_ = json.Unmarshal(b.Content, &c)
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
