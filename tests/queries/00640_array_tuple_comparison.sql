-- Arrays compare lexicographically by element (NaN equals NaN and sorts after numbers, NULL equals
-- NULL and sorts after every value, a prefix is smaller); tuples compare component by component with
-- the ordinary comparisons (tuple(nan) = tuple(nan) is 0), NULL when a compared component is NULL.
SELECT [1, 2] = [1, 2], [1, 2] < [1, 3], ['a'] = ['a', 'b'], [1, 2] != [1, 2.0], [] = [];
SELECT [[1], [2]] = [[1], [2]], [[1], [2]] < [[1], [2, 0]], [NULL, 1] = [NULL, 1], [NULL] < [1], [1] < [NULL];
SELECT [nan] = [nan], [nan] > [1], [1, 2] < [1, 2, 0], [1, 2] = [1, 2, NULL], [(1, 'a')] < [(1, 'b')];
SELECT [toDate('2024-01-01')] < [toDateTime('2024-01-01 00:00:01')], ['b'] > ['ab'], [toUUID('00000000-0000-0000-0000-000000000001')] < [toUUID('00000000-0000-0000-0000-000000000002')];
SELECT toTypeName([1] = [1]), toTypeName((1, 2) = (1, 2)), toTypeName((1, NULL) = (2, 3));
SELECT (1, 2) = (1, 2), (1, 2) = (1, 2.0), tuple(nan) = tuple(nan), (1, 'a') < (1, 'b'), (2, 0) > (1, 9), (1, 2) <= (1, 2), (1, 3) >= (1, 2);
SELECT (1, NULL) = (1, NULL), (1, NULL) < (2, NULL), (2, NULL) < (1, 5), (NULL, 1) = (NULL, 2);
SELECT x, x < [1], x = [1, 2], [0] < x, x >= [1], x IN ([1, 2], []), x NOT IN ([1, 2], [])
FROM (SELECT arrayJoin([[1, 2], [1], [], [0, 5], [1, 2, 3]]) AS x) ORDER BY x;
SELECT x, (x, 'a') = (2, 'a'), (x, [x]) < (2, [3]), (x, 1) <= (2, 0) FROM (SELECT arrayJoin([1, 2, 3]) AS x) ORDER BY x;
SELECT [1] IN ([1], [2]), [3] NOT IN ([1], [2]), (1, 'a') IN ((1, 'a'), (2, 'b'));
SELECT ['a'] = [1]; -- { serverError ILLEGAL_TYPE_OF_ARGUMENT }
SELECT [1, 2] = (1, 2); -- { serverError ILLEGAL_TYPE_OF_ARGUMENT }
SELECT (1, 2) = (1, 2, 3); -- { serverError ILLEGAL_TYPE_OF_ARGUMENT }
-- array literals of tuples take the element-wise supertype (Array(Nothing) fits any array)
SELECT [([], []), ([], [0])], toTypeName([(1, 'a'), (1000, 'b')]), [(1, NULL), (2, 3)];
SELECT if(number = 0, (1, [1]), (2, [])) FROM numbers(2);
