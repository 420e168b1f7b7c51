-- +goose Up
-- The daily prune deletes account rows a day after they end, a batch at a
-- time in expiry order (store.PruneAccountRows): each batch is a range of
-- one of these indexes (login_challenges and login_failures have theirs).
CREATE INDEX account_tokens_expires_idx ON account_tokens (expires_at);
CREATE INDEX refresh_tokens_expires_idx ON refresh_tokens (expires_at);
CREATE INDEX auth_sessions_expires_idx ON auth_sessions (expires_at);

-- +goose Down
-- Forward-only.
