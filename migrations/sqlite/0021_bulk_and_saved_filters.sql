-- Bulk key operations: one row per operation, so every item's audit record names it and a
-- large operation can report progress. Per-item results are kept as a JSON array once done.
CREATE TABLE bulk_operations (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    actor_user_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    action        TEXT   NOT NULL,
    total         BIGINT NOT NULL,
    done          BIGINT NOT NULL DEFAULT 0,
    failed        BIGINT NOT NULL DEFAULT 0,
    status        TEXT   NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
    results       TEXT,
    created_at    BIGINT NOT NULL,
    finished_at   BIGINT
);
CREATE INDEX bulk_operations_actor ON bulk_operations (actor_user_id, created_at);

-- A user's named key filters: the /keys query string, so a saved filter is a shareable link.
CREATE TABLE saved_key_filters (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name       TEXT   NOT NULL,
    query      TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (user_id, name)
);
