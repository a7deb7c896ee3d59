-- Columns added to a table with rows: Nullable without DEFAULT reads NULL, arrays and LowCardinality
-- read their type defaults, a DEFAULT may use another added column; MODIFY COLUMN with only a type keeps
-- the DEFAULT and COMMENT; lossless widenings (Float32 -> Float64, UInt8 -> Int32, T -> Nullable(T)) read
-- the stored values through a CAST.
CREATE TABLE ty (k UInt8, c UInt32 DEFAULT k + 1 COMMENT 'cc', f Float32, u UInt8) ENGINE = MergeTree ORDER BY k;
INSERT INTO ty (k, f, u) VALUES (1, 1.1, 200), (2, -0.5, 7);
ALTER TABLE ty ADD COLUMN n Nullable(String), ADD COLUMN arr Array(String), ADD COLUMN lc LowCardinality(String);
ALTER TABLE ty ADD COLUMN d1 UInt16 DEFAULT k * 3, ADD COLUMN d2 String DEFAULT concat('x', toString(d1));
SELECT * FROM ty ORDER BY k;
SELECT count() FROM ty WHERE n IS NULL;
ALTER TABLE ty MODIFY COLUMN c UInt64;
ALTER TABLE ty MODIFY COLUMN f Float64;
ALTER TABLE ty MODIFY COLUMN u Int32;
ALTER TABLE ty MODIFY COLUMN lc String;
INSERT INTO ty (k, f, u, n, arr, lc) VALUES (3, 2.25, -5, 'n', ['a', 'b'], 'l');
SELECT k, c, f, u, n, arr, lc, d1, d2 FROM ty ORDER BY k;
SELECT toTypeName(c), toTypeName(f), toTypeName(u), toTypeName(lc) FROM ty LIMIT 1;
DESCRIBE TABLE ty;
ALTER TABLE ty MODIFY COLUMN u Nullable(Int32);
SELECT k, u, toTypeName(u) FROM ty ORDER BY k;
OPTIMIZE TABLE ty FINAL;
SELECT k, c, f, u, n, arr, lc, d1, d2 FROM ty ORDER BY k;
