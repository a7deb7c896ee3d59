"""Small-input fast paths of the executor against its general paths on random data:

- GROUP BY over small blocks (exec/aggregate.RAW_BLOCK_ROWS): the blocks' rows are aggregated in
  one pass (`compute`) instead of partial states per block + a final merge;
- ORDER BY gathers a column that appears under several names once (exec/sort.take_rows).
"""

from __future__ import annotations

import random

import numpy as np
import pytest

import mergetree
from mergetree import types as T
from mergetree.column import Block, FixedColumn, StringColumn
from mergetree.exec import aggregate

QUERIES = [
    "SELECT k, count() AS c, max(ts) AS m, min(v), sum(v), avg(f), uniqExact(s), argMax(s, ts) "
    "FROM t WHERE u IN ({users}) GROUP BY k ORDER BY c DESC, k",
    "SELECT k, n, count(), sum(f), any(s), groupArray(v), anyLast(ts) FROM t WHERE u IN ({users}) "
    "GROUP BY k, n ORDER BY k, n",
    "SELECT count(), max(ts), sum(v), min(s) FROM t WHERE u IN ({users})",
    "SELECT n, countIf(v > 50), sumIf(f, v < 20) FROM t WHERE u IN ({users}) GROUP BY n ORDER BY n",
    "SELECT k, count() FROM t WHERE u IN ({users}) AND v > 1000 GROUP BY k ORDER BY k",
]


@pytest.fixture(scope="module")
def db():
    rng = random.Random(5)
    d = mergetree.connect()
    d.stop_merges()
    d.create_table("t", "u String, k String, n Nullable(Int32), v UInt32, f Float64, s String, ts DateTime",
                   order_by="u, ts")
    users = [f"user_{i}" for i in range(40)]
    for _ in range(5):                 # several parts: several blocks per query
        rows = 300
        d.insert("t", {
            "u": [rng.choice(users) for _ in range(rows)],
            "k": [rng.choice(["click", "view", "buy", "", "view2"]) for _ in range(rows)],
            "n": [rng.choice([None, 1, 2, 3]) for _ in range(rows)],
            "v": [rng.randrange(100) for _ in range(rows)],
            "f": [rng.randrange(1000) / 8 for _ in range(rows)],      # exact in binary: sums agree in any order
            "s": [rng.choice(["a", "b", "ab", "zz"]) for _ in range(rows)],
            "ts": [1_700_000_000 + rng.randrange(10_000) for _ in range(rows)],
        })
    yield d, users, rng
    d.close()


@pytest.mark.parametrize("query", QUERIES)
def test_one_pass_aggregation_equals_partial_states(db, query, monkeypatch):
    d, users, rng = db
    for _ in range(6):
        picked = ", ".join(f"'{u}'" for u in rng.sample(users, rng.randint(1, 12)))
        sql = query.format(users=picked)
        calls = []
        one_pass = aggregate._one_pass
        monkeypatch.setattr(aggregate, "_one_pass", lambda *a: calls.append(1) or one_pass(*a))
        fast = d.sql(sql).rows
        assert calls or not fast, "the one-pass path was not taken"
        monkeypatch.setattr(aggregate, "RAW_BLOCK_ROWS", -1)        # every block reduced to partial states
        general = d.sql(sql).rows
        monkeypatch.setattr(aggregate, "RAW_TOTAL_ROWS", 50)         # kept blocks reduced part way through
        monkeypatch.setattr(aggregate, "RAW_BLOCK_ROWS", 1024)
        mixed = d.sql(sql).rows
        monkeypatch.undo()
        assert fast == general == mixed, sql


def test_one_pass_by_hand():
    d = mergetree.connect()
    d.stop_merges()
    d.create_table("e", "u String, k String, v UInt32", order_by="u")
    d.insert("e", {"u": ["a", "a", "b"], "k": ["x", "y", "x"], "v": [1, 2, 3]})
    d.insert("e", {"u": ["a", "c"], "k": ["y", "y"], "v": [4, 5]})
    q = "SELECT k, count() AS c, max(v), sum(v) FROM e WHERE u = '{}' GROUP BY k ORDER BY c DESC, k"
    assert d.sql(q.format("a")).rows == [("y", 2, 4, 6), ("x", 1, 1, 1)]
    assert d.sql(q.format("zz")).rows == []
    assert d.sql("SELECT count(), max(v) FROM e WHERE u = 'zz'").rows == [(0, 0)]
    assert d.sql("SELECT count() FROM e WHERE u = 'a'").rows == [(3,)]
    d.close()


def test_take_rows_gathers_shared_columns_once_and_equals_take():
    from mergetree.exec.sort import take_rows

    rng = np.random.default_rng(3)
    for n in (0, 1, 7, 300):
        vals = [bytes(rng.integers(97, 100, rng.integers(0, 4)).astype(np.uint8)) for _ in range(n)]
        offsets = np.zeros(n + 1, np.int64)
        np.cumsum([len(v) for v in vals], out=offsets[1:])
        s = StringColumn(T.String, offsets, np.frombuffer(b"".join(vals), np.uint8).copy())
        x = FixedColumn(T.UInt64, rng.integers(0, 9, n).astype(np.uint64))
        block = Block({"a": s, "b": x, "c": s, "d": x})
        perm = rng.permutation(n)
        got = take_rows(block, perm)
        want = block.take(perm)
        assert got.names == want.names and got.num_rows == n
        for name in want.names:
            assert got[name].to_pylist() == want[name].to_pylist()
        assert got["a"] is got["c"] and got["b"] is got["d"]


def test_small_string_keys_grouped_by_the_bytes_kernel_equal_group_rows():
    """_group_columns' one-kernel path for a short String key gives group_rows' ids (first
    appearance order), group count and first rows; strings differing only by NUL bytes or a prefix
    stay apart."""
    from mergetree.kernels.groupby import group_rows

    rng = random.Random(11)
    pieces = [b"", b"a", b"ab", b"\x00", b"\xff"]
    for _ in range(300):
        n = rng.randint(0, 80)
        vals = [b"".join(rng.choice(pieces) for _ in range(rng.randint(0, 3))) for _ in range(n)]
        offsets = np.zeros(n + 1, np.int64)
        np.cumsum([len(v) for v in vals], out=offsets[1:])
        col = StringColumn(T.String, offsets, np.frombuffer(b"".join(vals), np.uint8).copy())
        ids, g, first = aggregate._group_columns([col])
        want_ids, want_g, want_first = group_rows([col])
        assert (ids.tolist(), g, first.tolist()) == (want_ids.tolist(), want_g, want_first.tolist())
        seen = {}
        assert ids.tolist() == [seen.setdefault(v, len(seen)) for v in vals]       # by Python's bytes equality
        k_ids, k_g, keys = aggregate._group_keys(Block({"s": col}, n), ["s"])
        assert (k_ids.tolist(), k_g) == (ids.tolist(), g)
        assert [bytes(x) for x in keys["s"].to_pybytes()] == list(seen)            # distinct, first-appearance order
