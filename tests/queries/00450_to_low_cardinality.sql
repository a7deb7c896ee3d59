-- toLowCardinality: the same values, dictionary-encoded, with LowCardinality types
SELECT toLowCardinality('a') AS x, toTypeName(x);
SELECT toTypeName(toLowCardinality(toLowCardinality(1)));
SELECT toLowCardinality(number % 3) AS x, toTypeName(x) FROM numbers(4);
DROP TABLE IF EXISTS lc_fn;
CREATE TABLE lc_fn (s Nullable(String), n UInt32) ENGINE = MergeTree ORDER BY n;
INSERT INTO lc_fn VALUES ('a', 1), (NULL, 2), ('b', 3), ('a', 4);
SELECT toLowCardinality(s) AS x, toTypeName(x), n FROM lc_fn ORDER BY n;
SELECT toLowCardinality(s) AS x, count() FROM lc_fn GROUP BY x ORDER BY x;
SELECT toLowCardinality(concat(s, '!')) AS x FROM lc_fn WHERE x != '' ORDER BY n;
DROP TABLE lc_fn;
