-- LIMIT n BY expressions
SELECT number % 3 AS k, number FROM numbers(12) ORDER BY k, number LIMIT 2 BY k;
SELECT number % 3 AS k, number FROM numbers(12) ORDER BY k, number DESC LIMIT 1 BY k;
SELECT number % 4 AS k, number FROM numbers(20) ORDER BY k, number LIMIT 1, 2 BY k;
SELECT number % 3 AS k, number FROM numbers(12) ORDER BY k, number LIMIT 2 BY k LIMIT 3;
