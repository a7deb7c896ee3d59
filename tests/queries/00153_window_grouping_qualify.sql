-- windows after GROUP BY / HAVING, named windows, QUALIFY, windows in ORDER BY and expressions, several specs
CREATE TABLE w (g Nullable(String), k Int32, x Nullable(Int64), f Float64, id UInt32) ENGINE = MergeTree ORDER BY id;
INSERT INTO w VALUES ('a', 1, 10, 0.5, 1), ('a', 2, NULL, 1.5, 2), ('a', 2, 30, -2.25, 3), ('b', 5, 7, 3.0, 4), (NULL, 3, 1, 4.5, 5), (NULL, 3, NULL, 0.25, 6), ('b', 6, -4, 8.0, 7), ('c', 9, 100, 1e10, 8), ('a', 2, 5, 2.5, 9), ('b', 5, 7, -1.0, 10);
SELECT g, count() AS c, sum(count()) OVER (), c / sum(c) OVER () AS share, rank() OVER (ORDER BY count() DESC, g), sum(sum(k)) OVER (ORDER BY g) FROM w GROUP BY g ORDER BY g;
SELECT k, count() c, sum(c) OVER (ORDER BY k ROWS BETWEEN 1 PRECEDING AND CURRENT ROW), lag(k) OVER (ORDER BY k) FROM w GROUP BY k HAVING c >= 2 ORDER BY k;
SELECT id, k, row_number() OVER (ORDER BY id) AS rn FROM w QUALIFY rn % 3 = 0 ORDER BY id;
SELECT g, id, f FROM w QUALIFY row_number() OVER (PARTITION BY g ORDER BY f DESC) = 1 ORDER BY id;
SELECT g, max(f) m FROM w GROUP BY g QUALIFY rank() OVER (ORDER BY m) <= 2 ORDER BY g;
SELECT id, sum(k) OVER w1, count() OVER w2, avg(f) OVER (w1 ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) FROM w WINDOW w1 AS (PARTITION BY g ORDER BY id), w2 AS (ORDER BY k, id) ORDER BY id;
SELECT id, row_number() OVER (ORDER BY id) * 10 + rank() OVER (ORDER BY k) AS v FROM w ORDER BY row_number() OVER (ORDER BY f DESC);
SELECT id, sum(k) OVER (PARTITION BY g) - k, max(id) OVER (PARTITION BY k % 2 ORDER BY id), min(id) OVER (PARTITION BY k % 2 ORDER BY id DESC) FROM w ORDER BY id;
SELECT DISTINCT g, count() OVER (PARTITION BY g) FROM w ORDER BY g;
SELECT id, sum(id) OVER (PARTITION BY g ORDER BY id) FROM w ORDER BY id LIMIT 3 OFFSET 2;
SELECT s FROM (SELECT id, sum(id) OVER (ORDER BY id) s FROM w) WHERE s > 20 ORDER BY s;
SELECT number % 3 AS m, groupArray(number) OVER (PARTITION BY m ORDER BY number ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) FROM numbers(8) ORDER BY number;
SELECT number % 3 AS g, sum(number) s, rank() OVER (ORDER BY s DESC), grouping(g) FROM numbers(10) GROUP BY ROLLUP(g) ORDER BY g, s;
SELECT number % 3 AS g, number % 2 AS h, count() c, sum(c) OVER (PARTITION BY g) FROM numbers(12) GROUP BY CUBE(g, h) ORDER BY g, h, c;
SELECT number % 3 AS g, count() c FROM numbers(10) GROUP BY g WITH TOTALS QUALIFY row_number() OVER (ORDER BY c DESC, g) = 1;
SELECT toDate('2024-01-01') + number % 5 * 2 AS d, count() c, sum(c) OVER (ORDER BY d) FROM numbers(20) GROUP BY d ORDER BY d WITH FILL;
