-- Lambdas: x -> expr and (x, y) -> expr over array elements, outer columns in the body, nested lambdas
CREATE TABLE lam (id UInt32, a Array(UInt32), b Array(UInt32), k UInt32, s String) ENGINE = MergeTree ORDER BY id;
INSERT INTO lam VALUES (1, [1, 2, 3], [10, 20, 30], 2, 'x'), (2, [], [], 5, ''), (3, [7], [1], 0, 'yy'), (4, [4, 5, 6, 7], [0, 1, 0, 1], 3, 'z');
SELECT id, arrayMap(x -> x * 2, a), arrayMap(x -> x + k, a), arrayMap((x, y) -> x + y, a, b), arrayMap(x -> concat(s, toString(x)), a) FROM lam ORDER BY id;
SELECT id, arrayFilter(x -> x > k, a), arrayFilter((x, y) -> y != 0, a, b), arrayCount(x -> x % 2 = 1, a), arrayExists(x -> x = k, a), arrayAll(x -> x > 0, a) FROM lam ORDER BY id;
SELECT id, arrayFirst(x -> x > 2, a), arrayLast(x -> x > 2, a), arrayFirstIndex(x -> x > 2, a), arrayLastIndex(x -> x < 5, a), arrayFirstOrNull(x -> x > 100, a) FROM lam ORDER BY id;
SELECT id, arraySort(x -> -x, a), arraySort((x, y) -> y, a, b), arrayReverseSort(x -> x % 3, a), arraySum(x -> x * k, a), arrayMax(x -> x % 4, a) FROM lam ORDER BY id;
SELECT id, arrayMap(x -> arrayMap(y -> x * y + k, b), a) FROM lam ORDER BY id;
SELECT id, arrayCumSum(x -> x * 2, a), arraySplit((x, y) -> y != 0, a, b), arrayFill(x -> x > 4, a), arrayReverseFill(x -> x > 4, a) FROM lam ORDER BY id;
SELECT k % 2 AS p, arrayMap(x -> x * 10, arraySort(groupArray(id))) AS g, arraySum(x -> x, groupArray(k)) AS t FROM lam GROUP BY p ORDER BY p;
SELECT id FROM lam WHERE arrayExists(x -> x = 7, a) ORDER BY id;
SELECT arrayMap(x -> x + 1, [1, 2]) AS c1, arrayMap(x -> NULL, [1]) AS c2, arrayFilter(x -> x, [1, 0, NULL]) AS c3;
SELECT number, arrayMap(x -> x * number, range(number)) FROM numbers(4) ORDER BY number;
SELECT arrayMap((x, y) -> x + y, [1, 2], [3]); -- { serverError SIZES_OF_ARRAYS_DONT_MATCH }
