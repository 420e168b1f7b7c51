package quire

import "testing"

func BenchmarkContentHash(b *testing.B) {
	blocks := loadSnapshotBlocks()
	b.ReportAllocs()
	for b.Loop() {
		ContentHash("Page 42", "page-42", blocks)
	}
}
