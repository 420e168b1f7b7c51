package main

import (
	"fmt"
	"os"
	"runtime/metrics"
)

// goMemory says how much of the process's memory is the Go runtime's,
// so that the peak RSS can be split into the Go heap (live objects, and
// the room the collector lets it grow into), goroutine stacks, and what
// is neither (SQLite's caches, allocated outside Go, and the binary).
func goMemory() string {
	samples := []metrics.Sample{
		{Name: "/gc/heap/live:bytes"},
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/heap/released:bytes"},
		{Name: "/memory/classes/heap/stacks:bytes"},
		{Name: "/memory/classes/total:bytes"},
	}
	metrics.Read(samples)
	mb := func(i int) float64 {
		if samples[i].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return float64(samples[i].Value.Uint64()) / (1 << 20)
	}
	return fmt.Sprintf("Go: heap live %.1f MiB, heap objects %.1f MiB, stacks %.1f MiB, mapped and not released %.1f MiB",
		mb(0), mb(1), mb(3), mb(4)-mb(2))
}

// reportMemory prints goMemory beside the process's own RSS figures.
func reportMemory(who string) {
	fmt.Fprintf(os.Stderr, "%s's process at the end: %s; RSS %s\n", who, goMemory(), rssOf("/proc/self/status"))
}
