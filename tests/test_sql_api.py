"""sql.execute / Result API: statements, query parameters, inserts in formats, Result accessors,
statistics, EXPLAIN-style plans and key-condition pruning through SQL."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

import mergetree
from mergetree.errors import MergeTreeError
from mergetree.sql import execute, explain_plan


@pytest.fixture
def db():
    with mergetree.connect(background_merges=False) as d:
        execute(d, "CREATE TABLE events (user_id String, event_type LowCardinality(String), ts DateTime, "
                   "amount Nullable(Float64)) ENGINE = MergeTree ORDER BY (ts, user_id) "
                   "PARTITION BY toYYYYMM(ts) SETTINGS index_granularity = 4")
        execute(d, "INSERT INTO events VALUES ('u1', 'view', '2024-01-01 10:00:00', NULL), "
                   "('u2', 'click', '2024-01-02 11:00:00', 1.5), ('u1', 'buy', '2024-02-03 12:00:00', 20), "
                   "('u3', 'view', '2024-02-04 13:00:00', NULL), ('u1', 'view', '2024-03-05 14:00:00', 2)")
        yield d


def test_result_accessors(db):
    res = execute(db, "SELECT event_type, count() AS c FROM events WHERE user_id = {u:String} "
                      "GROUP BY event_type ORDER BY c DESC, event_type", params={"u": "u1"})
    assert res.columns == [("event_type", "LowCardinality(String)"), ("c", "UInt64")]
    assert res.rows == [("view", 2), ("buy", 1)]
    assert res.to_dicts() == [{"event_type": "view", "c": 2}, {"event_type": "buy", "c": 1}]
    arrays = res.to_numpy()
    assert arrays["c"].dtype == np.uint64 and arrays["c"].tolist() == [2, 1]
    assert res.format() == b"view\t2\nbuy\t1\n"
    assert set(res.statistics) == {"elapsed", "rows_read", "bytes_read"}


def test_python_values(db):
    res = execute(db, "SELECT ts, toDate(ts), amount FROM events ORDER BY ts LIMIT 2")
    assert res.rows == [(dt.datetime(2024, 1, 1, 10), dt.date(2024, 1, 1), None),
                        (dt.datetime(2024, 1, 2, 11), dt.date(2024, 1, 2), 1.5)]


def test_query_parameters_of_several_types(db):
    res = execute(db, "SELECT count() FROM events WHERE ts >= {t:DateTime} AND amount > {a:Float64}",
                  params={"t": "2024-01-02 00:00:00", "a": 1})
    assert res.rows == [(3,)]
    with pytest.raises(MergeTreeError) as info:
        execute(db, "SELECT {missing:UInt8}")
    assert info.value.code == "UNKNOWN_QUERY_PARAMETER"


def test_insert_json_each_row_and_select_insert(db):
    execute(db, "INSERT INTO events FORMAT JSONEachRow",
            data=b'{"user_id":"u9","event_type":"view","ts":"2024-03-06 00:00:00","amount":5}\n'
                 b'{"user_id":"u9","event_type":"buy","ts":"2024-03-07 00:00:00"}\n')
    assert execute(db, "SELECT count(), count(amount) FROM events WHERE user_id = 'u9'").rows == [(2, 1)]
    execute(db, "CREATE TABLE copy (u String, n UInt64) ENGINE = MergeTree ORDER BY u")
    execute(db, "INSERT INTO copy SELECT user_id, count() FROM events GROUP BY user_id")
    assert execute(db, "SELECT u, n FROM copy ORDER BY u").rows == [("u1", 3), ("u2", 1), ("u3", 1), ("u9", 2)]
    execute(db, "INSERT INTO copy (n, u) VALUES (7, 'z')")
    assert execute(db, "SELECT n FROM copy WHERE u = 'z'").rows == [(7,)]


def test_ddl_and_mutations(db):
    assert execute(db, "SHOW TABLES").rows == [("events",)]
    assert execute(db, "DESCRIBE events").rows[1][:2] == ("event_type", "LowCardinality(String)")
    execute(db, "DELETE FROM events WHERE event_type = 'view'")
    assert execute(db, "SELECT count() FROM events").rows == [(2,)]
    execute(db, "ALTER TABLE events DELETE WHERE amount > 10")
    assert execute(db, "SELECT user_id FROM events").rows == [("u2",)]
    execute(db, "OPTIMIZE TABLE events FINAL")
    execute(db, "TRUNCATE TABLE events")
    assert execute(db, "SELECT count() FROM events").rows == [(0,)]
    execute(db, "DROP TABLE events")
    execute(db, "DROP TABLE IF EXISTS events")
    assert execute(db, "SHOW TABLES").rows == []


def test_where_prunes_partitions_and_granules(db):
    for m in range(1, 4):   # more rows so granules matter (index_granularity = 4)
        execute(db, "INSERT INTO events SELECT 'x', 'view', toDateTime('2024-0" + str(m) +
                "-20 00:00:00') + number, 1 FROM numbers(40)")
    full = execute(db, "SELECT count() FROM events WHERE user_id != ''")
    pruned = execute(db, "SELECT count() FROM events WHERE ts >= '2024-03-20 00:00:10' AND ts < '2024-03-20 00:00:20'")
    assert pruned.rows == [(10,)]
    assert pruned.statistics["rows_read"] < full.statistics["rows_read"] / 4


def test_explain_plan_shows_pushed_filter_and_topn(db):
    plan = explain_plan(db, "SELECT user_id, count() AS c FROM events WHERE ts > '2024-02-01' "
                            "GROUP BY user_id ORDER BY c DESC LIMIT 2")
    lines = plan.splitlines()
    assert lines[0].startswith("Project")
    assert any(line.strip().startswith("TopN __ord0 DESC limit=2") for line in lines)
    assert lines[-1].strip() == ("ReadFromMergeTree events columns=[user_id] "
                                 "prewhere=greater(ts, '2024-02-01')")
    off = explain_plan(db, "SELECT user_id FROM events WHERE ts > '2024-02-01' ORDER BY ts LIMIT 1",
                       disabled_rules="all")
    assert "Filter greater(ts, '2024-02-01')" in off and "TopN" not in off


def test_select_star_except_and_duplicates(db):
    res = execute(db, "SELECT * EXCEPT (amount), user_id FROM events ORDER BY ts LIMIT 1")
    assert res.names == ["user_id", "event_type", "ts", "user_id"]
    assert res.rows == [("u1", "view", dt.datetime(2024, 1, 1, 10), "u1")]


def test_final(db):
    execute(db, "CREATE TABLE r (k UInt8, v String) ENGINE = ReplacingMergeTree ORDER BY k")
    execute(db, "INSERT INTO r VALUES (1, 'a'), (2, 'b')")
    execute(db, "INSERT INTO r VALUES (1, 'c')")
    assert execute(db, "SELECT k, v FROM r FINAL ORDER BY k").rows == [(1, "c"), (2, "b")]
    assert execute(db, "SELECT count() FROM r").rows == [(3,)]


def test_count_from_metadata(db):
    assert "CountFromMetadata events" in explain_plan(db, "SELECT count() FROM events")
    assert "CountFromMetadata" not in explain_plan(db, "SELECT count() FROM events WHERE ts > '2024-02-01'")
    execute(db, "DELETE FROM events WHERE user_id = 'u1'")
    res = execute(db, "SELECT count() FROM events")
    assert res.rows == [(2,)] and res.statistics["rows_read"] == 0
    assert execute(db, "SELECT count() FROM events", settings={"optimizer_disabled_rules": "count_from_metadata"}
                   ).rows == [(2,)]


def test_set_persists_and_settings_clause(db):
    execute(db, "SET optimizer_disabled_rules = 'all'")
    plan = execute(db, "EXPLAIN SELECT count() FROM events WHERE ts > '2024-02-01'").rows
    assert any(line.strip() == "Filter greater(ts, '2024-02-01')" for (line,) in plan)
    plan = execute(db, "EXPLAIN SELECT user_id FROM events ORDER BY ts LIMIT 1 "
                       "SETTINGS optimizer_disabled_rules = 'prune_columns'").rows
    assert any("TopN" in line for (line,) in plan)


def test_exists_and_system_tables(db):
    assert execute(db, "EXISTS TABLE events").rows == [(1,)]
    assert execute(db, "EXISTS nope").rows == [(0,)]
    assert execute(db, "SELECT name, engine, total_rows FROM system.tables").rows == [("events", "MergeTree", 5)]
    cols = execute(db, "SELECT name, type, position FROM system.columns WHERE table = 'events' ORDER BY position")
    assert cols.rows[:2] == [("user_id", "String", 1), ("event_type", "LowCardinality(String)", 2)]
    parts = execute(db, "SELECT partition, sum(rows) FROM system.parts WHERE active GROUP BY partition "
                        "ORDER BY partition")
    assert parts.rows == [("202401", 2), ("202402", 2), ("202403", 1)]


def test_query_parameter_column_names_as_clickhouse(db):
    res = execute(db, "SELECT {u:String}, {n:UInt8} + 1, {d:Date}", params={"u": "ab", "n": 5, "d": "2024-01-01"})
    assert res.names == ["'ab'", "plus(_CAST(5, 'UInt8'), 1)", "_CAST(19723, 'Date')"]   # as chDB 26.9
    assert res.rows == [("ab", 6, dt.date(2024, 1, 1))]


def test_prewhere_reads_other_columns_only_for_matching_granules(db):
    execute(db, "INSERT INTO events SELECT 'x' || toString(number), 'view', toDateTime('2024-05-01 00:00:00') + number, "
                "number FROM numbers(400)")
    sql = "SELECT user_id, ts FROM events WHERE amount = 180"      # amount is not in the key
    on = execute(db, sql)
    off = execute(db, sql, settings={"optimizer_disabled_rules": "prewhere"})
    assert on.rows == off.rows == [("x180", dt.datetime(2024, 5, 1, 0, 3))]
    assert on.statistics["rows_read"] == off.statistics["rows_read"]          # every granule's amount
    assert on.statistics["bytes_read"] < off.statistics["bytes_read"] / 2    # user_id, ts: one granule


def test_prewhere_over_pruned_ranges_with_deletes():
    """PREWHERE over non-adjacent mark ranges (key pruning leaves gaps), a delete mask, and a
    match rate low enough that strings are gathered rather than masked: same rows as without."""
    with mergetree.connect(background_merges=False) as d:
        execute(d, "CREATE TABLE t (k UInt32, u String, s String) ENGINE = MergeTree ORDER BY k "
                   "SETTINGS index_granularity = 16")
        execute(d, "INSERT INTO t SELECT number, 'u' || toString(number % 97), "
                   "concat(toString(number * 7919), 'x', toString(number)) FROM numbers(5000)")
        execute(d, "DELETE FROM t WHERE k % 1000 = 5")
        for where in ["u = 'u5'", "u != 'u5' AND (k < 700 OR k > 3000)", "u = 'u5' AND (k < 700 OR k > 3000)", "u IN ('u1', 'u2') AND k % 3 = 0",
                      "u = 'nobody'"]:
            sql = f"SELECT k, s, u FROM t WHERE {where} ORDER BY k DESC LIMIT 30"
            on = execute(d, sql)
            off = execute(d, sql, settings={"optimizer_disabled_rules": "prewhere"})
            assert on.rows == off.rows, where
            sql = f"SELECT s FROM t WHERE {where} ORDER BY s"
            assert execute(d, sql).rows == execute(d, sql, settings={"optimizer_disabled_rules": "prewhere"}).rows


def test_scan_streams_parts_and_limit_stops_early(db):
    for i in range(4):
        execute(db, f"INSERT INTO events SELECT 'p{i}', 'view', toDateTime('2024-04-01 00:00:00') + number, 1 "
                    "FROM numbers(100)")
    total = execute(db, "SELECT count() FROM events WHERE amount IS NULL OR amount IS NOT NULL")
    assert total.rows == [(405,)]
    res = execute(db, "SELECT user_id FROM events LIMIT 3")
    assert len(res.rows) == 3
    assert res.statistics["rows_read"] < 405                 # stopped after the first part(s)
    # lightweight deletes are applied per part, before the WHERE
    execute(db, "DELETE FROM events WHERE user_id = 'p2' AND ts < '2024-04-01 00:00:50'")
    assert execute(db, "SELECT count() FROM events WHERE user_id IN ('p1', 'p2')").rows == [(150,)]


def test_split_ranges():
    from mergetree.exec.scan import _split_ranges

    assert _split_ranges([(0, 5), (7, 9)], 3) == [[(0, 3)], [(3, 5), (7, 8)], [(8, 9)]]
    assert _split_ranges([(0, 2)], 10) == [[(0, 2)]]


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_parallel_scan_same_rows(threads, monkeypatch):
    from mergetree.exec import scan

    monkeypatch.setattr(scan, "MIN_TASK_MARKS", 1)
    with mergetree.connect(background_merges=False) as d:
        execute(d, "CREATE TABLE t (k UInt32, s String) ENGINE = MergeTree ORDER BY k SETTINGS index_granularity = 8")
        for i in range(3):
            execute(d, f"INSERT INTO t SELECT number * 3 + {i}, toString(number % 5) FROM numbers(300)")
        execute(d, "DELETE FROM t WHERE k % 7 = 0")
        settings = {"max_threads": threads}
        res = execute(d, "SELECT s, count(), sum(k) FROM t WHERE k > 100 GROUP BY s ORDER BY s", settings=settings)
        ks = [k for k in range(900) if k > 100 and k % 7 != 0]
        expected = [(str(v), sum(1 for k in ks if (k // 3) % 5 == v), sum(k for k in ks if (k // 3) % 5 == v))
                    for v in range(5)]
        assert res.rows == expected
        assert execute(d, "SELECT k FROM t WHERE k < 30 ORDER BY k", settings=settings).rows == \
            [(k,) for k in range(30) if k % 7 != 0]


def test_simple_queries_do_not_import_numba():
    import subprocess
    import sys

    code = ("import sys, mergetree; from mergetree.sql import execute; db = mergetree.connect(); "
            "r = execute(db, 'SELECT 1 AS x, 2.5 FORMAT JSON'); r.format(); "
            "print('numba' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_aggregation_across_many_blocks(monkeypatch):
    """numbers() in blocks of 64 rows: the partial states of 16 blocks merge into the same result
    as one block (and as Python computes it)."""
    from mergetree.exec import scan

    sql = ("SELECT number % 7 AS k, count(), sum(number), avg(number), uniqExact(number % 5), max(toString(number)), "
           "argMin(number, number % 11), sumIf(number, number > 500), median(number) FROM numbers(1000) "
           "GROUP BY k ORDER BY k")
    with mergetree.connect(background_merges=False) as d:
        one_block = execute(d, sql).rows
        monkeypatch.setattr(scan, "NUMBERS_BLOCK", 64)
        many_blocks = execute(d, sql).rows
        empty = execute(d, "SELECT count(), sum(number), max(number) FROM numbers(0)").rows
    assert many_blocks == one_block
    xs = [x for x in range(1000) if x % 7 == 0]
    assert one_block[0] == (0, len(xs), sum(xs), sum(xs) / len(xs), 5, "994", 0, sum(x for x in xs if x > 500),
                            float(xs[len(xs) // 2]))
    assert empty == [(0, 0, 0)]


@pytest.mark.parametrize("desc", ["", " DESC"])
def test_read_in_order_reads_few_granules(desc):
    with mergetree.connect(background_merges=False) as d:
        execute(d, "CREATE TABLE t (ts UInt32, v String) ENGINE = MergeTree ORDER BY ts SETTINGS index_granularity = 8")
        for i in range(3):
            execute(d, f"INSERT INTO t SELECT number * 3 + {i}, toString(number) FROM numbers(200)")
        sql = f"SELECT ts, v FROM t ORDER BY ts{desc} LIMIT 5 OFFSET 2"
        on = execute(d, sql)
        off = execute(d, sql, settings={"optimizer_disabled_rules": "read_in_order"})
        assert on.rows == off.rows
        assert [r[0] for r in on.rows] == (list(range(2, 7)) if not desc else list(range(597, 592, -1)))
        assert on.statistics["rows_read"] <= 3 * 8 and off.statistics["rows_read"] == 600
        assert "in_order" in execute(d, f"EXPLAIN {sql}").rows[-1][0]
        # with a WHERE or a non-key ORDER BY, every granule is read
        assert "in_order" not in execute(d, f"EXPLAIN SELECT ts FROM t WHERE v = '1' ORDER BY ts LIMIT 1").rows[-1][0]
        assert "in_order" not in execute(d, f"EXPLAIN SELECT ts FROM t ORDER BY v LIMIT 1").rows[-1][0]


def test_minmax_from_index_reads_only_the_primary_index():
    off = {"optimizer_disabled_rules": "minmax_from_index"}
    with mergetree.connect(background_merges=False) as d:
        execute(d, "CREATE TABLE t (ts DateTime, s String, v Float64) ENGINE = MergeTree ORDER BY (ts, s) "
                   "SETTINGS index_granularity = 8")
        sql = "SELECT min(ts), max(ts), max(ts) - min(ts) FROM t"
        assert execute(d, sql).rows == execute(d, sql, settings=off).rows            # empty table
        for i in range(3):
            execute(d, f"INSERT INTO t SELECT toDateTime('2024-01-01 00:00:00') + number * 7 + {i}, "
                       f"toString(number), number FROM numbers({50 + 30 * i})")
        assert "key_bounds" in execute(d, f"EXPLAIN {sql}").rows[-1][0]
        on = execute(d, sql)
        assert on.rows == execute(d, sql, settings=off).rows
        assert on.rows[0][:2] == (dt.datetime(2024, 1, 1, 0, 0), dt.datetime(2024, 1, 1, 0, 0) + dt.timedelta(seconds=7 * 109 + 2))
        assert on.statistics["rows_read"] == 0
        # a part with deleted rows (here its first and last) is read; the others still are not
        execute(d, "DELETE FROM t WHERE ts IN (toDateTime('2024-01-01 00:00:00'), toDateTime('2024-01-01 00:00:00') + 7 * 109 + 2)")
        on = execute(d, sql)
        assert on.rows == execute(d, sql, settings=off).rows
        assert on.rows[0][:2] == (dt.datetime(2024, 1, 1, 0, 0, 1), dt.datetime(2024, 1, 1, 0, 0) + dt.timedelta(seconds=7 * 108 + 2))
        assert on.statistics["rows_read"] == 50 + 110
        # not rewritten: a WHERE, another column, a non-min/max aggregate (FINAL: the optimizer skips it too,
        # but on a plain MergeTree it is ILLEGAL_FINAL before planning gets there, as in ClickHouse)
        for other in ["SELECT min(ts) FROM t WHERE v > 3", "SELECT min(s), max(s) FROM t", "SELECT min(ts), count() FROM t",
                      "SELECT minIf(ts, v > 3) FROM t"]:
            assert "key_bounds" not in "\n".join(r[0] for r in execute(d, f"EXPLAIN {other}").rows), other
            assert execute(d, other).rows == execute(d, other, settings=off).rows, other
        with pytest.raises(MergeTreeError, match="FINAL"):
            execute(d, "SELECT max(ts) FROM t FINAL")


@pytest.mark.parametrize("fmt,payload", [
    ("CSV", 'k1,"a,b",1.5,2024-01-01\nk2,\\N,\\N,2024-01-02\n'),
    ("CSVWithNames", 'id,s,x,d\nk1,"a,b",1.5,2024-01-01\nk2,\\N,\\N,2024-01-02\n'),
    ("TSV", "k1\ta,b\t1.5\t2024-01-01\nk2\t\\N\t\\N\t2024-01-02\n"),
    ("TabSeparatedWithNamesAndTypes", "id\ts\tx\td\nString\tNullable(String)\tNullable(Float64)\tDate\n"
                                      "k1\ta,b\t1.5\t2024-01-01\nk2\t\\N\t\\N\t2024-01-02\n"),
])
def test_insert_text_formats(fmt, payload):
    with mergetree.connect(background_merges=False) as d:
        execute(d, "CREATE TABLE t (id String, s Nullable(String), x Nullable(Float64), d Date) "
                   "ENGINE = MergeTree ORDER BY id")
        execute(d, f"INSERT INTO t FORMAT {fmt}", data=payload.encode())
        assert execute(d, "SELECT * FROM t ORDER BY id").rows == [
            ("k1", "a,b", 1.5, dt.date(2024, 1, 1)), ("k2", None, None, dt.date(2024, 1, 2))]


def test_insert_tsv_escapes_and_inline_data():
    with mergetree.connect(background_merges=False) as d:
        execute(d, "CREATE TABLE t (s String, n UInt8) ENGINE = MergeTree ORDER BY n")
        execute(d, "INSERT INTO t FORMAT TSV", data=b"tab\\there\t1\nback\\\\slash\t2\n")
        execute(d, "INSERT INTO t (n, s) FORMAT CSV 3,\"q\"\"q\"")
        assert execute(d, "SELECT s FROM t ORDER BY n").rows == [("tab\there",), ("back\\slash",), ('q"q',)]
        with pytest.raises(MergeTreeError, match="row 0 has 1 values, expected 2"):
            execute(d, "INSERT INTO t FORMAT TSV", data=b"only\n")
