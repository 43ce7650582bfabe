-- Suspended accounts: sign-in, sessions, tokens, management keys and the user's API keys stop
-- working while suspended_at is set (epoch ms). The reason is the admin's note, shown to admins.
ALTER TABLE users ADD COLUMN suspended_at BIGINT NULL;
ALTER TABLE users ADD COLUMN suspended_reason TEXT NULL;
CREATE INDEX audit_log_actor ON audit_log (actor_user_id, created_at);
