-- Arrays of LowCardinality, Nullable, nested arrays and dates: lambdas, PREWHERE, GROUP BY, arrayJoin over lambdas
CREATE TABLE r (id UInt32, a Array(LowCardinality(String)), b Array(Nullable(Int32)), c Array(Array(UInt8)), s LowCardinality(String), d Array(Date)) ENGINE = MergeTree ORDER BY id;
INSERT INTO r VALUES (1, ['x','y','x'], [1, NULL, 3], [[1],[2,3]], 'q', ['2020-01-01']), (2, [], [], [], '', []), (3, ['z'], [NULL], [[]], 'zz', ['2021-05-05', '2020-01-01']);
SELECT id, arrayMap(x -> concat(x, s), a), arrayFilter(x -> x != 'x', a), arraySort(a), arrayDistinct(a), has(a, 'x'), indexOf(a, 'y') FROM r ORDER BY id;
SELECT id, arrayMap(x -> x * 2, b), arrayFilter(x -> x IS NOT NULL, b), arraySum(x -> ifNull(x, 0), b), arrayMax(b), arrayCount(x -> x > 1, b) FROM r ORDER BY id;
SELECT id, arrayMap(x -> arraySum(x), c), arrayFlatten(c), arrayMap(x -> length(x), c), arrayFilter(x -> notEmpty(x), c) FROM r ORDER BY id;
SELECT id, arrayMap(x -> toYear(x), d), arraySort(d), arrayMin(d), arrayMax(d), has(d, toDate('2020-01-01')) FROM r ORDER BY id;
SELECT id FROM r PREWHERE has(a, 'x') WHERE arrayExists(x -> x = 3, b) ORDER BY id;
SELECT s, groupArray(a), arrayFlatten(groupArray(a)) FROM r GROUP BY s ORDER BY s;
SELECT arrayJoin(arrayMap(x -> x || '!', a)) AS v FROM r ORDER BY v;
SELECT id, arrayZip(a, arrayMap(x -> length(x), a)) FROM r ORDER BY id;
SELECT arrayCount([toNullable(1)]); -- { serverError ILLEGAL_TYPE_OF_ARGUMENT }
