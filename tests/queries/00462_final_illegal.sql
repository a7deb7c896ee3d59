-- FINAL needs a merging engine: plain MergeTree and table functions are ILLEGAL_FINAL, subqueries UNSUPPORTED_METHOD
DROP TABLE IF EXISTS fin_plain;
DROP TABLE IF EXISTS fin_repl;
CREATE TABLE fin_plain (k UInt32, v String) ENGINE = MergeTree ORDER BY k;
CREATE TABLE fin_repl (k UInt32, v String) ENGINE = ReplacingMergeTree ORDER BY k;
INSERT INTO fin_plain VALUES (1, 'a'), (1, 'b');
INSERT INTO fin_repl VALUES (1, 'a');
INSERT INTO fin_repl VALUES (1, 'b'), (2, 'c');
SELECT * FROM fin_plain FINAL; -- { serverError ILLEGAL_FINAL }
SELECT count() FROM fin_plain FINAL WHERE k = 1; -- { serverError ILLEGAL_FINAL }
SELECT * FROM fin_repl AS r FINAL JOIN fin_plain AS p FINAL ON r.k = p.k; -- { serverError ILLEGAL_FINAL }
SELECT * FROM numbers(3) FINAL; -- { serverError ILLEGAL_FINAL }
SELECT * FROM (SELECT 1) FINAL; -- { serverError UNSUPPORTED_METHOD }
WITH c AS (SELECT 1) SELECT * FROM c FINAL; -- { serverError UNSUPPORTED_METHOD }
SELECT k, v FROM fin_repl FINAL ORDER BY k;
SELECT r.k, r.v, p.v FROM fin_repl AS r FINAL JOIN fin_plain AS p ON r.k = p.k ORDER BY p.v;
SELECT k, v FROM fin_plain ORDER BY v;
DROP TABLE fin_plain;
DROP TABLE fin_repl;
