"""Type conversions: toInt8..toInt64, toUInt8..toUInt64, toFloat32/64 (+ ``OrZero`` / ``OrNull``),
toNullable and CAST(x, 'T').

Numbers convert with C semantics (integers wrap around: ``toUInt8(300)`` is 44; floats
truncate toward zero); Date/DateTime convert as their day/second numbers. Strings are parsed
with ClickHouse's strict syntax by the numba kernels in ``kernels/numparse.py`` (no spaces:
``toInt64(' 42')`` is an error; ``toUInt8('256')`` wraps to 0, ``toUInt8OrZero('256')`` is 0,
``toUInt8OrNull('256')`` is NULL; OrZero/OrNull take String arguments only). CAST to
Date/DateTime(tz) uses toDate/toDateTime; CAST to ``Nullable(T)`` casts to T and keeps the
NULLs. Not yet: conversion to String inside CAST, Decimal targets.
"""

from __future__ import annotations

import numpy as np

from mergetree import types as T
from mergetree.functions import values as V
from mergetree.functions.registry import (NOT_CONST, CannotParseText, IllegalTypeOfArgument, Monotonicity,
                                          check_arity, get_function, illegal_type, prepare_call, register)


def parse_numbers(c, rtype, mode: str, name: str):
    """String column/constant -> numbers of `rtype` (ClickHouse's strict text syntax).

    mode 'plain' raises on bad text (integers wrap into the type: toUInt8('256') = 0),
    'zero' gives 0 and 'null' gives NULL for bad or out-of-range text. Returns (values, bad)."""
    from mergetree.functions.comparison import _string_parts
    from mergetree.kernels import numparse

    offsets, data = _string_parts(c)
    if isinstance(rtype, T.FloatType):
        vals, ok = numparse.parse_floats(offsets, data)
        bad = ~ok
        out = vals.astype(rtype.dtype)
    else:
        mag, neg, status = numparse.parse_ints(offsets, data)
        bad = status != 1
        if not rtype.signed:
            bad |= neg
            if mode == "plain" and neg.any() and not (status == 0)[neg].all():
                i = int(np.argmax(neg & (status != 0)))
                raise CannotParseText(f"Cannot parse string '{_row_text(offsets, data, i)}' as {rtype}: "
                                      "unsigned type must not contain '-' symbol")
        signed_val = np.where(neg, (~mag) + np.uint64(1), mag)  # two's complement, wraps like C
        if mode != "plain":
            if rtype.signed:
                limit = np.uint64(1 << (rtype.bits - 1))
                bad |= np.where(neg, mag > limit, mag > limit - np.uint64(1))
            else:
                bad |= mag > np.uint64((1 << rtype.bits) - 1)
        out = signed_val.astype(rtype.dtype)
    if mode == "plain" and bad.any():
        i = int(np.argmax(bad))
        raise CannotParseText(f"Cannot parse string '{_row_text(offsets, data, i)}' as {rtype} "
                              f"(function {name}); there are {name}OrZero and {name}OrNull functions")
    if bad.any():
        out = np.where(bad, np.zeros(1, out.dtype), out)
    return out, bad


def _row_text(offsets, data, i: int) -> str:
    return bytes(data[offsets[i]:offsets[i + 1]]).decode("utf-8", "replace")


def _number_impl(name: str, rtype):
    def resolve_for(t):
        if isinstance(t, T.StringType):
            def impl(args, n):
                vals, _ = parse_numbers(args[0], rtype, "plain", name)
                out = V.fixed(rtype, vals)
                return V.ConstColumn(out, n) if V.is_const(args[0]) else out

            return impl
        if not (V.is_number(t) or V.is_date_like(t) or isinstance(t, T.DecimalType)):
            raise illegal_type(name, t, 0)

        def impl(args, n):
            v = V.values(args[0])
            if isinstance(t, T.DecimalType):
                v = v.astype(np.float64) / t.multiplier
            if isinstance(rtype, T.IntType) and v.dtype.kind == "f":
                with np.errstate(all="ignore"):
                    v = np.trunc(v).astype(np.int64)
            return V.fixed(rtype, v.astype(rtype.dtype))

        return impl

    return resolve_for


def _register_or(name: str, rtype, null: bool):
    """to<T>OrZero / to<T>OrNull: String only; bad text gives 0 / NULL."""
    out_type = T.Nullable(rtype) if null else rtype

    @register(name)
    def resolve(types, consts):
        check_arity(name, types, 1)
        if not isinstance(types[0], T.StringType):
            raise IllegalTypeOfArgument(f"Illegal type {types[0]} of first argument of function {name}. "
                                        "Conversion functions with postfix 'OrZero' or 'OrNull' should take "
                                        "String argument")

        def impl(args, n):
            vals, bad = parse_numbers(args[0], rtype, "null" if null else "zero", name)
            col = V.fixed(rtype, vals)
            if null:
                col = V.with_nulls(col, bad, out_type)
            return V.ConstColumn(col, n) if V.is_const(args[0]) else col

        return out_type, impl

    return resolve


def _widening_monotonic(rtype):
    def mono(types, consts, i):
        t = types[0]
        if isinstance(rtype, T.FloatType) and V.is_number(t):
            return Monotonicity(True, True)
        if isinstance(t, (T.IntType, T.BoolType)) and isinstance(rtype, T.IntType):
            bits = 8 if isinstance(t, T.BoolType) else t.bits
            signed = isinstance(t, T.IntType) and t.signed
            if (signed == rtype.signed and rtype.bits >= bits) or (not signed and rtype.signed and rtype.bits > bits):
                return Monotonicity(True, True)
        return None

    return mono


def _register_number(name: str, rtype):
    make = _number_impl(name, rtype)

    @register(name, monotonic=_widening_monotonic(rtype))
    def resolve(types, consts):
        check_arity(name, types, 1)
        return rtype, make(types[0])

    return resolve


for _t in (T.UInt8, T.UInt16, T.UInt32, T.UInt64, T.Int8, T.Int16, T.Int32, T.Int64, T.Float32, T.Float64):
    _register_number("to" + _t.name, _t)
    _register_or("to" + _t.name + "OrZero", _t, False)
    _register_or("to" + _t.name + "OrNull", _t, True)


@register("CAST", case_insensitive=True, null_mode="custom")
def cast(types, consts):
    check_arity("CAST", types, 2)
    target_name = consts[1]
    if target_name is NOT_CONST or not isinstance(target_name, str):
        raise IllegalTypeOfArgument("Second argument of CAST must be a constant string with a type name")
    target = T.parse_type(target_name)
    src = types[0]
    nullable_target = isinstance(target, T.NullableType)
    inner = target.inner if nullable_target else target
    if V.is_null_type(src):
        if not nullable_target:
            raise IllegalTypeOfArgument(f"Cannot convert NULL to a non-Nullable type {target}")
        return target, lambda args, n: V.with_nulls(V.default_of(target.inner, n), np.ones(n, np.bool_), target)
    plain_src = V.strip(src)
    if plain_src == inner:
        conv = None
    elif isinstance(inner, T.DateType):
        conv = prepare_call(get_function("toDate"), [plain_src], [NOT_CONST])
    elif isinstance(inner, T.DateTimeType):
        extra = [T.String] if inner.timezone else []
        conv = prepare_call(get_function("toDateTime"), [plain_src, *extra],
                            [NOT_CONST, *([inner.timezone] if inner.timezone else [])])
    elif isinstance(inner, (T.IntType, T.FloatType)):
        conv = prepare_call(get_function("to" + inner.name), [plain_src], [NOT_CONST])
    elif isinstance(inner, T.StringType):
        conv = prepare_call(get_function("toString"), [plain_src], [NOT_CONST])
    else:
        from mergetree.functions.tuples import cast_composite, is_composite

        if is_composite(plain_src) and type(plain_src) is type(inner):   # Array/Tuple/Map element by element
            return target, lambda args, n: cast_composite(args[0], plain_src, inner)
        raise IllegalTypeOfArgument(f"CAST from {src} to {target} is not supported yet")
    src_nullable = isinstance(src, T.NullableType)
    if src_nullable and not nullable_target:
        raise IllegalTypeOfArgument(f"Cannot convert {src} to non-Nullable {target} (NULLs would be lost)")

    def impl(args, n):
        plain, mask = V.split_nullable(args[0])
        if conv is not None:
            extra = [V.string_const(inner.timezone, n)] if isinstance(inner, T.DateTimeType) and inner.timezone else []
            plain = conv.run([plain, *extra], n)
        if nullable_target:
            return V.with_nulls(V.materialize(plain), None if mask is None else np.broadcast_to(mask, (n,)), target)
        return plain

    return target, impl


@register("assumeNotNull", null_mode="custom")
def assume_not_null(types, consts):
    """Nullable(T) -> T: the stored values, a NULL's being the type's default (ClickHouse's behaviour;
    it calls it undefined). Non-Nullable arguments pass through."""
    check_arity("assumeNotNull", types, 1)
    t = types[0]
    if not isinstance(t, T.NullableType):
        return t, lambda args, n: args[0]
    return t.inner, lambda args, n: V.split_nullable(args[0])[0]


@register("toNullable", null_mode="custom")
def to_nullable(types, consts):
    check_arity("toNullable", types, 1)
    t = types[0]
    if isinstance(t, T.NullableType):
        return t, lambda args, n: args[0]
    rtype = V.make_nullable(t)
    if rtype == t:
        raise illegal_type("toNullable", t, 0)

    def impl(args, n):
        return V.with_nulls(V.materialize(args[0]), None, rtype)

    return rtype, impl
