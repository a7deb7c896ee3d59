-- arithmetic and the result types ClickHouse infers
SELECT 1 + 2, toTypeName(1 + 2);
SELECT 200 + 100, toTypeName(200 + 100);
SELECT 10 / 4, toTypeName(10 / 4);
SELECT intDiv(10, 4), 10 % 4, -7 % 3;
SELECT 1 - 2, toTypeName(1 - 2);
SELECT 2 * 3.5, toTypeName(2 * 3.5);
SELECT number, number * number, number - 5 FROM numbers(4);
SELECT toTypeName(number + 1), toTypeName(number * 2.0) FROM numbers(1);
SELECT 1 = 1, 1 != 1, 2 > 1, 2 <= 1, NOT 1, 1 AND 0, 1 OR 0;
SELECT intDiv(1, 0); -- { serverError ILLEGAL_DIVISION }
