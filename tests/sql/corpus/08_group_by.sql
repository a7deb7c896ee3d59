-- Topic: GROUP BY forms, ROLLUP/CUBE/GROUPING SETS, WITH TOTALS, HAVING.

-- GROUP BY one column
SELECT type, count() FROM events GROUP BY type;

-- GROUP BY several columns
SELECT country, city, count() FROM users GROUP BY country, city;

-- GROUP BY expression
SELECT toDate(timestamp), count() FROM events GROUP BY toDate(timestamp);

-- GROUP BY alias
SELECT toStartOfHour(timestamp) AS hour, count() FROM events GROUP BY hour;

-- GROUP BY positions
SELECT country, city, count() FROM users GROUP BY 1, 2;

-- GROUP BY ALL
SELECT country, count() FROM users GROUP BY ALL;

-- GROUP BY tuple of columns
SELECT a, b, count() FROM t GROUP BY (a, b);

-- GROUP BY WITH ROLLUP
SELECT year, month, sum(amount) FROM sales GROUP BY year, month WITH ROLLUP;

-- GROUP BY WITH CUBE
SELECT year, month, sum(amount) FROM sales GROUP BY year, month WITH CUBE;

-- GROUP BY WITH TOTALS
SELECT domain, count() FROM hits GROUP BY domain WITH TOTALS;

-- WITH ROLLUP and WITH TOTALS together
SELECT year, month, sum(amount) FROM sales GROUP BY year, month WITH ROLLUP WITH TOTALS;

-- ROLLUP function form
SELECT year, month, day, sum(amount) FROM sales GROUP BY ROLLUP(year, month, day);

-- CUBE function form
SELECT region, product, sum(amount) FROM sales GROUP BY CUBE(region, product);

-- GROUPING SETS
SELECT region, product, sum(amount) FROM sales GROUP BY GROUPING SETS ((region), (product), ());

-- GROUPING SETS with multi-column sets
SELECT a, b, c, count() FROM t GROUP BY GROUPING SETS ((a, b), (a, c), (a));

-- GROUPING SETS with WITH TOTALS
SELECT a, b, count() FROM t GROUP BY GROUPING SETS ((a), (b)) WITH TOTALS;

-- HAVING with an aggregate condition
SELECT user_id, count() AS c FROM events GROUP BY user_id HAVING c > 10;

-- HAVING with a direct aggregate
SELECT user_id FROM events GROUP BY user_id HAVING sum(value) > 100 AND count() < 5;

-- HAVING without GROUP BY
SELECT count() FROM events HAVING count() > 0;

-- aggregation without GROUP BY
SELECT min(timestamp), max(timestamp) FROM events;

-- GROUP BY with WHERE and ORDER BY
SELECT type, uniq(user_id) AS users FROM events WHERE date = today() GROUP BY type ORDER BY users DESC;

-- GROUP BY keyword-like column names
SELECT type, key, count() FROM kv GROUP BY type, key;

-- GROUP BY a CASE expression
SELECT CASE WHEN value < 10 THEN 'small' ELSE 'large' END AS size, count() FROM metrics GROUP BY size;

-- TOTALS with HAVING
SELECT domain, count() AS c FROM hits GROUP BY domain WITH TOTALS HAVING c > 1;

-- GROUP BY with an IN condition in HAVING
SELECT type, count() FROM events GROUP BY type HAVING type IN ('a', 'b');
