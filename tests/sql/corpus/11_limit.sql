-- Topic: LIMIT, OFFSET, LIMIT BY, WITH TIES, OFFSET FETCH.

-- LIMIT n
SELECT * FROM events LIMIT 10;

-- LIMIT n OFFSET m
SELECT * FROM events ORDER BY timestamp LIMIT 10 OFFSET 20;

-- LIMIT m, n form
SELECT * FROM events ORDER BY timestamp LIMIT 20, 10;

-- LIMIT WITH TIES
SELECT * FROM players ORDER BY score DESC LIMIT 3 WITH TIES;

-- LIMIT BY one column
SELECT user_id, url FROM hits ORDER BY timestamp DESC LIMIT 2 BY user_id;

-- LIMIT BY several columns
SELECT domain, device, url FROM hits LIMIT 1 BY domain, device;

-- LIMIT BY with OFFSET
SELECT domain, url FROM hits ORDER BY domain LIMIT 5 OFFSET 1 BY domain;

-- LIMIT m, n BY form
SELECT domain, url FROM hits ORDER BY domain LIMIT 1, 2 BY domain;

-- LIMIT BY followed by LIMIT
SELECT domain, url FROM hits ORDER BY domain LIMIT 3 BY domain LIMIT 100;

-- OFFSET alone
SELECT * FROM events ORDER BY timestamp OFFSET 5;

-- OFFSET ROWS
SELECT * FROM events ORDER BY timestamp OFFSET 5 ROWS;

-- OFFSET FETCH FIRST ROWS ONLY
SELECT * FROM events ORDER BY timestamp OFFSET 10 ROWS FETCH FIRST 5 ROWS ONLY;

-- OFFSET FETCH NEXT ROW WITH TIES
SELECT * FROM events ORDER BY value OFFSET 0 ROWS FETCH NEXT 1 ROW WITH TIES;

-- LIMIT with an expression
SELECT * FROM events LIMIT 5 + 5;

-- LIMIT with a query parameter
SELECT * FROM events LIMIT {limit:UInt32};

-- LIMIT and OFFSET with query parameters
SELECT * FROM events ORDER BY timestamp LIMIT {page_size:UInt32} OFFSET {offset:UInt32};

-- LIMIT 0
SELECT * FROM events LIMIT 0;

-- LIMIT BY keyword-like columns
SELECT key, value FROM kv ORDER BY value DESC LIMIT 1 BY key;
