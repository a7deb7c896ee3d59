-- dates and times: functions, grouping by buckets, comparisons with strings
CREATE TABLE ev (ts DateTime, d Date, v UInt32) ENGINE = MergeTree ORDER BY ts PARTITION BY toYYYYMM(d);
INSERT INTO ev VALUES ('2024-01-31 23:59:59', '2024-01-31', 1), ('2024-02-01 00:00:00', '2024-02-01', 2), ('2024-02-01 13:45:00', '2024-02-01', 3), ('2024-03-10 06:00:00', '2024-03-10', 4);
SELECT toDate(ts) AS day, count(), sum(v) FROM ev GROUP BY day ORDER BY day;
SELECT toYYYYMM(d) AS m, count() FROM ev GROUP BY m ORDER BY m;
SELECT toStartOfHour(ts) AS h, sum(v) FROM ev GROUP BY h ORDER BY h;
SELECT min(ts), max(ts), min(d), max(d) FROM ev;
SELECT ts FROM ev WHERE ts >= '2024-02-01 00:00:00' AND ts < '2024-03-01' ORDER BY ts;
SELECT toYear(d), toMonth(d), toDayOfMonth(d), toHour(ts) FROM ev ORDER BY ts;
SELECT d + 1, ts + INTERVAL 1 HOUR FROM ev ORDER BY ts LIMIT 2;
