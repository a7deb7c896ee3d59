"""uniqExact (and count(DISTINCT ..), which ClickHouse maps to it)."""

from __future__ import annotations

import numpy as np

from mergetree import types as T
from mergetree.column import FixedColumn
from mergetree.functions import values as V
from mergetree.functions.aggregate.registry import Impl, register_aggregate
from mergetree.errors import NumberOfArgumentsError


@register_aggregate("uniqExact", null_result=False)
def uniq_exact(types, params):
    if not types:
        raise NumberOfArgumentsError("Aggregate function uniqExact requires at least one argument")

    def distinct_rows(ids, args):
        """Rows holding the first occurrence of every distinct (group, value)."""
        from mergetree.kernels.groupby import group_rows

        live = np.flatnonzero(ids >= 0)
        if len(live) == 0:
            return live
        keys = [FixedColumn(T.Int64, ids[live])] + [a.take(live) for a in args]
        return live[group_rows(keys)[2]]

    def compute(ids, n_groups, args):
        from mergetree.kernels.aggregates import grouped_count

        return V.fixed(T.UInt64, grouped_count(ids[distinct_rows(ids, args)], n_groups))

    def state(ids, n_groups, args):          # a block's distinct (group, value) pairs
        rows = distinct_rows(ids, args)
        return ids[rows], [a.take(rows) for a in args]

    return T.UInt64, Impl(compute, state, compute)
