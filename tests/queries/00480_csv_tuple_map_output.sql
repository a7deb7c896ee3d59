-- CSV output: a Tuple is flattened into one field per element (recursively), the *WithNames header
-- names them t.1 / t.name; Map and Array values are one double-quoted field. TSV keeps tuples whole.
SELECT (1, 'a') AS t, CAST((1, 'a'), 'Tuple(x Int32, y String)') AS n, map('k', 1, 'j', 2) AS m FORMAT CSV;
SELECT (1, 'a') AS t, CAST((1, 'a'), 'Tuple(x Int32, y String)') AS n, map('k', 1, 'j', 2) AS m FORMAT CSVWithNames;
SELECT (1, (2, 'z')) AS nest, [(1, 'a'), (2, 'b')] AS at, [map('a', 1)] AS am, 'x"y' AS s FORMAT CSVWithNames;
SELECT CAST(('a', NULL), 'Tuple(a String, b Nullable(Int8))') AS tn, ((1, 2), 3) AS tt, map('k', (1, 'x')) AS mt FORMAT CSVWithNamesAndTypes;
SELECT number, (number, toString(number)) AS t, map(toString(number), number) AS m FROM numbers(3) FORMAT CSVWithNames;
SELECT (1, 'a') AS t, map('k', 1) AS m, (1, (2, 'z')) AS nest FORMAT TSVWithNames;
SELECT k, (k, count()) AS t FROM (SELECT number % 2 AS k FROM numbers(5)) GROUP BY k WITH TOTALS ORDER BY k FORMAT CSVWithNames;
