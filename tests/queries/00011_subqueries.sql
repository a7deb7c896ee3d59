-- subqueries in FROM and WITH aliases
SELECT k, c FROM (SELECT number % 4 AS k, count() AS c FROM numbers(10) GROUP BY k) ORDER BY k;
SELECT sum(c) FROM (SELECT number % 4 AS k, count() AS c FROM numbers(10) GROUP BY k);
SELECT x FROM (SELECT number * 2 AS x FROM numbers(5)) WHERE x > 3 ORDER BY x DESC;
WITH 3 AS three SELECT number FROM numbers(10) WHERE number % three = 0 ORDER BY number;
SELECT q.x FROM (SELECT number AS x FROM numbers(3)) AS q ORDER BY q.x;
