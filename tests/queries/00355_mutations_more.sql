-- lightweight DELETE, ALTER UPDATE/DELETE, parts and merges
CREATE TABLE m (id UInt32, g String, v Int64) ENGINE = MergeTree ORDER BY id;
INSERT INTO m SELECT number, ['x', 'y'][number % 2 + 1], number * 10 FROM numbers(20);
INSERT INTO m SELECT number + 20, 'z', -number FROM numbers(5);
SELECT g, count(), sum(v) FROM m GROUP BY g ORDER BY g;
DELETE FROM m WHERE g = 'z' AND v < -2;
SELECT g, count(), sum(v) FROM m GROUP BY g ORDER BY g;
ALTER TABLE m UPDATE v = v + 1 WHERE g = 'x';
SELECT g, count(), sum(v) FROM m GROUP BY g ORDER BY g;
ALTER TABLE m UPDATE g = 'w' WHERE id < 3;
SELECT id, g, v FROM m WHERE id < 5 ORDER BY id;
ALTER TABLE m DELETE WHERE id % 5 = 0;
SELECT count(), sum(v) FROM m;
OPTIMIZE TABLE m FINAL;
SELECT count(), sum(v), min(id), max(id) FROM m;
DELETE FROM m WHERE 1;
SELECT count() FROM m;
INSERT INTO m VALUES (100, 'n', 1);
SELECT * FROM m;
ALTER TABLE m UPDATE nosuch = 1 WHERE 1; -- { serverError NO_SUCH_COLUMN_IN_TABLE }
DELETE FROM missing WHERE 1; -- { serverError UNKNOWN_TABLE }
