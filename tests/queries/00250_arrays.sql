-- Array functions over a table: empty arrays, NULL elements, out-of-range indexes and slices
CREATE TABLE arr (id UInt32, a Array(Int32), s Array(String), n Array(Nullable(UInt8))) ENGINE = MergeTree ORDER BY id;
INSERT INTO arr VALUES (1, [3, 1, 2, 3], ['b', 'a', 'b'], [1, NULL, 2]), (2, [], [], []), (3, [-5], ['x'], [NULL]), (4, [7, 7, 7, 1, 1], ['', 'z', ''], [0, 0]), (5, [10, -10, 0, 5], ['q'], [3]);
SELECT id, arraySum(a), arrayMin(a), arrayMax(a), arrayAvg(a), arrayProduct(a) FROM arr ORDER BY id;
SELECT id, arraySort(a), arrayReverseSort(a), arraySort(s), arrayReverse(a), arraySort(n) FROM arr ORDER BY id;
SELECT id, arrayDistinct(a), arrayUniq(a), arrayEnumerate(a), arrayEnumerateUniq(a), arrayEnumerateDense(s) FROM arr ORDER BY id;
SELECT id, arrayCumSum(a), arrayCumSumNonNegative(a), arrayDifference(a), arrayCompact(a), arrayCompact(n) FROM arr ORDER BY id;
SELECT id, arraySlice(a, 2), arraySlice(a, -2, 1), arraySlice(a, 2, -1), arraySlice(a, 0), arraySlice(a, 10, 2) FROM arr ORDER BY id;
SELECT id, arrayResize(a, 3), arrayResize(a, -2), arrayResize(s, 2, 'pad'), arrayPushBack(a, 100), arrayPushFront(s, 'f') FROM arr ORDER BY id;
SELECT id, a[1], a[-1], a[100], a[-100], s[2], n[2] FROM arr ORDER BY id;
SELECT [1, 2][0] AS z, [1, 2][3] AS o;
SELECT id, indexOf(a, 7), indexOf(n, NULL), has(a, 1), hasAny(a, [1, 2]), hasAll(a, [7, 1]), hasAll(a, []) FROM arr ORDER BY id;
SELECT id, arrayConcat(a, [0], a), arrayFlatten([a, a]), arrayZip(arraySlice(a, 1, 1), arraySlice(s, 1, 1)) FROM arr ORDER BY id;
SELECT id, arrayMin(n), arrayMax(n), arrayDistinct(n), arrayExists(x -> x > 1, n), emptyArrayToSingle(a) FROM arr ORDER BY id;
SELECT arrayCount(n) FROM arr; -- { serverError ILLEGAL_TYPE_OF_ARGUMENT }
SELECT arraySort([nan, 1, -inf, inf, NULL]) AS x, arrayReverseSort([nan, 1, -inf, inf, NULL]) AS y;
SELECT range(5) AS r1, range(2, 8, 3) AS r2, range(-3, 0) AS r3, emptyArrayString() AS e1, emptyArrayUInt8() AS e2, arrayFlatten([[[1, 2]], [[3]]]) AS f;
SELECT arrayReduce('sum', [1, 2, 3]) AS s, arrayReduce('max', ['b', 'a']) AS m, arrayReduce('uniqExact', [1, 1, 2]) AS u, arrayReduce('groupArray', [3, 4]) AS g;
SELECT arraySum(['a']); -- { serverError ILLEGAL_TYPE_OF_ARGUMENT }
SELECT arrayResize([1], 2, 'x'); -- { serverError NO_COMMON_TYPE }
SELECT a[0] FROM arr; -- { serverError ZERO_ARRAY_OR_TUPLE_INDEX }
