-- f(x) RESPECT NULLS is f_respect_nulls(x); IGNORE NULLS is these functions' default behaviour
DROP TABLE IF EXISTS rn;
CREATE TABLE rn (n UInt32, x Nullable(Int64)) ENGINE = MergeTree ORDER BY n;
INSERT INTO rn VALUES (0, NULL), (1, 1), (2, NULL), (3, 3);
SELECT n, first_value(x) IGNORE NULLS OVER (ORDER BY n), first_value(x) RESPECT NULLS OVER (ORDER BY n) FROM rn ORDER BY n;
SELECT n, last_value(x) RESPECT NULLS OVER (ORDER BY n), last_value(x) IGNORE NULLS OVER (ORDER BY n) FROM rn ORDER BY n;
SELECT n, LAST_VALUE(x) respect nulls OVER w, FIRST_VALUE(x) Respect Nulls OVER w FROM rn WINDOW w AS (ORDER BY n DESC ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) ORDER BY n;
SELECT sum(x) IGNORE NULLS, count() ignore FROM rn;
SELECT ignore(x) AS respect FROM rn ORDER BY n LIMIT 1;
DROP TABLE rn;
