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
