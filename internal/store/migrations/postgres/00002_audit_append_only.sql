-- +goose Up
-- Where the chain starts after a prune: the last pruned entry's seq and
-- hash, with an HMAC so that the anchor cannot be rewritten without the key.
CREATE TABLE audit_checkpoints (
    id          TEXT PRIMARY KEY,
    through_seq BIGINT NOT NULL UNIQUE,
    last_hash   TEXT NOT NULL,
    pruned      BIGINT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    signature   TEXT NOT NULL
);

-- The audit log is append-only: UPDATE is always refused, DELETE only
-- inside `quire audit prune`, which sets quire.audit_prune for its own
-- transaction (SET LOCAL).
-- +goose StatementBegin
CREATE FUNCTION quire_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND TG_TABLE_NAME = 'audit_log'
       AND coalesce(current_setting('quire.audit_prune', true), '') = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION quire_audit_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION quire_audit_append_only();
CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE ON audit_checkpoints
    FOR EACH ROW EXECUTE FUNCTION quire_audit_append_only();

-- +goose Down
-- Forward-only.
