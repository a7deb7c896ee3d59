-- ORDER BY .. WITH FILL (FROM / TO / STEP, INTERVAL steps, DESC, several columns, groups), LIMIT .. WITH TIES,
-- DISTINCT ON, LIMIT m, n BY
CREATE TABLE e (d Date, t DateTime, g String, v Int32, f Float64) ENGINE = MergeTree ORDER BY t;
INSERT INTO e VALUES ('2024-01-01', '2024-01-01 00:10:00', 'a', 1, 0.5), ('2024-01-04', '2024-01-01 03:00:00', 'b', 4, 1.0), ('2024-01-04', '2024-01-01 03:30:00', 'a', 2, 2.5), ('2024-01-09', '2024-01-01 07:59:59', 'b', 7, -1.0), ('2024-02-20', '2024-01-02 00:00:00', 'c', 3, 0.1);
SELECT d, count(), sum(v) FROM e GROUP BY d ORDER BY d WITH FILL;
SELECT d, sum(v) FROM e GROUP BY d ORDER BY d WITH FILL FROM toDate('2023-12-29') TO toDate('2024-01-12') STEP 2;
SELECT d, sum(v) FROM e GROUP BY d ORDER BY d WITH FILL STEP INTERVAL 1 WEEK;
SELECT d, sum(v) FROM e GROUP BY d ORDER BY d DESC WITH FILL STEP INTERVAL -10 DAY;
SELECT toStartOfMonth(d) AS m, count() FROM e GROUP BY m ORDER BY m WITH FILL FROM toDate('2023-11-01') TO toDate('2024-05-01') STEP INTERVAL 1 MONTH;
SELECT toDate('2024-01-31') + number * 40 AS x, number FROM numbers(3) ORDER BY x WITH FILL STEP INTERVAL 1 MONTH;
SELECT toStartOfHour(t) AS h, count() FROM e GROUP BY h ORDER BY h WITH FILL STEP INTERVAL 2 HOUR;
SELECT toStartOfHour(t) AS h, count() FROM e GROUP BY h ORDER BY h WITH FILL FROM toDateTime('2023-12-31 22:00:00') TO toDateTime('2024-01-01 05:00:00') STEP 3600;
SELECT v, g FROM e ORDER BY v WITH FILL;
SELECT v, g FROM e ORDER BY v DESC WITH FILL FROM 9 TO 0 STEP -3;
SELECT g, v FROM e ORDER BY g, v WITH FILL;
SELECT g, v FROM e ORDER BY g, v WITH FILL FROM 0 TO 6 STEP 2;
SELECT intDiv(number, 2) * 2 AS a, (number % 2) * 3 AS b FROM numbers(4) ORDER BY a WITH FILL, b WITH FILL;
SELECT intDiv(number, 2) * 2 AS a, (number % 2) * 3 AS b FROM numbers(4) ORDER BY a WITH FILL, b WITH FILL FROM 0 TO 5;
SELECT f FROM e ORDER BY f WITH FILL STEP 0.7;
SELECT if(number = 1, NULL, number * 3) AS x, 'r' FROM numbers(3) ORDER BY x WITH FILL;
SELECT v * 2 AS w FROM e ORDER BY w WITH FILL LIMIT 5;
SELECT v FROM e ORDER BY v WITH FILL TO 4;
SELECT v FROM e ORDER BY v WITH FILL STEP -1; -- { serverError INVALID_WITH_FILL_EXPRESSION }
SELECT v FROM e ORDER BY v WITH FILL STEP 0; -- { serverError INVALID_WITH_FILL_EXPRESSION }
SELECT intDiv(number, 3) x, number FROM numbers(10) ORDER BY x LIMIT 4 WITH TIES;
SELECT intDiv(number, 3) x, number FROM numbers(10) ORDER BY x LIMIT 2, 2 WITH TIES;
SELECT intDiv(number, 3) x, number FROM numbers(10) ORDER BY x DESC LIMIT 1 WITH TIES;
SELECT intDiv(number, 3) x, number FROM numbers(10) ORDER BY x LIMIT 20 WITH TIES;
SELECT g, v FROM e ORDER BY g LIMIT 1 WITH TIES;
SELECT DISTINCT ON (g) g, v FROM e ORDER BY g, v DESC;
SELECT DISTINCT ON (a, b) number % 2 a, number % 3 b, number FROM numbers(12) ORDER BY a, b, number;
SELECT number % 3 x, number FROM numbers(10) ORDER BY x, number LIMIT 1, 2 BY x;
SELECT number % 3 x, number FROM numbers(10) ORDER BY x, number LIMIT 2 OFFSET 1 BY x LIMIT 4;
CREATE TABLE d64 (dt DateTime64(3), v Int32) ENGINE = MergeTree ORDER BY dt;
INSERT INTO d64 VALUES ('2024-01-01 00:00:00.123', 1), ('2024-01-01 00:00:02.123', 2), ('2024-01-01 00:00:04.123', 3), ('2024-03-31 10:00:00.5', 4);
SELECT dt, v FROM d64 WHERE v < 4 ORDER BY dt WITH FILL STEP 1;
SELECT dt, v FROM d64 WHERE v < 3 ORDER BY dt WITH FILL STEP INTERVAL 500 MILLISECOND;
SELECT dt FROM d64 WHERE v < 4 ORDER BY dt DESC WITH FILL STEP toIntervalSecond(-1);
SELECT dt FROM d64 WHERE v < 3 ORDER BY dt WITH FILL FROM toDateTime64('2023-12-31 23:59:58', 3) TO toDateTime64('2024-01-01 00:00:04', 3) STEP 1;
SELECT dt FROM d64 ORDER BY dt WITH FILL STEP INTERVAL 1 MONTH;
SELECT number * 3 AS x, number * 10 AS v, 'q' s FROM numbers(3) ORDER BY x WITH FILL INTERPOLATE (v AS v + 1);
SELECT number * 3 AS x, number * 10 AS v, toString(number) s FROM numbers(3) ORDER BY x WITH FILL INTERPOLATE;
SELECT number * 3 AS x, number * 10 AS v FROM numbers(3) ORDER BY x WITH FILL INTERPOLATE (v AS x * 2);
SELECT number * 3 + 2 AS x, number * 10 AS v, toString(number) s FROM numbers(3) ORDER BY x WITH FILL FROM 0 TO 12 INTERPOLATE (v AS v + 1, s AS concat(s, '+'));
SELECT number % 2 AS g, number * 3 AS x, number AS v FROM numbers(6) ORDER BY g, x WITH FILL INTERPOLATE (v AS v + 100);
SELECT toStartOfHour(t) AS h, count() AS c, max(v) AS m FROM e GROUP BY h ORDER BY h WITH FILL STEP 3600 INTERPOLATE (m AS m);
SELECT number * 3 AS x, number * 10 AS v FROM numbers(3) ORDER BY x WITH FILL INTERPOLATE (w AS 1); -- { serverError UNKNOWN_IDENTIFIER }
SELECT number * 3 AS x FROM numbers(3) ORDER BY x WITH FILL FROM -2; -- { serverError INVALID_WITH_FILL_EXPRESSION }
SELECT number * 3 AS x, number % 2 AS g FROM numbers(6) ORDER BY x WITH FILL LIMIT 2 BY g LIMIT 7;
SELECT number * 10 AS v FROM numbers(3) ORDER BY number * 3 WITH FILL;
