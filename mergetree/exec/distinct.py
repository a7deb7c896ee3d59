"""Distinct operator (SELECT DISTINCT): first row of every distinct combination, in order of
first appearance."""

from __future__ import annotations

import numpy as np

from mergetree.exec.aggregate import collect


def run_distinct(node, ctx, children):
    from mergetree.kernels.groupby import group_rows

    (child,) = children
    block = collect(child, node.child.schema, "DISTINCT")
    if block.num_rows == 0 or not node.columns:
        yield block
        return
    _, _, first = group_rows([block[c] for c in node.columns])
    yield block.take(np.sort(first))
