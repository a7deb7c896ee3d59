"""uniqExact (and count(DISTINCT ..), which ClickHouse maps to it)."""

from __future__ import annotations

import numpy as np

from mergetree import types as T
from mergetree.column import FixedColumn
from mergetree.functions import values as V
from mergetree.functions.aggregate.registry import register_aggregate
from mergetree.errors import NumberOfArgumentsError


@register_aggregate("uniqExact", null_result=False)
def uniq_exact(types, params):
    if not types:
        raise NumberOfArgumentsError("Aggregate function uniqExact requires at least one argument")

    def compute(ids, n_groups, args):
        from mergetree.kernels.aggregates import grouped_count
        from mergetree.kernels.groupby import group_rows

        live = np.flatnonzero(ids >= 0)
        if len(live) == 0:
            return V.fixed(T.UInt64, np.zeros(n_groups, np.uint64))
        keys = [FixedColumn(T.Int64, ids[live])] + [a.take(live) for a in args]
        _, _, first = group_rows(keys)       # one row per distinct (group, value)
        return V.fixed(T.UInt64, grouped_count(ids[live[first]], n_groups))

    return T.UInt64, compute
