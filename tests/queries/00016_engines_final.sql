-- ReplacingMergeTree with FINAL, and queries that must see all parts
CREATE TABLE r (k UInt32, v String, ver UInt32) ENGINE = ReplacingMergeTree(ver) ORDER BY k;
INSERT INTO r VALUES (1, 'a', 1), (2, 'b', 1), (3, 'c', 1);
INSERT INTO r VALUES (1, 'a2', 2), (3, 'c0', 0);
SELECT count() FROM r;
SELECT k, v, ver FROM r FINAL ORDER BY k;
SELECT count() FROM r FINAL;
SELECT v FROM r FINAL WHERE k = 1;
SELECT k, argMax(v, ver) FROM r GROUP BY k ORDER BY k;
OPTIMIZE TABLE r FINAL;
SELECT k, v, ver FROM r ORDER BY k;
