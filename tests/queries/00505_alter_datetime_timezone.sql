-- MODIFY COLUMN between DateTime time zones keeps the stored seconds (only the display changes).
CREATE TABLE tz (k UInt8, ts DateTime('UTC')) ENGINE = MergeTree ORDER BY k;
INSERT INTO tz VALUES (1, '2024-01-01 10:00:00');
ALTER TABLE tz MODIFY COLUMN ts DateTime('Asia/Tokyo');
INSERT INTO tz VALUES (2, '2024-01-01 10:00:00');
SELECT k, ts, toUnixTimestamp(ts), toTypeName(ts) FROM tz ORDER BY k;
OPTIMIZE TABLE tz FINAL;
SELECT k, ts, toUnixTimestamp(ts) FROM tz ORDER BY k;
