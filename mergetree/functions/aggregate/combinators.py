"""-Array and -ForEach: aggregates over the elements of array arguments.

``fArray(arr..)`` runs f over every element (the group id of a row is repeated for each of its
elements); ``fForEach(arr..)`` runs f separately for every array position: element j of a row
of group g goes to group ``g * width + j`` (width = the longest array), and the result of
group g is the array of its first ``longest array of g`` positions. Several array arguments
must have equal sizes row by row (SIZES_OF_ARRAYS_DONT_MATCH).
"""

from __future__ import annotations

import numpy as np

from mergetree import types as T
from mergetree.column import ArrayColumn
from mergetree.errors import IllegalTypeOfArgumentError, SizesOfArraysDontMatchError
from mergetree.functions import values as V


def array_combinator(kind: str, resolve_inner, types: list):
    from mergetree.functions.aggregate.registry import Impl

    elems = []
    for t in types:
        if not isinstance(t, T.ArrayType):
            raise IllegalTypeOfArgumentError(f"Illegal type {t} of argument for aggregate function with "
                                             f"{kind} suffix. Must be array.")
        elems.append(t.inner)
    rtype, impl = resolve_inner(elems)

    def flatten(ids, args):
        arrs = [V.materialize(a) for a in args]
        if not arrs:
            return ids, [], None
        offsets = arrs[0].offsets
        for a in arrs[1:]:
            if not np.array_equal(a.offsets, offsets):
                raise SizesOfArraysDontMatchError(f"All arrays passed to an aggregate function with {kind} "
                                                  "suffix must have equal sizes")
        lens = np.diff(offsets)
        row_ids = np.repeat(ids, lens)
        return row_ids, [a.values for a in arrs], offsets

    if kind == "Array":
        def run(ids, n_groups, args):
            row_ids, values, _ = flatten(ids, args)
            return impl.compute(row_ids, n_groups, values)

        return rtype, Impl(run)

    def run_each(ids, n_groups, args):
        row_ids, values, offsets = flatten(ids, args)
        lens = np.diff(offsets)
        width = int(lens[ids >= 0].max()) if (ids >= 0).any() and len(lens) else 0
        pos = np.arange(len(row_ids), dtype=np.int64) - np.repeat(offsets[:-1], lens)
        sub_ids = np.where(row_ids >= 0, row_ids * max(width, 1) + pos, -1)
        res = impl.compute(sub_ids, n_groups * max(width, 1), values)
        group_len = np.zeros(n_groups, np.int64)
        live = ids >= 0
        np.maximum.at(group_len, ids[live], lens[live])
        out_offsets = np.zeros(n_groups + 1, np.int64)
        np.cumsum(group_len, out=out_offsets[1:])
        g = np.repeat(np.arange(n_groups, dtype=np.int64), group_len)
        j = np.arange(len(g), dtype=np.int64) - out_offsets[g]
        return ArrayColumn(T.Array(rtype), out_offsets, res.take(g * max(width, 1) + j))

    return T.Array(rtype), Impl(run_each)
