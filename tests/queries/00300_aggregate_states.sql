-- -State / -Merge / -MergeState / -SimpleState, finalizeAggregation, initializeAggregation, state type names
CREATE TABLE e (user String, page String, ms UInt32, d Date) ENGINE = MergeTree ORDER BY (d, user);
INSERT INTO e VALUES ('u1', '/', 10, '2024-01-01'), ('u2', '/', 20, '2024-01-01'), ('u1', '/a', 30, '2024-01-01'), ('u3', '/', 40, '2024-01-02'), ('u1', '/a', 50, '2024-01-02'), ('u2', '/b', 60, '2024-01-03');
SELECT toTypeName(countState()), toTypeName(sumState(ms)), toTypeName(uniqState(user)), toTypeName(avgState(ms)), toTypeName(quantilesState(0.5, 0.9)(ms)), toTypeName(sumIfState(ms, ms > 20)) FROM e;
SELECT d, finalizeAggregation(countState()), finalizeAggregation(sumState(ms)), finalizeAggregation(uniqState(user)), finalizeAggregation(avgState(ms)) FROM e GROUP BY d ORDER BY d;
SELECT countMerge(c), sumMerge(s), uniqMerge(u), avgMerge(a), minMerge(mi), maxMerge(ma), quantileMerge(q) FROM (SELECT d, countState() AS c, sumState(ms) AS s, uniqState(user) AS u, avgState(ms) AS a, minState(page) AS mi, maxState(ms) AS ma, quantileState(ms) AS q FROM e GROUP BY d);
SELECT page, uniqExactMerge(u), argMaxMerge(am) FROM (SELECT page, d, uniqExactState(user) AS u, argMaxState(user, ms) AS am FROM e GROUP BY page, d) GROUP BY page ORDER BY page;
SELECT finalizeAggregation(s2), finalizeAggregation(u2), toTypeName(s2) FROM (SELECT sumMergeState(s) AS s2, uniqMergeState(u) AS u2 FROM (SELECT d, sumState(ms) AS s, uniqState(user) AS u FROM e GROUP BY d));
SELECT sumIfMerge(si), countIfMerge(ci) FROM (SELECT d, sumIfState(ms, page = '/') AS si, countIfState(ms > 25) AS ci FROM e GROUP BY d);
SELECT finalizeAggregation(initializeAggregation('sumState', ms)), finalizeAggregation(initializeAggregation('uniqState', user)) FROM e ORDER BY ms;
SELECT sumSimpleState(ms), maxSimpleState(ms), anySimpleState(d) FROM e WHERE ms = 10;
SELECT uniqMerge(s) FROM (SELECT sumState(ms) AS s FROM e); -- { serverError ILLEGAL_TYPE_OF_ARGUMENT }
SELECT finalizeAggregation(ms) FROM e; -- { serverError ILLEGAL_TYPE_OF_ARGUMENT }
