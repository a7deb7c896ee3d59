-- Topic: window functions: OVER with PARTITION BY / ORDER BY / frames, named windows, QUALIFY.

-- row_number over an empty window
SELECT row_number() OVER () FROM events;

-- rank with PARTITION BY and ORDER BY
SELECT user_id, rank() OVER (PARTITION BY user_id ORDER BY timestamp) FROM events;

-- dense_rank with descending order
SELECT dense_rank() OVER (ORDER BY score DESC) AS r FROM players;

-- running sum with ROWS frame
SELECT sum(value) OVER (ORDER BY timestamp ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) FROM metrics;

-- moving average over a fixed ROWS window
SELECT avg(value) OVER (PARTITION BY sensor ORDER BY ts ROWS BETWEEN 6 PRECEDING AND CURRENT ROW) FROM readings;

-- RANGE frame
SELECT count() OVER (ORDER BY ts RANGE BETWEEN 3600 PRECEDING AND CURRENT ROW) FROM readings;

-- frame with FOLLOWING
SELECT sum(value) OVER (ORDER BY ts ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING) FROM readings;

-- frame to UNBOUNDED FOLLOWING
SELECT max(value) OVER (ORDER BY ts ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) FROM readings;

-- short frame form ROWS UNBOUNDED PRECEDING
SELECT sum(value) OVER (ORDER BY ts ROWS UNBOUNDED PRECEDING) FROM readings;

-- lagInFrame and leadInFrame
SELECT lagInFrame(value) OVER (ORDER BY ts), leadInFrame(value, 2) OVER (ORDER BY ts) FROM readings;

-- first_value and last_value
SELECT first_value(value) OVER w, last_value(value) OVER w FROM readings WINDOW w AS (PARTITION BY sensor ORDER BY ts);

-- named window referenced by name
SELECT sum(value) OVER w FROM metrics WINDOW w AS (ORDER BY timestamp);

-- two named windows
SELECT sum(v) OVER w1, avg(v) OVER w2 FROM t WINDOW w1 AS (PARTITION BY a), w2 AS (PARTITION BY b ORDER BY c);

-- PARTITION BY several columns
SELECT count() OVER (PARTITION BY country, city) FROM users;

-- window ORDER BY with NULLS and DESC
SELECT row_number() OVER (ORDER BY value DESC NULLS LAST) FROM metrics;

-- window function in arithmetic
SELECT value / sum(value) OVER (PARTITION BY type) AS share FROM events;

-- aggregate inside a window function
SELECT type, sum(count()) OVER () AS total FROM events GROUP BY type;

-- ntile
SELECT ntile(4) OVER (ORDER BY score) FROM players;

-- QUALIFY with a window function
SELECT user_id, timestamp FROM events QUALIFY row_number() OVER (PARTITION BY user_id ORDER BY timestamp DESC) = 1;

-- QUALIFY referencing an alias
SELECT user_id, row_number() OVER (PARTITION BY user_id ORDER BY timestamp) AS rn FROM events QUALIFY rn <= 3;

-- parametric aggregate as a window function
SELECT quantile(0.5)(value) OVER (PARTITION BY sensor) FROM readings;

-- window with PARTITION BY only and an alias
SELECT max(ts) OVER (PARTITION BY sensor) AS latest FROM readings;

-- percent_rank and cume_dist
SELECT percent_rank() OVER (ORDER BY score), cume_dist() OVER (ORDER BY score) FROM players;

-- window based on another named window
SELECT sum(v) OVER (w ORDER BY ts) FROM t WINDOW w AS (PARTITION BY k);
