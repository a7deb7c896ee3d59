-- joins: join_use_nulls, type defaults for missing rows, result types
CREATE TABLE l (k UInt32, s String, d Date, f Float64, a Array(UInt8)) ENGINE = MergeTree ORDER BY k;
CREATE TABLE r (k UInt64, t String, n Nullable(Int8)) ENGINE = MergeTree ORDER BY k;
INSERT INTO l VALUES (1, 'one', '2024-01-01', 1.5, [1]), (2, 'two', '2024-01-02', 2.5, [2, 2]);
INSERT INTO r VALUES (2, 'TWO', 5), (3, 'THREE', NULL);
SELECT * FROM l LEFT JOIN r ON l.k = r.k ORDER BY 1, 2, 3, 4, 5, 6, 7, 8 FORMAT TabSeparatedWithNamesAndTypes;
SELECT * FROM l RIGHT JOIN r ON l.k = r.k ORDER BY 1, 2, 3, 4, 5, 6, 7, 8 FORMAT TabSeparatedWithNamesAndTypes;
SELECT * FROM l FULL JOIN r USING k ORDER BY 1, 2, 3, 4, 5, 6, 7 FORMAT TabSeparatedWithNamesAndTypes;
SELECT * FROM l LEFT JOIN r ON l.k = r.k ORDER BY 1, 2, 3, 4, 5, 6, 7, 8 SETTINGS join_use_nulls = 1 FORMAT TabSeparatedWithNamesAndTypes;
SELECT s, t, n, toTypeName(t), toTypeName(s) FROM l RIGHT JOIN r USING k ORDER BY 1, 2, 3, 4, 5 SETTINGS join_use_nulls = 1;
SELECT k, toTypeName(k), s, t FROM l FULL JOIN r USING k ORDER BY 1, 2, 3, 4 SETTINGS join_use_nulls = 1;
SELECT s, t, isNull(t) FROM l LEFT JOIN r USING k ORDER BY 1, 2, 3 SETTINGS join_use_nulls = 1;
SELECT s, toTypeName(t) FROM l SEMI LEFT JOIN r USING k SETTINGS join_use_nulls = 1;
SELECT s, t FROM l ANTI LEFT JOIN r USING k SETTINGS join_use_nulls = 1;
SELECT count(t), count() FROM l LEFT JOIN r USING k SETTINGS join_use_nulls = 1;
SELECT count(t), count() FROM l LEFT JOIN r USING k;
