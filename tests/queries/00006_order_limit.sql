-- ORDER BY (ASC/DESC, NULLS FIRST/LAST, expressions, positions), LIMIT / OFFSET, top-N
SELECT number FROM numbers(10) ORDER BY number DESC LIMIT 3;
SELECT number FROM numbers(10) ORDER BY number LIMIT 3 OFFSET 4;
SELECT number FROM numbers(10) ORDER BY number LIMIT 2, 3;
SELECT number % 3 AS a, number FROM numbers(9) ORDER BY a DESC, number ASC;
SELECT number FROM numbers(10) ORDER BY number % 4, number DESC LIMIT 5;
SELECT number, -number AS neg FROM numbers(5) ORDER BY 2;
SELECT nullIf(number, 2) AS x FROM numbers(5) ORDER BY x;
SELECT nullIf(number, 2) AS x FROM numbers(5) ORDER BY x NULLS FIRST;
SELECT nullIf(number, 2) AS x FROM numbers(5) ORDER BY x DESC;
SELECT nullIf(number, 2) AS x FROM numbers(5) ORDER BY x DESC NULLS FIRST;
SELECT toString(number) AS s FROM numbers(12) ORDER BY s LIMIT 5;
SELECT number FROM numbers(1000) ORDER BY number * 7 % 1000 DESC LIMIT 4;
SELECT number FROM numbers(5) LIMIT 0;
