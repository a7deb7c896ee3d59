-- NULL handling in filters, aggregates and sorting; conditional functions
CREATE TABLE n (id UInt8, x Nullable(Int32), s Nullable(String)) ENGINE = MergeTree ORDER BY id;
INSERT INTO n VALUES (1, 10, 'a'), (2, NULL, 'b'), (3, -5, NULL), (4, NULL, NULL), (5, 7, 'a');
SELECT count(), count(x), count(s), sum(x), avg(x), min(x), max(s) FROM n;
SELECT toTypeName(sum(x)), toTypeName(min(s)), toTypeName(count(x)), toTypeName(uniqExact(x)) FROM n;
SELECT id FROM n WHERE x > 0 ORDER BY id;
SELECT id FROM n WHERE x IS NULL ORDER BY id;
SELECT id FROM n WHERE NOT (x > 0) ORDER BY id;
SELECT s, count(), sum(x) FROM n GROUP BY s ORDER BY s;
SELECT x FROM n ORDER BY x;
SELECT x FROM n ORDER BY x DESC NULLS FIRST;
SELECT id, if(x > 0, 'pos', 'other'), ifNull(x, 0), coalesce(s, 'none') FROM n ORDER BY id;
SELECT id, CASE WHEN x > 5 THEN 'big' WHEN x > 0 THEN 'small' ELSE 'none' END FROM n ORDER BY id;
SELECT multiIf(id < 2, 'a', id < 4, 'b', 'c') AS m, count() FROM n GROUP BY m ORDER BY m;
SELECT sumIf(x, s = 'a'), countIf(x IS NULL), avgIf(x, x < 100) FROM n;
SELECT count() FROM n WHERE s IN ('a', 'b');
SELECT isNull(x), isNotNull(s) FROM n ORDER BY id;
