-- Topic: CREATE TABLE with all clauses, engines, codecs, TTL, indexes.

-- minimal MergeTree table
CREATE TABLE events (event_id String, user_id String, timestamp DateTime) ENGINE = MergeTree ORDER BY timestamp;

-- IF NOT EXISTS and database-qualified name
CREATE TABLE IF NOT EXISTS analytics.events (id UInt64) ENGINE = MergeTree() ORDER BY id;

-- PARTITION BY and ORDER BY tuple
CREATE TABLE events
(
    event_id String,
    user_id String,
    timestamp DateTime,
    value Float64
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(timestamp)
ORDER BY (user_id, timestamp);

-- ORDER BY tuple() for an unsorted table
CREATE TABLE logs (line String) ENGINE = MergeTree ORDER BY tuple();

-- PRIMARY KEY different from ORDER BY
CREATE TABLE t (a UInt32, b UInt32, c String) ENGINE = MergeTree PRIMARY KEY a ORDER BY (a, b);

-- SAMPLE BY
CREATE TABLE visits (user_id UInt64, date Date) ENGINE = MergeTree PARTITION BY toYYYYMM(date) ORDER BY (date, intHash32(user_id)) SAMPLE BY intHash32(user_id);

-- table TTL with an interval
CREATE TABLE t (date Date, value UInt32) ENGINE = MergeTree ORDER BY date TTL date + INTERVAL 30 DAY;

-- table TTL with DELETE and a WHERE condition
CREATE TABLE t (ts DateTime, level String) ENGINE = MergeTree ORDER BY ts TTL ts + INTERVAL 7 DAY DELETE WHERE level = 'debug';

-- column TTL
CREATE TABLE t (ts DateTime, payload String TTL ts + INTERVAL 1 DAY) ENGINE = MergeTree ORDER BY ts;

-- SETTINGS on a table
CREATE TABLE t (id UInt64) ENGINE = MergeTree ORDER BY id SETTINGS index_granularity = 8192, min_bytes_for_wide_part = 0;

-- DEFAULT, MATERIALIZED and ALIAS columns
CREATE TABLE t
(
    ts DateTime DEFAULT now(),
    date Date MATERIALIZED toDate(ts),
    hour UInt8 ALIAS toHour(ts),
    name String DEFAULT ''
)
ENGINE = MergeTree ORDER BY ts;

-- column without a type but with a DEFAULT
CREATE TABLE t (a UInt8, b DEFAULT a + 1) ENGINE = MergeTree ORDER BY a;

-- EPHEMERAL column
CREATE TABLE t (raw String EPHEMERAL, len UInt64 DEFAULT length(raw)) ENGINE = MergeTree ORDER BY len;

-- CODEC on columns
CREATE TABLE t
(
    ts DateTime CODEC(Delta, ZSTD(3)),
    value Float64 CODEC(Gorilla, LZ4),
    name String CODEC(ZSTD(1)),
    raw String CODEC(NONE)
)
ENGINE = MergeTree ORDER BY ts;

-- CODEC with DoubleDelta and T64
CREATE TABLE t (id UInt64 CODEC(T64, LZ4HC(9)), ts DateTime64(3) CODEC(DoubleDelta)) ENGINE = MergeTree ORDER BY id;

-- column COMMENT
CREATE TABLE t (id UInt64 COMMENT 'primary identifier', name String COMMENT 'display name') ENGINE = MergeTree ORDER BY id;

-- table COMMENT
CREATE TABLE t (id UInt64) ENGINE = MergeTree ORDER BY id COMMENT 'table of ids';

-- data skipping indexes
CREATE TABLE t
(
    id UInt64,
    url String,
    value Float64,
    INDEX url_idx url TYPE bloom_filter(0.01) GRANULARITY 4,
    INDEX value_idx value TYPE minmax GRANULARITY 1
)
ENGINE = MergeTree ORDER BY id;

-- set and tokenbf indexes
CREATE TABLE t (id UInt64, tag String, message String, INDEX tag_idx tag TYPE set(100) GRANULARITY 2, INDEX msg_idx message TYPE tokenbf_v1(1024, 3, 0) GRANULARITY 1) ENGINE = MergeTree ORDER BY id;

-- index on an expression
CREATE TABLE t (url String, INDEX dom_idx domain(url) TYPE ngrambf_v1(3, 256, 2, 0) GRANULARITY 4) ENGINE = MergeTree ORDER BY url;

-- Nullable, LowCardinality, Array, Map, Tuple column types
CREATE TABLE t
(
    id UInt64,
    email Nullable(String),
    country LowCardinality(String),
    tags Array(String),
    attributes Map(String, String),
    point Tuple(x Float64, y Float64),
    maybe_tags Array(Nullable(String))
)
ENGINE = MergeTree ORDER BY id;

-- Decimal, DateTime64 with timezone, FixedString, UUID, Enum
CREATE TABLE t
(
    id UUID,
    price Decimal(18, 4),
    ts DateTime64(6, 'UTC'),
    ts2 DateTime('Europe/Madrid'),
    code FixedString(3),
    status Enum8('active' = 1, 'inactive' = 2)
)
ENGINE = MergeTree ORDER BY id;

-- Nested column type
CREATE TABLE t (id UInt64, items Nested(name String, qty UInt32)) ENGINE = MergeTree ORDER BY id;

-- SQL standard type aliases
CREATE TABLE t (a INT, b BIGINT, c VARCHAR(255), d DOUBLE, e BOOLEAN, f TEXT) ENGINE = MergeTree ORDER BY a;

-- AggregateFunction and SimpleAggregateFunction types
CREATE TABLE agg (day Date, users AggregateFunction(uniq, String), total SimpleAggregateFunction(sum, UInt64), p AggregateFunction(quantiles(0.5, 0.9), Float64)) ENGINE = AggregatingMergeTree ORDER BY day;

-- ReplacingMergeTree with a version column
CREATE TABLE users (user_id String, name String, updated_at DateTime) ENGINE = ReplacingMergeTree(updated_at) ORDER BY user_id;

-- ReplacingMergeTree with version and is_deleted
CREATE TABLE users (user_id String, version UInt64, deleted UInt8) ENGINE = ReplacingMergeTree(version, deleted) ORDER BY user_id;

-- SummingMergeTree with a column list
CREATE TABLE totals (key String, hits UInt64, bytes UInt64) ENGINE = SummingMergeTree((hits, bytes)) ORDER BY key;

-- CollapsingMergeTree with a sign column
CREATE TABLE sessions (id UInt64, duration UInt32, sign Int8) ENGINE = CollapsingMergeTree(sign) ORDER BY id;

-- VersionedCollapsingMergeTree
CREATE TABLE s (id UInt64, v UInt32, sign Int8, version UInt8) ENGINE = VersionedCollapsingMergeTree(sign, version) ORDER BY id;

-- Memory engine
CREATE TABLE cache (k String, v String) ENGINE = Memory;

-- Log engine without parentheses
CREATE TABLE log_t (line String) ENGINE = Log;

-- Null engine
CREATE TABLE sink (data String) ENGINE = Null;

-- Distributed engine with arguments
CREATE TABLE dist_events AS events ENGINE = Distributed(cluster, default, events, rand());

-- CREATE TABLE AS another table
CREATE TABLE events_copy AS events;

-- CREATE TABLE AS another table with a new engine
CREATE TABLE events_copy AS analytics.events ENGINE = MergeTree ORDER BY timestamp;

-- CREATE TABLE AS SELECT
CREATE TABLE daily ENGINE = MergeTree ORDER BY day AS SELECT toDate(timestamp) AS day, count() AS c FROM events GROUP BY day;

-- CREATE TABLE with columns and AS SELECT
CREATE TABLE top_users (user_id String, c UInt64) ENGINE = MergeTree ORDER BY user_id AS SELECT user_id, count() FROM events GROUP BY user_id;

-- CREATE OR REPLACE TABLE
CREATE OR REPLACE TABLE t (id UInt64) ENGINE = MergeTree ORDER BY id;

-- keyword-like column names in DDL
CREATE TABLE kv (key String, value String, type LowCardinality(String), date Date, timestamp DateTime, name String, data String, format String) ENGINE = MergeTree ORDER BY (key, date);

-- backtick-quoted column names
CREATE TABLE t (`event id` String, `order` UInt32) ENGINE = MergeTree ORDER BY `order`;

-- TTL with GROUP BY rollup of old data
CREATE TABLE t (ts DateTime, k String, v UInt64) ENGINE = MergeTree ORDER BY (k, toStartOfDay(ts)) TTL ts + INTERVAL 1 MONTH GROUP BY k, toStartOfDay(ts) SET v = sum(v);

-- several TTL rules with TO VOLUME
CREATE TABLE t (ts DateTime) ENGINE = MergeTree ORDER BY ts TTL ts + INTERVAL 1 WEEK TO VOLUME 'cold', ts + INTERVAL 1 YEAR DELETE;

-- PROJECTION in a table definition
CREATE TABLE t (id UInt64, user_id String, value Float64, PROJECTION by_user (SELECT user_id, sum(value) GROUP BY user_id)) ENGINE = MergeTree ORDER BY id;

-- PRIMARY KEY inside the column list
CREATE TABLE t (id UInt64, name String, PRIMARY KEY id) ENGINE = MergeTree;

-- CREATE TEMPORARY TABLE
CREATE TEMPORARY TABLE tmp (x UInt8);

-- CREATE DATABASE
CREATE DATABASE IF NOT EXISTS analytics;

-- CREATE TABLE with ON CLUSTER
CREATE TABLE t ON CLUSTER my_cluster (id UInt64) ENGINE = MergeTree ORDER BY id;
