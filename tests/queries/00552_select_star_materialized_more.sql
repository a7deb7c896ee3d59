-- `*` without MATERIALIZED columns through FINAL, ARRAY JOIN, CTEs, comma joins, `y.*`, UNION ALL and
-- a USING join with a subquery that names the column (then an ordinary column of the subquery).
CREATE TABLE t (a UInt32, m UInt32 MATERIALIZED a * 2, arr Array(UInt8) DEFAULT [1, 2], d UInt32 DEFAULT 7) ENGINE = ReplacingMergeTree ORDER BY a;
INSERT INTO t (a) VALUES (1), (2);
INSERT INTO t (a, d) VALUES (2, 9);
SELECT * FROM t FINAL ORDER BY a FORMAT TSVWithNames;
SELECT * FROM t ARRAY JOIN arr ORDER BY a, arr, d FORMAT TSVWithNames;
WITH c AS (SELECT * FROM t) SELECT * FROM c ORDER BY a, d FORMAT TSVWithNames;
SELECT * FROM t WHERE m = 4 ORDER BY d FORMAT TSVWithNames;
SELECT * FROM t AS x, t AS y WHERE x.a = y.a AND x.d = y.d ORDER BY x.a, x.d FORMAT TSVWithNames;
SELECT y.* FROM t AS x JOIN t AS y ON x.a = y.a AND x.d = y.d ORDER BY y.a, y.d FORMAT TSVWithNames;
SELECT * FROM (SELECT * FROM t UNION ALL SELECT * FROM t) ORDER BY a, d FORMAT TSVWithNames;
SELECT * FROM t AS x LEFT JOIN (SELECT a, m FROM t FINAL) AS y USING a ORDER BY a, d FORMAT TSVWithNames;
