-- CREATE MATERIALIZED VIEW with its own ENGINE (an inner table), POPULATE, reading and inserting through the view name, DROP VIEW
CREATE TABLE hits (ts DateTime, url String, ms UInt32) ENGINE = MergeTree ORDER BY ts;
INSERT INTO hits VALUES ('2024-05-01 10:00:00', '/a', 10), ('2024-05-01 11:00:00', '/b', 20), ('2024-05-02 09:00:00', '/a', 30);
CREATE MATERIALIZED VIEW by_url ENGINE = AggregatingMergeTree ORDER BY url POPULATE AS SELECT url, countState() AS n, avgState(ms) AS avg_ms, maxSimpleState(ms) AS slowest FROM hits GROUP BY url;
INSERT INTO hits VALUES ('2024-05-03 10:00:00', '/a', 50), ('2024-05-03 12:00:00', '/c', 5);
SELECT url, countMerge(n), avgMerge(avg_ms), max(slowest) FROM by_url GROUP BY url ORDER BY url;
SELECT url, count(), avg(ms), max(ms) FROM hits GROUP BY url ORDER BY url;
CREATE MATERIALIZED VIEW daily ENGINE = SummingMergeTree ORDER BY day AS SELECT toDate(ts) AS day, count() AS n, sum(ms) AS total FROM hits GROUP BY day;
INSERT INTO hits VALUES ('2024-05-03 13:00:00', '/a', 1), ('2024-05-04 13:00:00', '/a', 2);
INSERT INTO hits VALUES ('2024-05-04 14:00:00', '/b', 3);
SELECT day, sum(n), sum(total) FROM daily GROUP BY day ORDER BY day;
OPTIMIZE TABLE daily FINAL;
SELECT day, n, total FROM daily ORDER BY day;
DROP VIEW daily;
SELECT count() FROM daily; -- { serverError UNKNOWN_TABLE }
