-- +goose Up
-- The audit log is append-only. Only `quire audit prune` may delete, and
-- only a prefix of the chain: it opens the guard inside its transaction.
CREATE TABLE audit_prune_guard (open INTEGER NOT NULL);

-- Where the chain starts after a prune: the last pruned entry's seq and
-- hash, with an HMAC so that the anchor cannot be rewritten without the key.
CREATE TABLE audit_checkpoints (
    id          TEXT PRIMARY KEY,
    through_seq INTEGER NOT NULL UNIQUE,
    last_hash   TEXT NOT NULL,
    pruned      INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    signature   TEXT NOT NULL
);

-- +goose StatementBegin
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
WHEN NOT EXISTS (SELECT 1 FROM audit_prune_guard)
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'audit_checkpoints is append-only');
END;
-- +goose StatementEnd

-- +goose Down
-- Forward-only.
