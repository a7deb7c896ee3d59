"""Maps: map(k1, v1, ..), mapKeys, mapValues, mapContains, ``m[k]`` (arrayElement of a Map),
mapFromArrays, length/empty of a map (see arrays.py for the Array forms).

A Map value is a MapColumn (offsets + key column + value column): mapKeys/mapValues return the
entry columns with the map's offsets, ``m[k]`` matches every row's keys against its k in one
vectorized pass (dense ranks over keys and lookups) and takes the first matching entry, the
value type's default when there is none (ClickHouse's rule).
"""

from __future__ import annotations

import numpy as np

from mergetree import types as T
from mergetree.column import ArrayColumn, Column, MapColumn
from mergetree.errors import IllegalTypeOfArgumentError, NumberOfArgumentsError, SizesOfArraysDontMatchError
from mergetree.functions import values as V
from mergetree.functions.registry import register


def _full(c, n):
    c = V.materialize(V.unwrap_lc(c))
    return c if len(c) == n else c.take(np.zeros(n, np.int64))


@register("map", null_mode="raw")
def map_(types, consts):
    from mergetree.functions.arrays import _cast_values, _elem_supertype

    if len(types) % 2:
        raise NumberOfArgumentsError("Function map requires an even number of arguments")
    if not types:
        rtype = T.MapType(T.String, T.String)   # map() is Map(Nothing, Nothing) in ClickHouse
        return rtype, lambda args, n: MapColumn(rtype, np.zeros(n + 1, np.int64), V.default_of(T.String, 0),
                                                V.default_of(T.String, 0))
    kts = [V.strip_lc(t) for t in types[0::2]]
    vts = [V.strip_lc(t) for t in types[1::2]]
    kt, vt = _elem_supertype("map", kts), _elem_supertype("map", vts)
    if isinstance(kt, (T.NullableType, T.ArrayType, T.MapType, T.TupleType)):
        raise IllegalTypeOfArgumentError(f"Map cannot have a key of type {kt}")
    rtype = T.MapType(kt, vt)
    k = len(kts)

    def impl(args, n):
        keys = Column.concat([_cast_values(_full(a, n), t, kt) for a, t in zip(args[0::2], kts)])
        vals = Column.concat([_cast_values(_full(a, n), t, vt) for a, t in zip(args[1::2], vts)])
        # entry j of row r is argument pair j at row r
        order = (np.arange(k, dtype=np.int64)[None, :] * n + np.arange(n, dtype=np.int64)[:, None]).reshape(-1)
        return MapColumn(rtype, np.arange(n + 1, dtype=np.int64) * k, keys.take(order), vals.take(order))

    return rtype, impl


def _need_map(name, t):
    if not isinstance(t, T.MapType):
        raise IllegalTypeOfArgumentError(f"Illegal type {t} of argument 1 of function {name}: expected Map")
    return t


@register("mapKeys")
def map_keys(types, consts):
    mt = _need_map("mapKeys", types[0] if types else None)
    return T.Array(mt.key), lambda args, n: ArrayColumn(T.Array(mt.key), _full(args[0], n).offsets, _full(args[0], n).keys)


@register("mapValues")
def map_values(types, consts):
    mt = _need_map("mapValues", types[0] if types else None)
    return T.Array(mt.value), lambda args, n: ArrayColumn(T.Array(mt.value), _full(args[0], n).offsets,
                                                          _full(args[0], n).values)


def lookup(m: MapColumn, key, key_type, n):
    """Entry index of `key` (a column or constant) in every row of `m`, -1 when absent."""
    from mergetree.functions.arrays import _hash_match, _kern, _row_of

    x = _full(key, n)
    hit = _hash_match(x, np.arange(n, dtype=np.int64), m.keys, _row_of(m.offsets), key_type, m.type.key, "map")
    return _kern().segment_first_true(m.offsets, hit, False)


@register("mapContains")
def map_contains(types, consts):
    if len(types) != 2:
        raise NumberOfArgumentsError("Function mapContains requires 2 arguments")
    _need_map("mapContains", types[0])

    def impl(args, n):
        return V.fixed(T.UInt8, (lookup(_full(args[0], n), args[1], types[1], n) >= 0).astype(np.uint8))

    return T.UInt8, impl


def map_element(types):
    """``m[k]``: the value under k, the value type's default when k is absent."""
    from mergetree.functions.aggregate.registry import take_or_default

    mt = types[0]

    def impl(args, n):
        m = _full(args[0], n)
        return take_or_default(m.values, lookup(m, args[1], types[1], n), mt.value)

    return mt.value, impl


@register("mapFromArrays")
def map_from_arrays(types, consts):
    if len(types) != 2 or not all(isinstance(t, T.ArrayType) for t in types):
        raise IllegalTypeOfArgumentError("Function mapFromArrays requires two arrays")
    rtype = T.MapType(types[0].inner, types[1].inner)

    def impl(args, n):
        a, b = _full(args[0], n), _full(args[1], n)
        if not np.array_equal(a.offsets, b.offsets):
            raise SizesOfArraysDontMatchError("Function mapFromArrays requires arrays of equal sizes")
        return MapColumn(rtype, a.offsets, a.values, b.values)

    return rtype, impl
