"""Kernels for merging sorted parts: run detection and the engines' per-key reductions.

Every merge in mergetree ends the same way: the rows of the source parts are
stable-sorted by the sorting key (ties keep insertion order, i.e. block-number
order), and the engine's merging algorithm reduces each *run* of rows with an
equal key to zero, one or two rows.  The kernels here do the per-row work of
that reduction; `mergetree.storage.merging` turns their outputs into columns.

A run is described by `starts`: int64 positions of the first row of every run,
ascending, with ``starts[0] == 0`` when there are rows.  Run ``r`` covers rows
``starts[r] : starts[r + 1]`` (the last run ends at ``n``).

Each numba kernel (``@njit(nogil=True, cache=True)``, so merges do not hold the
GIL) has a plain-numpy twin named ``*_numpy``; tests check that both agree on
random arrays.  The public functions at the bottom dispatch to the numba
kernel and are what the rest of the code calls.

Kernels:
1. `flag_key_changes(key, flags)`: OR into ``flags[i]`` whether row i's key
   differs from row i-1 (called once per key column; NaN equals NaN).
2. `replacing_select(starts, n, version)`: index of the row kept per run:
   the last row holding the maximum version (ReplacingMergeTree).
3. `segment_sum(values, starts, out)`: per-run sum with the column's own
   wrapping arithmetic (SummingMergeTree's sumWithOverflow).
4. `collapsing_keep(starts, n, sign, only_positive)`: which rows survive
   CollapsingMergeTree's rules (see the function's docstring).
5. `versioned_collapsing_keep(starts, n, sign)`: VersionedCollapsingMergeTree:
   inside a run of equal (key, version), a row cancels the most recent
   not-yet-cancelled row of the opposite sign (a stack); survivors are kept.
6. `kway_merge(bounds, fixed, spec, soff, sdata, sbase)`: the permutation that
   merges k runs already sorted by the key (rows of run p at
   ``bounds[p]:bounds[p+1]``) into one sorted sequence, equal keys in run order
   (a binary heap of cursors; strings are compared as bytes, so no global string
   ranks are needed). It also checks each run really is sorted (a part that is
   not would make the merge silently wrong). Twin: a stable `np.lexsort`.
7. `flag_string_changes(offsets, data, flags)`: run detection on a String key
   column by comparing adjacent values' bytes.
"""

from __future__ import annotations

import numpy as np

_numba = None


def _njit():
    global _numba
    if _numba is None:
        import numba

        _numba = numba
    return _numba.njit(nogil=True, cache=True)


# ---------------------------------------------------------------------------
# 1. run detection


def _flag_key_changes_py(key, flags):
    n = key.shape[0]
    for i in range(1, n):
        a = key[i]
        b = key[i - 1]
        # NaN == NaN for grouping purposes: `a != a` is only true for NaN.
        if a != b and not (a != a and b != b):
            flags[i] = True


def flag_key_changes_numpy(key: np.ndarray, flags: np.ndarray) -> None:
    if key.shape[0] < 2:
        return
    a = key[1:]
    b = key[:-1]
    diff = a != b
    if key.dtype.kind == "f":
        diff &= ~(np.isnan(a) & np.isnan(b))
    flags[1:] |= diff


# ---------------------------------------------------------------------------
# 2. ReplacingMergeTree: the last row with the maximum version in each run


def _replacing_select_py(starts, n, version, out):
    runs = starts.shape[0]
    for r in range(runs):
        lo = starts[r]
        hi = starts[r + 1] if r + 1 < runs else n
        best = lo
        for i in range(lo + 1, hi):
            # ">=": among equal versions the later (last inserted) row wins
            if version[i] >= version[best]:
                best = i
        out[r] = best


def replacing_select_numpy(starts: np.ndarray, n: int, version: np.ndarray) -> np.ndarray:
    runs = starts.shape[0]
    if runs == 0:
        return np.empty(0, dtype=np.int64)
    run_id = np.repeat(np.arange(runs), np.diff(np.append(starts, n)))
    # Sort by (run, version, position); the last entry of every run is the winner.
    order = np.lexsort((np.arange(n), version, run_id))
    ends = np.append(starts[1:], n) - 1
    return order[ends].astype(np.int64)


# ---------------------------------------------------------------------------
# 3. SummingMergeTree: per-run sums


def _segment_sum_py(values, starts, out):
    runs = starts.shape[0]
    n = values.shape[0]
    for r in range(runs):
        lo = starts[r]
        hi = starts[r + 1] if r + 1 < runs else n
        acc = values[lo]
        for i in range(lo + 1, hi):
            acc = acc + values[i]
        out[r] = acc


def segment_sum_numpy(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    if starts.shape[0] == 0:
        return np.empty(0, dtype=values.dtype)
    with np.errstate(over="ignore"):
        return np.add.reduceat(values, starts).astype(values.dtype, copy=False)


# ---------------------------------------------------------------------------
# 4. CollapsingMergeTree


def _collapsing_keep_py(starts, n, sign, only_positive, keep):
    runs = starts.shape[0]
    bad_runs = 0
    for r in range(runs):
        lo = starts[r]
        hi = starts[r + 1] if r + 1 < runs else n
        pos = 0
        neg = 0
        first_neg = -1
        last_pos = -1
        last_is_positive = False
        for i in range(lo, hi):
            if sign[i] == 1:
                pos += 1
                last_pos = i
                last_is_positive = True
            else:
                if neg == 0:
                    first_neg = i
                neg += 1
                last_is_positive = False
        if last_is_positive or pos != neg:
            if pos <= neg and not only_positive:
                keep[first_neg] = True
            if pos >= neg:
                keep[last_pos] = True
            if pos - neg > 1 or neg - pos > 1:
                bad_runs += 1
    return bad_runs


def collapsing_keep_numpy(starts: np.ndarray, n: int, sign: np.ndarray, only_positive: bool):
    keep = np.zeros(n, dtype=np.bool_)
    runs = starts.shape[0]
    if runs == 0:
        return keep, 0
    lengths = np.diff(np.append(starts, n))
    run_id = np.repeat(np.arange(runs), lengths)
    is_pos = sign == 1
    pos = np.bincount(run_id, weights=is_pos, minlength=runs).astype(np.int64)
    neg = lengths - pos
    idx = np.arange(n)
    last_pos = np.full(runs, -1, dtype=np.int64)
    np.maximum.at(last_pos, run_id[is_pos], idx[is_pos])
    first_neg = np.full(runs, n, dtype=np.int64)
    np.minimum.at(first_neg, run_id[~is_pos], idx[~is_pos])
    last_is_positive = is_pos[np.append(starts[1:], n) - 1]
    act = last_is_positive | (pos != neg)
    take_neg = act & (pos <= neg) & (not only_positive)
    take_pos = act & (pos >= neg)
    keep[first_neg[take_neg]] = True
    keep[last_pos[take_pos]] = True
    bad = int(np.count_nonzero(act & (np.abs(pos - neg) > 1)))
    return keep, bad


# ---------------------------------------------------------------------------
# 5. VersionedCollapsingMergeTree


def _versioned_keep_py(starts, n, sign, keep, stack):
    runs = starts.shape[0]
    for r in range(runs):
        lo = starts[r]
        hi = starts[r + 1] if r + 1 < runs else n
        top = 0
        stack_sign = 0
        for i in range(lo, hi):
            if top == 0:
                stack[0] = i
                top = 1
                stack_sign = sign[i]
            elif sign[i] == stack_sign:
                stack[top] = i
                top += 1
            else:
                top -= 1  # cancels the latest row of the other sign
        for j in range(top):
            keep[stack[j]] = True


def versioned_collapsing_keep_numpy(starts: np.ndarray, n: int, sign: np.ndarray) -> np.ndarray:
    """Row i survives iff it grows |running balance| and the balance never falls back below it."""
    keep = np.zeros(n, dtype=np.bool_)
    runs = starts.shape[0]
    if runs == 0:
        return keep
    lengths = np.diff(np.append(starts, n))
    run_id = np.repeat(np.arange(runs), lengths)
    s = sign.astype(np.int64)
    total = np.cumsum(s)
    before_run = np.repeat(np.append(0, total[starts[1:] - 1]), lengths)
    balance = total - before_run                    # running sum of signs inside the run
    big = 4 * (n + 1)
    shift = (runs - run_id) * big                   # separates runs for the reversed accumulations
    rev = slice(None, None, -1)
    suffix_min = np.minimum.accumulate((balance - shift)[rev])[rev] + shift
    suffix_max = np.maximum.accumulate((balance + shift)[rev])[rev] - shift
    pushed = s * balance > 0
    keep[:] = pushed & np.where(s > 0, suffix_min >= balance, suffix_max <= balance)
    return keep


# ---------------------------------------------------------------------------
# 6. k-way merge of sorted runs (and 7. string run detection)


def _compare_rows_py(a, b, fixed, spec, soff, sdata, sbase):
    """-1 / 0 / 1 comparing the keys of rows a and b."""
    for j in range(spec.shape[0]):
        c = spec[j]
        if c >= 0:
            x = fixed[a, c]
            y = fixed[b, c]
            if x < y:
                return -1
            if x > y:
                return 1
        else:
            s = -c - 1
            a0 = sbase[s] + soff[s, a]
            a1 = sbase[s] + soff[s, a + 1]
            b0 = sbase[s] + soff[s, b]
            b1 = sbase[s] + soff[s, b + 1]
            la = a1 - a0
            lb = b1 - b0
            m = la if la < lb else lb
            for i in range(m):
                x8 = sdata[a0 + i]
                y8 = sdata[b0 + i]
                if x8 != y8:
                    return -1 if x8 < y8 else 1
            if la != lb:
                return -1 if la < lb else 1
    return 0


_compare_rows = _compare_rows_py  # replaced by the compiled twin before `kway` is compiled


def _kway_merge_py(bounds, fixed, spec, soff, sdata, sbase, out, unsorted):
    compare = _compare_rows
    k = bounds.shape[0] - 1
    heap = np.empty(k, dtype=np.int64)
    pos = bounds[:-1].copy()
    size = 0
    for p in range(k):  # push every non-empty run (sift up)
        if pos[p] < bounds[p + 1]:
            i = size
            heap[i] = p
            size += 1
            while i > 0:
                parent = (i - 1) // 2
                q = heap[parent]
                r = heap[i]
                c = compare(pos[r], pos[q], fixed, spec, soff, sdata, sbase)
                if c < 0 or (c == 0 and r < q):
                    heap[parent] = r
                    heap[i] = q
                    i = parent
                else:
                    break
    n_out = 0
    while size > 0:
        p = heap[0]
        out[n_out] = pos[p]
        n_out += 1
        pos[p] += 1
        if unsorted[0] < 0 and pos[p] < bounds[p + 1] and \
                compare(pos[p], pos[p] - 1, fixed, spec, soff, sdata, sbase) < 0:
            unsorted[0] = pos[p]  # a run that is not sorted: the merge would be wrong
        if pos[p] >= bounds[p + 1]:
            size -= 1
            heap[0] = heap[size]
        i = 0
        while True:  # sift down the root
            left = 2 * i + 1
            if left >= size:
                break
            best = left
            right = left + 1
            if right < size:
                a = heap[right]
                b = heap[left]
                c = compare(pos[a], pos[b], fixed, spec, soff, sdata, sbase)
                if c < 0 or (c == 0 and a < b):
                    best = right
            a = heap[best]
            b = heap[i]
            c = compare(pos[a], pos[b], fixed, spec, soff, sdata, sbase)
            if c < 0 or (c == 0 and a < b):
                heap[best] = b
                heap[i] = a
                i = best
            else:
                break
    return n_out


def _flag_string_changes_py(offsets, data, flags):
    n = offsets.shape[0] - 1
    for i in range(1, n):
        a0 = offsets[i - 1]
        a1 = offsets[i]
        b1 = offsets[i + 1]
        if a1 - a0 != b1 - a1:
            flags[i] = True
            continue
        for j in range(a1 - a0):
            if data[a0 + j] != data[a1 + j]:
                flags[i] = True
                break


def flag_string_changes_numpy(offsets: np.ndarray, data: np.ndarray, flags: np.ndarray) -> None:
    n = offsets.shape[0] - 1
    if n < 2:
        return
    lengths = np.diff(offsets)
    items = [data[offsets[i]:offsets[i + 1]].tobytes() for i in range(n)]
    diff = np.array([items[i] != items[i - 1] for i in range(1, n)], dtype=np.bool_)
    flags[1:] |= diff | (lengths[1:] != lengths[:-1])


def to_u64_key(key: np.ndarray) -> np.ndarray:
    """An order key -> uint64 with the same order (signed ints shifted by 2^63)."""
    key = np.asarray(key)
    if key.dtype.kind == "i":
        return key.astype(np.int64).view(np.uint64) ^ np.uint64(1 << 63)
    if key.dtype.kind in "ub":
        return key.astype(np.uint64)
    raise TypeError(f"order keys must be integers, got {key.dtype}")


def kway_merge_numpy(bounds: np.ndarray, keys: list[np.ndarray]) -> np.ndarray:
    """Twin of `kway_merge`: a stable lexsort of the concatenated runs by `keys` (numeric order keys)."""
    n = int(bounds[-1])
    if not keys:
        return np.arange(n, dtype=np.int64)
    return np.lexsort(keys[::-1]).astype(np.int64)


# ---------------------------------------------------------------------------
# compiled kernels (numba imported lazily, on first use)

_compiled: dict[str, object] = {}


def _kernel(name: str):
    fn = _compiled.get(name)
    if fn is None:
        jit = _njit()
        if name == "kway":
            global _compare_rows
            _compare_rows = _kernel("compare")
            fn = jit(_kway_merge_py)
        else:
            fn = jit({"flag": _flag_key_changes_py, "replacing": _replacing_select_py,
                      "sum": _segment_sum_py, "collapsing": _collapsing_keep_py,
                      "compare": _compare_rows_py, "strflag": _flag_string_changes_py,
                      "versioned": _versioned_keep_py}[name])
        _compiled[name] = fn
    return fn


def flag_key_changes(key: np.ndarray, flags: np.ndarray) -> None:
    """OR into `flags[i]` whether `key[i] != key[i-1]` (flags[0] is left alone)."""
    _kernel("flag")(np.ascontiguousarray(key), flags)


def run_starts(keys: list[np.ndarray], n: int) -> np.ndarray:
    """Start positions of the runs of equal keys in rows already sorted by `keys`.

    `keys` are 1-D numeric arrays (order keys of the sorting-key columns); a row
    starts a new run when any of them differs from the previous row.
    """
    if n == 0:
        return np.empty(0, dtype=np.int64)
    flags = np.zeros(n, dtype=np.bool_)
    flags[0] = True
    for key in keys:
        if key.ndim != 1:
            raise ValueError(f"run_starts: key arrays must be 1-D, got shape {key.shape}")
        if key.dtype == np.bool_:
            key = key.view(np.uint8)
        flag_key_changes(key, flags)
    return np.flatnonzero(flags).astype(np.int64)


def replacing_select(starts: np.ndarray, n: int, version: np.ndarray | None) -> np.ndarray:
    """Row index kept for each run: the last row with the maximum `version`
    (the last row of the run when `version` is None)."""
    if version is None:
        return (np.append(starts[1:], n) - 1).astype(np.int64)
    out = np.empty(starts.shape[0], dtype=np.int64)
    if version.dtype == np.bool_:
        version = version.view(np.uint8)
    _kernel("replacing")(starts, n, np.ascontiguousarray(version), out)
    return out


def segment_sum(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Per-run sums of `values`, in `values`' dtype (integers wrap on overflow)."""
    out = np.empty(starts.shape[0], dtype=values.dtype)
    if starts.shape[0]:
        _kernel("sum")(np.ascontiguousarray(values), starts, out)
    return out


def collapsing_keep(starts: np.ndarray, n: int, sign: np.ndarray, only_positive: bool):
    """Rows kept by CollapsingMergeTree, as a bool mask, plus the number of
    inconsistent runs (|#(+1) - #(-1)| > 1, which ClickHouse only logs).

    Per run of equal keys (rows in insertion order), with P rows of sign +1 and
    N rows of sign -1:
    - P == N and the last row is -1: nothing is kept;
    - otherwise the first -1 row is kept when P <= N (not at FINAL, where
      `only_positive` is set), and the last +1 row is kept when P >= N.
    So P == N with a final +1 keeps the pair, P > N keeps the last +1 row and
    N > P keeps the first -1 row.
    """
    keep = np.zeros(n, dtype=np.bool_)
    if n == 0:
        return keep, 0
    bad = _kernel("collapsing")(starts, n, np.ascontiguousarray(sign), bool(only_positive), keep)
    return keep, int(bad)


def flag_string_changes(offsets: np.ndarray, data: np.ndarray, flags: np.ndarray) -> None:
    """OR into `flags[i]` whether string i differs from string i-1 (bytes)."""
    if offsets.shape[0] > 2:
        _kernel("strflag")(np.ascontiguousarray(offsets, dtype=np.int64), np.ascontiguousarray(data), flags)


def kway_merge(bounds: np.ndarray, fixed: np.ndarray, spec: np.ndarray, soff: np.ndarray, sdata: np.ndarray,
               sbase: np.ndarray) -> np.ndarray:
    """Permutation merging sorted runs (see 6. above).

    `fixed`: uint64 (n, F) order keys; `soff`: int64 (S, n + 1) string offsets into
    `sdata` starting at `sbase[s]`; `spec[j]` names key j: `f >= 0` for fixed column f,
    `-(s + 1)` for string column s.
    """
    n = int(bounds[-1])
    out = np.empty(n, dtype=np.int64)
    if n == 0:
        return out
    unsorted = np.full(1, -1, dtype=np.int64)
    got = _kernel("kway")(np.ascontiguousarray(bounds, dtype=np.int64), np.ascontiguousarray(fixed),
                          np.ascontiguousarray(spec, dtype=np.int64), np.ascontiguousarray(soff),
                          np.ascontiguousarray(sdata), np.ascontiguousarray(sbase, dtype=np.int64), out,
                          unsorted)
    if got != n:
        raise ValueError(f"kway_merge: produced {got} rows out of {n} (bounds {bounds.tolist()})")
    if unsorted[0] >= 0:
        row = int(unsorted[0])
        run = int(np.searchsorted(bounds, row, side="right") - 1)
        raise UnsortedRunError(run, row - int(bounds[run]))
    return out


class UnsortedRunError(ValueError):
    """A run given to kway_merge is not sorted by the key (`run`, row `row` inside it)."""

    def __init__(self, run: int, row: int):
        super().__init__(f"run {run} is not sorted by the key at its row {row}")
        self.run = run
        self.row = row


def versioned_collapsing_keep(starts: np.ndarray, n: int, sign: np.ndarray) -> np.ndarray:
    """Rows kept by VersionedCollapsingMergeTree in runs of equal (key, version) (see 5. above)."""
    keep = np.zeros(n, dtype=np.bool_)
    if n:
        _kernel("versioned")(starts, n, np.ascontiguousarray(sign), keep, np.empty(n, dtype=np.int64))
    return keep
