-- ALTER TABLE .. UPDATE of a column that a MATERIALIZED column reads recomputes that column over the
-- updated rows (the others keep theirs); every assignment sees the old values.
SET mutations_sync = 2;
CREATE TABLE t (a UInt32, d UInt32, e UInt32, m UInt32 MATERIALIZED d * 2, n String MATERIALIZED concat(toString(d), '/', toString(e)), k UInt32 MATERIALIZED a + 1) ENGINE = MergeTree ORDER BY a;
INSERT INTO t VALUES (1, 5, 50), (2, 6, 60), (3, 7, 70);
ALTER TABLE t UPDATE d = d + 100 WHERE a = 1;
SELECT a, d, e, m, n, k FROM t ORDER BY a;
ALTER TABLE t UPDATE d = e, e = d WHERE a >= 2;
SELECT a, d, e, m, n, k FROM t ORDER BY a;
SELECT * FROM t ORDER BY a;
ALTER TABLE t UPDATE m = 5 WHERE 1; -- { serverError CANNOT_UPDATE_COLUMN }
SELECT a, d, m FROM t ORDER BY a;
