-- scalar subqueries, IN (subquery), UNION ALL / UNION DISTINCT
SELECT (SELECT count() FROM numbers(3)), toTypeName((SELECT 1));
WITH (SELECT max(number) FROM numbers(5)) AS m SELECT m, toTypeName(m);
SELECT number FROM numbers(10) WHERE number > (SELECT avg(number) FROM numbers(10)) ORDER BY number;
SELECT number FROM numbers(10) WHERE number IN (SELECT number * 3 FROM numbers(5)) ORDER BY number;
SELECT number FROM numbers(6) WHERE number NOT IN (SELECT number * 2 FROM numbers(3)) ORDER BY number;
SELECT (SELECT 'a' WHERE 0) AS e, toTypeName(e);
SELECT x FROM (SELECT 1 AS x UNION ALL SELECT 300) ORDER BY x;
SELECT toTypeName(x) FROM (SELECT 1 AS x UNION ALL SELECT -1) LIMIT 1;
SELECT k FROM (SELECT number % 3 AS k FROM numbers(6) UNION DISTINCT SELECT 7) ORDER BY k;
SELECT count(), sum(n) FROM (SELECT number AS n FROM numbers(4) UNION ALL SELECT number FROM numbers(10) WHERE number > 7);
SELECT (SELECT number FROM numbers(3)); -- { serverError INCORRECT_RESULT_OF_SCALAR_SUBQUERY }
SELECT 1 UNION ALL SELECT 1, 2; -- { serverError UNION_ALL_RESULT_STRUCTURES_MISMATCH }
