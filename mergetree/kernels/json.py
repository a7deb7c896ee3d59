"""JSON kernels over String columns (offsets, data): validate, follow a path, decode.

Every row is a JSON document. As ClickHouse (simdjson) does, a row that is not valid JSON as
a whole yields "not found" for every path, even if the path itself could be read. Kernels
(numba, ``nogil=True``), each checked against Python's ``json`` module in the tests:

1. `locate(offsets, data, kinds, keys_offsets, keys_data, indexes, start, end, vtype, count)`:
   validate each document, then follow the path (kind 0: object key, kind 1: 1-based index
   into an array or an object's members, negative from the end) and report the value's byte range [start, end), its type
   (`T_*` below, 0 = not found / invalid) and, for an object or array, its member count.
   Keys with escapes in the document are decoded before comparing.
2. `unescape(data, start, end, out, out_len)`: decode a JSON string token (quotes included)
   into UTF-8: ``\\n``, ``\\"``, ``\\uXXXX`` and surrogate pairs.
3. `minify(data, start, end, out, out_len)`: copy a value without the whitespace outside strings,
   string escapes normalized the way ClickHouse re-serializes (numbers keep their spelling).
4.-7. `members`, `valid_rows`, `visit_param` / `visit_value_end` / `visit_string_end`,
   `number_prefix_end`: see their section below (JSONExtract of arrays/tuples/maps, isValidJSON,
   simpleJSON/visitParam).
"""

from __future__ import annotations

import numba
import numpy as np

T_MISSING, T_STRING, T_NUMBER, T_TRUE, T_FALSE, T_NULL, T_OBJECT, T_ARRAY = range(8)
MAX_DEPTH = 1024

_jit = numba.njit(nogil=True, cache=True)


@_jit
def _hex(c):
    if c <= 57:
        return c - 48
    if c <= 70:
        return c - 55
    return c - 87


@_jit
def _ws(data, p, end):
    while p < end and (data[p] == 32 or data[p] == 9 or data[p] == 10 or data[p] == 13):
        p += 1
    return p


@_jit
def _string_end(data, p, end):
    """Position after the string token starting at p (data[p] == '"'), or -1 if invalid."""
    p += 1
    while p < end:
        c = data[p]
        if c == 34:
            return p + 1
        if c == 92:
            if p + 1 >= end:
                return -1
            e = data[p + 1]
            if e == 117:  # \uXXXX
                if p + 5 >= end:
                    return -1
                for k in range(2, 6):
                    h = data[p + k]
                    if not ((48 <= h <= 57) or (65 <= h <= 70) or (97 <= h <= 102)):
                        return -1
                p += 6
                continue
            if e == 34 or e == 92 or e == 47 or e == 98 or e == 102 or e == 110 or e == 114 or e == 116:
                p += 2
                continue
            return -1
        if c < 32:
            return -1
        p += 1
    return -1


@_jit
def _number_end(data, p, end):
    """Position after the number token at p, or -1 if it is not a valid JSON number."""
    if p < end and data[p] == 45:
        p += 1
    if p >= end:
        return -1
    if data[p] == 48:
        p += 1
    elif 49 <= data[p] <= 57:
        while p < end and 48 <= data[p] <= 57:
            p += 1
    else:
        return -1
    if p < end and data[p] == 46:
        p += 1
        q = p
        while p < end and 48 <= data[p] <= 57:
            p += 1
        if p == q:
            return -1
    if p < end and (data[p] == 101 or data[p] == 69):
        p += 1
        if p < end and (data[p] == 43 or data[p] == 45):
            p += 1
        q = p
        while p < end and 48 <= data[p] <= 57:
            p += 1
        if p == q:
            return -1
    return p


@_jit
def _literal_end(data, p, end):
    """Position after true/false/null at p, or -1."""
    c = data[p]
    if c == 116 and p + 4 <= end and data[p + 1] == 114 and data[p + 2] == 117 and data[p + 3] == 101:
        return p + 4
    if c == 102 and p + 5 <= end and data[p + 1] == 97 and data[p + 2] == 108 and data[p + 3] == 115 \
            and data[p + 4] == 101:
        return p + 5
    if c == 110 and p + 4 <= end and data[p + 1] == 117 and data[p + 2] == 108 and data[p + 3] == 108:
        return p + 4
    return -1


@_jit
def _valid(data, p, end, stack):
    """Is data[p:end] exactly one JSON value (whitespace around allowed)?"""
    depth = 0
    p = _ws(data, p, end)
    expect_value = True
    while True:
        if expect_value:
            if p >= end:
                return False
            c = data[p]
            if c == 123 or c == 91:  # { [
                p = _ws(data, p + 1, end)
                if p < end and data[p] == (125 if c == 123 else 93):
                    p += 1
                    expect_value = False
                    continue
                if depth >= stack.shape[0]:
                    return False
                stack[depth] = c
                depth += 1
                if c == 123:  # a key first
                    if p >= end or data[p] != 34:
                        return False
                    p = _string_end(data, p, end)
                    if p < 0:
                        return False
                    p = _ws(data, p, end)
                    if p >= end or data[p] != 58:
                        return False
                    p = _ws(data, p + 1, end)
                continue
            if c == 34:
                p = _string_end(data, p, end)
            elif c == 45 or 48 <= c <= 57:
                p = _number_end(data, p, end)
            else:
                p = _literal_end(data, p, end)
            if p < 0:
                return False
            expect_value = False
            continue
        # after a value
        p = _ws(data, p, end)
        if depth == 0:
            return p == end
        if p >= end:
            return False
        top = stack[depth - 1]
        c = data[p]
        if c == 44:  # ,
            p = _ws(data, p + 1, end)
            if top == 123:
                if p >= end or data[p] != 34:
                    return False
                p = _string_end(data, p, end)
                if p < 0:
                    return False
                p = _ws(data, p, end)
                if p >= end or data[p] != 58:
                    return False
                p = _ws(data, p + 1, end)
            expect_value = True
            continue
        if (top == 123 and c == 125) or (top == 91 and c == 93):
            depth -= 1
            p += 1
            continue
        return False


@_jit
def _skip(data, p, end):
    """Position after the (valid) value starting at p."""
    c = data[p]
    if c == 34:
        return _string_end(data, p, end)
    if c == 123 or c == 91:
        depth = 0
        while p < end:
            c = data[p]
            if c == 34:
                p = _string_end(data, p, end)
                continue
            if c == 123 or c == 91:
                depth += 1
            elif c == 125 or c == 93:
                depth -= 1
                if depth == 0:
                    return p + 1
            p += 1
        return end
    if c == 45 or 48 <= c <= 57:
        return _number_end(data, p, end)
    return _literal_end(data, p, end)


@_jit
def _type_of(c):
    if c == 34:
        return 1
    if c == 123:
        return 6
    if c == 91:
        return 7
    if c == 116:
        return 3
    if c == 102:
        return 4
    if c == 110:
        return 5
    return 2


@_jit
def _count(data, p, end):
    """Members of the object/array at p (0 for other values)."""
    c = data[p]
    if c != 123 and c != 91:
        return 0
    q = _ws(data, p + 1, end)
    if data[q] == 125 or data[q] == 93:
        return 0
    n = 0
    while True:
        if c == 123:
            q = _string_end(data, q, end)
            q = _ws(data, q, end) + 1
            q = _ws(data, q, end)
        q = _skip(data, q, end)
        n += 1
        q = _ws(data, q, end)
        if data[q] == 44:
            q = _ws(data, q + 1, end)
            continue
        return n


@_jit
def locate(offsets, data, kinds, keys_offsets, keys_data, indexes, start, end, vtype, count):
    stack = np.empty(MAX_DEPTH, np.uint8)
    scratch = np.empty(64, np.uint8)
    for i in range(offsets.shape[0] - 1):
        a = offsets[i]
        b = offsets[i + 1]
        start[i] = a
        end[i] = a
        vtype[i] = 0
        count[i] = 0
        if not _valid(data, a, b, stack):
            continue
        p = _ws(data, a, b)
        found = True
        for k in range(kinds.shape[0]):
            c = data[p]
            if kinds[k] == 0:  # object key
                if c != 123:
                    found = False
                    break
                key0 = keys_offsets[k]
                klen = keys_offsets[k + 1] - key0
                q = _ws(data, p + 1, b)
                if data[q] == 125:
                    found = False
                    break
                hit = -1
                while True:
                    ks = q + 1
                    q = _string_end(data, q, b)
                    ke = q - 1
                    q = _ws(data, q, b) + 1
                    q = _ws(data, q, b)
                    escaped = False
                    for j in range(ks, ke):
                        if data[j] == 92:
                            escaped = True
                            break
                    if escaped:  # compare the decoded key
                        if scratch.shape[0] < ke - ks:
                            scratch = np.empty(2 * (ke - ks), np.uint8)
                        kl = decode_into(data, ks, ke, scratch, 0)
                        if kl == klen:
                            same = True
                            for j in range(klen):
                                if scratch[j] != keys_data[key0 + j]:
                                    same = False
                                    break
                            if same:
                                hit = q
                                break
                    elif ke - ks == klen:
                        same = True
                        for j in range(klen):
                            if data[ks + j] != keys_data[key0 + j]:
                                same = False
                                break
                        if same:
                            hit = q
                            break
                    q = _ws(data, _skip(data, q, b), b)
                    if data[q] == 44:
                        q = _ws(data, q + 1, b)
                        continue
                    break
                if hit < 0:
                    found = False
                    break
                p = hit
            else:  # 1-based index into an array or an object's members, negative from the end
                if c != 91 and c != 123:
                    found = False
                    break
                idx = indexes[k]
                if idx < 0:
                    idx = _count(data, p, b) + idx + 1
                if idx <= 0:
                    found = False
                    break
                q = _ws(data, p + 1, b)
                if data[q] == 93 or data[q] == 125:
                    found = False
                    break
                pos = 1
                ok = True
                while True:
                    if c == 123:  # skip the member's key and ':'
                        q = _ws(data, _string_end(data, q, b), b) + 1
                        q = _ws(data, q, b)
                    if pos == idx:
                        break
                    q = _ws(data, _skip(data, q, b), b)
                    if data[q] != 44:
                        ok = False
                        break
                    q = _ws(data, q + 1, b)
                    pos += 1
                if not ok:
                    found = False
                    break
                p = q
        if not found:
            continue
        start[i] = p
        end[i] = _skip(data, p, b)
        vtype[i] = _type_of(data[p])
        count[i] = _count(data, p, b)


@_jit
def put_utf8(out, w, cp):
    """Write code point cp at out[w] as UTF-8 (1-4 bytes); returns the new w."""
    if cp < 0x80:
        out[w] = cp
        return w + 1
    if cp < 0x800:
        out[w] = 0xC0 | (cp >> 6)
        out[w + 1] = 0x80 | (cp & 0x3F)
        return w + 2
    if cp < 0x10000:
        out[w] = 0xE0 | (cp >> 12)
        out[w + 1] = 0x80 | ((cp >> 6) & 0x3F)
        out[w + 2] = 0x80 | (cp & 0x3F)
        return w + 3
    out[w] = 0xF0 | (cp >> 18)
    out[w + 1] = 0x80 | ((cp >> 12) & 0x3F)
    out[w + 2] = 0x80 | ((cp >> 6) & 0x3F)
    out[w + 3] = 0x80 | (cp & 0x3F)
    return w + 4


@_jit
def decode_into(data, p, e, out, w):
    """Decode string content data[p:e] (between the quotes) into out[w...]; returns the new w."""
    while p < e:
        c = data[p]
        if c != 92:
            out[w] = c
            w += 1
            p += 1
            continue
        x = data[p + 1]
        if x == 117:
            cp = (_hex(data[p + 2]) << 12) | (_hex(data[p + 3]) << 8) | (_hex(data[p + 4]) << 4) | _hex(data[p + 5])
            p += 6
            if 0xD800 <= cp <= 0xDBFF and p + 5 < e and data[p] == 92 and data[p + 1] == 117:
                lo = (_hex(data[p + 2]) << 12) | (_hex(data[p + 3]) << 8) | (_hex(data[p + 4]) << 4) \
                    | _hex(data[p + 5])
                if 0xDC00 <= lo <= 0xDFFF:
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00)
                    p += 6
            w = put_utf8(out, w, cp)
            continue
        if x == 110:
            out[w] = 10
        elif x == 116:
            out[w] = 9
        elif x == 114:
            out[w] = 13
        elif x == 98:
            out[w] = 8
        elif x == 102:
            out[w] = 12
        else:
            out[w] = x  # \" \\ \/
        w += 1
        p += 2
    return w


@_jit
def unescape(data, start, end, out, out_len):
    """Decode string tokens data[start[i]:end[i]] (quotes included) into out[start[i]...]."""
    for i in range(start.shape[0]):
        out_len[i] = decode_into(data, start[i] + 1, end[i] - 1, out, start[i]) - start[i]


@_jit
def _put_code_point(out, w, cp):
    """Write code point cp at out[w] as JSON string content, as ClickHouse re-serializes it:
    UTF-8, except '"' and '\\' and control characters, which stay escaped. Returns the new w."""
    if cp == 34 or cp == 92:
        out[w] = 92
        out[w + 1] = cp
        return w + 2
    if cp < 32:
        short = 0
        if cp == 8:
            short = 98
        elif cp == 12:
            short = 102
        elif cp == 10:
            short = 110
        elif cp == 13:
            short = 114
        elif cp == 9:
            short = 116
        out[w] = 92
        if short:
            out[w + 1] = short
            return w + 2
        out[w + 1] = 117
        out[w + 2] = 48
        out[w + 3] = 48
        hi = cp >> 4
        lo = cp & 15
        out[w + 4] = 48 + hi
        out[w + 5] = 48 + lo if lo < 10 else 55 + lo
        return w + 6
    return put_utf8(out, w, cp)


@_jit
def minify(data, start, end, out, out_len):
    """Copy data[start[i]:end[i]] into out[start[i]...] without whitespace outside strings and
    with string escapes normalized (``\\u00e9`` -> UTF-8, ``\\/`` -> ``/``), as ClickHouse
    re-serializes a value. Numbers keep their spelling (a documented difference)."""
    for i in range(start.shape[0]):
        out_len[i] = _minify_into(data, start[i], end[i], out, start[i]) - start[i]


@_jit
def minify_compact(data, start, end, sel, out, offsets):
    """minify of the rows with sel[i], written back to back into out; offsets delimit the rows."""
    w = 0
    offsets[0] = 0
    for i in range(start.shape[0]):
        if sel[i]:
            w = _minify_into(data, start[i], end[i], out, w)
        offsets[i + 1] = w


@_jit
def _minify_into(data, p, e, out, w):
    """minify data[p:e] into out[w...]; returns the new w."""
    in_str = False
    while p < e:
        c = data[p]
        if in_str:
            if c == 92:
                x = data[p + 1]
                if x == 117:
                    cp = (_hex(data[p + 2]) << 12) | (_hex(data[p + 3]) << 8) | (_hex(data[p + 4]) << 4) \
                        | _hex(data[p + 5])
                    p += 6
                    if 0xD800 <= cp <= 0xDBFF and p + 5 < e and data[p] == 92 and data[p + 1] == 117:
                        lo = (_hex(data[p + 2]) << 12) | (_hex(data[p + 3]) << 8) | (_hex(data[p + 4]) << 4) \
                            | _hex(data[p + 5])
                        if 0xDC00 <= lo <= 0xDFFF:
                            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00)
                            p += 6
                    w = _put_code_point(out, w, cp)
                    continue
                if x == 47:  # \/ is just /
                    out[w] = 47
                    w += 1
                else:
                    out[w] = 92
                    out[w + 1] = x
                    w += 2
                p += 2
                continue
            out[w] = c
            w += 1
            if c == 34:
                in_str = False
            p += 1
            continue
        if c == 32 or c == 9 or c == 10 or c == 13:
            p += 1
            continue
        if c == 34:
            in_str = True
        out[w] = c
        w += 1
        p += 1
    return w


# --------------------------------------------------------------------------- members, validity, visitParam
#
# 4. `members(data, start, end, vtype, first, mstart, mend, kstart, kend)`: the members of every
#    located array/object value: member j of row i goes to slot first[i] + j (first = exclusive
#    cumsum of the member counts); mstart/mend is the value's byte range, kstart/kend the key token's
#    (quotes included; -1 for array elements).
# 5. `valid_rows(offsets, data, out)`: out[i] = row i is exactly one JSON value (isValidJSON).
# 6. `visit_param(offsets, data, needle, vstart)`: ClickHouse's simpleJSON/visitParam search: the
#    position right after the first occurrence of ``"name":`` in the row (-1 if none).


@_jit
def members(data, start, end, vtype, first, mstart, mend, kstart, kend):
    for i in range(start.shape[0]):
        t = vtype[i]
        if t != 6 and t != 7:
            continue
        p = start[i]
        b = end[i]
        q = _ws(data, p + 1, b)
        if data[q] == 125 or data[q] == 93:
            continue
        w = first[i]
        while True:
            if t == 6:
                kstart[w] = q
                q = _string_end(data, q, b)
                kend[w] = q
                q = _ws(data, q, b) + 1
                q = _ws(data, q, b)
            else:
                kstart[w] = -1
                kend[w] = -1
            mstart[w] = q
            q = _skip(data, q, b)
            mend[w] = q
            w += 1
            q = _ws(data, q, b)
            if data[q] == 44:
                q = _ws(data, q + 1, b)
                continue
            break


@_jit
def valid_rows(offsets, data, out):
    stack = np.empty(MAX_DEPTH, np.uint8)
    for i in range(offsets.shape[0] - 1):
        out[i] = 1 if _valid(data, offsets[i], offsets[i + 1], stack) else 0


@_jit
def visit_param(offsets, data, needle, vstart):
    k = needle.shape[0]
    for i in range(offsets.shape[0] - 1):
        a = offsets[i]
        b = offsets[i + 1]
        vstart[i] = -1
        p = a
        while p + k <= b:
            same = True
            for j in range(k):
                if data[p + j] != needle[j]:
                    same = False
                    break
            if same:
                vstart[i] = p + k
                break
            p += 1


@_jit
def visit_value_end(data, offsets, vstart, vend):
    """ClickHouse's visitParamExtractRaw scan: from vstart[i], keep a stack of expected closers
    (``[`` -> ``]``, ``{`` -> ``}``, ``"`` -> ``"``, pushed even inside strings; a backslash before
    ``"`` skips it); the value ends at the first ``,`` or ``}`` met with an empty stack. No such end
    before the row ends: the value is unreadable (vstart = vend = -2, the result is '')."""
    stack = np.empty(64, np.uint8)
    for i in range(vstart.shape[0]):
        p = vstart[i]
        b = offsets[i + 1]
        if p < 0:
            vend[i] = -1
            continue
        depth = 0
        q = p
        done = False
        while q < b:
            c = data[q]
            if depth > 0 and c == stack[depth - 1]:
                depth -= 1
            elif c == 91 or c == 123 or c == 34:
                if depth == stack.shape[0]:
                    bigger = np.empty(2 * depth, np.uint8)
                    bigger[:depth] = stack
                    stack = bigger
                stack[depth] = 93 if c == 91 else (125 if c == 123 else 34)
                depth += 1
            elif c == 92:
                if q + 1 < b and data[q + 1] == 34:
                    q += 1
            elif depth == 0 and (c == 44 or c == 125):
                done = True
                break
            q += 1
        if done:
            vend[i] = q
        else:
            vstart[i] = -2
            vend[i] = -2


@_jit
def number_prefix_end(data, start, end, vtype, out):
    """visitParam numbers: the longest prefix of data[start:end] that can be a number (sign, digits,
    '.', exponent); string values (vtype 1) keep their range."""
    for i in range(start.shape[0]):
        if vtype[i] != 2:
            out[i] = end[i]
            continue
        p = start[i]
        e = end[i]
        while p < e:
            c = data[p]
            if (48 <= c <= 57) or c == 45 or c == 43 or c == 46 or c == 101 or c == 69:
                p += 1
            else:
                break
        out[i] = p


@_jit
def visit_string_end(data, offsets, vstart, vend):
    """End of the JSON string token at vstart[i] (proper escapes), -1 if it is not one."""
    for i in range(vstart.shape[0]):
        p = vstart[i]
        vend[i] = -1
        if p < 0 or p >= offsets[i + 1] or data[p] != 34:
            continue
        vend[i] = _string_end(data, p, offsets[i + 1])


_POW10 = np.array([10.0 ** k for k in range(23)])


@_jit
def fast_floats(data, start, end, out, ok):
    """Clinger's fast path: a decimal number data[start:end] whose digits fit in 2^53 and whose
    decimal exponent is within +-22 is exactly mantissa * 10^exp (one correctly rounded IEEE
    operation). ok[i] is False for everything else (the caller's exact parser takes those)."""
    for i in range(start.shape[0]):
        p = start[i]
        e = end[i]
        ok[i] = False
        if p >= e:
            continue
        neg = False
        if data[p] == 45:
            neg = True
            p += 1
        mant = 0
        digits = 0
        exp10 = 0
        seen = False
        while p < e and 48 <= data[p] <= 57:
            if digits < 19:
                mant = mant * 10 + (data[p] - 48)
                if mant > 0:
                    digits += 1
            else:
                exp10 += 1
            seen = True
            p += 1
        if p < e and data[p] == 46:
            p += 1
            frac = False
            while p < e and 48 <= data[p] <= 57:
                if digits < 19:
                    mant = mant * 10 + (data[p] - 48)
                    if mant > 0:
                        digits += 1
                    exp10 -= 1
                frac = True
                p += 1
            if not frac and not seen:
                continue
            seen = True
        if not seen:
            continue
        if p < e and (data[p] == 101 or data[p] == 69):
            p += 1
            eneg = False
            if p < e and (data[p] == 43 or data[p] == 45):
                eneg = data[p] == 45
                p += 1
            ev = 0
            got = False
            while p < e and 48 <= data[p] <= 57:
                if ev < 10000:
                    ev = ev * 10 + (data[p] - 48)
                got = True
                p += 1
            if not got:
                continue
            exp10 += -ev if eneg else ev
        if p != e or mant >= 9007199254740992 or exp10 < -22 or exp10 > 22:
            continue
        v = float(mant)
        if exp10 < 0:
            v = v / _POW10[-exp10]
        elif exp10 > 0:
            v = v * _POW10[exp10]
        out[i] = -v if neg else v
        ok[i] = True


@_jit
def unescape_compact(data, start, end, sel, out, offsets):
    """String tokens data[start[i]:end[i]] (quotes included) of the rows with sel[i] decoded
    back to back into out; offsets (n + 1) delimit the rows ('' where sel is False)."""
    w = 0
    offsets[0] = 0
    for i in range(start.shape[0]):
        if sel[i]:
            w = decode_into(data, start[i] + 1, end[i] - 1, out, w)
        offsets[i + 1] = w


@_jit
def visit_ints(data, offsets, vstart, signed, out):
    """simpleJSON/visitParam integers: the integer prefix right after the colon (inside quotes too:
    ``"-12x"`` reads -12; ``1.9`` and ``1e3`` read 1), 0 when there are no digits, when the value
    overflows, or for a negative UInt. out is uint64 (a signed result is its two's complement)."""
    for i in range(vstart.shape[0]):
        out[i] = 0
        p = vstart[i]
        if p < 0:
            continue
        b = offsets[i + 1]
        if p < b and data[p] == 34:
            p += 1
        neg = False
        if p < b and (data[p] == 45 or data[p] == 43):
            neg = data[p] == 45
            p += 1
        acc = np.uint64(0)
        digits = 0
        overflow = False
        while p < b and 48 <= data[p] <= 57:
            d = np.uint64(data[p] - 48)
            if acc > (np.uint64(18446744073709551615) - d) // np.uint64(10):
                overflow = True
            acc = acc * np.uint64(10) + d
            digits += 1
            p += 1
        if digits == 0 or overflow:
            continue
        if signed:
            limit = np.uint64(9223372036854775808) if neg else np.uint64(9223372036854775807)
            if acc > limit:
                continue
            out[i] = (~acc + np.uint64(1)) if neg else acc
        elif not neg or acc == 0:
            out[i] = acc
