-- Topic: SETTINGS and FORMAT clauses on queries.

-- one setting
SELECT * FROM events SETTINGS max_threads = 2;

-- several settings of different value types
SELECT * FROM events SETTINGS max_threads = 4, max_memory_usage = 10000000000, use_query_cache = true;

-- string setting value
SELECT * FROM events SETTINGS join_algorithm = 'hash';

-- float setting value
SELECT * FROM events SETTINGS max_execution_time = 1.5;

-- FORMAT only
SELECT * FROM events FORMAT JSONEachRow;

-- SETTINGS then FORMAT
SELECT count() FROM events SETTINGS max_threads = 1 FORMAT TabSeparated;

-- FORMAT JSON
SELECT user_id, count() FROM events GROUP BY user_id FORMAT JSON;

-- FORMAT CSVWithNames
SELECT * FROM users FORMAT CSVWithNames;

-- FORMAT after LIMIT
SELECT * FROM events ORDER BY timestamp DESC LIMIT 10 FORMAT Pretty;

-- SETTINGS after a UNION
SELECT 1 UNION ALL SELECT 2 SETTINGS max_threads = 1;

-- FORMAT on a UNION
SELECT 1 UNION ALL SELECT 2 FORMAT TSV;

-- SETTINGS in a subquery
SELECT * FROM (SELECT * FROM events SETTINGS max_threads = 1);

-- SETTINGS with a negative number
SELECT * FROM events SETTINGS some_offset = -1;

-- FORMAT Null
SELECT * FROM numbers(10) FORMAT Null;

-- SETTINGS with a boolean written as a number
SELECT * FROM events SETTINGS optimize_read_in_order = 0, allow_experimental_analyzer = 1;
