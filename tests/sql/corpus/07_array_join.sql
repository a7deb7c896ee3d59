-- Topic: ARRAY JOIN and LEFT ARRAY JOIN.

-- ARRAY JOIN of one array column
SELECT s, arr FROM arrays_test ARRAY JOIN arr;

-- LEFT ARRAY JOIN keeps rows with empty arrays
SELECT s, arr FROM arrays_test LEFT ARRAY JOIN arr;

-- ARRAY JOIN with an alias
SELECT s, arr, a FROM arrays_test ARRAY JOIN arr AS a;

-- ARRAY JOIN of several arrays
SELECT s, a, b FROM t ARRAY JOIN arr1 AS a, arr2 AS b;

-- ARRAY JOIN of an expression
SELECT s, x FROM arrays_test ARRAY JOIN arrayEnumerate(arr) AS x;

-- ARRAY JOIN of an array literal
SELECT s, tag FROM t ARRAY JOIN ['a', 'b'] AS tag;

-- ARRAY JOIN of a nested structure column
SELECT s, nest.x, nest.y FROM nested_test ARRAY JOIN nest;

-- ARRAY JOIN with alias on a nested structure
SELECT s, n.x FROM nested_test ARRAY JOIN nest AS n;

-- ARRAY JOIN followed by WHERE
SELECT user_id, tag FROM users ARRAY JOIN tags AS tag WHERE tag LIKE 'vip%';

-- ARRAY JOIN and GROUP BY
SELECT tag, count() FROM posts ARRAY JOIN tags AS tag GROUP BY tag ORDER BY count() DESC;

-- ARRAY JOIN after a regular join
SELECT u.name, t FROM users AS u INNER JOIN profiles AS p ON u.id = p.user_id ARRAY JOIN p.interests AS t;

-- ARRAY JOIN of a map's keys and values
SELECT k, v FROM t ARRAY JOIN mapKeys(attributes) AS k, mapValues(attributes) AS v;

-- arrayJoin function in select
SELECT arrayJoin([1, 2, 3]) AS x;

-- ARRAY JOIN of a range
SELECT number, i FROM numbers(3) ARRAY JOIN range(number) AS i;

-- LEFT ARRAY JOIN with alias and ordering
SELECT s, idx FROM arrays_test LEFT ARRAY JOIN arrayEnumerate(arr) AS idx ORDER BY s, idx;

-- ARRAY JOIN in a subquery
SELECT count() FROM (SELECT x FROM t ARRAY JOIN values AS x);

-- ARRAY JOIN with a splitByChar expression
SELECT part FROM paths ARRAY JOIN splitByChar('/', path) AS part;

-- ARRAY JOIN with a table alias and qualified array
SELECT e.id, item FROM events AS e ARRAY JOIN e.items AS item;
