-- cheap extras next to the issue's list: trigonometry and constants, left/right, pad/trim aliases, concat_ws, isValidUTF8, toDateOrNull/Zero, toLastDayOfMonth
SELECT toTypeName(pi()), pi(), e(), intExp2(3), intExp10(2), toTypeName(intExp10(2)), degrees(pi()), radians(180), hypot(3, 4), atan2(1, 1), log1p(0), sin(0), cos(0), toTypeName(sin(toFloat32(1)));
SELECT left('hello', 2), right('hello', 2), leftUTF8('héllo', 2), rightUTF8('héllo', 2), left('hello', -2), right('hello', -2), left('hello', 0), right('hello', 0), right('hi', 5);
SELECT lpad('a', 3, 'x'), rpad('a', 3), ltrim('  a '), rtrim('  a '), isValidUTF8('a'), isValidUTF8(unhex('FF')), isValidUTF8(''), concat_ws('-', 'a', 'b'), concatWithSeparator(',', 'x', 1), startsWithUTF8('héllo', 'hé'), endsWithUTF8('héllo', 'lo');
SELECT number, left(toString(number * 12345), 2), right(toString(number * 12345), 3), isValidUTF8(toString(number)) FROM numbers(4) ORDER BY number;
SELECT toDateOrNull('2024-01-01'), toDateOrNull('x'), toDateOrZero('x'), toDateTimeOrNull('2024-01-01 10:00:00'), toDateTimeOrZero('bad'), toDate32OrNull('2024-01-01'), toDate32OrZero('x'), toDateTimeOrNull('2024-06-01 10:00:00', 'Asia/Tokyo');
SELECT toLastDayOfMonth(toDate('2024-02-10')), toLastDayOfMonth(toDateTime('2023-12-31 23:00:00', 'UTC')), toYYYYMMDDhhmmss(toDateTime('2024-01-02 03:04:05')), toYYYYMMDDhhmmss(toDateTime('2024-01-02 03:04:05', 'Asia/Kolkata'));
SELECT concat_ws('-', 'a', NULL, 'b');
