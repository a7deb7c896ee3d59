-- CREATE MATERIALIZED VIEW ... TO t: every column the SELECT outputs must be a column of t
-- (THERE_IS_NO_COLUMN); columns of t the SELECT does not output take their DEFAULT.
CREATE TABLE src (a UInt32, b String) ENGINE = MergeTree ORDER BY a;
CREATE TABLE t (a UInt32, c UInt8 DEFAULT 9) ENGINE = MergeTree ORDER BY a;
CREATE MATERIALIZED VIEW mv TO t AS SELECT a, b AS zz FROM src; -- { serverError THERE_IS_NO_COLUMN }
CREATE MATERIALIZED VIEW mv TO t AS SELECT a FROM src;
INSERT INTO src VALUES (1, 'x'), (2, 'y');
SELECT a, c FROM t ORDER BY a;
