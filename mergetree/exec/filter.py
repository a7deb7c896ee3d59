"""Filter operator: keeps the rows where the predicate is true (NULL counts as false)."""

from __future__ import annotations

from mergetree.exec.expression import bind
from mergetree.exec.expression import execute as execute_expr
from mergetree.functions import values as V


def filter_step(node):
    """block -> its rows where `node`'s predicate is true (the predicate bound once)."""
    bound = bind(node.predicate, node.child.types())

    def apply(block):
        if block.num_rows == 0:
            return block
        mask = truth(execute_expr(bound, block), block.num_rows)
        return block if mask.all() else block.filter(mask)

    return apply


def run_filter(node, ctx, children):
    (child,) = children
    apply = filter_step(node)
    for block in child:
        yield apply(block)


def truth(col, n: int):
    """A filter column (maybe constant, Nullable or LowCardinality) -> bool mask of n rows."""
    import numpy as np

    from mergetree import types as T
    from mergetree.errors import IllegalTypeOfArgumentError

    col = V.unwrap_lc(col)
    plain, nulls = V.split_nullable(col)
    if V.is_null_type(col.type):
        return np.zeros(n, np.bool_)
    if not isinstance(V.strip(plain.type), (T.IntType, T.FloatType, T.BoolType)):
        raise IllegalTypeOfArgumentError(f"Illegal type {col.type} of column for filter. Must be UInt8 or "
                                         "Nullable(UInt8)")
    mask = np.broadcast_to(V.values(plain) != 0, (n,))
    if nulls is not None:
        mask = mask & ~np.broadcast_to(nulls, (n,))
    return np.ascontiguousarray(mask)
