-- Usage alerts: admin-set thresholds (one rule per kind), the alerts they raised (one per
-- kind, subject and period, so an evaluation run twice, or by two instances, raises nothing
-- twice), and the in-portal notifications they send.
CREATE TABLE alert_rules (
    kind           TEXT    PRIMARY KEY,
    enabled        BOOLEAN NOT NULL,
    threshold      REAL NOT NULL,
    window_minutes BIGINT  NOT NULL,
    min_requests   BIGINT  NOT NULL,
    updated_at     BIGINT  NOT NULL
);
-- Defaults: a quarter of a key's calls failing over 15 min (at least 20 calls); 100 rate-limit
-- refusals of a key in 15 min; an hour 5x the key's hourly mean of the last 7 days (at least
-- 100 calls); 50 refused or failed calls from one client IP in a clock hour.
INSERT INTO alert_rules (kind, enabled, threshold, window_minutes, min_requests, updated_at) VALUES
    ('error_rate', TRUE, 0.25, 15, 20, 0),
    ('rate_limited', TRUE, 100, 15, 0, 0),
    ('traffic_spike', TRUE, 5, 60, 100, 0),
    ('failed_ip', TRUE, 50, 60, 0, 0);

CREATE TABLE alerts (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    kind          TEXT    NOT NULL,
    -- api_key (subject = key id) or ip (subject = the address)
    subject_type  TEXT    NOT NULL,
    subject       TEXT    NOT NULL,
    key_id        BIGINT,
    owner_user_id BIGINT,
    period_start  BIGINT  NOT NULL,
    value         REAL NOT NULL,
    threshold     REAL NOT NULL,
    detail        TEXT    NOT NULL,
    created_at    BIGINT  NOT NULL,
    UNIQUE (kind, subject_type, subject, period_start)
);
CREATE INDEX alerts_created_at ON alerts (created_at);
CREATE INDEX alerts_owner ON alerts (owner_user_id, created_at);

CREATE TABLE notifications (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind       TEXT    NOT NULL,
    title      TEXT    NOT NULL,
    body       TEXT    NOT NULL,
    link       TEXT    NOT NULL DEFAULT '',
    created_at BIGINT  NOT NULL,
    read_at    BIGINT
);
CREATE INDEX notifications_user ON notifications (user_id, id);
