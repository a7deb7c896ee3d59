-- arrayReduce over states, states of empty input, -Merge of -If states, states inside subqueries and UNION
SELECT finalizeAggregation(arrayReduce('sumState', [1, 2, 3])), finalizeAggregation(arrayReduce('uniqState', ['a', 'b', 'a']));
SELECT arrayReduce('uniqMerge', groupArray(s)), arrayReduce('sumMerge', groupArray(t)) FROM (SELECT number % 3 AS g, uniqState(number) AS s, sumState(number) AS t FROM numbers(10) GROUP BY g);
SELECT countMerge(c), sumMerge(s), uniqMerge(u), avgMerge(a), maxMerge(m) FROM (SELECT countState() AS c, sumState(number) AS s, uniqState(number) AS u, avgState(number) AS a, maxState(number) AS m FROM numbers(10) WHERE number > 100);
SELECT g, countIfMerge(c), uniqIfMerge(u) FROM (SELECT number % 2 AS g, countIfState(number > 3) AS c, uniqIfState(number % 4, number > 3) AS u FROM numbers(20) GROUP BY g, number % 5) GROUP BY g ORDER BY g;
SELECT uniqMerge(u) FROM (SELECT uniqState(toString(number)) AS u FROM numbers(100) UNION ALL SELECT uniqState(toString(number + 50)) AS u FROM numbers(100));
SELECT quantilesMerge(0.25, 0.75)(q) FROM (SELECT quantilesState(0.25, 0.75)(number) AS q FROM numbers(101) GROUP BY number % 7);
SELECT number % 3 AS g, finalizeAggregation(minState(toString(number))), finalizeAggregation(argMaxState(number, number % 4)) FROM numbers(12) GROUP BY g ORDER BY g;
SELECT toTypeName(uniqState(toNullable(number))) FROM numbers(5);
SELECT uniqMerge(s), sumMerge(t) FROM (SELECT uniqState(if(number = 2, NULL, number)) AS s, sumState(if(number = 2, NULL, number)) AS t FROM numbers(5));
SELECT finalizeAggregation(initializeAggregation('quantileState(0.9)', number)), toTypeName(initializeAggregation('quantilesState(0.1, 0.9)', number)) FROM numbers(3);
