-- +goose Up
-- Preview links: a token (stored only as its SHA-256) that shows a named
-- revision, or the working copy when revision_id is NULL, until expires_at.
-- Revoking a link deletes its row; an expired row is harmless (every read
-- checks expires_at) and is removed by `quire revisions prune`.
CREATE TABLE page_previews (
    id          TEXT PRIMARY KEY,
    page_id     TEXT NOT NULL REFERENCES pages (id) ON DELETE CASCADE,
    revision_id TEXT REFERENCES page_revisions (id) ON DELETE CASCADE,
    token_hash  TEXT NOT NULL UNIQUE CHECK (length(token_hash) = 64),
    prefix      TEXT NOT NULL,
    created_by  TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL
);
-- A page's previews newest first (ids are UUIDv7, so id order is time order).
CREATE INDEX page_previews_page_idx ON page_previews (page_id, id);
-- Retention asks which revisions a live preview still needs.
CREATE INDEX page_previews_revision_idx ON page_previews (revision_id) WHERE revision_id IS NOT NULL;
CREATE INDEX page_previews_created_by_idx ON page_previews (created_by);
-- Pruning finds expired links without reading live ones.
CREATE INDEX page_previews_expires_idx ON page_previews (expires_at);

-- +goose Down
-- Forward-only.
