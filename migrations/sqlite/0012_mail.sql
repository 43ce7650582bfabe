-- Mail. Every message goes through the outbox: rendered once, delivered by a background
-- worker that claims due rows with a lease (claimed_until) so one instance sends each, and
-- retries with backoff until sent_at or failed_at is set. The body (text and HTML, which may
-- hold a one-time link) is sealed with a key derived from the server secret and cleared once
-- the message is sent or given up. Times are Unix epoch milliseconds.
CREATE TABLE mail_outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    kind            TEXT    NOT NULL,
    user_id         BIGINT  REFERENCES users (id) ON DELETE SET NULL,
    recipient       TEXT    NOT NULL,
    recipient_name  TEXT    NOT NULL,
    subject         TEXT    NOT NULL,
    body_sealed     TEXT    NOT NULL,
    created_at      BIGINT  NOT NULL,
    next_attempt_at BIGINT  NOT NULL,
    attempts        BIGINT  NOT NULL DEFAULT 0,
    claimed_until   BIGINT,
    sent_at         BIGINT,
    failed_at       BIGINT,
    last_error      TEXT
);
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at) WHERE sent_at IS NULL AND failed_at IS NULL;
CREATE INDEX mail_outbox_user ON mail_outbox (user_id);

-- One-time links sent by mail (password reset, email verification), kept only as keyed
-- hashes. A new token of a purpose replaces the user's older unused ones.
CREATE TABLE email_tokens (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    TEXT    NOT NULL CHECK (purpose IN ('password_reset', 'verify_email')),
    token_hash TEXT    NOT NULL,
    email      TEXT    NOT NULL,
    created_at BIGINT  NOT NULL,
    expires_at BIGINT  NOT NULL,
    used_at    BIGINT
);
CREATE UNIQUE INDEX email_tokens_token_hash_key ON email_tokens (token_hash);
CREATE INDEX email_tokens_user ON email_tokens (user_id, purpose);

-- Requests that send such a link, for everyone (known address or not), so the throttle per
-- address and per client IP answers the same either way.
CREATE TABLE email_requests (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    purpose      TEXT    NOT NULL,
    email        TEXT    NOT NULL,
    ip           TEXT    NOT NULL,
    requested_at BIGINT  NOT NULL
);
CREATE INDEX email_requests_email ON email_requests (purpose, email, requested_at);
CREATE INDEX email_requests_ip ON email_requests (purpose, ip, requested_at);
