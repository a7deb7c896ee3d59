"""Table TTL: expired rows dropped in merges, ttl.txt ranges, whole-part expiry (fixed `now`)."""

import datetime

import numpy as np
import pytest

from mergetree.column import Block
from mergetree.storage import merger, ttl
from mergetree.storage.part import DataPart
from mergetree.storage.part_writer import write_part
from sqlparse_ch.ast.expr import BinaryOp, Identifier, Interval, Literal

from test_merger import make_meta, read_all, write
from test_merging import block


def test_ttl_drops_expired_rows_and_records_range(tmp_path):
    spec = {"k": "UInt32", "ts": "DateTime"}
    meta = make_meta(spec, ["k"], ttl_column="ts")
    p1 = write(tmp_path, meta, spec, [(1, 100), (2, 200), (3, 300)], 1)
    assert ttl.part_ttl_range(p1) == (100, 300)
    assert not ttl.part_fully_expired(p1, meta, now=299)
    assert ttl.part_fully_expired(p1, meta, now=300)  # TTL moment <= now has expired
    res = merger.merge_parts([p1], tmp_path / "tmp_merge", metadata=meta, now=200)
    part, rows = read_all(res.path)
    assert rows == [(3, datetime.datetime(1970, 1, 1, 0, 5))] and res.rows_expired == 2
    assert ttl.part_ttl_range(part) == (300, 300)


def test_ttl_on_date_and_datetime64_columns():
    b = block({"d": "Date", "t": "DateTime64(3)", "n": "Nullable(DateTime)"}, [(1, 1500, None), (2, 2500, 7)])
    assert ttl.ttl_seconds(b["d"]).tolist() == [86400.0, 172800.0]
    assert ttl.ttl_seconds(b["t"]).tolist() == [1.5, 2.5]
    s = ttl.ttl_seconds(b["n"])
    assert np.isnan(s[0]) and s[1] == 7
    assert ttl.ttl_range(s) == (7, ttl.NEVER)
    assert ttl.ttl_range(s[1:]) == (7, 7) and ttl.ttl_range(s[:1]) is None
    with pytest.raises(Exception, match="Date or DateTime"):
        ttl.ttl_seconds(block({"x": "Int32"}, [(1,)])["x"])


def test_part_without_ttl_file_is_evaluated(tmp_path):
    spec = {"k": "UInt32", "ts": "DateTime"}
    meta = make_meta(spec, ["k"], ttl_column="ts")
    b = block(spec, [(1, 10), (2, 20)])
    d = tmp_path / "all_1_1_0"
    write_part(d, b, primary_key=Block({"k": b["k"]}), partition_value=(), minmax={}, index_granularity=8192)
    part = DataPart.open(d)
    assert ttl.part_ttl_range(part) is False
    assert ttl.part_fully_expired(part, meta, now=20) and not ttl.part_fully_expired(part, meta, now=19)


DAY = 86400


def test_interval_ttl_expression_with_fixed_now(tmp_path):
    # TTL ts + INTERVAL 90 DAY, evaluated by the expression engine
    spec = {"k": "UInt32", "ts": "DateTime"}
    meta = make_meta(spec, ["k"])
    meta.ttl_ast = BinaryOp("+", Identifier("ts"), Interval(Literal(90), "DAY"))
    p1 = write(tmp_path, meta, spec, [(1, 0), (2, 10 * DAY), (3, 20 * DAY)], 1)
    p2 = write(tmp_path, meta, spec, [(4, 5 * DAY)], 2)
    assert ttl.part_ttl_range(p1) == (90 * DAY, 110 * DAY)
    now = 100 * DAY  # rows with ts <= 10 days have expired (TTL moment <= now)
    assert ttl.part_fully_expired(p2, meta, now) and not ttl.part_fully_expired(p1, meta, now)
    res = merger.merge_parts([p1, p2], tmp_path / "tmp_merge", metadata=meta, now=now)
    part, rows = read_all(res.path)
    assert [r[0] for r in rows] == [3] and res.rows_expired == 3
    assert ttl.part_ttl_range(part) == (110 * DAY, 110 * DAY)


def test_ttl_is_applied_after_the_engine_rule(tmp_path):
    # ReplacingMergeTree: the newest version has expired, the older one has not. ClickHouse runs TTL on
    # merged rows, so the key disappears instead of resurrecting the old version.
    spec = {"k": "UInt32", "ver": "UInt32", "ts": "DateTime"}
    meta = make_meta(spec, ["k"], "ReplacingMergeTree", ["ver"], ttl_column="ts")
    p1 = write(tmp_path, meta, spec, [(1, 1, 1000)], 1)
    p2 = write(tmp_path, meta, spec, [(1, 2, 10)], 2)
    res = merger.merge_parts([p1, p2], tmp_path / "tmp_merge", metadata=meta, now=500)
    assert read_all(res.path)[1] == [] and res.rows_collapsed == 1 and res.rows_expired == 1


def test_table_without_ttl_writes_no_ttl_file(tmp_path):
    spec = {"k": "UInt32"}
    meta = make_meta(spec, ["k"])
    p = write(tmp_path, meta, spec, [(1,)], 1)
    assert ttl.ttl_extra_files(block(spec, [(1,)]), meta) == {}
    assert ttl.part_ttl_range(p) is False and not ttl.part_fully_expired(p, meta, now=1e12)


def test_null_ttl_never_expires(tmp_path):
    spec = {"k": "UInt32", "ts": "Nullable(DateTime)"}
    meta = make_meta(spec, ["k"], ttl_column="ts")
    p = write(tmp_path, meta, spec, [(1, None), (2, 5)], 1)
    assert ttl.part_ttl_range(p) == (5, ttl.NEVER)
    assert not ttl.part_fully_expired(p, meta, now=1e9)
    res = merger.merge_parts([p], tmp_path / "tmp_merge", metadata=meta, now=1e9)
    assert read_all(res.path)[1] == [(1, None)]


def test_api_ttl_drops_expired_rows_on_optimize(tmp_path):
    import sqlparse_ch

    if not hasattr(sqlparse_ch, "parse_expr"):
        pytest.skip("the SQL expression parser has not landed yet")
    import mergetree

    db = mergetree.connect(tmp_path / "db", background_merges=False)
    try:
        db.create_table("t", "k UInt32, ts DateTime", order_by="k", ttl="ts + INTERVAL 90 DAY")
        db.insert("t", [{"k": 1, "ts": "2000-01-01 00:00:00"}, {"k": 2, "ts": "2100-01-01 00:00:00"}])
        db.optimize("t", final=True)
        assert [r[0] for r in db.read("t").to_pylist_rows()] == [2]
    finally:
        db.close()


def test_fully_expired_parts_are_not_read(tmp_path, monkeypatch):
    spec = {"k": "UInt32", "ts": "DateTime"}
    meta = make_meta(spec, ["k"], ttl_column="ts")
    p1 = write(tmp_path, meta, spec, [(1, 10), (2, 20)], 1)
    p2 = write(tmp_path, meta, spec, [(3, 30)], 2)

    def no_read(*a, **k):
        raise AssertionError("a fully expired part was read")

    monkeypatch.setattr(DataPart, "read", no_read)
    res = merger.merge_parts([p1, p2], tmp_path / "tmp_merge", metadata=meta, now=30)
    assert res.rows == 0 and res.rows_expired == 3
    monkeypatch.undo()
    part, rows = read_all(res.path)
    assert rows == [] and part.rows == 0
    # one part still alive: everything is read and merged normally
    res = merger.merge_parts([p1, p2], tmp_path / "tmp_merge2", metadata=meta, now=25)
    assert read_all(res.path)[1] == [(3, datetime.datetime(1970, 1, 1, 0, 0, 30))]
