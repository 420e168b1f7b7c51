package quire

import (
	"encoding/json"
	"strings"
	"testing"
)

// loadBlocks returns eight blocks like those internal/loadtest sends with a
// page create: a heading, paragraphs, a list and quotes, JSON-encoded by
// encoding/json as the load tool does.
func loadBlocks() []BlockInput {
	text := strings.Repeat("Sentence 42 of a page about load testing, long enough to look like prose. ", 3)
	var out []BlockInput
	add := func(typ string, content any) {
		b, _ := json.Marshal(content)
		out = append(out, BlockInput{Type: typ, Content: b})
	}
	quote := map[string]any{"text": "Premature optimisation is the root of all evil.", "cite": "Donald Knuth"}
	add(BlockHeading, map[string]any{"text": "Page 42", "level": 1})
	add(BlockParagraph, map[string]any{"text": text})
	add(BlockList, map[string]any{"style": "unordered", "items": []string{"one item", "another item", "a third item"}})
	add(BlockParagraph, map[string]any{"text": text})
	add(BlockQuote, quote)
	add(BlockParagraph, map[string]any{"text": text})
	add(BlockQuote, quote)
	add(BlockParagraph, map[string]any{"text": text})
	return out
}

func BenchmarkValidateBlocks(b *testing.B) {
	blocks := loadBlocks()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ValidateBlocks(blocks); err != nil {
			b.Fatal(err)
		}
	}
}
