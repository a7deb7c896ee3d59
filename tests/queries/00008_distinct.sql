-- SELECT DISTINCT
SELECT DISTINCT number % 3 AS k FROM numbers(10) ORDER BY k;
SELECT DISTINCT number % 2, number % 3 FROM numbers(12) ORDER BY 1, 2;
SELECT DISTINCT toString(number % 4) AS s FROM numbers(20) ORDER BY s DESC;
SELECT count() FROM (SELECT DISTINCT number % 7 FROM numbers(100));
