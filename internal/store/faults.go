package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/quirecms/quire"
)

// ErrTimeout is the cause of a context the store cancelled because its
// database work ran past Options.Timeout.
var ErrTimeout = errors.New("database work ran past its deadline")

// readyTimeout bounds a readiness check, so that /readyz answers within a
// second even when the database hangs.
const readyTimeout = time.Second

// fullHold is how long the store reports itself not ready after the disk
// was found full, unless a write commits sooner. A full disk is not seen
// by a ping; without the hold, /readyz would keep sending writes to a node
// that can only refuse them.
const fullHold = 30 * time.Second

// unavailable reports whether err means that the database cannot be
// reached or did not answer in time, as opposed to refusing this query.
// It goes by type and error code, never by message text.
func unavailable(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrTimeout) || errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	var connErr *pgconn.ConnectError
	if errors.As(err, &connErr) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// Class 08: connection exception. 57P01–57P03: the server shuts
		// down or is starting. 53000/53200/53300: out of resources or
		// connections, which pass.
		return strings.HasPrefix(pgErr.Code, "08") || strings.HasPrefix(pgErr.Code, "57P") ||
			pgErr.Code == "53000" || pgErr.Code == "53200" || pgErr.Code == "53300"
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		// BUSY/LOCKED after the busy timeout, I/O errors, a file that
		// cannot be opened: the database is there but cannot serve now.
		switch sqErr.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_NOMEM:
			return true
		}
		return false
	}
	var netErr net.Error
	return errors.As(err, &netErr)
}

// storageFull reports whether err says the database's disk is full:
// SQLITE_FULL, or PostgreSQL's 53100 disk_full.
func storageFull(err error) bool {
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) && sqErr.Code()&0xff == sqlite3.SQLITE_FULL {
		return true
	}
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "53100"
}

// faultErr turns a fault of the database itself into a domain error, or
// returns nil when err is not one.
func faultErr(err error) error {
	switch {
	case storageFull(err):
		return quire.Wrap(quire.ESTORAGEFULL, err, "the database's disk is full; try again later")
	case unavailable(err):
		return quire.Wrap(quire.EUNAVAILABLE, err, "the database is not available; try again shortly")
	}
	return nil
}

// health remembers what a ping cannot see: that the disk was full.
type health struct {
	fullUntil atomic.Int64 // unix nanoseconds; zero when the last write went through
}

// observe records what err says about the database's health.
func (h *health) observe(err error) {
	if quire.ErrorCode(err) == quire.ESTORAGEFULL {
		h.fullUntil.Store(time.Now().Add(fullHold).UnixNano())
	}
}

// committed records that a write went through: the disk has room again.
func (h *health) committed() {
	if h.fullUntil.Load() != 0 {
		h.fullUntil.Store(0)
	}
}

func (h *health) full() bool {
	until := h.fullUntil.Load()
	return until != 0 && time.Now().UnixNano() < until
}

// Ready reports whether the database can serve requests: it answers a
// ping within a second, and no write found the disk full in the last
// fullHold. The error is EUNAVAILABLE or ESTORAGEFULL.
func (db *DB) Ready(ctx context.Context) error {
	if db.health.full() {
		return quire.Errorf(quire.ESTORAGEFULL, "the database's disk is full")
	}
	ctx, cancel := context.WithTimeoutCause(ctx, readyTimeout, ErrTimeout)
	defer cancel()
	if err := db.read.PingContext(ctx); err != nil {
		return db.fail(ctx, err)
	}
	return nil
}

// fail maps err from database work done under ctx into a domain error,
// and notes what it says about the database's health. A context the store
// cancelled for running late becomes EUNAVAILABLE; one the caller
// cancelled stays context.Canceled.
func (db *DB) fail(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if ctx.Err() != nil && errors.Is(context.Cause(ctx), ErrTimeout) {
		err = quire.Wrap(quire.EUNAVAILABLE, errors.Join(ErrTimeout, err), "the database did not answer in time; try again shortly")
	} else {
		err = mapErr(err)
	}
	db.health.observe(err)
	return err
}
