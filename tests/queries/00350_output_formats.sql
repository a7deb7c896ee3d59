-- output formats through the FORMAT clause (byte-compatible with ClickHouse 26.x)
SELECT number AS n, toString(number) AS s, number / 4 AS f FROM numbers(3) FORMAT CSV;
SELECT number AS n, toString(number) AS s FROM numbers(3) FORMAT CSVWithNames;
SELECT number AS n, toString(number) AS s, nullIf(number, 1) AS nn FROM numbers(3) FORMAT CSVWithNamesAndTypes;
SELECT number AS n, 'a\tb' AS s FROM numbers(2) FORMAT TSVWithNames;
SELECT number AS n, toDate('2024-01-01') + number AS d FROM numbers(2) FORMAT TSVWithNamesAndTypes;
SELECT 'a\tb' AS s, 'c\\d' AS t FORMAT TSVRaw;
SELECT number AS n, toString(number) AS s, [number, 1] AS a FROM numbers(3) FORMAT JSONEachRow;
SELECT 'quote"s' AS q, 'slash/' AS sl, nan AS x, inf AS y FORMAT JSONEachRow;
SELECT number AS n, toString(number) AS s FROM numbers(3) FORMAT PrettyCompact;
SELECT number AS n, toString(number) AS s FROM numbers(3) FORMAT Pretty;
SELECT number AS n, toString(number) AS s FROM numbers(3) FORMAT PrettySpace;
SELECT number AS n, toString(number) AS s FROM numbers(3) FORMAT PrettyCompactNoEscapes;
SELECT number AS n, toString(number) AS s FROM numbers(3) FORMAT PrettyNoEscapes;
SELECT number AS n, 'x\ny' AS s FROM numbers(2) FORMAT PrettyCompact;
SELECT 12345678 AS big FORMAT PrettyCompact;
SELECT number * 1000000 AS big FROM numbers(3) FORMAT Pretty;
SELECT number AS n, NULL AS z FROM numbers(2) FORMAT Vertical;
SELECT number AS n, toString(number) AS s, number > 0 AS b FROM numbers(3) FORMAT Markdown;
SELECT number FROM numbers(5) FORMAT Null;
SELECT number FROM numbers(55) FORMAT PrettyCompact;
SELECT 'héllo' AS h, '日本' AS j FORMAT PrettyCompact;
SELECT number AS n FROM numbers(0) FORMAT PrettyCompact;
SELECT number AS n FROM numbers(0) FORMAT CSVWithNames;
SELECT toDateTime('2024-01-02 03:04:05') AS ts, toDate('2024-01-02') AS d FORMAT CSV;
SELECT -1.5 AS a, 1e-7 AS b, 123456789.125 AS c, toFloat32(0.1) AS d FORMAT TSV;
SELECT 1 FORMAT NoSuchFormat; -- { serverError UNKNOWN_FORMAT }
