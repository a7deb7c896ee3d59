"""Union operator (UNION ALL): the inputs' result columns, cast to the common types, one after
another. UNION DISTINCT is a Distinct node above it."""

from __future__ import annotations

from sqlparse_ch.ast import expr as E

from mergetree.column import Block


def _cast(col, t):
    if col.type == t:
        return col
    from mergetree.exec.expression import evaluate

    return evaluate(E.Cast(E.Identifier("x"), t.name), Block({"x": col}))


def run_union(node, ctx, children):
    from mergetree.exec.executor import stream

    for child in node.children:   # each a Project: read its input, pick the result columns
        for block in stream(child.child, ctx):
            yield Block({name: _cast(block[src], t) for name, (_, src), t in
                         zip(node.column_names, child.columns, node.out_types)}, block.num_rows)
