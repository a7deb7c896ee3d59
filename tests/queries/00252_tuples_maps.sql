-- Tuple and Map columns: storage round trip, element access, maps with missing keys, output text
CREATE TABLE tm (id UInt32, t Tuple(a UInt8, b String), m Map(String, UInt64), at Array(Tuple(UInt16, String))) ENGINE = MergeTree ORDER BY id;
INSERT INTO tm VALUES (1, (1, 'x'), map('a', 1, 'b', 2), [(1, 'q'), (2, 'r')]), (2, (0, ''), map(), []), (3, (255, 'tab\there'), map('c', 3, 'a', 10), [(7, 'it''s')]);
SELECT * FROM tm ORDER BY id;
SELECT id, t.a, t.b, t.1, tupleElement(t, 2), m['a'], m['zz'], mapKeys(m), mapValues(m), mapContains(m, 'c') FROM tm ORDER BY id;
SELECT id, at.1, at.2, length(at), arrayMap(x -> x.1 * 2, at) FROM tm ORDER BY id;
SELECT id FROM tm WHERE t.a > 0 AND mapContains(m, 'a') ORDER BY id;
SELECT sumMap(m), sumMap(mapKeys(m), mapValues(m)), minMap(mapKeys(m), mapValues(m)), maxMap(mapKeys(m), mapValues(m)) FROM tm;
SELECT tuple(1, 'a') AS x, (1, 'a').2 AS y, ((1, 2), 'z').1.2 AS z, tuple(NULL, 1) AS w, toTypeName(w);
SELECT untuple((1, 'a', 2.5));
SELECT map('k', [1, 2], 'l', []) AS m1, map(1, 'one', 2, 'two')[2] AS m2, mapFromArrays(['x', 'y'], [1, 2]) AS m3, toTypeName(m3);
SELECT arrayZip([1, 2], ['a', 'b'], [[1], []]) AS z, CAST((1, 'x'), 'Tuple(a UInt8, b String)') AS c, c.b;
SELECT tupleElement((1, 2), 3); -- { serverError ARGUMENT_OUT_OF_BOUND }
