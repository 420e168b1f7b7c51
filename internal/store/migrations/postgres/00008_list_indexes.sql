-- +goose Up
-- Every list is a keyset index range (docs/performance.md, "Lists").
--
-- pages carries what its lists show and filter on, so that no list reads
-- a revision's snapshot: the published revision's publish time and content
-- hash, copied by SetPublishedRevision in the same statement that points
-- the page at it (NULL while nothing is published).
ALTER TABLE pages ADD COLUMN published_at TIMESTAMPTZ;
ALTER TABLE pages ADD COLUMN published_hash TEXT;
UPDATE pages SET
    published_at = (SELECT r.published_at FROM page_revisions r WHERE r.id = pages.published_revision_id),
    published_hash = (SELECT r.content_hash FROM page_revisions r WHERE r.id = pages.published_revision_id)
    WHERE published_revision_id IS NOT NULL;

-- The public list, newest publish first.
CREATE INDEX pages_public_idx ON pages (published_at, id) WHERE published_revision_id IS NOT NULL;
-- The admin list: each status filter in each sort. "changed" compares two
-- columns of the row, which a partial index predicate may do.
CREATE INDEX pages_draft_updated_idx ON pages (updated_at, id) WHERE published_revision_id IS NULL;
CREATE INDEX pages_draft_created_idx ON pages (created_at, id) WHERE published_revision_id IS NULL;
CREATE INDEX pages_published_updated_idx ON pages (updated_at, id) WHERE published_revision_id IS NOT NULL;
CREATE INDEX pages_published_created_idx ON pages (created_at, id) WHERE published_revision_id IS NOT NULL;
CREATE INDEX pages_changed_updated_idx ON pages (updated_at, id) WHERE content_hash <> published_hash;
CREATE INDEX pages_changed_created_idx ON pages (created_at, id) WHERE content_hash <> published_hash;
-- One author's pages in either sort; also the foreign key's index.
CREATE INDEX pages_author_updated_idx ON pages (created_by, updated_at, id);
CREATE INDEX pages_author_created_idx ON pages (created_by, created_at, id);
DROP INDEX pages_created_by_idx;

-- Media: live and deleted are separate lists, and one uploader's media.
CREATE INDEX media_live_created_idx ON media (created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX media_deleted_created_idx ON media (created_at, id) WHERE deleted_at IS NOT NULL;
CREATE INDEX media_uploader_created_idx ON media (uploaded_by_user_id, created_at, id);
DROP INDEX media_created_at_idx;
DROP INDEX media_uploaded_by_idx;

-- +goose Down
-- Forward-only.
