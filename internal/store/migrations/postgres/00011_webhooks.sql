-- +goose Up
-- Webhook endpoints. The signing secret is needed to sign, so it cannot be
-- hashed: it is stored encrypted (AES-GCM under a key derived from the
-- instance key). During a rotation the previous secret signs too, until
-- previous_secret_until. event_types is a JSON array; empty means all.
CREATE TABLE webhooks (
    id                    TEXT PRIMARY KEY,
    url                   TEXT NOT NULL,
    description           TEXT NOT NULL DEFAULT '',
    event_types           TEXT NOT NULL DEFAULT '[]',
    active                BOOLEAN NOT NULL DEFAULT TRUE,
    secret_enc            TEXT NOT NULL,
    previous_secret_enc   TEXT,
    previous_secret_until TIMESTAMPTZ,
    failing_since         TIMESTAMPTZ,
    disabled_reason       TEXT NOT NULL DEFAULT '',
    created_by            TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at            TIMESTAMPTZ NOT NULL,
    updated_at            TIMESTAMPTZ NOT NULL,
    version               BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX webhooks_active_idx ON webhooks (active);

-- One row per message to one endpoint; the job queue retries it. payload
-- is the exact body sent, so that every attempt and a redelivery carry the
-- same message. Listed newest first by id (UUIDv7: time ordered).
CREATE TABLE webhook_deliveries (
    id              TEXT PRIMARY KEY,
    webhook_id      TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id        TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    payload         TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    response_code   INTEGER,
    response_body   TEXT NOT NULL DEFAULT '',
    error           TEXT NOT NULL DEFAULT '',
    duration_ms     BIGINT,
    next_attempt_at TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX webhook_deliveries_list_idx ON webhook_deliveries (webhook_id, id);

-- How far webhook deliveries have been made from the event log: the
-- dispatcher creates the deliveries (and their jobs) of the events after
-- it and moves it, in one transaction, so that each event fans out once.
CREATE TABLE webhook_dispatch (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    through BIGINT NOT NULL
);
INSERT INTO webhook_dispatch (id, through) VALUES (1, 0);

-- +goose Down
-- Forward-only.
