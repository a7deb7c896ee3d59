-- ARRAY JOIN, LEFT ARRAY JOIN, aliases, several arrays, arrayJoin()
CREATE TABLE t (id UInt32, a Array(UInt32), s Array(String)) ENGINE = MergeTree ORDER BY id;
INSERT INTO t VALUES (1, [1, 2, 3], ['a', 'b', 'c']), (2, [], []), (3, [7], ['z']);
SELECT id, a FROM t ARRAY JOIN a ORDER BY id, a;
SELECT id, a, s FROM t ARRAY JOIN a, s ORDER BY id, a;
SELECT id, x, a FROM t ARRAY JOIN a AS x ORDER BY id, x;
SELECT id, x, y FROM t ARRAY JOIN a AS x, s AS y ORDER BY id, x;
SELECT id, a FROM t LEFT ARRAY JOIN a ORDER BY id, a;
SELECT id, x, toTypeName(x) FROM t LEFT ARRAY JOIN s AS x ORDER BY id, x;
SELECT id, e FROM t ARRAY JOIN [10, 20] AS e ORDER BY id, e;
SELECT id, x, n FROM t ARRAY JOIN a AS x, arrayEnumerate(a) AS n ORDER BY id, n;
SELECT x, count() FROM t ARRAY JOIN a AS x GROUP BY x ORDER BY x;
SELECT id, arrayJoin(a) AS v FROM t ORDER BY id, v;
SELECT arrayJoin([1, 2, 3]) AS v, v * 2;
SELECT sum(x) FROM t ARRAY JOIN a AS x WHERE x > 1;
SELECT id FROM t WHERE arrayJoin(a) > 1 ORDER BY id;
SELECT id, arrayJoin(a) AS x, arrayJoin(s) AS y FROM t ORDER BY id, x, y;
SELECT id, arrayJoin(a) + 1, arrayJoin(a) * 2 FROM t ORDER BY 1, 2;
SELECT id, x FROM t ARRAY JOIN a AS x JOIN (SELECT 2 AS x, 'two' AS name) AS n USING x ORDER BY id;
SELECT id, a, s FROM t ARRAY JOIN a, [1, 2] AS s; -- { serverError SIZES_OF_ARRAYS_DONT_MATCH }
SELECT id FROM t ARRAY JOIN id; -- { serverError TYPE_MISMATCH }
