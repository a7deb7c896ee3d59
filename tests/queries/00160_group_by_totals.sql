-- WITH TOTALS: the totals row after a blank line, HAVING with totals_mode, expressions over the totals row, extremes
CREATE TABLE s (g String, k UInt8, v Int32, n Nullable(Float64), d Date) ENGINE = MergeTree ORDER BY (g, k);
INSERT INTO s VALUES ('a', 1, 10, 1.5, '2024-01-01'), ('a', 2, -3, NULL, '2024-01-02'), ('b', 1, 7, 2.25, '2024-01-05'), ('b', 3, 100, -1, '2024-02-01'), ('c', 2, 0, NULL, '2024-02-03'), ('a', 1, 5, 0.5, '2024-03-01');
SELECT g, count() c, sum(v), avg(n), min(d), max(d) FROM s GROUP BY g WITH TOTALS ORDER BY g;
SELECT g, k, sum(v) AS sv, concat(g, '-', toString(k)) AS gk FROM s GROUP BY g, k WITH TOTALS ORDER BY g, k;
SELECT g, count() c FROM s GROUP BY g WITH TOTALS HAVING c > 1 ORDER BY g;
SELECT g, count() c FROM s GROUP BY g WITH TOTALS HAVING c > 1 ORDER BY g SETTINGS totals_mode = 'before_having';
SELECT g, count() c FROM s GROUP BY g WITH TOTALS HAVING c > 100;
SELECT k, sum(v) * 2 AS x, uniqExact(g) FROM s GROUP BY k WITH TOTALS ORDER BY k LIMIT 2;
SELECT g, count() FROM s WHERE v > 1000 GROUP BY g WITH TOTALS;
SELECT g, c FROM (SELECT g, count() c FROM s GROUP BY g WITH TOTALS) ORDER BY g;
SELECT g, sum(v) sv, sum(sv) OVER () FROM s GROUP BY g WITH TOTALS ORDER BY g;
SELECT count(), sum(v) FROM s WITH TOTALS;
SELECT count() c FROM s WITH TOTALS HAVING c > 100;
SELECT v FROM s WITH TOTALS; -- { serverError NOT_IMPLEMENTED }
SET extremes = 1;
SELECT g, k, v, n FROM s ORDER BY g, k, v;
SELECT g, count() c, sum(v) FROM s GROUP BY g WITH TOTALS ORDER BY g;
SELECT v FROM s WHERE v > 1000;
SELECT d, toString(d) FROM s ORDER BY d LIMIT 3;
SELECT [number, 1] a, tuple(number, 'x') t, toNullable(number) n, NULL z, toString(number) s FROM numbers(3) SETTINGS extremes = 1;
SELECT if(number = 1, nan, number / 2) f, toDecimal32(number, 2) d, if(number = 0, NULL, -number) n FROM numbers(3) SETTINGS extremes = 1;
