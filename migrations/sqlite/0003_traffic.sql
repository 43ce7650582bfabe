-- Traffic control: key limits, quotas and credits; the gateway's APIs; rate-limit policies;
-- usage events; security events. Times are epoch milliseconds.

ALTER TABLE api_keys ADD COLUMN rate_limits TEXT NOT NULL DEFAULT '[]';
-- quota: `quota_used` counts every unit handed out, including units an instance has leased
-- but not yet spent (so a crash can only under-serve, never over-serve)
ALTER TABLE api_keys ADD COLUMN quota_period TEXT;
ALTER TABLE api_keys ADD COLUMN quota_days INTEGER;
ALTER TABLE api_keys ADD COLUMN quota_anchor_day BIGINT;
ALTER TABLE api_keys ADD COLUMN quota_limit BIGINT;
ALTER TABLE api_keys ADD COLUMN quota_used BIGINT NOT NULL DEFAULT 0;
ALTER TABLE api_keys ADD COLUMN quota_period_start BIGINT;
-- credits: `remaining` excludes leased units, for the same reason; NULL means unlimited
ALTER TABLE api_keys ADD COLUMN remaining BIGINT;
ALTER TABLE api_keys ADD COLUMN refill_interval TEXT;
ALTER TABLE api_keys ADD COLUMN refill_amount BIGINT;
ALTER TABLE api_keys ADD COLUMN refilled_period_start BIGINT;

-- The APIs behind the gateway.
CREATE TABLE apis (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    name                TEXT    NOT NULL,
    slug                TEXT    NOT NULL,
    description         TEXT    NOT NULL DEFAULT '',
    upstream_url        TEXT    NOT NULL,
    default_rate_limits TEXT    NOT NULL DEFAULT '[]',
    timeout_ms          BIGINT  NOT NULL DEFAULT 30000,
    enabled             BOOLEAN NOT NULL DEFAULT TRUE,
    created_by          BIGINT  REFERENCES users (id) ON DELETE SET NULL,
    created_at          BIGINT  NOT NULL,
    updated_at          BIGINT  NOT NULL
);
CREATE UNIQUE INDEX apis_slug_key ON apis (slug);

-- Rate-limit policies beyond a key's own limits.
CREATE TABLE rate_limit_policies (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT    NOT NULL,
    scope         TEXT    NOT NULL,
    target        TEXT,
    api_id        BIGINT  REFERENCES apis (id) ON DELETE CASCADE,
    method        TEXT,
    path_pattern  TEXT,
    request_limit BIGINT  NOT NULL,
    window_unit   TEXT    NOT NULL,
    burst         BIGINT  NOT NULL DEFAULT 0,
    enabled       BOOLEAN NOT NULL DEFAULT TRUE,
    created_by    BIGINT  REFERENCES users (id) ON DELETE SET NULL,
    created_at    BIGINT  NOT NULL,
    updated_at    BIGINT  NOT NULL
);
CREATE INDEX rate_limit_policies_scope ON rate_limit_policies (scope);

-- Raw usage events, one per verification or gateway request; written in batches, kept for
-- the retention setting. No foreign keys: events outlive the keys and APIs they name.
CREATE TABLE usage_events (
    id             INTEGER PRIMARY KEY,
    created_at     BIGINT  NOT NULL,
    key_id         BIGINT,
    owner_user_id  BIGINT,
    api_id         BIGINT,
    source         TEXT    NOT NULL,
    endpoint       TEXT    NOT NULL DEFAULT '',
    code           TEXT    NOT NULL,
    status         INTEGER NOT NULL,
    latency_us     BIGINT  NOT NULL,
    request_bytes  BIGINT  NOT NULL,
    response_bytes BIGINT  NOT NULL,
    ip             TEXT    NOT NULL DEFAULT '',
    user_agent     TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX usage_events_created_at ON usage_events (created_at);
CREATE INDEX usage_events_key ON usage_events (key_id, created_at);

-- Security events: escalating rate-limit penalties now; sign-in and 2FA events later.
CREATE TABLE security_events (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    kind          TEXT    NOT NULL,
    subject_type  TEXT    NOT NULL,
    subject       TEXT    NOT NULL,
    user_id       BIGINT  REFERENCES users (id) ON DELETE SET NULL,
    detail        TEXT    NOT NULL DEFAULT '{}',
    ip            TEXT    NOT NULL DEFAULT '',
    user_agent    TEXT    NOT NULL DEFAULT '',
    created_at    BIGINT  NOT NULL
);
CREATE INDEX security_events_created_at ON security_events (created_at);
