-- ALTER TABLE and DELETE FROM take a trailing SETTINGS clause (ClickHouse scripts end mutations
-- with SETTINGS mutations_sync = 2 so the next statement sees them).
CREATE TABLE t (a UInt32, b String) ENGINE = MergeTree ORDER BY a;
INSERT INTO t VALUES (1, 'x'), (2, 'z'), (5, 'q');
ALTER TABLE t UPDATE b = 'y' WHERE a = 1 SETTINGS mutations_sync = 2;
SELECT a, b FROM t ORDER BY a;
ALTER TABLE t DELETE WHERE a = 5 SETTINGS mutations_sync = 2;
SELECT a, b FROM t ORDER BY a;
ALTER TABLE t ADD COLUMN c UInt8 DEFAULT 7, ADD COLUMN d String SETTINGS alter_sync = 2;
SELECT a, b, c, d FROM t ORDER BY a;
DELETE FROM t WHERE a = 2 SETTINGS lightweight_deletes_sync = 2;
SELECT a, b, c FROM t ORDER BY a;
ALTER TABLE t UPDATE b = 'w' WHERE 1 SETTINGS mutations_sync = 2, max_threads = 1;
SELECT a, b FROM t ORDER BY a;
