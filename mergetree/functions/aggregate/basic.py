"""count, sum, avg."""

from __future__ import annotations

import numpy as np

from mergetree import types as T
from mergetree.errors import IllegalTypeOfArgumentError
from mergetree.functions import values as V
from mergetree.functions.aggregate.registry import check_args, reduced, register_aggregate


def _kernels():
    from mergetree.kernels import aggregates

    return aggregates


@register_aggregate("count", null_result=False, case_insensitive=True)
def count(types, params):
    check_args("count", types, 0, 1)

    def compute(ids, n_groups, args):
        return V.fixed(T.UInt64, _kernels().grouped_count(ids, n_groups))

    def state(ids, n_groups, args):
        counts = _kernels().grouped_count(ids, n_groups)
        groups = np.flatnonzero(counts)
        return groups, [V.fixed(T.UInt64, counts[groups])]

    def merge(state_ids, n_groups, cols):
        return V.fixed(T.UInt64, _kernels().grouped_sum(state_ids, cols[0].values, n_groups, np.uint64))

    return T.UInt64, reduced(compute, state, merge)


def _sum_types(name: str, t):
    """(result type, accumulator dtype) of sum over t, as ClickHouse widens it."""
    if isinstance(t, T.BoolType):
        return T.UInt64, np.uint64
    if isinstance(t, T.IntType):
        return (T.Int64, np.int64) if t.signed else (T.UInt64, np.uint64)
    if isinstance(t, T.FloatType):
        return T.Float64, np.float64
    raise IllegalTypeOfArgumentError(f"Illegal type {t} of argument for aggregate function {name}")


@register_aggregate("sum", case_insensitive=True)
def sum_(types, params):
    check_args("sum", types, 1)
    rtype, acc = _sum_types("sum", types[0])

    def compute(ids, n_groups, args):
        return V.fixed(rtype, _kernels().grouped_sum(ids, args[0].values, n_groups, acc))

    def state(ids, n_groups, args):
        groups = np.flatnonzero(_kernels().grouped_count(ids, n_groups))
        return groups, [V.fixed(rtype, _kernels().grouped_sum(ids, args[0].values, n_groups, acc)[groups])]

    def merge(state_ids, n_groups, cols):
        return compute(state_ids, n_groups, cols)

    return rtype, reduced(compute, state, merge)


@register_aggregate("avg", case_insensitive=True)
def avg(types, params):
    check_args("avg", types, 1)
    _, acc = _sum_types("avg", types[0])

    sum_type = _sum_types("avg", types[0])[0]

    def compute(ids, n_groups, args):
        k = _kernels()
        total = k.grouped_sum(ids, args[0].values, n_groups, acc).astype(np.float64)
        n = k.grouped_count(ids, n_groups).astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            return V.fixed(T.Float64, total / n)

    def state(ids, n_groups, args):
        k = _kernels()
        counts = k.grouped_count(ids, n_groups)
        groups = np.flatnonzero(counts)
        sums = k.grouped_sum(ids, args[0].values, n_groups, acc)[groups]
        return groups, [V.fixed(sum_type, sums), V.fixed(T.UInt64, counts[groups])]

    def merge(state_ids, n_groups, cols):
        k = _kernels()
        total = k.grouped_sum(state_ids, cols[0].values, n_groups, acc).astype(np.float64)
        n = k.grouped_sum(state_ids, cols[1].values, n_groups, np.uint64).astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            return V.fixed(T.Float64, total / n)

    return T.Float64, reduced(compute, state, merge)
