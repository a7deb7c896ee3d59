-- Topic: literals: numbers, strings and escapes, NULL, booleans, arrays, tuples, maps, typed literals.

-- integer literals
SELECT 0, 1, 42, 18446744073709551615;

-- negative integer literal
SELECT -9223372036854775808;

-- float literals
SELECT 1.5, 0.25, .5, 2.;

-- exponent notation
SELECT 1e10, 2.5e-3, 6.02E23, 1e+5;

-- hexadecimal integer literal
SELECT 0xFF, 0x1f;

-- binary integer literal
SELECT 0b1010;

-- inf and nan
SELECT inf, -inf, nan;

-- upper case INF and NAN
SELECT INF, NaN;

-- NULL literal
SELECT NULL;

-- NULL in an expression
SELECT coalesce(NULL, 1);

-- true and false
SELECT true, false, TRUE AND FALSE;

-- simple string literal
SELECT 'hello world';

-- escaped single quote with backslash
SELECT 'it\'s';

-- doubled single quote escape
SELECT 'it''s';

-- backslash escapes
SELECT 'line1\nline2\ttab\\backslash';

-- hex escape in a string
SELECT '\x41\x42';

-- empty string
SELECT '';

-- unicode in strings
SELECT 'héllo wörld ✓ 你好';

-- string containing SQL keywords and semicolon-free punctuation
SELECT 'SELECT * FROM t WHERE a = 1 -- not a comment';

-- string containing comment markers
SELECT '/* not a comment */', '#! not a comment';

-- array literal of numbers
SELECT [1, 2, 3];

-- empty array literal
SELECT [];

-- nested arrays
SELECT [[1, 2], [3], []];

-- array of strings
SELECT ['a', 'b', 'c'] AS letters;

-- array with NULL
SELECT [1, NULL, 3];

-- tuple literal
SELECT (1, 'a', 2.5);

-- single-element tuple via the tuple function
SELECT tuple(1);

-- nested tuples and arrays
SELECT ((1, 2), [3, 4], ('x', ['y']));

-- map literal
SELECT map('a', 1, 'b', 2);

-- DATE typed literal
SELECT DATE '2024-01-15';

-- TIMESTAMP typed literal
SELECT TIMESTAMP '2024-01-15 10:30:00';

-- literal comparisons with dates
SELECT * FROM events WHERE date >= DATE '2024-01-01' AND date < DATE '2024-02-01';

-- large float
SELECT 1.7976931348623157e308;

-- numbers adjacent to operators
SELECT 1+1, 2*3, 10/2, 7%3;

-- string concatenation of literals
SELECT 'a' || 'b' || 'c';

-- underscore-free identifiers next to numbers
SELECT 1 AS one, 2.0 AS two, 'three' AS three;
