"""GroupingAggregate operator (ROLLUP, CUBE, GROUPING SETS, grouping(), HAVING, WITH TOTALS) and the
result's totals / extremes rows.

`run_grouping` reads its input once, then per grouping set: group ids of the set's keys
(kernels/groupby.py), every aggregate's ``compute`` over them, the keys missing from the set as
type defaults (NULL with group_by_use_nulls), the grouping() bit masks; the sets are concatenated and
filtered by HAVING. WITH TOTALS: the aggregates over all input rows of the groups of the first
(finest) set that passed HAVING (totals_mode 'after_having_*'), or over all rows ('before_having');
the row is left on the context (``ctx.totals_row``) and `finish_totals` runs it through the SELECT
expressions above the aggregation (ClickHouse computes ``toString(a)`` of the totals row too).

`extremes(columns)`: with ``SET extremes = 1``, the min and max of every result column (NULLs
skipped), in ClickHouse's order.
"""

from __future__ import annotations

import numpy as np

from mergetree.column import Block, Column, NullableColumn, default_column
from mergetree.exec.aggregate import collect


def _grouping_value(set_keys: list, args: list) -> int:
    """ClickHouse's grouping(): one bit per argument, most significant first, 1 = rolled up."""
    v = 0
    for a in args:
        v = (v << 1) | (0 if a in set_keys else 1)
    return v


def _nullable(col: Column, t) -> Column:
    if col.type == t:
        return col
    if isinstance(col, NullableColumn) or getattr(col, "dictionary", None) is not None:
        from mergetree.exec.cast import cast_column as _cast

        return _cast(col, t)
    return NullableColumn(t, col, np.zeros(len(col), np.bool_))


def _aggregate_set(node, block: Block, set_keys: list, out_types: dict, keyed: bool):
    """One grouping set -> (output Block, row group ids, number of groups) or None (no groups)."""
    n = block.num_rows
    if set_keys:
        if n == 0:
            return None
        from mergetree.kernels.groupby import group_rows

        ids, g, first = group_rows([block[k] for k in set_keys])
        ids = ids.astype(np.int64, copy=False)
    else:
        if n == 0 and keyed:
            return None
        ids, g, first = np.zeros(n, np.int64), 1, None
    cols = {}
    for k in node.keys:
        t = out_types[k]
        if k in set_keys:
            cols[k] = _nullable(block[k].take(first), t) if node.use_nulls else block[k].take(first)
        else:
            cols[k] = default_column(t, g)
    for call in node.aggregates:
        cols[call.output] = call.function.compute(ids, g, [block[a] for a in call.args])
    for name, args in node.grouping_calls:
        cols[name] = _constant_uint64(_grouping_value(set_keys, args), g)
    return Block(cols, g), ids, g


def _constant_uint64(v: int, n: int) -> Column:
    from mergetree import types as T
    from mergetree.column import FixedColumn

    return FixedColumn(T.UInt64, np.full(n, v, np.uint64))


def run_grouping(node, ctx, children):
    from mergetree.exec.expression import evaluate_filter

    (child,) = children
    block = collect(child, node.child.schema)
    out_types = node.types()
    keyed = bool(node.keys)
    parts = []
    first_set = None
    for i, s in enumerate(node.sets):
        res = _aggregate_set(node, block, s, out_types, keyed)
        if i == 0:
            first_set = res
        if res is not None:
            parts.append(res[0])
    out = collect(parts, node.schema)
    if node.having is not None and out.num_rows:
        out = out.filter(evaluate_filter(node.having, out))
    if node.totals:
        ctx.totals_row = (node, _totals(node, block, first_set, out_types))
    yield out


def _totals(node, block: Block, first_set, out_types: dict) -> Block:
    from mergetree.exec.expression import evaluate_filter

    n = block.num_rows
    ids = np.zeros(n, np.int64)
    if node.having is not None and node.totals_mode != "before_having":
        if first_set is None:
            ids = np.full(n, -1, np.int64)
        else:
            groups, row_ids, _ = first_set
            passed = evaluate_filter(node.having, groups) if groups.num_rows else np.zeros(0, bool)
            ids = np.where(passed[row_ids], 0, -1).astype(np.int64)
    cols = {k: default_column(out_types[k], 1) for k in node.keys}
    if node.use_nulls and not getattr(node, "null_totals_keys", False):   # ROLLUP/CUBE: defaults, not NULL
        child = node.child.types()
        cols = {k: _nullable(default_column(child[k], 1), out_types[k]) for k in node.keys}
    for call in node.aggregates:
        cols[call.output] = call.function.compute(ids, 1, [block[a] for a in call.args])
    rolled = isinstance(node.sets, list) and len(node.sets) > 1 and not getattr(node, "null_totals_keys", False)
    for name, args in node.grouping_calls:     # ROLLUP / CUBE: the totals row has every key rolled up
        cols[name] = _constant_uint64(_grouping_value([] if rolled else args, args), 1)
    return Block(cols, 1)


def finish_totals(plan, ctx) -> list | None:
    """The totals row as result columns: the GroupingAggregate's totals block through the
    Expression / Window nodes between it and the root Project; None without WITH TOTALS (or when
    the totals belong to a subquery, which ClickHouse drops)."""
    found = getattr(ctx, "totals_row", None)
    if found is None:
        return None
    agg, block = found
    from mergetree.planner import logical as L

    chain = []
    node = plan.child
    while node is not agg:
        if isinstance(node, (L.Expression, L.Window, L.Filter, L.Sort, L.TopN, L.Limit, L.LimitBy, L.Distinct,
                             L.Project)):     # a subquery's totals pass to the outer query (as ClickHouse)
            chain.append(node)
            node = node.child
        else:
            return None
    for node in reversed(chain):
        if isinstance(node, L.Expression):
            from mergetree.exec.project import run_expression

            (block,) = list(run_expression(node, ctx, [iter([block])]))
        elif isinstance(node, L.Window):
            from mergetree.exec.window import run_group

            for group in node.groups:
                block = run_group(group, block)
        elif isinstance(node, L.Project):
            block = Block({out: block[src] for out, src in node.columns}, block.num_rows)
    return [block[src] for _, src in plan.columns]


def extremes(columns: list) -> list | None:
    """[min/max 2-row column per result column] (NULLs skipped; an all-NULL column gives NULLs)."""
    out = []
    for col in columns:
        if len(col) == 0:
            return None
        c = col.decode() if hasattr(col, "dictionary") else col
        valid = ~c.nulls if isinstance(c, NullableColumn) else np.ones(len(c), np.bool_)
        inner = c.values if isinstance(c, NullableColumn) else c
        values = getattr(inner, "values", None)
        if isinstance(values, np.ndarray) and values.dtype.kind == "f":
            valid = valid & ~np.isnan(values)     # NaN is no extreme (as ClickHouse)
        if not valid.any():
            out.append(col.take(np.array([0, 0], np.int64)))
            continue
        ranks = c.dense_ranks()
        idx = np.flatnonzero(valid)
        r = ranks[idx]
        lo, hi = idx[int(np.argmin(r))], idx[int(np.argmax(r))]
        out.append(col.take(np.array([lo, hi], np.int64)))
    return out


def attach(result, plan, ctx, settings: dict) -> None:
    """Set ``result.totals`` (WITH TOTALS) and ``result.extremes`` (setting extremes = 1): lists of
    result columns (one and two rows) that the output formats print after the data."""
    from mergetree.planner.grouping import _truthy

    totals = finish_totals(plan, ctx) if hasattr(plan, "columns") else None
    result.totals = totals
    result.extremes = extremes(result.column_data) if _truthy(settings.get("extremes", 0)) and \
        result.column_data else None


def extra_parts(result) -> list:
    """The totals and extremes rows as small Results (TSV and CSV print each after a blank line)."""
    from mergetree.result import Result

    return [Result(result.schema, cols) for cols in (getattr(result, "totals", None),
                                                       getattr(result, "extremes", None)) if cols]


def pretty_sections(result, writer) -> bytes:
    """Pretty formats: the data table, then "Totals:" and "Extremes:" tables in the same layout."""
    from mergetree.result import Result

    main = Result(result.schema, result.column_data, statistics=result.statistics,
                  rows_before_limit=result.rows_before_limit)
    out = writer(main)
    for title, cols in (("Totals", getattr(result, "totals", None)), ("Extremes", getattr(result, "extremes", None))):
        if cols:
            out += f"\n{title}:\n".encode() + writer(Result(result.schema, cols))
    return out
