-- Usage totals for reports that do not single out a key: what every owner's keys (owner_user_id
-- -1), or one owner's keys, did per route, outcome code and status class (usage_totals); each
-- key's requests and failures (usage_key_totals); each client address's (usage_ip_totals).
-- usage_rollups and usage_ip_rollups hold the same sums split by key, API and owner; at a few
-- calls per key per hour those splits are about as many rows as raw events (100,000 keys,
-- 10,000,000 events a month: 1.9 million day rows), and an admin's 30-day report added them
-- all up five times (5.4 s on SQLite). These tables answer the same questions from a few
-- hundred rows per bucket, and the busiest keys and clients of a range from the busiest of
-- each bucket (domain::analytics::top). Hour and day rows only, except the all-owners rows of
-- usage_totals, which have minute rows too. Written by the usage writer with the other
-- rollups, in the same transaction, under the same mark; filled here from what is stored.
CREATE TABLE usage_totals (
    granularity    TEXT    NOT NULL,
    owner_user_id  BIGINT  NOT NULL,
    bucket_start   BIGINT  NOT NULL,
    api_id         BIGINT  NOT NULL,
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
    PRIMARY KEY (granularity, owner_user_id, bucket_start, api_id, endpoint, code, status_class)
);

CREATE TABLE usage_key_totals (
    granularity   TEXT   NOT NULL,
    bucket_start  BIGINT NOT NULL,
    key_id        BIGINT NOT NULL,
    owner_user_id BIGINT NOT NULL,
    requests      BIGINT NOT NULL,
    errors        BIGINT NOT NULL,
    PRIMARY KEY (granularity, bucket_start, key_id)
);
-- each bucket's keys, busiest first; one key's buckets; one owner's keys
CREATE INDEX usage_key_totals_rank ON usage_key_totals (granularity, bucket_start, requests, key_id);
CREATE INDEX usage_key_totals_key ON usage_key_totals (granularity, key_id, bucket_start);
CREATE INDEX usage_key_totals_owner ON usage_key_totals (granularity, owner_user_id, bucket_start);

CREATE TABLE usage_ip_totals (
    granularity   TEXT   NOT NULL,
    owner_user_id BIGINT NOT NULL,
    bucket_start  BIGINT NOT NULL,
    ip            TEXT   NOT NULL,
    requests      BIGINT NOT NULL,
    errors        BIGINT NOT NULL,
    PRIMARY KEY (granularity, owner_user_id, bucket_start, ip)
);
-- each bucket's clients, busiest first; one client's buckets
CREATE INDEX usage_ip_totals_rank ON usage_ip_totals (granularity, owner_user_id, bucket_start, requests, ip);
CREATE INDEX usage_ip_totals_ip ON usage_ip_totals (granularity, owner_user_id, ip, bucket_start);

INSERT INTO usage_totals (granularity, owner_user_id, bucket_start, api_id, endpoint, code, status_class,
    requests, request_bytes, response_bytes, latency_sum_us, h00, h01, h02, h03, h04, h05, h06, h07, h08, h09, h10, h11, h12, h13, h14, h15, h16, h17, h18, h19, h20, h21, h22, h23, h24, h25, h26, h27, h28, h29)
SELECT granularity, -1, bucket_start, api_id, endpoint, code, status_class,
    SUM(requests), SUM(request_bytes), SUM(response_bytes), SUM(latency_sum_us), SUM(h00), SUM(h01), SUM(h02), SUM(h03), SUM(h04), SUM(h05), SUM(h06), SUM(h07), SUM(h08), SUM(h09), SUM(h10), SUM(h11), SUM(h12), SUM(h13), SUM(h14), SUM(h15), SUM(h16), SUM(h17), SUM(h18), SUM(h19), SUM(h20), SUM(h21), SUM(h22), SUM(h23), SUM(h24), SUM(h25), SUM(h26), SUM(h27), SUM(h28), SUM(h29)
FROM usage_rollups
GROUP BY granularity, bucket_start, api_id, endpoint, code, status_class;

INSERT INTO usage_totals (granularity, owner_user_id, bucket_start, api_id, endpoint, code, status_class,
    requests, request_bytes, response_bytes, latency_sum_us, h00, h01, h02, h03, h04, h05, h06, h07, h08, h09, h10, h11, h12, h13, h14, h15, h16, h17, h18, h19, h20, h21, h22, h23, h24, h25, h26, h27, h28, h29)
SELECT granularity, owner_user_id, bucket_start, api_id, endpoint, code, status_class,
    SUM(requests), SUM(request_bytes), SUM(response_bytes), SUM(latency_sum_us), SUM(h00), SUM(h01), SUM(h02), SUM(h03), SUM(h04), SUM(h05), SUM(h06), SUM(h07), SUM(h08), SUM(h09), SUM(h10), SUM(h11), SUM(h12), SUM(h13), SUM(h14), SUM(h15), SUM(h16), SUM(h17), SUM(h18), SUM(h19), SUM(h20), SUM(h21), SUM(h22), SUM(h23), SUM(h24), SUM(h25), SUM(h26), SUM(h27), SUM(h28), SUM(h29)
FROM usage_rollups
WHERE granularity IN ('hour', 'day')
GROUP BY granularity, owner_user_id, bucket_start, api_id, endpoint, code, status_class;

INSERT INTO usage_key_totals (granularity, bucket_start, key_id, owner_user_id, requests, errors)
SELECT granularity, bucket_start, key_id, MIN(owner_user_id), SUM(requests), SUM(CASE WHEN code NOT IN ('VALID', 'PREFLIGHT') OR status_class = 5 THEN requests ELSE 0 END)
FROM usage_rollups
WHERE granularity IN ('hour', 'day')
GROUP BY granularity, bucket_start, key_id;

INSERT INTO usage_ip_totals (granularity, owner_user_id, bucket_start, ip, requests, errors)
SELECT granularity, -1, bucket_start, ip, SUM(requests), SUM(errors)
FROM usage_ip_rollups
GROUP BY granularity, bucket_start, ip;

INSERT INTO usage_ip_totals (granularity, owner_user_id, bucket_start, ip, requests, errors)
SELECT granularity, owner_user_id, bucket_start, ip, SUM(requests), SUM(errors)
FROM usage_ip_rollups
GROUP BY granularity, owner_user_id, bucket_start, ip;
