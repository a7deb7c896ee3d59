-- ORDER BY over floats (NaN, -0, inf), strings (bytes order), dates, several keys, top-N
CREATE TABLE o (f Float64, s String, d Date) ENGINE = MergeTree ORDER BY tuple();
INSERT INTO o VALUES (1.5, 'b', '2024-03-01'), (-2, 'a', '2023-12-31'), (0, 'B', '2024-01-01'), (nan, '', '2024-02-29'), (-0.5, 'ab', '2024-01-02'), (inf, 'β', '1970-01-02'), (-inf, 'a b', '2100-01-01');
SELECT f FROM o ORDER BY f;
SELECT f FROM o ORDER BY f DESC;
SELECT f FROM o ORDER BY f DESC LIMIT 3;
SELECT s FROM o ORDER BY s;
SELECT s FROM o ORDER BY s DESC LIMIT 2;
SELECT d FROM o ORDER BY d DESC;
SELECT number % 3 AS a, intDiv(number, 3) AS b FROM numbers(9) ORDER BY a DESC, b LIMIT 4;
SELECT number, number % 10 AS r FROM numbers(100) ORDER BY r, number DESC LIMIT 3;
SELECT number FROM numbers(50) ORDER BY number % 7 DESC, number LIMIT 5 OFFSET 2;
