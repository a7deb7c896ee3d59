"""The string long tail: lowerUTF8, upperUTF8, substringUTF8, reverse, reverseUTF8, leftPad,
rightPad (+UTF8), repeat, hex, unhex, base64Encode/Decode (+URL, try*), toValidUTF8,
positionCaseInsensitive, positionUTF8, positionCaseInsensitiveUTF8, countSubstrings
(+CaseInsensitive), multiSearchAny, format, arrayStringConcat, and the regular-expression
functions match, extract, extractAll, replaceRegexpOne/All, splitByRegexp.

Kernels are in `mergetree.kernels.text` (numba). lowerUTF8/upperUTF8 use ClickHouse's full
Unicode case mapping (one code point may become several: upperUTF8('ß') = 'SS'); the table is
built once from Python's Unicode data plus the Unicode 16 letters ClickHouse already knows.
Invalid UTF-8 bytes are copied unchanged and count as one code point.

Regular expressions run Python's ``re`` on bytes once per *distinct* value of the column (the
results are gathered back by the value codes), so a low-cardinality column costs one match per
value; Python's syntax covers the RE2 patterns in common use (``\\d``, classes, groups,
alternation, anchors) but not RE2-only syntax such as ``\\C`` or ``(?P=name)`` differences.
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np

from mergetree import types as T
from mergetree.column import ArrayColumn, StringColumn
from mergetree.errors import IncorrectDataError
from mergetree.functions import values as V
from mergetree.functions.comparison import _string_parts
from mergetree.functions.registry import (NOT_CONST, BadFunctionArguments, IllegalTypeOfArgument, check_arity,
                                          illegal_type, register)

_LOWER_EXTRA = {0x1C89: 0x1C8A, 0xA7CB: 0x264, 0xA7CC: 0xA7CD, 0xA7CE: 0xA7CF, 0xA7D2: 0xA7D3, 0xA7D4: 0xA7D5,
                0xA7DA: 0xA7DB, 0xA7DC: 0x19B, **{c: c + 0x20 for c in range(0x10D50, 0x10D66)},
                **{c: c + 0x1B for c in range(0x16EA0, 0x16EB9)}}
_UPPER_EXTRA = {v: k for k, v in _LOWER_EXTRA.items()}


@lru_cache(maxsize=2)
def case_table(upper: bool):
    """(offsets, bytes): the UTF-8 of each code point's mapping ('' = unchanged)."""
    extra = _UPPER_EXTRA if upper else _LOWER_EXTRA
    limit = 0x30000
    pieces = []
    lens = np.zeros(limit, np.int64)
    for cp in range(limit):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        ch = chr(cp)
        m = chr(extra[cp]) if cp in extra else (ch.upper() if upper else ch.lower())
        if m != ch:
            b = m.encode("utf-8")
            pieces.append(b)
            lens[cp] = len(b)
    offsets = np.zeros(limit + 1, np.int64)
    np.cumsum(lens, out=offsets[1:])
    return offsets, np.frombuffer(b"".join(pieces), np.uint8).copy()


@lru_cache(maxsize=1)
def letter_table() -> np.ndarray:
    """1 for the cased letters (Lu, Ll, Lt): the final-sigma context of lowerUTF8."""
    import unicodedata

    return np.array([1 if unicodedata.category(chr(cp)) in ("Lu", "Ll", "Lt") else 0 for cp in range(0x30000)],
                    np.uint8)


def _text(name, types, i=0, fixed_ok=True):
    ok = (T.StringType, T.FixedStringType) if fixed_ok else (T.StringType,)
    if not isinstance(types[i], ok):
        raise illegal_type(name, types[i], i)


def _parts(c):
    o, d = _string_parts(c)
    return np.ascontiguousarray(o, np.int64), np.ascontiguousarray(d, np.uint8)


def _wrap(c, out):
    return V.ConstColumn(out, len(c)) if V.is_const(c) else out


def _const_bytes(name, consts, i) -> bytes:
    v = consts[i]
    if v is NOT_CONST:
        raise IllegalTypeOfArgument(f"Argument {i + 1} of function {name} must be a constant string")
    return v.encode("utf-8", "surrogateescape") if isinstance(v, str) else bytes(v)


def _ints(c, rows) -> np.ndarray:
    v = V.values(c).astype(np.int64)
    return np.ascontiguousarray(v if len(v) == rows else np.broadcast_to(v, (rows,)))


def _case(name, upper):
    @register(name)
    def resolve(types, consts):
        check_arity(name, types, 1)
        _text(name, types, 0, fixed_ok=False)

        def impl(args, n):
            from mergetree.kernels import text as K

            c = args[0]
            return _wrap(c, StringColumn(T.String, *K.case_map(*_parts(c), *case_table(upper), letter_table(),
                                                                 not upper)))

        return T.String, impl

    return resolve


_case("lowerUTF8", False)
_case("upperUTF8", True)


@register("substringUTF8")
def substring_utf8(types, consts):
    check_arity("substringUTF8", types, 2, 3)
    _text("substringUTF8", types, 0)
    for i in range(1, len(types)):
        if not isinstance(types[i], T.IntType):
            raise illegal_type("substringUTF8", types[i], i)

    def impl(args, n):
        from mergetree.kernels import text as K
        from mergetree.kernels.url import gather

        c = args[0] if all(V.is_const(a) for a in args[1:]) else V.materialize(args[0])
        o, d = _parts(c)
        rows = len(o) - 1
        off = V.values(args[1]).astype(np.int64)
        ln = V.values(args[2]).astype(np.int64) if len(args) == 3 else np.zeros(1, np.int64)
        s, e = K.substring_utf8(o, d, np.ascontiguousarray(off), np.ascontiguousarray(ln), len(args) == 3)
        return _wrap(c, StringColumn(T.String, *gather(d, s, e))) if rows else StringColumn(T.String, o, d)

    return T.String, impl


def _reverse(name, utf8):
    @register(name)
    def resolve(types, consts):
        check_arity(name, types, 1)
        t = types[0]
        if isinstance(t, T.ArrayType) and not utf8:
            raise IllegalTypeOfArgument("reverse of arrays is not supported here: use arrayReverse")
        _text(name, types, 0, fixed_ok=False)

        def impl(args, n):
            from mergetree.kernels import text as K

            c = args[0]
            o, d = _parts(c)
            o2, d2 = K.reverse_utf8(o - o[0], np.ascontiguousarray(d[o[0]:o[-1]]), utf8)
            return _wrap(c, StringColumn(T.String, o2, d2))

        return T.String, impl

    return resolve


_reverse("reverse", False)
_reverse("reverseUTF8", True)


def _pad(name, left, utf8):
    @register(name)
    def resolve(types, consts):
        check_arity(name, types, 2, 3)
        _text(name, types, 0, fixed_ok=False)
        if not isinstance(types[1], T.IntType):
            raise illegal_type(name, types[1], 1)
        pad = b" "
        if len(types) == 3:
            _text(name, types, 2, fixed_ok=False)
            pad = _const_bytes(name, consts, 2) or b" "  # an empty pad pads with spaces (ClickHouse)

        def impl(args, n):
            from mergetree.kernels import text as K

            c = args[0] if V.is_const(args[1]) else V.materialize(args[0])
            o, d = _parts(c)
            length = np.ascontiguousarray(V.values(args[1]).astype(np.int64))
            if (length < 0).any() or (length > (1 << 30)).any():
                raise BadFunctionArguments(f"Too large or negative length for function {name}")
            return _wrap(c, StringColumn(T.String, *K.pad(o, d, length, np.frombuffer(pad, np.uint8).copy(),
                                                            left, utf8)))

        return T.String, impl

    return resolve


_pad("leftPad", True, False)
_pad("rightPad", False, False)
_pad("leftPadUTF8", True, True)
_pad("rightPadUTF8", False, True)


@register("repeat")
def repeat(types, consts):
    check_arity("repeat", types, 2)
    _text("repeat", types, 0, fixed_ok=False)
    if not isinstance(types[1], T.IntType):
        raise illegal_type("repeat", types[1], 1)

    def impl(args, n):
        from mergetree.kernels import text as K

        c = args[0] if V.is_const(args[1]) else V.materialize(args[0])
        o, d = _parts(c)
        times = np.ascontiguousarray(V.values(args[1]).astype(np.int64))
        if (times > 1_000_000).any():
            raise BadFunctionArguments("Too many times to repeat in function repeat (the maximum is 1000000)")
        return _wrap(c, StringColumn(T.String, *K.repeat(o, d, times)))

    return T.String, impl


# --------------------------------------------------------------------------- hex / base64


def _int_hex_bytes(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(offsets, bytes) of big-endian integer values without leading zero bytes (>= 1 byte)."""
    width = v.dtype.itemsize
    u = v.view(np.dtype(f"u{width}")).astype(np.uint64)
    nbytes = np.ones(len(u), np.int64)
    for k in range(1, width):
        nbytes = np.where(u >> np.uint64(8 * k) != 0, k + 1, nbytes)
    offsets = np.zeros(len(u) + 1, np.int64)
    np.cumsum(nbytes, out=offsets[1:])
    row = np.repeat(np.arange(len(u)), nbytes)
    pos = np.arange(int(offsets[-1])) - offsets[:-1][row]
    shift = (nbytes[row] - 1 - pos) * 8
    data = ((u[row] >> shift.astype(np.uint64)) & np.uint64(0xFF)).astype(np.uint8)
    return offsets, data


@register("hex", case_insensitive=True)
def hex_(types, consts):
    check_arity("hex", types, 1)
    t = types[0]
    if not isinstance(t, (T.StringType, T.FixedStringType, T.IntType, T.BoolType, T.FloatType, T.DateType,
                          T.Date32Type, T.DateTimeType, T.UUIDType)):
        raise illegal_type("hex", t, 0)

    def impl(args, n):
        from mergetree.kernels import text as K

        c = args[0]
        if isinstance(t, (T.StringType, T.FixedStringType)):
            o, d = _parts(c)
        elif isinstance(t, T.FloatType):
            v = np.ascontiguousarray(V.values(c))
            o = np.arange(len(v) + 1, dtype=np.int64) * v.dtype.itemsize
            d = v.view(np.uint8).reshape(-1)
        elif isinstance(t, T.UUIDType):
            v = np.ascontiguousarray(V.values(c)).astype(">u8")
            o = np.arange(len(v) + 1, dtype=np.int64) * 16
            d = v.view(np.uint8).reshape(-1)
        else:
            o, d = _int_hex_bytes(np.ascontiguousarray(V.values(c)))
        return _wrap(c, StringColumn(T.String, *K.hex_encode(o, np.ascontiguousarray(d))))

    return T.String, impl


@register("unhex", case_insensitive=True)
def unhex(types, consts):
    check_arity("unhex", types, 1)
    _text("unhex", types, 0)

    def impl(args, n):
        from mergetree.kernels import text as K

        c = args[0]
        return _wrap(c, StringColumn(T.String, *K.unhex(*_parts(c))))

    return T.String, impl


def _b64(name, encode, url=False, on_error="throw"):
    @register(name, aliases=("TO_BASE64",) if name == "base64Encode" else
              (("FROM_BASE64",) if name == "base64Decode" else ()))
    def resolve(types, consts):
        check_arity(name, types, 1)
        _text(name, types, 0)

        def impl(args, n):
            from mergetree.kernels import text as K

            c = args[0]
            o, d = _parts(c)
            if encode:
                return _wrap(c, StringColumn(T.String, *K.base64_encode(o, d, url)))
            o2, d2, ok = K.base64_decode(o, d, url)
            if on_error == "throw" and not ok.all():
                i = int(np.argmin(ok))
                text = bytes(d[o[i]:o[i + 1]]).decode("utf-8", "replace")
                raise IncorrectDataError(f"Invalid {name} value ({text}), cannot be decoded")
            return _wrap(c, StringColumn(T.String, o2, d2))

        return T.String, impl

    return resolve


_b64("base64Encode", True)
_b64("base64URLEncode", True, url=True)
_b64("base64Decode", False)
_b64("base64URLDecode", False, url=True)
_b64("tryBase64Decode", False, on_error="empty")
_b64("tryBase64URLDecode", False, url=True, on_error="empty")


@register("toValidUTF8")
def to_valid_utf8(types, consts):
    check_arity("toValidUTF8", types, 1)
    _text("toValidUTF8", types, 0, fixed_ok=False)

    def impl(args, n):
        from mergetree.kernels import text as K

        c = args[0]
        return _wrap(c, StringColumn(T.String, *K.to_valid_utf8(*_parts(c))))

    return T.String, impl


# --------------------------------------------------------------------------- search


def _position(name, ci, utf8):
    @register(name)
    def resolve(types, consts):
        check_arity(name, types, 2)
        _text(name, types, 0)
        _text(name, types, 1)
        needle = _const_bytes(name, consts, 1)
        if ci and utf8:
            needle = needle.decode("utf-8", "surrogateescape").lower().encode("utf-8", "surrogateescape")

        def impl(args, n):
            from mergetree.kernels import text as K

            o, d = _parts(args[0])
            if ci and utf8:
                o, d = K.case_map(o, d, *case_table(False), letter_table(), False)
            out = K.find_ci(o, d, np.frombuffer(needle, np.uint8).copy(), 0, utf8, ci)
            return V.fixed(T.UInt64, np.broadcast_to(out, (n,)).astype(np.uint64))

        return T.UInt64, impl

    return resolve


_position("positionCaseInsensitive", True, False)
_position("positionUTF8", False, True)
_position("positionCaseInsensitiveUTF8", True, True)


def _count(name, ci):
    @register(name)
    def resolve(types, consts):
        check_arity(name, types, 2)
        _text(name, types, 0)
        _text(name, types, 1)
        needle = _const_bytes(name, consts, 1)

        def impl(args, n):
            from mergetree.kernels import text as K

            out = K.count_substrings(*_parts(args[0]), np.frombuffer(needle, np.uint8).copy(), ci)
            return V.fixed(T.UInt64, np.broadcast_to(out, (n,)))

        return T.UInt64, impl

    return resolve


_count("countSubstrings", False)
_count("countSubstringsCaseInsensitive", True)


@register("multiSearchAny")
def multi_search_any(types, consts):
    check_arity("multiSearchAny", types, 2)
    _text("multiSearchAny", types, 0)
    if not (isinstance(types[1], T.ArrayType) and isinstance(V.strip(types[1].inner), T.StringType)):
        raise illegal_type("multiSearchAny", types[1], 1)
    if consts[1] is NOT_CONST:
        raise IllegalTypeOfArgument("Argument 2 of function multiSearchAny must be a constant array of strings")
    needles = [x.encode("utf-8", "surrogateescape") if isinstance(x, str) else bytes(x) for x in consts[1]]

    def impl(args, n):
        from mergetree.kernels import text as K

        o, d = _parts(args[0])
        hit = np.zeros(len(o) - 1, np.bool_)
        for nd in needles:
            hit |= K.find_ci(o, d, np.frombuffer(nd, np.uint8).copy(), 0, False, False) > 0
        return V.fixed(T.UInt8, np.broadcast_to(hit, (n,)).astype(np.uint8))

    return T.UInt8, impl


# --------------------------------------------------------------------------- format / arrayStringConcat


def _format_template(pattern: bytes, nargs: int) -> list:
    """Pieces of a format() pattern: bytes literals and int argument indexes."""
    pieces: list = []
    lit = bytearray()
    i = 0
    auto = 0
    while i < len(pattern):
        ch = pattern[i:i + 1]
        if ch == b"{":
            if pattern[i + 1:i + 2] == b"{":
                lit += b"{"
                i += 2
                continue
            j = pattern.find(b"}", i)
            if j < 0:
                raise BadFunctionArguments("Last open curly brace is not closed")
            inner = pattern[i + 1:j]
            if inner:
                if not inner.isdigit():
                    raise BadFunctionArguments("Not a number in curly braces at position " + str(i + 1))
                k = int(inner)
            else:
                k = auto
                auto += 1
            if k >= nargs:
                raise BadFunctionArguments("Argument is too big for formatting")
            pieces.append(bytes(lit))
            lit = bytearray()
            pieces.append(k)
            i = j + 1
        elif ch == b"}":
            if pattern[i + 1:i + 2] == b"}":
                lit += b"}"
                i += 2
                continue
            raise BadFunctionArguments("Unclosed curly brace")
        else:
            lit += ch
            i += 1
    pieces.append(bytes(lit))
    return [p for p in pieces if p != b""]


@register("format")
def format_(types, consts):
    check_arity("format", types, 1, 1 << 20)
    _text("format", types, 0)
    pattern = _const_bytes("format", consts, 0)
    pieces = _format_template(pattern, len(types) - 1)

    def impl(args, n):
        from mergetree.functions.registry import get_function, prepare_call

        concat = get_function("concat")
        parts_types, parts_args, parts_consts = [], [], []
        for p in pieces:
            if isinstance(p, bytes):
                parts_types.append(T.String)
                parts_args.append(V.string_const(p, n))
                parts_consts.append(p)
            else:
                parts_types.append(types[p + 1])
                parts_args.append(args[p + 1])
                parts_consts.append(NOT_CONST)
        if not parts_args:
            return V.string_const(b"", n)
        call = prepare_call(concat, parts_types, parts_consts)
        return call.run(parts_args, n)

    return T.String, impl


@register("arrayStringConcat")
def array_string_concat(types, consts):
    check_arity("arrayStringConcat", types, 1, 2)
    if not isinstance(types[0], T.ArrayType):
        raise illegal_type("arrayStringConcat", types[0], 0)
    sep = b""
    if len(types) == 2:
        _text("arrayStringConcat", types, 1)
        sep = _const_bytes("arrayStringConcat", consts, 1)
    inner_t = types[0].inner

    def impl(args, n):
        from mergetree.kernels import text as K

        c = args[0]
        arr = V.inner_data(c)
        elements = arr.values
        if not isinstance(V.strip(inner_t), T.StringType) or isinstance(inner_t, (T.NullableType,
                                                                                  T.LowCardinalityType)):
            from mergetree.functions.registry import get_function, prepare_call

            plain = V.strip(inner_t)
            values = V.unwrap_lc(elements)
            mask = None
            if isinstance(values, __import__("mergetree.column", fromlist=["NullableColumn"]).NullableColumn):
                mask = values.nulls
                values = values.values
            if not isinstance(plain, T.StringType):
                values = prepare_call(get_function("toString"), [plain], [NOT_CONST]).run([values], len(values))
            if mask is not None and mask.any():  # NULL elements are skipped
                keep = ~mask
                counts = np.add.reduceat(keep.astype(np.int64), arr.offsets[:-1]) if len(keep) else np.zeros(0)
                counts = np.where(np.diff(arr.offsets) == 0, 0, counts)
                new_off = np.zeros(len(arr.offsets), np.int64)
                np.cumsum(counts, out=new_off[1:])
                values = values.filter(keep)
                arr_offsets = new_off
            else:
                arr_offsets = arr.offsets
            elements = values
        else:
            arr_offsets = arr.offsets
        o, d = _parts(elements)
        out = StringColumn(T.String, *K.join_array(np.ascontiguousarray(arr_offsets, np.int64), o, d,
                                                    np.frombuffer(sep, np.uint8).copy()))
        return _wrap(c, out)

    return T.String, impl


# --------------------------------------------------------------------------- regular expressions


@lru_cache(maxsize=256)
def _regex(name: str, pattern: bytes):
    try:
        return re.compile(pattern, re.DOTALL)
    except re.error as e:
        raise BadFunctionArguments(f"Invalid regular expression for function {name}: {e}") from None


def _per_distinct(c, fn):
    """Apply fn(bytes) -> value to each distinct row of a String column; (values, codes)."""
    from mergetree.kernels.strings import group_strings

    o, d = _parts(c)
    rows = len(o) - 1
    if rows == 0:
        return [], np.zeros(0, np.int64)
    codes, firsts = group_strings(o, d)
    codes = np.asarray(codes, np.int64)
    firsts = np.asarray(firsts, np.int64)
    results = [fn(bytes(d[o[i]:o[i + 1]])) for i in firsts]
    return results, codes


def _strings_from(values: list[bytes]) -> StringColumn:
    offsets = np.zeros(len(values) + 1, np.int64)
    np.cumsum([len(v) for v in values], out=offsets[1:])
    return StringColumn(T.String, offsets, np.frombuffer(b"".join(values), np.uint8).copy())


def _arrays_from(values: list[list[bytes]]) -> ArrayColumn:
    arr_off = np.zeros(len(values) + 1, np.int64)
    np.cumsum([len(v) for v in values], out=arr_off[1:])
    return ArrayColumn(T.Array(T.String), arr_off, _strings_from([x for v in values for x in v]))


def _regex_function(name, kind, nargs, rtype):
    @register(name)
    def resolve(types, consts):
        check_arity(name, types, nargs)
        haystack_i = 1 if kind == "split" else 0
        pattern_i = 0 if kind == "split" else 1
        for i in range(nargs):
            _text(name, types, i)
        pattern = _const_bytes(name, consts, pattern_i)
        rx = _regex(name, pattern)
        repl = _const_bytes(name, consts, 2) if kind.startswith("replace") else None
        if repl is not None:
            # ClickHouse's \0-\9 substitutions; other backslashes are literal
            template = re.sub(rb"\\([0-9])", rb"\\g<\1>", repl.replace(b"\\\\", b"\x00BACKSLASH\x00"))
            template = template.replace(b"\x00BACKSLASH\x00", b"\\\\")

        def one(s: bytes):
            if kind == "match":
                return 1 if rx.search(s) else 0
            if kind == "extract":
                m = rx.search(s)
                if not m:
                    return b""
                if rx.groups:
                    return m.group(1) or b""
                return m.group(0)
            if kind == "extractAll":
                out = []
                for m in rx.finditer(s):
                    out.append((m.group(1) or b"") if rx.groups else m.group(0))
                return out
            if kind == "split":
                if not pattern:
                    return [s[i:i + 1] for i in range(len(s))]
                pieces, last = [], 0
                for m in rx.finditer(s):
                    if m.end() == m.start():
                        continue
                    pieces.append(s[last:m.start()])
                    last = m.end()
                pieces.append(s[last:])
                return pieces
            if kind == "replaceOne":
                return rx.sub(lambda m: m.expand(template), s, count=1)
            return rx.sub(lambda m: m.expand(template), s) if pattern else s

        def impl(args, n):
            c = args[haystack_i]
            results, codes = _per_distinct(c, one)
            if kind == "match":
                col = V.fixed(T.UInt8, np.asarray(results, np.uint8)[codes] if len(codes) else np.zeros(0, np.uint8))
            elif kind in ("extractAll", "split"):
                col = _arrays_from(results).take(codes)
            else:
                col = _strings_from(results).take(codes)
            return _wrap(c, col)

        return rtype, impl

    return resolve


_regex_function("match", "match", 2, T.UInt8)
_regex_function("extract", "extract", 2, T.String)
_regex_function("extractAll", "extractAll", 2, T.Array(T.String))
_regex_function("replaceRegexpOne", "replaceOne", 3, T.String)
_regex_function("replaceRegexpAll", "replaceAll", 3, T.String)
_regex_function("splitByRegexp", "split", 2, T.Array(T.String))


# --------------------------------------------------------------------------- aliases and small helpers


def _left_right(name: str, right: bool, utf8: bool):
    """left(s, n) = the first n bytes (code points), all but the last -n when n < 0;
    right(s, n) = the last n, all but the first -n when n < 0."""
    from mergetree.functions.registry import get_function, prepare_call

    @register(name, case_insensitive=not utf8)
    def resolve(types, consts):
        check_arity(name, types, 2)
        _text(name, types, 0)
        if not isinstance(types[1], T.IntType):
            raise illegal_type(name, types[1], 1)
        sub = get_function("substringUTF8" if utf8 else "substring")

        def impl(args, n):
            k = V.values(args[1]).astype(np.int64)
            if right:
                off = np.where(k > 0, -k, np.where(k < 0, 1 - k, 0))
                parts = [args[0], _num_arg(off, args[1], n)]
                call = prepare_call(sub, [types[0], T.Int64], [NOT_CONST, NOT_CONST])
            else:
                parts = [args[0], V.const_of(T.Int64, 1, n), _num_arg(k, args[1], n)]
                call = prepare_call(sub, [types[0], T.Int64, T.Int64], [NOT_CONST, NOT_CONST, NOT_CONST])
            return call.run(parts, n)  # right(s, 0) is '', as substring(s, 0)

        return T.String, impl

    return resolve


def _num_arg(values, like, n):
    col = V.fixed(T.Int64, values)
    return V.ConstColumn(col, n) if V.is_const(like) else col


_left_right("left", False, False)
_left_right("right", True, False)
_left_right("leftUTF8", False, True)
_left_right("rightUTF8", True, True)


def _alias(alias: str, target: str, ci: bool = True):
    from mergetree.functions.registry import register_alias

    register_alias(alias, target, case_insensitive=ci)


_alias("lpad", "leftPad")
_alias("rpad", "rightPad")
_alias("ltrim", "trimLeft")
_alias("rtrim", "trimRight")
_alias("startsWithUTF8", "startsWith", ci=False)
_alias("endsWithUTF8", "endsWith", ci=False)


@register("isValidUTF8")
def is_valid_utf8(types, consts):
    check_arity("isValidUTF8", types, 1)
    _text("isValidUTF8", types, 0)

    def impl(args, n):
        from mergetree.kernels import text as K

        o, d = _parts(args[0])
        o2, _d2 = K.to_valid_utf8(o, d)
        # valid rows are copied unchanged, an invalid one changes (U+FFFD is 3 bytes, not 1)
        valid = np.diff(o2) == np.diff(o)
        if valid.any():
            from mergetree.kernels.strings import equal_rows

            valid &= np.asarray(equal_rows(o, d, o2, _d2), np.bool_)
        return V.fixed(T.UInt8, np.broadcast_to(valid, (n,)).astype(np.uint8))

    return T.UInt8, impl


@register("concatWithSeparator", case_insensitive=True, aliases=("concat_ws",))
def concat_with_separator(types, consts):
    from mergetree.functions.registry import get_function, prepare_call

    check_arity("concatWithSeparator", types, 1, 1 << 20)
    _text("concatWithSeparator", types, 0)
    rest = list(types[1:])
    if not rest:
        return T.String, lambda args, n: V.string_const(b"", n)
    inner_types = []
    for t in rest:
        inner_types += [types[0], t]
    call = prepare_call(get_function("concat"), inner_types[1:], [NOT_CONST] * (len(inner_types) - 1))

    def impl(args, n):
        parts = []
        for a in args[1:]:
            parts += [args[0], a]
        return call.run(parts[1:], n)

    return T.String, impl


def _pieces_column(pieces, starts, ends, data) -> ArrayColumn:
    from mergetree.kernels.url import gather

    arr_off = np.zeros(len(pieces) + 1, np.int64)
    np.cumsum(pieces, out=arr_off[1:])
    return ArrayColumn(T.Array(T.String), arr_off, StringColumn(T.String, *gather(data, starts, ends)))


@register("ngrams")
def ngrams(types, consts):
    check_arity("ngrams", types, 2)
    _text("ngrams", types, 0, fixed_ok=False)
    if not isinstance(types[1], T.IntType) or consts[1] is NOT_CONST:
        raise IllegalTypeOfArgument("Argument 2 of function ngrams must be a constant integer")
    size = int(consts[1])
    if size < 1:
        raise BadFunctionArguments(f"Incorrect parameter of tokenizer 'ngrams': ngram length must be at least 1, "
                                   f"but got {size}")

    def impl(args, n):
        from mergetree.kernels import text as K

        c = args[0]
        o, d = _parts(c)
        return _wrap(c, _pieces_column(*K.ngrams(o, d, size), d))

    return T.Array(T.String), impl


@register("tokens")
def tokens_(types, consts):
    """tokens(s) (the default splitByNonAlpha tokenizer) and tokens(s, 'ngrams', N)."""
    check_arity("tokens", types, 1, 3)
    _text("tokens", types, 0, fixed_ok=False)
    kind = consts[1] if len(types) > 1 else "splitByNonAlpha"
    if kind not in ("splitByNonAlpha", "ngrams"):
        raise BadFunctionArguments(f"tokens: tokenizer {kind!r} is not supported (splitByNonAlpha, ngrams)")
    size = int(consts[2]) if kind == "ngrams" and len(types) == 3 and consts[2] is not NOT_CONST else 3

    def impl(args, n):
        from mergetree.kernels import text as K

        c = args[0]
        o, d = _parts(c)
        res = K.tokens(o, d) if kind == "splitByNonAlpha" else K.ngrams(o, d, size)
        return _wrap(c, _pieces_column(*res, d))

    return T.Array(T.String), impl
