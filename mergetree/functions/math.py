"""Math functions: abs, round, roundBankers, floor, ceil, trunc, greatest, least.

Observed ClickHouse 26.9 rules: ``abs`` of a signed integer is the unsigned type of the same
width (``abs(toInt8(-128))`` = 128 :: UInt8); ``round``/``floor``/``ceil``/``trunc(x[, N])`` keep
x's type; floats round half to even on ``x * 10^N`` (``round(2.5)`` = 2, ``round(2.675, 2)`` = 2.68
because 2.675 * 100 is exactly 267.5 in binary), integers with ``N < 0`` round half away from
zero (``round(12345, -1)`` = 12350) and wrap in their type; ``greatest``/``least`` return the
least common supertype of their arguments.
"""

from __future__ import annotations

import numpy as np

from mergetree import types as T
from mergetree.functions import values as V
from mergetree.functions.registry import (NOT_CONST, IllegalTypeOfArgument, Monotonicity, check_arity,
                                          illegal_type, register)


def _numeric(name, t, i=0):
    if not isinstance(t, (T.IntType, T.FloatType, T.BoolType)):
        raise illegal_type(name, t, i)


@register("abs", case_insensitive=True)
def abs_(types, consts):
    check_arity("abs", types, 1)
    t = types[0]
    _numeric("abs", t)
    rtype = T.IntType(t.bits, False) if isinstance(t, T.IntType) and t.signed else t

    def impl(args, n):
        v = V.values(args[0])
        if isinstance(t, T.IntType) and t.signed:
            return V.fixed(rtype, np.abs(v.astype(np.int64)).astype(rtype.dtype))
        return V.fixed(rtype, np.abs(v) if v.dtype.kind == "f" else v)

    return rtype, impl


def _scale_arg(name, types, consts) -> int:
    if len(types) < 2:
        return 0
    if not isinstance(types[1], T.IntType) or consts[1] is NOT_CONST:
        raise IllegalTypeOfArgument(f"Argument 2 (scale) of function {name} must be a constant integer")
    return int(consts[1])


def _rounding(name: str, float_op, int_mode: str):
    """float_op: numpy function applied to x * 10^N; int_mode for N < 0 on integers."""

    def monotonic(types, consts, i):
        return Monotonicity(increasing=True, always=not isinstance(types[0], T.IntType)) if i == 0 else None

    @register(name, case_insensitive=name in ("round", "floor", "ceil", "trunc"), monotonic=monotonic)
    def resolve(types, consts):
        check_arity(name, types, 1, 2)
        t = types[0]
        _numeric(name, t)
        scale = _scale_arg(name, types, consts)

        def impl(args, n):
            v = V.values(args[0])
            if isinstance(t, T.FloatType):
                x = v.astype(np.float64)
                with np.errstate(all="ignore"):
                    if scale > 0:
                        out = float_op(x * 10.0 ** scale) / 10.0 ** scale
                    elif scale < 0:
                        out = float_op(x / 10.0 ** -scale) * 10.0 ** -scale
                    else:
                        out = float_op(x)
                return V.fixed(t, out.astype(t.dtype))
            if scale >= 0 or isinstance(t, T.BoolType):
                return V.fixed(t, v)
            p = 10 ** -scale
            x = v.astype(np.int64) if not (isinstance(t, T.IntType) and t.bits == 64 and not t.signed) \
                else v.astype(np.uint64)
            q, r = np.divmod(x, x.dtype.type(p)) if x.dtype.kind == "u" else np.divmod(x, p)
            if int_mode == "floor":
                out = q * p
            elif int_mode == "ceil":
                out = (q + (r != 0)) * p
            elif int_mode == "trunc":
                out = np.where((x < 0) & (r != 0), (q + 1) * p, q * p) if x.dtype.kind == "i" else q * p
            elif int_mode == "half_even":
                up = (2 * r > p) | ((2 * r == p) & (q % 2 != 0))
                out = (q + up) * p
            else:  # half away from zero (floor-division remainder is in [0, p))
                if x.dtype.kind == "i":
                    neg = x < 0
                    up = np.where(neg, 2 * r > p, 2 * r >= p)
                else:
                    up = 2 * r >= p
                out = (q + up) * p
            return V.fixed(t, out.astype(t.dtype))

        return t, impl

    return resolve


_rounding("round", np.rint, "half_away")
_rounding("roundBankers", np.rint, "half_even")
_rounding("floor", np.floor, "floor")
_rounding("ceil", np.ceil, "ceil")
_rounding("trunc", np.trunc, "trunc")


def _extreme(name: str, pick_max: bool):
    @register(name, case_insensitive=True)
    def resolve(types, consts):
        from mergetree.functions.comparison import compare_values, comparison_domain
        from mergetree.functions.conditional import cast_column, gather_branches, supertype

        check_arity(name, types, 1, 1 << 30)
        rtype = supertype(types, name)
        plain = V.strip(rtype)
        dom = comparison_domain(plain, plain, name)

        def impl(args, n):
            cols = [cast_column(a, t, rtype) for a, t in zip(args, types)]
            best = np.zeros(n, np.int64)
            cur = cols[0]
            for k in range(1, len(cols)):
                better = compare_values("greater" if pick_max else "less", cols[k], plain, cur, plain, dom)
                better = np.broadcast_to(better, (n,))
                best = np.where(better, k, best)
                cur = gather_branches(cols[:k + 1], best, n)
            return gather_branches(cols, best, n)

        return rtype, impl

    return resolve


_extreme("greatest", True)
_extreme("least", False)
