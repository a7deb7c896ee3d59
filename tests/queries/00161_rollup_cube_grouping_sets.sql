-- ROLLUP, CUBE, GROUPING SETS, grouping(), group_by_use_nulls, with HAVING and WITH TOTALS
CREATE TABLE s (g String, k UInt8, v Int32, n Nullable(Float64), d Date) ENGINE = MergeTree ORDER BY (g, k);
INSERT INTO s VALUES ('a', 1, 10, 1.5, '2024-01-01'), ('a', 2, -3, NULL, '2024-01-02'), ('b', 1, 7, 2.25, '2024-01-05'), ('b', 3, 100, -1, '2024-02-01'), ('c', 2, 0, NULL, '2024-02-03'), ('a', 1, 5, 0.5, '2024-03-01');
SELECT g, k, count(), sum(v) FROM s GROUP BY ROLLUP(g, k) ORDER BY g, k, count();
SELECT g, k, count(), sum(v), grouping(g), grouping(k), grouping(g, k) FROM s GROUP BY g, k WITH ROLLUP ORDER BY g, k, grouping(g, k);
SELECT g, k, count(), avg(n), grouping(k, g) FROM s GROUP BY CUBE(g, k) ORDER BY g, k, grouping(k, g);
SELECT g, k, toMonth(d) m, count() FROM s GROUP BY g, k, m WITH CUBE HAVING count() > 1 ORDER BY g, k, m;
SELECT g, k, count(), grouping(g, k) FROM s GROUP BY GROUPING SETS ((g, k), (g), (k), ()) ORDER BY grouping(g, k), g, k;
SELECT g, k, sum(v) FROM s GROUP BY GROUPING SETS (g, k) ORDER BY g, k;
SELECT g, count() FROM s GROUP BY GROUPING SETS ((g), (g)) ORDER BY g;
SELECT g, k, count() c FROM s GROUP BY ROLLUP(g, k) WITH TOTALS ORDER BY g, k, c;
SELECT g, k, count() c FROM s GROUP BY ROLLUP(g, k) HAVING grouping(k) = 1 ORDER BY g, k;
SELECT g, count() FROM s GROUP BY g HAVING grouping(g) = 0 ORDER BY g;
SELECT g, k, count(), toTypeName(g) FROM s GROUP BY CUBE(g, k) ORDER BY g, k SETTINGS group_by_use_nulls = 1;
SELECT g, k, count() FROM s WHERE v > 1000 GROUP BY ROLLUP(g, k);
SELECT count() FROM s WHERE v > 1000 GROUP BY GROUPING SETS ((), ());
SELECT if(grouping(g) = 1, 'all', g) AS label, sum(v) FROM s GROUP BY ROLLUP(g) ORDER BY label;
SELECT g, k, count() FROM s GROUP BY 1, 2 WITH ROLLUP ORDER BY 1, 2, 3;
