-- a CTE is not visible inside its own body: `WITH t AS (... FROM t)` reads the table t
-- (the planner recursed forever on it); chains of CTEs that refer to each other
CREATE TABLE t (x UInt8) ENGINE = MergeTree ORDER BY x;
INSERT INTO t VALUES (1), (2), (3);
CREATE TABLE b (x UInt8) ENGINE = MergeTree ORDER BY x;
INSERT INTO b VALUES (7);
WITH t AS (SELECT x * 10 AS y FROM t) SELECT * FROM t ORDER BY y;
WITH t AS (SELECT x FROM t WHERE x > 1) SELECT * FROM (SELECT * FROM t) ORDER BY x;
WITH t AS (SELECT * FROM (SELECT x FROM t)) SELECT sum(x) FROM t;
WITH t AS (SELECT x + 1 AS x FROM t) SELECT count() FROM t AS l JOIN t AS r ON l.x = r.x;
WITH t AS (SELECT x FROM t WHERE x > 1) SELECT count() FROM t UNION ALL SELECT count() FROM t;
WITH a AS (SELECT * FROM b), b AS (SELECT * FROM a) SELECT * FROM b;
WITH a AS (SELECT * FROM b), b AS (SELECT * FROM a) SELECT * FROM a; -- { serverError UNKNOWN_TABLE }
WITH a AS (SELECT * FROM a) SELECT * FROM a; -- { serverError UNKNOWN_TABLE }
-- the WITH of a union's first SELECT applies to every SELECT of the union (enable_global_with_statement)
WITH 5 AS n SELECT n UNION ALL SELECT n;
WITH t AS (SELECT 1 AS x) SELECT x FROM t UNION ALL (SELECT x FROM t);
SELECT 1 UNION ALL WITH t AS (SELECT 9 AS x) SELECT x FROM t;
WITH 1 AS n SELECT n UNION ALL SELECT n UNION ALL WITH 2 AS n SELECT n;
-- WITH expressions are visible in subqueries (enable_global_with_statement), below their own columns
WITH 5 AS n SELECT * FROM (SELECT n + x AS m FROM t) ORDER BY m;
WITH 5 AS n SELECT count() FROM t WHERE x IN (SELECT n - 3);
WITH 5 AS n, c AS (SELECT n AS k) SELECT * FROM c;
WITH 5 AS n SELECT n, (SELECT n + 1);
WITH 5 AS n SELECT * FROM (WITH 7 AS n SELECT n);
WITH 5 AS x SELECT * FROM (SELECT x FROM t) ORDER BY x;
WITH x * 2 AS y SELECT z FROM (SELECT y AS z FROM t) ORDER BY z;
