-- Topic: joins: every kind and strictness, ON and USING, ASOF, comma and CROSS joins, GLOBAL.

-- plain JOIN with ON
SELECT e.user_id, u.name FROM events AS e JOIN users AS u ON e.user_id = u.user_id;

-- INNER JOIN with ON
SELECT * FROM a INNER JOIN b ON a.id = b.id;

-- LEFT JOIN with USING one column
SELECT * FROM events LEFT JOIN users USING user_id;

-- LEFT OUTER JOIN with USING in parentheses
SELECT * FROM events LEFT OUTER JOIN users USING (user_id);

-- RIGHT JOIN with USING two columns
SELECT * FROM a RIGHT JOIN b USING (id, date);

-- RIGHT OUTER JOIN
SELECT * FROM a RIGHT OUTER JOIN b ON a.id = b.id;

-- FULL JOIN
SELECT * FROM a FULL JOIN b ON a.id = b.id;

-- FULL OUTER JOIN
SELECT * FROM a FULL OUTER JOIN b ON a.id = b.id;

-- CROSS JOIN
SELECT * FROM colors CROSS JOIN sizes;

-- comma join
SELECT * FROM colors, sizes;

-- comma join with a WHERE condition
SELECT a.x, b.y FROM a, b WHERE a.id = b.id;

-- ANY LEFT JOIN
SELECT * FROM events ANY LEFT JOIN users USING user_id;

-- ALL INNER JOIN
SELECT * FROM a ALL INNER JOIN b ON a.id = b.id;

-- ANY INNER JOIN
SELECT * FROM a ANY INNER JOIN b USING id;

-- ALL LEFT JOIN
SELECT * FROM a ALL LEFT JOIN b USING id;

-- ANY RIGHT JOIN
SELECT * FROM a ANY RIGHT JOIN b USING id;

-- ALL FULL JOIN
SELECT * FROM a ALL FULL JOIN b USING id;

-- SEMI LEFT JOIN
SELECT * FROM a SEMI LEFT JOIN b ON a.id = b.id;

-- ANTI LEFT JOIN
SELECT * FROM a ANTI LEFT JOIN b ON a.id = b.id;

-- SEMI RIGHT JOIN
SELECT * FROM a SEMI RIGHT JOIN b USING id;

-- ANTI RIGHT JOIN
SELECT * FROM a ANTI RIGHT JOIN b USING id;

-- LEFT SEMI JOIN (kind before strictness)
SELECT * FROM a LEFT SEMI JOIN b USING id;

-- LEFT ANTI JOIN
SELECT * FROM a LEFT ANTI JOIN b USING id;

-- ASOF JOIN with an inequality in ON
SELECT * FROM trades AS t ASOF JOIN quotes AS q ON t.symbol = q.symbol AND t.ts >= q.ts;

-- ASOF LEFT JOIN
SELECT * FROM trades AS t ASOF LEFT JOIN quotes AS q ON t.symbol = q.symbol AND q.ts <= t.ts;

-- ASOF JOIN with USING
SELECT * FROM trades ASOF JOIN quotes USING (symbol, ts);

-- LEFT ASOF JOIN
SELECT * FROM trades AS t LEFT ASOF JOIN quotes AS q ON t.symbol = q.symbol AND t.ts > q.ts;

-- GLOBAL JOIN
SELECT * FROM dist_events AS e GLOBAL INNER JOIN users AS u ON e.user_id = u.user_id;

-- GLOBAL ANY LEFT JOIN
SELECT * FROM dist_events GLOBAL ANY LEFT JOIN users USING user_id;

-- join with a subquery on the right
SELECT e.user_id, s.total FROM events AS e LEFT JOIN (SELECT user_id, sum(value) AS total FROM events GROUP BY user_id) AS s ON e.user_id = s.user_id;

-- join with subqueries on both sides
SELECT * FROM (SELECT 1 AS id) AS l INNER JOIN (SELECT 1 AS id, 'x' AS v) AS r ON l.id = r.id;

-- three-way join
SELECT o.id, c.name, p.title FROM orders AS o INNER JOIN customers AS c ON o.customer_id = c.id LEFT JOIN products AS p ON o.product_id = p.id;

-- join condition with OR
SELECT * FROM a INNER JOIN b ON a.x = b.x OR a.y = b.y;

-- join condition with several ANDs and a filter
SELECT * FROM a LEFT JOIN b ON a.id = b.id AND b.active = 1 AND a.date = b.date;

-- join with a table function
SELECT * FROM events AS e INNER JOIN numbers(10) AS n ON e.value = n.number;

-- join with FINAL on the left table
SELECT * FROM versions AS v FINAL INNER JOIN items AS i ON v.item_id = i.id;

-- join followed by WHERE, GROUP BY and ORDER BY
SELECT u.country, count() AS c FROM events AS e INNER JOIN users AS u ON e.user_id = u.user_id WHERE e.type = 'purchase' GROUP BY u.country ORDER BY c DESC;

-- self join
SELECT a.id, b.id FROM nodes AS a INNER JOIN nodes AS b ON a.parent_id = b.id;

-- join with keyword-like aliases
SELECT data.value, key.name FROM facts AS data INNER JOIN dims AS key ON data.key_id = key.id;

-- PASTE JOIN
SELECT * FROM a PASTE JOIN b;
