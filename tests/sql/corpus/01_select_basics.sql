-- Topic: SELECT basics: select list, aliases, DISTINCT, FROM forms, FINAL, PREWHERE, WHERE.

-- minimal constant select without FROM
SELECT 1;

-- star from a table
SELECT * FROM events;

-- qualified table name db.table
SELECT * FROM analytics.events;

-- explicit column list
SELECT event_id, user_id, timestamp FROM events;

-- column aliases with AS
SELECT user_id AS uid, timestamp AS ts FROM events;

-- implicit alias without AS
SELECT user_id uid, count() c FROM events GROUP BY user_id;

-- table alias with AS and qualified columns
SELECT e.user_id, e.timestamp FROM events AS e;

-- table alias without AS
SELECT e.user_id FROM events e WHERE e.value > 10;

-- qualified star
SELECT e.* FROM events AS e;

-- DISTINCT
SELECT DISTINCT user_id FROM events;

-- DISTINCT ON a column list
SELECT DISTINCT ON (user_id, session_id) user_id, session_id, timestamp FROM events;

-- ALL modifier on select
SELECT ALL user_id FROM events;

-- FINAL modifier on a table
SELECT * FROM deduplicated_events FINAL WHERE user_id = 'u1';

-- FINAL with an alias
SELECT d.value FROM deduplicated_events AS d FINAL;

-- PREWHERE before WHERE
SELECT url FROM hits PREWHERE status_code = 404 WHERE url LIKE '%/api/%';

-- WHERE with several conditions
SELECT name FROM users WHERE age >= 18 AND country = 'ES' AND NOT banned;

-- select from a subquery with alias
SELECT t.x FROM (SELECT number AS x FROM numbers(10)) AS t;

-- select from a subquery without alias
SELECT x FROM (SELECT 1 AS x);

-- table function numbers(n)
SELECT number FROM numbers(5);

-- table function numbers(offset, n)
SELECT number FROM numbers(10, 5);

-- table function values with structure
SELECT * FROM values('id UInt32, name String', (1, 'a'), (2, 'b'));

-- table function with alias
SELECT n.number * 2 AS doubled FROM numbers(3) AS n;

-- COLUMNS matcher with a regular expression
SELECT COLUMNS('^metric_') FROM measurements;

-- star EXCEPT a list of columns
SELECT * EXCEPT (password, salt) FROM users;

-- star EXCEPT a single column without parentheses
SELECT * EXCEPT password FROM users;

-- star and an expression together
SELECT *, value * 2 AS double_value FROM metrics;

-- alias defined in a nested parenthesised expression
SELECT (value * 2 AS v) + 1 AS w, v FROM metrics;

-- alias reused in WHERE
SELECT toDate(timestamp) AS day FROM events WHERE day >= '2024-01-01';

-- keyword-like column names
SELECT date, timestamp, type, key, value, name, data, format FROM raw_events;

-- backtick quoted identifiers
SELECT `user id`, `select` FROM `my table`;

-- double-quoted identifiers
SELECT "Event Type", "count" FROM "Events";

-- lower case keywords are accepted
select user_id, count() as c from events where value > 1 group by user_id order by c desc limit 10;

-- mixed case keywords
SeLeCt DiStInCt type FrOm events;

-- identifiers are case sensitive and keep their spelling
SELECT UserID, userId, USERID FROM Visits;

-- trailing alias on a star-free expression list over several lines
SELECT
    user_id,
    session_id,
    timestamp
FROM events
WHERE type = 'pageview';

-- database-qualified column reference
SELECT events.user_id FROM analytics.events;

-- select from system table
SELECT name, engine FROM system.tables WHERE database = 'default';

-- SAMPLE clause with a ratio
SELECT count() FROM visits SAMPLE 0.1;

-- SAMPLE with OFFSET
SELECT count() FROM visits SAMPLE 1 / 10 OFFSET 1 / 2;

-- star REPLACE modifier
SELECT * REPLACE (value * 2 AS value) FROM metrics;

-- three-part column reference db.table.column
SELECT analytics.events.user_id FROM analytics.events;
