"""min, max, any, anyLast, argMin, argMax: each picks one row per group and gathers it, so they
work for every column layout (strings, dates, decimals ...)."""

from __future__ import annotations

import numpy as np

from mergetree import types as T
from mergetree.column import FixedColumn
from mergetree.functions.aggregate.registry import check_args, reduced, register_aggregate, take_or_default


def _one_row_per_group(pick):
    """A state keeping the row `pick(ids, n, args)` chose for every non-empty group (the same
    function then runs over the state rows of all blocks)."""

    def state(ids, n_groups, args):
        rows = pick(ids, n_groups, args)
        groups = np.flatnonzero(rows >= 0)
        return groups, [a.take(rows[groups]) for a in args]

    return state


def _comparison_keys(col) -> np.ndarray:
    """A 1-D numeric array ordered like the column's values."""
    if isinstance(col, FixedColumn) and col.values.ndim == 1 and not isinstance(col.type, T.FloatType):
        return col.values
    if isinstance(col, FixedColumn) and isinstance(col.type, T.FloatType):
        return col.values.astype(np.float64)
    return col.dense_ranks()


def _extreme(name: str, is_max: bool, value_arg: int, key_arg: int, arity: int):
    def resolve(types, params):
        check_args(name, types, arity)
        rtype = types[value_arg]

        def pick(ids, n_groups, args):
            from mergetree.kernels.aggregates import grouped_arg_extreme

            return grouped_arg_extreme(ids, _comparison_keys(args[key_arg]), n_groups, is_max)

        def compute(ids, n_groups, args):
            return take_or_default(args[value_arg], pick(ids, n_groups, args), rtype)

        return rtype, reduced(compute, _one_row_per_group(pick), compute)

    register_aggregate(name, case_insensitive=name in ("min", "max"))(resolve)


_extreme("min", False, 0, 0, 1)
_extreme("max", True, 0, 0, 1)
_extreme("argMin", False, 0, 1, 2)
_extreme("argMax", True, 0, 1, 2)


def _pick(name: str, last: bool):
    def resolve(types, params):
        check_args(name, types, 1)
        rtype = types[0]

        def pick(ids, n_groups, args):
            from mergetree.kernels.aggregates import grouped_first_last

            return grouped_first_last(ids, n_groups, last)

        def compute(ids, n_groups, args):
            return take_or_default(args[0], pick(ids, n_groups, args), rtype)

        return rtype, reduced(compute, _one_row_per_group(pick), compute)

    register_aggregate(name)(resolve)


_pick("any", False)
_pick("anyLast", True)
