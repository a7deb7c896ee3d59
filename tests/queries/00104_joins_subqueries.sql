-- joins over subqueries, CTEs, table functions; pushdown of WHERE; IN with tuples
CREATE TABLE ev (uid UInt32, kind String, v Int64) ENGINE = MergeTree ORDER BY uid;
CREATE TABLE users (uid UInt32, name String, country LowCardinality(String)) ENGINE = MergeTree ORDER BY uid;
INSERT INTO ev VALUES (1, 'view', 10), (1, 'buy', 5), (2, 'view', 7), (3, 'buy', 1), (4, 'view', 2), (2, 'buy', 3);
INSERT INTO users VALUES (1, 'ann', 'es'), (2, 'bob', 'fr'), (3, 'cid', 'es'), (5, 'eve', 'de');
SELECT name, count(), sum(v) FROM ev JOIN users USING uid GROUP BY name ORDER BY name;
SELECT country, uniqExact(uid), sum(v) FROM ev INNER JOIN users ON ev.uid = users.uid WHERE kind = 'buy' GROUP BY country ORDER BY country;
SELECT name, s FROM users u JOIN (SELECT uid, sum(v) AS s FROM ev GROUP BY uid) AS t ON t.uid = u.uid ORDER BY name;
WITH totals AS (SELECT uid, count() AS c FROM ev GROUP BY uid) SELECT name, c FROM users LEFT JOIN totals USING uid ORDER BY name;
SELECT number, name FROM numbers(6) AS n LEFT JOIN users ON users.uid = n.number ORDER BY number;
SELECT n.number, u.name FROM numbers(1, 3) AS n JOIN users AS u ON u.uid = n.number ORDER BY 1;
SELECT name FROM users JOIN ev USING uid WHERE v > 4 AND country = 'es' ORDER BY name;
SELECT name, v FROM users LEFT JOIN ev USING uid WHERE v > 4 OR name = 'eve' ORDER BY name, v;
SELECT name FROM users WHERE (uid, country) IN (SELECT uid, 'es' FROM ev) ORDER BY name;
SELECT name FROM users WHERE (uid, name) NOT IN ((1, 'ann'), (2, 'xxx')) ORDER BY name;
SELECT name FROM users WHERE uid IN (SELECT uid FROM ev WHERE kind = 'buy') ORDER BY name;
SELECT kind, name FROM ev JOIN users USING uid JOIN (SELECT 'es' AS country, 'Spain' AS full) AS c USING country ORDER BY kind, name;
SELECT count() FROM ev AS a JOIN ev AS b ON a.uid = b.uid AND a.kind != b.kind;
SELECT number FROM numbers(3) JOIN users ON 1; -- { serverError ALIAS_REQUIRED }
CREATE TABLE ids (uid UInt64) ENGINE = MergeTree ORDER BY uid;
INSERT INTO ids VALUES (2), (3), (9);
SELECT name FROM users WHERE uid IN ids ORDER BY name;
SELECT name FROM users WHERE uid NOT IN ids ORDER BY name;
SELECT name FROM users WHERE uid GLOBAL IN (SELECT uid FROM ev) ORDER BY name;
SELECT name FROM users WHERE uid GLOBAL NOT IN (SELECT uid FROM ev) ORDER BY name;
SELECT name FROM users WHERE uid IN (SELECT number FROM numbers(1000) WHERE number % 2 = 1) ORDER BY name;
SELECT name, uid IN (SELECT number * 3 FROM numbers(500)) AS m FROM users ORDER BY name;
SELECT name FROM users WHERE (uid, name) IN (SELECT number, concat('x', toString(number)) FROM numbers(100)) ORDER BY name;
SELECT uid FROM users WHERE uid IN users; -- { serverError NUMBER_OF_COLUMNS_DOESNT_MATCH }
SELECT count() FROM ev AS a CROSS JOIN ev AS b CROSS JOIN users;
