package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/quirecms/quire"
)

func openGroupTestDB(t *testing.T) *DB {
	t.Helper()
	ctx := context.Background()
	db, err := OpenWith(ctx, filepath.Join(t.TempDir(), "q.db"), Options{Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.write.ExecContext(ctx, `CREATE TABLE gc (k TEXT PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	return db
}

func insertKey(ctx context.Context, tx *Tx, k string) error {
	_, err := tx.exec(ctx, `INSERT INTO gc (k) VALUES (?)`, k)
	return err
}

func keys(t *testing.T, db *DB) map[string]bool {
	t.Helper()
	rows, err := db.read.Query(`SELECT k FROM gc`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			t.Fatal(err)
		}
		out[k] = true
	}
	return out
}

// holdSlot starts a write that keeps the write slot until release is
// closed, and waits until it runs.
func holdSlot(t *testing.T, db *DB, key string, release chan struct{}) chan error {
	t.Helper()
	running := make(chan struct{})
	res := make(chan error, 1)
	go func() {
		res <- db.InTx(context.Background(), func(tx *Tx) error {
			close(running)
			<-release
			return insertKey(context.Background(), tx, key)
		})
	}()
	<-running
	return res
}

// waitQueued waits until n writers wait for the slot.
func waitQueued(t *testing.T, db *DB, n int) {
	t.Helper()
	queued := func() int {
		db.group.mu.Lock()
		defer db.group.mu.Unlock()
		return len(db.group.queue)
	}
	for deadline := time.Now().Add(10 * time.Second); queued() < n; {
		if time.Now().After(deadline) {
			t.Fatalf("%d writers queued, want %d", queued(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// Writers that queue share one commit; a writer whose function fails is
// rolled back alone, and the others' rows are all there once InTx
// returns.
func TestGroupCommitSharesCommitsAndIsolatesFailures(t *testing.T) {
	db := openGroupTestDB(t)
	ctx := context.Background()
	release := make(chan struct{})
	first := holdSlot(t, db, "first", release)

	const n = 20
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = db.InTx(ctx, func(tx *Tx) error {
				if err := insertKey(ctx, tx, fmt.Sprint("k", i)); err != nil {
					return err
				}
				if i%4 == 0 {
					return fmt.Errorf("writer %d fails after writing", i)
				}
				return nil
			})
		}()
	}
	waitQueued(t, db, n)
	commitsBefore := db.group.commits.Load()
	close(release)
	wg.Wait()
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	got := keys(t, db)
	for i := range n {
		k := fmt.Sprint("k", i)
		if i%4 == 0 {
			if errs[i] == nil || got[k] {
				t.Errorf("writer %d: err %v, row kept %v; want its error and no row", i, errs[i], got[k])
			}
			continue
		}
		if errs[i] != nil || !got[k] {
			t.Errorf("writer %d: err %v, row kept %v; want committed", i, errs[i], got[k])
		}
	}
	if !got["first"] {
		t.Error("the first writer's row is missing")
	}
	// 21 writes; without grouping that would be 21 commits.
	if c := db.group.commits.Load() - commitsBefore; c > 3 {
		t.Errorf("%d commits for 21 queued writes; want them grouped", c)
	}
}

// A function that panics is rolled back alone and its caller sees the
// panic; the writers grouped with it commit.
func TestGroupCommitPanicRollsBackOnlyThatWrite(t *testing.T) {
	db := openGroupTestDB(t)
	ctx := context.Background()
	release := make(chan struct{})
	first := holdSlot(t, db, "first", release)

	panicked := make(chan any, 1)
	go func() {
		defer func() { panicked <- recover() }()
		_ = db.InTx(ctx, func(tx *Tx) error {
			if err := insertKey(ctx, tx, "panics"); err != nil {
				return err
			}
			panic("boom")
		})
	}()
	waitQueued(t, db, 1)
	after := make(chan error, 1)
	go func() { after <- db.InTx(ctx, func(tx *Tx) error { return insertKey(ctx, tx, "after") }) }()
	waitQueued(t, db, 2)
	close(release)
	if p := <-panicked; p != "boom" {
		t.Fatalf("recovered %v; want the panic", p)
	}
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if err := <-after; err != nil {
		t.Fatal(err)
	}
	got := keys(t, db)
	if got["panics"] || !got["first"] || !got["after"] {
		t.Errorf("rows %v; want first and after, not panics", got)
	}
}

// A writer whose context ends while it waits gives up without holding
// back the others, and one whose context ends while its function runs is
// rolled back.
func TestGroupCommitCancelledWriters(t *testing.T) {
	db := openGroupTestDB(t)
	ctx := context.Background()
	release := make(chan struct{})
	first := holdSlot(t, db, "first", release)

	waitCtx, cancelWait := context.WithCancel(ctx)
	waited := make(chan error, 1)
	go func() {
		waited <- db.InTx(waitCtx, func(tx *Tx) error { return insertKey(ctx, tx, "gave-up") })
	}()
	waitQueued(t, db, 1)
	cancelWait()
	if err := <-waited; err == nil {
		t.Fatal("a writer cancelled while waiting succeeded")
	}

	runCtx, cancelRun := context.WithCancel(ctx)
	ran := make(chan error, 1)
	go func() {
		ran <- db.InTx(runCtx, func(tx *Tx) error {
			cancelRun() // the client goes away while the write runs
			return insertKey(ctx, tx, "went-away")
		})
	}()
	waitQueued(t, db, 1)
	close(release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if err := <-ran; err == nil {
		t.Fatal("a writer whose context ended during its write succeeded")
	}
	got := keys(t, db)
	if !got["first"] || got["gave-up"] || got["went-away"] {
		t.Errorf("rows %v; want only first", got)
	}
	// The slot is free again.
	if err := db.InTx(ctx, func(tx *Tx) error { return insertKey(ctx, tx, "later") }); err != nil {
		t.Fatal(err)
	}
}

// When a write breaks the shared transaction (here: it ends it behind the
// group's back), every write grouped with it fails; none is reported
// committed.
func TestGroupCommitBrokenTransactionFailsTheGroup(t *testing.T) {
	db := openGroupTestDB(t)
	ctx := context.Background()
	release := make(chan struct{})
	first := holdSlot(t, db, "first", release)

	breaker := make(chan error, 1)
	go func() {
		breaker <- db.InTx(ctx, func(tx *Tx) error {
			if _, err := tx.exec(ctx, `ROLLBACK`); err != nil {
				return err
			}
			return errors.New("broke it")
		})
	}()
	waitQueued(t, db, 1)
	close(release)
	if err := <-first; err == nil {
		t.Error("a write grouped with a broken transaction was reported committed")
	}
	if err := <-breaker; err == nil {
		t.Error("the breaking write succeeded")
	}
	if got := keys(t, db); got["first"] {
		t.Errorf("rows %v after a failed group; want none", got)
	}
	if err := db.InTx(ctx, func(tx *Tx) error { return insertKey(ctx, tx, "later") }); err != nil {
		t.Fatalf("a write after the broken group: %v", err)
	}
	if got := keys(t, db); !got["later"] {
		t.Errorf("rows %v; want later", got)
	}
}

// A write that fails after earlier writes of its group ran (a 412 against
// the version one of them set, say) is answered only once those are
// committed: a read made after the failure sees what it failed on.
func TestGroupCommitFailureAfterOthersWaitsForTheirCommit(t *testing.T) {
	db := openGroupTestDB(t)
	ctx := context.Background()
	release := make(chan struct{})
	first := holdSlot(t, db, "first", release)
	failed := make(chan error, 1)
	go func() {
		failed <- db.InTx(ctx, func(tx *Tx) error { return errors.New("conflicts with first") })
	}()
	waitQueued(t, db, 1)
	// A slow writer behind it keeps the group open while it fails.
	last := make(chan error, 1)
	go func() {
		last <- db.InTx(ctx, func(tx *Tx) error {
			time.Sleep(300 * time.Millisecond)
			return insertKey(ctx, tx, "last")
		})
	}()
	waitQueued(t, db, 2)
	close(release)
	if err := <-failed; err == nil {
		t.Fatal("the failing write succeeded")
	}
	if !keys(t, db)["first"] {
		t.Error("the failure was answered before the write it saw was committed")
	}
	for _, ch := range []chan error{first, last} {
		if err := <-ch; err != nil {
			t.Fatal(err)
		}
	}
}

// TestGroupCommitAuditChain: writes that share a commit take the chain's
// head from the write before them instead of reading it; one that fails
// after appending its entry is rolled back with it, and the chain the
// group commits verifies, one entry per successful write, in order.
func TestGroupCommitAuditChain(t *testing.T) {
	ctx := context.Background()
	db, err := OpenWith(ctx, filepath.Join(t.TempDir(), "q.db"), Options{Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	appendEntry := func(tx *Tx, id string) error {
		return tx.AppendAudit(ctx, &quire.AuditEntry{Action: "test.write", ResourceType: "test", ResourceID: id})
	}
	// Before any group: an entry read from an empty log.
	if err := db.InTx(ctx, func(tx *Tx) error { return appendEntry(tx, "first") }); err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	holder := make(chan error, 1)
	running := make(chan struct{})
	go func() {
		holder <- db.InTx(ctx, func(tx *Tx) error {
			close(running)
			<-release
			return appendEntry(tx, "holder")
		})
	}()
	<-running
	var wg sync.WaitGroup
	failed := errors.New("refused after its audit entry")
	results := make([]error, 6)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = db.InTx(ctx, func(tx *Tx) error {
				if err := appendEntry(tx, fmt.Sprint("w", i)); err != nil {
					return err
				}
				if i%3 == 1 {
					return failed
				}
				return nil
			})
		}()
		waitQueued(t, db, i+1)
	}
	commits := db.group.commits.Load()
	close(release)
	wg.Wait()
	if err := <-holder; err != nil {
		t.Fatal(err)
	}
	if n := db.group.commits.Load() - commits; n != 1 {
		t.Errorf("%d commits for the group, want 1", n)
	}
	want := []string{"first", "holder"}
	for i, err := range results {
		switch {
		case i%3 == 1 && !errors.Is(err, failed):
			t.Errorf("write %d: %v, want its own failure", i, err)
		case i%3 != 1 && err != nil:
			t.Errorf("write %d: %v", i, err)
		case i%3 != 1:
			want = append(want, fmt.Sprint("w", i))
		}
	}
	r := db.Reader()
	var got []string
	if err := r.eachAudit(ctx, `SELECT `+auditColumns+` FROM audit_log ORDER BY seq`, nil, func(e *quire.AuditEntry) error {
		got = append(got, e.ResourceID)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("entries %v, want %v", got, want)
	}
	v, err := r.VerifyAudit(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !v.OK || v.Entries != int64(len(want)) {
		t.Errorf("verification %+v, want %d entries that verify", v, len(want))
	}
}
