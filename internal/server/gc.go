package server

import "runtime/debug"

// DefaultGCPercent is the Go collector's target for `quire serve` when
// GOGC is not set: a heap may grow to 1.5 times what is live between
// collections instead of Go's default of twice. Most of a serving
// process's live heap is the page cache, which the default would double
// in the resident set; measured at 10,000 pages (docs/performance.md,
// "Issue 11, third pass"), 50 kept every list and the hot pages under
// 64 MB with no throughput lost that rounds could tell apart.
const DefaultGCPercent = 50

// TuneGC applies DefaultGCPercent unless the operator set GOGC, which the
// Go runtime has already applied. GOMEMLIMIT works as Go documents it.
func TuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(DefaultGCPercent)
	}
}
