-- AggregatingMergeTree: AggregateFunction and SimpleAggregateFunction columns, merges and FINAL
CREATE TABLE agg (k UInt8, c AggregateFunction(count), s AggregateFunction(sum, UInt64), u AggregateFunction(uniq, String), total SimpleAggregateFunction(sum, UInt64), lo SimpleAggregateFunction(min, Int32), last SimpleAggregateFunction(anyLast, String)) ENGINE = AggregatingMergeTree ORDER BY k;
INSERT INTO agg SELECT number % 3, countState(), sumState(number), uniqState(toString(number % 4)), sum(number), min(toInt32(number) - 5), 'first' FROM numbers(10) GROUP BY number % 3;
INSERT INTO agg SELECT number % 4, countState(), sumState(number), uniqState(toString(number % 7)), sum(number), min(toInt32(number)), 'second' FROM numbers(20) GROUP BY number % 4;
SELECT k, countMerge(c), sumMerge(s), uniqMerge(u), sum(total), min(lo) FROM agg GROUP BY k ORDER BY k;
SELECT k, finalizeAggregation(c), finalizeAggregation(s), total, lo, last FROM agg FINAL ORDER BY k;
OPTIMIZE TABLE agg FINAL;
SELECT count() FROM agg;
SELECT k, finalizeAggregation(c), finalizeAggregation(s), finalizeAggregation(u), total, lo, last FROM agg ORDER BY k;
DESCRIBE agg;
SELECT name, type FROM system.columns WHERE table = 'agg' ORDER BY name;
CREATE TABLE sm (k UInt8, n UInt64, u AggregateFunction(uniq, UInt64)) ENGINE = SummingMergeTree ORDER BY k;
INSERT INTO sm SELECT number % 2, 1, uniqState(number) FROM numbers(6) GROUP BY number % 2;
INSERT INTO sm SELECT number % 2, 2, uniqState(number + 3) FROM numbers(6) GROUP BY number % 2;
OPTIMIZE TABLE sm FINAL;
SELECT k, n, finalizeAggregation(u) FROM sm ORDER BY k;
