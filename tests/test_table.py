"""MergeTreeTable: insert (sort, partition split, commit), reads, snapshots, merges, deletes.

Expected values are computed by hand or by plain Python over the inserted rows, never by the
engine itself.
"""

from __future__ import annotations

import datetime as dt
import os
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mergetree
from mergetree.errors import ConversionError, TooManyPartsError, UnknownColumnError


@pytest.fixture
def db(tmp_path):
    d = mergetree.connect(tmp_path / "db", background_merges=False)
    yield d
    d.close()


def _rows(block, *names):
    return list(zip(*(block[n].to_pylist() for n in names)))


def _part_names(table):
    return [p["name"] for p in table.parts()]


# ---------------------------------------------------------------------------- insert


def test_insert_sorts_by_key_and_names_part_like_clickhouse(db):
    t = db.create_table("t", schema="k UInt32, s String", order_by="k, s")
    db.insert("t", [{"k": 3, "s": "c"}, {"k": 1, "s": "z"}, {"k": 2, "s": "b"}, {"k": 1, "s": "a"}])
    assert _part_names(t) == ["all_1_1_0"]
    assert _rows(t.read(), "k", "s") == [(1, "a"), (1, "z"), (2, "b"), (3, "c")]
    db.insert("t", [{"k": 0, "s": ""}])
    assert _part_names(t) == ["all_1_1_0", "all_2_2_0"]


def test_insert_splits_by_partition_one_part_each(db):
    t = db.create_table("e", schema="ts DateTime, u String", order_by="ts",
                        partition_by="toYYYYMM(ts)")
    rows = [{"ts": "2024-03-05 10:00:00", "u": "a"}, {"ts": "2024-01-31 23:59:59", "u": "b"},
            {"ts": "2024-03-01 00:00:00", "u": "c"}, {"ts": "2024-02-10 12:00:00", "u": "d"}]
    db.insert("e", rows)
    parts = t.parts()
    assert [(p["partition_id"], p["rows"]) for p in parts] == [("202401", 1), ("202402", 1), ("202403", 2)]
    # one block number per partition, all different, level 0
    assert sorted(p["min_block"] for p in parts) == [1, 2, 3]
    assert all(p["min_block"] == p["max_block"] and p["level"] == 0 for p in parts)
    assert [p["partition"] for p in parts] == ["202401", "202402", "202403"]
    march = t.read(columns=["u"], where="toYYYYMM(ts) = 202403")
    assert march["u"].to_pylist() == ["c", "a"]     # sorted by ts inside the part


def test_sorting_key_expression(db):
    t = db.create_table("e", schema="ts DateTime, u String", order_by="toDate(ts), u")
    db.insert("e", [{"ts": "2024-01-02 01:00:00", "u": "a"}, {"ts": "2024-01-01 23:00:00", "u": "z"},
                    {"ts": "2024-01-01 01:00:00", "u": "y"}, {"ts": "2024-01-02 00:30:00", "u": "b"}])
    # (toDate(ts), u): day 1 -> y, z ; day 2 -> a, b
    assert t.read(columns=["u"])["u"].to_pylist() == ["y", "z", "a", "b"]


def test_insert_formats_give_the_same_table(db):
    db.create_table("a", schema="k UInt8, s String", order_by="k")
    db.create_table("b", schema="k UInt8, s String", order_by="k")
    db.create_table("c", schema="k UInt8, s String", order_by="k")
    db.insert("a", [{"k": 2, "s": "x"}, {"k": 1, "s": "y"}])
    db.insert("b", {"k": [2, 1], "s": ["x", "y"]})
    db.insert("c", b'{"k": 2, "s": "x"}\n{"k": "1", "s": "y"}\n')
    expect = [(1, "y"), (2, "x")]
    for name in "abc":
        assert _rows(db.table(name).read(), "k", "s") == expect


def test_bad_value_raises_and_writes_nothing(db):
    t = db.create_table("t", schema="k UInt32, ts DateTime", order_by="k")
    with pytest.raises(ConversionError) as e:
        db.insert("t", [{"k": 1, "ts": "2024-01-01 00:00:00"}, {"k": 2, "ts": "not a date"}])
    assert "ts" in str(e.value) and "1" in str(e.value)
    assert t.parts() == []
    assert not [p for p in os.listdir(t.path) if p.startswith("tmp_")]


def test_default_expression_fills_missing_column(db):
    t = db.create_table("t", schema="k UInt32, d UInt64 DEFAULT k * 10, s String", order_by="k")
    db.insert("t", [{"k": 1}, {"k": 2, "d": 5, "s": "x"}])
    assert _rows(t.read(), "k", "d", "s") == [(1, 10, ""), (2, 5, "x")]


def test_block_numbers_continue_after_reopen(tmp_path):
    db = mergetree.connect(tmp_path, background_merges=False)
    db.create_table("t", schema="k UInt32", order_by="k")
    db.insert("t", {"k": [1]})
    db.insert("t", {"k": [2]})
    db.close()
    db = mergetree.connect(tmp_path, background_merges=False)
    db.insert("t", {"k": [3]})
    assert _part_names(db.table("t")) == ["all_1_1_0", "all_2_2_0", "all_3_3_0"]
    db.close()


# ---------------------------------------------------------------------------- back-pressure


def test_too_many_parts_delays_then_refuses(db, monkeypatch):
    import time as time_module

    sleeps = []
    monkeypatch.setattr(time_module, "sleep", sleeps.append)
    t = db.create_table("t", schema="k UInt32", order_by="k",
                        settings={"parts_to_delay_insert": 2, "parts_to_throw_insert": 4,
                                  "max_delay_to_insert": 0.5, "min_delay_to_insert_ms": 10})
    for i in range(4):          # inserts 3 and 4 see 2 and 3 parts: delayed, then accepted
        db.insert("t", {"k": [i]})
    # ClickHouse's linear delay: max_delay * (parts - delay + 1) / (throw - delay)
    assert sleeps == [0.5 * 1 / 2, 0.5 * 2 / 2]
    assert len(t.parts()) == 4
    with pytest.raises(TooManyPartsError) as e:
        db.insert("t", {"k": [9]})
    msg = str(e.value)
    assert "Too many parts (4)" in msg and "partition all" in msg and "parts_to_throw_insert=4" in msg
    assert e.value.code == "TOO_MANY_PARTS"
    assert len(t.parts()) == 4
    t.optimize(final=True)      # merging brings the partition back under the limit
    db.insert("t", {"k": [9]})
    assert sorted(t.read()["k"].to_pylist()) == [0, 1, 2, 3, 9]


# ---------------------------------------------------------------------------- merges


def test_optimize_final_merges_each_partition_and_bumps_single_part_level(db):
    t = db.create_table("t", schema="p UInt8, k UInt32", order_by="k", partition_by="p")
    db.insert("t", {"p": [0, 1], "k": [5, 6]})      # 0_1_1_0, 1_2_2_0
    db.insert("t", {"p": [0], "k": [1]})           # 0_3_3_0
    db.insert("t", {"p": [0], "k": [3]})           # 0_4_4_0
    assert _part_names(t) == ["0_1_1_0", "0_3_3_0", "0_4_4_0", "1_2_2_0"]
    t.optimize(final=True, partition=0)
    assert _part_names(t) == ["0_1_4_1", "1_2_2_0"]
    assert t.read(columns=["k"], where="p = 0")["k"].to_pylist() == [1, 3, 5]
    t.optimize(final=True)
    # ClickHouse: OPTIMIZE FINAL rewrites even a partition with a single part, level + 1
    assert _part_names(t) == ["0_1_4_2", "1_2_2_1"]
    assert sorted(_rows(t.read(), "p", "k")) == [(0, 1), (0, 3), (0, 5), (1, 6)]
    # sources are outdated and removed from disk (nobody holds them)
    assert sorted(d for d in os.listdir(t.path) if d[0].isdigit()) == ["0_1_4_2", "1_2_2_1"]


def test_background_merge_step_uses_the_selector(db):
    t = db.create_table("t", schema="k UInt32", order_by="k")
    for i in range(6):
        db.insert("t", {"k": [i, 100 - i]})
    assert t.merge_once() is True                    # 6 tiny similar parts: merge them
    parts = t.parts()
    assert len(parts) < 6 and parts[0]["level"] == 1
    assert sorted(t.read()["k"].to_pylist()) == sorted([i for i in range(6)] + [100 - i for i in range(6)])
    while t.merge_once():
        pass
    assert t.merge_once() is False and t.last_merge_decision   # says why nothing was picked


def test_background_worker_merges_and_stop_merges(tmp_path):
    db = mergetree.connect(tmp_path, merge_interval=0.01)
    try:
        t = db.create_table("t", schema="k UInt32", order_by="k")
        db.stop_merges()
        for i in range(8):
            db.insert("t", {"k": [i]})
        assert len(t.parts()) == 8                   # stopped: nothing merges
        db.start_merges()
        for _ in range(2000):
            if len(t.parts()) < 8 and db.merger.merges_done > 0:
                break
            threading.Event().wait(0.01)
        assert len(t.parts()) < 8
        assert sorted(t.read()["k"].to_pylist()) == list(range(8))
    finally:
        db.close()


# ---------------------------------------------------------------------------- snapshots


def test_snapshot_keeps_outdated_parts_until_released(db):
    t = db.create_table("t", schema="k UInt32", order_by="k")
    db.insert("t", {"k": [1, 2]})
    db.insert("t", {"k": [3]})
    snap = t.snapshot()
    db.insert("t", {"k": [4]})                      # not in the snapshot
    t.optimize(final=True)
    assert _part_names(t) == ["all_1_3_1"]
    # the snapshot still reads its parts, from disk
    assert [p.name for p in snap.parts] == ["all_1_1_0", "all_2_2_0"]
    assert sorted(sum((p.read(["k"])["k"].to_pylist() for p in snap.parts), [])) == [1, 2, 3]
    assert (t.path / "all_1_1_0").is_dir()
    outdated = [p["name"] for p in t.parts(active_only=False) if not p["active"]]
    assert outdated == ["all_1_1_0", "all_2_2_0"]
    snap.release()
    assert not (t.path / "all_1_1_0").exists() and not (t.path / "all_2_2_0").exists()
    assert (t.path / "all_3_3_0").exists() is False
    assert sorted(t.read()["k"].to_pylist()) == [1, 2, 3, 4]


# ---------------------------------------------------------------------------- reads


def test_read_where_prunes_granules_and_is_exact(db):
    t = db.create_table("t", schema="k UInt32, v String", order_by="k", settings={"index_granularity": 10})
    ks = list(range(0, 1000))
    db.insert("t", {"k": ks, "v": [f"v{k}" for k in ks]})
    block, stats = t.read(columns=["v"], where="k >= 105 AND k < 117", with_stats=True)
    assert block["v"].to_pylist() == [f"v{k}" for k in range(105, 117)]
    assert stats.granules_total == 100
    assert stats.granules_read <= 3            # granules 10 and 11 (+ at most one neighbour)
    assert stats.rows_read <= 30 and stats.rows == 12
    none, stats = t.read(where="k > 5000", with_stats=True)
    assert none.num_rows == 0 and stats.granules_read == 0


def test_read_partition_pruning(db):
    t = db.create_table("e", schema="ts DateTime, n UInt32", order_by="n", partition_by="toYYYYMM(ts)")
    db.insert("e", {"ts": ["2024-01-05 00:00:00", "2024-02-05 00:00:00", "2024-03-05 00:00:00"], "n": [1, 2, 3]})
    block, stats = t.read(columns=["n"], where="ts >= '2024-02-01 00:00:00' AND ts < '2024-03-01 00:00:00'",
                          with_stats=True)
    assert block["n"].to_pylist() == [2]
    assert stats.parts_total == 3 and stats.parts_read == 1


def test_read_unknown_column(db):
    t = db.create_table("t", schema="k UInt32", order_by="k")
    with pytest.raises(UnknownColumnError):
        t.read(columns=["nope"])


def test_final_applies_replacing_across_parts(db):
    t = db.create_table("r", schema="id UInt32, v String, ver UInt32", engine="ReplacingMergeTree(ver)",
                        order_by="id")
    db.insert("r", [{"id": 1, "v": "old", "ver": 1}, {"id": 2, "v": "two", "ver": 1}])
    db.insert("r", [{"id": 1, "v": "new", "ver": 2}])
    db.insert("r", [{"id": 2, "v": "stale", "ver": 0}])
    assert t.read().num_rows == 4                      # no FINAL: every version
    assert _rows(t.read(final=True), "id", "v") == [(1, "new"), (2, "two")]
    assert _rows(t.read(columns=["v"], where="id = 1", final=True), "v") == [("new",)]
    # WHERE is applied after FINAL (ClickHouse): the old version is not resurrected
    assert t.read(where="v = 'old'", final=True).num_rows == 0
    t.optimize(final=True)
    assert _rows(t.read(), "id", "v") == [(1, "new"), (2, "two")]


def test_optimize_on_insert_collapses_inside_one_block(db):
    t = db.create_table("s", schema="k String, n UInt64", engine="SummingMergeTree", order_by="k")
    db.insert("s", {"k": ["a", "b", "a"], "n": [1, 2, 3]})
    assert t.parts()[0]["rows"] == 2
    assert _rows(t.read(), "k", "n") == [("a", 4), ("b", 2)]


# ---------------------------------------------------------------------------- deletes, partitions


def test_lightweight_delete_masks_then_merge_drops(db):
    t = db.create_table("t", schema="k UInt32, u String", order_by="k")
    db.insert("t", {"k": [1, 2, 3], "u": ["a", "b", "a"]})
    db.insert("t", {"k": [4], "u": ["a"]})
    db.delete("t", "u = 'a'")
    assert _rows(t.read(), "k") == [(2,)]
    assert t.count() == 1
    assert sum(p["rows"] for p in t.parts()) == 4            # masked, not yet removed
    db.insert("t", {"k": [5], "u": ["a"]})                  # later insert: not affected
    assert sorted(_rows(t.read(), "k")) == [(2,), (5,)]
    t.optimize(final=True)
    assert sum(p["rows"] for p in t.parts()) == 2
    assert sorted(_rows(t.read(), "k", "u")) == [(2, "b"), (5, "a")]


def test_drop_partition_and_truncate_survive_reopen(tmp_path):
    db = mergetree.connect(tmp_path, background_merges=False)
    t = db.create_table("t", schema="p UInt8, k UInt32", order_by="k", partition_by="p")
    db.insert("t", {"p": [0, 1, 2], "k": [10, 11, 12]})
    db.insert("t", {"p": [1], "k": [13]})
    assert db.drop_partition("t", 1) == 2
    assert sorted(_rows(t.read(), "p", "k")) == [(0, 10), (2, 12)]
    assert {p["partition_id"] for p in t.parts()} == {"0", "2"}
    db.close()
    db = mergetree.connect(tmp_path, background_merges=False)
    t = db.table("t")
    assert sorted(_rows(t.read(), "p", "k")) == [(0, 10), (2, 12)]
    db.truncate("t")
    assert t.read().num_rows == 0 and t.parts() == []
    db.insert("t", {"p": [1], "k": [1]})
    db.close()
    db = mergetree.connect(tmp_path, background_merges=False)
    assert _rows(db.table("t").read(), "p", "k") == [(1, 1)]
    db.close()


def test_parts_like_system_parts(db):
    t = db.create_table("t", schema="d Date, k UInt32", order_by="k", partition_by="d",
                        settings={"index_granularity": 2})
    db.insert("t", {"d": ["2024-05-01"] * 5, "k": [1, 2, 3, 4, 5]})
    [p] = t.parts()
    assert p["name"] == "20240501_1_1_0" and p["partition_id"] == "20240501"
    assert p["partition"] == "2024-05-01"
    assert p["partition_value"] == (dt.date(2024, 5, 1),)
    assert p["rows"] == 5 and p["marks"] == 3 and p["level"] == 0 and p["active"] is True
    assert p["bytes_on_disk"] > 0 and p["min_block"] == 1 and p["max_block"] == 1
    assert p["modification_time"] > 0


def test_partition_given_as_value_text_or_id(db):
    t = db.create_table("t", schema="d Date, s String, k UInt32", order_by="k", partition_by="(d, s)")
    db.insert("t", {"d": ["2024-05-01", "2024-05-01", "2024-05-02"], "s": ["a", "b", "a"], "k": [1, 2, 3]})
    assert len(t.parts()) == 3
    assert t.drop_partition(("2024-05-01", "a")) == 1                 # text converted to Date
    assert t.drop_partition((dt.date(2024, 5, 2), "a")) == 1
    [left] = t.parts()
    assert left["partition_value"] == (dt.date(2024, 5, 1), "b")
    assert left["partition"] == "('2024-05-01','b')"          # as system.parts prints it (chDB 26.9)
    assert t.drop_partition(left["partition_id"]) == 1                  # by id
    assert t.read().num_rows == 0


# ---------------------------------------------------------------------------- the insert sort


@pytest.mark.parametrize("seed", range(6))
def test_sort_permutation_equals_full_lexsort(seed):
    """The tie-refining sort gives exactly the stable lexsort over all keys."""
    import numpy as np

    from mergetree.column import column_from_values
    from mergetree.storage.table import sort_permutation

    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 400))
    a = rng.integers(0, 1 + seed * 3, n).tolist()              # few values: many ties
    s = [("x" * int(k)) + chr(97 + int(k) % 3) for k in rng.integers(0, 4, n)]
    b = rng.integers(-5, 5, n).tolist()
    cols = [column_from_values("UInt16", a), column_from_values("String", s), column_from_values("Int8", b)]
    rows = list(zip(a, s, b))
    expected = sorted(range(n), key=lambda i: rows[i])         # Python's sort is stable
    perm = sort_permutation(cols, n)
    got = list(range(n)) if perm is None else perm.tolist()
    assert got == expected
    # string first (no cheap prefix), all-numeric keys, a constant leading key
    const = column_from_values("UInt32", [7] * n)
    cols.append(const)
    rows = [r + (7,) for r in rows]
    for order in ([1, 0, 2], [0, 2], [3, 1, 2], [3, 0, 1], [3]):
        expected = sorted(range(n), key=lambda i: tuple(rows[i][j] for j in order))
        perm = sort_permutation([cols[j] for j in order], n)
        assert (list(range(n)) if perm is None else perm.tolist()) == expected


# ---------------------------------------------------------------------------- TTL


def test_ttl_merges_drop_expired_rows_and_whole_parts(db):
    t = db.create_table("t", schema="ts DateTime, k UInt32", order_by="k", ttl="ts + INTERVAL 1 DAY")
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)
    old = (now - dt.timedelta(days=3)).strftime("%Y-%m-%d %H:%M:%S")
    fresh = (now + dt.timedelta(days=3)).strftime("%Y-%m-%d %H:%M:%S")
    db.insert("t", {"ts": [old, old], "k": [1, 2]})              # all expired
    db.insert("t", {"ts": [old, fresh], "k": [3, 4]})            # half expired
    assert t.read().num_rows == 4                                # TTL acts in merges, not reads
    assert t.merge_once() is True and "TTL" in t.last_merge_decision
    assert t.merge_once() is True and "TTL" in t.last_merge_decision
    assert sorted(t.read()["k"].to_pylist()) == [4]
    while t.merge_once():
        pass
    assert [p["rows"] for p in t.parts()] == [1]                 # the emptied part was retired
    t.optimize(final=True)
    assert t.read()["k"].to_pylist() == [4]


def test_insert_whose_rows_cancel_writes_no_part(db):
    t = db.create_table("c", schema="k UInt8, sign Int8", engine="CollapsingMergeTree(sign)", order_by="k")
    db.insert("c", {"k": [1, 1], "sign": [1, -1]})
    assert t.parts() == [] and t.read().num_rows == 0


def test_minmax_index_of_partition_columns(db):
    t = db.create_table("e", schema="ts DateTime, k UInt32", order_by="k", partition_by="toYYYYMM(ts)")
    db.insert("e", {"ts": ["2024-01-20 00:00:00", "2024-01-03 05:00:00", "2024-01-31 23:00:00"], "k": [1, 2, 3]})
    [part] = t.active_parts()
    assert part.minmax == {"ts": (dt.datetime(2024, 1, 3, 5), dt.datetime(2024, 1, 31, 23))}


# ---------------------------------------------------------------------------- failures mid-insert


def test_failed_part_write_leaves_nothing_and_partitions_are_independent(db, monkeypatch):
    from mergetree.storage import part_writer

    t = db.create_table("t", schema="p UInt8, k UInt32", order_by="k", partition_by="p")
    real = part_writer.write_part
    calls = []

    def flaky(tmp_dir, block, **kwargs):
        calls.append(block.num_rows)
        if len(calls) == 2:                       # the second partition hits a full disk
            tmp_dir.mkdir()
            (tmp_dir / "k.bin").write_bytes(b"partial")
            raise OSError(28, "No space left on device")
        return real(tmp_dir, block, **kwargs)

    monkeypatch.setattr(part_writer, "write_part", flaky)
    with pytest.raises(OSError):
        db.insert("t", {"p": [0, 1, 0, 1], "k": [1, 2, 3, 4]})
    # atomic per partition (as ClickHouse): partition 0 committed whole, partition 1 not at all
    assert _rows(t.read(), "p", "k") == [(0, 1), (0, 3)]
    assert not [d for d in os.listdir(t.path) if d.startswith("tmp_")]
    monkeypatch.setattr(part_writer, "write_part", real)
    db.insert("t", {"p": [1], "k": [9]})
    assert [p["name"] for p in t.parts()] == ["0_1_1_0", "1_2_2_0"]


def test_read_no_columns_counts_rows(db):
    """SELECT count() reads no column: the block still carries the row count."""
    t = db.create_table("t", schema="k UInt32, u String", order_by="k", settings={"index_granularity": 2})
    db.insert("t", {"k": [1, 2, 3, 4, 5], "u": ["a", "b", "a", "b", "a"]})
    db.delete("t", "k = 2")
    assert t.read(columns=[]).num_rows == 4
    assert t.read(columns=[], where="u = 'a'").num_rows == 3
    assert t.read(columns=[], final=True).num_rows == 4
    assert t.count() == 4 and t.count("k > 3") == 2


# ---------------------------------------------------------------------------- FINAL with pruning

@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=st.lists(st.lists(st.tuples(st.integers(0, 30), st.integers(0, 5)), min_size=1, max_size=12),
                        min_size=1, max_size=5),
       low=st.integers(0, 30), width=st.integers(0, 12))
def test_final_with_key_pruning_matches_a_model(tmp_path_factory, batches, low, width):
    """FINAL over granules pruned by the primary key equals ReplacingMergeTree's rule on all rows."""
    db = mergetree.connect(tmp_path_factory.mktemp("final"), background_merges=False)
    try:
        t = db.create_table("r", schema="k UInt32, ver UInt32, tag String", engine="ReplacingMergeTree(ver)",
                            order_by="k", settings={"index_granularity": 2})
        best: dict[int, tuple[int, str]] = {}
        for b, rows in enumerate(batches):
            tags = [f"b{b}r{i}" for i in range(len(rows))]
            db.insert("r", {"k": [k for k, _ in rows], "ver": [v for _, v in rows], "tag": tags})
            # within one insert block, optimize_on_insert keeps the last row of the max version too
            for (k, v), tag in zip(rows, tags):
                if k not in best or v >= best[k][0]:
                    best[k] = (v, tag)
        where = f"k >= {low} AND k < {low + width}"
        got = sorted(t.read(where=where, final=True).to_pylist_rows())
        want = sorted((k, v, tag) for k, (v, tag) in best.items() if low <= k < low + width)
        assert got == want
    finally:
        db.close()


def test_failing_background_merge_backs_off_and_keeps_parts(tmp_path, monkeypatch):
    from mergetree.storage import merger

    db = mergetree.connect(tmp_path, background_merges=False)
    try:
        t = db.create_table("t", schema="k UInt32", order_by="k")
        for i in range(6):
            db.insert("t", {"k": [i]})

        def broken(*args, **kwargs):
            raise RuntimeError("merge exploded")

        monkeypatch.setattr(merger, "merge_parts", broken)
        assert db.merger.run_round() == 0 and db.merger.errors == 1
        assert db.merger.run_round() == 0 and db.merger.errors == 1     # backing off: not retried
        assert len(t.parts()) == 6                                       # nothing lost or half-done
        assert not [d for d in os.listdir(t.path) if d.startswith("tmp_")]
        monkeypatch.undo()
        db.merger._backoff.clear()
        assert db.merger.run_round() >= 1
        assert sorted(t.read()["k"].to_pylist()) == list(range(6))
    finally:
        db.close()
