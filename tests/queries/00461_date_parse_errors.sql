-- text that is not a date: CANNOT_PARSE_DATE / CANNOT_PARSE_DATETIME, as ClickHouse names them
SELECT toDate('abc'); -- { serverError CANNOT_PARSE_DATE }
SELECT toDate(''); -- { serverError CANNOT_PARSE_DATE }
SELECT toDate32('abc'); -- { serverError CANNOT_PARSE_DATE }
SELECT CAST('abc' AS Date); -- { serverError CANNOT_PARSE_DATE }
SELECT toDate(materialize('2020-01-01')) = 'abc'; -- { serverError CANNOT_PARSE_DATE }
SELECT toDateTime('abc'); -- { serverError CANNOT_PARSE_DATETIME }
SELECT toDateTime(''); -- { serverError CANNOT_PARSE_DATETIME }
SELECT toDateTime('2020-01-01 10:00:00x'); -- { serverError CANNOT_PARSE_DATETIME }
SELECT toDateTime64('abc', 3); -- { serverError CANNOT_PARSE_DATETIME }
SELECT CAST('abc' AS DateTime); -- { serverError CANNOT_PARSE_DATETIME }
SELECT parseDateTimeBestEffort('abc'); -- { serverError CANNOT_PARSE_DATETIME }
SELECT parseDateTime64BestEffort('abc'); -- { serverError CANNOT_PARSE_DATETIME }
SELECT toDateTime('2020-01-01 00:00:00', 'UTC') = 'abc'; -- { serverError CANNOT_PARSE_DATETIME }
-- a date followed by other text: the date parsed, the rest is a text error
SELECT toDate('2020-01-01x'); -- { serverError CANNOT_PARSE_TEXT }
SELECT toDate('20200101x'); -- { serverError CANNOT_PARSE_TEXT }
SELECT toDate(materialize('2020-01-01')) = '2020-01-01x'; -- { serverError TYPE_MISMATCH }
SELECT toDate('2020-01-01'), toDateTime('2020-01-01 10:00:00', 'UTC'), toDateOrNull('abc'), toDateTimeOrZero('abc', 'UTC');
