-- Topic: function calls, aggregates, combinators, parametric aggregates, lambdas, special forms.

-- function without arguments
SELECT now(), today(), rand();

-- nested function calls
SELECT toStartOfHour(toDateTime(timestamp)) FROM events;

-- count star and count()
SELECT count(*), count() FROM events;

-- count of a column
SELECT count(user_id) FROM events;

-- count DISTINCT
SELECT count(DISTINCT user_id) FROM events;

-- DISTINCT inside other aggregates
SELECT sum(DISTINCT value), avg(DISTINCT score) FROM metrics;

-- common aggregates
SELECT sum(value), avg(value), min(value), max(value), any(value), anyLast(value) FROM metrics;

-- uniq family
SELECT uniq(user_id), uniqExact(user_id), uniqCombined(user_id), uniqHLL12(user_id) FROM events;

-- If combinator
SELECT sumIf(value, type = 'purchase'), countIf(type = 'click') FROM events;

-- State and Merge combinators
SELECT uniqState(user_id), sumMerge(total_state), countMerge(cnt) FROM t;

-- Array combinator
SELECT sumArray(values), uniqArray(tags) FROM t;

-- combined combinators
SELECT uniqIfState(user_id, value > 0), sumForEach(values) FROM t;

-- parametric aggregate quantile
SELECT quantile(0.95)(duration_ms) FROM requests;

-- parametric aggregate quantiles with several levels
SELECT quantiles(0.5, 0.9, 0.99)(duration_ms) FROM requests;

-- parametric aggregate with If combinator
SELECT quantileIf(0.9)(duration_ms, status = 200) FROM requests;

-- topK parametric aggregate
SELECT topK(10)(url) FROM hits;

-- windowFunnel parametric aggregate with conditions
SELECT user_id, windowFunnel(3600)(timestamp, type = 'view', type = 'cart', type = 'buy') AS level FROM events GROUP BY user_id;

-- sequenceMatch with a pattern string
SELECT sequenceMatch('(?1)(?2)')(timestamp, type = 'a', type = 'b') FROM events;

-- histogram parametric aggregate
SELECT histogram(5)(value) FROM metrics;

-- argMax and argMin
SELECT argMax(name, timestamp), argMin(value, timestamp) FROM t;

-- groupArray with a limit parameter
SELECT groupArray(10)(name) FROM users;

-- groupUniqArray and groupArrayMovingSum
SELECT groupUniqArray(tag), groupArrayMovingSum(3)(value) FROM t;

-- lambda with one argument
SELECT arrayMap(x -> x * 2, [1, 2, 3]);

-- lambda with two arguments
SELECT arrayMap((x, y) -> x + y, [1, 2], [3, 4]);

-- lambda with a tuple-less single parenthesised argument
SELECT arrayFilter((x) -> x != '', names) FROM t;

-- lambda used in arraySort with a key
SELECT arraySort(x -> -x, [3, 1, 2]);

-- nested lambdas
SELECT arrayMap(x -> arrayMap(y -> x * y, [1, 2]), [3, 4]);

-- lambda with a string function body
SELECT arrayExists(s -> startsWith(s, 'http'), urls) FROM pages;

-- arrayReduce with an aggregate name
SELECT arrayReduce('max', [1, 3, 2]);

-- higher order function arrayCount without lambda
SELECT arrayCount([0, 1, 1]);

-- if and multiIf
SELECT if(value > 0, 'pos', 'neg'), multiIf(value < 0, 'a', value = 0, 'b', 'c') FROM metrics;

-- EXTRACT from a date
SELECT EXTRACT(YEAR FROM timestamp), EXTRACT(MONTH FROM date) FROM events;

-- EXTRACT of a day
SELECT EXTRACT(DAY FROM toDate('2024-03-05'));

-- SUBSTRING with FROM and FOR
SELECT SUBSTRING(name FROM 2 FOR 3) FROM users;

-- SUBSTRING with FROM only
SELECT SUBSTRING(name FROM 2) FROM users;

-- substring function form
SELECT substring(name, 1, 5) FROM users;

-- TRIM BOTH
SELECT TRIM(BOTH ' ' FROM name) FROM users;

-- TRIM LEADING and TRAILING
SELECT TRIM(LEADING 'x' FROM name), TRIM(TRAILING '/' FROM url) FROM t;

-- trim function forms
SELECT trim(name), trimLeft(name), trimRight(name) FROM users;

-- date functions with keyword-like column names
SELECT toYYYYMM(date), toStartOfDay(timestamp), dateDiff('day', date, today()) FROM events;

-- string functions
SELECT lower(name), upper(name), length(name), concat(first_name, ' ', last_name), replaceAll(url, 'http:', 'https:') FROM users;

-- JSON extraction functions
SELECT JSONExtractString(data, 'user', 'name'), JSONExtractInt(data, 'count') FROM raw_events;

-- type conversion functions
SELECT toUInt64(value), toString(id), toFloat64OrZero(s), toDateTimeOrNull(ts) FROM t;

-- function names are case-insensitive for some builtins
SELECT SUM(value), COUNT(*), AVG(value) FROM metrics;

-- tuple and array functions
SELECT tupleElement(t, 1), arrayJoin([1, 2]), has(tags, 'x') FROM t;

-- dictionary lookup function
SELECT dictGet('geo_dict', 'country', toUInt64(geo_id)) FROM events;

-- function with a trailing expression argument involving IN
SELECT countIf(status IN (200, 204)) FROM requests;

-- grouping function in a rollup query
SELECT region, grouping(region) FROM sales GROUP BY ROLLUP(region);
