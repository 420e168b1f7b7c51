-- +goose Up
-- A page's scheduled publish and/or unpublish. The jobs that carry them
-- out name the token; replacing or cancelling a schedule changes or
-- removes it, so that stale jobs do nothing. A time is cleared in the
-- transaction that acts on it, which is what makes it happen once.
CREATE TABLE page_schedules (
    page_id      TEXT PRIMARY KEY REFERENCES pages (id) ON DELETE CASCADE,
    publish_at   TIMESTAMPTZ,
    unpublish_at TIMESTAMPTZ,
    note         TEXT NOT NULL DEFAULT '',
    token        TEXT NOT NULL,
    created_by   TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at   TIMESTAMPTZ NOT NULL
);

-- +goose Down
-- Forward-only.
