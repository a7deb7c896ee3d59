-- invalid window queries fail with ClickHouse's error names
SELECT number FROM numbers(3) WHERE row_number() OVER () > 1; -- { serverError ILLEGAL_AGGREGATION }
SELECT sum(number) OVER w2 FROM numbers(3); -- { serverError BAD_ARGUMENTS }
SELECT ntile(0) OVER (ORDER BY number) FROM numbers(3); -- { serverError BAD_ARGUMENTS }
SELECT ntile(2) OVER () FROM numbers(3); -- { serverError BAD_ARGUMENTS }
SELECT lag(number) OVER (ORDER BY number ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) FROM numbers(3); -- { serverError BAD_ARGUMENTS }
SELECT lagInFrame(number, -1) OVER (ORDER BY number) FROM numbers(3); -- { serverError BAD_ARGUMENTS }
SELECT sum(number) OVER (ORDER BY number ROWS BETWEEN 1 FOLLOWING AND 1 PRECEDING) FROM numbers(3); -- { serverError BAD_ARGUMENTS }
SELECT sum(number) OVER (ORDER BY number, number % 2 RANGE BETWEEN 1 PRECEDING AND CURRENT ROW) FROM numbers(3); -- { serverError BAD_ARGUMENTS }
SELECT sum(number) OVER (ORDER BY number RANGE BETWEEN 1.5 PRECEDING AND CURRENT ROW) FROM numbers(3); -- { serverError BAD_ARGUMENTS }
SELECT lagInFrame(toInt8(number), 1, 1000) OVER (ORDER BY number) FROM numbers(3); -- { serverError BAD_ARGUMENTS }
SELECT number, count() FROM numbers(3) GROUP BY number QUALIFY number ORDER BY number;
SELECT sum(number) OVER (ORDER BY toString(number) RANGE BETWEEN 1 PRECEDING AND CURRENT ROW) FROM numbers(3); -- { serverError NOT_IMPLEMENTED }
SELECT count() OVER (ORDER BY d RANGE BETWEEN INTERVAL 2 DAY PRECEDING AND CURRENT ROW) FROM (SELECT toDate('2024-01-01') + number AS d FROM numbers(4)); -- { serverError BAD_ARGUMENTS }
SELECT sum(number) OVER (ORDER BY number ROWS BETWEEN 2147483647 PRECEDING AND CURRENT ROW) FROM numbers(3); -- { serverError BAD_ARGUMENTS }
SELECT count() OVER (ORDER BY x RANGE BETWEEN 1 PRECEDING AND 300 FOLLOWING) FROM (SELECT toUInt8(number) AS x FROM numbers(3)); -- { serverError ARGUMENT_OUT_OF_BOUND }
SELECT count() OVER (ORDER BY toDecimal32(number, 2) RANGE BETWEEN 1 PRECEDING AND CURRENT ROW) FROM numbers(3); -- { serverError NOT_IMPLEMENTED }
SELECT number, sum(number) OVER (ORDER BY number ROWS BETWEEN 2147483646 PRECEDING AND CURRENT ROW) FROM numbers(3) ORDER BY number;
