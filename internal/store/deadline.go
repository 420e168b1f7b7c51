package store

import (
	"context"
	"database/sql"
	"time"
)

// statement returns the context to run one statement under and its
// deadline, whose done must be called when the statement is finished
// with (after Exec, after Scan, at rows.Close).
//
// In a write transaction that is the transaction's context: its deadline
// bounds every statement in it. On a reader each statement gets
// Options.Timeout for the database to answer; once it has answered, the
// rows may be read at the caller's pace (an audit export streams for
// minutes), and a connection that dies meanwhile is caught by TCP
// keepalives.
func (tx *Tx) statement(ctx context.Context) (context.Context, deadline) {
	if tx.ctx != nil {
		return tx.ctx, deadline{}
	}
	if tx.db.timeout <= 0 {
		return ctx, deadline{}
	}
	ctx, cancel := context.WithCancelCause(ctx)
	return ctx, deadline{timer: time.AfterFunc(tx.db.timeout, func() { cancel(ErrTimeout) }), cancel: cancel}
}

// deadline is a reader statement's timer and the cancellation of its
// context; the zero value does nothing.
type deadline struct {
	timer  *time.Timer
	cancel context.CancelCauseFunc
}

// answered stops the timer: the database has answered.
func (d deadline) answered() {
	if d.timer != nil {
		d.timer.Stop()
	}
}

// done releases the statement's context.
func (d deadline) done() {
	d.answered()
	if d.cancel != nil {
		d.cancel(nil)
	}
}

// rows are sql.Rows that end their statement's context when closed and
// map errors met while reading them.
type rows struct {
	*sql.Rows
	ctx context.Context
	db  *DB
	dl  deadline
}

func (r *rows) Close() error {
	err := r.Rows.Close()
	r.dl.done()
	return r.db.fail(r.ctx, err)
}

func (r *rows) Err() error { return r.db.fail(r.ctx, r.Rows.Err()) }

// row is a sql.Row whose Scan ends its statement's context.
type row struct {
	row *sql.Row
	ctx context.Context
	db  *DB
	dl  deadline
}

// Scan copies the row into dest; sql.ErrNoRows comes back as it is, for
// the callers that turn it into their own not-found error.
func (r *row) Scan(dest ...any) error {
	defer r.dl.done()
	err := r.row.Scan(dest...)
	if err == nil || err == sql.ErrNoRows {
		return err
	}
	return r.db.fail(r.ctx, err)
}
