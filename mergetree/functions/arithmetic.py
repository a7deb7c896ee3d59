"""Arithmetic: plus, minus, multiply, divide, intDiv, modulo, negate, with ClickHouse's
result types (observed in ClickHouse 26.9):

- ``plus``/``multiply`` of integers: the next wider integer of the wider argument, capped at
  64 bits, signed if either argument is signed (UInt8 + UInt8 -> UInt16, UInt32 + Int8 -> Int64,
  UInt64 + UInt64 -> UInt64); wrap-around on overflow.
- ``minus`` of integers: the same width rule, always signed (UInt8 - UInt8 -> Int16).
- any Float argument -> Float64; ``divide`` (``/``) is always Float64 (x / 0 = inf / nan).
- ``intDiv(a, b)``: a's width, signed if either is signed (intDiv(UInt8, Int32) -> Int8);
  a float dividend gives the signed integer of its width; rounds toward zero; b = 0 raises
  ILLEGAL_DIVISION.
- ``modulo(a, b)`` (``%``): unsigned a -> unsigned of b's width; signed a -> signed of the next
  width of b (Int64 % Int8 -> Int16); the sign follows the dividend (7 % -3 = 1); floats -> Float64.
- ``negate``: UInt8 -> Int16, UInt16 -> Int32, UInt32/UInt64 -> Int64, others keep their type.
- Date/DateTime: ``Date + n`` -> Date (days), ``DateTime + n`` -> DateTime (seconds), ``Date - Date``
  and ``DateTime - DateTime`` -> Int32.
"""

from __future__ import annotations

import numpy as np

from mergetree import types as T
from mergetree.functions import values as V
from mergetree.functions.registry import (Monotonicity, NOT_CONST, IllegalDivision, check_arity,
                                          illegal_type, register)


def _decimal():
    # Decimal arguments are handled by functions/decimal.py (the function long tail)
    from mergetree.functions import decimal

    return decimal


def _bits(t) -> int:
    return 8 if isinstance(t, T.BoolType) else t.bits


def _signed(t) -> bool:
    return isinstance(t, T.IntType) and t.signed


def _is_intlike(t) -> bool:
    return isinstance(t, (T.IntType, T.BoolType))


def _next_bits(b: int) -> int:
    return min(b * 2, 64)


def _num_check(name, types):
    for i, t in enumerate(types):
        if not V.is_number(t):
            raise illegal_type(name, t, i)


def _wrap(rtype, arr):
    """Cast an int64/uint64/float64 numpy result to the result type (wrapping like C)."""
    return V.fixed(rtype, arr.astype(rtype.dtype, copy=False))


def _as_compute(arr: np.ndarray, rtype) -> np.ndarray:
    if isinstance(rtype, T.FloatType):
        return arr.astype(np.float64, copy=False)
    if isinstance(rtype, T.IntType) and not rtype.signed:
        return arr.astype(np.uint64, copy=False)
    return arr.astype(np.int64, copy=False)


def _binary_numeric(op):
    def impl_for(rtype):
        def impl(args, n):
            a = _as_compute(V.values(args[0]), rtype)
            b = _as_compute(V.values(args[1]), rtype)
            with np.errstate(all="ignore"):
                return _wrap(rtype, op(a, b))

        return impl

    return impl_for


def _plus_mul_type(name, a, b):
    if isinstance(a, T.FloatType) or isinstance(b, T.FloatType):
        return T.Float64
    return V.int_type(_next_bits(max(_bits(a), _bits(b))), _signed(a) or _signed(b))


def _date_shift(name, types, sign):
    """Date/DateTime +- integer: ('days'|'seconds', date index, result type) or None."""
    a, b = types
    for di, (d, o) in enumerate(((a, b), (b, a))):
        if isinstance(d, (T.DateType, T.Date32Type, T.DateTimeType)) and V.is_number(o):
            if sign < 0 and di == 1:
                raise illegal_type(name, d, 1)
            return di, d
    return None


def _date_shift_impl(di, dtype_, sign):
    def impl(args, n):
        d = V.values(args[di]).astype(np.int64)
        k = V.values(args[1 - di])
        k = np.trunc(k).astype(np.int64) if k.dtype.kind == "f" else k.astype(np.int64)
        return V.fixed(dtype_, (d + sign * k).astype(dtype_.dtype))

    return impl


def _shift_monotonic(types, consts, i):
    # x + c / c + x / x - c: increasing while it does not wrap around
    other = consts[1 - i]
    if other is NOT_CONST:
        return None
    return Monotonicity(increasing=True, always=isinstance(types[i], T.FloatType))


@register("plus", monotonic=_shift_monotonic)
def plus(types, consts):
    check_arity("plus", types, 2)
    a, b = types
    shift = _date_shift("plus", types, +1)
    if shift is not None:
        return shift[1], _date_shift_impl(shift[0], shift[1], +1)
    if _decimal().is_decimal_call(types):
        return _decimal().decimal_arithmetic("plus", types)
    _num_check("plus", types)
    rt = _plus_mul_type("plus", a, b)
    return rt, _binary_numeric(np.add)(rt)


def _minus_monotonic(types, consts, i):
    other = consts[1 - i]
    if other is NOT_CONST:
        return None
    return Monotonicity(increasing=(i == 0), always=isinstance(types[i], T.FloatType))


@register("minus", monotonic=_minus_monotonic)
def minus(types, consts):
    check_arity("minus", types, 2)
    a, b = types
    same_date = (isinstance(a, (T.DateType, T.Date32Type)) and isinstance(b, (T.DateType, T.Date32Type))) or \
        (isinstance(a, T.DateTimeType) and isinstance(b, T.DateTimeType))
    if same_date:
        def impl(args, n):
            d = V.values(args[0]).astype(np.int64) - V.values(args[1]).astype(np.int64)
            return V.fixed(T.Int32, d.astype(np.int32))

        return T.Int32, impl
    shift = _date_shift("minus", types, -1)
    if shift is not None:
        return shift[1], _date_shift_impl(shift[0], shift[1], -1)
    if _decimal().is_decimal_call(types):
        return _decimal().decimal_arithmetic("minus", types)
    _num_check("minus", types)
    if isinstance(a, T.FloatType) or isinstance(b, T.FloatType):
        rt = T.Float64
    else:
        rt = V.int_type(_next_bits(max(_bits(a), _bits(b))), True)
    return rt, _binary_numeric(np.subtract)(rt)


def _mul_monotonic(types, consts, i):
    c = consts[1 - i]
    if c is NOT_CONST or not isinstance(c, (int, float)) or c == 0:
        return None
    return Monotonicity(increasing=c > 0, always=isinstance(types[i], T.FloatType))


@register("multiply", monotonic=_mul_monotonic)
def multiply(types, consts):
    check_arity("multiply", types, 2)
    if _decimal().is_decimal_call(types):
        return _decimal().decimal_arithmetic("multiply", types)
    _num_check("multiply", types)
    rt = _plus_mul_type("multiply", *types)
    return rt, _binary_numeric(np.multiply)(rt)


def _div_monotonic(types, consts, i):
    c = consts[1]
    if i != 0 or c is NOT_CONST or not isinstance(c, (int, float)) or c == 0:
        return None
    return Monotonicity(increasing=c > 0, always=True)


@register("divide", monotonic=_div_monotonic)
def divide(types, consts):
    check_arity("divide", types, 2)
    if _decimal().is_decimal_call(types):
        return _decimal().decimal_arithmetic("divide", types)
    _num_check("divide", types)

    def impl(args, n):
        a = V.values(args[0]).astype(np.float64)
        b = V.values(args[1]).astype(np.float64)
        with np.errstate(all="ignore"):
            return V.fixed(T.Float64, a / b)

    return T.Float64, impl


def _safe_divisor(y: np.ndarray, nulls) -> np.ndarray:
    """The divisor with rows under a NULL replaced by 1 (their result is NULL anyway)."""
    if nulls is None or y.shape[0] != nulls.shape[0] or not nulls.any():
        return y
    return np.where(nulls, np.ones(1, y.dtype), y)


def _check_nonzero(name, b):
    if b.dtype.kind in "iub" and (b == 0).any():
        raise IllegalDivision(f"Division by zero in function {name}")


def _trunc_div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Integer division rounding toward zero (C semantics) for int64/uint64 arrays."""
    if a.dtype == np.uint64 and b.dtype == np.uint64:
        return a // b
    q = a // b
    r = a - q * b
    fix = (r != 0) & ((a < 0) != (b < 0))
    return q + fix


@register("intDiv", monotonic=_div_monotonic)
def int_div(types, consts):
    check_arity("intDiv", types, 2)
    _num_check("intDiv", types)
    a, b = types
    if isinstance(a, T.FloatType):
        rt = V.int_type(a.bits, True)
    elif isinstance(b, T.FloatType):
        rt = V.int_type(_bits(a), True)
    else:
        rt = V.int_type(_bits(a), _signed(a) or _signed(b))

    def impl(args, n, nulls=None):
        x = V.values(args[0])
        y = _safe_divisor(V.values(args[1]), nulls)
        _check_nonzero("intDiv", y)
        if x.dtype.kind == "f" or y.dtype.kind == "f":
            with np.errstate(all="ignore"):
                q = np.trunc(x.astype(np.float64) / y.astype(np.float64))
            if (y == 0).any():
                raise IllegalDivision("Division by zero in function intDiv")
            return V.fixed(rt, q.astype(np.int64).astype(rt.dtype))
        # ClickHouse converts the dividend to the result type first (wrapping):
        # intDiv(toUInt8(200), toInt32(-3)) = intDiv(-56, -3) = 18
        x = x.astype(rt.dtype)
        if not rt.signed:
            q = x.astype(np.uint64) // y.astype(np.uint64)
        else:
            huge = y.dtype == np.uint64 and (y > np.iinfo(np.int64).max).any()
            q = _trunc_div(x.astype(np.int64), y.astype(np.int64))
            if huge:
                q = np.where(y > np.iinfo(np.int64).max, 0, q)
        return V.fixed(rt, q.astype(rt.dtype))

    impl.wants_nulls = True
    return rt, impl


@register("modulo", aliases=("mod",))
def modulo(types, consts):
    check_arity("modulo", types, 2)
    _num_check("modulo", types)
    a, b = types
    if isinstance(a, T.FloatType) or isinstance(b, T.FloatType):
        rt = T.Float64
    elif _signed(a):
        rt = V.int_type(_next_bits(_bits(b)), True)
    else:
        rt = V.int_type(_bits(b), False)

    def impl(args, n, nulls=None):
        x = V.values(args[0])
        y = _safe_divisor(V.values(args[1]), nulls)
        _check_nonzero("modulo", y)
        if rt == T.Float64:
            with np.errstate(all="ignore"):
                return V.fixed(rt, np.fmod(x.astype(np.float64), y.astype(np.float64)))
        if x.dtype.kind == "u":  # unsigned dividend: the remainder of the true values
            yy = y.astype(np.int64) if y.dtype.kind == "i" else y
            r = x.astype(np.uint64) % np.abs(yy).astype(np.uint64)
        else:
            r = np.fmod(x.astype(np.int64), y.astype(np.int64))
        return V.fixed(rt, r.astype(rt.dtype))

    impl.wants_nulls = True
    return rt, impl


def _negate_monotonic(types, consts, i):
    # -x wraps around only for 64-bit integers
    return Monotonicity(increasing=False, always=not (isinstance(types[0], T.IntType) and types[0].bits == 64))


@register("negate", monotonic=_negate_monotonic)
def negate(types, consts):
    check_arity("negate", types, 1)
    _num_check("negate", types)
    a = types[0]
    if isinstance(a, T.FloatType):
        rt = a
    elif _signed(a):
        rt = a
    else:
        rt = V.int_type(_next_bits(_bits(a)), True)

    def impl(args, n):
        x = V.values(args[0])
        with np.errstate(all="ignore"):
            return V.fixed(rt, np.negative(x.astype(rt.dtype)))

    return rt, impl
