-- GROUP BY with one and several keys, expressions, aliases, positions; aggregate result types
CREATE TABLE e (user String, kind String, n UInt32, price Float64, d Date) ENGINE = MergeTree ORDER BY (user, d);
INSERT INTO e VALUES ('u1', 'view', 1, 1.5, '2024-01-01'), ('u1', 'click', 2, 2.5, '2024-01-01'), ('u2', 'view', 3, 0.5, '2024-01-02'), ('u3', 'buy', 4, 100, '2024-01-02'), ('u2', 'view', 5, 0.25, '2024-01-03'), ('u1', 'view', 6, 3, '2024-01-03');
SELECT kind, count() FROM e GROUP BY kind ORDER BY kind;
SELECT user, kind, count(), sum(n) FROM e GROUP BY user, kind ORDER BY user, kind;
SELECT n % 2 AS odd, count(), sum(n), avg(n), min(n), max(n) FROM e GROUP BY odd ORDER BY odd;
SELECT kind, uniqExact(user), count(DISTINCT user) FROM e GROUP BY 1 ORDER BY 1;
SELECT d, sum(price), toTypeName(sum(price)), toTypeName(sum(n)), toTypeName(count()) FROM e GROUP BY d ORDER BY d;
SELECT count(), sum(n), avg(price), min(user), max(user), any(kind) FROM e WHERE n > 100;
SELECT argMax(user, n), argMin(user, n), anyLast(kind) FROM (SELECT * FROM e ORDER BY n);
SELECT kind, sumIf(n, user = 'u1'), countIf(price > 1), avgIf(price, n > 2) FROM e GROUP BY kind ORDER BY kind;
SELECT sumOrNull(n), toTypeName(sumOrNull(n)), avgOrDefault(n) FROM e WHERE n > 100;
SELECT sumDistinct(n % 3), uniqExact(user, kind) FROM e;
SELECT user, count() FROM e GROUP BY kind; -- { serverError NOT_AN_AGGREGATE }
SELECT sum(user) FROM e; -- { serverError ILLEGAL_TYPE_OF_ARGUMENT }
SELECT user FROM e WHERE count() > 1; -- { serverError ILLEGAL_AGGREGATION }
