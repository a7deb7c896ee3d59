"""The "other" long tail: sign, sqrt, pow, exp, log, log2, log10, intDivOrZero, bitAnd, bitOr,
bitXor, bitShiftLeft, bitShiftRight, bitNot, isFinite, isNaN, isInfinite, throwIf, ignore,
materialize, currentDatabase, version, rand, rand64, transform, toFixedString.
"""

from __future__ import annotations

import numpy as np

from mergetree import types as T
from mergetree.functions import values as V
from mergetree.errors import MergeTreeError
from mergetree.functions.registry import NOT_CONST, IllegalTypeOfArgument, check_arity, illegal_type, register


@register("materialize", null_mode="raw")
def materialize(types, consts):
    """A constant as a full column (same type, Nullable and LowCardinality included)."""
    check_arity("materialize", types, 1)
    return types[0], lambda args, n: V.materialize(args[0])


def _numeric(name, t, i=0):
    if not isinstance(t, (T.IntType, T.FloatType, T.BoolType)):
        raise illegal_type(name, t, i)


@register("sign", case_insensitive=True)
def sign(types, consts):
    check_arity("sign", types, 1)
    _numeric("sign", types[0])

    def impl(args, n):
        v = V.values(args[0])
        if v.dtype.kind == "f":
            out = np.where(v > 0, 1, np.where(v < 0, -1, np.where(np.isnan(v), 1, 0)))
        else:
            out = np.sign(v.astype(np.int64)) if v.dtype.kind == "i" else (v != 0)
        return V.fixed(T.Int8, out.astype(np.int8))

    return T.Int8, impl


def _float_fn(name, fn, arity=1, aliases=(), ci=True):
    @register(name, case_insensitive=ci, aliases=aliases)
    def resolve(types, consts):
        check_arity(name, types, arity)
        for i, t in enumerate(types):
            _numeric(name, t, i)

        def impl(args, n):
            vals = [V.values(a).astype(np.float64) for a in args]
            with np.errstate(all="ignore"):
                out = fn(*vals)
            return V.fixed(T.Float64, np.asarray(out, np.float64))

        return T.Float64, impl

    return resolve


_float_fn("sqrt", np.sqrt)
_float_fn("cbrt", np.cbrt)
_float_fn("exp", np.exp)
_float_fn("exp2", np.exp2)
_float_fn("exp10", lambda x: np.power(10.0, x))
_float_fn("log", np.log, aliases=("ln",))
_float_fn("log2", np.log2)
_float_fn("log10", np.log10)
_float_fn("pow", np.power, arity=2, aliases=("power",))


def _predicate(name, fn):
    @register(name)
    def resolve(types, consts):
        check_arity(name, types, 1)
        _numeric(name, types[0])

        def impl(args, n):
            v = V.values(args[0])
            if v.dtype.kind != "f":
                out = np.full(len(v), fn(np.float64(0)), np.bool_)  # integers are finite, never NaN
            else:
                out = fn(v)
            return V.fixed(T.UInt8, np.asarray(out).astype(np.uint8))

        return T.UInt8, impl

    return resolve


_predicate("isFinite", np.isfinite)
_predicate("isInfinite", np.isinf)
_predicate("isNaN", np.isnan)


@register("intDivOrZero")
def int_div_or_zero(types, consts):
    """intDiv with a zero divisor (or the overflowing min / -1) giving 0."""
    from mergetree.functions.registry import get_function, prepare_call

    check_arity("intDivOrZero", types, 2)
    for i, t in enumerate(types):
        _numeric("intDivOrZero", t, i)
    rtype = prepare_call(get_function("intDiv"), list(types), [NOT_CONST, NOT_CONST]).type

    def impl(args, n):
        a = V.values(args[0])
        b = V.values(args[1])
        a_, b_ = np.broadcast_arrays(a, b)
        bad = (b_ == 0)
        if rtype.dtype.kind == "i":
            bad = bad | ((b_ == -1) & (a_ == np.iinfo(rtype.dtype).min))
        safe_b = np.where(bad, 1, b_)
        with np.errstate(all="ignore"):
            if a_.dtype.kind == "f" or safe_b.dtype.kind == "f":
                q = np.trunc(a_.astype(np.float64) / safe_b.astype(np.float64))
                q = np.where(np.isfinite(q), q, 0)
            else:
                if rtype.dtype.kind == "u":
                    q = a_.astype(np.uint64) // safe_b.astype(np.uint64)
                else:
                    xi, yi = a_.astype(np.int64), safe_b.astype(np.int64)
                    q = np.abs(xi) // np.abs(yi) * np.sign(xi) * np.sign(yi)
        out = np.where(bad, 0, q)
        return V.fixed(rtype, out.astype(rtype.dtype))

    return rtype, impl


# --------------------------------------------------------------------------- bits


def _bit_result(name, a, b):
    """ClickHouse's result type of a bitwise op on two integers."""
    if isinstance(a, T.BoolType):
        a = T.UInt8
    if isinstance(b, T.BoolType):
        b = T.UInt8
    # the wider size, signed if either side is (bitAnd(toInt8(-1), 255) = -1 :: Int8)
    return V.int_type(max(a.bits, b.bits), a.signed or b.signed)


def _bitop(name, op):
    @register(name)
    def resolve(types, consts):
        check_arity(name, types, 2)
        for i, t in enumerate(types):
            if not isinstance(t, (T.IntType, T.BoolType)):
                raise illegal_type(name, t, i)
        rtype = _bit_result(name, types[0], types[1])

        def impl(args, n):
            a = V.values(args[0]).astype(rtype.dtype)
            b = V.values(args[1]).astype(rtype.dtype)
            return V.fixed(rtype, op(a, b).astype(rtype.dtype))

        return rtype, impl

    return resolve


_bitop("bitAnd", np.bitwise_and)
_bitop("bitOr", np.bitwise_or)
_bitop("bitXor", np.bitwise_xor)


def _shift(name, left):
    @register(name)
    def resolve(types, consts):
        check_arity(name, types, 2)
        t = types[0]
        if not isinstance(t, (T.IntType, T.BoolType)):
            raise illegal_type(name, t, 0)
        if not isinstance(types[1], (T.IntType, T.BoolType)):
            raise illegal_type(name, types[1], 1)
        rtype = T.UInt8 if isinstance(t, T.BoolType) else t

        def impl(args, n):
            from mergetree.errors import ArgumentOutOfBoundError

            a = V.values(args[0]).astype(rtype.dtype)
            s = V.values(args[1]).astype(np.int64)
            if (s < 0).any():
                raise ArgumentOutOfBoundError("The number of shift positions needs to be a non-negative value")
            width = rtype.dtype.itemsize * 8
            big = s >= width
            sh = np.where(big, 0, s).astype(rtype.dtype)
            out = (a << sh) if left else (a >> sh)
            out = np.where(big, 0, out)
            return V.fixed(rtype, np.asarray(out).astype(rtype.dtype))

        return rtype, impl

    return resolve


_shift("bitShiftLeft", True)
_shift("bitShiftRight", False)


@register("bitNot")
def bit_not(types, consts):
    check_arity("bitNot", types, 1)
    t = types[0]
    if not isinstance(t, (T.IntType, T.BoolType)):
        raise illegal_type("bitNot", t, 0)
    rtype = T.UInt8 if isinstance(t, T.BoolType) else t
    return rtype, lambda args, n: V.fixed(rtype, np.invert(V.values(args[0]).astype(rtype.dtype)))


# --------------------------------------------------------------------------- misc


class FunctionThrowIfValueIsNonZero(MergeTreeError):
    code = "FUNCTION_THROW_IF_VALUE_IS_NON_ZERO"


@register("throwIf")
def throw_if(types, consts):
    check_arity("throwIf", types, 1, 2)
    if not isinstance(types[0], (T.IntType, T.BoolType)):
        raise illegal_type("throwIf", types[0], 0)
    message = "Value passed to 'throwIf' function is non-zero"
    if len(types) == 2:
        v = consts[1]
        if v is NOT_CONST or not isinstance(types[1], T.StringType):
            raise IllegalTypeOfArgument("Second argument of function throwIf must be a constant string")
        message = v if isinstance(v, str) else bytes(v).decode("utf-8", "replace")

    def impl(args, n):
        if (V.values(args[0]) != 0).any():
            raise FunctionThrowIfValueIsNonZero(message)
        return V.fixed(T.UInt8, np.zeros(len(V.values(args[0])), np.uint8))

    return T.UInt8, impl


@register("ignore", null_mode="raw")
def ignore(types, consts):
    return T.UInt8, lambda args, n: V.const_of(T.UInt8, 0, n)


@register("currentDatabase", aliases=("DATABASE", "current_database"))
def current_database(types, consts):
    check_arity("currentDatabase", types, 0)
    return T.String, lambda args, n: V.string_const("default", n)


@register("version", case_insensitive=True)
def version(types, consts):
    """The ClickHouse version whose behaviour mergetree follows (the golden references' chDB)."""
    check_arity("version", types, 0)
    return T.String, lambda args, n: V.string_const(CLICKHOUSE_VERSION, n)


CLICKHOUSE_VERSION = "26.9.2.1"


def _rand(name, dtype, rtype):
    @register(name)
    def resolve(types, consts):
        check_arity(name, types, 0, 1 << 10)  # arguments only make calls distinct

        def impl(args, n):
            rng = np.random.default_rng()
            return V.fixed(rtype, rng.integers(0, np.iinfo(dtype).max, size=n, dtype=dtype, endpoint=True))

        return rtype, impl

    return resolve


_rand("rand", np.uint32, T.UInt32)
_rand("rand32", np.uint32, T.UInt32)
_rand("rand64", np.uint64, T.UInt64)


@register("randCanonical")
def rand_canonical(types, consts):
    return T.Float64, lambda args, n: V.fixed(T.Float64, np.random.default_rng().random(n))


# --------------------------------------------------------------------------- toFixedString / transform


class TooLargeStringSize(MergeTreeError):
    code = "TOO_LARGE_STRING_SIZE"


@register("toFixedString")
def to_fixed_string(types, consts):
    check_arity("toFixedString", types, 2)
    if not isinstance(types[0], (T.StringType, T.FixedStringType)):
        raise illegal_type("toFixedString", types[0], 0)
    if consts[1] is NOT_CONST or not isinstance(types[1], T.IntType) or int(consts[1]) <= 0:
        raise IllegalTypeOfArgument("Second argument of function toFixedString must be a positive constant integer")
    width = int(consts[1])
    rtype = T.FixedStringType(width)

    def impl(args, n):
        from mergetree.column import FixedColumn
        from mergetree.functions.comparison import _string_parts

        o, d = _string_parts(args[0])
        lens = np.diff(o)
        if (lens > width).any():
            raise TooLargeStringSize(f"String too long for type FixedString({width})")
        out = np.zeros((len(lens), width), np.uint8)
        row = np.repeat(np.arange(len(lens)), lens)
        pos = np.arange(int(lens.sum())) - np.repeat(o[:-1] - o[0], lens)
        out[row, pos] = d[o[0]:o[-1]]
        return FixedColumn(rtype, out)

    return rtype, impl


@register("transform", null_mode="custom")
def transform(types, consts):
    """transform(x, [from...], [to...][, default]): map x through constant arrays; without a
    default an unmatched x is returned as is (then `to` must have x's type). One vectorized
    comparison per `from` entry, no per-row Python."""
    from mergetree.functions.conditional import cast_column, supertype

    check_arity("transform", types, 3, 4)
    if consts[1] is NOT_CONST or consts[2] is NOT_CONST:
        raise IllegalTypeOfArgument("Second and third arguments of function transform must be constant arrays")
    if not isinstance(types[1], T.ArrayType) or not isinstance(types[2], T.ArrayType):
        raise IllegalTypeOfArgument("Second and third arguments of function transform must be arrays")
    src, dst = list(consts[1]), list(consts[2])
    if len(src) != len(dst):
        from mergetree.functions.registry import BadFunctionArguments

        raise BadFunctionArguments("Second and third arguments of function transform must be arrays of same size")
    x_t = types[0]
    to_t = types[2].inner
    if len(types) == 4:
        rtype = supertype([to_t, types[3]], "transform")
    else:
        rtype = supertype([to_t, x_t], "transform") if not isinstance(V.strip(x_t), T.StringType) else x_t

    def impl(args, n):
        from mergetree.column import column_from_values
        from mergetree.functions.conditional import gather_branches

        x = V.materialize(args[0])
        default = V.materialize(cast_column(args[3], types[3], rtype)) if len(types) == 4 else \
            V.materialize(cast_column(args[0], x_t, rtype))
        # code j = first position of x in `from` (-1: none); one vectorized comparison per entry
        codes = np.full(len(x), -1, np.int64)
        for j in range(len(src) - 1, -1, -1):
            codes[_equals(x, x_t, src[j])] = j
        mapped = V.materialize(cast_column(column_from_values(to_t, dst), to_t, rtype)) if dst else default
        use = codes >= 0
        take = mapped.take(np.where(use, codes, 0)) if dst else default
        return gather_branches([default, take], use.astype(np.int64), n)

    return rtype, impl


def _equals(col, t, value) -> np.ndarray:
    """Rows of `col` (type t) equal to the Python value (False for a value of another kind)."""
    t = V.strip(t)
    if isinstance(t, (T.StringType, T.FixedStringType)):
        if not isinstance(value, (str, bytes)):
            return np.zeros(len(col), np.bool_)
        from mergetree.functions.comparison import _string_parts
        from mergetree.kernels.compare import equals_const

        lit = value.encode("utf-8", "surrogateescape") if isinstance(value, str) else value
        return np.asarray(equals_const(*_string_parts(col), lit), np.bool_)
    if isinstance(value, (str, bytes)) or value is None:
        return np.zeros(len(col), np.bool_)
    return np.asarray(V.values(col) == value)


def _zero_of(t):
    t = V.strip(t)
    return t.default


@register("accurateCastOrNull", null_mode="custom")
def accurate_cast_or_null(types, consts):
    """CAST that gives NULL instead of losing information: out-of-range integers, floats with a
    fraction (or NaN/inf) into integers, unparsable text, Float64 beyond Float32's range."""
    from mergetree.functions.conditional import cast_column
    from mergetree.functions.registry import get_function, prepare_call

    check_arity("accurateCastOrNull", types, 2)
    if consts[1] is NOT_CONST or not isinstance(consts[1], str):
        raise IllegalTypeOfArgument("Second argument of function accurateCastOrNull must be a constant type name")
    target = T.parse_type(consts[1])
    plain_target = V.strip(target)
    rtype = V.make_nullable(plain_target)
    src_full = types[0]
    src = V.strip(src_full)

    text_call = None
    if isinstance(src, T.StringType) and isinstance(plain_target, (T.IntType, T.FloatType)):
        text_call = prepare_call(get_function(f"to{plain_target.name}OrNull"), [T.String], [NOT_CONST])
    elif isinstance(src, T.StringType) and isinstance(plain_target, (T.DateType, T.Date32Type, T.DateTimeType)):
        text_call = prepare_call(get_function("parseDateTimeBestEffortOrNull"), [T.String], [NOT_CONST])

    def impl(args, n):
        from mergetree.column import NullableColumn

        c = V.materialize(V.unwrap_lc(args[0]))
        in_nulls = None
        if isinstance(c, NullableColumn):
            in_nulls = c.nulls
            c = c.values
        if V.is_null_type(src_full):
            return V.with_nulls(V.default_of(plain_target, n), np.ones(n, np.bool_), rtype)
        bad = np.zeros(len(c), np.bool_)
        if text_call is not None:
            res = V.materialize(text_call.run([c], len(c)))
            if isinstance(res, NullableColumn):
                bad = res.nulls.copy()
                res = res.values
            if not isinstance(plain_target, (T.IntType, T.FloatType)):
                res = cast_column(res, V.strip(text_call.type), plain_target)
                if isinstance(plain_target, (T.DateType, T.Date32Type)):
                    res = V.materialize(res)
            out = res
        elif isinstance(plain_target, T.IntType) and isinstance(src, (T.IntType, T.BoolType, T.FloatType)):
            v = V.values(c)
            info = np.iinfo(plain_target.dtype)
            if v.dtype.kind == "f":
                with np.errstate(all="ignore"):
                    bad = ~np.isfinite(v) | (np.trunc(v) != v) | (v < float(info.min)) | (v >= float(info.max) + 1)
            elif v.dtype == np.uint64:
                bad = v > np.uint64(info.max)
            else:
                w = v.astype(np.int64)
                bad = (w < info.min) | ((w > info.max) if info.max < (1 << 63) - 1 else np.zeros(len(w), np.bool_))
            out = V.fixed(plain_target, np.where(bad, 0, v).astype(plain_target.dtype))
        elif isinstance(plain_target, T.FloatType) and isinstance(src, (T.IntType, T.BoolType, T.FloatType)):
            v = V.values(c).astype(np.float64)
            if plain_target.dtype == np.float32:
                bad = np.isfinite(v) & (np.abs(v) > np.finfo(np.float32).max)
            out = V.fixed(plain_target, np.where(bad, 0, v).astype(plain_target.dtype))
        else:
            try:
                out = V.materialize(cast_column(c, src, plain_target))
            except MergeTreeError:
                out = V.default_of(plain_target, len(c))
                bad = np.ones(len(c), np.bool_)
        if in_nulls is not None:
            bad = bad | in_nulls
        return V.with_nulls(V.materialize(out), bad, rtype)

    return rtype, impl


# --------------------------------------------------------------------------- more math (cheap, Float64)

for _name, _fn in (("sin", np.sin), ("cos", np.cos), ("tan", np.tan), ("asin", np.arcsin), ("acos", np.arccos),
                   ("atan", np.arctan), ("sinh", np.sinh), ("cosh", np.cosh), ("tanh", np.tanh),
                   ("asinh", np.arcsinh), ("acosh", np.arccosh), ("atanh", np.arctanh), ("log1p", np.log1p),
                   ("degrees", np.degrees), ("radians", np.radians)):
    _float_fn(_name, _fn)
_float_fn("atan2", np.arctan2, arity=2)
_float_fn("hypot", np.hypot, arity=2)


def _constant(name, value):
    @register(name, case_insensitive=True)
    def resolve(types, consts):
        check_arity(name, types, 0)
        return T.Float64, lambda args, n: V.const_of(T.Float64, value, n)

    return resolve


_constant("pi", float(np.pi))
_constant("e", float(np.e))


def _int_exp(name, base):
    @register(name)
    def resolve(types, consts):
        check_arity(name, types, 1)
        _numeric(name, types[0])

        def impl(args, n):
            v = V.values(args[0]).astype(np.float64)
            with np.errstate(all="ignore"):
                out = np.power(float(base), v)
            return V.fixed(T.UInt64, np.where(out >= 2.0 ** 64, np.uint64(0xFFFFFFFFFFFFFFFF),
                                              np.trunc(np.maximum(out, 0)).astype(np.uint64)))

        return T.UInt64, impl

    return resolve


_int_exp("intExp2", 2)
_int_exp("intExp10", 10)
