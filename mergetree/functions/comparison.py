"""Comparisons: equals, notEquals, less, greater, lessOrEquals, greaterOrEquals, and IN lists.

Both sides are first brought into one *comparison domain* (`comparison_domain`), the way
ClickHouse converts arguments before comparing:

- numbers compare by value (UInt64 against a signed type without wrap-around);
- Date vs Date compares days; anything with a DateTime compares UTC seconds (a Date becomes
  midnight in the DateTime's time zone: ``DateTime('Asia/Kolkata') '2024-01-01 00:00:00' >
  Date '2024-01-01'`` is 0); DateTime64 compares ticks at the larger precision;
- a String compared with a Date/DateTime is parsed as one, in that column's time zone
  (``ts >= '2024-01-01 00:00:00'``); a String constant compared with a number is parsed as
  a number (``x = '1'``); DateTime compares with plain numbers as seconds; Date does not
  (ClickHouse rejects ``Date = 19723``);
- String vs String compares bytes (``'ab' < 'abc' < 'b'``).

The key condition reuses `comparison_domain` and `to_domain` to compare index values with
constants exactly as the filter would, so pruning and filtering cannot disagree.
All results are UInt8 0/1 (Nullable(UInt8) when an argument is Nullable).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np

from mergetree import types as T
from mergetree.functions import timezones as TZ
from mergetree.functions import values as V
from mergetree.errors import TypeMismatchError
from mergetree.functions.registry import (CannotParseText, IllegalTypeOfArgument, check_arity, register)


@dataclass(frozen=True)
class Domain:
    """What both sides of a comparison are converted to.

    kind 'str': (offsets, data) byte strings. kind 'num': numpy arrays of `dtype`, with
    `unit` None (plain numbers), 'days', 'seconds' or 'ticks' (10^-precision s); `tz`
    is the zone used to turn dates and date strings into seconds.
    """

    kind: str
    dtype: object = None
    unit: str | None = None
    precision: int = 0
    tz: str | None = None


STR = Domain("str")


def _is_text(t) -> bool:
    return isinstance(t, (T.StringType, T.FixedStringType))


def _is_num(t) -> bool:
    return isinstance(t, (T.IntType, T.FloatType, T.BoolType, T.DecimalType))


def _num_dtype(a, b):
    ts = [t for t in (a, b) if t is not None]
    if any(isinstance(t, (T.FloatType, T.DecimalType)) for t in ts):
        return np.dtype(np.float64)
    ints = [t for t in ts if isinstance(t, T.IntType)]
    if all(not t.signed for t in ints):
        return np.dtype(np.uint64)
    if any((not t.signed) and t.bits == 64 for t in ints):
        return np.dtype(np.longdouble)  # exact for all 64-bit integers on x86-64
    return np.dtype(np.int64)


def _date_domain(types) -> Domain:
    dts = [t for t in types if isinstance(t, (T.DateType, T.Date32Type, T.DateTimeType, T.DateTime64Type))]
    tz = next((t.timezone for t in dts if isinstance(t, (T.DateTimeType, T.DateTime64Type))), None)
    if all(isinstance(t, (T.DateType, T.Date32Type)) for t in dts):
        return Domain("num", np.dtype(np.int64), "days")
    p64 = [t.precision for t in dts if isinstance(t, T.DateTime64Type)]
    if p64:
        return Domain("num", np.dtype(np.int64), "ticks", max(p64), tz)
    return Domain("num", np.dtype(np.int64), "seconds", 0, tz)


def comparison_domain(a, b, name: str = "equals") -> Domain:
    """The domain in which values of types `a` and `b` (no Nullable/LowCardinality) compare."""
    if _is_text(a) and _is_text(b):
        return STR
    da = V.is_date_like(a)
    db = V.is_date_like(b)
    if da or db:
        if da and db:
            return _date_domain([a, b])
        d, o = (a, b) if da else (b, a)
        if _is_text(o):
            return _date_domain([d])
        if isinstance(d, (T.DateTimeType, T.DateTime64Type)) and isinstance(o, (T.IntType, T.FloatType)):
            dom = _date_domain([d])
            if isinstance(o, T.FloatType):
                return Domain("num", np.dtype(np.float64), dom.unit, dom.precision, dom.tz)
            return dom
        raise IllegalTypeOfArgument(f"Illegal types of arguments ({a}, {b}) of function {name}")
    if _is_num(a) and _is_num(b):
        return Domain("num", _num_dtype(a, b))
    if _is_num(a) and _is_text(b):
        return Domain("num", _num_dtype(a, None))
    if _is_text(a) and _is_num(b):
        return Domain("num", _num_dtype(b, None))
    if isinstance(a, T.UUIDType) and isinstance(b, T.UUIDType):
        return Domain("uuid")
    raise IllegalTypeOfArgument(f"Illegal types of arguments ({a}, {b}) of function {name}")


def _string_parts(c):
    """(offsets, data) of a String/FixedString column or constant."""
    col = V.inner_data(c)
    if isinstance(col.type, T.FixedStringType):
        n, w = col.values.shape
        return np.arange(n + 1, dtype=np.int64) * w, col.values.reshape(-1)
    return col.offsets, col.data


def _parse_date_text(c, dom: Domain) -> np.ndarray:
    from mergetree.functions.datetime import _DATE_PREFIX, parse_error
    from mergetree.kernels.datetime import parse_datetime

    offsets, data = _string_parts(c)
    secs, status, nanos = parse_datetime(offsets, data, with_fraction=True)
    if (status == 0).any():
        i = int(np.argmin(status))
        bad = bytes(data[offsets[i]:offsets[i + 1]]).decode("utf-8", "replace")
        if dom.unit == "days" and _DATE_PREFIX.match(bad):  # as ClickHouse: a date, then garbage
            raise TypeMismatchError(f"Cannot convert string '{bad}' to type Date")
        raise parse_error(bad, "Date" if dom.unit == "days" else "DateTime")
    if dom.unit == "days":
        if (status != 3).any():  # observed: a Date compares only with date text
            i = int(np.argmax(status != 3))
            bad = bytes(data[offsets[i]:offsets[i + 1]]).decode("utf-8", "replace")
            raise TypeMismatchError(f"Cannot convert string '{bad}' to type Date")
        return secs // 86400
    utc = np.where(status == 2, secs, TZ.local_to_utc(dom.tz, secs))
    if dom.unit == "ticks":
        return utc * (10 ** dom.precision) + nanos // (10 ** (9 - dom.precision))
    return utc


def _parse_number_text(c, dom: Domain) -> np.ndarray:
    col = V.inner_data(c)
    if V.is_const(c) or len(col) <= 1:
        out = []
        for s in col.to_pylist():
            try:
                v = int(s.strip())
            except ValueError:
                try:
                    v = float(s.strip())
                except ValueError:
                    raise CannotParseText(f"Cannot convert string '{s}' to a number for comparison") from None
            out.append(v)
        return np.array(out, dtype=dom.dtype)
    raise IllegalTypeOfArgument("Comparison of a String column with a number is not supported; use toInt64/toFloat64")


def to_domain(c, t, dom: Domain):
    """Values of column/constant `c` (type `t`, plain) in domain `dom`: a numpy array
    (length 1 for a constant), or (offsets, data) for the string domain."""
    if dom.kind == "str":
        return _string_parts(c)
    if dom.kind == "uuid":
        v = V.values(c)
        return v
    if _is_text(t):
        if dom.unit is None:
            return _parse_number_text(c, dom)
        return _parse_date_text(c, dom)
    v = V.values(c)
    if dom.unit is None:
        if isinstance(t, T.DecimalType):
            return v.astype(np.float64) / t.multiplier
        return v.astype(dom.dtype)
    if isinstance(t, (T.DateType, T.Date32Type)):
        days = v.astype(np.int64)
        if dom.unit == "days":
            return days
        secs = TZ.local_to_utc(dom.tz, days * 86400)
        return secs if dom.unit == "seconds" else secs * (10 ** dom.precision)
    if isinstance(t, T.DateTimeType):
        secs = v.astype(np.int64)
        return secs if dom.unit == "seconds" else secs * (10 ** dom.precision)
    if isinstance(t, T.DateTime64Type):
        return v.astype(np.int64) * (10 ** (dom.precision - t.precision))
    # a plain number against a DateTime: seconds (or ticks) as they are
    return v.astype(dom.dtype)


# --------------------------------------------------------------------------- the functions

_OPS = {
    "equals": (np.equal, lambda r: r == 0),
    "notEquals": (np.not_equal, lambda r: r != 0),
    "less": (np.less, lambda r: r < 0),
    "greater": (np.greater, lambda r: r > 0),
    "lessOrEquals": (np.less_equal, lambda r: r <= 0),
    "greaterOrEquals": (np.greater_equal, lambda r: r >= 0),
}
_SWAPPED = {"equals": "equals", "notEquals": "notEquals", "less": "greater", "greater": "less",
            "lessOrEquals": "greaterOrEquals", "greaterOrEquals": "lessOrEquals"}


def _const_bytes(c) -> bytes:
    off, data = _string_parts(c)
    return bytes(data[off[0]:off[1]])


def _kernel_ready() -> bool:
    """numba is loaded in this process: a string comparison of a few rows runs the kernel
    (~1 us) rather than the numpy twins kernels/compare.py uses for tiny inputs (~30 us of
    padded matrices; they only spare a one-row query of a fresh process the numba import)."""
    return "numba" in sys.modules


def compare_strings(name: str, a, b) -> np.ndarray:
    """Bool array of `name` applied to two String columns/constants (not both constants
    unless they are 1-row)."""
    from mergetree.kernels import compare as K

    if V.is_const(a) and not V.is_const(b):
        return compare_strings(_SWAPPED[name], b, a)
    oa, da = _string_parts(a)
    kernel = _kernel_ready() and len(oa) - 1 <= K.SMALL
    if V.is_const(b):
        cb = _const_bytes(b)
        if name in ("equals", "notEquals"):
            if kernel:
                eq = np.empty(len(oa) - 1, np.bool_)
                K._jit(K._equals_const)(oa, da, np.frombuffer(cb, np.uint8), eq)
            else:
                eq = K.equals_const(oa, da, cb)
            return eq if name == "equals" else ~eq
        if kernel:
            r = np.empty(len(oa) - 1, np.int8)
            K._jit(K._compare_with_const)(oa, da, np.frombuffer(cb, np.uint8), r)
        else:
            r = K.compare_with_const(oa, da, cb)
    else:
        ob, db = _string_parts(b)
        if kernel:
            r = np.empty(len(oa) - 1, np.int8)
            K._jit(K._compare_columns)(oa, da, ob, db, r)
        else:
            r = K.compare_columns(oa, da, ob, db)
    return _OPS[name][1](r)


def compare_values(name: str, a, ta, b, tb, dom: Domain) -> np.ndarray:
    """Bool array of comparison `name` between a (type ta) and b (type tb) in `dom`."""
    if dom.kind == "str":
        return compare_strings(name, a, b)
    x = to_domain(a, ta, dom)
    y = to_domain(b, tb, dom)
    if dom.kind == "uuid":
        if name not in ("equals", "notEquals"):
            raise IllegalTypeOfArgument(f"Function {name} is not supported for UUID")
        eq = (x == y).all(axis=1)
        return eq if name == "equals" else ~eq
    with np.errstate(invalid="ignore"):
        return _OPS[name][0](x, y)


# --------------------------------------------------------------------------- arrays and tuples
#
# ClickHouse compares arrays lexicographically by element (its ``compareAt``: NaN equals NaN and
# sorts after every number, NULL equals NULL and sorts after every value, a shorter array that is a
# prefix of the other is smaller) and tuples component by component with the ordinary comparison
# functions (``tuple(nan) = tuple(nan)`` is 0), the whole answer NULL when a compared component is
# NULL. Both are UInt8 (a tuple with a Nullable component: Nullable(UInt8)).


def _composite(t) -> bool:
    return isinstance(t, (T.ArrayType, T.TupleType))


def _nothing(t) -> bool:
    t = V.strip(t)
    return isinstance(t, V.NothingType)


def _check_comparable(ta, tb) -> bool:
    """Whether values of types ta and tb compare (recursively through arrays and tuples)."""
    if _nothing(ta) or _nothing(tb):
        return True
    a, b = V.strip(ta), V.strip(tb)
    if isinstance(a, T.ArrayType) or isinstance(b, T.ArrayType):
        if not (isinstance(a, T.ArrayType) and isinstance(b, T.ArrayType)):
            return False
        ea, eb = V.strip(a.inner), V.strip(b.inner)    # elements need a common type: no text vs number
        if (_is_text(ea) and _is_num(eb)) or (_is_num(ea) and _is_text(eb)):
            return False
        return _check_comparable(a.inner, b.inner)
    if isinstance(a, T.TupleType) or isinstance(b, T.TupleType):
        return (isinstance(a, T.TupleType) and isinstance(b, T.TupleType) and len(a.elements) == len(b.elements)
                and all(_check_comparable(x, y) for x, y in zip(a.elements, b.elements)))
    try:
        comparison_domain(a, b)
    except IllegalTypeOfArgument:
        return False
    return True


def _has_nullable_component(t) -> bool:
    t = V.strip_lc(t)
    return isinstance(t, T.TupleType) and any(
        isinstance(V.strip_lc(e), T.NullableType) or _has_nullable_component(e) for e in t.elements)


def _rows(c, n: int):
    """A column of n rows (a constant materialized), LowCardinality decoded."""
    c = V.unwrap_lc(c)
    if V.is_const(c):
        return c.data if n == 1 else c.data.take(np.zeros(n, np.int64))
    return c


def _three_way(a, ta, b, tb, n: int) -> np.ndarray:
    """int8 per row: -1, 0 or 1 comparing a with b as ClickHouse's ``compareAt`` (nan/NULL last)."""
    if n == 0:
        return np.zeros(0, np.int8)
    a, b = _rows(a, n), _rows(b, n)
    a, na = V.split_nullable(a)
    b, nb = V.split_nullable(b)
    ta, tb = V.strip(ta), V.strip(tb)
    if isinstance(ta, T.ArrayType):
        r = _three_way_arrays(a, ta, b, tb, n)
    elif isinstance(ta, T.TupleType):
        r = np.zeros(n, np.int8)
        for ca, ea, cb, eb in zip(a.columns, ta.elements, b.columns, tb.elements):
            undecided = r == 0
            if not undecided.any():
                break
            r = np.where(undecided, _three_way(ca, ea, cb, eb, n), r).astype(np.int8)
    elif _nothing(ta) or _nothing(tb):
        r = np.zeros(n, np.int8)             # only NULLs there: the masks below decide
    else:
        dom = comparison_domain(ta, tb)
        if dom.kind == "str":
            from mergetree.kernels import compare as K

            oa, da = _string_parts(a)
            ob, db = _string_parts(b)
            r = np.asarray(K.compare_columns(oa, da, ob, db), np.int8)
        else:
            x, y = to_domain(a, ta, dom), to_domain(b, tb, dom)
            if dom.kind == "uuid":        # (n, 2) words: the first that differs decides
                gt, lt = x > y, x < y
                r = np.zeros(n, np.int8)
                for k in range(x.shape[1]):
                    r = np.where(r == 0, gt[:, k].astype(np.int8) - lt[:, k].astype(np.int8), r).astype(np.int8)
            else:
                with np.errstate(invalid="ignore"):
                    r = (x > y).astype(np.int8) - (x < y).astype(np.int8)
                if x.dtype.kind == "f" or y.dtype.kind == "f":
                    xn, yn = np.isnan(x), np.isnan(y)
                    r = np.where(xn | yn, xn.astype(np.int8) - yn.astype(np.int8), r).astype(np.int8)
    if na is not None or nb is not None:
        na = np.zeros(n, np.bool_) if na is None else na
        nb = np.zeros(n, np.bool_) if nb is None else nb
        r = np.where(na | nb, na.astype(np.int8) - nb.astype(np.int8), r).astype(np.int8)
    return r


def _three_way_arrays(a, ta, b, tb, n: int) -> np.ndarray:
    """Lexicographic comparison of two n-row array columns, element pairs compared at once."""
    la, lb = np.diff(a.offsets), np.diff(b.offsets)
    m = np.minimum(la, lb)
    total = int(m.sum())
    r = np.sign(la - lb).astype(np.int8)          # the answer when one array is a prefix of the other
    if total == 0:
        return r
    row = np.repeat(np.arange(n), m)
    k = np.arange(total) - np.repeat(np.cumsum(m) - m, m)
    ea = a.values.take(a.offsets[:-1][row] + k)
    eb = b.values.take(b.offsets[:-1][row] + k)
    el = _three_way(ea, ta.inner, eb, tb.inner, total)
    differ = np.flatnonzero(el)
    if len(differ):
        rows, first = np.unique(row[differ], return_index=True)   # the first differing pair per row
        r[rows] = el[differ[first]]
    return r


def _tuple_compare(name: str, a, ta, b, tb, n: int):
    """(bool array, null mask or None): tuples a and b compared component by component."""
    a, b = V.unwrap_lc(a), V.unwrap_lc(b)
    parts_a = _tuple_parts(a, n)
    parts_b = _tuple_parts(b, n)
    nulls = None

    def comp(op, ca, ea, cb, eb):
        nonlocal nulls
        res, mask = compare_any(op, ca, ea, cb, eb, n)
        if mask is not None:
            nulls = mask if nulls is None else (nulls | mask)
        return res

    pairs = list(zip(parts_a, V.strip(ta).elements, parts_b, V.strip(tb).elements))
    if name in ("equals", "notEquals"):
        res = np.ones(n, np.bool_)
        for ca, ea, cb, eb in pairs:
            res &= comp("equals", ca, ea, cb, eb)
        return (res if name == "equals" else ~res), nulls
    strict = {"lessOrEquals": "less", "greaterOrEquals": "greater"}.get(name, name)
    *head, last = pairs
    res = comp(name, *last)
    for ca, ea, cb, eb in reversed(head):
        res = comp(strict, ca, ea, cb, eb) | (comp("equals", ca, ea, cb, eb) & res)
    return res, nulls


def _tuple_parts(c, n: int) -> list:
    if V.is_const(c):
        return [V.ConstColumn(col, n) for col in c.data.columns]
    return list(c.columns)


def compare_any(name: str, a, ta, b, tb, n: int):
    """(bool array of n rows, null mask or None) of comparison `name` for values of any comparable types."""
    sa, sb = V.strip(ta), V.strip(tb)
    if isinstance(sa, T.TupleType):
        return _tuple_compare(name, a, sa, b, sb, n)
    if isinstance(sa, T.ArrayType):
        return _OPS[name][1](_three_way(a, sa, b, sb, n)), None
    pa, ma = V.split_nullable(V.unwrap_lc(a))
    pb, mb = V.split_nullable(V.unwrap_lc(b))
    mask = ma if mb is None else (mb if ma is None else (ma | mb))
    if _nothing(sa) or _nothing(sb):
        return np.zeros(n, np.bool_), np.ones(n, np.bool_)
    res = compare_values(name, pa, sa, pb, sb, comparison_domain(sa, sb, name))
    return np.broadcast_to(res, (n,)).copy() if res.shape != (n,) else res, mask


def _resolve_composite(name: str, ta, tb):
    if not _check_comparable(ta, tb):
        raise IllegalTypeOfArgument(f"Illegal types of arguments ({ta}, {tb}) of function {name}")
    nullable = _has_nullable_component(ta) or _has_nullable_component(tb)
    rtype = T.Nullable(T.UInt8) if nullable else T.UInt8

    def impl(args, n):
        res, nulls = compare_any(name, args[0], ta, args[1], tb, n)
        out = V.fixed(T.UInt8, res.astype(np.uint8))
        return V.with_nulls(out, nulls, rtype) if nullable else out

    return rtype, impl


def check_in_item(tx, t) -> None:
    """Raise ILLEGAL_TYPE_OF_ARGUMENT unless ``x IN (..)`` can compare x (type tx) with an item of type t."""
    if _composite(V.strip(tx)) or _composite(V.strip(t)):
        if not _check_comparable(tx, t):
            raise IllegalTypeOfArgument(f"Illegal types of arguments ({tx}, {t}) of function in")
        return
    comparison_domain(V.strip(tx), V.strip(t), "in")


def _register_comparison(name: str):
    @register(name)
    def resolve(types, consts):
        check_arity(name, types, 2)
        ta, tb = types
        if _composite(ta) or _composite(tb):
            return _resolve_composite(name, ta, tb)
        dom = comparison_domain(ta, tb, name)

        def impl(args, n):
            res = compare_values(name, args[0], ta, args[1], tb, dom)
            if res.shape == (n,) and res.dtype == np.bool_:
                # a fresh array (never a view of an argument): reinterpret, no copy (broadcast_to +
                # astype cost ~2.5 us of the ~5 us a comparison of a few rows takes)
                return V.fixed(T.UInt8, res.view(np.uint8))
            return V.fixed(T.UInt8, np.broadcast_to(res, (n,)).astype(np.uint8))

        return T.UInt8, impl

    return resolve


for _name in _OPS:
    _register_comparison(_name)


# --------------------------------------------------------------------------- IN lists


def in_list(x, tx, items: list, negated: bool, n: int) -> np.ndarray:
    """Bool array: does each row of `x` (plain column/constant of type `tx`) equal one of
    `items` = [(ConstColumn, type), ...]? NULL items never match (transform_null_in = 0)."""
    if _composite(V.strip(tx)):           # [1] IN ([1], [2]): one composite comparison per item
        res = np.zeros(n, np.bool_)
        for c, t in items:
            check_in_item(tx, t)
            eq, nulls = compare_any("equals", x, tx, c, t, n)
            res |= eq if nulls is None else (eq & ~nulls)
        return ~res if negated else res
    res = np.zeros(n if not V.is_const(x) else 1, np.bool_)
    by_domain: dict = {}
    for c, t in items:
        if V.is_null_type(V.strip_lc(t)):
            continue
        c, mask = V.split_nullable(V.unwrap_lc(c))
        if mask is not None and mask.any():
            continue
        t = V.strip(t)
        dom = comparison_domain(tx, t, "in")
        by_domain.setdefault(dom, []).append((c, t))
    for dom, group in by_domain.items():
        if dom.kind == "num":
            xv = to_domain(x, tx, dom)
            vals = np.concatenate([np.atleast_1d(to_domain(c, t, dom)) for c, t in group])
            res |= np.isin(xv, vals)
        elif dom.kind == "str" and len(group) > 4:
            from mergetree.kernels.compare import in_sorted_set

            offsets, data = _string_parts(x)
            res |= in_sorted_set(offsets, data, [_const_bytes(c) for c, _ in group])
        else:
            for c, t in group:
                res |= compare_values("equals", x, tx, c, t, dom)
    return ~res if negated else res
