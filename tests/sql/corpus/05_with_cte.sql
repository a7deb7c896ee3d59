-- Topic: WITH clause: scalar aliases, named subqueries, CTE chains.

-- scalar constant with alias
WITH 10 AS threshold SELECT * FROM metrics WHERE value > threshold;

-- scalar expression with alias
WITH now() - INTERVAL 1 DAY AS since SELECT count() FROM events WHERE timestamp >= since;

-- several scalar expressions
WITH 1 AS a, 2 AS b SELECT a + b;

-- scalar subquery as a WITH expression
WITH (SELECT max(timestamp) FROM events) AS last_ts SELECT * FROM events WHERE timestamp = last_ts;

-- named subquery (common table expression)
WITH recent AS (SELECT * FROM events WHERE timestamp > now() - INTERVAL 1 HOUR) SELECT count() FROM recent;

-- two chained CTEs
WITH
    daily AS (SELECT toDate(timestamp) AS day, count() AS c FROM events GROUP BY day),
    avg_daily AS (SELECT avg(c) AS a FROM daily)
SELECT day, c FROM daily, avg_daily WHERE c > a;

-- CTE referenced twice in a join
WITH u AS (SELECT user_id, name FROM users) SELECT a.name, b.name FROM u AS a INNER JOIN u AS b ON a.user_id = b.user_id;

-- mixing a scalar and a named subquery
WITH 100 AS lim, top AS (SELECT user_id FROM events LIMIT 100) SELECT count() FROM top WHERE user_id != '' LIMIT lim;

-- WITH array constant used in IN
WITH ['click', 'view'] AS kinds SELECT count() FROM events WHERE type IN kinds;

-- WITH lambda-friendly array constant
WITH [1, 2, 3] AS xs SELECT arrayMap(x -> x * 2, xs);

-- CTE with UNION ALL inside
WITH both_sides AS (SELECT 1 AS x UNION ALL SELECT 2) SELECT sum(x) FROM both_sides;

-- CTE used in a subquery
WITH totals AS (SELECT user_id, sum(value) AS s FROM events GROUP BY user_id) SELECT * FROM users WHERE user_id IN (SELECT user_id FROM totals WHERE s > 100);

-- WITH string constant
WITH 'Europe/Madrid' AS tz SELECT toTimeZone(timestamp, tz) FROM events;

-- WITH expression alias referencing a column
WITH toStartOfDay(timestamp) AS day SELECT day, count() FROM events GROUP BY day;

-- CTE selecting from a table function
WITH nums AS (SELECT number FROM numbers(100)) SELECT sum(number) FROM nums;

-- nested WITH inside a CTE body
WITH outer_cte AS (WITH 2 AS k SELECT number * k AS y FROM numbers(3)) SELECT y FROM outer_cte;

-- WITH in a subquery
SELECT * FROM (WITH 5 AS n SELECT number FROM numbers(n)) AS s;

-- WITH TOTALS-free CTE with ORDER BY and LIMIT in the body
WITH top_pages AS (SELECT url, count() AS hits FROM hits GROUP BY url ORDER BY hits DESC LIMIT 10) SELECT url FROM top_pages;

-- CTE name that looks like a keyword
WITH data AS (SELECT 1 AS value) SELECT value FROM data;

-- many CTEs in a chain
WITH
    a AS (SELECT 1 AS x),
    b AS (SELECT x + 1 AS x FROM a),
    c AS (SELECT x + 1 AS x FROM b)
SELECT x FROM c;
