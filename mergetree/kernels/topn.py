"""Top-N selection for ORDER BY .. LIMIT n without sorting every row.

`topn_permutation(keys, n)`: the row indices of the first n rows in the order of the lexicographic
sort keys (lists of numeric arrays as `Column.order_key` returns them, already flipped for DESC).
np.argpartition on the first key finds its n-th smallest value; only rows with a first key at or
below it can be in the top n, and only those are sorted. Twin: `topn_permutation_numpy` (full sort).
"""

from __future__ import annotations

import numpy as np

from mergetree.kernels.sort import flatten_keys, sort_permutation


def topn_permutation(keys: list, n: int) -> np.ndarray:
    flat = [k for key in keys for k in flatten_keys(key)]
    rows = len(flat[0]) if flat else 0
    if n <= 0:
        return np.zeros(0, np.int64)
    if n >= rows or rows < 4 * n:
        return sort_permutation(flat)[:n]
    first = flat[0]
    threshold = first[np.argpartition(first, n - 1)[n - 1]]
    candidates = np.flatnonzero(first <= threshold)
    order = sort_permutation([k[candidates] for k in flat])
    return candidates[order[:n]]


def topn_permutation_numpy(keys: list, n: int) -> np.ndarray:
    flat = [k for key in keys for k in flatten_keys(key)]
    return np.lexsort(flat[::-1])[:max(n, 0)].astype(np.int64)
