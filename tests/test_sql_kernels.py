"""Query-engine kernels against their plain-numpy twins on random arrays, and the aggregate
functions against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest

from mergetree import types as T
from mergetree.column import column_from_values
from mergetree.functions.aggregate import get_aggregate, is_aggregate
from mergetree.kernels import aggregates as A
from mergetree.kernels import groupby as G
from mergetree.kernels import hashing as H
from mergetree.kernels import topn as TN

SEEDS = range(6)


def _ids(rng, n, g):
    ids = rng.integers(-1, g, n).astype(np.int64)   # -1 = skipped row
    return ids


@pytest.mark.parametrize("seed", SEEDS)
def test_hash_u64_matches_numpy(seed):
    keys = np.random.default_rng(seed).integers(0, 2**63, 1000, dtype=np.uint64)
    np.testing.assert_array_equal(H.hash_u64(keys), H.hash_u64_numpy(keys))


def test_key_bits_groups_negative_zero_and_nan():
    v = np.array([0.0, -0.0, np.nan, -np.nan, 1.5])
    bits = H.key_bits(v)
    assert bits[0] == bits[1] and bits[2] == bits[3] and bits[0] != bits[4]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("cardinality", [1, 7, 5000])
def test_group_u64_matches_numpy(seed, cardinality):
    keys = np.random.default_rng(seed).integers(0, cardinality, 3000).astype(np.uint64) * np.uint64(2**40 + 1)
    ids, first = G.group_u64(keys)
    ids2, first2 = G.group_u64_numpy(keys)
    np.testing.assert_array_equal(ids, ids2)
    np.testing.assert_array_equal(first, first2)
    np.testing.assert_array_equal(keys[first[ids]], keys)   # every row maps to a row with its key


@pytest.mark.parametrize("seed", SEEDS)
def test_group_dense_matches_numpy(seed):
    codes = np.random.default_rng(seed).integers(0, 50, 2000)
    for a, b in zip(G.group_dense(codes, 50), G.group_dense_numpy(codes, 50)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("seed", SEEDS)
def test_occurrence_index_matches_numpy(seed):
    ids = np.random.default_rng(seed).integers(0, 20, 500)
    np.testing.assert_array_equal(G.occurrence_index(ids, 20), G.occurrence_index_numpy(ids, 20))


def test_group_rows_several_layouts():
    s = column_from_values(T.String, ["a", "b", "a", "", "b", "a"])
    n = column_from_values(T.Nullable(T.Int32), [1, None, 1, None, None, 2])
    ids, g, first = G.group_rows([s, n])
    # groups: (a,1) (b,NULL) ('',NULL) (a,2) in first-appearance order
    assert g == 4
    assert ids.tolist() == [0, 1, 0, 2, 1, 3]
    assert first.tolist() == [0, 1, 3, 5]


@pytest.mark.parametrize("seed", SEEDS)
def test_grouped_aggregates_match_numpy(seed):
    rng = np.random.default_rng(seed)
    n, g = 2000, 37
    ids = _ids(rng, n, g)
    ints = rng.integers(-1000, 1000, n)
    floats = rng.normal(size=n)
    np.testing.assert_array_equal(A.grouped_count(ids, g), A.grouped_count_numpy(ids, g))
    np.testing.assert_array_equal(A.grouped_sum(ids, ints, g, np.int64), A.grouped_sum_numpy(ids, ints, g, np.int64))
    np.testing.assert_allclose(A.grouped_sum(ids, floats, g, np.float64),
                               A.grouped_sum_numpy(ids, floats, g, np.float64))
    for is_max in (False, True):
        np.testing.assert_array_equal(A.grouped_arg_extreme(ids, ints, g, is_max),
                                      A.grouped_arg_extreme_numpy(ids, ints, g, is_max))
        np.testing.assert_array_equal(A.grouped_arg_extreme(ids, floats, g, is_max),
                                      A.grouped_arg_extreme_numpy(ids, floats, g, is_max))
    for last in (False, True):
        np.testing.assert_array_equal(A.grouped_first_last(ids, g, last), A.grouped_first_last_numpy(ids, g, last))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n", [0, 1, 5, 100])
def test_topn_matches_full_sort(seed, n):
    rng = np.random.default_rng(seed)
    keys = [rng.integers(0, 20, 1000), rng.integers(0, 1000, 1000)]   # many ties in the first key
    np.testing.assert_array_equal(TN.topn_permutation(keys, n), TN.topn_permutation_numpy(keys, n))


def test_kernels_are_nogil_and_cached():
    for fn in (G._group_u64, G._group_dense, G._occurrence_index, A._grouped_count, A._grouped_sum,
               A._grouped_arg_extreme, A._grouped_first_last, H._hash_u64):
        assert fn.targetoptions.get("nogil") is True, fn
        assert fn._cache.__class__.__name__ != "NullCache", fn


# --------------------------------------------------------------------------- aggregate functions


def _agg(name, cols, ids, g):
    fn = get_aggregate(name, [c.type for c in cols])
    return fn.type.name, fn.compute(np.asarray(ids, np.int64), g, cols).to_pylist()


def test_aggregates_by_hand():
    x = column_from_values(T.Nullable(T.UInt32), [1, None, 3, 3, 5])
    cond = column_from_values(T.UInt8, [1, 1, 1, 0, 1])
    s = column_from_values(T.String, ["b", "a", "c", "a", "b"])
    ids = [0, 0, 1, 1, 1]
    assert _agg("sum", [x], ids, 3) == ("Nullable(UInt64)", [1, 11, None])
    assert _agg("count", [x], ids, 3) == ("UInt64", [1, 3, 0])
    assert _agg("count", [], ids, 3) == ("UInt64", [2, 3, 0])
    assert _agg("sumIf", [x, cond], ids, 3) == ("Nullable(UInt64)", [1, 8, None])
    assert _agg("uniqExact", [x], ids, 3) == ("UInt64", [1, 2, 0])
    assert _agg("sumDistinct", [x], ids, 3) == ("Nullable(UInt64)", [1, 8, None])
    assert _agg("min", [s], ids, 2) == ("String", ["a", "a"])
    assert _agg("max", [s], ids, 2) == ("String", ["b", "c"])
    assert _agg("argMax", [s, x], ids, 2) == ("Nullable(String)", ["b", "b"])   # as chDB: Nullable(String)
    assert _agg("any", [s], ids, 3) == ("String", ["b", "c", ""])
    assert _agg("anyLast", [s], ids, 2) == ("String", ["a", "b"])
    assert _agg("avgOrNull", [cond], ids, 3)[1] == [1.0, 2 / 3, None]
    assert _agg("countOrDefault", [], [-1, -1, 0, 0, 0], 2) == ("UInt64", [3, 0])
    assert _agg("avgOrDefault", [cond], [-1] * 5, 1) == ("Float64", [0.0])


def test_combinator_names():
    assert is_aggregate("sumIf") and is_aggregate("uniqExactIfOrNull") and is_aggregate("countDistinct")
    assert not is_aggregate("plus") and not is_aggregate("If")
    assert get_aggregate("sumIfOrNull", [T.UInt8, T.UInt8]).type.name == "Nullable(UInt64)"


@pytest.mark.parametrize("seed", range(3))
def test_group_rows_parallel_equals_single_thread(seed, monkeypatch):
    monkeypatch.setattr(G, "PARALLEL_MIN_ROWS", 10)
    rng = np.random.default_rng(seed)
    n = 5000
    words = np.array(["", "a", "bb", "a", "ccc", "dddd"])
    s = column_from_values(T.String, words[rng.integers(0, len(words), n)].tolist())
    k = column_from_values(T.Nullable(T.Int64), [None if x == 0 else int(x) for x in rng.integers(0, 40, n)])
    for threads in (2, 3):
        ids, g, first = G.group_rows_parallel([s, k], threads)
        ids1, g1, first1 = G.group_rows([s, k])
        assert g == g1
        np.testing.assert_array_equal(ids, ids1)
        np.testing.assert_array_equal(first, first1)


@pytest.mark.parametrize("seed", range(4))
def test_same_as_first_matches_numpy(seed):
    rng = np.random.default_rng(seed)
    words = ["", "a", "ab", "abc", "b"]
    col = column_from_values(T.String, [words[i] for i in rng.integers(0, 5, 300)])
    ids, first = G.group_strings_by_hash(col.offsets, col.data)
    assert G.same_as_first(col.offsets, col.data, ids, first)
    assert G.same_as_first_numpy(col.offsets, col.data, ids, first)
    wrong = ids.copy()
    wrong[ids == ids[0]] = (ids[0] + 1) % len(first)    # pretend a collision merged two strings
    assert G.same_as_first(col.offsets, col.data, wrong, first) == \
        G.same_as_first_numpy(col.offsets, col.data, wrong, first) is False


def test_string_grouping_falls_back_on_collision(monkeypatch):
    from mergetree.kernels import strings

    monkeypatch.setattr(strings, "hash_strings", lambda o, d: np.zeros(len(o) - 1, np.uint64))
    col = column_from_values(T.String, ["x", "y", "x", "z"])
    ids, first = G.group_strings_by_hash(col.offsets, col.data)
    assert ids.tolist() == [0, 1, 0, 2] and first.tolist() == [0, 1, 3]


def test_quantiles_by_hand():
    x = column_from_values(T.UInt32, [1, 10, 2, 7, 3, 5])
    ids = [0, 0, 0, 0, 0, 1]
    q = get_aggregate("quantile", [T.UInt32], (0.3,)).compute(np.asarray(ids), 2, [x]).to_pylist()
    assert q == [2 * (1 - 0.19999999999999996) + 3 * 0.19999999999999996, 5.0]   # index 0.3 * 4 = 1.2
    assert _agg("median", [x], ids, 2) == ("Float64", [3.0, 5.0])
    assert _agg("quantileExact", [x], ids, 2) == ("UInt32", [3, 5])
    assert _agg("groupArray", [x], [1, 0, 1, 0, -1, 1], 3) == ("Array(UInt32)", [[10, 7], [1, 2, 5], []])
    fn = get_aggregate("quantiles", [T.UInt32], (0.0, 1.0))
    assert fn.compute(np.asarray(ids), 2, [x]).to_pylist() == [[1.0, 10.0], [5.0, 5.0]]


NAMES_FOR_STATES = ["count", "sum", "avg", "min", "max", "any", "anyLast", "argMax", "uniqExact", "sumIf",
                    "countIf", "sumDistinct", "avgOrNull", "minOrDefault", "median", "groupArray", "quantile",
                    "sumIfOrNull", "uniqExactIf", "maxDistinct"]


@pytest.mark.parametrize("name", NAMES_FOR_STATES)
@pytest.mark.parametrize("seed", range(3))
def test_partial_states_merged_equal_one_batch(name, seed):
    """Splitting the rows into blocks, taking partial states per block (block-local group ids) and
    merging them gives the same result as computing over all rows at once."""
    from mergetree.kernels.groupby import group_rows

    rng = np.random.default_rng(seed)
    n, n_keys = 600, 9
    key_values = rng.integers(0, n_keys, n)
    x = column_from_values(T.Nullable(T.Int32), [None if v < 0 else int(v) for v in rng.integers(-20, 100, n)])
    cond = column_from_values(T.UInt8, rng.integers(0, 2, n).tolist())
    args = {"count": [], "countIf": [cond], "argMax": [x, column_from_values(T.Float64, rng.normal(size=n).tolist())]}
    cols = args.get(name, [x, cond] if name.endswith("If") or "If" in name else [x])
    if name == "groupArray" or name in ("median", "quantile"):
        cols = [column_from_values(T.Int32, rng.integers(-50, 50, n).tolist())]
    fn = get_aggregate(name, [c.type for c in cols])
    keys = column_from_values(T.UInt8, key_values.tolist())
    ids, g, _ = group_rows([keys])
    expected = fn.compute(ids, g, cols).to_pylist()
    # blocks: local group ids, then relabel to the global ids of the one-batch grouping
    bounds = [0, 100, 101, 350, n]
    state_ids, state_cols = [], []
    for a, b in zip(bounds[:-1], bounds[1:]):
        local_ids, local_g, first = group_rows([keys.slice(a, b)])
        global_of_local = ids[a + first]
        sids, scols = fn.partial(local_ids, local_g, [c.slice(a, b) for c in cols])
        state_ids.append(global_of_local[sids])
        state_cols.append(scols)
    from mergetree.column import Column

    merged = [Column.concat([sc[i] for sc in state_cols]) for i in range(len(state_cols[0]))]
    got = fn.final(np.concatenate(state_ids), g, merged).to_pylist()
    assert got == pytest.approx(expected, nan_ok=True) if name in ("avg", "avgOrNull", "median", "quantile") \
        else got == expected


@pytest.mark.parametrize("seed", range(4))
def test_hash_strings_mix_matches_numpy(seed):
    rng = np.random.default_rng(seed)
    words = ["", "a", "ab", "abcdefgh", "abcdefghi", "x" * 17, "β-γ", "abcdefgh\0"]
    col = column_from_values(T.String, [words[i] for i in rng.integers(0, len(words), 200)])
    np.testing.assert_array_equal(H.hash_strings_mix(col.offsets, col.data),
                                  H.hash_strings_mix_numpy(col.offsets, col.data))
    distinct = H.hash_strings_mix(*(lambda c: (c.offsets, c.data))(column_from_values(T.String, words)))
    assert len(set(distinct.tolist())) == len(words)


def test_many_string_groups_use_the_second_hash(monkeypatch):
    monkeypatch.setattr(G, "BYTEWISE_CHECK_MAX_GROUPS", 2)
    col = column_from_values(T.String, ["x", "y", "x", "z", "w", "y"])
    ids, first = G.group_strings_by_hash(col.offsets, col.data)
    assert ids.tolist() == [0, 1, 0, 2, 3, 1] and first.tolist() == [0, 1, 3, 4]
