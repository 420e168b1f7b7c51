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
//
// The hashed bytes are exactly what json.Marshal wrote for
// {title, slug, blocks: [{type, content}]} with each content unmarshalled
// into an any: stored hashes (content_hash, published_hash) are compared
// with fresh ones, so a single changed byte would make every page look
// changed. The envelope is written by hand and content by
// appendCanonicalJSON, which falls back to encoding/json for what it does
// not handle; pagehash_test.go checks the result against the old code.
func ContentHash(title, slug string, blocks []SnapshotBlock) string {
	n := 64 + len(title) + len(slug)
	for i := range blocks {
		n += 32 + len(blocks[i].Type) + len(blocks[i].Content)
	}
	b := make([]byte, 0, n+n/8)
	b = append(b, `{"title":`...)
	b = appendJSONString(b, title)
	b = append(b, `,"slug":`...)
	b = appendJSONString(b, slug)
	b = append(b, `,"blocks":[`...)
	for i := range blocks {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"type":`...)
		b = appendJSONString(b, blocks[i].Type)
		b = append(b, `,"content":`...)
		b = appendHashedContent(b, blocks[i].Content)
		b = append(b, '}')
	}
	b = append(b, "]}"...)
	sum := sha256.Sum256(b)
	var h [2 * sha256.Size]byte
	hex.Encode(h[:], sum[:])
	return string(h[:])
}

// appendHashedContent appends content as json.Marshal writes it after
// json.Unmarshal into an any: invalid JSON, or a number beyond float64, and
// whatever else appendCanonicalJSON declines goes through encoding/json.
func appendHashedContent(b, content []byte) []byte {
	n := len(b)
	if out, ok := appendCanonicalJSON(b, content); ok {
		return out
	}
	var c any
	_ = json.Unmarshal(content, &c) // invalid content hashes as its partial decoding, as always
	enc, _ := json.Marshal(c)       // maps, slices, strings, finite float64s: cannot fail
	return append(b[:n], enc...)
}

// Snapshot turns working-copy blocks into revision blocks, in order.
func Snapshot(blocks []Block) []SnapshotBlock {
	out := make([]SnapshotBlock, len(blocks))
	for i, b := range blocks {
		out[i] = SnapshotBlock{ID: b.ID, Type: b.Type, Content: b.Content}
	}
	return out
}
