"""Array functions: array (``[a, b]`` literals), arrayElement (``arr[i]``), has; ``length``,
``empty``/``notEmpty`` of arrays live in strings.py.

``[1, 2, 300]`` is Array(UInt16): the elements are cast to their least common supertype.
``arr[i]`` is 1-based, negative from the end; out of range (and 0) gives the element type's
default, as ClickHouse. ``has(arr, x)`` compares with the rules of ``=`` (NULL elements never
match).
"""

from __future__ import annotations

import numpy as np

from mergetree import types as T
from mergetree.column import ArrayColumn, Column
from mergetree.functions import values as V
from mergetree.functions.registry import check_arity, illegal_type, register


def _array_parts(c):
    """(offsets, values column) of an ArrayColumn or a constant one (1 row)."""
    col = V.inner_data(c)
    return col.offsets, col.values


@register("array", null_mode="raw")
def array(types, consts):
    from mergetree.functions.conditional import cast_column, supertype

    if not types:
        rtype = T.Array(V.Nothing)
        return rtype, lambda args, n: V.ConstColumn(
            ArrayColumn(rtype, np.zeros(2, np.int64), V.fixed(V.Nothing, np.zeros(0, np.uint8))), n)
    elem = supertype(types, "array")
    if isinstance(elem, T.NullableType) and V.is_null_type(elem):
        elem = V.NullType
    rtype = T.Array(elem)

    def impl(args, n):
        k = len(args)
        cols = [V.materialize(cast_column(a, t, elem)) if not V.is_const(a) else
                cast_column(a, t, elem).data for a, t in zip(args, types)]
        # element j of row r is element r of argument j (constants repeat their one row)
        parts = Column.concat(cols)
        bases = np.cumsum([0] + [len(c) for c in cols[:-1]])
        rows = np.arange(n, dtype=np.int64)
        idx = np.empty((n, k), np.int64)
        for j, c in enumerate(cols):
            idx[:, j] = bases[j] + (0 if len(c) == 1 and n != 1 else rows)
        values = parts.take(idx.reshape(-1))
        return ArrayColumn(rtype, np.arange(n + 1, dtype=np.int64) * k, values)

    return rtype, impl


def _rows(arr, n):
    """(starts, lens, values) of an array argument with n rows (a constant repeats its row)."""
    offsets, values = _array_parts(arr)
    if V.is_const(arr):
        return np.full(n, offsets[0], np.int64), np.full(n, offsets[1] - offsets[0], np.int64), values
    return offsets[:-1], np.diff(offsets), values


@register("arrayElement")
def array_element(types, consts):
    check_arity("arrayElement", types, 2)
    at, it = types
    if not isinstance(at, T.ArrayType):
        raise illegal_type("arrayElement", at, 0)
    if not isinstance(it, T.IntType):
        raise illegal_type("arrayElement", it, 1)
    elem = at.inner

    def impl(args, n):
        starts, lens, values = _rows(args[0], n)
        i = np.broadcast_to(V.values(args[1]).astype(np.int64), (n,))
        pos = np.where(i > 0, i - 1, lens + i)
        valid = (i != 0) & (pos >= 0) & (pos < lens)
        src = Column.concat([values, V.default_of(elem, 1)]) if len(values) else V.default_of(elem, 1)
        return src.take(np.where(valid, starts + pos, len(values)))

    return elem, impl


@register("has")
def has(types, consts):
    from mergetree.functions.comparison import compare_values, comparison_domain

    check_arity("has", types, 2)
    at, xt = types
    if not isinstance(at, T.ArrayType):
        raise illegal_type("has", at, 0)
    elem = at.inner
    if isinstance(V.strip(elem), V.NothingType):
        return T.UInt8, lambda args, n: V.fixed(T.UInt8, np.zeros(n, np.uint8))
    plain_elem = V.strip(elem)
    dom = comparison_domain(plain_elem, V.strip(xt), "has")

    def impl(args, n):
        starts, lens, values = _rows(args[0], n)
        total = int(lens.sum())
        row_of = np.repeat(np.arange(n, dtype=np.int64), lens)
        first = np.cumsum(lens) - lens
        elem_idx = np.arange(total, dtype=np.int64) + np.repeat(starts - first, lens)
        vals, nulls = V.split_nullable(V.unwrap_lc(values.take(elem_idx)))
        x = args[1]
        xs = x.with_size(total) if V.is_const(x) else x.take(row_of)
        eq = np.broadcast_to(compare_values("equals", vals, plain_elem, xs, V.strip(xt), dom), (total,))
        if nulls is not None:
            eq = eq & ~nulls
        return V.fixed(T.UInt8, (np.bincount(row_of[eq], minlength=n) > 0).astype(np.uint8))

    return T.UInt8, impl
