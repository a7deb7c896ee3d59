-- ASOF JOIN: ON equality + inequality, USING with the last column as the asof column
CREATE TABLE trades (sym String, ts UInt32, qty UInt32) ENGINE = MergeTree ORDER BY (sym, ts);
CREATE TABLE quotes (sym String, ts UInt32, px Float64) ENGINE = MergeTree ORDER BY (sym, ts);
INSERT INTO trades VALUES ('A', 10, 1), ('A', 20, 2), ('A', 5, 3), ('B', 15, 4), ('C', 1, 5);
INSERT INTO quotes VALUES ('A', 8, 1.1), ('A', 12, 1.2), ('A', 20, 1.3), ('B', 30, 2.1), ('B', 14, 2.0);
SELECT t.sym, t.ts, q.ts, px FROM trades t ASOF JOIN quotes q ON t.sym = q.sym AND t.ts >= q.ts ORDER BY t.sym, t.ts;
SELECT t.sym, t.ts, q.ts, px FROM trades t ASOF JOIN quotes q ON t.sym = q.sym AND t.ts > q.ts ORDER BY t.sym, t.ts;
SELECT t.sym, t.ts, q.ts, px FROM trades t ASOF JOIN quotes q ON t.sym = q.sym AND t.ts <= q.ts ORDER BY t.sym, t.ts;
SELECT t.sym, t.ts, q.ts, px FROM trades t ASOF JOIN quotes q ON t.sym = q.sym AND t.ts < q.ts ORDER BY t.sym, t.ts;
SELECT t.sym, t.ts, q.ts, px FROM trades t ASOF LEFT JOIN quotes q ON t.sym = q.sym AND q.ts <= t.ts ORDER BY t.sym, t.ts;
SELECT * FROM trades ASOF JOIN quotes USING (sym, ts) ORDER BY 1, 2, 3, 4 FORMAT TabSeparatedWithNamesAndTypes;
SELECT t.sym, t.ts, px FROM trades t ASOF LEFT JOIN quotes q ON t.sym = q.sym AND t.ts >= q.ts ORDER BY t.sym, t.ts SETTINGS join_use_nulls = 1;
CREATE TABLE ties (sym String, ts UInt32, px Float64) ENGINE = MergeTree ORDER BY tuple();
INSERT INTO ties VALUES ('A', 8, 1.1), ('A', 8, 1.2), ('A', 12, 2.1), ('A', 12, 2.2);
SELECT t.ts, q.ts, px FROM trades t ASOF JOIN ties q ON t.sym = q.sym AND t.ts >= q.ts ORDER BY t.ts;
SELECT t.ts, q.ts, px FROM trades t ASOF JOIN ties q ON t.sym = q.sym AND t.ts <= q.ts ORDER BY t.ts;
