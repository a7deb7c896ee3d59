-- Topic: subqueries in FROM, IN, scalar positions, EXISTS, nested.

-- scalar subquery in select
SELECT (SELECT count() FROM events) AS total;

-- scalar subquery in WHERE
SELECT * FROM events WHERE timestamp = (SELECT max(timestamp) FROM events);

-- IN subquery
SELECT * FROM events WHERE user_id IN (SELECT user_id FROM users WHERE country = 'FR');

-- NOT IN subquery
SELECT * FROM events WHERE user_id NOT IN (SELECT user_id FROM banned);

-- GLOBAL IN subquery
SELECT count() FROM dist_events WHERE user_id GLOBAL IN (SELECT user_id FROM users);

-- IN a table name
SELECT * FROM events WHERE user_id IN vip_users;

-- tuple IN subquery
SELECT * FROM t WHERE (a, b) IN (SELECT a, b FROM other);

-- EXISTS subquery
SELECT * FROM users WHERE EXISTS (SELECT 1 FROM orders WHERE orders.user_id = users.id);

-- NOT EXISTS
SELECT * FROM users WHERE NOT EXISTS (SELECT 1 FROM orders);

-- nested FROM subqueries
SELECT * FROM (SELECT * FROM (SELECT number AS x FROM numbers(10)) WHERE x > 2) WHERE x < 8;

-- subquery in arithmetic
SELECT value - (SELECT avg(value) FROM metrics) AS deviation FROM metrics;

-- subquery with aggregation and ORDER BY in FROM
SELECT url FROM (SELECT url, count() AS c FROM hits GROUP BY url ORDER BY c DESC LIMIT 10) ORDER BY url;

-- subquery in a function argument
SELECT has((SELECT groupArray(id) FROM vip), 5);

-- subquery in a CASE expression
SELECT CASE WHEN (SELECT count() FROM t) > 0 THEN 'yes' ELSE 'no' END;

-- IN subquery with a UNION
SELECT * FROM t WHERE id IN (SELECT 1 UNION ALL SELECT 2);

-- correlated-looking alias usage in a FROM subquery
SELECT s.total FROM (SELECT sum(value) AS total FROM metrics) AS s;

-- subquery in HAVING
SELECT type, count() AS c FROM events GROUP BY type HAVING c > (SELECT avg(c2) FROM (SELECT count() AS c2 FROM events GROUP BY type));

-- subquery with ARRAY JOIN inside IN
SELECT * FROM users WHERE id IN (SELECT x FROM lists ARRAY JOIN ids AS x);
