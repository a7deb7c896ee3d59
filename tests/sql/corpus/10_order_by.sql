-- Topic: ORDER BY with ASC/DESC, NULLS FIRST/LAST, COLLATE, WITH FILL.

-- ORDER BY a column
SELECT * FROM events ORDER BY timestamp;

-- ORDER BY with ASC and DESC
SELECT * FROM events ORDER BY user_id ASC, timestamp DESC;

-- ASCENDING and DESCENDING spelled out
SELECT * FROM events ORDER BY user_id ASCENDING, timestamp DESCENDING;

-- ORDER BY an expression
SELECT * FROM events ORDER BY toDate(timestamp) DESC, value * -1;

-- ORDER BY positions
SELECT user_id, count() FROM events GROUP BY user_id ORDER BY 2 DESC, 1;

-- NULLS FIRST
SELECT * FROM users ORDER BY email NULLS FIRST;

-- NULLS LAST with DESC
SELECT * FROM users ORDER BY age DESC NULLS LAST;

-- COLLATE on a string column
SELECT * FROM users ORDER BY name COLLATE 'en';

-- COLLATE combined with DESC
SELECT * FROM users ORDER BY name DESC COLLATE 'de';

-- ORDER BY ALL
SELECT a, b FROM t ORDER BY ALL;

-- WITH FILL without parameters
SELECT n FROM t ORDER BY n WITH FILL;

-- WITH FILL FROM TO
SELECT n, v FROM t ORDER BY n WITH FILL FROM 0 TO 10;

-- WITH FILL FROM TO STEP
SELECT n, v FROM t ORDER BY n WITH FILL FROM 0 TO 5.5 STEP 0.5;

-- WITH FILL STEP with an interval on dates
SELECT day, c FROM daily ORDER BY day WITH FILL STEP INTERVAL 1 DAY;

-- WITH FILL FROM TO with date functions and interval step
SELECT hour, c FROM hourly ORDER BY hour ASC WITH FILL FROM toStartOfHour(now() - INTERVAL 1 DAY) TO toStartOfHour(now()) STEP toIntervalHour(1);

-- WITH FILL on two columns
SELECT a, b FROM t ORDER BY a WITH FILL, b WITH FILL STEP 2;

-- WITH FILL on DESC with a negative step
SELECT n FROM t ORDER BY n DESC WITH FILL FROM 10 TO 0 STEP -1;

-- WITH FILL and INTERPOLATE
SELECT n, v FROM t ORDER BY n WITH FILL FROM 0 TO 10 INTERPOLATE (v AS v + 1);

-- ORDER BY random
SELECT * FROM users ORDER BY rand() LIMIT 5;

-- ORDER BY keyword-like columns
SELECT * FROM kv ORDER BY key, value DESC, type;

-- ORDER BY CASE expression
SELECT * FROM tickets ORDER BY CASE priority WHEN 'high' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END;

-- ORDER BY with alias defined in select
SELECT user_id, sum(value) AS total FROM events GROUP BY user_id ORDER BY total DESC;
