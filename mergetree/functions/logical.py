"""Logical functions with ClickHouse's three-valued logic: and, or, not, xor, isNull, isNotNull.

``and``/``or`` take any number (>= 2) of numeric arguments (non-zero is true) and return UInt8,
or Nullable(UInt8) when an argument is Nullable: ``NULL AND 0`` is 0, ``NULL AND 1`` is NULL,
``NULL OR 1`` is 1. ``not`` uses the default NULL handling (``NOT NULL`` is NULL).
"""

from __future__ import annotations

import numpy as np

from mergetree import types as T
from mergetree.column import NullableColumn
from mergetree.functions import values as V
from mergetree.functions.registry import NOT_CONST, check_arity, get_function, illegal_type, register


def _truth(c, t):
    """(bool truth array or scalar-broadcastable, null mask or None) of a logical argument."""
    c, mask = V.split_nullable(c)
    if V.is_null_type(t):
        return np.zeros(1, np.bool_), np.ones(1, np.bool_)
    return V.values(c) != 0, mask


def _check(name, types):
    for i, t in enumerate(types):
        base = V.strip(t)
        if not (V.is_number(base) or V.is_null_type(t)):
            raise illegal_type(name, t, i)


def _logical(name: str, is_and: bool):
    @register(name, null_mode="custom")
    def resolve(types, consts):
        if len(types) < 2:
            check_arity(name, types, 2, 1 << 30)
        _check(name, types)
        nullable = any(isinstance(t, T.NullableType) for t in types)
        rtype = T.Nullable(T.UInt8) if nullable else T.UInt8

        def impl(args, n):
            decided = np.zeros(n, np.bool_)   # some argument is false (AND) / true (OR)
            any_null = np.zeros(n, np.bool_)
            for a, t in zip(args, types):
                truth, mask = _truth(a, t)
                hit = ~truth if is_and else truth
                if mask is not None:
                    hit = hit & ~mask
                    any_null |= mask
                decided |= hit
            value = ~decided if is_and else decided
            if not nullable:
                return V.fixed(T.UInt8, value.astype(np.uint8))
            nulls = any_null & ~decided
            return NullableColumn(rtype, V.fixed(T.UInt8, (value & ~nulls).astype(np.uint8)), nulls)

        return rtype, impl

    return resolve


_logical("and", True)
_logical("or", False)


@register("not")
def not_(types, consts):
    check_arity("not", types, 1)
    _check("not", types)

    def impl(args, n):
        return V.fixed(T.UInt8, (V.values(args[0]) == 0).astype(np.uint8))

    return T.UInt8, impl


@register("xor")
def xor(types, consts):
    check_arity("xor", types, 2, 1 << 30)
    _check("xor", types)

    def impl(args, n):
        acc = np.zeros(n, np.bool_)
        for a in args:
            acc ^= V.values(a) != 0
        return V.fixed(T.UInt8, acc.astype(np.uint8))

    return T.UInt8, impl


def _null_test(name: str, want_null: bool):
    @register(name, null_mode="custom", case_insensitive=True)
    def resolve(types, consts):
        check_arity(name, types, 1)
        t = types[0]

        def impl(args, n):
            c, mask = V.split_nullable(args[0])
            if V.is_null_type(t):
                mask = np.ones(n, np.bool_)
            if mask is None:
                mask = np.zeros(n, np.bool_)
            mask = np.broadcast_to(mask, (n,))
            return V.fixed(T.UInt8, (mask if want_null else ~mask).astype(np.uint8))

        return T.UInt8, impl

    return resolve


_null_test("isNull", True)
_null_test("isNotNull", False)


def _distinct_test(name: str, want_equal: bool):
    """isNotDistinctFrom(a, b) (`a <=> b`, `a IS NOT DISTINCT FROM b`): NULL-safe equality,
    1 when both are NULL, 0 when exactly one is; isDistinctFrom is its negation. UInt8."""

    @register(name, null_mode="custom")
    def resolve(types, consts):
        from mergetree.functions.registry import prepare_call

        check_arity(name, types, 2)
        null_a, null_b = V.is_null_type(types[0]), V.is_null_type(types[1])
        eq = None
        if not (null_a or null_b):
            eq = prepare_call(get_function("equals"), [V.strip(types[0]), V.strip(types[1])],
                              [NOT_CONST, NOT_CONST])

        def impl(args, n):
            a, am = V.split_nullable(args[0])
            b, bm = V.split_nullable(args[1])
            am = np.ones(n, np.bool_) if null_a else (np.zeros(n, np.bool_) if am is None else np.broadcast_to(am, (n,)))
            bm = np.ones(n, np.bool_) if null_b else (np.zeros(n, np.bool_) if bm is None else np.broadcast_to(bm, (n,)))
            same = am & bm
            if eq is not None:
                same = same | (~am & ~bm & (np.broadcast_to(V.values(V.materialize(eq.run([a, b], n))), (n,)) != 0))
            return V.fixed(T.UInt8, (same if want_equal else ~same).astype(np.uint8))

        return T.UInt8, impl

    return resolve


_distinct_test("isNotDistinctFrom", True)
_distinct_test("isDistinctFrom", False)
