-- Topic: INSERT with VALUES, SELECT and FORMAT with inline data.

-- INSERT VALUES one row
INSERT INTO events VALUES ('e1', 'u1', '2024-01-01 00:00:00');

-- INSERT VALUES with a column list and several rows
INSERT INTO events (event_id, user_id, timestamp) VALUES ('e1', 'u1', '2024-01-01 00:00:00'), ('e2', 'u2', '2024-01-02 12:30:00');

-- INSERT INTO TABLE with the optional TABLE keyword
INSERT INTO TABLE events (event_id) VALUES ('e3');

-- INSERT VALUES with NULL, arrays, tuples, negative numbers and expressions
INSERT INTO t (id, tags, point, delta, ts) VALUES (1, ['a', 'b'], (1.5, -2.5), -7, now());

-- INSERT VALUES with escaped strings
INSERT INTO t (s) VALUES ('it\'s'), ('tab\there'), ('');

-- INSERT SELECT
INSERT INTO daily SELECT toDate(timestamp) AS day, count() FROM events GROUP BY day;

-- INSERT with column list and SELECT
INSERT INTO daily (day, c) SELECT toDate(timestamp), count() FROM events GROUP BY 1;

-- INSERT SELECT with a CTE
INSERT INTO t WITH 5 AS n SELECT number FROM numbers(n);

-- INSERT SELECT from a table function
INSERT INTO numbers_copy SELECT number FROM numbers(1000);

-- INSERT with FORMAT JSONEachRow inline data
INSERT INTO events FORMAT JSONEachRow {"event_id": "e1", "user_id": "u1", "timestamp": "2024-01-01 00:00:00"};

-- INSERT with FORMAT CSV inline data
INSERT INTO events (event_id, user_id) FORMAT CSV "e1","u1";

-- INSERT with FORMAT Values
INSERT INTO t FORMAT Values (1, 'a'), (2, 'b');

-- INSERT with SETTINGS
INSERT INTO t SETTINGS async_insert = 1 VALUES (1);

-- INSERT into a database-qualified table
INSERT INTO analytics.events (event_id) VALUES ('x');

-- INSERT into a table function
INSERT INTO FUNCTION null('x UInt8') SELECT 1;

-- INSERT VALUES with keyword-like column names
INSERT INTO kv (key, value, type, date) VALUES ('k', 'v', 't', '2024-01-01');

-- INSERT SELECT with UNION ALL
INSERT INTO t SELECT 1 UNION ALL SELECT 2;

-- INSERT with FORMAT TabSeparated inline data
INSERT INTO t FORMAT TabSeparated 1	a;
