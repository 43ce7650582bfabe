-- Usage totals summed over routes: what every owner's keys (owner_user_id -1), or one owner's
-- keys, did per API, outcome code and status class. A report or outcome chart that singles out
-- no route or key adds these up instead of usage_totals, whose rows are split by route too
-- (about 250 a bucket on the demo data against about 10 here): an admin's 7-day report by the
-- hour added up 42,000 wide rows (40 ms on SQLite). Hour and day rows for each owner, minute
-- rows for all owners together, as in usage_totals; written with it, in the same transaction,
-- under the same marks; filled here from it.
CREATE TABLE usage_outcome_totals (
    granularity    TEXT    NOT NULL,
    owner_user_id  BIGINT  NOT NULL,
    bucket_start   BIGINT  NOT NULL,
    api_id         BIGINT  NOT NULL,
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
    PRIMARY KEY (granularity, owner_user_id, bucket_start, api_id, code, status_class)
);

INSERT INTO usage_outcome_totals (granularity, owner_user_id, bucket_start, api_id, code, status_class,
    requests, request_bytes, response_bytes, latency_sum_us, h00, h01, h02, h03, h04, h05, h06, h07, h08, h09, h10, h11, h12, h13, h14, h15, h16, h17, h18, h19, h20, h21, h22, h23, h24, h25, h26, h27, h28, h29)
SELECT granularity, owner_user_id, bucket_start, api_id, code, status_class,
    SUM(requests), SUM(request_bytes), SUM(response_bytes), SUM(latency_sum_us), SUM(h00), SUM(h01), SUM(h02), SUM(h03), SUM(h04), SUM(h05), SUM(h06), SUM(h07), SUM(h08), SUM(h09), SUM(h10), SUM(h11), SUM(h12), SUM(h13), SUM(h14), SUM(h15), SUM(h16), SUM(h17), SUM(h18), SUM(h19), SUM(h20), SUM(h21), SUM(h22), SUM(h23), SUM(h24), SUM(h25), SUM(h26), SUM(h27), SUM(h28), SUM(h29)
FROM usage_totals
GROUP BY granularity, owner_user_id, bucket_start, api_id, code, status_class;
