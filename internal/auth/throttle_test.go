package auth

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestThrottle(t *testing.T) {
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	type step struct {
		at     time.Duration // offset from start
		op     string        // "fail", "reset" or "allow"
		key    string
		wantOK bool
		wantRA time.Duration // for "allow"
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"allows below max", []step{
			{0, "fail", "a", false, 0},
			{time.Second, "fail", "a", false, 0},
			{2 * time.Second, "allow", "a", true, 0},
		}},
		{"blocks at max with retry-after from oldest failure", []step{
			{0, "fail", "a", false, 0},
			{10 * time.Second, "fail", "a", false, 0},
			{20 * time.Second, "fail", "a", false, 0},
			{30 * time.Second, "allow", "a", false, 30 * time.Second},
			{30 * time.Second, "allow", "b", true, 0},
		}},
		{"oldest failure leaving the window unblocks", []step{
			{0, "fail", "a", false, 0},
			{10 * time.Second, "fail", "a", false, 0},
			{20 * time.Second, "fail", "a", false, 0},
			{time.Minute - time.Nanosecond, "allow", "a", false, time.Nanosecond},
			{time.Minute, "allow", "a", true, 0},
			{time.Minute, "fail", "a", false, 0},
			{time.Minute, "allow", "a", false, 10 * time.Second},
		}},
		{"whole window passing unblocks", []step{
			{0, "fail", "a", false, 0},
			{0, "fail", "a", false, 0},
			{0, "fail", "a", false, 0},
			{time.Hour, "allow", "a", true, 0},
			{time.Hour, "fail", "a", false, 0},
			{time.Hour, "allow", "a", true, 0},
		}},
		{"reset clears", []step{
			{0, "fail", "a", false, 0},
			{0, "fail", "a", false, 0},
			{0, "fail", "a", false, 0},
			{0, "reset", "a", false, 0},
			{0, "allow", "a", true, 0},
			{0, "reset", "never-seen", false, 0},
		}},
		{"failing while blocked extends the block", []step{
			{0, "fail", "a", false, 0},
			{10 * time.Second, "fail", "a", false, 0},
			{20 * time.Second, "fail", "a", false, 0},
			{30 * time.Second, "fail", "a", false, 0},
			{30 * time.Second, "allow", "a", false, 40 * time.Second},
		}},
		{"keys are independent", []step{
			{0, "fail", "a", false, 0},
			{0, "fail", "a", false, 0},
			{0, "fail", "a", false, 0},
			{0, "fail", "b", false, 0},
			{0, "allow", "a", false, time.Minute},
			{0, "allow", "b", true, 0},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &clock{start}
			th := NewThrottle(3, time.Minute, 100, c.now)
			for i, s := range tt.steps {
				c.t = start.Add(s.at)
				switch s.op {
				case "fail":
					th.Fail(s.key)
				case "reset":
					th.Reset(s.key)
				case "allow":
					ok, ra := th.Allow(s.key)
					if ok != s.wantOK || ra != s.wantRA {
						t.Fatalf("step %d: Allow(%q) = %v, %v; want %v, %v", i, s.key, ok, ra, s.wantOK, s.wantRA)
					}
					if !ok && ra <= 0 {
						t.Fatalf("step %d: blocked with retry-after %v", i, ra)
					}
				}
			}
		})
	}
}

func TestThrottleMemoryBound(t *testing.T) {
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	c := &clock{start}
	th := NewThrottle(2, time.Minute, 3, c.now)

	th.Fail("victim")
	th.Fail("victim")
	c.t = c.t.Add(time.Second)
	for i := range 1000 {
		th.Fail(fmt.Sprint("flood-", i))
		// Keep the real target hot so it is never the least recent.
		if i%2 == 0 {
			th.Fail("victim")
		}
		if n := th.size(); n > 3 {
			t.Fatalf("after %d keys: %d tracked, want <= 3", i+1, n)
		}
	}
	if ok, _ := th.Allow("victim"); ok {
		t.Fatal("frequently failing key was evicted")
	}
	if ok, _ := th.Allow("flood-0"); !ok {
		t.Fatal("least recently failing key was not evicted")
	}

	// Expired keys are dropped, not just displaced.
	c.t = c.t.Add(2 * time.Minute)
	th.Allow("anything")
	if n := th.size(); n != 0 {
		t.Fatalf("%d keys tracked after the window passed, want 0", n)
	}
}

func TestThrottleConcurrent(t *testing.T) {
	th := NewThrottle(5, time.Minute, 50, nil)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				key := fmt.Sprint("k", (g*7+i)%64)
				th.Allow(key)
				th.Fail(key)
				if i%17 == 0 {
					th.Reset(key)
				}
			}
		})
	}
	wg.Wait()
	if n := th.size(); n > 50 {
		t.Fatalf("%d keys tracked, want <= 50", n)
	}
}

func TestNewThrottlePanicsOnBadConfig(t *testing.T) {
	for _, args := range [][3]int{{0, 1, 1}, {1, 0, 1}, {1, 1, 0}} {
		t.Run(fmt.Sprint(args), func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("no panic")
				}
			}()
			NewThrottle(args[0], time.Duration(args[1])*time.Second, args[2], nil)
		})
	}
}

// size reports how many keys are tracked, checking the map and list agree.
func (t *Throttle) size() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.keys) != t.lru.Len() {
		panic("throttle map and list out of sync")
	}
	return len(t.keys)
}
