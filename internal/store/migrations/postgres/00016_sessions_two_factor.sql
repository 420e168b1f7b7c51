-- +goose Up
-- A user's sessions, listed by id (keyset) for GET /auth/sessions.
CREATE INDEX auth_sessions_user_list_idx ON auth_sessions (user_id, id);

-- TOTP second factor (RFC 6238). The secret is sealed with a key derived
-- from the instance key; confirmed_at is NULL while the enrolment waits
-- for its first code. last_step is the highest time step accepted, so no
-- code is accepted twice within its window.
CREATE TABLE user_totp (
    user_id       TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret_sealed TEXT NOT NULL,
    confirmed_at  TIMESTAMPTZ,
    last_step     BIGINT NOT NULL DEFAULT 0,
    created_at    TIMESTAMPTZ NOT NULL
);

-- Single-use recovery codes (SHA-256 of 80-bit codes), shown once.
CREATE TABLE recovery_codes (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash  TEXT NOT NULL UNIQUE CHECK (length(code_hash) = 64),
    used_at    TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX recovery_codes_user_idx ON recovery_codes (user_id);

-- The second step of a two-step login: the first step (a correct
-- password) returns a short-lived challenge secret, never tokens; only its
-- hash is kept. attempts counts wrong codes against it.
CREATE TABLE login_challenges (
    id         TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE CHECK (length(token_hash) = 64),
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ,
    attempts   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX login_challenges_user_idx ON login_challenges (user_id);
CREATE INDEX login_challenges_expires_idx ON login_challenges (expires_at);

-- +goose Down
-- Forward-only.
