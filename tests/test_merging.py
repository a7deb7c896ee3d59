"""Engine merging algorithms (mergetree.storage.merging) and their kernels (mergetree.kernels.merge, each numba kernel against its plain-numpy twin)."""

import numpy as np
import pytest

from mergetree.kernels import merge as km


def random_runs(rng, n, nkeys=3):
    key = np.sort(rng.integers(0, nkeys, n))
    return key, km.run_starts([key], n)


@pytest.mark.parametrize("dtype", [np.int8, np.uint16, np.int64, np.float64, np.float32])
def test_flag_key_changes_matches_numpy(dtype):
    rng = np.random.default_rng(1)
    for n in [0, 1, 2, 50, 1000]:
        key = np.sort(rng.integers(0, 5, n)).astype(dtype)
        if dtype in (np.float64, np.float32) and n > 3:
            key[-3:] = np.nan
        a = np.zeros(n, bool)
        b = np.zeros(n, bool)
        km.flag_key_changes(key, a)
        km.flag_key_changes_numpy(key, b)
        assert (a == b).all()


def test_run_starts_multi_key_hand_computed():
    k1 = np.array([1, 1, 1, 2, 2, 3])
    k2 = np.array([5, 5, 6, 6, 6, 6])
    assert km.run_starts([k1, k2], 6).tolist() == [0, 2, 3, 5]
    assert km.run_starts([], 3).tolist() == [0]
    assert km.run_starts([k1], 0).tolist() == []
    nan = np.array([np.nan, np.nan, 1.0])
    assert km.run_starts([nan], 3).tolist() == [0, 2]


def test_replacing_select_matches_numpy_and_prefers_last_on_ties():
    rng = np.random.default_rng(2)
    for n in [1, 7, 500]:
        _, starts = random_runs(rng, n)
        ver = rng.integers(0, 4, n).astype(np.uint32)
        assert (km.replacing_select(starts, n, ver) == km.replacing_select_numpy(starts, n, ver)).all()
    starts = np.array([0, 3], dtype=np.int64)
    ver = np.array([2, 5, 5, 1, 0], dtype=np.int64)
    assert km.replacing_select(starts, 5, ver).tolist() == [2, 3]
    assert km.replacing_select(starts, 5, None).tolist() == [2, 4]


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int32, np.uint64, np.int64, np.float64])
def test_segment_sum_matches_numpy_with_wraparound(dtype):
    rng = np.random.default_rng(3)
    for n in [1, 9, 700]:
        _, starts = random_runs(rng, n, nkeys=20)
        info = np.iinfo(dtype) if np.dtype(dtype).kind in "iu" else None
        if info is not None:
            vals = rng.integers(info.min, info.max, n, dtype=dtype, endpoint=True)
        else:
            vals = rng.normal(size=n).astype(dtype)
        got = km.segment_sum(vals, starts)
        want = km.segment_sum_numpy(vals, starts)
        assert got.dtype == vals.dtype
        if info is not None:
            assert (got == want).all()
        else:
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    # hand-computed overflow: Int8 120 + 10 wraps to -126 as in ClickHouse's sumWithOverflow
    assert km.segment_sum(np.array([120, 10], np.int8), np.array([0], np.int64)).tolist() == [-126]


def test_collapsing_keep_matches_numpy():
    rng = np.random.default_rng(4)
    for n in [1, 2, 10, 600]:
        for only_positive in (False, True):
            _, starts = random_runs(rng, n, nkeys=max(1, n // 4))
            sign = rng.choice(np.array([-1, 1], np.int8), n)
            a, bad_a = km.collapsing_keep(starts, n, sign, only_positive)
            b, bad_b = km.collapsing_keep_numpy(starts, n, sign, only_positive)
            assert (a == b).all() and bad_a == bad_b


@pytest.mark.parametrize("signs, kept, kept_final", [
    ([1, -1], [], []),                      # pair cancels
    ([-1, 1], [0, 1], [1]),                 # equal counts, last +1: keep first -1 and last +1
    ([1, 1, -1], [1], [1]),                 # one more +1: last +1
    ([1, -1, -1], [1], []),                 # one more -1: first -1
    ([1], [0], [0]),
    ([-1], [0], []),
    ([1, 1, 1, -1], [2], [2]),              # inconsistent (diff 2): still the last +1
])
def test_collapsing_rules_hand_computed(signs, kept, kept_final):
    sign = np.array(signs, np.int8)
    starts = np.array([0], np.int64)
    keep, _ = km.collapsing_keep(starts, len(signs), sign, False)
    assert np.flatnonzero(keep).tolist() == kept
    keep, _ = km.collapsing_keep(starts, len(signs), sign, True)
    assert np.flatnonzero(keep).tolist() == kept_final


# ---------------------------------------------------------------------------------------------
# merging algorithms on Blocks

import itertools  # noqa: E402

from hypothesis import given, settings, strategies as st  # noqa: E402

from mergetree.column import Block, FixedColumn, NullableColumn, StringColumn  # noqa: E402
from mergetree.errors import BadArgumentsError, IncorrectDataError  # noqa: E402
from mergetree.storage.merging import algorithm_for, run_starts_of  # noqa: E402
from mergetree.types import parse_type  # noqa: E402


def col(type_text, values):
    """A column from Python values, built directly (independent of convert.py)."""
    t = parse_type(type_text)
    if type_text == "String":
        return StringColumn.from_bytes_list([v.encode() for v in values])
    if t.kind == "nullable":
        nulls = np.array([v is None for v in values], dtype=bool)
        default = "" if str(t.inner) == "String" else 0
        inner = col(str(t.inner), [default if v is None else v for v in values])
        return NullableColumn(t, inner, nulls)
    if t.kind == "decimal":
        import decimal

        return FixedColumn(t, np.array([int(decimal.Decimal(v).scaleb(t.scale)) for v in values], dtype=t.dtype))
    return FixedColumn(t, np.array(values, dtype=t.dtype))


def block(spec: dict, rows: list[tuple]):
    """Block from {name: type} and row tuples."""
    names = list(spec)
    cols = list(zip(*rows)) if rows else [[] for _ in names]
    return Block({n: col(spec[n], list(c)) for n, c in zip(names, cols)})


def merge_like_engine(engine, args, spec, key, parts: list[list[tuple]], final=False, cleanup=False):
    """What the merger does: concat in insertion order, stable sort by key, collapse."""
    b = Block.concat([block(spec, rows) for rows in parts])
    b = b.take(b.sort_permutation(key))
    algo = algorithm_for(engine, args, b.schema, key)
    return algo.collapse(b, key, final=final, cleanup=cleanup).to_pylist_rows()


def test_run_starts_of_uses_all_key_columns_and_key_blocks():
    b = block({"a": "String", "b": "Int32"}, [("x", 1), ("x", 1), ("x", 2), ("y", 2)])
    assert run_starts_of(b, ["a"]).tolist() == [0, 3]
    assert run_starts_of(b, ["a", "b"]).tolist() == [0, 2, 3]
    keys = Block({"lower(a)": b["a"]})
    assert run_starts_of(b, keys).tolist() == [0, 3]


def test_ordinary_keeps_everything():
    rows = [(1, "a"), (1, "a"), (0, "b")]
    got = merge_like_engine("MergeTree", [], {"k": "UInt8", "v": "String"}, ["k"], [rows])
    assert sorted(got) == sorted(rows)


def test_replacing_hand_computed():
    spec = {"k": "UInt32", "v": "String", "ver": "UInt32"}
    p1 = [(1, "old", 5), (2, "x", 1)]
    p2 = [(1, "older", 3), (2, "y", 1), (3, "z", 0)]
    # key 1: max ver 5 wins although inserted first; key 2: tie -> last inserted ('y')
    assert merge_like_engine("ReplacingMergeTree", ["ver"], spec, ["k"], [p1, p2]) == \
        [(1, "old", 5), (2, "y", 1), (3, "z", 0)]
    # without a version: the last inserted row
    assert merge_like_engine("ReplacingMergeTree", [], spec, ["k"], [p1, p2]) == \
        [(1, "older", 3), (2, "y", 1), (3, "z", 0)]


def test_replacing_is_deleted_hidden_at_final_kept_at_merge():
    spec = {"k": "UInt32", "ver": "UInt32", "del": "UInt8"}
    rows = [(1, 1, 0), (1, 2, 1), (2, 3, 0), (2, 3, 0)]
    assert merge_like_engine("ReplacingMergeTree", ["ver", "del"], spec, ["k"], [rows]) == [(1, 2, 1), (2, 3, 0)]
    assert merge_like_engine("ReplacingMergeTree", ["ver", "del"], spec, ["k"], [rows], final=True) == [(2, 3, 0)]
    assert merge_like_engine("ReplacingMergeTree", ["ver", "del"], spec, ["k"], [rows], cleanup=True) == [(2, 3, 0)]
    with pytest.raises(IncorrectDataError, match="is_deleted = 2"):
        merge_like_engine("ReplacingMergeTree", ["ver", "del"], spec, ["k"], [[(1, 1, 2)]])


def test_summing_hand_computed():
    spec = {"k": "UInt32", "a": "Int32", "u": "UInt8", "d": "Date", "s": "String", "n": "Nullable(Int32)"}
    rows = [(1, 1, 200, 10, "first", None), (1, 2, 100, 20, "second", 5),
            (2, 0, 0, 0, "zero", None),          # all summed columns 0 (n NULL): deleted
            (3, 1, 0, 0, "p", 0), (3, -1, 0, 0, "q", 0)]   # n is a non-NULL 0: kept (ClickHouse 26.9)
    got = merge_like_engine("SummingMergeTree", [], spec, ["k"], [rows])
    import datetime
    assert got == [(1, 3, 44, datetime.date(1970, 1, 11), "first", 5),
                   (3, 0, 0, datetime.date(1970, 1, 1), "p", 0)]


def test_summing_listed_columns_only():
    spec = {"k": "UInt32", "a": "Int32", "b": "Int32"}
    rows = [(1, 1, 10), (1, 2, 20), (2, 0, 5)]
    assert merge_like_engine("SummingMergeTree", ["a"], spec, ["k"], [rows]) == [(1, 3, 10)]
    assert merge_like_engine("SummingMergeTree", ["(a, b)"], spec, ["k"], [rows]) == [(1, 3, 30), (2, 0, 5)]
    with pytest.raises(BadArgumentsError, match="sorting key"):
        algorithm_for("SummingMergeTree", ["k"], block(spec, []).schema, ["k"])


def test_collapsing_hand_computed():
    spec = {"k": "UInt32", "v": "String", "sign": "Int8"}
    rows = [(1, "a", -1), (1, "b", 1),                 # -1 then +1: both kept at merge; FINAL keeps +1
            (2, "a", 1), (2, "b", -1), (2, "c", -1),   # one more -1: first -1
            (3, "a", 1), (3, "b", 1), (3, "c", 1), (3, "d", -1),  # inconsistent: last +1
            (4, "a", 1), (4, "b", -1)]                 # cancels
    assert merge_like_engine("CollapsingMergeTree", ["sign"], spec, ["k"], [rows]) == \
        [(1, "a", -1), (1, "b", 1), (2, "b", -1), (3, "c", 1)]
    assert merge_like_engine("CollapsingMergeTree", ["sign"], spec, ["k"], [rows], final=True) == \
        [(1, "b", 1), (3, "c", 1)]
    with pytest.raises(IncorrectDataError, match="Sign = 0"):
        merge_like_engine("CollapsingMergeTree", ["sign"], spec, ["k"], [[(1, "x", 0)]])


def test_versioned_collapsing_hand_computed():
    spec = {"k": "UInt32", "x": "String", "sign": "Int8", "ver": "UInt32"}
    parts = [[(1, "a", 1, 1), (1, "b", -1, 2)],
             [(1, "c", -1, 1), (1, "d", 1, 2), (1, "e", 1, 2)],
             [(2, "a", -1, 1), (2, "b", -1, 1), (2, "c", 1, 1)]]
    # observed in chDB: (1, 'e', 1, 2) and (2, 'a', -1, 1) remain, after OPTIMIZE FINAL and in FINAL
    for final in (False, True):
        assert merge_like_engine("VersionedCollapsingMergeTree", ["sign", "ver"], spec, ["k"], parts,
                                 final=final) == [(1, "e", 1, 2), (2, "a", -1, 1)]


def test_versioned_collapsing_kernel_matches_numpy():
    rng = np.random.default_rng(6)
    for n in [0, 1, 5, 200]:
        key = np.sort(rng.integers(0, max(1, n // 5), n))
        starts = km.run_starts([key], n)
        sign = rng.choice(np.array([-1, 1], np.int8), n)
        assert (km.versioned_collapsing_keep(starts, n, sign) ==
                km.versioned_collapsing_keep_numpy(starts, n, sign)).all()


def test_engine_argument_errors():
    schema = block({"k": "UInt32", "s": "Int32", "x": "String"}, []).schema
    with pytest.raises(BadArgumentsError, match="Int8"):
        algorithm_for("CollapsingMergeTree", ["s"], schema, ["k"])
    with pytest.raises(Exception, match="nope"):
        algorithm_for("ReplacingMergeTree", ["nope"], schema, ["k"])
    with pytest.raises(BadArgumentsError, match="no engine arguments"):
        algorithm_for("AggregatingMergeTree", ["s"], schema, ["k"])
    with pytest.raises(BadArgumentsError, match="no merging algorithm"):
        algorithm_for("GraphiteMergeTree", [], schema, ["k"])


# ---- property tests: the algorithms against plain-Python engine semantics --------------------

def wrap(value, bits, signed):
    value &= (1 << bits) - 1
    return value - (1 << bits) if signed and value >= 1 << (bits - 1) else value


def reference(engine, rows, final=False):
    """Engine semantics in plain Python over rows (k1, k2, ver, a, b, sign) in insertion order."""
    groups = {}
    for r in rows:
        groups.setdefault((r[0], r[1]), []).append(r)
    out = []
    for key in sorted(groups):
        g = groups[key]
        if engine == "ReplacingMergeTree":
            best = max(range(len(g)), key=lambda i: (g[i][2], i))  # max ver, then last
            out.append(g[best])
        elif engine == "SummingMergeTree":
            a = wrap(sum(r[3] for r in g), 16, True)
            b = wrap(sum(r[4] for r in g), 8, False)
            s = wrap(sum(r[5] for r in g), 8, True)
            ver = wrap(sum(r[2] for r in g), 32, False)  # every numeric non-key column is summed
            if a or b or s or ver:
                out.append((key[0], key[1], ver, a, b, s))
        elif engine == "CollapsingMergeTree":
            pos = [r for r in g if r[5] == 1]
            neg = [r for r in g if r[5] == -1]
            if len(pos) == len(neg) and g[-1][5] == -1:
                continue
            if len(pos) <= len(neg) and not final:
                out.append(neg[0])
            if len(pos) >= len(neg):
                out.append(pos[-1])
        else:
            out.extend(g)
    return out


SPEC = {"k1": "String", "k2": "Int16", "ver": "UInt32", "a": "Int16", "b": "UInt8", "sign": "Int8"}

row_strategy = st.tuples(st.sampled_from(["", "a", "b", "é"]), st.integers(-2, 2), st.integers(0, 3),
                         st.integers(-30000, 30000), st.integers(0, 255), st.sampled_from([-1, 1]))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(row_strategy, max_size=12), min_size=1, max_size=4),
       st.sampled_from(["MergeTree", "ReplacingMergeTree", "SummingMergeTree", "CollapsingMergeTree"]),
       st.booleans())
def test_algorithms_match_plain_python_semantics(parts, engine, final):
    args = {"ReplacingMergeTree": ["ver"], "CollapsingMergeTree": ["sign"]}.get(engine, [])
    all_rows = [r for p in parts for r in p]
    got = merge_like_engine(engine, args, SPEC, ["k1", "k2"], parts, final=final)
    want = reference(engine, all_rows, final=final)
    if engine == "MergeTree":
        assert sorted(got) == sorted(want)
    else:
        assert got == want  # sorted by key, rows of one key in insertion order


# ---- k-way merge and string run detection -----------------------------------------------------

def test_flag_string_changes_matches_numpy():
    rng = np.random.default_rng(5)
    for n in [0, 1, 2, 40, 300]:
        items = sorted(bytes(rng.integers(97, 100, rng.integers(0, 3)).astype(np.uint8)) for _ in range(n))
        col_ = StringColumn.from_bytes_list(items)
        a = np.zeros(n, bool)
        b = np.zeros(n, bool)
        km.flag_string_changes(col_.offsets, col_.data, a)
        km.flag_string_changes_numpy(col_.offsets, col_.data, b)
        assert (a == b).all()
        if n:
            assert int(a[1:].sum()) + 1 == len(set(items))


def test_to_u64_key_preserves_order():
    x = np.array([-2**63, -1, 0, 5, 2**63 - 1], dtype=np.int64)
    assert (np.diff(km.to_u64_key(x).astype(object)) > 0).all()
    assert km.to_u64_key(np.array([True, False])).tolist() == [1, 0]


@settings(max_examples=80, deadline=None)
@given(st.lists(st.lists(st.tuples(st.integers(-3, 3), st.sampled_from(["", "a", "ab", "b", "é"]),
                                   st.sampled_from([0.5, -0.0, 0.0, float("nan"), float("inf")]),
                                   st.sampled_from([None, "x", "y"])),
                         max_size=15), min_size=1, max_size=6))
def test_kway_merge_equals_stable_lexsort(runs):
    from mergetree.storage.merger import merge_permutation, _order_arrays

    spec = {"i": "Int16", "s": "String", "f": "Float64", "ns": "Nullable(String)"}
    blocks = []
    for rows in runs:
        b = block(spec, rows)
        blocks.append(b.take(b.sort_permutation(list(spec))))  # every run sorted by the key
    bounds = np.cumsum([0] + [b.num_rows for b in blocks]).astype(np.int64)
    keys = Block.concat(blocks)
    got = merge_permutation(keys, bounds)
    want = km.kway_merge_numpy(bounds, _order_arrays(keys))
    assert got.tolist() == want.tolist()
    # and run detection on the merged rows agrees with order-key equality
    merged = keys.take(got)
    flags_want = np.zeros(merged.num_rows, bool)
    for k in _order_arrays(merged):
        km.flag_key_changes_numpy(k, flags_want)
    if merged.num_rows:
        flags_want[0] = True
    assert run_starts_of(merged, list(spec)).tolist() == np.flatnonzero(flags_want).tolist()


def test_every_kernel_is_compiled_nogil_and_cached():
    # merges run on a background thread: their kernels must release the GIL
    names = ["flag", "replacing", "sum", "collapsing", "compare", "strflag", "versioned", "kway"]
    for name in names:
        dispatcher = km._kernel(name)
        assert dispatcher.targetoptions.get("nogil") is True, name
        assert dispatcher._cache.__class__.__name__ != "NullCache", name
