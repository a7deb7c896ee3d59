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
