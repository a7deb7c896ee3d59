-- Topic: SET, USE, SHOW, DESCRIBE, EXISTS, EXPLAIN, SYSTEM, KILL, CHECK.

-- SET one setting
SET max_threads = 4;

-- SET several settings
SET max_threads = 4, max_memory_usage = 1000000000;

-- SET string value
SET join_algorithm = 'partial_merge';

-- SET boolean
SET allow_experimental_analyzer = true;

-- SET a query parameter
SET param_user_id = 'u1';

-- USE database
USE analytics;

-- SHOW TABLES
SHOW TABLES;

-- SHOW TABLES FROM a database
SHOW TABLES FROM analytics;

-- SHOW TABLES LIKE a pattern
SHOW TABLES FROM analytics LIKE 'events%';

-- SHOW DATABASES
SHOW DATABASES;

-- SHOW CREATE TABLE
SHOW CREATE TABLE events;

-- SHOW CREATE TABLE database-qualified
SHOW CREATE TABLE analytics.events;

-- SHOW CREATE without TABLE
SHOW CREATE events;

-- SHOW PROCESSLIST
SHOW PROCESSLIST;

-- SHOW COLUMNS
SHOW COLUMNS FROM events;

-- DESCRIBE TABLE
DESCRIBE TABLE events;

-- DESCRIBE without TABLE
DESCRIBE events;

-- DESC abbreviation
DESC analytics.events;

-- DESCRIBE a subquery
DESCRIBE (SELECT 1 AS x, 'a' AS y);

-- EXISTS TABLE
EXISTS TABLE events;

-- EXISTS without TABLE
EXISTS analytics.events;

-- EXPLAIN default
EXPLAIN SELECT * FROM events WHERE user_id = 'u1';

-- EXPLAIN PLAN
EXPLAIN PLAN SELECT count() FROM events;

-- EXPLAIN AST
EXPLAIN AST SELECT 1 + 2;

-- EXPLAIN SYNTAX
EXPLAIN SYNTAX SELECT * FROM a, b WHERE a.id = b.id;

-- EXPLAIN PIPELINE
EXPLAIN PIPELINE SELECT sum(number) FROM numbers(10);

-- EXPLAIN with indexes = 1
EXPLAIN indexes = 1 SELECT * FROM events WHERE timestamp > now() - INTERVAL 1 DAY;

-- EXPLAIN PLAN with several settings
EXPLAIN PLAN header = 1, actions = 1 SELECT user_id FROM events;

-- EXPLAIN ESTIMATE
EXPLAIN ESTIMATE SELECT * FROM events;

-- SYSTEM STOP MERGES for a table
SYSTEM STOP MERGES events;

-- SYSTEM START MERGES for a table
SYSTEM START MERGES analytics.events;

-- SYSTEM STOP MERGES globally
SYSTEM STOP MERGES;

-- SYSTEM FLUSH LOGS
SYSTEM FLUSH LOGS;

-- SYSTEM DROP MARK CACHE
SYSTEM DROP MARK CACHE;

-- SYSTEM STOP TTL MERGES
SYSTEM STOP TTL MERGES events;

-- KILL QUERY
KILL QUERY WHERE query_id = 'abc';

-- KILL MUTATION
KILL MUTATION WHERE table = 'events' AND mutation_id = 'mutation_3.txt';

-- CHECK TABLE
CHECK TABLE events;

-- DETACH TABLE
DETACH TABLE events;

-- ATTACH TABLE
ATTACH TABLE events;
