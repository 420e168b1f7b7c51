-- +goose Up
-- events records every change that others may want to learn about, in the
-- same transaction as the change. seq is assigned under the audit lock, so
-- that it grows in commit order (a stream resuming after seq N misses nothing).
-- Rows hold identifiers only, never content. The only index is the primary
-- key: every read is a seq range, and each index would cost every write.
-- The background job queue (River) keeps its own tables, created by
-- River's migrator after ours.
CREATE TABLE events (
    seq           INTEGER PRIMARY KEY,
    id            TEXT NOT NULL,
    type          TEXT NOT NULL,
    at            TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id   TEXT NOT NULL,
    slug          TEXT NOT NULL DEFAULT '',
    previous_slug TEXT NOT NULL DEFAULT '',
    revision      INTEGER NOT NULL DEFAULT 0,
    public        INTEGER NOT NULL DEFAULT 0 CHECK (public IN (0, 1))
);

-- +goose Down
-- Forward-only.
