-- ClickHouse alias rules: aliases visible everywhere in the SELECT, shadowing columns, positions
SELECT number + 1 AS number FROM numbers(3) WHERE number > 1;
SELECT number * 2 AS d, d + 1 AS e FROM numbers(4) WHERE e > 3 ORDER BY e DESC;
SELECT number % 3 AS k, count() AS c FROM numbers(10) GROUP BY k HAVING c > 3 ORDER BY c, k;
SELECT intDiv(number, 4) AS bucket, sum(number) AS s, s / 2 FROM numbers(12) GROUP BY bucket ORDER BY bucket;
SELECT (number + 1 AS b) * 2, b FROM numbers(2);
SELECT count() AS c, c * 2, toTypeName(c) FROM numbers(5);
SELECT number AS n FROM numbers(5) ORDER BY -n LIMIT 2;
SELECT COUNT(*), SUM(number), Avg(number), MAX(number) FROM numbers(3);
SELECT number % 2, number % 3, count() FROM numbers(12) GROUP BY 1, 2 ORDER BY 2, 1;
SELECT toString(number) AS s FROM numbers(3) WHERE s != '1' ORDER BY s;
WITH 10 AS ten, number * ten AS scaled SELECT scaled FROM numbers(3) ORDER BY scaled;
