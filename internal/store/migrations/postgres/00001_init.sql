-- +goose Up
CREATE TABLE users (
    id               TEXT PRIMARY KEY,
    email            TEXT NOT NULL,
    hashed_password  TEXT NOT NULL,
    role             TEXT NOT NULL CHECK (role IN ('admin', 'editor', 'author', 'viewer')),
    display_name     TEXT NOT NULL DEFAULT '',
    active           BOOLEAN NOT NULL DEFAULT TRUE,
    last_token_issue TIMESTAMPTZ NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    version          BIGINT NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

CREATE TABLE auth_sessions (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ,
    ip         TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT ''
);
CREATE INDEX auth_sessions_user_idx ON auth_sessions (user_id);

CREATE TABLE refresh_tokens (
    id         TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES auth_sessions (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ
);
CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (session_id);

CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    role         TEXT NOT NULL CHECK (role IN ('admin', 'editor', 'author', 'viewer')),
    created_by   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ,
    last_used_at TIMESTAMPTZ
);
CREATE INDEX api_tokens_created_by_idx ON api_tokens (created_by);

CREATE TABLE pages (
    id                    TEXT PRIMARY KEY,
    slug                  TEXT NOT NULL UNIQUE CHECK (length(slug) BETWEEN 1 AND 200),
    title                 TEXT NOT NULL,
    created_by            TEXT NOT NULL REFERENCES users (id),
    updated_by            TEXT NOT NULL REFERENCES users (id),
    created_at            TIMESTAMPTZ NOT NULL,
    updated_at            TIMESTAMPTZ NOT NULL,
    version               BIGINT NOT NULL DEFAULT 1,
    published_revision_id TEXT
);
CREATE INDEX pages_created_by_idx ON pages (created_by);
CREATE INDEX pages_updated_at_idx ON pages (updated_at, id);
CREATE INDEX pages_created_at_idx ON pages (created_at, id);

CREATE TABLE page_blocks (
    id         TEXT PRIMARY KEY,
    page_id    TEXT NOT NULL REFERENCES pages (id) ON DELETE CASCADE,
    type       TEXT NOT NULL,
    position   INTEGER NOT NULL CHECK (position >= 0),
    content    JSONB NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(content) = 'object'),
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- Deferrable so that a reorder can move positions through each other in one transaction.
    CONSTRAINT page_blocks_position_key UNIQUE (page_id, position) DEFERRABLE INITIALLY IMMEDIATE
);

CREATE TABLE page_revisions (
    id                 TEXT PRIMARY KEY,
    page_id            TEXT NOT NULL REFERENCES pages (id) ON DELETE CASCADE,
    number             INTEGER NOT NULL CHECK (number >= 1),
    status             TEXT NOT NULL CHECK (status IN ('draft', 'published', 'archived')),
    title              TEXT NOT NULL,
    slug               TEXT NOT NULL,
    blocks             JSONB NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(blocks) = 'array'),
    note               TEXT NOT NULL DEFAULT '',
    created_by_user_id TEXT NOT NULL REFERENCES users (id),
    created_at         TIMESTAMPTZ NOT NULL,
    published_at       TIMESTAMPTZ,
    UNIQUE (page_id, number)
);
CREATE INDEX page_revisions_page_status_idx ON page_revisions (page_id, status);
-- At most one published revision per page, whatever races happen above.
CREATE UNIQUE INDEX page_revisions_one_published ON page_revisions (page_id) WHERE status = 'published';

ALTER TABLE pages ADD CONSTRAINT pages_published_revision_fkey
    FOREIGN KEY (published_revision_id) REFERENCES page_revisions (id) DEFERRABLE INITIALLY DEFERRED;

CREATE TABLE media (
    id                  TEXT PRIMARY KEY,
    filename            TEXT NOT NULL,
    mime_type           TEXT NOT NULL,
    size_bytes          BIGINT NOT NULL CHECK (size_bytes >= 0),
    checksum_sha256     TEXT NOT NULL CHECK (length(checksum_sha256) = 64),
    width               INTEGER CHECK (width > 0),
    height              INTEGER CHECK (height > 0),
    alt                 TEXT NOT NULL DEFAULT '',
    title               TEXT NOT NULL DEFAULT '',
    storage_key         TEXT NOT NULL,
    uploaded_by_user_id TEXT NOT NULL REFERENCES users (id),
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL,
    deleted_at          TIMESTAMPTZ,
    version             BIGINT NOT NULL DEFAULT 1
);
-- The same bytes are stored once among live media.
CREATE UNIQUE INDEX media_checksum_live ON media (checksum_sha256) WHERE deleted_at IS NULL;
CREATE INDEX media_uploaded_by_idx ON media (uploaded_by_user_id);
CREATE INDEX media_created_at_idx ON media (created_at, id);

CREATE TABLE site_settings (
    key        TEXT PRIMARY KEY CHECK (length(key) BETWEEN 1 AND 100),
    value      JSONB NOT NULL,
    public     BOOLEAN NOT NULL DEFAULT FALSE,
    updated_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    version    BIGINT NOT NULL DEFAULT 1
);

-- user_id has no foreign key on purpose: deleting a user must not rewrite
-- (and so break the hash of) the entries that record what they did.
-- details is json, not jsonb: json keeps the exact text that was hashed.
CREATE TABLE audit_log (
    seq           BIGINT PRIMARY KEY,
    id            TEXT NOT NULL UNIQUE,
    at            TIMESTAMPTZ NOT NULL,
    user_id       TEXT CHECK (user_id <> ''),
    -- COLLATE "C": byte order, so that an action prefix ("page.") is an index range.
    action        TEXT COLLATE "C" NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id   TEXT NOT NULL,
    details       JSON NOT NULL,
    request_id    TEXT NOT NULL DEFAULT '',
    ip            TEXT NOT NULL DEFAULT '',
    prev_hash     TEXT NOT NULL,
    hash          TEXT NOT NULL
);
-- Each filter of the audit API has an index that also yields seq order, so
-- "newest first" pages are read straight off the index.
CREATE INDEX audit_log_resource_idx ON audit_log (resource_type, resource_id, seq);
CREATE INDEX audit_log_user_idx ON audit_log (user_id, seq);
CREATE INDEX audit_log_action_idx ON audit_log (action, seq);
CREATE INDEX audit_log_at_idx ON audit_log (at);

-- Secrets shared by every node, such as the JWT signing key when none is configured.
CREATE TABLE instance_secrets (
    name       TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

-- +goose Down
-- Forward-only: releases never run down migrations.
