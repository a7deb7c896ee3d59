"""Grouped kernels for the statistical / sketch aggregates (functions/aggregate/stats.py).
ids are group labels 0..G-1 (-1 = skip the row); rows are visited in order, as ClickHouse adds
them. Plain-numpy twins live in tests/test_functions_agg.py.

1. `grouped_heavy(ids, keys, G) -> int64 rows`: anyHeavy's majority vote (one counter per group,
   Misra-Gries with k = 1): the row of each group's candidate, -1 for an empty group.
2. `tdigest_quantiles(values, starts, counts, levels) -> float32 (groups, levels)`: ClickHouse's
   QuantileTDigest (Float32 centroids, compress() after 2048 unmerged values and before the
   read-out, getImpl's interpolation), fed with each group's values in row order.
"""

from __future__ import annotations

import numpy as np

try:
    import numba

    _jit = numba.njit(nogil=True, cache=True)
except ImportError:  # pragma: no cover
    def _jit(f):
        return f


@_jit
def grouped_heavy(ids, keys, n_groups):
    value_row = np.full(n_groups, -1, np.int64)
    count = np.zeros(n_groups, np.int64)
    for i in range(ids.shape[0]):
        g = ids[i]
        if g < 0:
            continue
        r = value_row[g]
        if r >= 0 and keys[r] == keys[i]:
            count[g] += 1
        elif count[g] == 0:
            value_row[g] = i
            count[g] = 1
        else:
            count[g] -= 1
    return value_row


@_jit
def _tdigest_compress(means, cnts, size, total):
    """ClickHouse's QuantileTDigest::compress(): sort the centroids by mean, then merge neighbours
    left to right while the pair's weight is at most 4 * epsilon * count * q(1 - q), epsilon = 0.01
    (Float32 centroids, Float64 running values). Returns the new number of centroids."""
    order = np.argsort(means[:size], kind="mergesort")
    m2 = means[:size][order].copy()
    c2 = cnts[:size][order].copy()
    means[:size] = m2
    cnts[:size] = c2
    if size <= 3:
        return size
    count_eps4 = np.float64(total) * 0.01 * 4
    li = 0
    sum_ = 0.0
    l_mean = np.float64(means[0])
    l_count = np.float64(cnts[0])
    for r in range(1, size):
        ql = (sum_ + l_count * 0.5) / np.float64(total)
        err = ql * (1 - ql)
        qr = (sum_ + l_count + np.float64(cnts[r]) * 0.5) / np.float64(total)
        err2 = qr * (1 - qr)
        if err > err2:
            err = err2
        k = count_eps4 * err
        r_mean = np.float64(means[r])
        mergeable = l_mean == r_mean or (not np.isinf(l_mean) and not np.isinf(r_mean))
        if l_count + np.float64(cnts[r]) <= k and mergeable:
            l_count += np.float64(cnts[r])
            if r_mean != l_mean:
                l_mean += np.float64(cnts[r]) * (r_mean - l_mean) / l_count
            means[li] = np.float32(l_mean)
            cnts[li] = np.float32(l_count)
        else:
            sum_ += np.float64(cnts[li])
            li += 1
            means[li] = means[r]
            cnts[li] = cnts[r]
            l_mean = np.float64(means[li])
            l_count = np.float64(cnts[li])
    return li + 1


@_jit
def _tdigest_read(means, cnts, size, total, level):
    """QuantileTDigest::getImpl on compressed centroids (Float32 result)."""
    if size == 1:
        return means[0]
    x = level * np.float64(total)
    prev_x = 0.0
    sum_c = np.float32(0)
    prev_mean = means[0]
    prev_count = cnts[0]
    for i in range(size):
        current_x = np.float64(sum_c) + np.float64(cnts[i]) * 0.5
        if current_x >= x:
            left = prev_x + (0.5 if prev_count == 1 else 0.0)
            right = current_x - (0.5 if cnts[i] == 1 else 0.0)
            if x <= left:
                return prev_mean
            if x >= right:
                return means[i]
            xf = np.float32(x)
            x1 = np.float32(left)
            x2 = np.float32(right)
            kk = np.float64(np.float32(xf - x1) / np.float32(x2 - x1))
            return np.float32(np.float64(prev_mean) + kk * np.float64(np.float32(means[i] - prev_mean)))
        sum_c = np.float32(sum_c + cnts[i])
        prev_mean = means[i]
        prev_count = cnts[i]
        prev_x = current_x
    return means[size - 1]


@_jit
def tdigest_quantiles(values, starts, counts, levels):
    """ClickHouse's quantileTDigest per group: values (grouped, each group's values in the order
    they were added) become Float32 centroids of weight 1; more than 2048 unmerged centroids
    trigger compress(), as does the read-out. NaN values are skipped. out[g, j] for level j."""
    n = counts.shape[0]
    m = levels.shape[0]
    out = np.full((n, m), np.nan, np.float32)
    cap = 4200
    means = np.empty(cap, np.float32)
    cnts = np.empty(cap, np.float32)
    for g in range(n):
        size = 0
        unmerged = 0
        total = np.float32(0)
        for i in range(starts[g], starts[g] + counts[g]):
            v = np.float32(values[i])
            if np.isnan(v):
                continue
            means[size] = v
            cnts[size] = np.float32(1)
            size += 1
            total = np.float32(total + np.float32(1))
            unmerged += 1
            if unmerged > 2048:
                size = _tdigest_compress(means, cnts, size, total)
                unmerged = 0
        if size == 0:
            continue
        if unmerged > 0 or size > 2048:
            size = _tdigest_compress(means, cnts, size, total)
        for j in range(m):
            out[g, j] = _tdigest_read(means, cnts, size, total, levels[j])
    return out
