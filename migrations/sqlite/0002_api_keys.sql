-- API keys (only a keyed hash of the plaintext is stored) and the audit trail.
-- JSON lists/objects are stored as text; times are epoch milliseconds.

CREATE TABLE api_keys (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    key_hash        TEXT    NOT NULL,
    prefix          TEXT    NOT NULL,
    last4           TEXT    NOT NULL,
    name            TEXT    NOT NULL,
    description     TEXT    NOT NULL DEFAULT '',
    scopes          TEXT    NOT NULL DEFAULT '[]',
    tags            TEXT    NOT NULL DEFAULT '[]',
    metadata        TEXT    NOT NULL DEFAULT '{}',
    ip_allowlist    TEXT    NOT NULL DEFAULT '[]',
    allowed_origins TEXT    NOT NULL DEFAULT '[]',
    owner_user_id   BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    org_id          BIGINT,
    api_id          BIGINT,
    created_by      BIGINT  REFERENCES users (id) ON DELETE SET NULL,
    enabled         BOOLEAN NOT NULL DEFAULT TRUE,
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL,
    expires_at      BIGINT,
    -- set in the future while a rotated key's grace period runs
    revoked_at      BIGINT,
    rotated_to_id   BIGINT  REFERENCES api_keys (id) ON DELETE SET NULL,
    last_used_at    BIGINT
);
CREATE UNIQUE INDEX api_keys_key_hash_key ON api_keys (key_hash);
CREATE INDEX api_keys_owner ON api_keys (owner_user_id, id);
CREATE INDEX api_keys_created_at ON api_keys (created_at);

CREATE TABLE audit_log (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    actor_user_id BIGINT  REFERENCES users (id) ON DELETE SET NULL,
    action        TEXT    NOT NULL,
    target_type   TEXT    NOT NULL,
    target_id     BIGINT,
    old_values    TEXT,
    new_values    TEXT,
    ip            TEXT    NOT NULL,
    user_agent    TEXT    NOT NULL,
    created_at    BIGINT  NOT NULL
);
CREATE INDEX audit_log_target ON audit_log (target_type, target_id);
CREATE INDEX audit_log_created_at ON audit_log (created_at);
