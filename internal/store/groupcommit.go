package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
)

// Group commit on SQLite.
//
// SQLite has one writer, and with synchronous=FULL each commit writes its
// pages to the WAL and fsyncs it: most of a small write's time, paid by
// every write one after another. When writes queue, the ones waiting join
// the transaction of the one running: each runs inside a savepoint of one
// shared transaction, on its own goroutine, one at a time as before, and
// the last of them commits for all. A write whose function fails is rolled
// back to its savepoint and told at once, or, if earlier writes of the
// group ran before it, once they are committed (its failure may rest on
// what they wrote, and a read that follows must see it); the others are
// told when the shared commit is durable, so no write is acknowledged
// before it is on disk, and a failed commit fails every write in it. A
// write with nobody waiting behind it commits at once, as it always did.
//
// This is what PostgreSQL does for concurrent commits on its own
// (commit_delay aside), so InTx groups on SQLite only.

// maxGroup bounds how many writes share one commit, so that a steady
// stream of writers cannot keep a transaction (and its deadline) open.
const maxGroup = 64

// groupWriter is the queue of writers on SQLite's one write connection.
// One writer at a time holds the slot and runs its function; the others
// wait in line, first come, first served.
type groupWriter struct {
	mu      sync.Mutex
	held    bool
	queue   []chan struct{} // waiting writers; closing one hands it the slot
	cur     *group          // the open group; only the slot's holder uses it
	commits atomic.Int64    // groups committed, for tests
}

// group is one shared write transaction.
type group struct {
	tx      *sql.Tx
	ctx     context.Context
	cancel  context.CancelFunc
	members int           // writes in it whose functions succeeded
	done    chan struct{} // closed once committed or failed; err is then set
	err     error
	// head is the audit chain's last entry as this transaction's writes
	// appended it, so that the next write of the group need not read it
	// back (audit.go); a write rolled back to its savepoint restores it.
	head auditHead
}

func newGroupWriter() *groupWriter { return &groupWriter{} }

// acquire waits for the slot. It reports false if ctx ended first; the
// writer is then out of the line and holds nothing.
func (w *groupWriter) acquire(ctx context.Context) bool {
	w.mu.Lock()
	if !w.held {
		w.held = true
		w.mu.Unlock()
		return true
	}
	ch := make(chan struct{})
	w.queue = append(w.queue, ch)
	w.mu.Unlock()
	select {
	case <-ch:
		return true
	case <-ctx.Done():
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if i := slices.Index(w.queue, ch); i >= 0 {
		w.queue = slices.Delete(w.queue, i, i+1)
		return false
	}
	// The slot was handed over as ctx ended: the caller holds it.
	return true
}

// waiting reports whether a writer is in line.
func (w *groupWriter) waiting() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.queue) > 0
}

// inGroup is InTx on SQLite.
func (db *DB) inGroup(ctx context.Context, fn func(tx *Tx) error) error {
	w := db.group
	if !w.acquire(ctx) {
		return db.fail(ctx, fmt.Errorf("begin: %w", context.Cause(ctx)))
	}
	if err := ctx.Err(); err != nil {
		w.finish(db)
		return db.fail(ctx, fmt.Errorf("begin: %w", context.Cause(ctx)))
	}
	g, err := w.open(db)
	if err != nil {
		w.finish(db)
		return err
	}
	seen := g.members // earlier writes of the group, visible to fn, not yet committed
	if err := w.run(ctx, db, g, fn); err != nil {
		if seen > 0 {
			// fn may have failed because of what those writes did (a 412
			// against the version one of them set): answer once they are
			// committed, so that a read after the failure sees them, as
			// it would without grouping.
			<-g.done
		}
		return err
	}
	<-g.done
	return g.err
}

// open returns the open group, beginning one if there is none.
func (w *groupWriter) open(db *DB) (*group, error) {
	if w.cur != nil {
		return w.cur, nil
	}
	ctx, cancel := context.Background(), context.CancelFunc(func() {})
	if db.timeout > 0 {
		ctx, cancel = context.WithTimeoutCause(ctx, db.timeout, ErrTimeout)
	}
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		cancel()
		return nil, db.fail(ctx, fmt.Errorf("begin: %w", err))
	}
	w.cur = &group{tx: tx, ctx: ctx, cancel: cancel, done: make(chan struct{})}
	return w.cur, nil
}

// run runs fn in a savepoint of g and then either leaves g open for the
// next writer or commits it, and gives up the slot. A non-nil answer is
// fn's own failure (g goes on without it); nil means wait for g.done.
func (w *groupWriter) run(ctx context.Context, db *DB, g *group, fn func(tx *Tx) error) (err error) {
	if _, err := g.tx.ExecContext(g.ctx, "SAVEPOINT write"); err != nil {
		w.abort(db, err)
		w.finish(db)
		return db.fail(g.ctx, fmt.Errorf("begin: %w", err))
	}
	ok := false
	head := g.head
	defer func() {
		// fn panicked (or called runtime.Goexit): undo its part, let the
		// others go on, then let the panic continue.
		if !ok {
			w.undo(db, g, head)
			w.finish(db)
		}
	}()
	err = fn(&Tx{db: db, q: g.tx, now: Now(), ctx: g.ctx, head: &g.head})
	if err == nil {
		// The caller went away or its deadline passed while fn ran: what
		// it wrote is not committed, as when it ran in its own transaction.
		if e := ctx.Err(); e != nil {
			err = db.fail(ctx, fmt.Errorf("before commit: %w", context.Cause(ctx)))
		}
	}
	ok = true
	if err != nil {
		w.undo(db, g, head)
		w.finish(db)
		return err
	}
	if _, e := g.tx.ExecContext(g.ctx, "RELEASE write"); e != nil {
		w.abort(db, e)
		w.finish(db)
		return db.fail(g.ctx, fmt.Errorf("commit: %w", e))
	}
	g.members++
	w.finish(db)
	return nil
}

// undo rolls the group back to the failed writer's savepoint, and the
// audit chain's head back to head, where it stood when the writer began.
// If SQLite has already rolled back the whole transaction (an I/O error,
// a full disk, an interrupt), the group fails.
func (w *groupWriter) undo(db *DB, g *group, head auditHead) {
	if w.cur != g {
		return
	}
	g.head = head
	_, err := g.tx.ExecContext(g.ctx, "ROLLBACK TO write")
	if err == nil {
		_, err = g.tx.ExecContext(g.ctx, "RELEASE write")
	}
	if err != nil {
		w.abort(db, err)
	}
}

// finish is called by the slot's holder when its writer is done: it
// leaves the open group for the next writer in line, or commits it when
// nobody waits (or it is full), and hands the slot on.
func (w *groupWriter) finish(db *DB) {
	if g := w.cur; g != nil && (!w.waiting() || g.members >= maxGroup) {
		w.end(db)
	}
	for {
		w.mu.Lock()
		if len(w.queue) > 0 {
			next := w.queue[0]
			w.queue = w.queue[1:]
			w.mu.Unlock()
			close(next)
			return
		}
		if w.cur == nil {
			w.held = false
			w.mu.Unlock()
			return
		}
		w.mu.Unlock()
		// The writer the group was left open for gave up: commit it here.
		w.end(db)
	}
}

// end commits the open group, or rolls it back if no write in it
// succeeded.
func (w *groupWriter) end(db *DB) {
	g := w.cur
	w.cur = nil
	if g.members == 0 {
		_ = g.tx.Rollback()
		g.cancel()
		close(g.done)
		return
	}
	w.commit(db, g)
}

func (w *groupWriter) commit(db *DB, g *group) {
	defer g.cancel()
	defer close(g.done)
	if err := g.ctx.Err(); err != nil {
		_ = g.tx.Rollback()
		g.err = db.fail(g.ctx, fmt.Errorf("before commit: %w", err))
		return
	}
	if err := g.tx.Commit(); err != nil {
		g.err = db.fail(g.ctx, fmt.Errorf("commit: %w", err))
		return
	}
	db.health.committed()
	db.checkpoints.committed()
	w.commits.Add(1)
}

// abort ends the open group with err: none of its writes is committed.
func (w *groupWriter) abort(db *DB, err error) {
	g := w.cur
	if g == nil {
		return
	}
	w.cur = nil
	_ = g.tx.Rollback()
	g.err = db.fail(g.ctx, errors.Join(errors.New("a write sharing this commit failed"), err))
	g.cancel()
	close(g.done)
}
