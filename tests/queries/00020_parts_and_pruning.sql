-- several parts and partitions, granule pruning on the sorting key, lightweight deletes
CREATE TABLE big (k UInt32, p UInt8, s String) ENGINE = MergeTree ORDER BY k PARTITION BY p SETTINGS index_granularity = 16;
INSERT INTO big SELECT number, number % 4, toString(number % 13) FROM numbers(1000);
INSERT INTO big SELECT number + 1000, number % 4, toString(number % 7) FROM numbers(500);
INSERT INTO big SELECT number + 2000, 9, 'x' FROM numbers(100);
SELECT count(), sum(k), uniqExact(s) FROM big;
SELECT count() FROM big WHERE k BETWEEN 100 AND 200;
SELECT p, count(), min(k), max(k) FROM big GROUP BY p ORDER BY p;
SELECT k FROM big WHERE k > 1495 AND k < 1505 ORDER BY k;
SELECT count() FROM big WHERE p = 9;
SELECT s, count() AS c FROM big WHERE p = 1 GROUP BY s ORDER BY c DESC, s LIMIT 3;
DELETE FROM big WHERE k % 10 = 0;
SELECT count(), sum(k) FROM big;
SELECT count() FROM big WHERE k < 100;
SELECT k FROM big WHERE k >= 2090 ORDER BY k DESC LIMIT 4;
OPTIMIZE TABLE big FINAL;
SELECT count(), sum(k) FROM big;
