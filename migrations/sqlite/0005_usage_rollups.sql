-- Usage rollups: minute, hour and day sums of usage events by key, API, owner, route
-- (ids in paths folded to {id}), outcome code and HTTP status class, with a latency histogram
-- in fixed bins h00..h29 (domain::analytics::histogram), so that rows of any range add up.
-- Absent ids are 0. The usage writer adds each ended minute's sums (and the hour and day rows
-- they add up to); rollup_progress holds the instant before which every stored raw event is
-- counted, moved in the same transaction as the sums.
CREATE TABLE usage_rollups (
    granularity    TEXT    NOT NULL,
    bucket_start   BIGINT  NOT NULL,
    key_id         BIGINT  NOT NULL,
    api_id         BIGINT  NOT NULL,
    owner_user_id  BIGINT  NOT NULL,
    endpoint       TEXT    NOT NULL,
    code           TEXT    NOT NULL,
    status_class   INTEGER NOT NULL,
    requests       BIGINT  NOT NULL,
    request_bytes  BIGINT  NOT NULL,
    response_bytes BIGINT  NOT NULL,
    latency_sum_us BIGINT  NOT NULL,
    h00            BIGINT  NOT NULL DEFAULT 0,
    h01            BIGINT  NOT NULL DEFAULT 0,
    h02            BIGINT  NOT NULL DEFAULT 0,
    h03            BIGINT  NOT NULL DEFAULT 0,
    h04            BIGINT  NOT NULL DEFAULT 0,
    h05            BIGINT  NOT NULL DEFAULT 0,
    h06            BIGINT  NOT NULL DEFAULT 0,
    h07            BIGINT  NOT NULL DEFAULT 0,
    h08            BIGINT  NOT NULL DEFAULT 0,
    h09            BIGINT  NOT NULL DEFAULT 0,
    h10            BIGINT  NOT NULL DEFAULT 0,
    h11            BIGINT  NOT NULL DEFAULT 0,
    h12            BIGINT  NOT NULL DEFAULT 0,
    h13            BIGINT  NOT NULL DEFAULT 0,
    h14            BIGINT  NOT NULL DEFAULT 0,
    h15            BIGINT  NOT NULL DEFAULT 0,
    h16            BIGINT  NOT NULL DEFAULT 0,
    h17            BIGINT  NOT NULL DEFAULT 0,
    h18            BIGINT  NOT NULL DEFAULT 0,
    h19            BIGINT  NOT NULL DEFAULT 0,
    h20            BIGINT  NOT NULL DEFAULT 0,
    h21            BIGINT  NOT NULL DEFAULT 0,
    h22            BIGINT  NOT NULL DEFAULT 0,
    h23            BIGINT  NOT NULL DEFAULT 0,
    h24            BIGINT  NOT NULL DEFAULT 0,
    h25            BIGINT  NOT NULL DEFAULT 0,
    h26            BIGINT  NOT NULL DEFAULT 0,
    h27            BIGINT  NOT NULL DEFAULT 0,
    h28            BIGINT  NOT NULL DEFAULT 0,
    h29            BIGINT  NOT NULL DEFAULT 0,
    PRIMARY KEY (granularity, bucket_start, key_id, api_id, owner_user_id, endpoint, code, status_class)
);
CREATE INDEX usage_rollups_key ON usage_rollups (granularity, key_id, bucket_start);
CREATE INDEX usage_rollups_owner ON usage_rollups (granularity, owner_user_id, bucket_start);

CREATE TABLE rollup_progress (
    name         TEXT   PRIMARY KEY,
    rolled_up_to BIGINT NOT NULL
);
INSERT INTO rollup_progress (name, rolled_up_to) VALUES ('usage', 0);
