"""Query limits: max_memory_usage (MEMORY_LIMIT_EXCEEDED naming the operator), max_execution_time
(TIMEOUT_EXCEEDED), cancellation through a threading.Event (QUERY_WAS_CANCELLED); each leaves
the database usable. The byte counts are hand-computed from the column widths."""

from __future__ import annotations

import re
import threading

import pytest

import mergetree
from mergetree.exec.context import (MemoryLimitExceededError, QueryLimits, QueryWasCancelledError,
                                    TimeoutExceededError, readable_size)

ROWS = 300_000


@pytest.fixture(scope="module")
def db():
    with mergetree.connect(background_merges=False) as d:
        d.sql("CREATE TABLE t (k UInt64, s String) ENGINE = MergeTree ORDER BY k")
        d.sql(f"INSERT INTO t SELECT number, toString(number) FROM numbers({ROWS})")
        yield d


def _usable(db):
    assert db.sql("SELECT count(), sum(k) FROM t").rows == [(ROWS, ROWS * (ROWS - 1) // 2)]


def test_readable_size_like_clickhouse():
    assert readable_size(512) == "512.00 B"
    assert readable_size(50 * 1024 * 1024) == "50.00 MiB"
    assert readable_size(1.5 * 1024 ** 3) == "1.50 GiB"


@pytest.mark.parametrize("query, operator", [
    ("SELECT k, count() FROM t GROUP BY k", "aggregation"),
    ("SELECT s FROM t ORDER BY s", "sorting"),
    ("SELECT s FROM t ORDER BY s LIMIT 3", "top-N sorting"),
    ("SELECT DISTINCT s FROM t", "DISTINCT"),
    ("SELECT k, s FROM t", "the query result"),
])
def test_memory_limit(db, query, operator):
    # the k column alone is 8 bytes x 300k rows = 2.3 MiB > 1 MiB
    with pytest.raises(MemoryLimitExceededError) as info:
        db.sql(query, settings={"max_memory_usage": 1_000_000})
    assert info.value.code == "MEMORY_LIMIT_EXCEEDED"
    msg = str(info.value)
    assert msg.startswith("Query memory limit exceeded: would use ")
    assert "maximum: 976.56 KiB" in msg and f"while executing {operator}" in msg
    _usable(db)


def test_memory_limit_through_settings_clause_and_set(db):
    with pytest.raises(MemoryLimitExceededError):
        db.sql("SELECT s FROM t ORDER BY s SETTINGS max_memory_usage = 100000")
    with mergetree.connect(background_merges=False) as d2:
        d2.sql("SET max_memory_usage = 1000")
        with pytest.raises(MemoryLimitExceededError):
            d2.sql("SELECT number FROM numbers(1000) ORDER BY number DESC")
        d2.sql("SET max_memory_usage = 0")              # 0 = unlimited, as in ClickHouse
        assert len(d2.sql("SELECT number FROM numbers(1000) ORDER BY number DESC").rows) == 1000


def test_enough_memory_passes(db):
    res = db.sql("SELECT k % 10 AS g, count() FROM t GROUP BY g ORDER BY g", settings={"max_memory_usage": 10 ** 9})
    assert res.rows == [(g, ROWS // 10) for g in range(10)]


def test_timeout(db):
    with pytest.raises(TimeoutExceededError) as info:
        db.sql("SELECT count() FROM numbers(100000000000) WHERE sipHash64(number) = 1",
               settings={"max_execution_time": 0.2})
    assert info.value.code == "TIMEOUT_EXCEEDED"
    assert str(info.value).startswith("Timeout exceeded: elapsed ") and "maximum: 200.000 ms" in str(info.value)
    elapsed_ms = float(re.search(r"elapsed ([0-9.]+) ms", str(info.value)).group(1))
    assert elapsed_ms >= 200                         # it stopped because the limit was reached, not before
    _usable(db)


def test_timeout_on_a_table_scan(db):
    with pytest.raises(TimeoutExceededError):
        db.sql("SELECT sum(k) FROM t SETTINGS max_execution_time = 0.000001")
    _usable(db)


def test_cancel_with_an_event(db):
    cancel = threading.Event()
    timer = threading.Timer(0.2, cancel.set)
    timer.start()
    try:
        with pytest.raises(QueryWasCancelledError) as info:
            db.sql("SELECT count() FROM numbers(100000000000) WHERE sipHash64(number) = 1", cancel=cancel)
    finally:
        timer.cancel()
    assert info.value.code == "QUERY_WAS_CANCELLED" and str(info.value) == "Query was cancelled"
    assert cancel.is_set()                           # stopped by the event, not by anything else
    _usable(db)


def test_cancel_before_start(db):
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(QueryWasCancelledError):
        db.sql("SELECT 1", cancel=cancel)


def test_limits_apply_to_subqueries(db):
    with pytest.raises(MemoryLimitExceededError):
        db.sql("SELECT count() FROM t WHERE k IN (SELECT k FROM t ORDER BY s)",
               settings={"max_memory_usage": 1_000_000})
    _usable(db)


def test_bad_setting_value(db):
    from mergetree.errors import BadArgumentsError

    with pytest.raises(BadArgumentsError, match="max_memory_usage"):
        db.sql("SELECT 1", settings={"max_memory_usage": "lots"})


def test_query_limits_unit():
    lim = QueryLimits({"max_memory_usage": 100})
    lim.track(60, "x")
    lim.release(30)
    lim.track(70, "x")
    assert lim.memory == 100 and lim.peak == 100
    with pytest.raises(MemoryLimitExceededError, match="would use 101.00 B"):
        lim.track(1, "y")


def test_repeated_statement_is_parsed_once(db, monkeypatch):
    import mergetree.sql as S

    calls = []
    real = S.parse
    monkeypatch.setattr(S, "parse", lambda text: calls.append(text) or real(text))
    S._parse_cached.cache_clear()
    q = "SELECT k % 3 AS r, count() FROM t GROUP BY r ORDER BY r"
    first = db.sql(q).rows
    assert db.sql(q).rows == first == [(0, 100000), (1, 100000), (2, 100000)]
    assert calls == [q]
    db.sql("SELECT 1 " + " " * S.PARSE_CACHE_MAX_CHARS)        # long texts are not kept
    db.sql("SELECT 1 " + " " * S.PARSE_CACHE_MAX_CHARS)
    assert len(calls) == 3


def test_cli_setting_flag(capsys):
    from mergetree.cli import main

    rc = main(["sql", "--setting", "max_memory_usage=1000", "SELECT number FROM numbers(100000) ORDER BY number"])
    err = capsys.readouterr().err
    assert rc == 1 and "(MEMORY_LIMIT_EXCEEDED)" in err and "maximum: 1000.00 B" in err
    assert main(["sql", "--setting", "max_threads=1", "SELECT count() FROM numbers(1000)"]) == 0
