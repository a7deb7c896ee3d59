-- several joins: name resolution down the join tree (USING merges, AMBIGUOUS_IDENTIFIER), result names
CREATE TABLE t1 (k Nullable(Int32), s String, a Int32) ENGINE = MergeTree ORDER BY tuple();
CREATE TABLE t2 (k Int64, s String, b Int32) ENGINE = MergeTree ORDER BY tuple();
CREATE TABLE t3 (k UInt8, t String, c Int32) ENGINE = MergeTree ORDER BY tuple();
INSERT INTO t1 VALUES (1, 'a', 1), (2, 'b', 2), (NULL, 'a', 3), (0, '', 4);
INSERT INTO t2 VALUES (1, 'a', 10), (2, 'x', 20), (2, 'b', 21), (5, 'a', 50);
INSERT INTO t3 VALUES (1, 'a', 100), (2, 'b', 200), (0, 'x', 300);
SELECT * FROM t1 JOIN t2 USING (k) JOIN t3 USING (k) ORDER BY 1, 2, 3, 4, 5, 6, 7 FORMAT TabSeparatedWithNamesAndTypes;
SELECT * FROM t1 LEFT JOIN t2 USING (k, s) LEFT JOIN t3 ON t3.k = t2.k ORDER BY 1, 2, 3, 4, 5, 6, 7 FORMAT TabSeparatedWithNamesAndTypes;
SELECT k, a, b, c FROM t1 JOIN t2 USING (k) JOIN t3 USING (k) ORDER BY 1, 2, 3, 4;
SELECT t1.k, t2.k, t3.k, t FROM t1 JOIN t2 ON t1.k = t2.k JOIN t3 ON t3.k = t2.k ORDER BY 1, 2, 3, 4;
SELECT a, b, c, t FROM t1 FULL JOIN t2 ON t1.k = t2.k AND t1.s = t2.s RIGHT JOIN t3 ON t3.t = t2.s ORDER BY 1, 2, 3, 4;
SELECT count(), sum(a), sum(b), sum(c) FROM t1 CROSS JOIN t2 CROSS JOIN t3;
SELECT k FROM t1 JOIN t2 ON t1.k = t2.k JOIN t3 ON t3.c > 0; -- { serverError AMBIGUOUS_IDENTIFIER }
SELECT s FROM t1 JOIN t2 USING (k) JOIN t3 USING (k); -- { serverError AMBIGUOUS_IDENTIFIER }
SELECT k FROM t1 JOIN t2 USING (k) CROSS JOIN t3; -- { serverError AMBIGUOUS_IDENTIFIER }
SELECT * FROM t1 CROSS JOIN t2 JOIN t3 USING (k); -- { serverError AMBIGUOUS_IDENTIFIER }
SELECT k, s FROM t1 JOIN t2 ON t1.k = t2.k ORDER BY 1, 2;
SELECT k, toTypeName(k) FROM t1 JOIN t2 USING (k) JOIN t3 ON t3.k = t1.k ORDER BY 1;
SELECT k FROM t1 JOIN t2 USING (k) JOIN t3 ON t3.k = t2.k; -- { serverError AMBIGUOUS_IDENTIFIER }
SELECT s FROM t1 JOIN t2 ON t1.k = t2.k AND t1.s = t2.s JOIN t3 ON 1 ORDER BY 1;
SELECT s FROM t1 LEFT JOIN t2 ON t1.s = t2.s JOIN t3 ON 1; -- { serverError AMBIGUOUS_IDENTIFIER }
SELECT k FROM t1 RIGHT JOIN t2 USING (k) INNER JOIN t3 ON t3.k = t2.k ORDER BY 1;
