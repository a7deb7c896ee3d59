-- JSON over LowCardinality/Nullable columns, Map and Tuple columns with NULL elements, Nullable(Tuple) from JSON
CREATE TABLE j (id UInt32, lj LowCardinality(String), nj Nullable(String), m Map(String, Array(UInt8)), t Tuple(String, Nullable(UInt8))) ENGINE = MergeTree ORDER BY id;
INSERT INTO j VALUES (1, '{"a":1}', '{"a":[1,2]}', map('x', [1]), ('p', 1)), (2, '{"a":2}', NULL, map(), ('', NULL)), (3, 'bad', '{"b":"c"}', map('y', [], 'x', [2, 3]), ('q', 3));
SELECT id, JSONExtractInt(lj, 'a'), JSONExtractKeys(ifNull(nj, '')), isValidJSON(lj), JSONHas(nj, 'b'), visitParamExtractRaw(nj, 'a') FROM j ORDER BY id;
SELECT id, m['x'], mapKeys(m), mapValues(m), t.1, t.2, tupleElement(t, 2), toJSONString(m), toJSONString(t) FROM j ORDER BY id;
SELECT t.2, count() FROM j GROUP BY t.2 ORDER BY t.2;
SELECT id, arrayMap(k -> m[k], mapKeys(m)), length(m), mapContains(m, 'y') FROM j WHERE notEmpty(m) ORDER BY id;
SELECT lj, count() FROM j WHERE JSONExtractInt(lj, 'a') > 0 GROUP BY lj ORDER BY lj;
SELECT id, JSONExtract(nj, 'Tuple(a Array(UInt8), b Nullable(String))') FROM j ORDER BY id;
SELECT toTypeName(CAST(NULL, 'Nullable(Tuple(UInt8))')) AS a, tupleElement(CAST(NULL, 'Nullable(Tuple(a UInt8))'), 1) AS b;
SELECT CAST(NULL, 'Nullable(Map(String, UInt8))'); -- { serverError ILLEGAL_TYPE_OF_ARGUMENT }
