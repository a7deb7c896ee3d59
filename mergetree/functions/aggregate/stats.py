"""Statistical and sketch aggregates (ClickHouse 26.x results):

- varPop/varSamp/stddevPop/stddevSamp, covarPop/covarSamp, corr: ClickHouse's moment sums
  (``(Σx² - (Σx)²/n) / n``...) accumulated in row order in float64, so the results are the same
  floats ClickHouse prints; a sample statistic of fewer than 2 rows is nan. All-Float32 arguments
  give Float32 (ClickHouse accumulates those in Float32, so large inputs can differ in the last digits).
- avgWeighted(x, w) = Σxw / Σw; sumWithOverflow (the argument's type, wrapping); entropy (bits,
  over the value frequencies); anyHeavy (majority vote in row order, numba kernel).
- groupUniqArray([max])(x) (first-appearance order; ClickHouse's is hash-table order, so compare
  it sorted), groupArraySorted(N)(x), topK(N)(x) / topKWeighted(N)(x, w) (by count / weight,
  ties in first-appearance order; ClickHouse's space-saving sketch is exact while a group has
  at most 3N distinct values).
- uniqCombined / uniqCombined64 / uniqHLL12: exact distinct counts. ClickHouse's are exact only
  below their sketch thresholds (uniqHLL12 beyond 16 values, uniqCombined beyond ~2^16 values give
  estimates), so results agree with ClickHouse there and are the true count above.
- quantileTDigest / quantilesTDigest: ClickHouse's t-digest (Float32 centroids, compress every 2048
  values and before the read-out) fed in row order, so the same Float32 results as ClickHouse when
  it adds the rows in one sequence (one block / one thread; merged partial digests can differ); quantileTiming /
  quantilesTiming: the exact ``level * n``-th value of the integer parts, Float32 like ClickHouse.

Each is a self-contained ``resolve(types, params) -> (type, compute)`` unit: the state is the
registry's default (the live rows), so -If/-Distinct/-OrNull/-Array/-ForEach and -State wrap them.
"""

from __future__ import annotations

import numpy as np

from mergetree import types as T
from mergetree.column import ArrayColumn, FixedColumn
from mergetree.errors import BadArgumentsError, IllegalTypeOfArgumentError
from mergetree.functions import values as V
from mergetree.functions.aggregate.registry import check_args, register_aggregate, take_or_default


def _numeric(name, t):
    if not isinstance(t, (T.IntType, T.FloatType, T.BoolType, T.DecimalType)):
        raise IllegalTypeOfArgumentError(f"Illegal type {t} of argument for aggregate function {name}")


def _float_result(types):
    """Float32 when every argument is Float32 (computed in float64 here, then rounded), else Float64."""
    return T.Float32 if all(t == T.Float32 for t in types) else T.Float64


def _floats(col) -> np.ndarray:
    v = col.values.astype(np.float64)
    if isinstance(col.type, T.DecimalType):
        v = v / (10.0 ** col.type.scale)
    return v


def _gsum(ids, values, n_groups):
    from mergetree.kernels.aggregates import grouped_sum

    return grouped_sum(ids, np.ascontiguousarray(values, np.float64), n_groups, np.float64)


def _gcount(ids, n_groups):
    from mergetree.kernels.aggregates import grouped_count

    return grouped_count(ids, n_groups).astype(np.float64)


def _variance(name, sample, root):
    @register_aggregate(name, case_insensitive=name in ("varPop", "varSamp", "stddevPop", "stddevSamp"))
    def resolve(types, params):
        check_args(name, types, 1)
        _numeric(name, types[0])
        rtype = _float_result(types)

        def compute(ids, n_groups, args):
            x = _floats(args[0])
            m0 = _gcount(ids, n_groups)
            m1 = _gsum(ids, x, n_groups)
            m2 = _gsum(ids, x * x, n_groups)
            with np.errstate(all="ignore"):
                d = m0 - 1 if sample else m0
                res = np.maximum((m2 - m1 * m1 / m0) / d, 0.0)
                res = np.where(m0 > (1 if sample else 0), res, np.nan)
                if root:
                    res = np.sqrt(res)
            return V.fixed(rtype, res.astype(rtype.dtype))

        return rtype, compute


_variance("varPop", False, False)
_variance("varSamp", True, False)
_variance("stddevPop", False, True)
_variance("stddevSamp", True, True)


def _covar(name, sample):
    @register_aggregate(name, case_insensitive=True)
    def resolve(types, params):
        check_args(name, types, 2)
        _numeric(name, types[0])
        _numeric(name, types[1])
        rtype = _float_result(types)

        def compute(ids, n_groups, args):
            x, y = _floats(args[0]), _floats(args[1])
            m0 = _gcount(ids, n_groups)
            sx, sy, sxy = _gsum(ids, x, n_groups), _gsum(ids, y, n_groups), _gsum(ids, x * y, n_groups)
            with np.errstate(all="ignore"):
                res = (sxy - sx * sy / m0) / (m0 - 1 if sample else m0)
                res = np.where(m0 > (1 if sample else 0), res, np.nan)
            return V.fixed(rtype, res.astype(rtype.dtype))

        return rtype, compute


_covar("covarPop", False)
_covar("covarSamp", True)


@register_aggregate("corr", case_insensitive=True)
def corr(types, params):
    check_args("corr", types, 2)
    _numeric("corr", types[0])
    _numeric("corr", types[1])

    def compute(ids, n_groups, args):
        x, y = _floats(args[0]), _floats(args[1])
        m0 = _gcount(ids, n_groups)
        sx, sy = _gsum(ids, x, n_groups), _gsum(ids, y, n_groups)
        sxy, sx2, sy2 = _gsum(ids, x * y, n_groups), _gsum(ids, x * x, n_groups), _gsum(ids, y * y, n_groups)
        with np.errstate(all="ignore"):
            res = (m0 * sxy - sx * sy) / np.sqrt((m0 * sx2 - sx * sx) * (m0 * sy2 - sy * sy))
            res = np.where(m0 > 1, res, np.nan)
        return V.fixed(T.Float64, res)

    return T.Float64, compute


@register_aggregate("avgWeighted")
def avg_weighted(types, params):
    check_args("avgWeighted", types, 2)
    _numeric("avgWeighted", types[0])
    _numeric("avgWeighted", types[1])
    wt = types[1]
    # an integer weight makes ClickHouse accumulate value * weight in the weight's 64-bit type
    # (wrapping; a float value is truncated first), the weights too; a float weight: Float64
    int_acc = (np.int64 if wt.signed else np.uint64) if isinstance(wt, T.IntType) else \
        (np.uint64 if isinstance(wt, T.BoolType) else None)

    def compute(ids, n_groups, args):
        from mergetree.kernels.aggregates import grouped_sum

        if int_acc is not None and not isinstance(types[0], T.DecimalType):
            xv = args[0].values
            if xv.dtype.kind == "f":
                xv = np.trunc(xv).astype(np.int64)
            with np.errstate(over="ignore"):
                x = xv.astype(np.int64).astype(int_acc) if int_acc is np.uint64 else xv.astype(np.int64)
                w = args[1].values.astype(int_acc)
                num = grouped_sum(ids, x * w, n_groups, int_acc)
            den = grouped_sum(ids, w, n_groups, int_acc)
            with np.errstate(all="ignore"):
                return V.fixed(T.Float64, num.astype(np.float64) / den.astype(np.float64))
        x, w = _floats(args[0]), _floats(args[1])
        with np.errstate(all="ignore"):
            return V.fixed(T.Float64, _gsum(ids, x * w, n_groups) / _gsum(ids, w, n_groups))

    return T.Float64, compute


@register_aggregate("sumWithOverflow")
def sum_with_overflow(types, params):
    check_args("sumWithOverflow", types, 1)
    t = types[0]
    if not isinstance(t, (T.IntType, T.FloatType)):
        raise IllegalTypeOfArgumentError(f"Illegal type {t} of argument for aggregate function sumWithOverflow")

    def compute(ids, n_groups, args):
        from mergetree.kernels.aggregates import grouped_sum

        if isinstance(t, T.FloatType):
            return V.fixed(t, grouped_sum(ids, args[0].values.astype(np.float64), n_groups, np.float64).astype(t.dtype))
        acc = np.int64 if t.signed else np.uint64
        with np.errstate(over="ignore"):
            total = grouped_sum(ids, args[0].values.astype(acc), n_groups, acc)
        return V.fixed(t, total.astype(t.dtype))  # wraps to the argument's width, as ClickHouse

    return t, compute


def _value_groups(ids, args):
    """(live rows, (group, value) group id per live row, first row of every (group, value))."""
    from mergetree.kernels.groupby import group_rows

    live = np.flatnonzero(ids >= 0)
    if len(live) == 0:
        return live, np.zeros(0, np.int64), np.zeros(0, np.int64)
    pair_ids, _, first = group_rows([FixedColumn(T.Int64, ids[live])] + [a.take(live) for a in args])
    return live, pair_ids, live[first]


@register_aggregate("entropy")
def entropy(types, params):
    check_args("entropy", types, 1, 16)

    def compute(ids, n_groups, args):
        live, pair_ids, first = _value_groups(ids, args)
        out = np.zeros(n_groups)
        if len(live):
            counts = np.bincount(pair_ids).astype(np.float64)
            group_of = ids[first]
            totals = np.bincount(group_of, weights=counts, minlength=n_groups)
            p = counts / totals[group_of]
            out = np.bincount(group_of, weights=-p * np.log2(p), minlength=n_groups)
            out = np.where(out == 0, 0.0, out)
        return V.fixed(T.Float64, out)

    return T.Float64, compute


@register_aggregate("anyHeavy")
def any_heavy(types, params):
    check_args("anyHeavy", types, 1)
    rtype = types[0]

    def compute(ids, n_groups, args):
        from mergetree.kernels.aggregates_extra import grouped_heavy

        col = args[0]
        keys = col.values if isinstance(col, FixedColumn) and col.values.ndim == 1 else \
            (col.dense_ranks() if len(col) else np.zeros(0, np.int64))
        if keys.dtype.kind == "f":
            keys = col.dense_ranks()
        return take_or_default(col, grouped_heavy(ids, keys, n_groups), rtype)

    return rtype, compute


def _max_size(name, params, required=False):
    if not params:
        if required:
            raise BadArgumentsError(f"Aggregate function {name} requires a size parameter")
        return None
    k = params[0]
    if isinstance(k, bool) or not isinstance(k, int) or k <= 0:
        raise BadArgumentsError(f"Parameter for aggregate function {name} must be a positive integer, got {k!r}")
    return k


def _arrays_by_group(rows, groups, n_groups, col, t):
    """Array(t) per group of the given rows (already ordered within their groups)."""
    counts = np.bincount(groups, minlength=n_groups).astype(np.int64)
    offsets = np.zeros(n_groups + 1, np.int64)
    np.cumsum(counts, out=offsets[1:])
    order = np.argsort(groups, kind="stable")
    return ArrayColumn(T.Array(t), offsets, col.take(rows[order]))


def _rank_in_group(groups):
    """0-based position of every entry within its group, in the given order."""
    order = np.argsort(groups, kind="stable")
    sg = groups[order]
    start = np.searchsorted(sg, sg, side="left")
    pos = np.empty(len(groups), np.int64)
    pos[order] = np.arange(len(groups)) - start
    return pos


@register_aggregate("groupUniqArray", null_result=False)
def group_uniq_array(types, params):
    check_args("groupUniqArray", types, 1)
    limit = _max_size("groupUniqArray", params)
    t = types[0]

    def compute(ids, n_groups, args):
        live, pair_ids, first = _value_groups(ids, args)
        first = np.sort(first)
        groups = ids[first]
        if limit is not None and len(first):
            keep = _rank_in_group(groups) < limit
            first, groups = first[keep], groups[keep]
        return _arrays_by_group(first, groups, n_groups, args[0], t)

    return T.Array(t), compute


@register_aggregate("groupArraySorted", null_result=False)
def group_array_sorted(types, params):
    from mergetree.kernels.sort import flatten_keys

    check_args("groupArraySorted", types, 1)
    limit = _max_size("groupArraySorted", params, required=True)
    t = types[0]

    def compute(ids, n_groups, args):
        live = np.flatnonzero(ids >= 0)
        col = args[0].take(live)
        keys = flatten_keys(col.order_key()) if len(col) else []
        order = np.lexsort(tuple(reversed([ids[live]] + keys))) if len(live) else np.zeros(0, np.int64)
        rows, groups = live[order], ids[live][order]
        keep = _rank_in_group(groups) < limit
        return _arrays_by_group(rows[keep], groups[keep], n_groups, args[0], t)

    return T.Array(t), compute


def _top_k(name, weighted):
    @register_aggregate(name, null_result=False)
    def resolve(types, params):
        check_args(name, types, 2 if weighted else 1)
        k = _max_size(name, params[:1]) or 10
        t = types[0]
        if weighted and not isinstance(types[1], (T.IntType, T.BoolType)):
            raise IllegalTypeOfArgumentError(f"Illegal type {types[1]} of the weight of aggregate function {name}")

        def compute(ids, n_groups, args):
            live, pair_ids, first = _value_groups(ids, args[:1])
            if weighted:
                w = args[1].values[live].astype(np.float64)
                score = np.bincount(pair_ids, weights=w) if len(live) else np.zeros(0)
            else:
                score = np.bincount(pair_ids).astype(np.float64) if len(live) else np.zeros(0)
            groups = ids[first]
            order = np.lexsort((first, -score, groups))   # by group, score desc, first appearance
            rows, groups = first[order], groups[order]
            keep = _rank_in_group(groups) < k
            return _arrays_by_group(rows[keep], groups[keep], n_groups, args[0], t)

        return T.Array(t), compute


_top_k("topK", False)
_top_k("topKWeighted", True)


def _exact_uniq(name):
    @register_aggregate(name, null_result=False)
    def resolve(types, params):
        from mergetree.functions.aggregate.uniq import uniq_exact

        return uniq_exact(types, ())


for _name in ("uniqCombined", "uniqCombined64", "uniqHLL12", "uniqTheta"):
    _exact_uniq(_name)


def _levels(name, params, many):
    levels = list(params) if params else [0.5]
    if not many and len(levels) != 1:
        raise BadArgumentsError(f"Aggregate function {name} takes one level parameter")
    for lv in levels:
        if isinstance(lv, bool) or not isinstance(lv, (int, float)) or not 0 <= lv <= 1:
            raise BadArgumentsError(f"Quantile level must be a number in [0, 1], got {lv!r} in {name}")
    return [float(lv) for lv in levels]


def _sorted_groups(ids, n_groups, values):
    live = np.flatnonzero(ids >= 0)
    order = np.lexsort((values[live], ids[live]))
    counts = np.bincount(ids[live], minlength=n_groups).astype(np.int64)
    starts = np.zeros(n_groups, np.int64)
    np.cumsum(counts[:-1], out=starts[1:]) if n_groups > 1 else None
    return np.ascontiguousarray(values[live][order]), starts, counts


def _quantile_family(name, many, timing):
    @register_aggregate(name)
    def resolve(types, params):
        check_args(name, types, 1)
        _numeric(name, types[0])
        levels = _levels(name, params, many)

        def compute(ids, n_groups, args):
            x = _floats(args[0])
            if timing:
                x = np.trunc(x)
                ids = np.where(x >= 0, ids, -1)  # negative times are ignored
            sv, starts, counts = _sorted_groups(ids, n_groups, x)
            results = []
            if not timing:   # the digest sees each group's values in row order
                from mergetree.kernels.aggregates_extra import tdigest_quantiles

                live = np.flatnonzero(ids >= 0)
                in_order = live[np.argsort(ids[live], kind="stable")]
                digest = tdigest_quantiles(np.ascontiguousarray(x[in_order]), starts, counts,
                                           np.array(levels, np.float64))
            for j, lv in enumerate(levels):
                if timing:
                    r = np.full(n_groups, np.nan)
                    has = counts > 0
                    idx = np.minimum((lv * counts[has]).astype(np.int64), counts[has] - 1)
                    r[has] = sv[starts[has] + idx]
                else:
                    r = digest[:, j]
                results.append(r.astype(np.float32))
            if not many:
                return V.fixed(T.Float32, results[0])
            flat = np.stack(results, axis=1).reshape(-1) if n_groups else np.zeros(0, np.float32)
            offsets = np.arange(n_groups + 1, dtype=np.int64) * len(levels)
            return ArrayColumn(T.Array(T.Float32), offsets, V.fixed(T.Float32, flat))

        return (T.Array(T.Float32) if many else T.Float32), compute


_quantile_family("quantileTDigest", False, False)
_quantile_family("quantilesTDigest", True, False)
_quantile_family("quantileTiming", False, True)
_quantile_family("quantilesTiming", True, True)


# --------------------------------------------------------------------------- sumMap / minMap / maxMap


def _sum_acc(t):
    if isinstance(t, T.FloatType):
        return T.Float64, np.float64
    if isinstance(t, (T.IntType, T.BoolType)):
        return (T.Int64, np.int64) if getattr(t, "signed", False) else (T.UInt64, np.uint64)
    raise IllegalTypeOfArgumentError(f"Illegal type {t} of the values of a -Map aggregate function")


def _map_aggregate(name, how):
    """sumMap(keys, values) / sumMap(map): per group, the values of equal keys combined, keys sorted;
    sumMap drops keys whose total is 0 (ClickHouse); the Map form returns a Map."""

    @register_aggregate(name, null_result=False)
    def resolve(types, params):
        from mergetree.column import MapColumn, TupleColumn

        map_form = len(types) == 1 and isinstance(types[0], T.MapType)
        if map_form:
            kt, vt = types[0].key, types[0].value
        else:
            check_args(name, types, 2)
            if not all(isinstance(t, T.ArrayType) for t in types):
                raise IllegalTypeOfArgumentError(f"Aggregate function {name} requires two arrays (keys, values) or a Map")
            kt, vt = types[0].inner, types[1].inner
        out_vt, acc = _sum_acc(vt) if how == "sum" else (vt, None)
        rtype = T.MapType(kt, out_vt) if map_form else T.TupleType((T.Array(kt), T.Array(out_vt)))

        def compute(ids, n_groups, args):
            from mergetree.kernels.aggregates import grouped_arg_extreme, grouped_sum
            from mergetree.kernels.groupby import group_rows
            from mergetree.kernels.sort import flatten_keys

            if map_form:
                m = V.materialize(args[0])
                offsets, keys, values = m.offsets, m.keys, m.values
            else:
                a, b = V.materialize(args[0]), V.materialize(args[1])
                if not np.array_equal(a.offsets, b.offsets):
                    from mergetree.errors import SizesOfArraysDontMatchError

                    raise SizesOfArraysDontMatchError(f"Keys and values of {name} must have equal sizes")
                offsets, keys, values = a.offsets, a.values, b.values
            row_ids = np.repeat(ids, np.diff(offsets))
            live = np.flatnonzero(row_ids >= 0)
            if len(live):
                pair, n_pairs, first = group_rows([FixedColumn(T.Int64, row_ids[live]), keys.take(live)])
            else:
                pair, n_pairs, first = np.zeros(0, np.int64), 0, np.zeros(0, np.int64)
            first_rows = live[first]
            if how == "sum":
                vals = V.fixed(out_vt, grouped_sum(pair, values.take(live).values.astype(acc), n_pairs, acc))
                keep = vals.values != 0
            else:
                sub = values.take(live)
                pick = grouped_arg_extreme(pair, sub.values if isinstance(sub, FixedColumn) and sub.values.ndim == 1
                                           else sub.dense_ranks(), n_pairs, how == "max")
                vals = sub.take(pick)
                keep = np.ones(n_pairs, np.bool_)
            groups = row_ids[first_rows]
            pkeys = keys.take(first_rows)
            order = np.lexsort(tuple(reversed([groups] + flatten_keys(pkeys.order_key())))) if n_pairs else \
                np.zeros(0, np.int64)
            order = order[keep[order]]
            counts = np.bincount(groups[order], minlength=n_groups).astype(np.int64)
            out_off = np.zeros(n_groups + 1, np.int64)
            np.cumsum(counts, out=out_off[1:])
            k_col, v_col = pkeys.take(order), vals.take(order)
            if map_form:
                return MapColumn(rtype, out_off, k_col, v_col)
            return TupleColumn(rtype, [ArrayColumn(T.Array(kt), out_off, k_col),
                                       ArrayColumn(T.Array(out_vt), out_off, v_col)], n_groups)

        return rtype, compute


_map_aggregate("sumMap", "sum")
_map_aggregate("minMap", "min")
_map_aggregate("maxMap", "max")
