"""ARRAY JOIN operator (logical.ArrayJoin): repeat each row once per array element (numpy repeat
over the array offsets) and put the elements, a slice of the arrays' element column, in place."""

from __future__ import annotations

import numpy as np

from mergetree.column import Block, Column, default_column
from mergetree.errors import SizesOfArraysDontMatchError
from mergetree.functions import values as V


def run_array_join(node, ctx, children):
    (child,) = children
    for block in child:
        n = block.num_rows
        arrays = [V.materialize(block[src]) for _, src in node.arrays]
        lens = arrays[0].lengths
        for a in arrays[1:]:
            if not np.array_equal(a.lengths, lens):
                raise SizesOfArraysDontMatchError("Sizes of ARRAY-JOIN-ed arrays do not match")
        reps = np.maximum(lens, 1) if node.left else lens
        rows = np.repeat(np.arange(n, dtype=np.int64), reps)
        total = len(rows)
        within = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(reps) - reps, reps)
        cols = {name: col.take(rows) for name, col in block.columns.items()}
        empty = np.repeat(lens == 0, reps) if node.left else None
        for (out, _), arr in zip(node.arrays, arrays):
            pos = np.repeat(arr.offsets[:-1], reps) + within
            values = arr.values
            if empty is not None and empty.any():
                values = Column.concat([values, default_column(values.type, 1)])
                pos = np.where(empty, len(arr.values), pos)
            cols[out] = values.take(pos)
        yield Block(cols, total)
