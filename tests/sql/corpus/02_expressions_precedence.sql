-- Topic: operators and their precedence, checked structurally against ClickHouse's formatQuery.

-- multiplication binds tighter than addition
SELECT 1 + 2 * 3;

-- parentheses override precedence
SELECT (1 + 2) * 3;

-- subtraction is left associative
SELECT 10 - 4 - 3;

-- explicit right grouping of subtraction keeps parentheses
SELECT 10 - (4 - 3);

-- division is left associative
SELECT 100 / 10 / 5;

-- explicit right grouping of division
SELECT 100 / (10 / 5);

-- modulo at multiplicative level
SELECT value % 7 * 2 + 1 FROM metrics;

-- integer division DIV and MOD operators
SELECT 17 DIV 5, 17 MOD 5;

-- DIV and MOD precedence against addition
SELECT a + b DIV c - d MOD e FROM t;

-- unary minus on a column
SELECT -value FROM metrics;

-- unary minus on a parenthesised sum
SELECT -(a + b) FROM t;

-- double unary minus
SELECT - -value FROM metrics;

-- unary minus binds tighter than multiplication
SELECT -a * b FROM t;

-- string concatenation operator
SELECT first_name || ' ' || last_name AS full_name FROM users;

-- concatenation mixed with addition
SELECT 'n=' || toString(a + 1) FROM t;

-- comparison operators
SELECT a = b, a != b, a <> b, a < b, a <= b, a > b, a >= b FROM t;

-- double equals is equality
SELECT a == b FROM t;

-- arithmetic binds tighter than comparison
SELECT a + 1 > b * 2 FROM t;

-- AND binds tighter than OR
SELECT a OR b AND c FROM t;

-- explicit OR group inside AND
SELECT (a OR b) AND c FROM t;

-- NOT binds looser than comparison
SELECT NOT a = b FROM t;

-- NOT applied to a parenthesised OR
SELECT NOT (a OR b) FROM t;

-- NOT binds tighter than AND
SELECT NOT a AND b FROM t;

-- chain of ANDs and ORs
SELECT a AND b AND c OR d AND e OR f FROM t;

-- LIKE and NOT LIKE
SELECT url LIKE '%.png', url NOT LIKE '/static/%' FROM hits;

-- ILIKE and NOT ILIKE
SELECT name ILIKE 'john%', name NOT ILIKE '%bot%' FROM users;

-- LIKE combined with AND
SELECT * FROM hits WHERE url LIKE '%a%' AND referer NOT LIKE '%b%';

-- IS NULL and IS NOT NULL
SELECT * FROM users WHERE email IS NULL OR phone IS NOT NULL;

-- IS NULL on an arithmetic expression
SELECT (a + b) IS NULL FROM t;

-- BETWEEN and NOT BETWEEN
SELECT * FROM events WHERE value BETWEEN 1 AND 10 AND score NOT BETWEEN 0.5 AND 0.9;

-- BETWEEN with arithmetic bounds
SELECT * FROM t WHERE x BETWEEN a - 1 AND b + 1;

-- IN with a list
SELECT * FROM events WHERE type IN ('click', 'view', 'purchase');

-- NOT IN with a list of numbers
SELECT * FROM events WHERE status NOT IN (500, 502, 503);

-- IN with a single element
SELECT * FROM events WHERE type IN ('click');

-- GLOBAL IN and GLOBAL NOT IN
SELECT * FROM dist_events WHERE user_id GLOBAL IN (SELECT user_id FROM vip) AND id GLOBAL NOT IN (1, 2);

-- tuple IN a list of tuples
SELECT * FROM t WHERE (a, b) IN ((1, 2), (3, 4));

-- ternary conditional operator
SELECT value > 0 ? 'positive' : 'non-positive' FROM metrics;

-- nested ternary in the else branch (parenthesised, as ClickHouse requires)
SELECT x < 0 ? 'neg' : (x = 0 ? 'zero' : 'pos') FROM t;

-- ternary whose else branch is a comparison
SELECT a ? b : c = 1 FROM t;

-- comparison operators are left associative
SELECT a = b = c, a < b < c FROM t;

-- ternary with an OR condition
SELECT a OR b ? 1 : 2 FROM t;

-- CASE with operand
SELECT CASE type WHEN 'a' THEN 1 WHEN 'b' THEN 2 ELSE 0 END FROM events;

-- searched CASE without ELSE
SELECT CASE WHEN value > 100 THEN 'high' WHEN value > 10 THEN 'mid' END AS bucket FROM metrics;

-- CASE nested in arithmetic
SELECT 1 + CASE WHEN a THEN 2 ELSE 3 END * 4 FROM t;

-- CAST with AS
SELECT CAST(value AS String) FROM metrics;

-- CAST to a parametrised type
SELECT CAST(price AS Decimal(10, 2)) FROM products;

-- CAST to Nullable and Array types
SELECT CAST(x AS Nullable(UInt32)), CAST(arr AS Array(String)) FROM t;

-- CAST function form with a string type
SELECT CAST(value, 'UInt64') FROM metrics;

-- double colon cast operator
SELECT value::UInt64 FROM metrics;

-- double colon cast binds tighter than arithmetic
SELECT '1'::Int32 + 1;

-- array element access
SELECT arr[1], arr[-1] FROM t;

-- map element access with a string key
SELECT attributes['country'] FROM events;

-- tuple element access by position
SELECT tup.1, tup.2 FROM t;

-- nested element access
SELECT matrix[1][2], nested.1[3] FROM t;

-- element access on a function result
SELECT splitByChar(',', csv)[2] FROM t;

-- comparison chain inside parentheses
SELECT (a < b) = (c < d) FROM t;

-- negative number literal versus subtraction
SELECT a - 1, a -1, a-1 FROM t;

-- deeply nested parentheses
SELECT ((((a + b)))) * ((c)) FROM t;

-- IS NULL binds tighter than NOT
SELECT NOT x IS NULL FROM t;

-- comparison of concatenation results
SELECT a || b = c || d FROM t;

-- interval arithmetic with a date column
SELECT timestamp + INTERVAL 1 DAY, timestamp - INTERVAL 30 MINUTE FROM events;

-- interval with a string argument
SELECT now() - INTERVAL '2 hour';

-- interval with an expression argument
SELECT timestamp + INTERVAL (retention_days * 2) DAY FROM settings_table;

-- plural interval units
SELECT now() + INTERVAL 3 DAYS;

-- lambda with a comparison body
SELECT arrayFilter(x -> x > 0 AND x < 10, values) FROM t;

-- BETWEEN followed by AND: the first AND belongs to BETWEEN
SELECT * FROM t WHERE x BETWEEN 1 AND 2 AND y = 3;

-- NOT applied to a BETWEEN
SELECT NOT x BETWEEN 1 AND 2 FROM t;

-- NOT BETWEEN inside OR
SELECT x NOT BETWEEN a AND b OR c FROM t;

-- IS NOT NULL combined with AND
SELECT a IS NOT NULL AND b FROM t;

-- concatenation binds tighter than LIKE
SELECT a || b LIKE c FROM t;

-- IN result compared with equality
SELECT 1 IN (1, 2) = 1;

-- LIKE result compared with equality
SELECT a LIKE b = c FROM t;

-- comparison as the ternary condition
SELECT a = 1 ? b : c FROM t;

-- negative operands
SELECT -2 * -3, 2 - -3, -(-2);

-- modulo and division chains are left associative
SELECT a % b % c, a / b * c, a * (b / c), a - b + c, a - (b + c) FROM t;

-- unary minus and the cast operator
SELECT -x::Int8 FROM t;

-- double NOT
SELECT NOT NOT x FROM t;

-- REGEXP operator
SELECT * FROM logs WHERE message REGEXP '^ERROR [0-9]+';

-- tuple element of a nested tuple
SELECT tup.1.2 FROM t;

-- interval with a negative amount
SELECT now() + INTERVAL -1 DAY;

-- comparison chain mixed with arithmetic and concatenation
SELECT a + b * c || d = e FROM t;

-- arithmetic on both sides of IN
SELECT a + 1 IN (2, 3) FROM t;

-- subtraction of a negative literal column expression
SELECT a - -b FROM t;
