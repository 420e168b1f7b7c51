package service

import (
	"fmt"
	"testing"
	"time"
)

// One entry per key per window; refusals held back in between are counted
// in the key's next entry.
func TestRefusalsRateLimit(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r := newRefusals(func() time.Time { return now })
	step := func(key string, wantRecord bool, wantCount int) {
		t.Helper()
		rec, n := r.note(key)
		if rec != wantRecord || n != wantCount {
			t.Fatalf("%s at %s: note = %v, %d; want %v, %d", key, now.Format(time.TimeOnly), rec, n, wantRecord, wantCount)
		}
	}
	step("a", true, 1)
	for range 4 {
		now = now.Add(10 * time.Second)
		step("a", false, 0)
	}
	step("b", true, 1)              // another caller or route has its own window
	now = now.Add(20 * time.Second) // 60 s after a's entry
	step("a", true, 5)              // this one and the 4 held back
	now = now.Add(59 * time.Second)
	step("a", false, 0)
	now = now.Add(5 * time.Minute)
	step("a", true, 2)
	step("b", true, 1)
}

// Memory stays bounded: expired keys are forgotten when the map is full.
func TestRefusalsSweep(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r := newRefusals(func() time.Time { return now })
	for i := range maxRefusalKeys {
		r.note(fmt.Sprint(i))
	}
	now = now.Add(refusalWindow)
	if rec, _ := r.note("new"); !rec || len(r.seen) != 1 {
		t.Fatalf("after sweep: %d keys", len(r.seen))
	}
}
