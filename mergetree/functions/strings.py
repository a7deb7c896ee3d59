"""String predicates and basics: startsWith, endsWith, like, notLike, ilike, notILike,
length, empty, notEmpty, lower, upper.

LIKE patterns must be constants; they are compiled once (`kernels.like.compile_like`) and
the common shapes take a fast path: ``'abc'`` (equality), ``'abc%'`` (prefix), ``'%abc'``
(suffix), ``'%abc%'`` (substring), ``'%'`` (everything); anything else runs the general
wildcard matcher. ILIKE lowers ASCII and Latin-1 letters on both sides (``'ÄB' ILIKE 'äb'``
is 1); other scripts compare case-sensitively (a simplification).
"""

from __future__ import annotations

import numpy as np

from mergetree import types as T
from mergetree.column import StringColumn
from mergetree.functions import values as V
from mergetree.functions.comparison import _string_parts
from mergetree.functions.registry import (NOT_CONST, BadFunctionArguments, IllegalTypeOfArgument, check_arity,
                                          illegal_type, register)


def _text_arg(name, types, i):
    if not isinstance(types[i], (T.StringType, T.FixedStringType)):
        raise illegal_type(name, types[i], i)


def _const_text(name, consts, i) -> bytes:
    v = consts[i]
    if v is NOT_CONST:
        raise IllegalTypeOfArgument(f"Argument {i + 1} of function {name} must be a constant string")
    return v.encode("utf-8", "surrogateescape") if isinstance(v, str) else bytes(v)


def _bool_result(res: np.ndarray, n: int):
    return V.fixed(T.UInt8, np.broadcast_to(res, (n,)).astype(np.uint8))


def _affix(name: str, kernel_name: str):
    @register(name)
    def resolve(types, consts):
        check_arity(name, types, 2)
        _text_arg(name, types, 0)
        _text_arg(name, types, 1)

        def impl(args, n):
            from mergetree.kernels import like as K

            kernel = getattr(K, kernel_name)
            offsets, data = _string_parts(args[0])
            if V.is_const(args[1]) or len(args[1]) == 1:
                off2, d2 = _string_parts(args[1])
                return _bool_result(kernel(offsets, data, bytes(d2[off2[0]:off2[1]])), n)
            raise IllegalTypeOfArgument(f"Second argument of function {name} must be a constant string")

        return T.UInt8, impl

    return resolve


_affix("startsWith", "starts_with")
_affix("endsWith", "ends_with")


def like_matcher(pattern: bytes, case_insensitive: bool = False):
    """A function (offsets, data) -> bool array matching LIKE `pattern`."""
    from mergetree.kernels import like as K

    if case_insensitive:
        pattern = bytes(K.lower_latin(np.frombuffer(pattern, np.uint8).copy()))
    try:
        tokens = K.compile_like(pattern)
    except ValueError as e:
        raise BadFunctionArguments(str(e)) from None
    fast = K.like_fast_path(tokens)

    def match(offsets, data):
        if case_insensitive:
            data = K.lower_latin(np.ascontiguousarray(data))
        if fast is None:
            return K.like_match(offsets, data, tokens)
        kind, lit = fast
        if kind == "all":
            return np.ones(offsets.shape[0] - 1, np.bool_)
        if kind == "equals":
            from mergetree.kernels.compare import equals_const
            return equals_const(offsets, data, lit)
        if kind == "prefix":
            return K.starts_with(offsets, data, lit)
        if kind == "suffix":
            return K.ends_with(offsets, data, lit)
        return K.contains(offsets, data, lit)

    return match


def _like(name: str, negated: bool, ci: bool):
    @register(name)
    def resolve(types, consts):
        check_arity(name, types, 2)
        _text_arg(name, types, 0)
        _text_arg(name, types, 1)
        match = like_matcher(_const_text(name, consts, 1), ci)

        def impl(args, n):
            res = match(*_string_parts(args[0]))
            return _bool_result(~res if negated else res, n)

        return T.UInt8, impl

    return resolve


_like("like", False, False)
_like("notLike", True, False)
_like("ilike", False, True)
_like("notILike", True, True)


@register("length", case_insensitive=True)
def length(types, consts):
    check_arity("length", types, 1)
    t = types[0]
    if isinstance(t, T.FixedStringType):
        return T.UInt64, lambda args, n: V.fixed(T.UInt64, np.full(n, t.length, np.uint64))
    if not isinstance(t, (T.StringType, T.ArrayType)):
        raise illegal_type("length", t, 0)

    def impl(args, n):
        c = V.inner_data(args[0])
        return V.fixed(T.UInt64, np.diff(c.offsets).astype(np.uint64))

    return T.UInt64, impl


def _emptiness(name: str, want_empty: bool):
    @register(name)
    def resolve(types, consts):
        check_arity(name, types, 1)
        if not isinstance(types[0], (T.StringType, T.ArrayType)):
            raise illegal_type(name, types[0], 0)

        def impl(args, n):
            c = V.inner_data(args[0])
            lens = np.diff(c.offsets)
            return V.fixed(T.UInt8, ((lens == 0) if want_empty else (lens != 0)).astype(np.uint8))

        return T.UInt8, impl

    return resolve


_emptiness("empty", True)
_emptiness("notEmpty", False)


def _case(name: str, lower: bool):
    @register(name, case_insensitive=True)
    def resolve(types, consts):
        check_arity(name, types, 1)
        _text_arg(name, types, 0)
        if not isinstance(types[0], T.StringType):
            raise illegal_type(name, types[0], 0)

        def impl(args, n):
            c = V.inner_data(args[0])
            d = c.data
            if lower:
                out = np.where((d >= 65) & (d <= 90), d + 32, d).astype(np.uint8)
            else:
                out = np.where((d >= 97) & (d <= 122), d - 32, d).astype(np.uint8)
            return StringColumn(T.String, c.offsets, out)

        return T.String, impl

    return resolve


_case("lower", True)
_case("upper", False)
