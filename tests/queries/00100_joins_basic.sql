-- joins: kinds (INNER/LEFT/RIGHT/FULL/CROSS), ON and USING, names and types of joined columns
CREATE TABLE ja (x Int32, y String, k Nullable(Int32)) ENGINE = MergeTree ORDER BY x;
CREATE TABLE jb (x Int64, z String, k Nullable(Int32)) ENGINE = MergeTree ORDER BY x;
CREATE TABLE jc (w UInt8, y Int64) ENGINE = MergeTree ORDER BY w;
INSERT INTO ja VALUES (1, 'a', 1), (2, 'b', NULL), (2, 'bb', 2), (3, 'c', 3);
INSERT INTO jb VALUES (2, 'B', 2), (2, 'B2', NULL), (3, 'C', 3), (4, 'D', 4);
INSERT INTO jc VALUES (1, 5), (3, 7);
SELECT * FROM ja JOIN jb ON ja.x = jb.x ORDER BY 1, 2, 3, 4, 5, 6 FORMAT TabSeparatedWithNamesAndTypes;
SELECT * FROM ja INNER JOIN jb USING x ORDER BY 1, 2, 3, 4, 5 FORMAT TabSeparatedWithNamesAndTypes;
SELECT x, ja.x, jb.x, y, z FROM ja LEFT JOIN jb ON ja.x = jb.x ORDER BY 1, 2, 3, 4, 5 FORMAT TabSeparatedWithNamesAndTypes;
SELECT * FROM ja RIGHT JOIN jb ON ja.x = jb.x ORDER BY 1, 2, 3, 4, 5, 6;
SELECT * FROM ja FULL JOIN jb ON ja.x = jb.x ORDER BY 1, 2, 3, 4, 5, 6;
SELECT * FROM ja FULL OUTER JOIN jb ON ja.k = jb.k ORDER BY 1, 2, 3, 4, 5, 6;
SELECT x, ja.x, jb.x FROM ja FULL JOIN jb USING x ORDER BY 1, 2, 3 FORMAT TabSeparatedWithNamesAndTypes;
SELECT x, ja.x, jb.x, y, z FROM ja RIGHT JOIN jb USING x ORDER BY 1, 2, 3, 4, 5 FORMAT TabSeparatedWithNamesAndTypes;
SELECT * FROM ja CROSS JOIN jc ORDER BY 1, 2, 3, 4, 5 FORMAT TabSeparatedWithNamesAndTypes;
SELECT count() FROM ja, jb;
SELECT count() FROM ja, jb WHERE ja.x = jb.x;
SELECT * FROM ja AS t1 JOIN jb AS t2 ON t1.x = t2.x ORDER BY 1, 2, 3, 4, 5, 6 FORMAT TabSeparatedWithNames;
SELECT t1.y, t2.z FROM ja t1 LEFT JOIN jb t2 ON t2.x = t1.x ORDER BY 1, 2;
SELECT k FROM ja JOIN jb ON ja.x = jb.x ORDER BY k;
SELECT y FROM jc JOIN ja ON ja.x = jc.w ORDER BY y;
SELECT * FROM ja JOIN jb ON ja.x = jb.x JOIN jc ON jc.w = ja.x ORDER BY 1, 2, 3, 4, 5, 6, 7, 8 FORMAT TabSeparatedWithNamesAndTypes;
SELECT x, z, w FROM ja JOIN jb USING x JOIN jc ON jc.w = x ORDER BY 1, 2, 3;
SELECT ja.*, jb.z FROM ja JOIN jb USING x ORDER BY 1, 2, 3, 4 FORMAT TabSeparatedWithNames;
SELECT jb.* FROM ja JOIN jb ON ja.x = jb.x ORDER BY 1, 2, 3 FORMAT TabSeparatedWithNames;
SELECT ja.x + 1, x + 1, jb.z || 'q', toTypeName(jb.k) FROM ja JOIN jb ON ja.x = jb.x ORDER BY 1, 2, 3, 4 FORMAT TabSeparatedWithNames;
SELECT y, count(), sum(jb.x) FROM ja JOIN jb USING x GROUP BY y ORDER BY y;
SELECT * FROM ja GLOBAL JOIN jb ON ja.x = jb.x ORDER BY 1, 2, 3, 4, 5, 6;
SELECT * FROM ja JOIN ja AS j2 ON ja.x = j2.x ORDER BY 1, 2, 3, 4, 5, 6 FORMAT TabSeparatedWithNames;
SELECT * FROM ja JOIN jb ON ja.y = jb.z;
SELECT * FROM ja JOIN jb ON lower(ja.y) = lower(jb.z) ORDER BY 1, 2, 3, 4, 5, 6;
SELECT * FROM ja JOIN jb ON ja.x + 1 = jb.x ORDER BY 1, 2, 3, 4, 5, 6;
SELECT * FROM ja JOIN jb ON ja.x = jb.x AND ja.k = jb.k ORDER BY 1, 2, 3, 4, 5, 6;
SELECT * FROM ja JOIN jb ON ja.x = jb.x AND ja.y = 'bb' ORDER BY 1, 2, 3, 4, 5, 6;
SELECT * FROM ja LEFT JOIN jb ON ja.x = jb.x AND jb.z = 'B' ORDER BY 1, 2, 3, 4, 5, 6;
SELECT * FROM ja JOIN jb ON ja.x = jb.x OR ja.k = jb.k ORDER BY 1, 2, 3, 4, 5, 6;
SELECT count() FROM ja JOIN jb ON 1;
SELECT b.y FROM ja JOIN jb AS b ON ja.x = b.x; -- { serverError UNKNOWN_IDENTIFIER }
SELECT q FROM ja JOIN jb ON ja.x = jb.x; -- { serverError UNKNOWN_IDENTIFIER }
SELECT * FROM ja JOIN jc USING (y); -- { serverError NO_COMMON_TYPE }
SELECT * FROM ja ANY FULL JOIN jb ON ja.x = jb.x; -- { serverError NOT_IMPLEMENTED }
CREATE TABLE jd (d Decimal(10, 2), i Int8, fs FixedString(2), u UUID, dt Date) ENGINE = MergeTree ORDER BY tuple();
CREATE TABLE je (d Decimal(12, 3), u64 UInt64, fs FixedString(2), u UUID, dt Date) ENGINE = MergeTree ORDER BY tuple();
INSERT INTO jd VALUES (1.5, -1, 'ab', '00000000-0000-0000-0000-000000000001', '2024-01-01'), (2.25, 5, 'cd', '00000000-0000-0000-0000-000000000002', '2024-01-02');
INSERT INTO je VALUES (1.5, 18446744073709551615, 'ab', '00000000-0000-0000-0000-000000000001', '2024-01-01'), (2.250, 5, 'xy', '00000000-0000-0000-0000-000000000003', '2024-01-03');
SELECT jd.d, je.d FROM jd JOIN je ON jd.d = je.d ORDER BY 1;
SELECT i, u64 FROM jd JOIN je ON jd.i = je.u64 ORDER BY 1;
SELECT fs, jd.u, dt FROM jd JOIN je USING (fs, u, dt) ORDER BY 1;
SELECT count() FROM jd LEFT JOIN je ON jd.dt = je.dt AND jd.fs = je.fs;
SELECT * FROM (SELECT number AS n FROM numbers(3)) AS t1 PASTE JOIN (SELECT number * 10 AS m FROM numbers(5)) AS t2;
SELECT n, m FROM (SELECT number AS n FROM numbers(5)) AS t1 PASTE JOIN (SELECT toString(number) AS m FROM numbers(2)) AS t2 WHERE n > 0;
