-- JSON functions: paths, typed extraction (scalar, Nullable, Array, Tuple, Map), invalid JSON, visitParam
CREATE TABLE js (id UInt32, j String) ENGINE = MergeTree ORDER BY id;
INSERT INTO js VALUES (1, '{"a":1,"b":"x","c":[1,2,3],"d":{"e":true,"f":null},"g":1.5}'), (2, '{"a":"7","c":[],"d":{}}'), (3, 'not json'), (4, ''), (5, '{"a":-3,"c":[1,"2",null,4.7],"b":"\\u00e9\\n"}'), (6, '[1, {"a": 2}, [3, 4]]'), (7, '{"a":1,"a":2}'), (8, '{"c": [[1], [2, 3]], "b": 300}');
SELECT id, JSONExtract(j, 'a', 'Int32'), JSONExtract(j, 'a', 'Nullable(Int32)'), JSONExtract(j, 'b', 'String'), JSONExtract(j, 'b', 'Nullable(UInt8)'), JSONExtract(j, 'g', 'Float64') FROM js ORDER BY id;
SELECT id, JSONExtract(j, 'c', 'Array(Int64)'), JSONExtract(j, 'c', 'Array(Nullable(String))'), JSONExtract(j, 'd', 'Map(String, String)'), JSONExtract(j, 'd', 'Tuple(e Bool, f Nullable(UInt8))') FROM js ORDER BY id;
SELECT id, JSONExtractKeys(j), JSONExtractKeys(j, 'd'), JSONExtractArrayRaw(j, 'c'), JSONExtractArrayRaw(j), JSONLength(j), isValidJSON(j) FROM js ORDER BY id;
SELECT id, JSONExtractKeysAndValues(j, 'Int64'), JSONExtractKeysAndValuesRaw(j, 'd') FROM js ORDER BY id;
SELECT id, JSONExtract(j, 2, 'Tuple(a UInt8)'), JSONExtract(j, 'c', 'Array(Array(UInt8))'), JSONExtractString(j, 'b'), JSONExtractInt(j, 'a'), JSONHas(j, 'd', 'e') FROM js ORDER BY id;
SELECT id, visitParamExtractUInt(j, 'a'), visitParamExtractInt(j, 'a'), visitParamExtractString(j, 'b'), visitParamExtractRaw(j, 'c'), visitParamHas(j, 'd'), simpleJSONExtractFloat(j, 'g') FROM js ORDER BY id;
SELECT toJSONString(map('a', [1, 2])) AS a, toJSONString((1, 'x/y')) AS b, toJSONString(CAST((1, 'x'), 'Tuple(n UInt8, s String)')) AS c, toJSONString(nan) AS d, toJSONString('q"') AS e;
SELECT JSONExtract('{"a":1}', 'a'); -- { serverError UNKNOWN_TYPE }
