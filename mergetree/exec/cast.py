"""``cast_column``: a column converted to another type as ``CAST(x AS T)`` does.

One function for every place that adapts a column to a declared type: INSERT ... SELECT and copy pipes
into a table's columns, DEFAULT values, parts read through a widened type after ALTER MODIFY COLUMN,
UNION branches to their common type, window and WITH FILL defaults. A LowCardinality target is
encoded after casting to its inner type; a LowCardinality source is decoded first.
"""

from __future__ import annotations


def cast_column(col, t):
    if col.type == t:
        return col
    import sqlparse_ch.ast.expr as E

    from mergetree.column import Block, LowCardinalityColumn
    from mergetree.exec.expression import evaluate
    from mergetree.types import LowCardinalityType

    if isinstance(t, LowCardinalityType):
        return LowCardinalityColumn.encode(t, cast_column(col, t.inner))
    if isinstance(col, LowCardinalityColumn):
        col = col.decode()
        if col.type == t:
            return col
    return evaluate(E.Cast(E.Identifier("x"), t.name), Block({"x": col}))
