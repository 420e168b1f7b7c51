-- +goose Up
-- WebAuthn credentials (passkeys and security keys). credential_id is the
-- base64url of the raw id the authenticator chose, public_key the base64
-- of its COSE key (public, but never shown or logged). sign_count is the
-- highest counter seen: an assertion that does not raise it (unless both
-- are 0) is refused as a possible clone. flags is the WebAuthn flag byte
-- (user present/verified, backup eligible/state) of the last ceremony.
CREATE TABLE passkeys (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credential_id TEXT NOT NULL UNIQUE CHECK (length(credential_id) <= 1400),
    public_key    TEXT NOT NULL,
    sign_count    BIGINT NOT NULL DEFAULT 0,
    transports    TEXT NOT NULL DEFAULT '',
    flags         INTEGER NOT NULL DEFAULT 0,
    aaguid        TEXT NOT NULL DEFAULT '',
    attestation   TEXT NOT NULL DEFAULT '',
    name          TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    last_used_at  TIMESTAMPTZ
);
CREATE INDEX passkeys_user_idx ON passkeys (user_id, id);

-- Server-side state of a WebAuthn ceremony between its begin and finish
-- calls: the library's session data (challenge, allowed credentials, user
-- verification), found by the hash of a secret the client holds, used
-- once, short-lived. user_id is NULL for a passwordless sign-in, which
-- does not know the user until the assertion names it.
CREATE TABLE webauthn_ceremonies (
    id         TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE CHECK (length(token_hash) = 64),
    kind       TEXT NOT NULL CHECK (kind IN ('register', 'login', 'second_factor')),
    user_id    TEXT REFERENCES users (id) ON DELETE CASCADE,
    session    TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ
);
CREATE INDEX webauthn_ceremonies_expires_idx ON webauthn_ceremonies (expires_at);
CREATE INDEX webauthn_ceremonies_user_idx ON webauthn_ceremonies (user_id);

-- +goose Down
-- Forward-only.
