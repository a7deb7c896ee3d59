-- Topic: comments, whitespace, case-insensitivity of keywords and layout-independence.

-- trailing line comment
SELECT 1 -- the answer
;

-- block comment inside the statement
SELECT /* inline */ user_id FROM /* the table */ events;

-- multi-line block comment
SELECT
    /* a comment
       spanning lines */
    count()
FROM events;

-- hash-bang comment line inside a statement
SELECT
#! shebang-style comment
    1;

-- line comment between clauses
SELECT user_id
-- filter below
FROM events
WHERE value > 0;

-- tabs and extra spaces
SELECT	user_id ,	 count( )  FROM   events	GROUP   BY user_id;

-- everything on separate lines
SELECT
user_id
,
value
FROM
events
WHERE
value
>
1;

-- no whitespace around operators and commas
SELECT a+b*c,d-e/f,g||h FROM t WHERE a=1 AND b!=2;

-- lower case DDL
create table if not exists t (id UInt64, name String) engine = MergeTree order by id;

-- lower case INSERT
insert into t (id, name) values (1, 'x');

-- mixed case window and join keywords
select a.x, row_number() over (partition by a.k order by a.x) from a left join b using k;

-- comment with a semicolon-free sentence at the end of a DDL statement
ALTER TABLE events DELETE WHERE 1 /* everything */;

-- a comment line directly inside a CREATE column list
CREATE TABLE t
(
    -- identifier of the row
    id UInt64,
    value Float64 -- the measurement
)
ENGINE = MergeTree
ORDER BY id;

-- newline inside a string literal is kept
SELECT 'first line
second line';

-- keywords used as aliases through quoting
SELECT 1 AS `from`, 2 AS "where";

-- column names equal to function names
SELECT count, sum, min FROM stats;
