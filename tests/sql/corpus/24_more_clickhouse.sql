-- Topic: more shapes pasted from ClickHouse docs and dashboards: aggregates, lambdas, DDL and ALTER variants.

-- FINAL together with SAMPLE
SELECT count() FROM visits FINAL SAMPLE 0.1;

-- arrayFold with a two-argument lambda and an accumulator
SELECT arrayFold((acc, x) -> acc + x, [1, 2, 3], toUInt64(0));

-- lambda returning a tuple
SELECT arrayMap(x -> (x, x * 2), [1, 2]);

-- alias named like a function
SELECT if(x > 0, 1, 0) AS if_result FROM t;

-- functions with time zone arguments
SELECT toDateTime('2024-01-01 00:00:00', 'UTC'), parseDateTimeBestEffortOrNull(s) FROM t;

-- array membership functions
SELECT * FROM t WHERE has(tags, 'a') AND hasAny(tags, ['b', 'c']) AND NOT hasAll(tags, ['x']);

-- weighted quantile and sumMap
SELECT quantileTDigestWeighted(0.5)(latency, weight), sumMap(keys, vals), anyHeavy(country) FROM t;

-- sumMap over a tuple argument
SELECT sumMap((keys, vals)) FROM t;

-- WITH TOTALS followed by ORDER BY and LIMIT
SELECT domain, count() FROM hits GROUP BY domain WITH TOTALS ORDER BY count() DESC LIMIT 10;

-- OR chain with a trailing AND NOT
SELECT * FROM t WHERE x = 1 OR x = 2 OR x = 3 AND NOT y;

-- tuple elements from a subquery column
SELECT a.1 AS first, a.2 AS second FROM (SELECT (1, 2) AS a);

-- CAST to an Enum and to Nullable
SELECT CAST('a' AS Enum8('a' = 1, 'b' = 2)), CAST(NULL AS Nullable(Int32));

-- cast operator inside a function call
SELECT toTypeName(1::UInt8);

-- alias referenced by an element access in the same select
SELECT [1, 2] AS arr, arr[1];

-- LIMIT BY an expression
SELECT number FROM numbers(10) LIMIT 2 BY number % 3;

-- sliding window over numbers
SELECT sum(number) OVER (ORDER BY number ROWS BETWEEN 2 PRECEDING AND 2 FOLLOWING) FROM numbers(10);

-- partition key as a tuple of expressions
CREATE TABLE t (d Date, region String, x UInt32) ENGINE = MergeTree PARTITION BY (toYYYYMM(d), region) ORDER BY (region, d);

-- deprecated MergeTree engine arguments
CREATE TABLE t (d Date, x UInt32) ENGINE = MergeTree(d, (d, x), 8192);

-- LowCardinality of Nullable and newer column types
CREATE TABLE t (a LowCardinality(Nullable(String)), j JSON, v Variant(String, UInt64), dyn Dynamic) ENGINE = MergeTree ORDER BY tuple();

-- table clauses in a different order
CREATE TABLE t (x UInt64) ENGINE = MergeTree ORDER BY x PARTITION BY x % 10;

-- ADD and MATERIALIZE PROJECTION
ALTER TABLE events ADD PROJECTION by_user (SELECT user_id, count() GROUP BY user_id);

-- MATERIALIZE PROJECTION
ALTER TABLE events MATERIALIZE PROJECTION by_user;

-- FREEZE
ALTER TABLE events FREEZE;

-- MOVE PARTITION TO TABLE
ALTER TABLE events MOVE PARTITION 202401 TO TABLE events_archive;

-- REPLACE PARTITION FROM
ALTER TABLE events REPLACE PARTITION 202401 FROM events_staging;

-- MODIFY COLUMN REMOVE DEFAULT
ALTER TABLE events MODIFY COLUMN value REMOVE DEFAULT;

-- SELECT INTO OUTFILE
-- xfail[parse]: INTO OUTFILE is not supported
SELECT * FROM events INTO OUTFILE 'events.csv' FORMAT CSV;

-- SHOW CREATE VIEW and SHOW DICTIONARIES
SHOW CREATE VIEW analytics.daily_counts;

-- SHOW DICTIONARIES
SHOW DICTIONARIES;

-- EXPLAIN QUERY TREE
EXPLAIN QUERY TREE SELECT 1;

-- OPTIMIZE with ON CLUSTER
OPTIMIZE TABLE db.events ON CLUSTER main FINAL;

-- SYSTEM RELOAD DICTIONARY
SYSTEM RELOAD DICTIONARY geo_dict;

-- query parameter in a table function
SELECT * FROM numbers({n:UInt64});

-- element access on a query parameter
SELECT {arr:Array(UInt8)}[1];

-- CREATE DICTIONARY
-- xfail[parse]: CREATE DICTIONARY is not supported
CREATE DICTIONARY geo_dict (id UInt64, country String) PRIMARY KEY id SOURCE(CLICKHOUSE(TABLE 'geo')) LAYOUT(HASHED()) LIFETIME(300);

-- CREATE FUNCTION with a lambda
CREATE FUNCTION linear AS (x, k, b) -> k * x + b;

-- DROP FUNCTION
DROP FUNCTION IF EXISTS linear;

-- window function with a frame using INTERVAL-free RANGE offset and named window override
SELECT avg(v) OVER (w ROWS BETWEEN 3 PRECEDING AND CURRENT ROW) FROM t WINDOW w AS (PARTITION BY k ORDER BY ts);

-- GROUP BY with a lambda-using expression
SELECT arrayFilter(x -> x > 0, vals) AS pos, count() FROM t GROUP BY pos;

-- nested CASE inside CASE
SELECT CASE WHEN a > 0 THEN CASE WHEN b > 0 THEN 'both' ELSE 'a' END ELSE 'none' END FROM t;

-- IN with a tuple of tuples and NOT
SELECT * FROM t WHERE (a, b) NOT IN ((1, 'x'), (2, 'y'));

-- string functions with regex arguments
SELECT extract(url, '^https?://([^/]+)'), match(url, '\\.png$'), replaceRegexpAll(s, '\\s+', ' ') FROM t;

-- multiIf with many branches across lines
SELECT multiIf(
    v < 10, 'a',
    v < 100, 'b',
    v < 1000, 'c',
    'd'
) AS bucket FROM t;

-- cast operator on a numeric literal converts the literal's text, not a Float64 (exact decimal)
SELECT 0.3::Decimal(38, 30);

-- cast operator on a negative numeric literal casts the signed literal
SELECT -1::UInt8;

-- unary minus applied to a parenthesised literal stays a negation
SELECT -(1), toTypeName(-(1));
