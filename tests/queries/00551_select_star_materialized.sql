-- `*` leaves out MATERIALIZED columns (asterisk_include_materialized_columns = 0); they are read when
-- named, are always computed on INSERT (naming one is ILLEGAL_COLUMN, a JSONEachRow field is skipped),
-- and DESCRIBE shows them. Also through subqueries, JOINs (t.*, USING) and a materialized view's `*`.
CREATE TABLE t (a UInt32, m UInt32 MATERIALIZED a * 2, d UInt32 DEFAULT 7) ENGINE = MergeTree ORDER BY a;
INSERT INTO t VALUES (1, 3);
INSERT INTO t (a) VALUES (2);
INSERT INTO t (a, m) VALUES (3, 4); -- { serverError ILLEGAL_COLUMN }
INSERT INTO t (a, zz) VALUES (3, 4); -- { serverError NO_SUCH_COLUMN_IN_TABLE }
INSERT INTO t FORMAT JSONEachRow {"a": 9, "m": 100};
INSERT INTO t SELECT 10, 11;
INSERT INTO t (a) SELECT 12;
INSERT INTO t FORMAT CSV 13,14;
SELECT * FROM t ORDER BY a FORMAT TSVWithNames;
SELECT *, m FROM t ORDER BY a FORMAT TSVWithNames;
SELECT t.*, m FROM t ORDER BY a FORMAT TSVWithNames;
SELECT * EXCEPT d, m FROM t ORDER BY a FORMAT TSVWithNames;
SELECT * FROM (SELECT * FROM t) ORDER BY a FORMAT TSVWithNames;
SELECT * FROM (SELECT *, m FROM t) ORDER BY a FORMAT TSVWithNames;
SELECT * FROM t AS x JOIN t AS y USING a ORDER BY a FORMAT TSVWithNames;
SELECT x.*, y.m FROM t AS x JOIN t AS y USING a ORDER BY a FORMAT TSVWithNames;
SELECT * FROM t AS x JOIN t AS y ON x.a = y.d ORDER BY x.a FORMAT TSVWithNames;
SELECT count() FROM t WHERE m = a * 2;
DESCRIBE t;
CREATE TABLE tgt (a UInt32, m UInt32 MATERIALIZED a * 3, d UInt32) ENGINE = MergeTree ORDER BY a;
CREATE MATERIALIZED VIEW mv TO tgt AS SELECT * FROM t;
INSERT INTO t (a) VALUES (20);
SELECT *, m FROM tgt ORDER BY a FORMAT TSVWithNames;
INSERT INTO t SELECT * FROM t WHERE a < 3;
SELECT a, m, d FROM t ORDER BY a, d;
SELECT a, m, d FROM tgt ORDER BY a, d;
SELECT * FROM t ORDER BY a, d SETTINGS asterisk_include_materialized_columns = 1 FORMAT TSVWithNames;
SET asterisk_include_materialized_columns = 1;
SELECT x.* FROM t AS x JOIN t AS y USING a WHERE a < 3 ORDER BY a, d FORMAT TSVWithNames;
SET asterisk_include_materialized_columns = 0;
SELECT * FROM t WHERE a < 3 ORDER BY a, d FORMAT TSVWithNames;
