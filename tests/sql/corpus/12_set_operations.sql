-- Topic: UNION ALL/DISTINCT, INTERSECT, EXCEPT, parenthesised queries.

-- UNION ALL
SELECT 1 AS x UNION ALL SELECT 2;

-- UNION DISTINCT
SELECT user_id FROM a UNION DISTINCT SELECT user_id FROM b;

-- plain UNION
SELECT user_id FROM a UNION SELECT user_id FROM b;

-- three-way UNION ALL
SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3;

-- INTERSECT
SELECT user_id FROM buyers INTERSECT SELECT user_id FROM visitors;

-- EXCEPT
SELECT user_id FROM visitors EXCEPT SELECT user_id FROM buyers;

-- INTERSECT DISTINCT
SELECT x FROM a INTERSECT DISTINCT SELECT x FROM b;

-- EXCEPT DISTINCT
SELECT x FROM a EXCEPT DISTINCT SELECT x FROM b;

-- INTERSECT binds tighter than UNION
SELECT x FROM a UNION ALL SELECT x FROM b INTERSECT SELECT x FROM c;

-- mixing UNION ALL and EXCEPT
SELECT x FROM a UNION ALL SELECT x FROM b EXCEPT SELECT x FROM c;

-- parenthesised query
(SELECT 1);

-- parenthesised union members
(SELECT x FROM a) UNION ALL (SELECT x FROM b);

-- parenthesised union members with their own ORDER BY and LIMIT
(SELECT x FROM a ORDER BY x LIMIT 1) UNION ALL (SELECT x FROM b ORDER BY x DESC LIMIT 1);

-- explicit grouping of a union inside parentheses
SELECT x FROM a UNION ALL (SELECT x FROM b UNION DISTINCT SELECT x FROM c);

-- union in a subquery
SELECT count() FROM (SELECT 1 UNION ALL SELECT 2);

-- union members with WHERE and GROUP BY
SELECT type, count() FROM events_2023 GROUP BY type UNION ALL SELECT type, count() FROM events_2024 GROUP BY type;

-- union with a CTE
WITH s AS (SELECT 1 AS x) SELECT x FROM s UNION ALL SELECT x + 1 FROM s;

-- union in an IN subquery
SELECT * FROM users WHERE id IN (SELECT id FROM a UNION ALL SELECT id FROM b);

-- EXCEPT ALL
SELECT x FROM a EXCEPT ALL SELECT x FROM b;
