"""quantile(level)(x), median(x), quantiles(l1, ..)(x), quantileExact(level)(x), groupArray(x), uniq(x).

ClickHouse's `quantile` keeps a reservoir sample of 8192 values per group and interpolates
linearly between the two nearest sorted values; below 8192 values per group the sample is the
whole group, which is what this implementation always uses (exact, deterministic). `uniq` is
exact here (ClickHouse's is exact up to 65536 distinct values, approximate above).
All of them sort the live rows once by (group, value) with np.lexsort.
"""

from __future__ import annotations

import numpy as np

from mergetree import types as T
from mergetree.column import ArrayColumn
from mergetree.errors import BadArgumentsError, IllegalTypeOfArgumentError, NumberOfArgumentsError
from mergetree.functions import values as V
from mergetree.functions.aggregate.registry import check_args, register_aggregate


def _levels(name: str, params: tuple, many: bool) -> list[float]:
    levels = list(params) if params else [0.5]
    if not many and len(levels) != 1:
        raise BadArgumentsError(f"Aggregate function {name} takes one level parameter")
    for lv in levels:
        if isinstance(lv, bool) or not isinstance(lv, (int, float)) or not 0 <= lv <= 1:
            raise BadArgumentsError(f"Quantile level must be a number in [0, 1], got {lv!r} in {name}")
    return [float(lv) for lv in levels]


def _sorted_groups(ids: np.ndarray, n_groups: int, values: np.ndarray):
    """(sorted values of live rows grouped by group id, start of each group, count of each group)."""
    live = np.flatnonzero(ids >= 0)
    order = np.lexsort((values[live], ids[live]))
    rows = live[order]
    counts = np.bincount(ids[live], minlength=n_groups).astype(np.int64)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    return values[rows], starts, counts


def _interpolated(sorted_values, starts, counts, level: float) -> np.ndarray:
    out = np.full(len(counts), np.nan)
    has = counts > 0
    index = level * (counts[has] - 1).astype(np.float64)
    lo = index.astype(np.int64)
    frac = index - lo
    hi = np.minimum(lo + 1, counts[has] - 1)
    a = sorted_values[starts[has] + lo].astype(np.float64)
    b = sorted_values[starts[has] + hi].astype(np.float64)
    out[has] = a * (1 - frac) + b * frac
    return out


def _numeric(name: str, t):
    if not isinstance(t, (T.IntType, T.FloatType, T.BoolType)):
        raise IllegalTypeOfArgumentError(f"Illegal type {t} of argument for aggregate function {name}")


def _quantile(name: str, many: bool, default_level: float | None = None):
    def resolve(types, params):
        check_args(name, types, 1)
        _numeric(name, types[0])
        levels = [default_level] if default_level is not None else _levels(name, params, many)

        def compute(ids, n_groups, args):
            sv, starts, counts = _sorted_groups(ids, n_groups, args[0].values)
            results = [_interpolated(sv, starts, counts, lv) for lv in levels]
            if not many:
                return V.fixed(T.Float64, results[0])
            flat = np.stack(results, axis=1).reshape(-1) if n_groups else np.zeros(0)
            offsets = np.arange(n_groups + 1, dtype=np.int64) * len(levels)
            return ArrayColumn(T.Array(T.Float64), offsets, V.fixed(T.Float64, flat))

        return (T.Array(T.Float64) if many else T.Float64), compute

    register_aggregate(name)(resolve)


_quantile("quantile", False)
_quantile("median", False, 0.5)
_quantile("quantiles", True)


@register_aggregate("quantileExact")
def quantile_exact(types, params):
    check_args("quantileExact", types, 1)
    _numeric("quantileExact", types[0])
    (level,) = _levels("quantileExact", params, False)
    t = types[0]

    def compute(ids, n_groups, args):
        sv, starts, counts = _sorted_groups(ids, n_groups, args[0].values)
        out = np.zeros(n_groups, t.dtype)
        has = counts > 0
        index = np.minimum((level * counts[has]).astype(np.int64), counts[has] - 1)
        out[has] = sv[starts[has] + index]
        return V.fixed(t, out)

    return t, compute


@register_aggregate("groupArray", null_result=False)
def group_array(types, params):
    check_args("groupArray", types, 1)
    t = types[0]

    def compute(ids, n_groups, args):
        live = np.flatnonzero(ids >= 0)
        rows = live[np.argsort(ids[live], kind="stable")]          # group by group, rows in order
        counts = np.bincount(ids[live], minlength=n_groups).astype(np.int64)
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        return ArrayColumn(T.Array(t), offsets, args[0].take(rows))

    return T.Array(t), compute


@register_aggregate("groupArraySample", null_result=False)
def group_array_sample(types, params):
    """groupArraySample(max_size[, seed])(x): at most max_size values per group, a uniform random
    sample (seeded: the same rows give the same sample), kept in input order."""
    check_args("groupArraySample", types, 1)
    if not 1 <= len(params) <= 2 or any(not isinstance(p, int) or isinstance(p, bool) or p < 0 for p in params):
        raise NumberOfArgumentsError("Function groupArraySample takes max_size and an optional seed "
                                     "(non-negative integer parameters): groupArraySample(N[, seed])(x)")
    size, seed = int(params[0]), int(params[1]) if len(params) > 1 else 123456
    t = types[0]

    def compute(ids, n_groups, args):
        live = np.flatnonzero(ids >= 0)
        shuffled = live[np.lexsort((np.random.default_rng(seed).random(len(live)), ids[live]))]
        counts = np.bincount(ids[shuffled], minlength=n_groups).astype(np.int64)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
        rank = np.arange(len(shuffled), dtype=np.int64) - np.repeat(starts, counts)
        kept = shuffled[rank < size]
        kept = kept[np.lexsort((kept, ids[kept]))]                # group by group, rows in input order
        offsets = np.concatenate([[0], np.cumsum(np.minimum(counts, size))]).astype(np.int64)
        return ArrayColumn(T.Array(t), offsets, args[0].take(kept))

    return T.Array(t), compute


@register_aggregate("uniq", null_result=False)
def uniq(types, params):
    from mergetree.functions.aggregate.uniq import uniq_exact

    return uniq_exact(types, params)
