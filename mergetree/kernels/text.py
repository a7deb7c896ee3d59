"""Byte and UTF-8 kernels of the string long tail (numba, ``nogil=True, cache=True``): case
mapping through code-point tables, code-point lengths/offsets (substringUTF8, reverseUTF8,
padding), hex/unhex, base64, toValidUTF8, ASCII case-insensitive search and substring counts.

Every kernel maps String columns as (offsets, bytes) to (offsets, bytes) or to a number per
row; invalid UTF-8 bytes count as one code point each and are copied unchanged (as in
ClickHouse). Plain-Python twins live in tests/test_functions_strings_utf8.py.
"""

from __future__ import annotations

import numba
import numpy as np

_jit = numba.njit(nogil=True, cache=True)
_inline = numba.njit(nogil=True, cache=True, inline="always")


@_inline
def _seq_len(c):
    """Length of the UTF-8 sequence a lead byte announces (1 for a stray byte)."""
    if c < 0x80:
        return 1
    if c >= 0xF0:
        return 4 if c < 0xF8 else 1
    if c >= 0xE0:
        return 3
    if c >= 0xC0:
        return 2
    return 1


@_inline
def _decode(data, p, e):
    """(code point, byte length) at p; (-1, 1) for an invalid or truncated sequence."""
    c = np.int64(data[p])
    if c < 0x80:
        return c, 1
    k = _seq_len(data[p])
    if k == 1 or p + k > e:
        return -1, 1
    cp = c & (0x1F if k == 2 else (0x0F if k == 3 else 0x07))
    for j in range(1, k):
        b = np.int64(data[p + j])
        if (b & 0xC0) != 0x80:
            return -1, 1
        cp = (cp << 6) | (b & 0x3F)
    if (k == 2 and cp < 0x80) or (k == 3 and cp < 0x800) or (k == 4 and (cp < 0x10000 or cp > 0x10FFFF)):
        return -1, 1
    if 0xD800 <= cp <= 0xDFFF:
        return -1, 1
    return cp, k


@_inline
def _is_letter(letters, cp):
    return cp >= 0 and cp < letters.shape[0] and letters[cp] != 0


@_jit
def case_map(offsets, data, table_off, table_data, letters, final_sigma):
    """Replace each code point cp < len(table_off) - 1 that has a mapping (a non-empty
    table_data[table_off[cp]:table_off[cp + 1]]) by its UTF-8 bytes; other bytes are copied.
    With final_sigma, a capital sigma after a letter and not before one becomes 'ς'."""
    n = offsets.shape[0] - 1
    limit = table_off.shape[0] - 1
    cap = data.shape[0] * 3 + 16
    out = np.empty(cap, np.uint8)
    out_off = np.empty(n + 1, np.int64)
    out_off[0] = 0
    w = 0
    for i in range(n):
        p = offsets[i]
        e = offsets[i + 1]
        prev = -1
        while p < e:
            cp, k = _decode(data, p, e)
            if final_sigma and cp == 0x3A3 and _is_letter(letters, prev):
                nxt = -1
                if p + k < e:
                    nxt, _k2 = _decode(data, p + k, e)
                if not _is_letter(letters, nxt):
                    out[w] = 0xCF
                    out[w + 1] = 0x82
                    w += 2
                    p += k
                    prev = cp
                    continue
            prev = cp
            if cp >= 0 and cp < limit and table_off[cp + 1] > table_off[cp]:
                for j in range(table_off[cp], table_off[cp + 1]):
                    out[w] = table_data[j]
                    w += 1
            else:
                for j in range(k):
                    out[w] = data[p + j]
                    w += 1
            p += k
        out_off[i + 1] = w
    return out_off, out[:w].copy()


@_jit
def utf8_starts(offsets, data):
    """Per row, the number of code points (a stray byte counts as one)."""
    n = offsets.shape[0] - 1
    out = np.empty(n, np.int64)
    for i in range(n):
        p = offsets[i]
        e = offsets[i + 1]
        c = 0
        while p < e:
            _cp, k = _decode(data, p, e)
            p += k
            c += 1
        out[i] = c
    return out


@_inline
def _step(c):
    """ClickHouse's UTF8::seqLength: the sequence length its lead byte announces (1 for ASCII,
    a stray continuation byte or 0xF8-0xFF)."""
    if c < 0xC0:
        return 1
    if c < 0xE0:
        return 2
    if c < 0xF0:
        return 3
    if c < 0xF8:
        return 4
    return 1


@_inline
def _advance(data, p, e, count):
    """Byte position after `count` code points from p (clamped to e), stepping by the lead
    byte's sequence length as ClickHouse does."""
    while count > 0 and p < e:
        p = min(p + _step(data[p]), e)
        count -= 1
    return p


@_inline
def _back(data, b, p, count):
    """(position, steps) after stepping back up to `count` code points from p towards b: one
    byte, then over continuation bytes (ClickHouse's backward UTF-8 step)."""
    steps = 0
    while steps < count and p > b:
        p -= 1
        while p > b and (data[p] & 0xC0) == 0x80:
            p -= 1
        steps += 1
    return p, steps


@_jit
def substring_utf8(offsets, data, off, ln, has_len):
    """(starts, ends) of substringUTF8(s, off[, ln]): 1-based offsets step forward by lead-byte
    lengths, negative ones step back from the end over continuation bytes; a length counts
    from the (possibly virtual, before the start) beginning, a negative length stops that many
    code points before the end."""
    n = offsets.shape[0] - 1
    starts = np.empty(n, np.int64)
    ends = np.empty(n, np.int64)
    for i in range(n):
        b = offsets[i]
        e = offsets[i + 1]
        o = off[i if off.shape[0] > 1 else 0]
        if o == 0:
            starts[i] = b
            ends[i] = b
            continue
        deficit = 0
        if o > 0:
            s = _advance(data, b, e, o - 1)
        else:
            s, steps = _back(data, b, e, -o)
            deficit = -o - steps
        if not has_len:
            starts[i] = s
            ends[i] = e
            continue
        l = ln[i if ln.shape[0] > 1 else 0]
        if l >= 0:
            t = _advance(data, s, e, max(l - deficit, 0))
        else:
            t, _st = _back(data, b, e, -l)
            if t < s:
                t = s
        starts[i] = s
        ends[i] = t
    return starts, ends


@_jit
def reverse_utf8(offsets, data, by_code_point):
    n = offsets.shape[0] - 1
    out = np.empty(data.shape[0], np.uint8)
    for i in range(n):
        b = offsets[i]
        e = offsets[i + 1]
        if not by_code_point:
            for j in range(e - b):
                out[b + j] = data[e - 1 - j]
            continue
        p = b
        while p < e:
            # ClickHouse takes the sequence length from the lead byte alone
            # reverseUTF8 has its own lead-byte rule: < 0xBF one byte ... >= 0xF0 four bytes
            c = data[p]
            k = 1 if c < 0xBF else (2 if c < 0xE0 else (3 if c < 0xF0 else 4))
            if p + k > e:  # a truncated sequence at the end goes byte by byte
                k = 1
            dst = e - (p - b) - k
            for j in range(k):
                out[dst + j] = data[p + j]
            p += k
    return offsets.copy(), out


@_jit
def pad(offsets, data, length, pad_bytes, left, utf8):
    """leftPad/rightPad(s, length, pad): pad to `length` bytes (or code points when utf8) by
    repeating pad, or truncate to `length`."""
    n = offsets.shape[0] - 1
    pad_n = pad_bytes.shape[0]
    # pad code point boundaries
    pad_bounds = np.empty(pad_n + 1, np.int64)
    m = 0
    p = 0
    while p < pad_n:
        pad_bounds[m] = p
        p = min(p + (_step(pad_bytes[p]) if utf8 else 1), pad_n)
        m += 1
    pad_bounds[m] = pad_n
    out_off = np.empty(n + 1, np.int64)
    out_off[0] = 0
    total = 0
    for i in range(n):
        b = offsets[i]
        e = offsets[i + 1]
        L = length[i if length.shape[0] > 1 else 0]
        cur = count_code_points(data, b, e) if utf8 else e - b
        if L <= cur:
            keep = _cut_code_points(data, b, e, L) - b if utf8 else L
            total += max(keep, 0)
        else:
            need = L - cur
            add = 0
            if m > 0:
                full = need // m
                rest = need - full * m
                add = full * pad_n + pad_bounds[rest]
            total += (e - b) + add
        out_off[i + 1] = total
    out = np.empty(total, np.uint8)
    w = 0
    for i in range(n):
        b = offsets[i]
        e = offsets[i + 1]
        L = length[i if length.shape[0] > 1 else 0]
        cur = count_code_points(data, b, e) if utf8 else e - b
        if L <= cur:
            keep = _cut_code_points(data, b, e, L) - b if utf8 else L
            for j in range(max(keep, 0)):
                out[w] = data[b + j]
                w += 1
            continue
        need = L - cur
        if not left:
            for j in range(b, e):
                out[w] = data[j]
                w += 1
        if m > 0:
            full = need // m
            rest = need - full * m
            for _ in range(full):
                for j in range(pad_n):
                    out[w] = pad_bytes[j]
                    w += 1
            for j in range(pad_bounds[rest]):
                out[w] = pad_bytes[j]
                w += 1
        if left:
            for j in range(b, e):
                out[w] = data[j]
                w += 1
        out_off[i + 1] = w
    return out_off, out


@_jit
def _cut_code_points(data, b, e, count):
    """End of the first `count` code points when code points start at non-continuation bytes."""
    seen = 0
    for p in range(b, e):
        if (data[p] & 0xC0) != 0x80:
            if seen == count:
                return p
            seen += 1
    return e


@_jit
def count_code_points(data, b, e):
    """lengthUTF8's count: the bytes that are not continuation bytes (0x80-0xBF)."""
    c = 0
    for p in range(b, e):
        if (data[p] & 0xC0) != 0x80:
            c += 1
    return c


@_jit
def utf8_len(data, b, e):
    """Code points in data[b:e], stepping by lead-byte sequence lengths (substringUTF8, pads,
    positionUTF8; lengthUTF8 instead counts the bytes that are not continuation bytes)."""
    c = 0
    p = b
    while p < e:
        p = min(p + _step(data[p]), e)
        c += 1
    return c


@_jit
def repeat(offsets, data, times):
    n = offsets.shape[0] - 1
    out_off = np.empty(n + 1, np.int64)
    out_off[0] = 0
    for i in range(n):
        t = max(times[i if times.shape[0] > 1 else 0], 0)
        out_off[i + 1] = out_off[i] + (offsets[i + 1] - offsets[i]) * t
    out = np.empty(out_off[n], np.uint8)
    w = 0
    for i in range(n):
        t = max(times[i if times.shape[0] > 1 else 0], 0)
        for _ in range(t):
            for j in range(offsets[i], offsets[i + 1]):
                out[w] = data[j]
                w += 1
    return out_off, out


_HEX_DIGITS = np.frombuffer(b"0123456789ABCDEF", np.uint8).copy()


@_jit
def hex_encode(offsets, data):
    n = offsets.shape[0] - 1
    out = np.empty(data.shape[0] * 2, np.uint8)
    for j in range(offsets[0], offsets[n]):
        c = data[j]
        out[2 * (j - offsets[0])] = _HEX_DIGITS[c >> 4]
        out[2 * (j - offsets[0]) + 1] = _HEX_DIGITS[c & 15]
    return (offsets - offsets[0]) * 2, out[:2 * (offsets[n] - offsets[0])]


@_inline
def _unhex_digit(c):
    if 48 <= c <= 57:
        return np.int64(c) - 48
    if 65 <= c <= 70:
        return np.int64(c) - 55
    if 97 <= c <= 102:
        return np.int64(c) - 87
    return np.int64(255)


@_jit
def unhex(offsets, data):
    """ClickHouse unhex: an odd length takes the first digit alone; a non-hex character counts
    as 0xFF in (high * 16 + low) & 0xFF."""
    n = offsets.shape[0] - 1
    out_off = np.empty(n + 1, np.int64)
    out_off[0] = 0
    out = np.empty(data.shape[0] // 2 + n + 1, np.uint8)
    w = 0
    for i in range(n):
        p = offsets[i]
        e = offsets[i + 1]
        if (e - p) % 2 == 1:
            out[w] = np.uint8(_unhex_digit(data[p]) & 0xFF)
            w += 1
            p += 1
        while p < e:
            out[w] = np.uint8((_unhex_digit(data[p]) * 16 + _unhex_digit(data[p + 1])) & 0xFF)
            w += 1
            p += 2
        out_off[i + 1] = w
    return out_off, out[:w].copy()


_B64 = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", np.uint8).copy()
_B64URL = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", np.uint8).copy()


@_jit
def base64_encode(offsets, data, url):
    """Standard base64 with '=' padding; the URL variant (-_) drops the padding."""
    alpha = _B64URL if url else _B64
    n = offsets.shape[0] - 1
    out_off = np.empty(n + 1, np.int64)
    out_off[0] = 0
    for i in range(n):
        ln = offsets[i + 1] - offsets[i]
        k = ((ln + 2) // 3) * 4
        if url:
            k = (ln // 3) * 4 + (0 if ln % 3 == 0 else ln % 3 + 1)
        out_off[i + 1] = out_off[i] + k
    out = np.empty(out_off[n], np.uint8)
    w = 0
    for i in range(n):
        p = offsets[i]
        e = offsets[i + 1]
        while p + 3 <= e:
            v = (np.int64(data[p]) << 16) | (np.int64(data[p + 1]) << 8) | np.int64(data[p + 2])
            out[w] = alpha[(v >> 18) & 63]
            out[w + 1] = alpha[(v >> 12) & 63]
            out[w + 2] = alpha[(v >> 6) & 63]
            out[w + 3] = alpha[v & 63]
            w += 4
            p += 3
        r = e - p
        if r == 1:
            v = np.int64(data[p]) << 16
            out[w] = alpha[(v >> 18) & 63]
            out[w + 1] = alpha[(v >> 12) & 63]
            w += 2
            if not url:
                out[w] = 61
                out[w + 1] = 61
                w += 2
        elif r == 2:
            v = (np.int64(data[p]) << 16) | (np.int64(data[p + 1]) << 8)
            out[w] = alpha[(v >> 18) & 63]
            out[w + 1] = alpha[(v >> 12) & 63]
            out[w + 2] = alpha[(v >> 6) & 63]
            w += 3
            if not url:
                out[w] = 61
                w += 1
    return out_off, out


@_inline
def _b64_value(c, url):
    if 65 <= c <= 90:
        return np.int64(c) - 65
    if 97 <= c <= 122:
        return np.int64(c) - 71
    if 48 <= c <= 57:
        return np.int64(c) + 4
    if url:
        if c == 45:
            return np.int64(62)
        if c == 95:
            return np.int64(63)
    else:
        if c == 43:
            return np.int64(62)
        if c == 47:
            return np.int64(63)
    return np.int64(-1)


@_jit
def base64_decode(offsets, data, url):
    """(offsets, bytes, ok per row). ASCII whitespace is skipped; the rest must be whole
    4-character groups (the last may end in one or two '='; padding is optional for the URL
    variant). A bad row decodes to '' with ok = False."""
    n = offsets.shape[0] - 1
    out = np.empty(data.shape[0], np.uint8)
    out_off = np.empty(n + 1, np.int64)
    out_off[0] = 0
    ok = np.ones(n, np.bool_)
    w = 0
    vals = np.empty(4, np.int64)
    for i in range(n):
        w0 = w
        good = True
        k = 0
        pads = 0
        for p in range(offsets[i], offsets[i + 1]):
            c = data[p]
            if c == 32 or c == 9 or c == 10 or c == 13 or c == 12:
                continue
            if c == 61:
                pads += 1
                if pads > 2:
                    good = False
                    break
                vals[k] = 0
                k += 1
            else:
                if pads > 0:
                    good = False
                    break
                v = _b64_value(c, url)
                if v < 0:
                    good = False
                    break
                vals[k] = v
                k += 1
            if k == 4:
                x = (vals[0] << 18) | (vals[1] << 12) | (vals[2] << 6) | vals[3]
                out[w] = np.uint8((x >> 16) & 255)
                w += 1
                if pads < 2:
                    out[w] = np.uint8((x >> 8) & 255)
                    w += 1
                if pads < 1:
                    out[w] = np.uint8(x & 255)
                    w += 1
                k = 0
        if good and k != 0:
            if url and pads == 0 and k >= 2:
                x = (vals[0] << 18) | (vals[1] << 12) | ((vals[2] << 6) if k > 2 else 0)
                out[w] = np.uint8((x >> 16) & 255)
                w += 1
                if k == 3:
                    out[w] = np.uint8((x >> 8) & 255)
                    w += 1
            else:
                good = False
        if not good:
            ok[i] = False
            w = w0
        out_off[i + 1] = w
    return out_off, out[:w].copy(), ok


@_jit
def to_valid_utf8(offsets, data):
    """Each maximal run of bytes that are not part of a valid UTF-8 sequence -> U+FFFD."""
    n = offsets.shape[0] - 1
    out = np.empty(data.shape[0] * 3 + 3, np.uint8)
    out_off = np.empty(n + 1, np.int64)
    out_off[0] = 0
    w = 0
    for i in range(n):
        p = offsets[i]
        e = offsets[i + 1]
        bad = False
        while p < e:
            cp, k = _decode(data, p, e)
            if cp < 0:
                if not bad:
                    out[w] = 0xEF
                    out[w + 1] = 0xBF
                    out[w + 2] = 0xBD
                    w += 3
                    bad = True
                p += 1
                continue
            bad = False
            for j in range(k):
                out[w] = data[p + j]
                w += 1
            p += k
        out_off[i + 1] = w
    return out_off, out[:w].copy()


@_inline
def _lower_ascii(c):
    return c + 32 if 65 <= c <= 90 else c


@_jit
def find_ci(offsets, data, needle, start_pos, utf8_positions, case_insensitive):
    """1-based position of the first occurrence of needle (ASCII case-insensitive when asked)
    at or after byte 0 of each row; in code points when utf8_positions; 0 if absent."""
    n = offsets.shape[0] - 1
    k = needle.shape[0]
    out = np.zeros(n, np.int64)
    for i in range(n):
        b = offsets[i]
        e = offsets[i + 1]
        found = -1
        for p in range(b, e - k + 1):
            ok = True
            for j in range(k):
                x = data[p + j]
                y = needle[j]
                if case_insensitive:
                    x = _lower_ascii(x)
                    y = _lower_ascii(y)
                if x != y:
                    ok = False
                    break
            if ok:
                found = p
                break
        if found < 0:
            if k == 0:
                out[i] = 1
            continue
        out[i] = (count_code_points(data, b, found) + 1) if utf8_positions else (found - b + 1)
    return out


@_jit
def count_substrings(offsets, data, needle, case_insensitive):
    n = offsets.shape[0] - 1
    k = needle.shape[0]
    out = np.zeros(n, np.uint64)
    if k == 0:
        return out
    for i in range(n):
        p = offsets[i]
        e = offsets[i + 1]
        c = 0
        while p + k <= e:
            ok = True
            for j in range(k):
                x = data[p + j]
                y = needle[j]
                if case_insensitive:
                    x = _lower_ascii(x)
                    y = _lower_ascii(y)
                if x != y:
                    ok = False
                    break
            if ok:
                c += 1
                p += k
            else:
                p += 1
        out[i] = c
    return out


@_jit
def join_array(arr_offsets, offsets, data, sep):
    """arrayStringConcat: the strings of each array row joined by sep."""
    n = arr_offsets.shape[0] - 1
    s = sep.shape[0]
    out_off = np.empty(n + 1, np.int64)
    out_off[0] = 0
    for i in range(n):
        a = arr_offsets[i]
        z = arr_offsets[i + 1]
        out_off[i + 1] = out_off[i] + (offsets[z] - offsets[a]) + max(z - a - 1, 0) * s
    out = np.empty(out_off[n], np.uint8)
    w = 0
    for i in range(n):
        for el in range(arr_offsets[i], arr_offsets[i + 1]):
            if el > arr_offsets[i]:
                for j in range(s):
                    out[w] = sep[j]
                    w += 1
            for j in range(offsets[el], offsets[el + 1]):
                out[w] = data[j]
                w += 1
    return out_off, out


@_jit
def parse_decimal(offsets, data, scale):
    """Decimal text -> (scaled int64, ok): [+-]digits[.digits][e[+-]digits]; digits past `scale` are truncated (toDecimal32('1.555', 2) = 1.55). ok is False
    for bad text and for values beyond int64."""
    n = offsets.shape[0] - 1
    out = np.zeros(n, np.int64)
    ok = np.zeros(n, np.bool_)
    for i in range(n):
        p = offsets[i]
        e = offsets[i + 1]
        neg = False
        if p < e and (data[p] == 45 or data[p] == 43):
            neg = data[p] == 45
            p += 1
        digits = np.int64(0)
        frac_digits = 0
        seen = 0
        seen_dot = False
        good = True
        big = False
        exp = 0
        while p < e:
            c = data[p]
            if 48 <= c <= 57:
                seen += 1
                if seen_dot:
                    frac_digits += 1
                if digits > 900000000000000000:
                    big = True
                else:
                    digits = digits * 10 + (c - 48)
            elif c == 46 and not seen_dot:
                seen_dot = True
            elif (c == 101 or c == 69) and seen > 0:
                p += 1
                eneg = False
                if p < e and (data[p] == 45 or data[p] == 43):
                    eneg = data[p] == 45
                    p += 1
                if p >= e:
                    good = False
                while p < e:
                    d = data[p]
                    if not (48 <= d <= 57):
                        good = False
                        break
                    exp = exp * 10 + (d - 48)
                    if exp > 100:
                        exp = 100
                    p += 1
                if eneg:
                    exp = -exp
                break
            else:
                good = False
                break
            p += 1
        if not good or seen == 0 or big:
            continue
        shift = scale - frac_digits + exp
        v = digits
        if shift >= 0:
            for _ in range(shift):
                if v > 922337203685477580:
                    big = True
                    break
                v *= 10
        else:
            for _ in range(-shift):
                v //= 10
        if big:
            continue
        out[i] = -v if neg else v
        ok[i] = True
    return out, ok


@_jit
def format_decimal(values, scale):
    """(offsets, bytes) of scaled integers as Decimal text without trailing fraction zeros
    (ClickHouse prints toDecimal32(100, 2) as 100 and -0.50 as -0.5)."""
    n = values.shape[0]
    out = np.empty(n * 22, np.uint8)
    out_off = np.empty(n + 1, np.int64)
    out_off[0] = 0
    digits = np.empty(20, np.uint8)
    w = 0
    for i in range(n):
        v = values[i]
        if v < 0:
            out[w] = 45
            w += 1
        # magnitude as uint64 digits, least significant first
        m = np.uint64(-v) if v < 0 else np.uint64(v)
        k = 0
        while True:
            digits[k] = np.uint8(m % np.uint64(10))
            m = m // np.uint64(10)
            k += 1
            if m == 0:
                break
        while k <= scale:
            digits[k] = 0
            k += 1
        for j in range(k - 1, scale - 1, -1):
            out[w] = 48 + digits[j]
            w += 1
        keep = 0
        for j in range(scale):
            if digits[j] != 0:
                keep = scale - j
                break
        if keep > 0:
            out[w] = 46
            w += 1
            for j in range(scale - 1, scale - 1 - keep, -1):
                out[w] = 48 + digits[j]
                w += 1
        out_off[i + 1] = w
    return out_off, out[:w].copy()


@_inline
def _token_byte(c):
    # splitByNonAlpha: ASCII letters and digits, and every byte of a multi-byte character
    return (48 <= c <= 57) or (65 <= c <= 90) or (97 <= c <= 122) or c >= 0x80


@_jit
def tokens(offsets, data):
    """(pieces per row, starts, ends) of the maximal runs of token bytes (tokens())."""
    n = offsets.shape[0] - 1
    pieces = np.zeros(n, np.int64)
    total = 0
    for i in range(n):
        inside = False
        for p in range(offsets[i], offsets[i + 1]):
            t = _token_byte(data[p])
            if t and not inside:
                pieces[i] += 1
            inside = t
        total += pieces[i]
    starts = np.empty(total, np.int64)
    ends = np.empty(total, np.int64)
    w = 0
    for i in range(n):
        inside = False
        e = offsets[i + 1]
        for p in range(offsets[i], e):
            t = _token_byte(data[p])
            if t and not inside:
                starts[w] = p
            elif inside and not t:
                ends[w] = p
                w += 1
            inside = t
        if inside:
            ends[w] = e
            w += 1
    return pieces, starts, ends


@_jit
def ngrams(offsets, data, size):
    """(pieces per row, starts, ends) of the n-grams of `size` code points (lead-byte steps)."""
    n = offsets.shape[0] - 1
    pieces = np.zeros(n, np.int64)
    for i in range(n):
        pieces[i] = max(utf8_len(data, offsets[i], offsets[i + 1]) - size + 1, 0)
    total = pieces.sum()
    starts = np.empty(total, np.int64)
    ends = np.empty(total, np.int64)
    w = 0
    for i in range(n):
        b = offsets[i]
        e = offsets[i + 1]
        p = b
        for _ in range(pieces[i]):
            starts[w] = p
            ends[w] = _advance(data, p, e, size)
            w += 1
            p = _advance(data, p, e, 1)
    return pieces, starts, ends
