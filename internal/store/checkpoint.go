package store

import (
	"context"
	"database/sql"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Checkpoints on SQLite, off the writer's path.
//
// In WAL mode SQLite copies the log back into the database file (a
// checkpoint, with an fsync of each) from inside a commit, whenever the log
// has grown past 1,000 pages: the writer that happens to commit then pays
// for it while every other writer waits behind it (a twelfth of a page
// create's time on the one write connection, docs/performance.md). Here a
// connection of its own runs a PASSIVE checkpoint shortly after commits,
// which goes on alongside the writer and never blocks it. The writer's own
// automatic checkpoint stays as a backstop, at a log ten times as long, for
// when this one falls behind.

const (
	// checkpointDelay gathers the commits of a burst into one checkpoint.
	checkpointDelay = 200 * time.Millisecond
	// backstopCheckpointPages is the writer's wal_autocheckpoint.
	backstopCheckpointPages = 10_000
)

type checkpointer struct {
	conn   *sql.DB
	kick   chan struct{} // one pending request is enough
	stop   chan struct{}
	done   chan struct{}
	closed sync.Once
	runs   atomic.Int64 // checkpoints run, for tests
	copied atomic.Int64 // pages they copied into the database file
}

func startCheckpointer(conn *sql.DB) *checkpointer {
	conn.SetMaxOpenConns(1)
	conn.SetConnMaxIdleTime(0)
	c := &checkpointer{conn: conn, kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go c.loop()
	return c
}

// committed asks for a checkpoint soon; it never waits.
func (c *checkpointer) committed() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

func (c *checkpointer) loop() {
	defer close(c.done)
	for {
		select {
		case <-c.stop:
			return
		case <-c.kick:
		}
		select {
		case <-c.stop:
			return
		case <-time.After(checkpointDelay):
		}
		// PASSIVE copies what no reader still needs and waits for nobody.
		// A failure (a full disk, say) leaves the log to the next try and
		// to the writer's backstop; the writes themselves are durable.
		var busy, logPages, done int
		err := c.conn.QueryRowContext(context.Background(), `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &logPages, &done)
		if err != nil {
			slog.Warn("sqlite checkpoint", "err", err)
		}
		c.runs.Add(1)
		c.copied.Add(int64(max(done, 0)))
	}
}

// close stops the loop and closes its connection; DB.Close may be
// called more than once.
func (c *checkpointer) close() error {
	c.closed.Do(func() { close(c.stop) })
	<-c.done
	return c.conn.Close()
}
