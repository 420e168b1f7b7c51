-- +goose Up
-- content_hash fingerprints a page's title, slug and ordered blocks as the
-- application encoded them, so that "has unpublished changes" is one
-- comparison between the page and its published revision, never a diff
-- of JSON that PostgreSQL may have re-encoded.
ALTER TABLE pages ADD COLUMN content_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE page_revisions ADD COLUMN content_hash TEXT NOT NULL DEFAULT '';

-- +goose Down
-- Forward-only.
