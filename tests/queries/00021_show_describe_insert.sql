-- SHOW TABLES, DESCRIBE, EXISTS, INSERT with a column list / defaults / SELECT, TRUNCATE
CREATE TABLE a (id UInt32, s String DEFAULT 'none', ts DateTime, c LowCardinality(String)) ENGINE = MergeTree ORDER BY id;
CREATE TABLE b (x Float64) ENGINE = MergeTree ORDER BY tuple();
SHOW TABLES;
DESCRIBE a;
DESCRIBE TABLE b;
EXISTS TABLE a;
EXISTS TABLE nope;
INSERT INTO a (id, ts, c) VALUES (1, '2024-05-01 10:00:00', 'x'), (2, '2024-05-02 11:00:00', 'y');
INSERT INTO a VALUES (3, 'given', '2024-05-03 12:00:00', 'x');
SELECT * FROM a ORDER BY id;
INSERT INTO b SELECT number / 4 FROM numbers(5);
SELECT x, toTypeName(x) FROM b ORDER BY x;
INSERT INTO a SELECT number + 10, toString(number), toDateTime('2024-06-01 00:00:00') + number, 'z' FROM numbers(3);
SELECT c, count(), max(id) FROM a GROUP BY c ORDER BY c;
TRUNCATE TABLE b;
SELECT count() FROM b;
DROP TABLE b;
SHOW TABLES;
