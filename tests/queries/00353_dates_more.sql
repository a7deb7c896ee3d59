-- date and time functions over a table
CREATE TABLE t (ts DateTime, d Date) ENGINE = MergeTree ORDER BY ts;
INSERT INTO t VALUES ('2024-02-28 23:59:59', '2024-02-28'), ('2024-02-29 12:30:00', '2024-02-29'), ('2024-03-31 00:00:00', '2024-03-31'), ('2023-12-31 18:45:10', '2023-12-31'), ('2024-01-01 00:00:00', '2024-01-01');
SELECT ts, toDate(ts), toYYYYMM(ts), toYYYYMMDD(ts) FROM t ORDER BY ts;
SELECT ts, toStartOfMonth(ts), toStartOfWeek(ts), toMonday(ts), toStartOfHour(ts) FROM t ORDER BY ts;
SELECT ts, toStartOfFifteenMinutes(ts), toStartOfInterval(ts, INTERVAL 1 DAY) FROM t ORDER BY ts;
SELECT d, toDayOfWeek(d), toDayOfMonth(d), toMonth(d), toYear(d) FROM t ORDER BY d;
SELECT d, addDays(d, 1), subtractDays(d, 1), d + INTERVAL 1 MONTH, d - INTERVAL 1 YEAR FROM t ORDER BY d;
SELECT ts, ts + INTERVAL 1 HOUR, addHours(ts, -25), ts - INTERVAL 30 MINUTE FROM t ORDER BY ts;
SELECT dateDiff('day', toDate('2024-01-01'), d), dateDiff('hour', toDateTime('2024-01-01 00:00:00'), ts) FROM t ORDER BY ts;
SELECT toUnixTimestamp(ts), formatDateTime(ts, '%Y/%m/%d %H:%M:%S') FROM t ORDER BY ts;
SELECT date_trunc('month', ts), date_trunc('day', ts) FROM t ORDER BY ts;
SELECT toStartOfMonth(d) AS m, count() FROM t GROUP BY m ORDER BY m;
SELECT count() FROM t WHERE ts >= '2024-02-29 00:00:00' AND ts < '2024-03-01 00:00:00';
SELECT count() FROM t WHERE toDate(ts) = '2024-02-28';
SELECT min(ts), max(ts), min(d), max(d) FROM t;
SELECT parseDateTimeBestEffort('2024-03-04T05:06:07Z'), parseDateTimeBestEffort('2024-03-04');
SELECT toDateTime('2024-01-01 00:00:00') + 86400 * 366;
