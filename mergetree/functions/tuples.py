"""Tuples: tuple(a, b, ..) / ``(a, b)``, tupleElement(t, i | 'name'[, default]) / ``t.1``,
untuple (expanded into columns by the binder), arrayZip.

A tuple value is a TupleColumn: one column per element, so building and projecting tuples
moves no data (``tupleElement`` returns the element column itself).
"""

from __future__ import annotations

import numpy as np

from mergetree import types as T
from mergetree.column import ArrayColumn, NullableColumn, TupleColumn
from mergetree.errors import (ArgumentOutOfBoundError, IllegalTypeOfArgumentError, NumberOfArgumentsError,
                              SizesOfArraysDontMatchError)
from mergetree.functions import values as V
from mergetree.functions.registry import NOT_CONST, register


def _full(c, n):
    c = V.materialize(V.unwrap_lc(c))
    return c if len(c) == n else c.take(np.zeros(n, np.int64))


@register("tuple", null_mode="raw")
def tuple_(types, consts):
    if not types:
        raise NumberOfArgumentsError("Function tuple requires at least one argument")
    elems = tuple(V.strip_lc(t) for t in types)
    rtype = T.TupleType(elems)

    def impl(args, n):
        return TupleColumn(rtype, [_full(a, n) for a in args], n)

    return rtype, impl


def element_index(t: T.TupleType, key, name="tupleElement") -> int:
    """0-based index of element `key` (1-based int or element name) of tuple type t."""
    if isinstance(key, bool) or key is NOT_CONST:
        raise IllegalTypeOfArgumentError(f"Second argument of function {name} must be a constant UInt or String")
    if isinstance(key, int):
        if not 1 <= key <= len(t.elements):
            raise ArgumentOutOfBoundError(f"Index for tuple element is out of range: {key} for {t}")
        return key - 1
    if isinstance(key, str):
        if t.names and key in t.names:
            return t.names.index(key)
        if key.isdigit() and 1 <= int(key) <= len(t.elements):
            return int(key) - 1
        raise IllegalTypeOfArgumentError(f"Tuple {t} doesn't have element with name '{key}'")
    raise IllegalTypeOfArgumentError(f"Second argument of function {name} must be a constant UInt or String")


@register("tupleElement", null_mode="raw")
def tuple_element(types, consts):
    if len(types) not in (2, 3):
        raise NumberOfArgumentsError(f"Number of arguments for function tupleElement doesn't match: "
                                     f"passed {len(types)}, should be 2 or 3")
    t = V.strip_lc(types[0])
    if isinstance(t, T.NullableType) and isinstance(t.inner, T.TupleType):   # NULL tuple: NULL element
        inner_type, inner_impl = tuple_element([t.inner] + list(types[1:]), consts)
        out_type = V.make_nullable(inner_type)

        def impl_nullable(args, n):
            x, nulls = V.split_nullable(args[0])
            res = V.materialize(inner_impl([x] + list(args[1:]), n))
            if nulls is None:
                return V.with_nulls(res, None, out_type) if out_type != inner_type else res
            rmask = np.broadcast_to(nulls, (n,))
            if isinstance(res, NullableColumn):
                return NullableColumn(out_type, res.values, res.nulls | rmask)
            return V.with_nulls(res, rmask, out_type)

        return out_type, impl_nullable
    if isinstance(t, T.ArrayType) and isinstance(t.inner, T.TupleType):   # arr.1: element of every tuple
        i = element_index(t.inner, consts[1])
        et = t.inner.elements[i]

        def impl_array(args, n):
            a = _full(args[0], n)
            return ArrayColumn(T.Array(et), a.offsets, a.values.columns[i])

        return T.Array(et), impl_array
    if not isinstance(t, T.TupleType):
        raise IllegalTypeOfArgumentError(f"First argument for function tupleElement must be tuple or array "
                                         f"of tuple. Actual {types[0]}")
    key = consts[1]
    if len(types) == 3 and isinstance(key, str) and not (t.names and key in t.names) and not key.isdigit():
        default_type = V.strip_lc(types[2])
        return default_type, lambda args, n: args[2]
    i = element_index(t, key)
    et = t.elements[i]

    def impl(args, n):
        x = args[0]
        if V.is_const(x):
            return V.ConstColumn(x.data.columns[i], n)
        return x.columns[i]

    return et, impl


@register("arrayZip")
def array_zip(types, consts):
    if not types:
        raise NumberOfArgumentsError("Function arrayZip needs at least one argument")
    elems = []
    for i, t in enumerate(types):
        if not isinstance(t, T.ArrayType):
            raise IllegalTypeOfArgumentError(f"Argument {i + 1} of function arrayZip must be array. Found {t} instead")
        elems.append(t.inner)
    tt = T.TupleType(tuple(elems))

    def impl(args, n):
        arrs = [_full(a, n) for a in args]
        for a in arrs[1:]:
            if not np.array_equal(a.offsets, arrs[0].offsets):
                raise SizesOfArraysDontMatchError("The argument 1 and argument 2 of function arrayZip have "
                                                  "different array sizes")
        return ArrayColumn(T.Array(tt), arrs[0].offsets, TupleColumn(tt, [a.values for a in arrs]))

    return T.Array(tt), impl


@register("untuple", null_mode="raw")
def untuple(types, consts):
    raise IllegalTypeOfArgumentError("Function untuple can only be used as a whole SELECT expression")


def is_composite(t) -> bool:
    return isinstance(t, (T.ArrayType, T.TupleType, T.MapType))


def cast_composite(c, src, dst):
    """CAST of an Array / Tuple / Map column (or constant) element by element; None if the shapes
    differ (the caller reports the unsupported CAST)."""
    from mergetree.column import MapColumn
    from mergetree.functions.conditional import cast_column

    data = V.inner_data(c)
    if isinstance(src, T.TupleType) and isinstance(dst, T.TupleType) and len(src.elements) == len(dst.elements):
        col = TupleColumn(dst, [V.materialize(cast_column(x, s, d))
                                for x, s, d in zip(data.columns, src.elements, dst.elements)], len(data))
    elif isinstance(src, T.MapType) and isinstance(dst, T.MapType):
        col = MapColumn(dst, data.offsets, V.materialize(cast_column(data.keys, src.key, dst.key)),
                        V.materialize(cast_column(data.values, src.value, dst.value)))
    elif isinstance(src, T.ArrayType) and isinstance(dst, T.ArrayType):
        col = V.materialize(cast_column(data, src, dst))
    else:
        return None
    return V.ConstColumn(col, len(c)) if V.is_const(c) else col
