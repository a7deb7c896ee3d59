-- WHERE on a MergeTree table: key conditions, non-key conditions, aliases in WHERE
CREATE TABLE t (id UInt32, name String, ts DateTime, v Float64) ENGINE = MergeTree ORDER BY (ts, id) PARTITION BY toYYYYMM(ts);
INSERT INTO t VALUES (1, 'a', '2024-01-05 10:00:00', 1.5), (2, 'b', '2024-01-20 11:00:00', 2.5), (3, 'c', '2024-02-01 00:00:00', -1), (4, 'a', '2024-02-15 12:30:00', 0), (5, 'b', '2024-03-01 08:00:00', 10);
SELECT id FROM t WHERE ts >= '2024-02-01' ORDER BY id;
SELECT id, name FROM t WHERE name = 'a' ORDER BY id;
SELECT id FROM t WHERE id IN (1, 3, 5) ORDER BY id;
SELECT id FROM t WHERE id NOT IN (1, 3, 5) ORDER BY id;
SELECT id FROM t WHERE v BETWEEN 0 AND 2 ORDER BY id;
SELECT id FROM t WHERE name LIKE 'a%' OR v > 5 ORDER BY id;
SELECT id * 10 AS x FROM t WHERE x > 25 ORDER BY x;
SELECT count() FROM t WHERE ts < '2024-01-01';
SELECT id FROM t WHERE toYYYYMM(ts) = 202401 ORDER BY id;
SELECT t.id FROM t WHERE t.name = 'b' ORDER BY t.id;
SELECT id FROM t WHERE nosuch = 1; -- { serverError UNKNOWN_IDENTIFIER }
