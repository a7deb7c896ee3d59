-- RENAME / MODIFY / COMMENT COLUMN: metadata-only; a DEFAULT that reads a renamed column follows it;
-- old parts still stored under the old name are read under the new one; a lossless type widening
-- is read through a CAST.
CREATE TABLE r (id UInt32, v UInt16, s String) ENGINE = MergeTree ORDER BY id;
INSERT INTO r VALUES (1, 100, 'one'), (2, 200, 'two');
ALTER TABLE r ADD COLUMN w UInt32 DEFAULT v + 1;
ALTER TABLE r RENAME COLUMN v TO val;
INSERT INTO r (id, val, s) VALUES (3, 300, 'three');
SELECT * FROM r ORDER BY id;
DESCRIBE TABLE r;
ALTER TABLE r RENAME COLUMN id TO id2; -- { serverError ALTER_OF_COLUMN_IS_FORBIDDEN }
ALTER TABLE r RENAME COLUMN s TO val; -- { serverError DUPLICATE_COLUMN }
ALTER TABLE r RENAME COLUMN nope TO x; -- { serverError NOT_FOUND_COLUMN_IN_BLOCK }
ALTER TABLE r RENAME COLUMN IF EXISTS nope TO x;
ALTER TABLE r MODIFY COLUMN val UInt64;
ALTER TABLE r MODIFY COLUMN w DEFAULT val * 2;
ALTER TABLE r MODIFY COLUMN s COMMENT 'the name';
ALTER TABLE r COMMENT COLUMN val 'a value';
INSERT INTO r (id, val, s) VALUES (4, 18446744073709551615, 'four');
SELECT * FROM r ORDER BY id;
SELECT toTypeName(max(val)), max(val) FROM r;
DESCRIBE TABLE r;
ALTER TABLE r MODIFY COLUMN id UInt64; -- { serverError ALTER_OF_COLUMN_IS_FORBIDDEN }
ALTER TABLE r MODIFY COLUMN nope UInt8; -- { serverError NOT_FOUND_COLUMN_IN_BLOCK }
OPTIMIZE TABLE r FINAL;
SELECT * FROM r ORDER BY id;
ALTER TABLE r MODIFY COLUMN w REMOVE DEFAULT;
SHOW CREATE TABLE r;
CREATE TABLE cm (a UInt8 COMMENT 'it''s a', b String DEFAULT 'x' COMMENT 'bee') ENGINE = MergeTree ORDER BY a;
ALTER TABLE cm RENAME COLUMN b TO b2, COMMENT COLUMN a 'new comment';
DESCRIBE TABLE cm;
SHOW CREATE TABLE cm;
CREATE TABLE mc (k UInt8) ENGINE = MergeTree ORDER BY k;
INSERT INTO mc VALUES (1);
ALTER TABLE mc ADD COLUMN x UInt8 DEFAULT 7, DROP COLUMN nope; -- { serverError NOT_FOUND_COLUMN_IN_BLOCK }
DESCRIBE TABLE mc;
ALTER TABLE mc ADD COLUMN x UInt8 DEFAULT k + 1, RENAME COLUMN x TO y;
ALTER TABLE mc ADD COLUMN z UInt8, ADD COLUMN w String DEFAULT 'w' AFTER z, ADD COLUMN v Int8 FIRST;
SELECT * FROM mc;
DESCRIBE TABLE mc;
SELECT name, type, position, default_kind, default_expression, comment FROM system.columns WHERE database = 'default' AND table = 'cm' ORDER BY position;
