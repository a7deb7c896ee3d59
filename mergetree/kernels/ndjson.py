"""NDJSON byte scanner: flat JSON objects with known keys -> value spans per key, in one pass.

The Events API's usual body is NDJSON whose lines are flat objects (``{"k": "v", "n": 1, ...}``).
Parsing it with orjson builds a dict per row and a Python object per value, then the
conversion gathers them again column by column. These kernels read the bytes once instead:

1. ``scan(data, key_offsets, key_data, kind, start, end, counts)``: for every line, the kind
   and byte span of each known key's value (``kind[k, row]``: ``K_*`` below; for strings the
   span is inside the quotes); ``counts[k, K]`` counts key k's values of kind K (``K >= 1``)
   and ``counts[k, 0]`` the bytes of its string values (zeroed by the caller). Keys are
   matched trying first the key seen at the same place in the previous line. Unknown keys are skipped, a repeated key keeps its last value (as
   orjson does). Returns ``(rows, status)``; ``status`` is 0 when the whole body was read, else
   the 1-based byte position where the scanner gave up: anything it does not handle exactly
   like orjson (a nested object or array value, a key with escapes, a malformed line, a lone
   surrogate, invalid UTF-8, a control character, a JSON array body, a line with two objects,
   an object spanning lines) makes it give up, and the caller takes the general orjson path,
   which also reports errors and quarantines rows. The scanner is strict where orjson is:
   number grammar (no leading zeros, digits after ``.``/``e``), escapes, UTF-8 (no surrogates,
   no overlongs), no raw control characters in strings.
2. ``gather_strings(data, kind, start, end, offsets, out)``: the string values of one key as a
   String column (``offsets``/``out``), escapes decoded to UTF-8 (``\\uXXXX`` and surrogate
   pairs); integers and true/false get their JSON text, other rows ``""``. Returns the bytes written.
3. ``parse_ints(data, kind, start, end, out)``: integer values (``K_INT``)
   to int64; returns False when a value is beyond int64 (the caller gives up).
4. ``pack_spans(data, kind, start, end, width, out)``: the spans of one key as rows of an
   (n, width) byte matrix, NUL-padded (numbers for numpy's float parser, fixed-shape date text).

Each kernel's Python source doubles as its plain-Python twin (``kernel.py_func``); the tests
compare the whole fast path with the orjson path on generated bodies.
"""

from __future__ import annotations

import numba
import numpy as np

from mergetree.kernels.json import decode_into

K_MISSING, K_STRING, K_ESCAPED, K_INT, K_FLOAT, K_TRUE, K_FALSE, K_NULL = range(8)

_jit = numba.njit(nogil=True, cache=True)


@_jit
def _is_hex(c):
    return (48 <= c <= 57) or (65 <= c <= 70) or (97 <= c <= 102)


@_jit
def _hex4(data, p):
    v = 0
    for i in range(4):
        c = data[p + i]
        if c <= 57:
            d = c - 48
        elif c <= 70:
            d = c - 55
        else:
            d = c - 87
        v = v * 16 + d
    return v


@_jit
def _utf8_len(data, p, n):
    """Length of the valid UTF-8 sequence at p (lead byte >= 0x80), or 0 when invalid."""
    c = data[p]
    if 0xC2 <= c <= 0xDF:
        need, lo, hi = 1, 0x80, 0xBF
    elif c == 0xE0:
        need, lo, hi = 2, 0xA0, 0xBF
    elif 0xE1 <= c <= 0xEC or 0xEE <= c <= 0xEF:
        need, lo, hi = 2, 0x80, 0xBF
    elif c == 0xED:
        need, lo, hi = 2, 0x80, 0x9F
    elif c == 0xF0:
        need, lo, hi = 3, 0x90, 0xBF
    elif 0xF1 <= c <= 0xF3:
        need, lo, hi = 3, 0x80, 0xBF
    elif c == 0xF4:
        need, lo, hi = 3, 0x80, 0x8F
    else:
        return 0
    if p + need >= n:
        return 0
    c1 = data[p + 1]
    if c1 < lo or c1 > hi:
        return 0
    for i in range(2, need + 1):
        ci = data[p + i]
        if ci < 0x80 or ci > 0xBF:
            return 0
    return need + 1


@_jit
def _string(data, p, n):
    """p is just after the opening quote. Returns (closing quote position, escaped?) or (-1, _)."""
    escaped = False
    while p < n:
        c = data[p]
        if c == 34:
            return p, escaped
        if c == 92:
            escaped = True
            if p + 1 >= n:
                return -1, escaped
            e = data[p + 1]
            if e == 117:
                if p + 6 > n:
                    return -1, escaped
                for i in range(2, 6):
                    if not _is_hex(data[p + i]):
                        return -1, escaped
                u = _hex4(data, p + 2)
                if 0xDC00 <= u <= 0xDFFF:
                    return -1, escaped          # a low surrogate first: orjson refuses
                if 0xD800 <= u <= 0xDBFF:       # needs a low surrogate right after
                    if p + 12 > n or data[p + 6] != 92 or data[p + 7] != 117:
                        return -1, escaped
                    for i in range(8, 12):
                        if not _is_hex(data[p + i]):
                            return -1, escaped
                    u2 = _hex4(data, p + 8)
                    if not 0xDC00 <= u2 <= 0xDFFF:
                        return -1, escaped
                    p += 12
                else:
                    p += 6
            elif e == 34 or e == 92 or e == 47 or e == 98 or e == 102 or e == 110 or e == 114 or e == 116:
                p += 2
            else:
                return -1, escaped
        elif c < 32:
            return -1, escaped
        elif c < 128:
            p += 1
        else:
            m = _utf8_len(data, p, n)
            if m == 0:
                return -1, escaped
            p += m
    return -1, escaped


@_jit
def _number(data, p, n):
    """Strict JSON number at p. Returns (end, is_float) or (-1, _)."""
    if data[p] == 45:
        p += 1
    if p >= n:
        return -1, False
    c = data[p]
    if c == 48:
        p += 1
    elif 49 <= c <= 57:
        while p < n and 48 <= data[p] <= 57:
            p += 1
    else:
        return -1, False
    is_float = False
    if p < n and data[p] == 46:
        is_float = True
        p += 1
        q = p
        while p < n and 48 <= data[p] <= 57:
            p += 1
        if p == q:
            return -1, False
    if p < n and (data[p] == 101 or data[p] == 69):
        is_float = True
        p += 1
        if p < n and (data[p] == 43 or data[p] == 45):
            p += 1
        q = p
        while p < n and 48 <= data[p] <= 57:
            p += 1
        if p == q:
            return -1, False
    if p < n and 48 <= data[p] <= 57:      # a leading zero followed by digits
        return -1, False
    return p, is_float


@_jit
def _literal(data, p, n, a, b, c, d, e, length):
    if p + length > n:
        return False
    if data[p] != a or data[p + 1] != b or data[p + 2] != c or data[p + 3] != d:
        return False
    return length == 4 or data[p + 4] == e


@_jit
def _ws(data, p, n):
    while p < n:
        c = data[p]
        if c == 32 or c == 9 or c == 13:
            p += 1
        else:
            break
    return p


@_jit
def _key_is(data, ks, ke, key_offsets, key_data, k):
    a = key_offsets[k]
    if key_offsets[k + 1] - a != ke - ks:
        return False
    for i in range(ke - ks):
        if key_data[a + i] != data[ks + i]:
            return False
    return True


@_jit
def _match_key(data, ks, ke, key_offsets, key_data, hint):
    """The index of the key data[ks:ke], or -1; ``hint`` (the key expected here) is tried first."""
    nkeys = len(key_offsets) - 1
    if hint < nkeys and _key_is(data, ks, ke, key_offsets, key_data, hint):
        return hint
    for k in range(nkeys):
        if k != hint and _key_is(data, ks, ke, key_offsets, key_data, k):
            return k
    return -1


@_jit
def scan(data, key_offsets, key_data, kind, start, end, counts):
    n = len(data)
    nkeys = len(key_offsets) - 1
    order = np.zeros(nkeys + 1, np.int64)     # order[j]: the key seen at member j of the last line
    for j in range(nkeys + 1):
        order[j] = j
    safe = np.zeros(nkeys, np.bool_)          # a key that is valid JSON string content as it is
    for j in range(nkeys):
        ok = True
        i = key_offsets[j]
        e = key_offsets[j + 1]
        while i < e and ok:
            c = key_data[i]
            if c == 34 or c == 92 or c < 32:
                ok = False
            elif c >= 128:
                m = _utf8_len(key_data, i, e)
                if m == 0:
                    ok = False
                i += max(m, 1)
            else:
                i += 1
        safe[j] = ok
    rows_max = kind.shape[1]
    p = 0
    row = 0
    while p < n:
        p = _ws(data, p, n)
        if p >= n:
            break
        if data[p] == 10:
            p += 1
            continue
        if data[p] != 123 or row >= rows_max:
            return row, p + 1
        p = _ws(data, p + 1, n)
        member = 0
        if p < n and data[p] == 125:
            p += 1
        else:
            while True:
                if p >= n or data[p] != 34:
                    return row, p + 1
                ks = p + 1
                hint = order[member] if member <= nkeys else nkeys
                k = -1
                if hint < nkeys and safe[hint]:     # the key expected here, compared in one go
                    a = key_offsets[hint]
                    q = ks + key_offsets[hint + 1] - a
                    if q < n and data[q] == 34:
                        k = hint
                        for i in range(q - ks):
                            if key_data[a + i] != data[ks + i]:
                                k = -1
                                break
                if k < 0:
                    q = ks
                    while q < n and data[q] != 34:
                        c = data[q]
                        if c == 92 or c < 32:
                            return row, q + 1
                        if c >= 128:
                            m = _utf8_len(data, q, n)
                            if m == 0:
                                return row, q + 1
                            q += m
                        else:
                            q += 1
                    if q >= n:
                        return row, q + 1
                    k = _match_key(data, ks, q, key_offsets, key_data, hint)
                if member <= nkeys and k >= 0:
                    order[member] = k
                member += 1
                p = _ws(data, q + 1, n)
                if p >= n or data[p] != 58:
                    return row, p + 1
                p = _ws(data, p + 1, n)
                if p >= n:
                    return row, p + 1
                c = data[p]
                vs = p
                if c == 34:
                    q = p + 1                      # plain ASCII text first, in a tight loop
                    while q < n:
                        x = data[q]
                        if x == 34 or x == 92 or x < 32 or x >= 128:
                            break
                        q += 1
                    vk = K_STRING
                    if q < n and data[q] == 34:
                        ve = q
                    else:
                        ve, escaped = _string(data, q, n)
                        if ve < 0:
                            return row, p + 1
                        if escaped:
                            vk = K_ESCAPED
                    vs = p + 1
                    p = ve + 1
                elif c == 45 or 48 <= c <= 57:
                    ve, is_float = _number(data, p, n)
                    if ve < 0:
                        return row, p + 1
                    vk = K_FLOAT if is_float else K_INT
                    p = ve
                elif c == 116 and _literal(data, p, n, 116, 114, 117, 101, 0, 4):
                    vk, ve = K_TRUE, p + 4
                    p = ve
                elif c == 102 and _literal(data, p, n, 102, 97, 108, 115, 101, 5):
                    vk, ve = K_FALSE, p + 5
                    p = ve
                elif c == 110 and _literal(data, p, n, 110, 117, 108, 108, 0, 4):
                    vk, ve = K_NULL, p + 4
                    p = ve
                else:
                    return row, p + 1            # nested object/array or garbage: general path
                if k >= 0:
                    old = kind[k, row]
                    if old != K_MISSING:           # a repeated key: the last value wins
                        counts[k, old] -= 1
                        if old == K_STRING or old == K_ESCAPED:
                            counts[k, 0] -= end[k, row] - start[k, row]
                    kind[k, row] = vk
                    start[k, row] = vs
                    end[k, row] = ve
                    counts[k, vk] += 1
                    if vk == K_STRING or vk == K_ESCAPED:
                        counts[k, 0] += ve - vs
                p = _ws(data, p, n)
                if p >= n:
                    return row, p + 1
                if data[p] == 44:
                    p = _ws(data, p + 1, n)
                    continue
                if data[p] == 125:
                    p += 1
                    break
                return row, p + 1
        p = _ws(data, p, n)
        if p < n and data[p] != 10:
            return row, p + 1
        p += 1
        row += 1
    return row, 0


@_jit
def gather_strings(data, kind, start, end, offsets, out):
    w = 0
    rows = len(kind)
    for r in range(rows):
        offsets[r] = w
        k = kind[r]
        if k == K_STRING or k == K_INT or k == K_TRUE or k == K_FALSE:   # numbers, bools: their JSON text
            for i in range(start[r], end[r]):
                out[w] = data[i]
                w += 1
        elif k == K_ESCAPED:
            w = decode_into(data, start[r], end[r], out, w)   # the scanner checked the escapes
    offsets[rows] = w
    return w


@_jit
def parse_ints(data, kind, start, end, out):
    limit = np.uint64(9223372036854775807)
    for r in range(len(kind)):
        if kind[r] != K_INT:
            out[r] = 0
            continue
        p = start[r]
        neg = data[p] == 45
        if neg:
            p += 1
        if end[r] - p > 19:
            return False
        v = np.uint64(0)
        while p < end[r]:
            v = v * np.uint64(10) + np.uint64(data[p] - 48)
            p += 1
        if v > limit + np.uint64(neg):
            return False
        if neg:
            out[r] = -np.int64(v - np.uint64(1)) - 1
        else:
            out[r] = np.int64(v)
    return True


@_jit
def pack_spans(data, kind, start, end, width, out):
    for r in range(len(kind)):
        if kind[r] == K_MISSING or kind[r] == K_NULL:
            continue
        s = start[r]
        for i in range(end[r] - s):
            out[r, i] = data[s + i]


@_jit
def _digits(data, p, count):
    v = 0
    for i in range(count):
        d = data[p + i] - 48
        if d < 0 or d > 9:
            return -1
        v = v * 10 + d
    return v


@_jit
def datetime_seconds(data, kind, start, end, out):
    """'YYYY-MM-DD hh:mm:ss' (or 'T') and 'YYYY-MM-DD' string values -> wall-clock seconds.

    Rows that are not ``K_STRING`` are skipped. Returns False at the first value of another
    shape or with an invalid field (month 13, February 30, hour 24, second 60): the caller
    then takes the general parser, which knows ClickHouse's roll-over rules.
    """
    for r in range(len(kind)):
        if kind[r] != K_STRING:
            continue
        p = start[r]
        width = end[r] - p
        if width != 19 and width != 10:
            return False
        if data[p + 4] != 45 or data[p + 7] != 45:
            return False
        y = _digits(data, p, 4)
        m = _digits(data, p + 5, 2)
        d = _digits(data, p + 8, 2)
        if y < 0 or m < 1 or m > 12 or d < 1:
            return False
        if m == 2:
            leap = (y % 4 == 0 and y % 100 != 0) or y % 400 == 0
            dim = 29 if leap else 28
        elif m == 4 or m == 6 or m == 9 or m == 11:
            dim = 30
        else:
            dim = 31
        if d > dim:
            return False
        secs = 0
        if width == 19:
            if (data[p + 10] != 32 and data[p + 10] != 84) or data[p + 13] != 58 or data[p + 16] != 58:
                return False
            hh = _digits(data, p + 11, 2)
            mm = _digits(data, p + 14, 2)
            ss = _digits(data, p + 17, 2)
            if hh < 0 or hh > 23 or mm < 0 or mm > 59 or ss < 0 or ss > 59:
                return False
            secs = hh * 3600 + mm * 60 + ss
        yy = y - 1 if m <= 2 else y                 # days from civil (H. Hinnant)
        era = yy // 400
        yoe = yy - era * 400
        mp = (m + 9) % 12
        doy = (153 * mp + 2) // 5 + d - 1
        doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
        out[r] = (era * 146097 + doe - 719468) * 86400 + secs
    return True


@_jit
def count_lines(data):
    """Newline bytes + 1 (an upper bound of the rows; ``bytes.count`` is a byte-at-a-time loop)."""
    c = 0
    for i in range(len(data)):
        c += data[i] == 10
    return c + 1
