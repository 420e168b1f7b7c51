-- +goose Up
-- API tokens get scopes (space-separated, see scope.go). Existing tokens
-- keep what their role let them do: admin tokens get "admin", editors
-- content, media and settings, authors content and media, viewers
-- read-only content (docs/security/auth.md).
ALTER TABLE api_tokens ADD COLUMN scopes TEXT NOT NULL DEFAULT '';
UPDATE api_tokens SET scopes = CASE role
    WHEN 'admin' THEN 'admin'
    WHEN 'editor' THEN 'content:write media settings'
    WHEN 'author' THEN 'content:write media'
    ELSE 'content:read'
END;

-- Audit entries name the API token an action was taken with; '' for login
-- sessions, the command line and every entry written before this
-- migration. Entries with a token use the canonical encoding v2, those
-- without keep v1, so the existing chain verifies unchanged (docs/audit.md).
-- Adding a column fires no row trigger, so the append-only rule holds.
ALTER TABLE audit_log ADD COLUMN api_token_id TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN api_token_name TEXT NOT NULL DEFAULT '';
CREATE INDEX audit_log_api_token_idx ON audit_log (api_token_id, seq);

-- +goose Down
-- Forward-only.
