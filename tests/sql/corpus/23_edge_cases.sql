-- Topic: edge cases: keyword-like names in every position, nested accessors, odd-but-valid layouts.

-- aliases that are keywords or function names
SELECT 1 AS date, count() AS count, sum(x) AS sum, max(x) AS key FROM t;

-- columns named like join keywords and clause words
SELECT left, right, first, last, any, all FROM words;

-- functions named like keywords
SELECT left(name, 2), right(name, 3), any(value), replace(name, 'a', 'b'), position(name, 'x') FROM users;

-- columns named end, limit, offset, index, partition, interval
SELECT end, limit, offset, index, partition FROM t;

-- keyword-like names in GROUP BY and ORDER BY
SELECT type, key, count() AS c FROM kv GROUP BY type, key ORDER BY key, type LIMIT 5;

-- keyword-like table and database names
SELECT * FROM default.data;

-- table alias that is a keyword-like name
SELECT d.value FROM raw AS data_table INNER JOIN dims AS d ON data_table.k = d.k;

-- double-quoted table alias
SELECT "x y".a FROM t AS "x y";

-- element access on an array literal
SELECT [10, 20, 30][2];

-- element access on a map function result
SELECT map('a', 1, 'b', 2)['b'];

-- tuple element of a tuple literal
SELECT (1, 'a').2;

-- tuple access inside a lambda
SELECT arrayMap(p -> p.1 + p.2, pairs) FROM t;

-- deep qualified names
SELECT a.b.c FROM a;

-- qualified star with EXCEPT
SELECT e.* EXCEPT (payload) FROM events AS e;

-- casts to parametrised and nested types with the operator form
SELECT x::DateTime64(3, 'UTC'), y::Array(Nullable(String)), z::Decimal(10, 2) FROM t;

-- CAST to a named tuple type
SELECT CAST((1, 'a') AS Tuple(id UInt8, name String));

-- adding intervals together
SELECT INTERVAL 1 DAY + INTERVAL 2 HOUR;

-- date literal in arithmetic
SELECT DATE '2024-01-01' + 1;

-- lower case interval unit
SELECT toStartOfInterval(timestamp, INTERVAL 15 minute) FROM events;

-- IS NULL on a CASE
SELECT CASE WHEN a THEN b END IS NULL FROM t;

-- unary operators on qualified names
SELECT -t.value, NOT t.flag FROM t;

-- chain of USING joins
SELECT * FROM t1 INNER JOIN t2 USING (id) INNER JOIN t3 USING (id);

-- several comma-joined tables with and without AS
SELECT * FROM t1 AS a, t2 AS b, t3 c;

-- DISTINCT ON with ORDER BY
SELECT DISTINCT ON (a) a, b FROM t ORDER BY a, b DESC;

-- LIMIT, SETTINGS and FORMAT together
SELECT * FROM t LIMIT 10 SETTINGS max_threads = 1 FORMAT JSON;

-- ORDER BY and LIMIT inside a union member
SELECT a FROM t1 ORDER BY a LIMIT 1 UNION ALL SELECT a FROM t2;

-- system.numbers with LIMIT
SELECT number FROM system.numbers LIMIT 5;

-- remote table function with a qualified table argument
SELECT * FROM remote('127.0.0.1', default.events);

-- file table function with a format name
SELECT * FROM file('data.csv', CSV, 'a UInt8, b String');

-- generateRandom table function
SELECT * FROM generateRandom('a UInt8, b String', 1, 10) LIMIT 3;

-- WITH subquery alias referenced with another alias
WITH x AS (SELECT 1 AS v) SELECT y.v FROM x AS y;

-- window without ORDER BY but with a ROWS frame
SELECT sum(v) OVER (PARTITION BY k ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) FROM t;

-- EXPLAIN of a UNION
EXPLAIN SELECT 1 UNION ALL SELECT 2;

-- mutation restricted to a partition
ALTER TABLE events UPDATE value = 0 IN PARTITION 202401 WHERE value < 0;

-- DELETE restricted to a partition
ALTER TABLE events DELETE IN PARTITION 202401 WHERE user_id = '';

-- column options in ClickHouse order: NULL, DEFAULT, COMMENT, CODEC, TTL
CREATE TABLE t (ts DateTime, x Nullable(UInt32) DEFAULT 1 COMMENT 'a value' CODEC(ZSTD(1)) TTL ts + INTERVAL 1 DAY) ENGINE = MergeTree ORDER BY ts;

-- NOT NULL column constraint
CREATE TABLE t (id UInt64 NOT NULL, name String NULL) ENGINE = MergeTree ORDER BY id;

-- table SETTINGS with a string value
CREATE TABLE t (id UInt64) ENGINE = MergeTree ORDER BY id SETTINGS storage_policy = 'tiered', allow_nullable_key = 1;

-- CONSTRAINT in a table definition
CREATE TABLE t (id UInt64, age UInt8, CONSTRAINT age_ok CHECK age < 150) ENGINE = MergeTree ORDER BY id;

-- ReplacingMergeTree without parentheses
CREATE TABLE t (id UInt64, v UInt32) ENGINE = ReplacingMergeTree ORDER BY id;

-- underscore digit separators in numbers
SELECT 1_000_000;

-- float literal forms
SELECT 1., .5e3, 1E-7;

-- comment between tokens everywhere
SELECT/*a*/x/*b*/FROM/*c*/t/*d*/WHERE/*e*/x/*f*/=/*g*/1;

-- string with both escape styles and a doubled quote
SELECT 'a''b\'c\\d';

-- aggregate FILTER clause
SELECT count() FILTER (WHERE value > 0) FROM metrics;

-- RESPECT/IGNORE-free first_value with a frame over an interval-free range
SELECT first_value(v) OVER (ORDER BY ts RANGE BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) FROM t;

-- INSERT with SETTINGS before SELECT
INSERT INTO t SETTINGS max_threads = 1 SELECT * FROM src;

-- identifiers with digits and underscores, leading underscore
SELECT _id, col_2, x1y2, _ FROM t;

-- heredoc string literal
SELECT $$a 'quoted' text$$;
