"""Grouped kernels for the statistical / sketch aggregates (functions/aggregate/stats.py).
ids are group labels 0..G-1 (-1 = skip the row); rows are visited in order, as ClickHouse adds
them. Plain-numpy twins live in tests/test_functions_agg.py.

1. `grouped_heavy(ids, keys, G) -> int64 rows`: anyHeavy's majority vote (one counter per group,
   Misra-Gries with k = 1): the row of each group's candidate, -1 for an empty group.
2. `tdigest_quantile(sorted_values, starts, counts, level) -> float64`: ClickHouse's
   QuantileTDigest read-out over uncompressed centroids (each value its own centroid of weight 1).
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
def tdigest_quantile(sorted_values, starts, counts, level):
    n = counts.shape[0]
    out = np.full(n, np.nan)
    for g in range(n):
        c = counts[g]
        if c == 0:
            continue
        s = starts[g]
        if c == 1:
            out[g] = sorted_values[s]
            continue
        x = level * c
        prev_x = 0.0
        total = 0.0
        prev_mean = sorted_values[s]
        done = False
        for j in range(c):
            mean = sorted_values[s + j]
            current_x = total + 0.5
            if current_x >= x:
                left = prev_x + 0.5
                right = current_x - 0.5
                if x <= left:
                    out[g] = prev_mean
                elif x >= right:
                    out[g] = mean
                else:
                    out[g] = prev_mean + (x - left) * (mean - prev_mean) / (right - left)
                done = True
                break
            total += 1.0
            prev_mean = mean
            prev_x = current_x
        if not done:
            out[g] = sorted_values[s + c - 1]
    return out
