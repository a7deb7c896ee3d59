-- `*` expands to the table's columns, even where a WITH or SELECT alias has a column's name
-- (the expanded identifiers were resolved as the alias)
CREATE TABLE t (x UInt8, s String) ENGINE = MergeTree ORDER BY x;
INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c');
WITH 5 AS x SELECT * FROM t ORDER BY s;
WITH 5 AS x SELECT *, x FROM t ORDER BY s;
SELECT x + 10 AS x, * FROM t ORDER BY s;
SELECT concat(s, '!') AS s, * FROM t ORDER BY x;
WITH 5 AS x SELECT * FROM (SELECT x, s FROM t) ORDER BY s;
SELECT * EXCEPT (s), x * 2 AS y FROM t ORDER BY y DESC;
WITH 'z' AS s SELECT * FROM t WHERE x > 1 ORDER BY x;
