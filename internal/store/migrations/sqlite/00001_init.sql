-- +goose Up
-- Timestamps are TEXT in one fixed-width UTC form (2006-01-02T15:04:05.000000Z),
-- so that they sort correctly as text; booleans are 0/1; JSON is TEXT checked by json_valid.
CREATE TABLE users (
    id               TEXT PRIMARY KEY,
    email            TEXT NOT NULL,
    hashed_password  TEXT NOT NULL,
    role             TEXT NOT NULL CHECK (role IN ('admin', 'editor', 'author', 'viewer')),
    display_name     TEXT NOT NULL DEFAULT '',
    active           INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    last_token_issue TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    version          INTEGER NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

CREATE TABLE auth_sessions (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    revoked_at TEXT,
    ip         TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT ''
);
CREATE INDEX auth_sessions_user_idx ON auth_sessions (user_id);

CREATE TABLE refresh_tokens (
    id         TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES auth_sessions (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at    TEXT
);
CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (session_id);

CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    role         TEXT NOT NULL CHECK (role IN ('admin', 'editor', 'author', 'viewer')),
    created_by   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   TEXT NOT NULL,
    expires_at   TEXT,
    last_used_at TEXT
);
CREATE INDEX api_tokens_created_by_idx ON api_tokens (created_by);

CREATE TABLE pages (
    id                    TEXT PRIMARY KEY,
    slug                  TEXT NOT NULL UNIQUE CHECK (length(slug) BETWEEN 1 AND 200),
    title                 TEXT NOT NULL,
    created_by            TEXT NOT NULL REFERENCES users (id),
    updated_by            TEXT NOT NULL REFERENCES users (id),
    created_at            TEXT NOT NULL,
    updated_at            TEXT NOT NULL,
    version               INTEGER NOT NULL DEFAULT 1,
    published_revision_id TEXT REFERENCES page_revisions (id) DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX pages_created_by_idx ON pages (created_by);
CREATE INDEX pages_updated_at_idx ON pages (updated_at, id);
CREATE INDEX pages_created_at_idx ON pages (created_at, id);

CREATE TABLE page_blocks (
    id         TEXT PRIMARY KEY,
    page_id    TEXT NOT NULL REFERENCES pages (id) ON DELETE CASCADE,
    type       TEXT NOT NULL,
    position   INTEGER NOT NULL CHECK (position >= 0),
    content    TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(content) AND json_type(content) = 'object'),
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (page_id, position)
);

CREATE TABLE page_revisions (
    id                 TEXT PRIMARY KEY,
    page_id            TEXT NOT NULL REFERENCES pages (id) ON DELETE CASCADE,
    number             INTEGER NOT NULL CHECK (number >= 1),
    status             TEXT NOT NULL CHECK (status IN ('draft', 'published', 'archived')),
    title              TEXT NOT NULL,
    slug               TEXT NOT NULL,
    blocks             TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(blocks) AND json_type(blocks) = 'array'),
    note               TEXT NOT NULL DEFAULT '',
    created_by_user_id TEXT NOT NULL REFERENCES users (id),
    created_at         TEXT NOT NULL,
    published_at       TEXT,
    UNIQUE (page_id, number)
);
CREATE INDEX page_revisions_page_status_idx ON page_revisions (page_id, status);
-- At most one published revision per page, whatever races happen above.
CREATE UNIQUE INDEX page_revisions_one_published ON page_revisions (page_id) WHERE status = 'published';

CREATE TABLE media (
    id                  TEXT PRIMARY KEY,
    filename            TEXT NOT NULL,
    mime_type           TEXT NOT NULL,
    size_bytes          INTEGER NOT NULL CHECK (size_bytes >= 0),
    checksum_sha256     TEXT NOT NULL CHECK (length(checksum_sha256) = 64),
    width               INTEGER CHECK (width > 0),
    height              INTEGER CHECK (height > 0),
    alt                 TEXT NOT NULL DEFAULT '',
    title               TEXT NOT NULL DEFAULT '',
    storage_key         TEXT NOT NULL,
    uploaded_by_user_id TEXT NOT NULL REFERENCES users (id),
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    deleted_at          TEXT,
    version             INTEGER NOT NULL DEFAULT 1
);
-- The same bytes are stored once among live media.
CREATE UNIQUE INDEX media_checksum_live ON media (checksum_sha256) WHERE deleted_at IS NULL;
CREATE INDEX media_uploaded_by_idx ON media (uploaded_by_user_id);
CREATE INDEX media_created_at_idx ON media (created_at, id);

CREATE TABLE site_settings (
    key        TEXT PRIMARY KEY CHECK (length(key) BETWEEN 1 AND 100),
    value      TEXT NOT NULL CHECK (json_valid(value)),
    public     INTEGER NOT NULL DEFAULT 0 CHECK (public IN (0, 1)),
    updated_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    updated_at TEXT NOT NULL,
    version    INTEGER NOT NULL DEFAULT 1
);

-- user_id has no foreign key on purpose: deleting a user must not rewrite
-- (and so break the hash of) the entries that record what they did.
CREATE TABLE audit_log (
    seq           INTEGER PRIMARY KEY,
    id            TEXT NOT NULL UNIQUE,
    at            TEXT NOT NULL,
    user_id       TEXT CHECK (user_id <> ''),
    action        TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id   TEXT NOT NULL,
    details       TEXT NOT NULL CHECK (json_valid(details)),
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

-- +goose Down
-- Forward-only: releases never run down migrations.
