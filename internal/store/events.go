package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/quirecms/quire"
)

// AppendEvent records ev in this transaction, in one statement. Its seq is
// taken under the same lock that orders audit entries, so that seq order
// is commit order on PostgreSQL too (SQLite has one writer). The event row
// is the outbox: what it causes (webhook deliveries, streams, other nodes'
// caches) is derived from it after commit.
func (tx *Tx) AppendEvent(ctx context.Context, ev *quire.Event) error {
	if err := tx.lockAudit(ctx); err != nil {
		return err
	}
	ev.ID, ev.At = NewID(), tx.now
	args := []any{ev.ID, ev.Type, ev.At, ev.ResourceType, ev.ResourceID, ev.Slug, ev.PreviousSlug, ev.Revision, ev.Public}
	row := tx.queryRow(ctx, appendEventSQL, args...)
	if err := row.Scan(&ev.Seq); err != nil {
		return fmt.Errorf("event append: %w", mapErr(err))
	}
	return nil
}

const appendEventSQL = `INSERT INTO events (seq, id, type, at, resource_type, resource_id, slug, previous_slug, revision, public)
	SELECT COALESCE(MAX(seq), 0) + 1, ?, ?, ?, ?, ?, ?, ?, ?, ? FROM events RETURNING seq`

const eventColumns = `seq, id, type, at, resource_type, resource_id, slug, previous_slug, revision, public`

func scanEvent(row interface{ Scan(...any) error }) (*quire.Event, error) {
	var e quire.Event
	err := row.Scan(&e.Seq, &e.ID, &e.Type, scanTime{&e.At}, &e.ResourceType, &e.ResourceID, &e.Slug, &e.PreviousSlug, &e.Revision, &e.Public)
	if err != nil {
		return nil, mapErr(err)
	}
	return &e, nil
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
	// Events are in seq order and time order alike: find the first one to
	// keep by walking the primary key from the oldest (few rows, pruned
	// hourly) rather than keeping an index on at that every write would pay.
	var keep sql.NullInt64
	err := tx.queryRow(ctx, `SELECT seq FROM events WHERE at >= ? ORDER BY seq LIMIT 1`, before).Scan(&keep)
	if errors.Is(err, sql.ErrNoRows) {
		err = tx.queryRow(ctx, `SELECT MAX(seq) FROM events`).Scan(&keep) // all old: keep the newest
	}
	if err != nil || !keep.Valid {
		return 0, mapErr(err)
	}
	res, err := tx.exec(ctx, `DELETE FROM events WHERE seq < ?`, keep.Int64)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return n, mapErr(err)
}
