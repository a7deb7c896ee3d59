-- ALTER TABLE ADD / DROP COLUMN are metadata-only: parts written before an ADD COLUMN read the
-- column's DEFAULT expression computed over their own rows (or the type default); merges write it.
CREATE TABLE t (id UInt32, name String) ENGINE = MergeTree ORDER BY id;
INSERT INTO t VALUES (1, 'a'), (2, 'b');
ALTER TABLE t ADD COLUMN score UInt64 DEFAULT id * 10;
ALTER TABLE t ADD COLUMN tag String AFTER id;
ALTER TABLE t ADD COLUMN flag Int8 FIRST;
INSERT INTO t (id, name) VALUES (3, 'c');
INSERT INTO t (id, name, score, tag, flag) VALUES (4, 'd', 7, 'x', -1);
SELECT * FROM t ORDER BY id;
SELECT id, score + 1, length(tag) FROM t WHERE score >= 20 ORDER BY id;
SELECT sum(score), count() FROM t;
DESCRIBE TABLE t;
SHOW CREATE TABLE t;
ALTER TABLE t ADD COLUMN score UInt8; -- { serverError DUPLICATE_COLUMN }
ALTER TABLE t ADD COLUMN IF NOT EXISTS score UInt8;
ALTER TABLE t ADD COLUMN z UInt8 AFTER nope; -- { serverError NO_SUCH_COLUMN_IN_TABLE }
ALTER TABLE t ADD COLUMN z UInt8 DEFAULT nope + 1; -- { serverError UNKNOWN_IDENTIFIER }
ALTER TABLE t DROP COLUMN id; -- { serverError ILLEGAL_COLUMN }
ALTER TABLE t DROP COLUMN nope; -- { serverError NOT_FOUND_COLUMN_IN_BLOCK }
ALTER TABLE t DROP COLUMN IF EXISTS nope;
ALTER TABLE t DROP COLUMN tag;
SELECT * FROM t ORDER BY id;
OPTIMIZE TABLE t FINAL;
SELECT * FROM t ORDER BY id;
ALTER TABLE t ADD COLUMN tag UInt16 DEFAULT 5;
SELECT id, tag FROM t ORDER BY id;
DESCRIBE TABLE t;
CREATE TABLE k (a UInt32, b String, c Date) ENGINE = MergeTree PARTITION BY toYYYYMM(c) ORDER BY a;
ALTER TABLE k DROP COLUMN a; -- { serverError ALTER_OF_COLUMN_IS_FORBIDDEN }
ALTER TABLE k DROP COLUMN c; -- { serverError ALTER_OF_COLUMN_IS_FORBIDDEN }
ALTER TABLE k DROP COLUMN b;
DESCRIBE TABLE k;
