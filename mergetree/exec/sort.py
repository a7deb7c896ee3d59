"""Sort and TopN operators (ORDER BY with ASC/DESC and NULLS FIRST/LAST).

Order keys come from ``Column.order_key(descending)`` (NULL and NaN last in both directions);
NULLS FIRST flips the leading null flag of a Nullable key.
"""

from __future__ import annotations

import numpy as np

from mergetree.column import Block, NullableColumn
from mergetree.exec.aggregate import collect


def take_rows(block, perm):
    """block.take(perm), gathering a column that appears under several names once (ORDER BY
    columns are often the SELECT's own: `ORDER BY events DESC, event_type` sorts a block holding
    event_type twice)."""
    perm = np.asarray(perm, np.int64)
    done: dict = {}
    out = {}
    for name, col in block.columns.items():
        t = done.get(id(col))
        if t is None:
            t = done[id(col)] = col.take(perm)
        out[name] = t
    return Block.trusted(out, len(perm))


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


#: up to this many rows, ORDER BY is one np.lexsort of the keys (sort_permutation's packing and
#: radix passes pay off only on more rows)
SMALL_SORT_ROWS = 256


def run_sort(node, ctx, children):
    from mergetree.kernels.sort import flatten_keys, sort_permutation

    (child,) = children
    block = collect(child, lambda: node.child.schema, "sorting")
    n = block.num_rows
    if n > 1:
        keys = sort_keys(block, node.items)
        if n <= SMALL_SORT_ROWS:
            perm = np.lexsort(flatten_keys(keys)[::-1])     # stable, like sort_permutation
        else:
            perm = sort_permutation(keys)
        block = take_rows(block, perm)
    yield block


def run_topn(node, ctx, children):
    from mergetree.kernels.topn import topn_permutation

    (child,) = children
    block = collect(child, lambda: node.child.schema, "top-N sorting")
    ctx.rows_before_limit = block.num_rows
    k = node.limit + node.offset
    if block.num_rows:
        block = _topn_candidates(block, node.items, k)
        perm = topn_permutation(sort_keys(block, node.items), min(k, block.num_rows))
        block = take_rows(block, perm[node.offset:])
    yield block


def _topn_candidates(block, items, k: int):
    """The rows that can be among the first k: those whose first ORDER BY key is at or before the
    k-th smallest key value (ties kept). Done before the later keys are computed, so that
    ``ORDER BY c DESC, user_id LIMIT 10`` ranks the strings of a few rows, not of every group."""
    from mergetree.kernels.sort import flatten_keys

    from mergetree import types as T
    from mergetree.column import FixedColumn

    n = block.num_rows
    if len(items) < 2 or k <= 0 or n < 4 * k:
        return block
    col = block[items[0].column]
    if not (isinstance(col, FixedColumn) and col.values.ndim == 1 and
            isinstance(col.type, (T.IntType, T.FloatType, T.DateType, T.Date32Type, T.DateTimeType,
                                  T.DateTime64Type))):
        return block                         # its key is cheap only for plain numbers and dates
    first = flatten_keys(sort_keys(block, items[:1])[0])
    if len(first) != 1:                      # Nullable / compound key: leave it to topn_permutation
        return block
    key = first[0]
    threshold = key[np.argpartition(key, k - 1)[k - 1]]
    candidates = np.flatnonzero(key <= threshold)
    return block.take(candidates) if len(candidates) < n else block
