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
                                          illegal_type, register, register_alias)


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
    if not isinstance(t, (T.StringType, T.ArrayType, T.MapType)):  # (H6: a Map's length is its entries)
        raise illegal_type("length", t, 0)

    def impl(args, n):
        c = V.inner_data(args[0])
        return V.fixed(T.UInt64, np.diff(c.offsets).astype(np.uint64))

    return T.UInt64, impl


def _emptiness(name: str, want_empty: bool):
    @register(name)
    def resolve(types, consts):
        check_arity(name, types, 1)
        if not isinstance(types[0], (T.StringType, T.ArrayType, T.MapType)):
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


# --------------------------------------------------------------------------- toString / concat


def _digits_into(mat: np.ndarray, col: int, value: np.ndarray, width: int) -> None:
    for k in range(width):
        mat[:, col + width - 1 - k] = 48 + (value // (10 ** k)) % 10


def format_dates(days: np.ndarray) -> StringColumn:
    """'YYYY-MM-DD' text of day numbers, built as one (n, 10) byte matrix."""
    from mergetree.kernels.datetime import civil_from_days

    y, m, d = civil_from_days(days)
    mat = np.empty((len(days), 10), np.uint8)
    _digits_into(mat, 0, y, 4)
    mat[:, 4] = mat[:, 7] = 45
    _digits_into(mat, 5, m, 2)
    _digits_into(mat, 8, d, 2)
    return StringColumn(T.String, np.arange(len(days) + 1, dtype=np.int64) * 10, mat.reshape(-1))


def format_datetimes(local: np.ndarray) -> StringColumn:
    """'YYYY-MM-DD hh:mm:ss' text of wall-clock seconds."""
    days, tod = local // 86400, local % 86400
    date = format_dates(days).data.reshape(-1, 10)
    mat = np.empty((len(local), 19), np.uint8)
    mat[:, :10] = date
    mat[:, 10] = 32
    mat[:, 13] = mat[:, 16] = 58
    _digits_into(mat, 11, tod // 3600, 2)
    _digits_into(mat, 14, (tod // 60) % 60, 2)
    _digits_into(mat, 17, tod % 60, 2)
    return StringColumn(T.String, np.arange(len(local) + 1, dtype=np.int64) * 19, mat.reshape(-1))


_BOOL_TEXT = None


def format_uuids(v: np.ndarray) -> StringColumn:
    """'xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx' of (n, 2) [high, low] uint64 UUIDs."""
    raw = np.ascontiguousarray(v).astype(">u8").view(np.uint8).reshape(-1, 16)
    digits = np.frombuffer(b"0123456789abcdef", np.uint8)
    hexed = np.empty((len(raw), 32), np.uint8)
    hexed[:, 0::2] = digits[raw >> 4]
    hexed[:, 1::2] = digits[raw & 15]
    mat = np.full((len(raw), 36), 45, np.uint8)
    for a, b, dst in ((0, 8, 0), (8, 12, 9), (12, 16, 14), (16, 20, 19), (20, 32, 24)):
        mat[:, dst:dst + b - a] = hexed[:, a:b]
    return StringColumn(T.String, np.arange(len(raw) + 1, dtype=np.int64) * 36, mat.reshape(-1))


@register("toString")
def to_string(types, consts):
    check_arity("toString", types, 1, 2)
    t = types[0]
    tz = None
    if len(types) == 2:
        from mergetree.functions.datetime import _tz_arg

        tz = _tz_arg("toString", types, consts, 1)
    if isinstance(t, T.FloatType) or isinstance(t, (T.DateTime64Type, T.ArrayType)):
        raise IllegalTypeOfArgument(f"toString of {t} is not supported yet")
    if not isinstance(t, (T.StringType, T.FixedStringType, T.IntType, T.BoolType, T.DateType, T.Date32Type,
                          T.DateTimeType, T.UUIDType, T.DecimalType)):
        raise illegal_type("toString", t, 0)

    def impl(args, n):
        from mergetree.functions import timezones as TZ

        c = args[0]
        data = V.inner_data(c)
        if isinstance(t, T.StringType):
            return c
        if isinstance(t, T.FixedStringType):
            from mergetree.functions.conditional import cast_column

            return cast_column(c, t, T.String)
        v = data.values
        if isinstance(t, T.BoolType):
            text = StringColumn(T.String, np.array([0, 5, 9], np.int64), np.frombuffer(b"falsetrue", np.uint8).copy())
            out = text.take((v != 0).astype(np.int64))
        elif isinstance(t, T.IntType):
            from mergetree.kernels.format import format_ints

            out = StringColumn(T.String, *format_ints(v))
        elif isinstance(t, (T.DateType, T.Date32Type)):
            out = format_dates(v.astype(np.int64))
        elif isinstance(t, T.UUIDType):
            out = format_uuids(v)
        elif isinstance(t, T.DecimalType):
            from mergetree.kernels.text import format_decimal

            out = StringColumn(T.String, *format_decimal(np.ascontiguousarray(v, np.int64), t.scale))
        else:
            zone = tz if tz is not None else t.timezone
            out = format_datetimes(TZ.utc_to_local(zone, v.astype(np.int64)))
        return V.ConstColumn(out, n) if V.is_const(c) else out

    return T.String, impl


@register("concat", case_insensitive=True)
def concat(types, consts):
    if not types:
        check_arity("concat", types, 1, 1 << 30)
    converters = []
    for t in types:
        if isinstance(t, T.StringType):
            converters.append(None)
        else:
            from mergetree.functions.registry import get_function, prepare_call

            converters.append(prepare_call(get_function("toString"), [t], [NOT_CONST]))

    def impl(args, n):
        parts = []
        for a, conv in zip(args, converters):
            if conv is not None:
                a = conv.run([a], n) if not V.is_const(a) else V.ConstColumn(V.materialize(conv.run([a.data], 1)), n)
            col = V.inner_data(a)
            parts.append((col.offsets, col.data, V.is_const(a) or len(col) == 1 and n != 1))
        lens = np.zeros(n, np.int64)
        for off, _, const in parts:
            lens += (off[1] - off[0]) if const else np.diff(off)
        out_off = np.zeros(n + 1, np.int64)
        np.cumsum(lens, out=out_off[1:])
        out = np.empty(int(out_off[-1]), np.uint8)
        cursor = out_off[:-1].copy()
        for off, data, const in parts:
            if const:
                b = data[off[0]:off[1]]
                if len(b):
                    out[(cursor[:, None] + np.arange(len(b))[None, :]).reshape(-1)] = np.tile(b, n)
                cursor += len(b)
            else:
                ln = np.diff(off)
                src = np.arange(off[0], off[-1], dtype=np.int64)
                out[src + np.repeat(cursor - off[:-1], ln)] = data[off[0]:off[-1]]
                cursor += ln
        return StringColumn(T.String, out_off, out)

    return T.String, impl


# --------------------------------------------------------------------------- substring / position / trim


@register("substring", case_insensitive=True, aliases=("substr", "mid"))
def substring(types, consts):
    check_arity("substring", types, 2, 3)
    if not isinstance(types[0], (T.StringType, T.FixedStringType)):
        raise illegal_type("substring", types[0], 0)
    for i in (1, 2):
        if i < len(types) and not isinstance(types[i], T.IntType):
            raise illegal_type("substring", types[i], i)

    def impl(args, n):
        from mergetree.kernels.search import gather_ranges

        c = args[0]
        if any(not V.is_const(a) for a in args[1:]):
            c = V.materialize(c)
        offsets, data = _string_parts(c)
        rows = len(offsets) - 1
        starts, ends = offsets[:-1], offsets[1:]
        lens = ends - starts
        off = np.broadcast_to(V.values(args[1]).astype(np.int64), (rows,))
        # 1-based offset, negative counts from the end, 0 gives ''; a length counts from the
        # (possibly negative) virtual start before clamping: substring('abc', -5, 3) = 'a'
        vbegin = np.where(off > 0, off - 1, lens + off)
        if len(args) == 3:
            ln = np.broadcast_to(V.values(args[2]).astype(np.int64), (rows,))
            stop = np.where(ln >= 0, vbegin + ln, lens + ln)
        else:
            stop = lens
        begin = np.clip(vbegin, 0, lens)
        stop = np.clip(stop, begin, lens)
        stop = np.where(off == 0, begin, stop)
        o, d = gather_ranges(data, starts + begin, starts + stop)
        out = StringColumn(T.String, o, d)
        return V.ConstColumn(out, n) if V.is_const(c) else out

    return T.String, impl


@register("position", case_insensitive=True, aliases=("locate",))
def position(types, consts):
    check_arity("position", types, 2)
    _text_arg("position", types, 0)
    needle = _const_text("position", consts, 1)

    def impl(args, n):
        from mergetree.kernels.search import find_first

        out = find_first(*_string_parts(args[0]), needle)
        return V.fixed(T.UInt64, np.broadcast_to(out, (n,)).astype(np.uint64))

    return T.UInt64, impl


def _trim(name: str, left: bool, right: bool):
    @register(name, case_insensitive=name == "trim")
    def resolve(types, consts):
        check_arity(name, types, 1)
        if not isinstance(types[0], T.StringType):
            raise illegal_type(name, types[0], 0)

        def impl(args, n):
            from mergetree.kernels.search import gather_ranges, trim_bounds

            c = args[0]
            offsets, data = _string_parts(c)
            o, d = gather_ranges(data, *trim_bounds(offsets, data, left, right))
            out = StringColumn(T.String, o, d)
            return V.ConstColumn(out, n) if V.is_const(c) else out

        return T.String, impl

    return resolve


_trim("trim", True, True)
_trim("trimBoth", True, True)
_trim("trimLeft", True, False)
_trim("trimRight", False, True)


# --------------------------------------------------------------------------- replace / split


def _replace(name: str, first_only: bool):
    @register(name)
    def resolve(types, consts):
        check_arity(name, types, 3)
        for i in range(3):
            if not isinstance(types[i], T.StringType):
                raise illegal_type(name, types[i], i)
        needle = _const_text(name, consts, 1)
        repl = _const_text(name, consts, 2)

        def impl(args, n):
            from mergetree.kernels.search import replace

            c = args[0]
            out = StringColumn(T.String, *replace(*_string_parts(c), needle, repl, first_only))
            return V.ConstColumn(out, n) if V.is_const(c) else out

        return T.String, impl

    return resolve


_replace("replaceAll", False)
_replace("replaceOne", True)
_replace("replace", False)


def _split(name: str, single_char: bool):
    @register(name)
    def resolve(types, consts):
        check_arity(name, types, 2)
        for i in range(2):
            if not isinstance(types[i], T.StringType):
                raise illegal_type(name, types[i], i)
        sep = _const_text(name, consts, 0)
        if single_char and len(sep) != 1:
            raise BadFunctionArguments(f"Illegal separator for function {name}. Must be exactly one byte.")
        rtype = T.Array(T.String)

        def impl(args, n):
            from mergetree.column import ArrayColumn
            from mergetree.kernels.search import gather_ranges, split

            c = args[1]
            offsets, data = _string_parts(c)
            pieces, starts, ends = split(offsets, data, sep)
            po, pd = gather_ranges(data, starts, ends)
            arr_offsets = np.zeros(len(pieces) + 1, np.int64)
            np.cumsum(pieces, out=arr_offsets[1:])
            out = ArrayColumn(rtype, arr_offsets, StringColumn(T.String, po, pd))
            return V.ConstColumn(out, n) if V.is_const(c) else out

        return rtype, impl

    return resolve


_split("splitByChar", True)
_split("splitByString", False)


@register("lengthUTF8", case_insensitive=True, aliases=("CHAR_LENGTH", "CHARACTER_LENGTH"))
def length_utf8(types, consts):
    check_arity("lengthUTF8", types, 1)
    _text_arg("lengthUTF8", types, 0)

    def impl(args, n):
        offsets, data = _string_parts(args[0])
        # code points = bytes that are not UTF-8 continuation bytes
        lead = np.r_[0, np.cumsum((data & 0xC0) != 0x80)]
        out = (lead[offsets[1:]] - lead[offsets[:-1]]).astype(np.uint64)
        return V.fixed(T.UInt64, np.broadcast_to(out, (n,)))

    return T.UInt64, impl


register_alias("ucase", "upper")
register_alias("lcase", "lower")
