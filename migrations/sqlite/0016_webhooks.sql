-- Webhooks (issue 7). Endpoints belong to a user (org_id is reserved for organisations).
-- The signing secrets are sealed with a key derived from the server secret (they must be
-- readable to sign, so they cannot be hashed); the previous secret stays valid for signing
-- until previous_secret_expires_at, so a rotation overlaps. event_types and headers are JSON.
-- Times are Unix epoch milliseconds.
CREATE TABLE webhook_endpoints (
    id                         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id                    BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    org_id                     BIGINT,
    url                        TEXT    NOT NULL,
    description                TEXT    NOT NULL DEFAULT '',
    event_types                TEXT    NOT NULL,
    secret_sealed              TEXT    NOT NULL,
    previous_secret_sealed     TEXT,
    previous_secret_expires_at BIGINT,
    headers                    TEXT    NOT NULL DEFAULT '{}',
    enabled                    BOOLEAN NOT NULL,
    disabled_reason            TEXT,
    failing_since              BIGINT,
    created_at                 BIGINT  NOT NULL,
    updated_at                 BIGINT  NOT NULL
);
CREATE INDEX webhook_endpoints_user ON webhook_endpoints (user_id, id);

-- One message to one endpoint, sent until it succeeds or gives up. event_id is NULL for test
-- sends; (endpoint_id, event_id) is unique so an event is never queued twice for an endpoint.
-- claimed_until is the lease of the attempt in flight (one sender per delivery).
CREATE TABLE webhook_deliveries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint_id     BIGINT  NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_id        BIGINT,
    msg_id          TEXT    NOT NULL,
    event_type      TEXT    NOT NULL,
    payload         TEXT    NOT NULL,
    attempts        BIGINT  NOT NULL DEFAULT 0,
    status          TEXT    NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    next_attempt_at BIGINT,
    claimed_until   BIGINT,
    last_attempt_at BIGINT,
    last_status     BIGINT,
    last_error      TEXT,
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL
);
CREATE UNIQUE INDEX webhook_deliveries_event ON webhook_deliveries (endpoint_id, event_id);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';

-- Every attempt: what was sent (headers without the signature), what came back (status and
-- the first 4 KiB of the body) or the error, and how long it took.
CREATE TABLE webhook_attempts (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id     BIGINT  NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempt         BIGINT  NOT NULL,
    request_headers TEXT    NOT NULL,
    response_status BIGINT,
    response_body   TEXT    NOT NULL DEFAULT '',
    error           TEXT,
    duration_ms     BIGINT  NOT NULL,
    created_at      BIGINT  NOT NULL
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, id);
