-- Named tuples with Nullable elements over several rows: Pretty shows multi-line JSON (null), CSV flattens
-- the top-level tuple and keeps a Map of tuples as one quoted field.
SELECT CAST(('a', 1), 'Tuple(s String, n Nullable(UInt8))') AS t, [CAST(('b', NULL), 'Tuple(s String, n Nullable(UInt8))')] AS a FORMAT PrettyCompact;
SELECT CAST(('a', 1), 'Tuple(s String, n Nullable(UInt8))') AS t, map('k', [CAST(('b', NULL), 'Tuple(s String, n Nullable(UInt8))')]) AS a FORMAT CSVWithNames;
SELECT CAST((number, 'x'), 'Tuple(a UInt64, b String)') AS t FROM numbers(3) FORMAT PrettySpace;
