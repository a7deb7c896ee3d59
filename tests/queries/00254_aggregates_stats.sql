-- Statistical and sketch aggregates, -Array and -ForEach, per group and over no rows
CREATE TABLE st (id UInt32, g UInt8, x Float64, y Int32, s String, a Array(UInt32)) ENGINE = MergeTree ORDER BY id;
INSERT INTO st SELECT number, number % 3, number / 4, toInt32(number * number) - 50, toString(number % 5), range(number % 4) FROM numbers(30);
SELECT g, varPop(x), varSamp(x), stddevPop(y), stddevSamp(y), covarPop(x, y), covarSamp(x, y), corr(x, y) FROM st GROUP BY g ORDER BY g;
SELECT g, avgWeighted(x, id), sumWithOverflow(toUInt8(id)), entropy(s), anyHeavy(s), uniqCombined(s), uniqCombined64(y), uniqHLL12(s) FROM st GROUP BY g ORDER BY g;
SELECT g, arraySort(groupUniqArray(s)), groupArraySorted(3)(y), topK(1)(if(id % 2 = 0, 'even', s)), topKWeighted(1)(s, id), quantileExact(0.5)(y) FROM st GROUP BY g ORDER BY g;
SELECT g, quantileTDigest(0.5)(x), quantilesTDigest(0.1, 0.9)(y), quantileTiming(0.5)(id), quantilesTiming(0.25, 0.75)(id) FROM st GROUP BY g ORDER BY g;
SELECT g, countArray(a), sumArray(a), maxArray(a), countForEach(a), sumForEach(a), avgForEach(a), sumArrayIf(a, id > 10) FROM st GROUP BY g ORDER BY g;
SELECT g, sumMap(a, a), minMap(a, arrayMap(v -> v + id, a)), maxMap(a, arrayMap(v -> v * id, a)) FROM st GROUP BY g ORDER BY g;
SELECT varPop(x), corr(x, y), topK(3)(s), groupArraySorted(2)(y), entropy(s), sumForEach(a), sumMap(a, a) FROM st WHERE id > 100;
SELECT varSamp(x), stddevSamp(x), covarSamp(x, y) FROM st WHERE id = 1;
SELECT groupArraySorted(x) FROM st; -- { serverError BAD_ARGUMENTS }
