"""``min``/``max`` of the first primary-key column without a WHERE come from each part's primary
index: a part is sorted by the key, so its first index entry holds its smallest value of that
column and its final mark (the last row's key) the largest. The scan yields those two rows per
part and the Aggregate runs unchanged over them (ClickHouse's ``minmax_count`` projection).

Before: ``Aggregate keys=[] aggregates=[__agg0 := min(ts), __agg1 := max(ts)] <- Expression
__arg0_0 := ts, __arg1_0 := ts <- ReadFromMergeTree t columns=[ts]``;
after: the same with ``ReadFromMergeTree t columns=[ts] key_bounds``.

Only where the bounds are provably the answer: no WHERE, no FINAL, every aggregate a plain
``min``/``max`` of that column, a type whose order is the sort order (no Nullable, floats, ...).
Parts with lightweight-deleted rows are read as usual (scan.read_merge_tree).
"""

from __future__ import annotations

from mergetree import types as T
from mergetree.planner import logical as L
from sqlparse_ch.ast import expr as E

#: types whose min/max is the first/last value in sorting-key order
EXACT_TYPES = (T.IntType, T.DateType, T.Date32Type, T.DateTimeType, T.DateTime64Type, T.StringType, T.DecimalType)


def apply(plan: L.PlanNode) -> L.PlanNode:
    if hasattr(plan, "child"):
        plan.child = apply(plan.child)
    elif isinstance(plan, L.Union):
        plan.children = [apply(c) for c in plan.children]
    if not (isinstance(plan, L.Aggregate) and not plan.keys and plan.aggregates
            and isinstance(plan.child, L.Expression) and isinstance(plan.child.child, L.ReadFromMergeTree)):
        return plan
    scan = plan.child.child
    if scan.where is not None or scan.final or scan.limit_hint is not None:
        return plan
    key = scan.table.metadata.primary_key_asts
    if not key or not isinstance(key[0], E.Identifier) or key[0].table is not None:
        return plan
    column = key[0].name
    if scan.columns != [column] or not isinstance(dict(scan.table_schema).get(column), EXACT_TYPES):
        return plan
    exprs = dict(plan.child.exprs)
    for call in plan.aggregates:
        if call.function.name.lower() not in ("min", "max") or len(call.args) != 1:
            return plan
        arg = exprs.get(call.args[0])
        if not (isinstance(arg, E.Identifier) and arg.name == column and arg.table is None):
            return plan
    scan.key_bounds = True
    return plan
