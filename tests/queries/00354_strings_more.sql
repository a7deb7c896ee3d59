-- string functions over a table (bytes, UTF-8, empty strings)
CREATE TABLE s (id UInt8, x String) ENGINE = MergeTree ORDER BY id;
INSERT INTO s VALUES (1, 'Hello, World'), (2, ''), (3, '  padded  '), (4, 'a_b_c'), (5, 'straße'), (6, 'x''y\\z');
SELECT id, length(x), empty(x), notEmpty(x) FROM s ORDER BY id;
SELECT id, lower(x), upper(x) FROM s ORDER BY id;
SELECT id, substring(x, 2, 3), substring(x, -3) FROM s ORDER BY id;
SELECT id, concat(x, '|', toString(id)), x || '!' FROM s ORDER BY id;
SELECT id, position(x, 'o'), startsWith(x, 'He'), endsWith(x, 'c') FROM s ORDER BY id;
SELECT id, replaceAll(x, '_', '-'), trim(x), trimLeft(x), trimRight(x) FROM s ORDER BY id;
SELECT id, splitByChar('_', x) FROM s ORDER BY id;
SELECT id, x LIKE '%o%', x NOT LIKE 'a%', x ILIKE 'hello%' FROM s ORDER BY id;
SELECT id, toString(id) || x FROM s WHERE x != '' ORDER BY id;
SELECT count() FROM s WHERE x = '';
SELECT x FROM s ORDER BY x;
SELECT x FROM s ORDER BY x DESC LIMIT 3;
SELECT min(x), max(x) FROM s;
SELECT id, toUInt32OrZero(x), toInt64OrNull(x) FROM s ORDER BY id;
SELECT upper('abc') = 'ABC', lower('ÄÖÜ'), length('日本語');
