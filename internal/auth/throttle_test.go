package auth

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/quirecms/quire/internal/store"
	"github.com/quirecms/quire/internal/testdb"
)

// failureStores runs fn with a fresh Failures of each kind: in memory, and
// in the database (SQLite and, when configured, PostgreSQL).
func failureStores(t *testing.T, fn func(t *testing.T, newStore func() Failures)) {
	t.Run("memory", func(t *testing.T) {
		fn(t, func() Failures { return NewMemoryFailures(100) })
	})
	testdb.Each(t, func(t *testing.T, dsn string) {
		db := openDB(t, dsn)
		n := 0
		fn(t, func() Failures { n++; return db.LoginFailures(fmt.Sprint("t", n)) })
	})
}

func openDB(t *testing.T, dsn string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}

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
	ctx := context.Background()
	failureStores(t, func(t *testing.T, newStore func() Failures) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				c := &clock{start}
				th := NewThrottle(3, time.Minute, newStore(), c.now)
				for i, s := range tt.steps {
					c.t = start.Add(s.at)
					var err error
					switch s.op {
					case "fail":
						err = th.Fail(ctx, s.key)
					case "reset":
						err = th.Reset(ctx, s.key)
					case "allow":
						var ok bool
						var ra time.Duration
						ok, ra, err = th.Allow(ctx, s.key)
						if ok != s.wantOK || ra != s.wantRA {
							t.Fatalf("step %d: Allow(%q) = %v, %v; want %v, %v", i, s.key, ok, ra, s.wantOK, s.wantRA)
						}
						if !ok && ra <= 0 {
							t.Fatalf("step %d: blocked with retry-after %v", i, ra)
						}
					}
					if err != nil {
						t.Fatalf("step %d: %v", i, err)
					}
				}
			})
		}
	})
}

// Two nodes on one database (two handles, as two processes have) count
// the same failures: failures spread over both block the key on both, and
// a reset on one clears it on the other.
func TestThrottleSharedAcrossNodes(t *testing.T) {
	testdb.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		a := NewThrottle(4, time.Minute, openDB(t, dsn).LoginFailures("account"), nil)
		b := NewThrottle(4, time.Minute, openDB(t, dsn).LoginFailures("account"), nil)
		other := NewThrottle(4, time.Minute, openDB(t, dsn).LoginFailures("addr"), nil)
		for i := range 4 {
			th := a
			if i%2 == 1 {
				th = b
			}
			if ok, _, err := th.Allow(ctx, "x@example.com"); err != nil || !ok {
				t.Fatalf("attempt %d refused (%v)", i+1, err)
			}
			if err := th.Fail(ctx, "x@example.com"); err != nil {
				t.Fatal(err)
			}
		}
		for name, th := range map[string]*Throttle{"a": a, "b": b} {
			if ok, ra, err := th.Allow(ctx, "x@example.com"); err != nil || ok || ra <= 0 || ra > time.Minute {
				t.Fatalf("node %s after 4 failures on two nodes: %v %v %v", name, ok, ra, err)
			}
		}
		if ok, _, _ := other.Allow(ctx, "x@example.com"); !ok {
			t.Fatal("another scope counts the same failures")
		}
		if err := b.Reset(ctx, "x@example.com"); err != nil {
			t.Fatal(err)
		}
		if ok, _, err := a.Allow(ctx, "x@example.com"); err != nil || !ok {
			t.Fatalf("reset on b did not reach a: %v %v", ok, err)
		}
	})
}

func TestThrottleMemoryBound(t *testing.T) {
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	c := &clock{start}
	m := NewMemoryFailures(3)
	th := NewThrottle(2, time.Minute, m, c.now)
	ctx := context.Background()

	th.Fail(ctx, "victim")
	th.Fail(ctx, "victim")
	c.t = c.t.Add(time.Second)
	for i := range 1000 {
		th.Fail(ctx, fmt.Sprint("flood-", i))
		// Keep the real target hot so it is never the least recent.
		if i%2 == 0 {
			th.Fail(ctx, "victim")
		}
		if n := m.size(); n > 3 {
			t.Fatalf("after %d keys: %d tracked, want <= 3", i+1, n)
		}
	}
	if ok, _, _ := th.Allow(ctx, "victim"); ok {
		t.Fatal("frequently failing key was evicted")
	}
	if ok, _, _ := th.Allow(ctx, "flood-0"); !ok {
		t.Fatal("least recently failing key was not evicted")
	}

	// Expired keys are dropped, not just displaced.
	c.t = c.t.Add(2 * time.Minute)
	th.Allow(ctx, "anything")
	if n := m.size(); n != 0 {
		t.Fatalf("%d keys tracked after the window passed, want 0", n)
	}
}

func TestThrottleConcurrent(t *testing.T) {
	m := NewMemoryFailures(50)
	th := NewThrottle(5, time.Minute, m, nil)
	ctx := context.Background()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				key := fmt.Sprint("k", (g*7+i)%64)
				th.Allow(ctx, key)
				th.Fail(ctx, key)
				if i%17 == 0 {
					th.Reset(ctx, key)
				}
			}
		})
	}
	wg.Wait()
	if n := m.size(); n > 50 {
		t.Fatalf("%d keys tracked, want <= 50", n)
	}
}

func TestNewThrottlePanicsOnBadConfig(t *testing.T) {
	for name, f := range map[string]func(){
		"max":     func() { NewThrottle(0, time.Second, NewMemoryFailures(1), nil) },
		"window":  func() { NewThrottle(1, 0, NewMemoryFailures(1), nil) },
		"store":   func() { NewThrottle(1, time.Second, nil, nil) },
		"maxKeys": func() { NewMemoryFailures(0) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("no panic")
				}
			}()
			f()
		})
	}
}

// size reports how many keys are tracked, checking the map and list agree.
func (m *MemoryFailures) size() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.keys) != m.lru.Len() {
		panic("throttle map and list out of sync")
	}
	return len(m.keys)
}
