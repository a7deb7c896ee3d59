"""Decimal32/Decimal64: toDecimal32, toDecimal64 (+OrNull, OrZero) and the arithmetic hook that
`arithmetic.py` calls when an argument of plus/minus/multiply/divide is a Decimal.

ClickHouse 26.9 rules (observed in chDB): a Decimal and an integer keep the Decimal's type
(toDecimal32(1, 2) + toInt64(1) :: Decimal(9, 2)); two Decimals give the wider storage
(Decimal(9, s) or Decimal(18, s)); the scale is max(s1, s2) for + and -, s1 + s2 for *, and the
dividend's for / (which must not be smaller than the divisor's); an integer divided by a
Decimal takes the Decimal's scale; a Float argument makes the result Float64. Results are
computed on the scaled integers with ClickHouse's DECIMAL_OVERFLOW check on the storage type;
division truncates toward zero; a zero divisor is ILLEGAL_DIVISION. Conversions truncate
(toDecimal32(1.15, 2) = 1.14 because 1.15 * 100 < 115 in binary).
"""

from __future__ import annotations

import numpy as np

from mergetree import types as T
from mergetree.errors import ArgumentOutOfBoundError, MergeTreeError
from mergetree.functions import values as V
from mergetree.functions.registry import (NOT_CONST, CannotParseText, IllegalDivision, IllegalTypeOfArgument,
                                          check_arity, illegal_type, register)


class DecimalOverflow(MergeTreeError):
    code = "DECIMAL_OVERFLOW"


def _storage_bounds(t: T.DecimalType) -> tuple[int, int]:
    info = np.iinfo(t.dtype)
    return int(info.min), int(info.max)


def _check_range(values: np.ndarray, t: T.DecimalType, what: str) -> None:
    lo, hi = _storage_bounds(t)
    if values.size and (values.min() < lo or values.max() > hi):
        raise DecimalOverflow(f"Decimal {what} overflow")


def _to_decimal(name: str, precision: int, mode: str):
    @register(name)
    def resolve(types, consts):
        check_arity(name, types, 2)
        t = types[0]
        if not isinstance(types[1], T.IntType) or consts[1] is NOT_CONST:
            raise IllegalTypeOfArgument(f"Argument 2 (scale) of function {name} must be a constant integer")
        scale = int(consts[1])
        if not 0 <= scale <= precision:
            raise ArgumentOutOfBoundError(f"Scale {scale} is out of bounds (max scale: {precision})")
        if not isinstance(t, (T.IntType, T.BoolType, T.FloatType, T.DecimalType, T.StringType)):
            raise illegal_type(name, t, 0)
        plain = T.DecimalType(precision, scale)
        rtype = T.Nullable(plain) if mode == "null" else plain
        mult = 10 ** scale

        def impl(args, n):
            c = args[0]
            bad = None
            if isinstance(t, T.StringType):
                from mergetree.functions.comparison import _string_parts
                from mergetree.kernels.text import parse_decimal

                o, d = _string_parts(c)
                vals, ok = parse_decimal(np.ascontiguousarray(o, np.int64), np.ascontiguousarray(d, np.uint8), scale)
                lo, hi = _storage_bounds(plain)
                ok &= (vals >= lo) & (vals <= hi)
                if mode == "throw" and not ok.all():
                    i = int(np.argmin(ok))
                    text = bytes(d[o[i]:o[i + 1]]).decode("utf-8", "replace")
                    raise CannotParseText(f"Cannot parse string '{text}' as Decimal({precision}, {scale})")
                bad = ~ok
                vals = np.where(ok, vals, 0)
            elif isinstance(t, T.FloatType):
                x = V.values(c).astype(np.float64) * mult
                lo, hi = _storage_bounds(plain)
                ok = np.isfinite(x) & (x > lo) & (x < hi)  # the storage bounds themselves overflow
                if mode == "throw" and not ok.all():
                    raise DecimalOverflow("Decimal convert overflow. Float is out of Decimal range")
                bad = ~ok
                vals = np.where(ok, np.trunc(np.where(ok, x, 0)), 0).astype(np.int64)
            elif isinstance(t, T.DecimalType):
                v = V.values(c).astype(np.int64)
                vals = v * 10 ** (scale - t.scale) if scale >= t.scale else _trunc_div(v, 10 ** (t.scale - scale))
                if mode == "throw":
                    _check_range(vals, plain, "convert")
            else:
                v = V.values(c)
                vals = v.astype(np.int64) * mult
                lo, hi = _storage_bounds(plain)
                okv = (v.astype(np.float64) * mult >= lo) & (v.astype(np.float64) * mult <= hi)
                if mode == "throw" and not okv.all():
                    raise DecimalOverflow("Decimal convert overflow")
                bad = ~okv
            col = V.fixed(plain, np.asarray(vals).astype(plain.dtype))
            if mode == "null":
                return V.with_nulls(col, bad if bad is not None else np.zeros(len(col), np.bool_), rtype)
            if mode == "zero" and bad is not None and bad.any():
                col = V.fixed(plain, np.where(bad, 0, col.values).astype(plain.dtype))
            return col

        return rtype, impl

    return resolve


for _p, _bits in ((9, 32), (18, 64)):
    _to_decimal(f"toDecimal{_bits}", _p, "throw")
    _to_decimal(f"toDecimal{_bits}OrNull", _p, "null")
    _to_decimal(f"toDecimal{_bits}OrZero", _p, "zero")


def _trunc_div(a: np.ndarray, b) -> np.ndarray:
    q = np.abs(a) // np.abs(b)
    return np.where((a < 0) != (np.asarray(b) < 0), -q, q)


def is_decimal_call(types) -> bool:
    return any(isinstance(t, T.DecimalType) for t in types)


def decimal_arithmetic(name: str, types):
    """(result type, impl) of plus/minus/multiply/divide with a Decimal argument."""
    a, b = types
    for i, t in enumerate(types):
        if not isinstance(t, (T.DecimalType, T.IntType, T.BoolType, T.FloatType)):
            raise illegal_type(name, t, i)
    if isinstance(a, T.FloatType) or isinstance(b, T.FloatType):
        def impl_float(args, n):
            x = [_as_float(arg, t) for arg, t in zip(args, types)]
            with np.errstate(all="ignore"):
                out = {"plus": np.add, "minus": np.subtract, "multiply": np.multiply,
                       "divide": np.divide}[name](x[0], x[1])
            return V.fixed(T.Float64, out)

        return T.Float64, impl_float
    da = a if isinstance(a, T.DecimalType) else None
    db = b if isinstance(b, T.DecimalType) else None
    wide = any(d is not None and d.precision > 9 for d in (da, db))
    precision = 18 if wide else 9
    sa = da.scale if da else 0
    sb = db.scale if db else 0
    if name in ("plus", "minus"):
        scale = max(sa, sb)
    elif name == "multiply":
        scale = sa + sb
    else:
        if da is None:  # an integer dividend takes the divisor's scale
            sa = sb
        if sa < sb:
            raise ArgumentOutOfBoundError("Decimal result's scale is less than argument's one")
        scale = sa
    if scale > precision:
        raise ArgumentOutOfBoundError(f"Decimal result's scale {scale} is out of bounds for Decimal({precision})")
    rtype = T.DecimalType(precision, scale)

    def scaled(arg, t, target):
        v = V.values(arg).astype(np.int64)
        s = t.scale if isinstance(t, T.DecimalType) else 0
        return v * 10 ** (target - s) if target >= s else v

    def impl(args, n):
        with np.errstate(all="ignore"):
            if name in ("plus", "minus"):
                x, y = scaled(args[0], a, scale), scaled(args[1], b, scale)
                out = x + y if name == "plus" else x - y
                approx = _as_float(args[0], a) * 10 ** scale + (1 if name == "plus" else -1) * \
                    _as_float(args[1], b) * 10 ** scale
            elif name == "multiply":
                x, y = V.values(args[0]).astype(np.int64), V.values(args[1]).astype(np.int64)
                out = x * y
                approx = x.astype(np.float64) * y.astype(np.float64)
            else:
                x = scaled(args[0], a, sa) if da is None else V.values(args[0]).astype(np.int64)
                y = V.values(args[1]).astype(np.int64)
                if isinstance(b, T.DecimalType):
                    mul = 10 ** sb
                else:
                    mul = 1
                if (y == 0).any():
                    raise IllegalDivision("Division by zero")
                num = x * mul
                approx = x.astype(np.float64) * mul
                out = _trunc_div(num, y)
            lo, hi = _storage_bounds(rtype)
            if np.size(approx) and (np.abs(approx).max() > 9.2e18 or out.min() < lo or out.max() > hi):
                raise DecimalOverflow("Decimal math overflow")
        return V.fixed(rtype, np.asarray(out).astype(rtype.dtype))

    return rtype, impl


def _as_float(arg, t) -> np.ndarray:
    v = V.values(arg).astype(np.float64)
    return v / 10 ** t.scale if isinstance(t, T.DecimalType) else v
