-- functions Tinybird's CLI uses over tinybird.pipe_stats_rt (tb push --force regression check):
-- mapFilter / mapApply with (k, v) lambdas, assumeNotNull, groupArraySample, first_value / last_value
SELECT mapFilter((k, v) -> k NOT IN ('token', 'from'), map('a', '1', 'token', 'x', 'b', '2', 'from', 'ui'));
SELECT mapFilter((k, v) -> v > 1, m) FROM (SELECT map('a', 1, 'b', 2, 'c', 3) AS m);
SELECT mapKeys(mapFilter((k, v) -> length(k) > 1, map('a', 1, 'bb', 2))), mapFilter((k, v) -> 0, map('a', 1));
SELECT mapApply((k, v) -> (upper(k), v || '!'), map('a', '1', 'b', '2'));
SELECT mapApply((k, v) -> (k, v * 10), m) FROM (SELECT map('x', 1, 'y', 2) AS m);
SELECT assumeNotNull(x), toTypeName(assumeNotNull(x)) FROM (SELECT arrayJoin([1, NULL, 5]) AS x);
SELECT assumeNotNull(s), toTypeName(assumeNotNull(s)) FROM (SELECT arrayJoin(['a', NULL, 'c']) AS s);
SELECT assumeNotNull(3), toTypeName(assumeNotNull('t'));
SELECT number % 3 AS g, length(groupArraySample(4)(number)), arrayAll(x -> x % 3 = g, groupArraySample(4)(number))
FROM numbers(30) GROUP BY g ORDER BY g;
SELECT length(groupArraySample(100)(number)), arraySort(groupArraySample(100)(number)) FROM numbers(5);
SELECT length(groupArraySample(2, 7)(number)) FROM numbers(10);
SELECT first_value(number), last_value(number) FROM numbers(5);
SELECT g, first_value(x), last_value(x) FROM (SELECT number % 2 AS g, number AS x FROM numbers(6)) GROUP BY g ORDER BY g;
SELECT [first_value(s)] FROM (SELECT 'u' AS s);
