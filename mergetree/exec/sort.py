"""Sort and TopN operators (ORDER BY with ASC/DESC and NULLS FIRST/LAST).

Order keys come from ``Column.order_key(descending)`` (NULL and NaN last in both directions);
NULLS FIRST flips the leading null flag of a Nullable key.
"""

from __future__ import annotations

import numpy as np

from mergetree.column import NullableColumn
from mergetree.exec.aggregate import collect


def sort_keys(block, items) -> list:
    keys = []
    for item in items:
        col = block[item.column]
        if hasattr(col, "dictionary"):
            col = col.decode()
        key = col.order_key(item.desc)
        if item.nulls_first and isinstance(col, NullableColumn):
            key = (~col.nulls).view(np.uint8), *key[1:]
        keys.append(key)
    return keys


def run_sort(node, ctx, children):
    from mergetree.kernels.sort import sort_permutation

    (child,) = children
    block = collect(child, node.child.schema, "sorting")
    if block.num_rows > 1:
        block = block.take(sort_permutation(sort_keys(block, node.items)))
    yield block


def run_topn(node, ctx, children):
    from mergetree.kernels.topn import topn_permutation

    (child,) = children
    block = collect(child, node.child.schema, "top-N sorting")
    ctx.rows_before_limit = block.num_rows
    k = node.limit + node.offset
    if block.num_rows:
        perm = topn_permutation(sort_keys(block, node.items), min(k, block.num_rows))
        block = block.take(perm[node.offset:])
    yield block
