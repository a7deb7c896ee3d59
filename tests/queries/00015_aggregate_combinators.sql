-- aggregate functions with -If, -Distinct, -OrNull, -OrDefault; empty inputs; result types
SELECT sumIf(number, number % 2 = 0), countIf(number > 5), avgIf(number, number < 3) FROM numbers(10);
SELECT sumDistinct(number % 4), countDistinct(number % 3), uniqExact(number % 5) FROM numbers(20);
SELECT sumOrNull(number), avgOrNull(number), minOrNull(number), countOrNull() FROM numbers(0);
SELECT sumOrDefault(number), avgOrDefault(number), maxOrDefault(number) FROM numbers(0);
SELECT toTypeName(sumOrNull(number)), toTypeName(avgOrDefault(number)), toTypeName(countOrNull()) FROM numbers(3);
SELECT sum(number), avg(number), min(number), max(number), count(), uniqExact(number) FROM numbers(0);
SELECT number % 3 AS k, sumIfOrNull(number, number > 7) FROM numbers(10) GROUP BY k ORDER BY k;
SELECT uniqExactIf(number % 4, number > 3), sumDistinctIf(number % 3, number > 1) FROM numbers(12);
SELECT argMin(number, number % 5 + number / 100), argMax(toString(number), (number * 7) % 30) FROM numbers(30);
SELECT toTypeName(sum(toInt8(1))), toTypeName(sum(toUInt16(1))), toTypeName(sum(toFloat32(1))), toTypeName(avg(toInt8(1)));
SELECT min(toDate('2024-01-05') + number), max(toDateTime('2024-01-01 00:00:00') + number) FROM numbers(3);
SELECT count(*), count(1), count(number) FROM numbers(7);
SELECT number % 3 AS k, groupArray(number), quantile(0.5)(number), median(number), quantiles(0.1, 0.9)(number), quantileExact(0.5)(number), uniq(number) FROM numbers(20) GROUP BY k ORDER BY k;
SELECT toTypeName(quantile(0.5)(number)), toTypeName(groupArray(number)), toTypeName(median(toNullable(number))), toTypeName(quantiles(0.5)(number)) FROM numbers(3);
SELECT quantile(0.3)(number * number % 17), medianOrNull(number), groupArrayIf(number, number > 2) FROM numbers(6);
SELECT median(number), groupArray(number) FROM numbers(0);
