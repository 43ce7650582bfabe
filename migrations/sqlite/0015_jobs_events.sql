-- Durable background jobs, domain events and the marks that make notices idempotent.
-- Times are Unix epoch milliseconds.
--
-- A job is claimed by one runner at a time: claiming sets state = 'running', the runner's id
-- and a lease (locked_until); a runner that dies leaves the lease to run out, after which any
-- runner claims the job again. attempts counts the runs started.
CREATE TABLE jobs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    kind         TEXT    NOT NULL,
    payload      TEXT    NOT NULL,
    state        TEXT    NOT NULL CHECK (state IN ('queued', 'running', 'done', 'dead')),
    dedupe_key   TEXT,
    run_at       BIGINT  NOT NULL,
    attempts     BIGINT  NOT NULL DEFAULT 0,
    max_attempts BIGINT  NOT NULL,
    locked_by    TEXT,
    locked_until BIGINT,
    last_error   TEXT,
    created_at   BIGINT  NOT NULL,
    updated_at   BIGINT  NOT NULL,
    finished_at  BIGINT
);
CREATE INDEX jobs_due ON jobs (run_at) WHERE state = 'queued';
CREATE INDEX jobs_lease ON jobs (locked_until) WHERE state = 'running';
CREATE INDEX jobs_finished ON jobs (state, finished_at);
CREATE INDEX jobs_kind ON jobs (kind, state);
-- At most one queued job per dedupe key: enqueueing a twin moves the queued one earlier.
CREATE UNIQUE INDEX jobs_dedupe_queued ON jobs (dedupe_key) WHERE state = 'queued' AND dedupe_key IS NOT NULL;

-- Periodic jobs: the instance that moves next_run_at on queues the run, so a cluster queues
-- each period once.
CREATE TABLE job_schedules (
    kind        TEXT   PRIMARY KEY,
    next_run_at BIGINT NOT NULL,
    last_job_id BIGINT
);

-- Things that happened (a key rotated, a key about to expire, …), written in the transaction of
-- the change, then fanned out to each recipient's channels by an event.dispatch job.
CREATE TABLE events (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    kind         TEXT    NOT NULL,
    user_id      BIGINT  REFERENCES users (id) ON DELETE SET NULL,
    org_id       BIGINT,
    subject_type TEXT    NOT NULL,
    subject_id   BIGINT,
    data         TEXT    NOT NULL,
    created_at   BIGINT  NOT NULL
);
CREATE INDEX events_created_at ON events (created_at);
CREATE INDEX events_user ON events (user_id, id);

-- A dispatch run twice (after a crash) notifies nobody twice.
ALTER TABLE notifications ADD COLUMN event_id BIGINT;
CREATE UNIQUE INDEX notifications_event_user ON notifications (event_id, user_id) WHERE event_id IS NOT NULL;

-- Expiry notices sent, per key and expiry (a new expiry date arms them again); days_before 0 is
-- the notice that the key has expired.
CREATE TABLE key_expiry_notices (
    key_id      BIGINT NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
    expires_at  BIGINT NOT NULL,
    days_before BIGINT NOT NULL,
    sent_at     BIGINT NOT NULL,
    PRIMARY KEY (key_id, expires_at, days_before)
);
CREATE INDEX api_keys_expires_at ON api_keys (expires_at) WHERE expires_at IS NOT NULL;
