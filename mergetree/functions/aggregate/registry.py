"""The aggregate function registry and its combinators.

An aggregate is computed over a whole batch at once: ``compute(ids, n_groups, args) -> Column``
where ``ids`` is an int64 group label per row (``-1`` = the row does not take part, which is how
-If, -Distinct and NULL arguments are expressed) and ``args`` are plain Columns of the argument
types the function was resolved for. A base function registers
``resolve(arg_types, params) -> (result_type, compute)``.

Streaming (aggregation block by block): ``partial(ids, n_groups, args) -> (state_ids, state_columns)``
turns one block into state rows labelled with the block's group ids, and ``final(state_ids,
n_groups, state_columns) -> Column`` computes the result from the state rows of all blocks
(relabelled to the merged groups). Invariant: a group has state rows iff some row reached the base
function, so NULL / -OrNull / -OrDefault are decided from the state rows alone. By default the state
rows are the block's live rows themselves and ``final`` is ``compute`` (always correct); count, sum,
avg reduce to one row per group and min/max/any/anyLast/argMin/argMax keep one row per group.

Name resolution follows ClickHouse: a name that is not a base function is split at a known
combinator suffix, right to left (``sumIfOrNull`` = OrNull(If(sum))). NULL handling is the
implicit "Null" combinator: a Nullable argument makes rows with a NULL argument skip, and the
result becomes Nullable (NULL for a group without non-NULL rows) unless the function declares
``null_result=False`` (count, uniqExact). LowCardinality arguments are decoded.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable

import numpy as np

from mergetree import types as T
from mergetree.column import Column, NullableColumn, default_column
from mergetree.errors import (IllegalTypeOfArgumentError, NotImplementedSQLError, NumberOfArgumentsError,
                              UnknownFunctionError)
from mergetree.functions import values as V


@dataclass(frozen=True)
class AggregateFunction:
    """An aggregate resolved for concrete argument types."""

    name: str
    arg_types: tuple
    params: tuple
    type: T.DataType
    compute: Callable[[np.ndarray, int, list], Column]
    partial: Callable[[np.ndarray, int, list], tuple] = None
    final: Callable[[np.ndarray, int, list], Column] = None


def rows_partial(ids: np.ndarray, n_groups: int, args: list) -> tuple:
    """The default state: the live rows themselves (labelled with their group)."""
    live = np.flatnonzero(ids >= 0)
    return ids[live], [a.take(live) for a in args]


@dataclass(frozen=True)
class Impl:
    """compute + (partial, final); resolve functions may return a bare compute callable."""

    compute: Callable
    partial: Callable = rows_partial
    final: Callable | None = None

    def __post_init__(self):
        if self.final is None:
            object.__setattr__(self, "final", self.compute)


def _impl(x) -> Impl:
    return x if isinstance(x, Impl) else Impl(x)


def reduced(compute, state: Callable, merge: Callable) -> Impl:
    """An Impl whose state is one row per non-empty group: ``state(ids, n, args) -> (groups,
    cols)``, ``merge(state_ids, n, cols) -> Column``."""
    return Impl(compute, state, merge)


@dataclass(frozen=True)
class _Base:
    name: str
    resolve: Callable
    null_result: bool
    case_insensitive: bool


_BASES: dict[str, _Base] = {}
_CI_BASES: dict[str, _Base] = {}
_COMBINATORS = ("OrDefault", "OrNull", "Distinct", "If", "Array", "ForEach")
# -State & co. (states.py): outermost suffix only, e.g. uniqIfState, sumMerge, avgMergeState
_STATE_COMBINATORS = ("MergeState", "SimpleState", "State", "Merge")
_ALIASES = {"countDistinct": "uniqExact", "first_value": "any", "last_value": "anyLast"}   # (as ClickHouse)


def register_aggregate(name: str, *, null_result: bool = True, case_insensitive: bool = False):
    """Decorator registering ``resolve(arg_types, params) -> (type, compute)`` as aggregate `name`."""

    def deco(resolve):
        base = _Base(name, resolve, null_result, case_insensitive)
        _BASES[name] = base
        if case_insensitive:
            _CI_BASES[name.lower()] = base
        return resolve

    return deco


_loaded = False


_loading = False
_load_lock = threading.RLock()


def _load() -> None:
    # Thread-safe: `_loaded` turns True only once the modules are imported (concurrent first queries of a
    # server otherwise saw a half-filled registry: NOT_AN_AGGREGATE for max()); a nested call returns.
    global _loaded, _loading
    with _load_lock:
        if _loaded or _loading:
            return
        _loading = True
        try:
            from mergetree.functions.aggregate import basic, extremes, quantiles, stats, uniq  # noqa: F401
        finally:
            _loading = False
        _loaded = True


def _base(name: str) -> _Base | None:
    if not _loaded:
        _load()
    name = _ALIASES.get(name, name)
    return _BASES.get(name) or _CI_BASES.get(name.lower())


def _split(name: str) -> tuple[str, list[str]] | None:
    """(base name, combinators innermost first) or None when `name` is not an aggregate."""
    if _base(name) is not None:
        return name, []
    for suffix in _STATE_COMBINATORS:
        if name.endswith(suffix) and len(name) > len(suffix):
            inner = _split(name[:-len(suffix)])
            if inner is not None and not any(c in _STATE_COMBINATORS for c in inner[1]):
                return inner[0], inner[1] + [suffix]
    for suffix in _COMBINATORS:
        if name.endswith(suffix) and len(name) > len(suffix):
            inner = _split(name[:-len(suffix)])
            if inner is not None:
                return inner[0], inner[1] + [suffix]
    return None


def is_aggregate(name: str) -> bool:
    return _split(name) is not None


def aggregate_names(with_combinators: bool = False) -> list[str]:
    """Base aggregate names (plus one level of combinator suffixes, for suggestions)."""
    if not _loaded:
        _load()
    names = sorted(_BASES)
    if with_combinators:
        names += [n + c for n in names for c in _COMBINATORS]
    return names


def get_aggregate(name: str, arg_types: list, params: tuple = ()) -> AggregateFunction:
    split = _split(name)
    if split is None:
        from mergetree.functions.registry import suggest

        raise UnknownFunctionError(name, suggest(name, aggregate_names()))
    base_name, combinators = split
    if any(c in _STATE_COMBINATORS for c in combinators[:-1]):
        raise NotImplementedSQLError(f"Aggregate function {name}: -State/-Merge/-MergeState/-SimpleState must "
                                     f"be the last combinator here (e.g. sumIfMerge, not sumMergeIf)")
    if combinators and combinators[-1] in _STATE_COMBINATORS:
        from mergetree.functions.aggregate.states import resolve_state_combinator

        return resolve_state_combinator(name, list(arg_types), tuple(params))
    rtype, impl = _resolve(base_name, combinators, [V.strip_lc(t) for t in arg_types], tuple(params))
    return AggregateFunction(name, tuple(arg_types), tuple(params), rtype, _decode_lc(impl.compute),
                             _decode_lc(impl.partial), impl.final)


def _decode_lc(fn):
    def run(ids, n_groups, args):
        return fn(ids, n_groups, [V.unwrap_lc(a) for a in args])
    return run


def _resolve(base_name: str, combinators: list[str], types: list, params: tuple):
    """Row filters (-If, -Distinct) wrap outermost in the order written; -OrNull / -OrDefault apply
    to the rows that reach the base function (``sumIfOrNull`` is NULL for a group whose rows all
    fail the condition), so they wrap the base directly."""
    filters = [c for c in combinators if c in ("If", "Distinct", "Array", "ForEach")]
    finals = [c for c in combinators if c in ("OrNull", "OrDefault")]
    return _resolve_filters(base_name, filters, finals, types, params)


def _resolve_filters(base_name, filters, finals, types, params):
    if not filters:
        rtype, impl = _resolve_base(_base(base_name), types, params)
        for c in finals:
            if c == "OrNull":
                rtype = V.make_nullable(rtype)
            impl = Impl(_empty_groups(impl.compute, rtype, null=c == "OrNull"), impl.partial,
                        _empty_groups(impl.final, rtype, null=c == "OrNull"))
        return rtype, impl
    outer, inner = filters[-1], filters[:-1]
    if outer in ("Array", "ForEach"):
        from mergetree.functions.aggregate.combinators import array_combinator

        return array_combinator(outer, lambda ts: _resolve_filters(base_name, inner, finals, ts, params), types)
    if outer == "If":
        if not types:
            raise NumberOfArgumentsError(f"Aggregate function {base_name}If requires a condition argument")
        cond = V.strip(types[-1])
        if not isinstance(cond, (T.IntType, T.BoolType)) and not V.is_null_type(types[-1]):
            raise IllegalTypeOfArgumentError(f"Illegal type {types[-1]} of last argument for aggregate function "
                                             f"with If suffix. Must be UInt8")
        rtype, impl = _resolve_filters(base_name, inner, finals, types[:-1], params)
        return rtype, Impl(_if_combinator(impl.compute), _if_combinator(impl.partial), impl.final)
    rtype, impl = _resolve_filters(base_name, inner, finals, types, params)
    distinct = _distinct_combinator(impl.compute)
    # the state keeps the distinct rows of each block; final removes duplicates across blocks
    return rtype, Impl(distinct, _distinct_combinator(rows_partial), distinct)


def _resolve_base(base: _Base, types: list, params: tuple):
    nullable = [isinstance(t, T.NullableType) for t in types]
    if not any(nullable):
        rtype, impl = base.resolve(types, params)
        return rtype, _impl(impl)
    plain = [V.strip(t) for t in types]
    if any(V.is_null_type(t) for t in types):
        plain = [T.UInt8 if V.is_null_type(t) else p for t, p in zip(types, plain)]
    rtype, impl = base.resolve(plain, params)
    impl = _impl(impl)
    out_type = V.make_nullable(rtype) if base.null_result else rtype

    def strip_nulls(ids, args):
        ids = ids.copy()
        plain_args = []
        for a in args:
            a, nulls = V.split_nullable(a)
            plain_args.append(V.materialize(a))
            if nulls is not None:
                ids[nulls] = -1
        return ids, plain_args

    def with_nulls(res, ids, n_groups):
        if not base.null_result:
            return res
        from mergetree.kernels.aggregates import grouped_count

        return NullableColumn(out_type, res, grouped_count(ids, n_groups) == 0)

    def run(ids, n_groups, args):
        ids, plain_args = strip_nulls(ids, args)
        return with_nulls(impl.compute(ids, n_groups, plain_args), ids, n_groups)

    def partial(ids, n_groups, args):
        return impl.partial(*_swap(strip_nulls(ids, args), n_groups))

    def final(state_ids, n_groups, cols):
        return with_nulls(impl.final(state_ids, n_groups, cols), state_ids, n_groups)

    return out_type, Impl(run, partial, final)


def _swap(ids_args, n_groups):
    ids, args = ids_args
    return ids, n_groups, args


def _if_combinator(compute):
    def run(ids, n_groups, args):
        cond, nulls = V.split_nullable(args[-1])
        keep = np.asarray(V.materialize(cond).values) != 0
        if nulls is not None:
            keep &= ~nulls
        return compute(np.where(keep, ids, -1), n_groups, args[:-1])
    return run


def _distinct_combinator(compute):
    def run(ids, n_groups, args):
        from mergetree.column import FixedColumn
        from mergetree.kernels.groupby import group_rows

        live = np.flatnonzero(ids >= 0)
        if len(live) == 0:
            return compute(ids, n_groups, args)
        keys = [FixedColumn(T.Int64, ids[live])] + [a.take(live) for a in args]
        _, _, first = group_rows(keys)
        deduped = np.full(len(ids), -1, np.int64)
        deduped[live[first]] = ids[live[first]]
        return compute(deduped, n_groups, args)
    return run


def _empty_groups(compute, out_type, null: bool):
    """-OrNull / -OrDefault: a group without rows gives NULL / the type's default."""

    def run(ids, n_groups, args):
        from mergetree.kernels.aggregates import grouped_count

        res = compute(ids, n_groups, args)
        empty = grouped_count(ids, n_groups) == 0
        if null:
            if isinstance(res, NullableColumn):
                return NullableColumn(out_type, res.values, res.nulls | empty)
            return NullableColumn(out_type, res, empty)
        if not empty.any():
            return res
        return take_or_default(res, np.where(empty, -1, np.arange(n_groups)), out_type)

    return run


def take_or_default(col: Column, rows: np.ndarray, t: T.DataType) -> Column:
    """col.take(rows) where rows == -1 gives the type's default value (NULL for Nullable)."""
    n = len(col)
    if n == 0:
        return default_column(t, len(rows))
    if not (rows < 0).any():
        return col.take(rows)
    padded = Column.concat([col, default_column(col.type, 1)])
    return padded.take(np.where(rows < 0, n, rows))


def check_args(name: str, types: list, lo: int, hi: int | None = None) -> None:
    hi = lo if hi is None else hi
    if not lo <= len(types) <= hi:
        want = str(lo) if lo == hi else f"{lo} to {hi}"
        raise NumberOfArgumentsError(f"Number of arguments for aggregate function {name} doesn't match: "
                                     f"passed {len(types)}, should be {want}")
