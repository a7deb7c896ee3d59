-- constants without FROM, their types and column names
SELECT 1;
SELECT 1, 'abc', 2.5, -3;
SELECT NULL;
SELECT 'tab\there', 'new\nline', 'quote\'s', 'back\\slash';
SELECT 255, 256, 65536, 4294967296, -129;
SELECT toTypeName(1), toTypeName(256), toTypeName(-1), toTypeName(1.5), toTypeName('x'), toTypeName(NULL);
SELECT true, false, toTypeName(true);
SELECT 1 AS x, x + 1 AS y, y * 2;
SELECT dummy FROM system.one;
SELECT count() FROM system.one;
WITH 5 AS n SELECT n, n * n;
SELECT number FROM system.numbers LIMIT 3;
SELECT number * 2 FROM system.numbers WHERE number % 1000 = 999 LIMIT 2 OFFSET 1;
SELECT sum(number) FROM (SELECT number FROM system.numbers LIMIT 100000);
