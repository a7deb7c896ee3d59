"""min, max, any, anyLast, argMin, argMax: each picks one row per group and gathers it, so they
work for every column layout (strings, dates, decimals ...)."""

from __future__ import annotations

import numpy as np

from mergetree import types as T
from mergetree.column import FixedColumn
from mergetree.functions.aggregate.registry import check_args, register_aggregate, take_or_default


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

        def compute(ids, n_groups, args):
            from mergetree.kernels.aggregates import grouped_arg_extreme

            rows = grouped_arg_extreme(ids, _comparison_keys(args[key_arg]), n_groups, is_max)
            return take_or_default(args[value_arg], rows, rtype)

        return rtype, compute

    register_aggregate(name, case_insensitive=name in ("min", "max"))(resolve)


_extreme("min", False, 0, 0, 1)
_extreme("max", True, 0, 0, 1)
_extreme("argMin", False, 0, 1, 2)
_extreme("argMax", True, 0, 1, 2)


def _pick(name: str, last: bool):
    def resolve(types, params):
        check_args(name, types, 1)
        rtype = types[0]

        def compute(ids, n_groups, args):
            from mergetree.kernels.aggregates import grouped_first_last

            return take_or_default(args[0], grouped_first_last(ids, n_groups, last), rtype)

        return rtype, compute

    register_aggregate(name)(resolve)


_pick("any", False)
_pick("anyLast", True)
