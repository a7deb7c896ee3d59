-- ranking functions: ties, NULLs in partition and order keys, DESC, empty input
CREATE TABLE w (g Nullable(String), k Int32, x Nullable(Int64), f Float64, id UInt32) ENGINE = MergeTree ORDER BY id;
INSERT INTO w VALUES ('a', 1, 10, 0.5, 1), ('a', 2, NULL, 1.5, 2), ('a', 2, 30, -2.25, 3), ('b', 5, 7, 3.0, 4), (NULL, 3, 1, 4.5, 5), (NULL, 3, NULL, 0.25, 6), ('b', 6, -4, 8.0, 7), ('c', 9, 100, 1e10, 8), ('a', 2, 5, 2.5, 9), ('b', 5, 7, -1.0, 10);
SELECT id, row_number() OVER (ORDER BY id) FROM w ORDER BY id;
SELECT id, row_number() OVER (PARTITION BY g ORDER BY id DESC) FROM w ORDER BY id;
SELECT id, g, k, rank() OVER (PARTITION BY g ORDER BY k), dense_rank() OVER (PARTITION BY g ORDER BY k), percent_rank() OVER (PARTITION BY g ORDER BY k), cume_dist() OVER (PARTITION BY g ORDER BY k) FROM w ORDER BY id;
SELECT id, k, rank() OVER (ORDER BY k DESC), dense_rank() OVER (ORDER BY k DESC), percent_rank() OVER (ORDER BY k DESC) FROM w ORDER BY id;
SELECT id, x, rank() OVER (ORDER BY x), rank() OVER (ORDER BY x NULLS FIRST), dense_rank() OVER (ORDER BY x DESC), rank() OVER (ORDER BY x DESC NULLS FIRST) FROM w ORDER BY id;
SELECT id, rank() OVER (), dense_rank() OVER (), percent_rank() OVER (), row_number() OVER (PARTITION BY g ORDER BY id) FROM w ORDER BY id;
SELECT id, ntile(3) OVER (ORDER BY id), ntile(4) OVER (PARTITION BY g ORDER BY id), ntile(20) OVER (ORDER BY id DESC), ntile(1) OVER (ORDER BY k, id) FROM w ORDER BY id;
SELECT id, g, k, f, rank() OVER (PARTITION BY g, k ORDER BY f), dense_rank() OVER (ORDER BY g, k) FROM w ORDER BY id;
SELECT count(), sum(rn) FROM (SELECT row_number() OVER (ORDER BY number) AS rn FROM numbers(100000));
SELECT id, row_number() OVER (ORDER BY id) FROM w WHERE id > 100;
SELECT number, rank() OVER (ORDER BY intDiv(number, 3)), dense_rank() OVER (PARTITION BY number % 2 ORDER BY intDiv(number, 3) DESC) FROM numbers(10) ORDER BY number;
SELECT number, ROW_NUMBER() OVER (ORDER BY number DESC), RANK() OVER (ORDER BY number % 3) FROM numbers(6) ORDER BY number;
SELECT g, sum(r), sum(d), sum(r3) FROM (SELECT intDiv(number, 2) g, rank() OVER (ORDER BY intDiv(number, 2) ROWS 1 PRECEDING) r, dense_rank() OVER (ORDER BY intDiv(number, 2) ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) d, rank() OVER (ORDER BY intDiv(number, 2) RANGE CURRENT ROW) r3 FROM numbers(7)) GROUP BY g ORDER BY g;
