-- GROUP BY expr AS name: the alias names the key and is visible in SELECT / HAVING / ORDER BY
SELECT count(), k FROM numbers(6) GROUP BY number % 3 AS k ORDER BY k;
SELECT k, count() FROM numbers(6) GROUP BY number % 3 AS k HAVING k > 0 ORDER BY k;
SELECT number % 3 AS k, count() FROM numbers(6) GROUP BY number % 3 AS k, k ORDER BY k;
SELECT k, count() FROM numbers(6) GROUP BY (number % 3 AS k) ORDER BY k;
SELECT k, count() FROM numbers(6) GROUP BY number % 3 AS k WITH TOTALS ORDER BY k;
SELECT k, count() FROM numbers(6) GROUP BY ROLLUP(number % 3 AS k) ORDER BY k, count();
SELECT number % 2 AS k2, count() FROM numbers(4) GROUP BY number % 3 AS k ORDER BY k; -- { serverError NOT_AN_AGGREGATE }
DROP TABLE IF EXISTS gba;
CREATE TABLE gba (ts DateTime('UTC'), user String, v UInt32) ENGINE = MergeTree ORDER BY ts;
INSERT INTO gba VALUES ('2024-01-01 10:00:00', 'a', 1), ('2024-01-01 11:30:00', 'b', 2), ('2024-01-02 09:00:00', 'a', 3);
SELECT day, u, sum(v) FROM gba GROUP BY toDate(ts) AS day, upper(user) AS u ORDER BY day, u;
SELECT day, sum(v) AS s FROM gba GROUP BY toDate(ts) AS day HAVING s > 1 ORDER BY day DESC;
DROP TABLE gba;
