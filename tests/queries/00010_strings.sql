-- String columns: grouping on offsets+bytes, functions, ordering
CREATE TABLE s (k String, v UInt8) ENGINE = MergeTree ORDER BY k;
INSERT INTO s VALUES ('apple', 1), ('banana', 2), ('apple', 3), ('', 4), ('cherry', 5), ('banana', 6), ('Apple', 7);
SELECT k, count(), sum(v) FROM s GROUP BY k ORDER BY k;
SELECT upper(k) AS u, count() FROM s GROUP BY u ORDER BY u;
SELECT k, length(k) FROM s ORDER BY length(k) DESC, k LIMIT 3;
SELECT concat(k, '-', toString(v)) FROM s WHERE v > 4 ORDER BY v;
SELECT k FROM s WHERE k LIKE '%an%' ORDER BY v;
SELECT min(k), max(k), argMax(k, v) FROM s;
SELECT k, v FROM s ORDER BY k DESC, v LIMIT 4;
SELECT lower(k) AS l, uniqExact(k) FROM s GROUP BY l ORDER BY l;
