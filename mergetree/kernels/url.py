"""URL functions over String columns (offsets + bytes), byte-scanning like ClickHouse.

Every extractor is a numba row function ``(data, b, e) -> (s, t)`` giving the byte range
[s, t) of the answer inside the row data[b:e] (``s == t`` for ''). `extract(offsets, data, op)`
runs one of them over a column and returns (starts, ends); `gather` copies the ranges into a
new (offsets, bytes) column and `cut` removes them (cutWWW, cutQueryString...). Token
functions (URLHierarchy, extractURLParameters) count, then fill, (row pieces, starts, ends).

ClickHouse reads one byte past a value (its strings are zero-terminated): ``_at(data, i, e)``
returns 0 at or past the row end to reproduce that. The row-by-row Python twins used by the
tests live in tests/test_functions_url.py.
"""

from __future__ import annotations

import numba
import numpy as np

OP_PROTOCOL = 0
OP_DOMAIN = 1
OP_DOMAIN_NO_WWW = 2
OP_TLD = 3
OP_PATH = 4
OP_PATH_FULL = 5
OP_QUERY = 6
OP_FRAGMENT = 7
OP_QUERY_AND_FRAGMENT = 8
OP_CUT_QUERY = 9            # range removed by cutQueryString
OP_CUT_QUERY_FRAGMENT = 10  # range removed by cutQueryStringAndFragment
OP_CUT_WWW = 11
OP_CUT_FRAGMENT = 12
OP_FIRST_SIGNIFICANT = 13
OP_CUT_TO_FIRST_SIGNIFICANT = 14
OP_NETLOC = 15

_jit = numba.njit(nogil=True, cache=True)
_HEX = np.frombuffer(b"0123456789ABCDEF", np.uint8).copy()
_inline = numba.njit(nogil=True, cache=True, inline="always")


@_inline
def _b(data, i):
    # an unsigned index: no negative-index fix-up on every byte read
    return data[np.uint64(i)]


@_inline
def _at(data, i, e):
    return _b(data, i) if i < e else np.uint8(0)


@_inline
def _alnum(c):
    return (48 <= c <= 57) or (65 <= c <= 90) or (97 <= c <= 122)


_ONES = np.uint64(0x0101010101010101)
_HIGHS = np.uint64(0x8080808080808080)


@_inline
def _word(data, i):
    j = np.uint64(i)  # unsigned: no negative-index fix-up, the 8 loads fuse into one
    return (np.uint64(data[j]) | (np.uint64(data[j + np.uint64(1)]) << np.uint64(8))
            | (np.uint64(data[j + np.uint64(2)]) << np.uint64(16)) | (np.uint64(data[j + np.uint64(3)]) << np.uint64(24))
            | (np.uint64(data[j + np.uint64(4)]) << np.uint64(32)) | (np.uint64(data[j + np.uint64(5)]) << np.uint64(40))
            | (np.uint64(data[j + np.uint64(6)]) << np.uint64(48)) | (np.uint64(data[j + np.uint64(7)]) << np.uint64(56)))


@_inline
def _find(data, i, e, c):
    """First position of byte c in _b(data, i:e) (e if none): 8 bytes at a time (SWAR), then bytes."""
    pattern = _ONES * np.uint64(c)
    while i + 8 <= e:
        x = _word(data, i) ^ pattern
        if (x - _ONES) & ~x & _HIGHS:
            break
        i += 8
    while i < e and _b(data, i) != c:
        i += 1
    return i


@_jit
def _scheme_end(data, b, e):
    """End of the scheme ALPHA *(ALPHA / DIGIT / + - .), or b when there is none."""
    if b >= e:
        return b
    c = _b(data, b)
    if not ((65 <= c <= 90) or (97 <= c <= 122)):
        return b
    p = b + 1
    while p < e:
        c = _b(data, p)
        if not (_alnum(c) or c == 43 or c == 45 or c == 46):
            break
        p += 1
    return p


@_jit
def protocol(data, b, e):
    p = _scheme_end(data, b, e)
    if p == b or e - p < 4:
        return b, b
    if _b(data, p) == 58:  # ':'
        return b, p
    return b, b


@_jit
def _host_ok(pos, dot, start, data, e):
    if dot < 0 or start >= pos or pos - dot == 1:
        return False
    c = _at(data, dot + 1, e)
    return not (c == 58 or c == 47 or c == 63 or c == 35)


@_jit
def host(data, b, e):
    """ClickHouse getURLHost: the host of a URL with or without a scheme, or an empty range
    when it has no dot, a restricted character, or nothing after its last dot."""
    pos = b
    if _at(data, b, e) == 47 and _at(data, b + 1, e) == 47:
        pos = b + 2
    else:
        scheme_end = b + min(e - b, 16)
        pos = b + 1
        while pos < scheme_end:
            c = _b(data, pos)
            if not _alnum(c):
                if c == 46 or c == 45 or c == 43:
                    pass
                elif (c == 32 or c == 9 or c == 60 or c == 62 or c == 37 or c == 123 or c == 125
                      or c == 124 or c == 92 or c == 94 or c == 126 or c == 91 or c == 93 or c == 59
                      or c == 61 or c == 38):
                    return b, b
                else:
                    break
            pos += 1
        if scheme_end - pos > 2 and _b(data, pos) == 58 and _at(data, pos + 1, e) == 47 and _at(data, pos + 2, e) == 47:
            pos += 3
        else:
            pos = b
    dot = -1
    start = pos
    while pos < e:
        c = _b(data, pos)
        if c == 46:
            dot = pos
        elif c == 58 or c == 47 or c == 63 or c == 35:
            break
        elif c == 64:  # '@'
            start = pos + 1
        elif (c == 32 or c == 9 or c == 60 or c == 62 or c == 37 or c == 123 or c == 125 or c == 124
              or c == 92 or c == 94 or c == 126 or c == 91 or c == 93 or c == 59 or c == 61 or c == 38):
            return b, b
        pos += 1
    if _host_ok(pos, dot, start, data, e):
        return start, pos
    return b, b


@_jit
def _is_www(data, s, t):
    return t - s > 4 and _b(data, s) == 119 and _b(data, s + 1) == 119 and _b(data, s + 2) == 119 and _b(data, s + 3) == 46


@_jit
def top_level_domain(data, b, e):
    s, t = host(data, b, e)
    if s == t:
        return b, b
    if _b(data, t - 1) == 46:
        t -= 1
    p = t - 1
    while p >= s and _b(data, p) != 46:
        p -= 1
    if p < s:
        return b, b
    c = _at(data, p + 1, e)
    if 48 <= c <= 57:
        return b, b
    return p + 1, t


@_jit
def path(data, b, e, full):
    p = _find(data, b, e, 47)
    if p == e:
        return b, b
    if _at(data, p + 1, e) == 47:
        p = _find(data, p + 2, e, 47)
        if p == e:
            return b, b
    if full:
        return p, e
    q = p
    while q < e and _b(data, q) != 63 and _b(data, q) != 35:
        q += 1
    return p, q


@_jit
def query_string(data, b, e, with_fragment, leading):
    p = _find(data, b, e, 63)
    if p == e:
        return b, b
    t = e if with_fragment else _find(data, p, e, 35)
    return (p if leading else p + 1), t


@_jit
def fragment(data, b, e, leading):
    p = _find(data, b, e, 35)
    if p == e:
        return b, b
    return (p if leading else p + 1), e


@_jit
def query_and_fragment(data, b, e, leading):
    p = _find(data, b, e, 63)
    if p == e:
        p = _find(data, b, e, 35)
        if p == e:
            return b, b
        return p, e  # a fragment alone keeps its '#', as in ClickHouse
    return (p if leading else p + 1), e


@_jit
def cut_www_range(data, b, e):
    pos = _find(data, b, e, 47)
    if pos == e:
        return b, b
    if pos != b:
        ps, pt = protocol(data, b, e)
        if pos != b + (pt - ps) + 1:
            return b, b
    if e - pos < 2 or _b(data, pos) != 47 or _b(data, pos + 1) != 47:
        return b, b
    pos += 2
    start = pos
    while pos < e:
        c = _b(data, pos)
        if c == 64:
            start = pos + 1
        elif c == 58 or c == 47 or c == 63 or c == 35:
            break
        pos += 1
    if start + 4 < e and _b(data, start) == 119 and _b(data, start + 1) == 119 and _b(data, start + 2) == 119 \
            and _b(data, start + 3) == 46:
        return start, start + 4
    return b, b


@_jit
def _in_tld_list(data, s, t, tld_offsets, tld_data, tld_hashes):
    # binary search of the row's hash in the sorted hashes, then a byte compare
    h = np.uint64(14695981039346656037)
    for i in range(s, t):
        h = (h ^ np.uint64(_b(data, i))) * np.uint64(1099511628211)
    lo = np.searchsorted(tld_hashes, h)
    while lo < tld_hashes.shape[0] and tld_hashes[lo] == h:
        a, z = tld_offsets[lo], tld_offsets[lo + 1]
        if z - a == t - s:
            same = True
            for k in range(t - s):
                if tld_data[a + k] != _b(data, s + k):
                    same = False
                    break
            if same:
                return True
        lo += 1
    return False


@_jit
def first_significant(data, b, e, tld_offsets, tld_data, tld_hashes):
    """(start, end) of firstSignificantSubdomain and the end of the host (for cutTo...)."""
    s, t = host(data, b, e)
    if _is_www(data, s, t):
        s += 4
    if s == t:
        return b, b, b
    host_end = t
    if _b(data, t - 1) == 46:
        t -= 1
    p0 = -1
    p1 = -1
    p2 = -1
    for p in range(s, t):
        if _b(data, p) == 46:
            p2 = p1
            p1 = p0
            p0 = p
    if p0 < 0:
        return s, t, host_end
    if p1 < 0:
        return s, p0, host_end
    if p2 < 0:
        p2 = s - 1
    eol = p0
    while eol < t and _b(data, eol) != 47:
        eol += 1
    if _in_tld_list(data, p1 + 1, eol, tld_offsets, tld_data, tld_hashes):
        return p2 + 1, p1, host_end
    return p1 + 1, p0, host_end


@_jit
def extract(offsets, data, op, tld_offsets, tld_data, tld_hashes):
    """(starts, ends) of `op` on every row."""
    n = offsets.shape[0] - 1
    starts = np.empty(n, np.int64)
    ends = np.empty(n, np.int64)
    for i in range(n):
        b = offsets[i]
        e = offsets[i + 1]
        if op == OP_PROTOCOL:
            s, t = protocol(data, b, e)
        elif op == OP_DOMAIN:
            s, t = host(data, b, e)
        elif op == OP_DOMAIN_NO_WWW:
            s, t = host(data, b, e)
            if _is_www(data, s, t):
                s += 4
        elif op == OP_TLD:
            s, t = top_level_domain(data, b, e)
        elif op == OP_PATH:
            s, t = path(data, b, e, False)
        elif op == OP_PATH_FULL:
            s, t = path(data, b, e, True)
        elif op == OP_QUERY:
            s, t = query_string(data, b, e, False, False)
        elif op == OP_FRAGMENT:
            s, t = fragment(data, b, e, False)
        elif op == OP_QUERY_AND_FRAGMENT:
            s, t = query_and_fragment(data, b, e, False)
        elif op == OP_CUT_QUERY:
            s, t = query_string(data, b, e, False, True)
        elif op == OP_CUT_QUERY_FRAGMENT:
            s, t = query_and_fragment(data, b, e, True)
        elif op == OP_CUT_FRAGMENT:
            s, t = fragment(data, b, e, True)
        elif op == OP_CUT_WWW:
            s, t = cut_www_range(data, b, e)
        elif op == OP_FIRST_SIGNIFICANT:
            s, t, _h = first_significant(data, b, e, tld_offsets, tld_data, tld_hashes)
        elif op == OP_CUT_TO_FIRST_SIGNIFICANT:
            s, t1, t = first_significant(data, b, e, tld_offsets, tld_data, tld_hashes)
            if s == t1:
                t = s
        else:  # OP_NETLOC is not implemented
            s, t = b, b
        starts[i] = s
        ends[i] = t
    return starts, ends


@_jit
def gather(data, starts, ends):
    """(offsets, bytes) of the ranges data[starts[i]:ends[i]]."""
    n = starts.shape[0]
    out_off = np.empty(n + 1, np.int64)
    out_off[0] = 0
    for i in range(n):
        out_off[i + 1] = out_off[i] + (ends[i] - starts[i])
    out = np.empty(out_off[n], np.uint8)
    for i in range(n):
        # unsigned indexes: no negative-index fix-up, so LLVM can vectorize the copy
        s = np.uint64(starts[i])
        w = np.uint64(out_off[i])
        for k in range(np.uint64(ends[i] - starts[i])):
            out[w + np.uint64(k)] = _b(data, s + np.uint64(k))
    return out_off, out


@_jit
def cut(offsets, data, starts, ends):
    """(offsets, bytes) of every row without its range [starts[i], ends[i])."""
    n = offsets.shape[0] - 1
    out_off = np.empty(n + 1, np.int64)
    out_off[0] = 0
    for i in range(n):
        out_off[i + 1] = out_off[i] + (offsets[i + 1] - offsets[i]) - (ends[i] - starts[i])
    out = np.empty(out_off[n], np.uint8)
    for i in range(n):
        w = np.uint64(out_off[i])
        b = np.uint64(offsets[i])
        a = np.uint64(starts[i] - offsets[i])
        for k in range(a):
            out[w + np.uint64(k)] = _b(data, b + np.uint64(k))
        w += a
        t = np.uint64(ends[i])
        for k in range(np.uint64(offsets[i + 1] - ends[i])):
            out[w + np.uint64(k)] = _b(data, t + np.uint64(k))
    return out_off, out


# --------------------------------------------------------------------------- parameters


@_jit
def extract_parameter(offsets, data, name):
    """extractURLParameter: value of the first `name=` after '?', '#' or '&' (not decoded)."""
    n = offsets.shape[0] - 1
    starts = np.empty(n, np.int64)
    ends = np.empty(n, np.int64)
    k = name.shape[0]
    for i in range(n):
        b = offsets[i]
        e = offsets[i + 1]
        q = b
        while q < e and _b(data, q) != 63 and _b(data, q) != 35:
            q += 1
        found = -1
        if q + 1 < e:
            p = q + 1
            while p + k + 1 <= e:
                ok = _b(data, p + k) == 61  # '='
                if ok:
                    for j in range(k):
                        if _b(data, p + j) != name[j]:
                            ok = False
                            break
                if ok:
                    c = _b(data, p - 1)
                    if c == 63 or c == 35 or c == 38:
                        found = p + k + 1
                        break
                    p += k + 1
                else:
                    p += 1
        if found < 0:
            starts[i] = b
            ends[i] = b
            continue
        t = found
        while t < e and _b(data, t) != 38 and _b(data, t) != 35:
            t += 1
        starts[i] = found
        ends[i] = t
    return starts, ends


@_jit
def _parameters_row(data, b, e, names_only, fill, w, ps, pe):
    """extractURLParameters / extractURLParameterNames tokens of one row; returns the count
    (and writes them at w when `fill`)."""
    count = 0
    pos = b
    while pos < e and _b(data, pos) != 63 and _b(data, pos) != 35:
        pos += 1
    if pos + 1 >= e:
        return 0
    pos += 1
    while True:
        while True:
            tb = pos
            while pos < e and _b(data, pos) != 61 and _b(data, pos) != 38 and _b(data, pos) != 35 and _b(data, pos) != 63:
                pos += 1
            if pos == e:
                return count
            if _b(data, pos) == 63:
                pos += 1
                continue
            break
        if _b(data, pos) == 38 or _b(data, pos) == 35:
            te = pos
            pos += 1
        else:
            name_end = pos
            pos += 1
            while pos < e and _b(data, pos) != 38 and _b(data, pos) != 35:
                pos += 1
            if pos == e:
                te = e
            else:
                te = pos
                pos += 1
            if names_only:
                te = name_end
        if fill:
            ps[w + count] = tb
            pe[w + count] = te
        count += 1


@_jit
def _hierarchy_row(data, b, e, path_only, fill, w, ps, pe):
    """URLHierarchy / URLPathHierarchy tokens of one row (all start at the row or path start)."""
    count = 0
    if b == e:
        return 0
    pos = b
    while pos < e and ((97 <= _b(data, pos) <= 122) or (48 <= _b(data, pos) <= 57)):
        pos += 1
    if pos == b or pos == e or not (_b(data, pos) == 58 and pos + 3 < e and _b(data, pos + 1) == 47
                                    and _b(data, pos + 2) == 47):
        if path_only:
            return 0
        if fill:
            ps[w] = b
            pe[w] = e
        return 1
    pos += 3
    while pos < e and not (_b(data, pos) == 47 or _b(data, pos) == 63 or _b(data, pos) == 35):
        pos += 1
    start = b
    if path_only:
        start = pos
    if pos != e:
        pos += 1
    if not path_only:
        if fill:
            ps[w] = b
            pe[w] = pos
        count = 1
    while True:
        while pos < e and (_b(data, pos) == 47 or _b(data, pos) == 63 or _b(data, pos) == 35):
            pos += 1
        if pos == e:
            return count
        while pos < e and not (_b(data, pos) == 47 or _b(data, pos) == 63 or _b(data, pos) == 35):
            pos += 1
        if pos != e:
            pos += 1
        if fill:
            ps[w + count] = start
            pe[w + count] = pos
        count += 1


@_jit
def tokens(offsets, data, op):
    """(pieces per row, piece starts, piece ends) of op: 0 extractURLParameters,
    1 extractURLParameterNames, 2 URLHierarchy, 3 URLPathHierarchy."""
    n = offsets.shape[0] - 1
    pieces = np.empty(n, np.int64)
    dummy = np.empty(0, np.int64)
    total = 0
    for i in range(n):
        if op <= 1:
            c = _parameters_row(data, offsets[i], offsets[i + 1], op == 1, False, 0, dummy, dummy)
        else:
            c = _hierarchy_row(data, offsets[i], offsets[i + 1], op == 3, False, 0, dummy, dummy)
        pieces[i] = c
        total += c
    ps = np.empty(total, np.int64)
    pe = np.empty(total, np.int64)
    w = 0
    for i in range(n):
        if op <= 1:
            _parameters_row(data, offsets[i], offsets[i + 1], op == 1, True, w, ps, pe)
        else:
            _hierarchy_row(data, offsets[i], offsets[i + 1], op == 3, True, w, ps, pe)
        w += pieces[i]
    return pieces, ps, pe


# --------------------------------------------------------------------------- percent coding


@_inline
def _hexval(c):
    if 48 <= c <= 57:
        return c - 48
    if 65 <= c <= 70:
        return c - 55
    if 97 <= c <= 102:
        return c - 87
    return -1


@_jit
def decode_component(offsets, data, plus_as_space):
    """decodeURLComponent / decodeURLFormComponent: %XX -> byte; an invalid escape is kept and
    scanning resumes after its 3 bytes (so '%%41' stays as is)."""
    n = offsets.shape[0] - 1
    out = np.empty(data.shape[0], np.uint8)
    out_off = np.empty(n + 1, np.int64)
    out_off[0] = 0
    w = 0
    for i in range(n):
        p = offsets[i]
        e = offsets[i + 1]
        while p < e:
            c = _b(data, p)
            if c == 37 and p + 2 >= e:  # a truncated escape: the rest is copied as is
                while p < e:
                    out[w] = _b(data, p)
                    w += 1
                    p += 1
                break
            if c == 37:
                h = _hexval(_b(data, p + 1))
                lo = _hexval(_b(data, p + 2))
                if h >= 0 and lo >= 0:
                    out[w] = h * 16 + lo
                    w += 1
                else:  # an invalid escape is kept and its 3 bytes skipped (ClickHouse)
                    out[w] = c
                    out[w + 1] = _b(data, p + 1)
                    out[w + 2] = _b(data, p + 2)
                    w += 3
                p += 3
                continue
            if plus_as_space and c == 43:
                out[w] = 32
            else:
                out[w] = c
            w += 1
            p += 1
        out_off[i + 1] = w
    return out_off, out[:w]


@_jit
def encode_component(offsets, data, space_as_plus):
    """encodeURLComponent: keep ASCII letters, digits and -._~; %XX (upper case) the rest."""
    n = offsets.shape[0] - 1
    out = np.empty(data.shape[0] * 3, np.uint8)
    out_off = np.empty(n + 1, np.int64)
    out_off[0] = 0
    w = 0
    hexd = _HEX
    for i in range(n):
        for p in range(offsets[i], offsets[i + 1]):
            c = _b(data, p)
            if _alnum(c) or c == 45 or c == 46 or c == 95 or c == 126:
                out[w] = c
                w += 1
            elif space_as_plus and c == 32:
                out[w] = 43
                w += 1
            else:
                out[w] = 37
                out[w + 1] = hexd[c >> 4]
                out[w + 2] = hexd[c & 15]
                w += 3
        out_off[i + 1] = w
    return out_off, out[:w]
