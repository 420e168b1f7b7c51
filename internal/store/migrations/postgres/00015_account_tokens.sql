-- +goose Up
-- Single-use account links: password resets (purpose 'reset', for user_id)
-- and invitations (purpose 'invite', for an email and a role; user_id is
-- the account made on acceptance). Only the SHA-256 of the secret is kept.
-- A link is usable while used_at and revoked_at are NULL and expires_at is
-- in the future; every read checks that.
CREATE TABLE account_tokens (
    id          TEXT PRIMARY KEY,
    purpose     TEXT NOT NULL CHECK (purpose IN ('reset', 'invite')),
    token_hash  TEXT NOT NULL UNIQUE CHECK (length(token_hash) = 64),
    user_id     TEXT REFERENCES users (id) ON DELETE CASCADE,
    email       TEXT NOT NULL,
    role        TEXT NOT NULL DEFAULT '',
    created_by  TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    used_at     TIMESTAMPTZ,
    revoked_at  TIMESTAMPTZ
);
-- A user's open reset links (ended together when one is used).
CREATE INDEX account_tokens_user_idx ON account_tokens (user_id, purpose) WHERE user_id IS NOT NULL;
-- Pending invitations, listed by id (UUIDv7: time order).
CREATE INDEX account_tokens_purpose_idx ON account_tokens (purpose, id);
CREATE INDEX account_tokens_created_by_idx ON account_tokens (created_by);

-- +goose Down
-- Forward-only.
