-- Browser sessions for the sessions page: a public id that is safe to show and to name in a
-- request (the id column is the cookie's secret value), the client of the sign-in, a
-- throttled last-seen time, and the password stamp the session was signed in under (so a
-- list can leave out sessions a password change has ended).
-- SQLite cannot add an AUTOINCREMENT column, so the table is rebuilt; AUTOINCREMENT keeps
-- the ids of deleted sessions from being handed out again.
CREATE TABLE web_sessions_next (
    public_id      INTEGER PRIMARY KEY AUTOINCREMENT,
    id             TEXT    NOT NULL,
    user_id        BIGINT  REFERENCES users (id) ON DELETE CASCADE,
    data           TEXT    NOT NULL,
    expires_at     BIGINT  NOT NULL,
    created_at     BIGINT  NOT NULL,
    updated_at     BIGINT  NOT NULL,
    ip             TEXT    NOT NULL DEFAULT '',
    user_agent     TEXT    NOT NULL DEFAULT '',
    last_seen_at   BIGINT  NOT NULL,
    password_stamp BIGINT
);
INSERT INTO web_sessions_next (id, user_id, data, expires_at, created_at, updated_at, last_seen_at, password_stamp)
    SELECT id, user_id, data, expires_at, created_at, updated_at, updated_at,
           CASE WHEN json_valid(data) THEN json_extract(data, '$.pwv') END
    FROM web_sessions ORDER BY created_at;
DROP TABLE web_sessions;
ALTER TABLE web_sessions_next RENAME TO web_sessions;
CREATE UNIQUE INDEX web_sessions_id_key ON web_sessions (id);
CREATE INDEX web_sessions_user_id ON web_sessions (user_id);
CREATE INDEX web_sessions_expires_at ON web_sessions (expires_at);
