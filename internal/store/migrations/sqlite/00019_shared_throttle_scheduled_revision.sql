-- +goose Up
-- Failed logins, shared by every node on one database (the login throttle
-- on PostgreSQL; SQLite has one node and counts in memory). One row per
-- failure: the throttle's sliding window needs each failure's time, and a
-- key is blocked after a handful, so a key has few rows. Rows older than
-- the window are deleted by the next failure recorded.
CREATE TABLE login_failures (
    id  TEXT PRIMARY KEY,
    key TEXT NOT NULL,
    at  TEXT NOT NULL
);
CREATE INDEX login_failures_key_idx ON login_failures (key, at);
CREATE INDEX login_failures_at_idx ON login_failures (at);

-- A schedule may name the revision to publish; without one the working
-- copy at that time is published. Retention keeps a named revision.
ALTER TABLE page_schedules ADD COLUMN revision_id TEXT REFERENCES page_revisions (id) ON DELETE CASCADE;
CREATE INDEX page_schedules_revision_idx ON page_schedules (revision_id) WHERE revision_id IS NOT NULL;

-- +goose Down
-- Forward-only.
