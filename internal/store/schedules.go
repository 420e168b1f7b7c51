package store

import (
	"context"
	"database/sql"
	"errors"

	"github.com/quirecms/quire"
)

var errScheduleNotFound = quire.Errorf(quire.ENOTFOUND, "the page has no schedule")

const scheduleColumns = `page_id, publish_at, unpublish_at, note, token, created_by, created_at, revision_id`

// PageSchedule returns a page's schedule; on PostgreSQL with lock the row
// stays locked until commit, so that two nodes acting on it take turns.
func (tx *Tx) PageSchedule(ctx context.Context, pageID string, lock bool) (*quire.PageSchedule, error) {
	q := `SELECT ` + scheduleColumns + ` FROM page_schedules WHERE page_id = ?`
	if lock && tx.db.dialect == Postgres {
		q += ` FOR UPDATE`
	}
	var s quire.PageSchedule
	var by, rev sql.NullString
	err := tx.queryRow(ctx, q, pageID).Scan(&s.PageID, scanNullTime{&s.PublishAt}, scanNullTime{&s.UnpublishAt}, &s.Note, &s.Token, &by, scanTime{&s.CreatedAt}, &rev)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errScheduleNotFound
	}
	if err != nil {
		return nil, mapErr(err)
	}
	s.CreatedBy, s.RevisionID = by.String, rev.String
	return &s, nil
}

// PutPageSchedule creates or replaces a page's schedule.
func (tx *Tx) PutPageSchedule(ctx context.Context, s *quire.PageSchedule) error {
	s.CreatedAt = tx.now
	_, err := tx.exec(ctx, `INSERT INTO page_schedules (page_id, publish_at, unpublish_at, note, token, created_by, created_at, revision_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (page_id) DO UPDATE SET publish_at = excluded.publish_at, unpublish_at = excluded.unpublish_at,
			note = excluded.note, token = excluded.token, created_by = excluded.created_by, created_at = excluded.created_at,
			revision_id = excluded.revision_id`,
		s.PageID, s.PublishAt, s.UnpublishAt, s.Note, s.Token, nullString(s.CreatedBy), s.CreatedAt, nullString(s.RevisionID))
	return err
}

// UpdatePageScheduleTimes writes the times left to act on; with none left
// the schedule is removed.
func (tx *Tx) UpdatePageScheduleTimes(ctx context.Context, s *quire.PageSchedule) error {
	if s.PublishAt == nil && s.UnpublishAt == nil {
		return tx.DeletePageSchedule(ctx, s.PageID)
	}
	return tx.execOne(ctx, errScheduleNotFound, `UPDATE page_schedules SET publish_at = ?, unpublish_at = ? WHERE page_id = ?`,
		s.PublishAt, s.UnpublishAt, s.PageID)
}

// DeletePageSchedule removes a page's schedule.
func (tx *Tx) DeletePageSchedule(ctx context.Context, pageID string) error {
	return tx.execOne(ctx, errScheduleNotFound, `DELETE FROM page_schedules WHERE page_id = ?`, pageID)
}
