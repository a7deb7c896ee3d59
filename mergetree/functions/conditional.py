"""Conditional functions: if, multiIf, coalesce, ifNull, plus `supertype` and `cast_column`.

Branches are unified to ClickHouse's least common supertype (observed in 26.9):
UInt8 and Int8 -> Int16, UInt32 and Int16 -> Int64, UInt64 and a signed type -> no supertype
(NO_COMMON_TYPE); Float32 with integers of at most 16 bits -> Float32, otherwise Float64;
Date and DateTime -> DateTime (the first time zone); String and FixedString -> String; NULL makes
the result Nullable. A NULL condition counts as false (``if(NULL, 1, 2)`` is 2).
``coalesce`` is Nullable only when every argument is.

Evaluation is one gather: every branch is cast to the result type (a constant stays one row),
the branches are concatenated, and one index array picks each row's value.
"""

from __future__ import annotations

import numpy as np

from mergetree import types as T
from mergetree.column import Column, StringColumn
from mergetree.errors import NoCommonTypeError
from mergetree.functions import values as V
from mergetree.functions.registry import (NOT_CONST, IllegalTypeOfArgument, check_arity, get_function,
                                          prepare_call, register)


def _int_bits(t) -> int:
    return 8 if isinstance(t, T.BoolType) else t.bits


def _plain_supertype(types: list, name: str):
    first = types[0]
    if all(t == first for t in types):
        return first
    if all(isinstance(t, (T.IntType, T.FloatType, T.BoolType)) for t in types):
        ints = [t for t in types if not isinstance(t, T.FloatType)]
        floats = [t for t in types if isinstance(t, T.FloatType)]
        if floats:
            if all(f.bits == 32 for f in floats) and all(_int_bits(t) <= 16 for t in ints):
                return T.Float32
            return T.Float64
        unsigned = [_int_bits(t) for t in ints if not (isinstance(t, T.IntType) and t.signed)]
        signed = [t.bits for t in ints if isinstance(t, T.IntType) and t.signed]
        if not signed:
            return T.IntType(max(unsigned), False)
        if not unsigned:
            return T.IntType(max(signed), True)
        if max(unsigned) >= 64:
            raise NoCommonTypeError(f"There is no supertype for types {', '.join(map(str, types))} "
                                    f"in function {name}")
        return T.IntType(max(max(signed), 2 * max(unsigned)), True)
    if all(V.is_date_like(t) for t in types):
        dt64 = [t for t in types if isinstance(t, T.DateTime64Type)]
        tz = next((t.timezone for t in types if getattr(t, "timezone", None)), None)
        if dt64:
            return T.DateTime64(max(t.precision for t in dt64), tz)
        if any(isinstance(t, T.DateTimeType) for t in types):
            return T.DateTimeType(tz)
        return T.Date32
    if all(isinstance(t, (T.StringType, T.FixedStringType)) for t in types):
        return T.String
    if all(isinstance(t, T.ArrayType) for t in types):  # [[1], []]: Array(Nothing) fits any array
        inner = [t.inner for t in types if not isinstance(t.inner, V.NothingType)]
        return T.Array(supertype(inner, name)) if inner else types[0]
    if all(isinstance(t, T.TupleType) for t in types) and len({len(t.elements) for t in types}) == 1:
        # [((), [1]), ([], [])]: element by element (the names kept when every tuple has the same)
        names = {t.names for t in types}
        elements = tuple(supertype([t.elements[k] for t in types], name) for k in range(len(first.elements)))
        return T.TupleType(elements, names.pop() if len(names) == 1 else None)
    raise NoCommonTypeError(f"There is no supertype for types {', '.join(map(str, types))} in function {name}")


def supertype(types: list, name: str = "if"):
    """ClickHouse's least common supertype of `types` (Nullable/LowCardinality aware)."""
    rest = [V.strip_lc(t) for t in types if not V.is_null_type(V.strip_lc(t))]
    if not rest:
        return V.NullType
    nullable = len(rest) < len(types) or any(isinstance(t, T.NullableType) for t in rest)
    st = _plain_supertype([V.strip(t) for t in rest], name)
    return V.make_nullable(st) if nullable else st


def cast_column(c, src, dst):
    """Column or constant `c` of type `src` converted to type `dst` (same number of rows)."""
    c = V.unwrap_lc(c)
    src = V.strip_lc(src)
    if src == dst:
        return c
    if V.is_null_type(src):
        return V.ConstColumn(V.default_of(dst, 1), len(c)) if V.is_const(c) else V.default_of(dst, len(c))
    if isinstance(V.strip(src), T.FixedStringType) and isinstance(V.strip(dst), T.StringType):
        plain, mask = V.split_nullable(c)
        data = V.inner_data(plain)
        k, w = data.values.shape
        col = StringColumn(T.String, np.arange(k + 1, dtype=np.int64) * w, data.values.reshape(-1).copy())
        if isinstance(dst, T.NullableType):
            col = V.with_nulls(col, None if mask is None else mask[:k], dst)
        return V.ConstColumn(col, len(c)) if V.is_const(c) else col
    if isinstance(src, T.ArrayType) and isinstance(dst, T.ArrayType):  # element by element
        from mergetree.column import ArrayColumn

        data = V.inner_data(c)
        if isinstance(src.inner, V.NothingType):  # [] has no elements to convert
            values = V.default_of(dst.inner, len(data.values))
        else:
            values = V.materialize(cast_column(data.values, src.inner, dst.inner))
        col = ArrayColumn(dst, data.offsets, values)
        return V.ConstColumn(col, len(c)) if V.is_const(c) else col
    if isinstance(src, (T.TupleType, T.MapType)) and type(src) is type(dst):
        from mergetree.functions.tuples import cast_composite

        return cast_composite(c, src, dst)
    call = prepare_call(get_function("CAST"), [src, T.String], [NOT_CONST, str(dst)])
    if V.is_const(c):
        out = call.run([c.data, V.string_const(str(dst), 1)], 1)
        return V.ConstColumn(V.materialize(out), len(c))
    return V.materialize(call.run([c, V.string_const(str(dst), len(c))], len(c)))


def _truth(c, t, n: int) -> np.ndarray:
    """Bool array: the condition is true (NULL is false)."""
    if V.is_null_type(V.strip_lc(t)):
        return np.zeros(n, np.bool_)
    c, mask = V.split_nullable(V.unwrap_lc(c))
    truth = np.broadcast_to(V.values(c) != 0, (n,))
    if mask is not None:
        truth = truth & ~np.broadcast_to(mask, (n,))
    return truth


def _check_condition(name, t, i):
    base = V.strip(t)
    if not (V.is_null_type(V.strip_lc(t)) or isinstance(base, (T.IntType, T.BoolType))):
        raise IllegalTypeOfArgument(f"Illegal type {t} of argument {i + 1} (condition) of function {name}")


def gather_branches(branches: list, choice: np.ndarray, n: int) -> Column:
    """Row i takes branch choice[i]; branches are columns of n rows or ConstColumns (one row)."""
    parts, bases, consts = [], [], []
    base = 0
    for b in branches:
        col = b.data if V.is_const(b) else b
        parts.append(col)
        bases.append(base)
        consts.append(V.is_const(b))
        base += len(col)
    bases = np.array(bases, np.int64)
    consts = np.array(consts, np.bool_)
    rows = np.arange(n, dtype=np.int64)
    index = bases[choice] + np.where(consts[choice], 0, rows)
    return Column.concat(parts).take(index)


@register("if", null_mode="custom")
def if_(types, consts):
    check_arity("if", types, 3)
    _check_condition("if", types[0], 0)
    rtype = supertype(types[1:], "if")

    def impl(args, n):
        truth = _truth(args[0], types[0], n)
        a = cast_column(args[1], types[1], rtype)
        b = cast_column(args[2], types[2], rtype)
        return gather_branches([a, b], np.where(truth, 0, 1), n)

    return rtype, impl


@register("multiIf", null_mode="custom")
def multi_if(types, consts):
    if len(types) < 3 or len(types) % 2 == 0:
        raise IllegalTypeOfArgument("Function multiIf needs an odd number of arguments (>= 3): "
                                    "cond1, then1, cond2, then2, ..., else")
    conds = types[0:-1:2]
    values = list(types[1:-1:2]) + [types[-1]]
    for i, t in enumerate(conds):
        _check_condition("multiIf", t, 2 * i)
    rtype = supertype(values, "multiIf")

    def impl(args, n):
        k = len(conds)
        choice = np.full(n, k, np.int64)
        for i in range(k - 1, -1, -1):
            choice[_truth(args[2 * i], conds[i], n)] = i
        branches = [cast_column(args[2 * i + 1], values[i], rtype) for i in range(k)]
        branches.append(cast_column(args[-1], values[-1], rtype))
        return gather_branches(branches, choice, n)

    return rtype, impl


def _coalesce(name: str):
    @register(name, null_mode="custom", case_insensitive=True)
    def resolve(types, consts):
        if name == "ifNull":
            check_arity(name, types, 2)
        elif not types:
            check_arity(name, types, 1, 1 << 30)
        useful = []
        for t in types:
            if V.is_null_type(V.strip_lc(t)):
                continue
            useful.append(t)
            if not isinstance(V.strip_lc(t), T.NullableType):
                break  # later arguments can never be reached
        if not useful:
            return V.NullType, lambda args, n: V.null_constant(n)
        st = supertype([V.strip(t) for t in useful], name)
        all_nullable = isinstance(V.strip_lc(useful[-1]), T.NullableType)
        rtype = V.make_nullable(st) if all_nullable else st
        positions = [i for i in range(len(types)) if not V.is_null_type(V.strip_lc(types[i]))][:len(useful)]

        def impl(args, n):
            k = len(positions)
            choice = np.full(n, k, np.int64)
            branches = []
            for j in range(k - 1, -1, -1):
                i = positions[j]
                plain, mask = V.split_nullable(V.unwrap_lc(args[i]))
                present = np.ones(n, np.bool_) if mask is None else ~np.broadcast_to(mask, (n,))
                choice[present] = j
            for j, i in enumerate(positions):
                plain, _ = V.split_nullable(V.unwrap_lc(args[i]))
                branches.append(cast_column(plain, V.strip(types[i]), st))
            if all_nullable:  # rows where every argument is NULL
                branches.append(V.ConstColumn(V.default_of(st, 1), n))
                res = gather_branches(branches, choice, n)
                return V.with_nulls(res, choice == k, rtype)
            return gather_branches(branches, choice, n)

        return rtype, impl

    return resolve


_coalesce("coalesce")
_coalesce("ifNull")


@register("nullIf", case_insensitive=True, null_mode="custom")
def null_if(types, consts):
    """nullIf(a, b): NULL where a = b, else a (Nullable(a's type))."""
    from mergetree.functions.comparison import compare_values, comparison_domain

    check_arity("nullIf", types, 2)
    ta, tb = V.strip(types[0]), V.strip(types[1])
    if V.is_null_type(V.strip_lc(types[0])):
        return V.NullType, lambda args, n: V.null_constant(n)
    rtype = V.make_nullable(ta)
    dom = None if V.is_null_type(V.strip_lc(types[1])) else comparison_domain(ta, tb, "nullIf")

    def impl(args, n):
        a, amask = V.split_nullable(V.unwrap_lc(args[0]))
        b, bmask = V.split_nullable(V.unwrap_lc(args[1]))
        nulls = np.zeros(n, np.bool_) if amask is None else np.broadcast_to(amask, (n,)).copy()
        if dom is not None:
            eq = np.broadcast_to(compare_values("equals", a, ta, b, tb, dom), (n,))
            if bmask is not None:
                eq = eq & ~np.broadcast_to(bmask, (n,))
            nulls |= eq
        return V.with_nulls(V.materialize(a) if V.is_const(a) else a, nulls, rtype)

    return rtype, impl


@register("toTypeName", null_mode="raw")
def to_type_name(types, consts):
    check_arity("toTypeName", types, 1)
    name = str(types[0])
    return T.String, lambda args, n: V.string_const(name, n)


@register("toLowCardinality", null_mode="raw")
def to_low_cardinality(types, consts):
    """The same values, dictionary-encoded: ``LowCardinality(T)`` (a LowCardinality argument is
    returned unchanged; a Nullable one becomes ``LowCardinality(Nullable(T))``)."""
    check_arity("toLowCardinality", types, 1)
    if isinstance(types[0], T.LowCardinalityType):
        return types[0], lambda args, n: args[0]
    result = T.LowCardinality(types[0])

    def run(args, n):
        from mergetree.column import LowCardinalityColumn

        return LowCardinalityColumn.encode(result, V.materialize(args[0]))
    return result, run
