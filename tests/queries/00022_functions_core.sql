-- core scalar functions through SQL (dates, strings, math, conversions), checked against chDB
SELECT toStartOfDay(toDateTime('2024-03-05 13:14:15')), toMonday(toDate('2024-03-07')), toStartOfMonth(toDate('2024-03-07'));
SELECT dateDiff('day', toDate('2024-01-01'), toDate('2024-03-01')), toDayOfWeek(toDate('2024-03-07'));
SELECT formatDateTime(toDateTime('2024-03-05 13:14:15'), '%Y/%m/%d %H:%M');
SELECT toUnixTimestamp(toDateTime('2024-03-05 13:14:15')), toDateTime(1709644455);
SELECT substring('clickhouse', 2, 4), position('clickhouse', 'house'), replaceAll('a-b-c', '-', '+');
SELECT trim('  x  '), startsWith('abc', 'ab'), endsWith('abc', 'bc'), empty(''), notEmpty('a');
SELECT round(2.5), round(3.14159, 2), floor(-1.5), ceil(1.2), abs(-3);
SELECT greatest(1, 5, 3), least(2.5, 1), toInt32OrZero('12x'), toInt32OrNull('x'), toUInt8('7');
SELECT lower('AbC'), upper('abc'), length('héllo'), concat('a', 'b', 'c');
SELECT toYYYYMMDD(toDate('2024-03-07')), toStartOfFiveMinutes(toDateTime('2024-03-05 13:14:15')), toStartOfInterval(toDateTime('2024-03-05 13:14:15'), INTERVAL 15 MINUTE);
SELECT addDays(toDate('2024-02-28'), 2), subtractDays(toDate('2024-03-01'), 1), toDate('2024-01-31') + INTERVAL 1 MONTH;
SELECT number, intDiv(number, 3), number % 3, -number FROM numbers(4);
SELECT CAST('42' AS UInt32) + 1, CAST(3.7 AS Int32), toFloat64('1.25');
