-- HAVING over aggregates and keys
SELECT number % 5 AS k, count() AS c FROM numbers(23) GROUP BY k HAVING c > 4 ORDER BY k;
SELECT number % 5 AS k, sum(number) FROM numbers(23) GROUP BY k HAVING k IN (1, 3) ORDER BY k;
SELECT number % 3 AS k FROM numbers(10) GROUP BY k HAVING max(number) >= 8 ORDER BY k;
SELECT count() FROM numbers(10) HAVING count() > 100;
