-- Client-IP rollups: hour and day sums of usage events by owner, key, API and client address
-- ('' when unknown), so the usage page can name the busiest clients of any range without
-- reading raw events. Kept apart from usage_rollups, where an address column would multiply
-- every row by the number of clients. Written by the usage writer in the same transaction as
-- usage_rollups, under the same rollup_progress mark.
CREATE TABLE usage_ip_rollups (
    granularity   TEXT   NOT NULL,
    bucket_start  BIGINT NOT NULL,
    owner_user_id BIGINT NOT NULL,
    key_id        BIGINT NOT NULL,
    api_id        BIGINT NOT NULL,
    ip            TEXT   NOT NULL,
    requests      BIGINT NOT NULL,
    errors        BIGINT NOT NULL,
    PRIMARY KEY (granularity, bucket_start, owner_user_id, key_id, api_id, ip)
);
CREATE INDEX usage_ip_rollups_key ON usage_ip_rollups (granularity, key_id, bucket_start);
