"""Window functions: numba kernels against plain-numpy twins, the fast aggregate paths against the
aggregate registry (generic path), and a randomized differential test against chDB (ClickHouse
26.9) on random tables with random window specs and frames."""

from __future__ import annotations

import random
import tempfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mergetree
from mergetree import types as T
from mergetree.column import FixedColumn
from mergetree.errors import MergeTreeError
from mergetree.exec import window as W
from mergetree.kernels import window as K
from mergetree.sql import execute

# ---------------------------------------------------------------------------- twins


def range_bounds_numpy(values, lo, hi, offset, strict):
    out = np.empty(len(values), np.int64)
    for i in range(len(values)):
        seg = values[lo[i]:hi[i]]
        out[i] = lo[i] + np.searchsorted(seg, values[i] + offset, side="right" if strict else "left")
    return out


def range_scan_python(values, nulls, part_start, part_end, offset, add, direction, is_end):
    """Twin of kernels.window.range_scan (ClickHouse's forward-moving frame pointers)."""
    def compare(j, i):
        if nulls[j]:
            return 0 if nulls[i] else -1
        if nulls[i]:
            return 1
        ref = values[i] + offset if add else values[i] - offset
        return -1 if values[j] < ref else (0 if values[j] == ref else 1)

    out, pos, part = [], 0, -1
    for i in range(len(values)):
        if part_start[i] != part:
            part = pos = part_start[i]
        while pos < part_end[i]:
            c = compare(pos, i) * direction
            if (is_end and c > 0) or (not is_end and c >= 0):
                break
            pos += 1
        out.append(pos)
    return out


def frame_sum_float_numpy(values, start, end):
    """ClickHouse's float running state: add entering rows while the frame start stays, else re-sum."""
    out = np.zeros(len(start))
    acc, ps, pe = 0.0, -1, -1
    for i in range(len(start)):
        s, e = int(start[i]), int(end[i])
        if s == ps and e >= pe:
            for j in range(pe, e):
                acc += float(values[j])
        else:
            acc = 0.0
            for j in range(s, e):
                acc += float(values[j])
        ps, pe = (s, e) if e >= s else (-1, -1)
        acc = acc if e >= s else 0.0
        out[i] = acc
    return out


def sliding_extreme_numpy(values, start, end, is_max):
    out = np.zeros(len(start), values.dtype)
    has = np.zeros(len(start), bool)
    for i in range(len(start)):
        seg = values[start[i]:end[i]]
        if len(seg):
            out[i] = seg.max() if is_max else seg.min()
            has[i] = True
    return out, has


def _partitions(rng, n):
    """Random sorted partition layout: (part_start, part_end) per row."""
    cuts = np.sort(rng.choice(np.arange(1, n), size=min(n - 1, rng.integers(0, 6)), replace=False)) if n > 1 else []
    bounds = np.concatenate([[0], cuts, [n]]).astype(np.int64)
    part_no = np.repeat(np.arange(len(bounds) - 1), np.diff(bounds))
    return bounds[:-1][part_no], bounds[1:][part_no]


def _rows_frame(n, ps, pe, a, b):
    """ROWS BETWEEN a AND b (signed offsets, a <= b) clipped to the partitions."""
    i = np.arange(n, dtype=np.int64)
    return np.clip(i + a, ps, pe), np.clip(i + b + 1, ps, pe)


@pytest.mark.parametrize("seed", range(20))
def test_kernels_match_numpy_twins(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 60))
    ps, pe = _partitions(rng, n)
    a = int(rng.integers(-5, 3))
    b = a + int(rng.integers(0, 5))
    s, e = _rows_frame(n, ps, pe, a, b)
    f = rng.choice([0.1, 0.2, 0.3, 1e16, -0.7, 2.5], size=n)
    np.testing.assert_array_equal(K.frame_sum_float(f, s, e), frame_sum_float_numpy(f, s, e))
    ints = rng.integers(-50, 50, size=n)
    for is_max in (False, True):
        got = K.sliding_extreme(ints, s, e, is_max)
        want = sliding_extreme_numpy(ints, s, e, is_max)
        np.testing.assert_array_equal(got[1], want[1])
        np.testing.assert_array_equal(got[0][want[1]], want[0][want[1]])
    # sorted values inside each partition for RANGE bounds
    vals = np.concatenate([np.sort(rng.integers(-10, 10, size=int(hi - lo)))
                           for lo, hi in sorted(set(zip(ps.tolist(), pe.tolist())))]).astype(np.int64)
    for off in (-3, 0, 2):
        for strict in (False, True):
            np.testing.assert_array_equal(K.range_bounds(vals, ps, pe, np.int64(off), strict),
                                          range_bounds_numpy(vals, ps, pe, off, strict))
    fv = vals.astype(np.float64) / 2
    np.testing.assert_array_equal(K.range_bounds(fv, ps, pe, -1.5, True), range_bounds_numpy(fv, ps, pe, -1.5, True))
    # the forward scan equals the binary search without NULLs, and its twin with NULLs (sorted last)
    no_nulls = np.zeros(n, bool)
    for off in (0, 1, 3):
        for is_end in (False, True):
            np.testing.assert_array_equal(K.range_scan(vals, no_nulls, ps, pe, np.int64(off), is_end, 1, is_end),
                                          range_bounds_numpy(vals, ps, pe, off if is_end else -off, is_end))
    nulls = np.zeros(n, bool)
    for lo, hi in set(zip(ps.tolist(), pe.tolist())):
        k = int(rng.integers(0, hi - lo + 1))
        nulls[hi - k:hi] = True
    for add in (False, True):
        for direction in (1, -1):
            for is_end in (False, True):
                got = K.range_scan(vals * direction, nulls, ps, pe, np.int64(2), add, direction, is_end)
                want = range_scan_python((vals * direction).tolist(), nulls.tolist(), ps.tolist(), pe.tolist(), 2,
                                         add, direction, is_end)
                assert got.tolist() == want


def test_ntile_matches_definition():
    for size in range(1, 12):
        for buckets in range(1, 14):
            got = W.ntile(buckets, np.arange(size), np.full(size, size))
            q, r = divmod(size, buckets)
            want = []
            for bucket in range(min(buckets, size)):
                want += [bucket + 1] * (q + (1 if bucket < r else 0))
            assert got.tolist() == want, (size, buckets)


@pytest.mark.parametrize("name,dtype", [("sum", "Int32"), ("sum", "UInt8"), ("sum", "Float64"), ("avg", "Int64"),
                                        ("avg", "Float32"), ("min", "Int16"), ("max", "Float64"),
                                        ("count", "Int32"), ("any", "UInt32"), ("anyLast", "Float64")])
def test_fast_aggregates_equal_registry(name, dtype):
    """The vectorized paths give the aggregate registry's results (generic path) exactly."""
    from mergetree.functions.aggregate import get_aggregate

    rng = np.random.default_rng(7)
    n = 80
    t = T.parse_type(dtype)
    values = (rng.integers(0, 100, size=n) * (1 if t.dtype.kind != "f" else 0.25)).astype(t.dtype)
    col = FixedColumn(t, values)
    ps, pe = _partitions(rng, n)
    change = np.zeros(n, bool)
    change[np.unique(ps)] = True
    runs = W.Runs(n, change, change.copy())
    fn = get_aggregate(name, [t])
    for a, b in [(-3, -1), (-2, 2), (0, 0), (1, 4), (-100, 0), (0, 100)]:
        s, e = _rows_frame(n, ps, pe, a, b)
        fast = W._fast_aggregate(name, values, s, e, np.maximum(e - s, 0), fn.type) if name != "count" else \
            W._fixed(fn.type, np.maximum(e - s, 0))
        slow = W.generic_aggregate(fn, [col], runs, s, e)
        assert fast.to_pylist() == slow.to_pylist() or \
            np.allclose(np.array(fast.to_pylist(), float), np.array(slow.to_pylist(), float), equal_nan=True)


def test_generic_batches_split_large_frames(monkeypatch):
    from mergetree.functions.aggregate import get_aggregate

    monkeypatch.setattr(W, "GENERIC_BATCH_ROWS", 7)
    n = 30
    col = FixedColumn(T.Int64, np.arange(n, dtype=np.int64))
    change = np.zeros(n, bool)
    change[0] = True
    runs = W.Runs(n, change, np.ones(n, bool))
    s, e = np.zeros(n, np.int64), np.arange(1, n + 1, dtype=np.int64)
    res = W.generic_aggregate(get_aggregate("groupArray", [T.Int64]), [col], runs, s, e)
    assert res.to_pylist() == [list(range(i + 1)) for i in range(n)]


# ---------------------------------------------------------------------------- SQL


def test_explain_shows_window_node():
    with mergetree.connect(background_merges=False) as db:
        text = execute(db, "EXPLAIN SELECT number, sum(number) OVER w FROM numbers(3) "
                           "WINDOW w AS (PARTITION BY number % 2 ORDER BY number ROWS 1 PRECEDING)").format().decode()
    assert "Window partition=[" in text and "ROWS BETWEEN 1 PRECEDING AND CURRENT ROW" in text


def test_window_column_names_as_clickhouse(chdb_query):
    sql = ("SELECT sum(number) OVER (PARTITION BY number % 2 ORDER BY number DESC ROWS BETWEEN 1 PRECEDING AND "
           "CURRENT ROW), count() OVER (), rank() OVER w, lag(number, 1, 0) OVER (ORDER BY number) "
           "FROM numbers(3) WINDOW w AS (ORDER BY number) FORMAT TSVWithNames")
    with mergetree.connect(background_merges=False) as db:
        got = execute(db, sql).format().decode().splitlines()[0]
    assert got == chdb_query(sql.replace(" FORMAT TSVWithNames", ""), "TSVWithNames").splitlines()[0]


# ---------------------------------------------------------------------------- differential vs chDB

chdb = pytest.importorskip("chdb")

SCHEMA = "id UInt32, p Nullable(Int8), o Int16, v Int64, f Float64, n Nullable(Int32), s String"
FUNCS_ORDERED = ["row_number()", "groupArray(o)", "lagInFrame(v)", "leadInFrame(s, 2, 'z')", "lag(n, 2)",
                 "lead(v, 1, -1)", "nth_value(s, 2)", "first_value(n)", "last_value(n)", "ntile(3)"]
FUNCS_ANY = ["rank()", "dense_rank()", "percent_rank()", "cume_dist()", "count()", "sum(v)", "avg(v)", "min(v)",
             "max(f)", "sum(f)", "avg(f)", "sum(n)", "min(n)", "max(s)", "uniqExact(o)",
             "argMax(id, v * 100 + id)", "sumIf(v, o > 0)"]
BOUNDS = ["UNBOUNDED PRECEDING", "3 PRECEDING", "1 PRECEDING", "CURRENT ROW", "1 FOLLOWING", "2 FOLLOWING",
          "UNBOUNDED FOLLOWING"]


@pytest.fixture(scope="module")
def chdb_session():
    from chdb import session

    tmp = tempfile.TemporaryDirectory()
    sess = session.Session(tmp.name)
    yield sess
    sess.close()
    tmp.cleanup()


def _values(rng: random.Random, n: int) -> str:
    rows = []
    for i in range(n):
        p = rng.choice(["NULL", "0", "1", "2"])
        n_ = rng.choice(["NULL", str(rng.randrange(-5, 5))])
        f = rng.choice(["0.5", "-1.25", "3", "0.1", "0.2", "1e15"])
        rows.append(f"({i}, {p}, {rng.randrange(-4, 5)}, {rng.randrange(-100, 100)}, {f}, {n_}, "
                    f"'{rng.choice(['a', 'b', '', 'cd'])}')")
    return ", ".join(rows)


def _frame(rng: random.Random, unit: str) -> str:
    while True:
        a, b = sorted(rng.sample(range(len(BOUNDS)), 2) if rng.random() < 0.8 else [rng.randrange(len(BOUNDS))] * 2)
        if BOUNDS[a] == "UNBOUNDED FOLLOWING" or BOUNDS[b] == "UNBOUNDED PRECEDING":
            continue
        return f"{unit} BETWEEN {BOUNDS[a]} AND {BOUNDS[b]}"


def _query(rng: random.Random) -> str:
    part = rng.choice(["", "PARTITION BY p", "PARTITION BY p, o % 2", "PARTITION BY s"])
    desc = rng.choice(["", " DESC"])
    kind = rng.random()
    if kind < 0.35:      # total order: any function, ROWS or RANGE frames
        fn = rng.choice(FUNCS_ORDERED + FUNCS_ANY)
        order = f"ORDER BY o{desc}, id"
        frame = "" if fn.split("(")[0] in ("lag", "lead", "ntile") or rng.random() < 0.3 else \
            _frame(rng, rng.choice(["ROWS", "RANGE"]))
    elif kind < 0.7:     # peers: RANGE frames on one key with offsets (NULL keys too)
        fn = rng.choice(FUNCS_ANY)
        order = f"ORDER BY {rng.choice(['o', 'o', 'n'])}{desc}{rng.choice(['', '', ' NULLS FIRST'])}"
        frame = rng.choice(["", _frame(rng, "RANGE")])
    else:                # no ORDER BY: the whole partition
        fn = rng.choice(FUNCS_ANY)
        order, frame = "", ""
    spec = " ".join(x for x in (part, order, frame) if x)
    return f"SELECT id, {fn} OVER ({spec}) FROM r ORDER BY id"


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**31 - 1))
def test_random_windows_match_chdb(chdb_session, seed):
    check_random_windows(chdb_session, seed)


@pytest.mark.slow
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**31 - 1))
def test_random_windows_match_chdb_soak(chdb_session, seed):
    check_random_windows(chdb_session, seed)


def check_random_windows(chdb_session, seed):
    rng = random.Random(seed)
    data = _values(rng, rng.randrange(0, 40))
    stmts = ["DROP TABLE IF EXISTS r", f"CREATE TABLE r ({SCHEMA}) ENGINE = MergeTree ORDER BY id"]
    if data:
        stmts.append(f"INSERT INTO r VALUES {data}")
    queries = [_query(rng) for _ in range(4)]
    with mergetree.connect(background_merges=False) as db:
        for s in stmts:
            chdb_session.query(s)
            execute(db, s)
        for q in queries:
            try:
                want = chdb_session.query(q, "TabSeparated").bytes().decode()
            except Exception as err:     # ClickHouse rejects it: so must we, with the same error name
                with pytest.raises(MergeTreeError) as info:
                    execute(db, q)
                assert f"({info.value.code})" in str(err), (q, str(err), info.value)
                continue
            got = execute(db, q).format("TabSeparated").decode()
            if got != want and ("f)" in q):   # float sums: ClickHouse's own rounding, compare numerically
                g = [line.split("\t") for line in got.splitlines()]
                w = [line.split("\t") for line in want.splitlines()]
                assert len(g) == len(w), q
                for a, b in zip(g, w):
                    assert a[0] == b[0] and np.isclose(float(a[1]), float(b[1]), equal_nan=True), (q, a, b)
                continue
            assert got == want, q


@pytest.mark.parametrize("name", ["sum", "avg", "min", "max", "count"])
@pytest.mark.parametrize("inner", ["Int32", "UInt16", "Float64"])
def test_fast_nullable_aggregates_equal_registry(name, inner):
    from mergetree.column import NullableColumn
    from mergetree.functions.aggregate import get_aggregate

    rng = np.random.default_rng(11)
    n = 60
    it = T.parse_type(inner)
    t = T.parse_type(f"Nullable({inner})")
    values = (rng.integers(0, 50, size=n) * (0.5 if it.dtype.kind == "f" else 1)).astype(it.dtype)
    col = NullableColumn(t, FixedColumn(it, values), rng.random(n) < 0.4)
    ps, pe = _partitions(rng, n)
    change = np.zeros(n, bool)
    change[np.unique(ps)] = True
    runs = W.Runs(n, change, change.copy())
    fn = get_aggregate(name, [t])
    for a, b in [(-3, -1), (-2, 2), (0, 0), (1, 4), (-100, 0)]:
        s, e = _rows_frame(n, ps, pe, a, b)
        fast = W._fast_nullable(name, col, s, e, fn.type)
        slow = W.generic_aggregate(fn, [col], runs, s, e)
        assert fast.type == slow.type
        assert fast.to_pylist() == slow.to_pylist(), (a, b)


def test_running_distinct_equals_registry():
    from mergetree.column import column_from_values
    from mergetree.functions.aggregate import get_aggregate

    rng = np.random.default_rng(5)
    n = 70
    words = [None, "a", "b", "", "cc", "d"]
    col = column_from_values("Nullable(String)", [words[i] for i in rng.integers(0, len(words), size=n)])
    ps, pe = _partitions(rng, n)
    change = np.zeros(n, bool)
    change[np.unique(ps)] = True
    runs = W.Runs(n, change, change.copy())
    fn = get_aggregate("uniqExact", [col.type])
    for b in (0, 2, 100):
        s, e = _rows_frame(n, ps, pe, -1000, b)
        assert np.array_equal(s, runs.part_start)
        fast = W._running_distinct([col], runs, e, fn.type)
        slow = W.generic_aggregate(fn, [col], runs, s, e)
        assert fast.to_pylist() == slow.to_pylist()


def test_scan_reads_only_the_window_inputs():
    with mergetree.connect(background_merges=False) as db:
        execute(db, "CREATE TABLE wide (a Int32, b String, c Float64, d Date, e String) ENGINE = MergeTree ORDER BY a")
        plan = execute(db, "EXPLAIN SELECT a, row_number() OVER (PARTITION BY b ORDER BY c) FROM wide").format()
        assert "ReadFromMergeTree wide columns=[a, b, c]" in plan.decode()
        plan = execute(db, "EXPLAIN SELECT b, count() FROM wide GROUP BY ROLLUP(b) WITH TOTALS").format()
        assert "ReadFromMergeTree wide columns=[b]" in plan.decode()
