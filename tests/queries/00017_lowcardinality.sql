-- LowCardinality(String) columns: grouping by codes, filters, types
CREATE TABLE lc (c LowCardinality(String), n UInt16) ENGINE = MergeTree ORDER BY n;
INSERT INTO lc VALUES ('red', 1), ('green', 2), ('red', 3), ('blue', 4), ('green', 5), ('red', 6);
SELECT c, count(), sum(n) FROM lc GROUP BY c ORDER BY c;
SELECT toTypeName(c), toTypeName(min(c)) FROM lc GROUP BY c ORDER BY c LIMIT 1;
SELECT n FROM lc WHERE c = 'red' ORDER BY n;
SELECT n FROM lc WHERE c IN ('blue', 'green') ORDER BY n DESC;
SELECT DISTINCT c FROM lc ORDER BY c;
SELECT upper(c) AS u, uniqExact(n % 2) FROM lc GROUP BY u ORDER BY u;
SELECT c, n FROM lc ORDER BY c, n LIMIT 1 BY c;
