-- Two-factor sign-in. A user's TOTP secret, sealed with a key derived from the server secret
-- (the server must read it back to check codes); enabled_at is NULL while enrollment waits
-- for a first valid code. last_used_step is the 30-second step of the last code accepted: a
-- code of that step or an earlier one is a replay. Recovery codes are kept as keyed hashes,
-- each usable once.
CREATE TABLE user_totp (
    user_id        BIGINT  PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret_sealed  TEXT    NOT NULL,
    enabled_at     BIGINT,
    last_used_step BIGINT,
    created_at     BIGINT  NOT NULL
);

CREATE TABLE user_recovery_codes (
    user_id    BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash  TEXT    NOT NULL,
    used_at    BIGINT,
    created_at BIGINT  NOT NULL,
    PRIMARY KEY (user_id, code_hash)
);
