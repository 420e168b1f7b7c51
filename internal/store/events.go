package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/quirecms/quire"
)

// EventHook runs inside the transaction that records an event, after its
// row is written: the job queue uses it to enqueue the work the event
// causes, so that the work exists exactly when the change commits.
type EventHook func(ctx context.Context, tx *Tx, ev *quire.Event) error

// SetEventHook installs the hook for every event recorded through db.
// Call it once, before serving.
func (db *DB) SetEventHook(h EventHook) { db.eventHook = h }

// AppendEvent records ev in this transaction and runs the event hook. Its
// seq is taken under the same lock that orders audit entries, so that seq
// order is commit order on PostgreSQL too (SQLite has one writer).
func (tx *Tx) AppendEvent(ctx context.Context, ev *quire.Event) error {
	if err := tx.lockAudit(ctx); err != nil {
		return err
	}
	var last sql.NullInt64
	if err := tx.queryRow(ctx, `SELECT MAX(seq) FROM events`).Scan(&last); err != nil {
		return fmt.Errorf("event head: %w", mapErr(err))
	}
	ev.Seq, ev.ID, ev.At = last.Int64+1, NewID(), tx.now
	_, err := tx.exec(ctx, `INSERT INTO events (seq, id, type, at, resource_type, resource_id, slug, previous_slug, revision, public)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		ev.Seq, ev.ID, ev.Type, ev.At, ev.ResourceType, ev.ResourceID, ev.Slug, ev.PreviousSlug, ev.Revision, ev.Public)
	if err != nil {
		return fmt.Errorf("event append: %w", err)
	}
	if tx.db.eventHook != nil {
		return tx.db.eventHook(ctx, tx, ev)
	}
	return nil
}

const eventColumns = `seq, id, type, at, resource_type, resource_id, slug, previous_slug, revision, public`

func scanEvent(row interface{ Scan(...any) error }) (*quire.Event, error) {
	var e quire.Event
	err := row.Scan(&e.Seq, &e.ID, &e.Type, scanTime{&e.At}, &e.ResourceType, &e.ResourceID, &e.Slug, &e.PreviousSlug, &e.Revision, &e.Public)
	if err != nil {
		return nil, mapErr(err)
	}
	return &e, nil
}

// Event returns one event by id.
func (tx *Tx) Event(ctx context.Context, id string) (*quire.Event, error) {
	e, err := scanEvent(tx.queryRow(ctx, `SELECT `+eventColumns+` FROM events WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, quire.Errorf(quire.ENOTFOUND, "event not found")
	}
	return e, err
}

// EventsAfter returns up to limit events with seq above after, oldest first
// (a keyset range of the primary key).
func (tx *Tx) EventsAfter(ctx context.Context, after int64, limit int) ([]*quire.Event, error) {
	rows, err := tx.query(ctx, `SELECT `+eventColumns+` FROM events WHERE seq > ? ORDER BY seq LIMIT ?`, after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*quire.Event
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, mapErr(rows.Err())
}

// EventBounds returns the lowest and highest seq still recorded (0, 0 when
// there are none).
func (tx *Tx) EventBounds(ctx context.Context) (first, last int64, err error) {
	var lo, hi sql.NullInt64
	if err := tx.queryRow(ctx, `SELECT MIN(seq), MAX(seq) FROM events`).Scan(&lo, &hi); err != nil {
		return 0, 0, mapErr(err)
	}
	return lo.Int64, hi.Int64, nil
}

// PruneEvents removes events recorded before before, always keeping the
// newest, so that seq never starts over (streams resume by seq).
func (tx *Tx) PruneEvents(ctx context.Context, before time.Time) (int64, error) {
	res, err := tx.exec(ctx, `DELETE FROM events WHERE at < ? AND seq < (SELECT MAX(seq) FROM events)`, before)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return n, mapErr(err)
}
