-- A second rollup mark. The usage writer stores each minute's rows when the minute ends, but
-- the hour and day rows, client-IP rows and key totals they add to only every few minutes
-- (domain::analytics::pending): adding every active key's minute to its hour, day and total
-- rows once a minute cost about a second of one core per minute at 10,000 active keys, which
-- the verification latency paid for. Before 'usage_coarse' every stored raw event is in those
-- rows too; it starts where the minute mark is (until now both were one).
INSERT INTO rollup_progress (name, rolled_up_to)
SELECT 'usage_coarse', rolled_up_to FROM rollup_progress WHERE name = 'usage';
