-- WHERE and GROUP BY over a table with several key types and NULLs
CREATE TABLE g (id UInt32, k String, n Nullable(Int32), d Date, v Float64) ENGINE = MergeTree ORDER BY id;
INSERT INTO g SELECT number, ['a', 'b', 'c'][number % 3 + 1], if(number % 4 = 0, NULL, toInt32(number % 5) - 2), toDate('2024-01-01') + number % 10, number / 8 FROM numbers(200);
SELECT count() FROM g WHERE k = 'a';
SELECT count() FROM g WHERE n IS NULL;
SELECT count() FROM g WHERE n > 0;
SELECT count() FROM g WHERE NOT (n > 0);
SELECT count() FROM g WHERE n IN (1, 2) OR k = 'c';
SELECT count() FROM g WHERE id BETWEEN 10 AND 20 AND k != 'b';
SELECT count() FROM g WHERE d >= '2024-01-05' AND d < '2024-01-08';
SELECT count() FROM g WHERE k LIKE 'a%' OR k ILIKE 'B';
SELECT count() FROM g WHERE v > 10.5;
SELECT count() FROM g WHERE id % 7 = 0 AND v < 20;
SELECT k, count(), sum(id), min(v), max(v) FROM g GROUP BY k ORDER BY k;
SELECT n, count() FROM g GROUP BY n ORDER BY n;
SELECT k, n, count() AS c FROM g GROUP BY k, n ORDER BY k, n;
SELECT d, k, sum(v) FROM g GROUP BY d, k ORDER BY d, k LIMIT 7;
SELECT id % 3 AS r, avg(v), uniqExact(k) FROM g GROUP BY r ORDER BY r;
SELECT k, countIf(n > 0), sumIf(id, n IS NULL), avgIf(v, k = 'a') FROM g GROUP BY k ORDER BY k;
SELECT k, groupArray(id) FROM (SELECT * FROM g WHERE id < 9 ORDER BY id) GROUP BY k ORDER BY k;
SELECT k, argMax(id, v), argMin(id, v), any(k) FROM g GROUP BY k ORDER BY k;
SELECT count(), count(n), count(DISTINCT n), sum(n), avg(n) FROM g;
SELECT k FROM g GROUP BY k HAVING count() > 66 ORDER BY k;
SELECT toYYYYMM(d) AS m, count() FROM g GROUP BY m;
SELECT count() FROM g WHERE k = 'zzz';
SELECT k, count() FROM g WHERE k = 'zzz' GROUP BY k;
SELECT sum(v), min(id), max(id) FROM g WHERE 0;
SELECT nosuch FROM g; -- { serverError UNKNOWN_IDENTIFIER }
SELECT k, id FROM g GROUP BY k; -- { serverError NOT_AN_AGGREGATE }
SELECT count() FROM g WHERE sum(id) > 1; -- { serverError ILLEGAL_AGGREGATION }
