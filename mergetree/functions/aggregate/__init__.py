"""Aggregate functions: a registry of base functions plus the combinators -If, -Distinct, -OrNull,
-OrDefault (see ``registry.py``). Base functions live in ``basic.py`` (count, sum, avg),
``extremes.py`` (min, max, any, anyLast, argMin, argMax), ``uniq.py`` (uniqExact) and
``quantiles.py`` (quantile, median, quantiles, quantileExact, groupArray, uniq).

    from mergetree.functions.aggregate import get_aggregate, is_aggregate
    fn = get_aggregate("sumIf", [UInt32, UInt8])
    fn.type                       # UInt64
    fn.compute(ids, n_groups, [col, cond])   # one value per group, as a Column
"""

from mergetree.functions.aggregate.registry import (AggregateFunction, aggregate_names, get_aggregate,  # noqa: F401
                                                    is_aggregate, register_aggregate)
