-- Notification preferences: a user's choices per event type and channel (in_app, email,
-- webhook). Only the choices that differ from the catalog's defaults are stored
-- (crate::domain::notification_prefs), so a new event type gets its default for everyone
-- without a backfill, and a changed default reaches everyone who never chose.
CREATE TABLE notification_prefs (
    user_id    BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind       TEXT    NOT NULL,
    channel    TEXT    NOT NULL CHECK (channel IN ('in_app', 'email', 'webhook')),
    enabled    BOOLEAN NOT NULL,
    updated_at BIGINT  NOT NULL,
    PRIMARY KEY (user_id, kind, channel)
);

-- Mail about an event is queued once per (event, user) even when the dispatch that queues it
-- runs twice (after a crash): the key is 'event:<event id>:<user id>', NULL for other mail
-- (NULLs never collide in a unique index, on either backend).
ALTER TABLE mail_outbox ADD COLUMN dedupe_key TEXT;
CREATE UNIQUE INDEX mail_outbox_dedupe_key ON mail_outbox (dedupe_key);

-- Notifications are filtered by event type; usage alerts were stored per rule
-- ('alert.error_rate', …) and are now one event type, 'alert.triggered' (the rule is in the
-- title and the alert itself).
UPDATE notifications SET kind = 'alert.triggered' WHERE kind LIKE 'alert.%';
CREATE INDEX notifications_user_kind ON notifications (user_id, kind, id);
