"""Union operator (UNION ALL): the inputs' result columns, cast to the common types, one after
another. UNION DISTINCT is a Distinct node above it."""

from __future__ import annotations

from mergetree.column import Block
from mergetree.exec.cast import cast_column as _cast


def run_union(node, ctx, children):
    from mergetree.exec.executor import stream

    for child in node.children:   # each a Project: read its input, pick the result columns
        for block in stream(child.child, ctx):
            yield Block({name: _cast(block[src], t) for name, (_, src), t in
                         zip(node.column_names, child.columns, node.out_types)}, block.num_rows)
