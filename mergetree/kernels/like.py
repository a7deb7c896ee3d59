"""Pattern kernels over (offsets, data) String columns: startsWith, endsWith, substring
search, LIKE, and the ASCII/Latin-1 lowering that ILIKE uses.

A LIKE pattern is compiled (in Python, once per pattern, by `compile_like`) into an int16
array: 0..255 are literal bytes, ``ANY_SEQ`` (-1) is ``%`` and ``ANY_CHAR`` (-2) is ``_``.
``_`` matches one UTF-8 character (a lead byte and its continuation bytes), as in ClickHouse; it
never matches at a stray continuation byte (ClickHouse: ``unhex('A9') LIKE '_'`` is 0).
Backslash escapes ``%``, ``_`` and ``\\``; a backslash before another character is a literal
backslash (ClickHouse: ``'ab' LIKE 'a\\b'`` is 0); a trailing backslash is an error.

Kernels (numba, ``nogil=True, cache=True``); twins: ``starts_with_numpy``, ``ends_with_numpy``,
``contains_numpy``, ``lower_latin_numpy``; `like_match` is checked against Python's ``re``
in the tests (a regex translation of the pattern is the independent oracle).
"""

from __future__ import annotations

import numpy as np

ANY_SEQ = -1
ANY_CHAR = -2

_compiled: dict = {}


def _jit(fn):
    f = _compiled.get(fn.__name__)
    if f is None:
        import numba

        f = numba.njit(nogil=True, cache=True)(fn)
        _compiled[fn.__name__] = f
    return f


def compile_like(pattern: bytes) -> np.ndarray:
    """int16 token array of a LIKE pattern; raises ValueError on a trailing backslash."""
    out = []
    i = 0
    n = len(pattern)
    while i < n:
        c = pattern[i]
        if c == 0x5C:  # backslash
            if i + 1 >= n:
                text = pattern.decode(errors="replace")
                raise ValueError(f"Invalid escape sequence at the end of LIKE pattern '{text}'")
            nxt = pattern[i + 1]
            if nxt in (0x25, 0x5F, 0x5C):
                out.append(nxt)
            else:
                out.append(0x5C)
                out.append(nxt)
            i += 2
            continue
        if c == 0x25:
            if not out or out[-1] != ANY_SEQ:  # collapse %%
                out.append(ANY_SEQ)
        elif c == 0x5F:
            out.append(ANY_CHAR)
        else:
            out.append(c)
        i += 1
    return np.array(out, dtype=np.int16)


def like_fast_path(tokens: np.ndarray):
    """('all' | 'equals' | 'prefix' | 'suffix' | 'contains', literal bytes) or None."""
    t = tokens.tolist()
    if any(x == ANY_CHAR for x in t):
        return None
    if t == [ANY_SEQ]:
        return ("all", b"")
    inner = [x for x in t if x != ANY_SEQ]
    lit = bytes(inner)
    n_seq = len(t) - len(inner)
    if n_seq == 0:
        return ("equals", lit)
    if n_seq == 1 and t[-1] == ANY_SEQ:
        return ("prefix", lit)
    if n_seq == 1 and t[0] == ANY_SEQ:
        return ("suffix", lit)
    if n_seq == 2 and t[0] == ANY_SEQ and t[-1] == ANY_SEQ:
        return ("contains", lit)
    return None


def like_to_regex(pattern: bytes) -> bytes:
    """A Python regex equivalent to the LIKE pattern (the tests' independent oracle)."""
    import re

    out = []
    for x in compile_like(pattern).tolist():
        if x == ANY_SEQ:
            out.append(rb"[\s\S]*")
        elif x == ANY_CHAR:
            # one UTF-8 character: a lead byte and all its continuation bytes (possessive)
            out.append(rb"(?:[\x00-\x7f\xc0-\xff][\x80-\xbf]*+)")
        else:
            out.append(re.escape(bytes([x])))
    return b"".join(out)


# --------------------------------------------------------------------------- kernels


def _starts_with(offsets, data, prefix, out):
    k = prefix.shape[0]
    for i in range(offsets.shape[0] - 1):
        a = offsets[i]
        if offsets[i + 1] - a < k:
            out[i] = False
            continue
        ok = True
        for j in range(k):
            if data[a + j] != prefix[j]:
                ok = False
                break
        out[i] = ok


def _ends_with(offsets, data, suffix, out):
    k = suffix.shape[0]
    for i in range(offsets.shape[0] - 1):
        b = offsets[i + 1]
        if b - offsets[i] < k:
            out[i] = False
            continue
        ok = True
        for j in range(k):
            if data[b - k + j] != suffix[j]:
                ok = False
                break
        out[i] = ok


def _contains(offsets, data, needle, out):
    k = needle.shape[0]
    for i in range(offsets.shape[0] - 1):
        a = offsets[i]
        b = offsets[i + 1]
        found = k == 0
        if k > 0:
            first = needle[0]
            p = a
            while p + k <= b:
                if data[p] == first:
                    ok = True
                    for j in range(1, k):
                        if data[p + j] != needle[j]:
                            ok = False
                            break
                    if ok:
                        found = True
                        break
                p += 1
        out[i] = found


def _like_match(offsets, data, tokens, out):
    m = tokens.shape[0]
    for i in range(offsets.shape[0] - 1):
        s = offsets[i]
        e = offsets[i + 1]
        p = s       # position in the string
        t = 0       # position in the pattern
        star_t = -1  # pattern position after the last %
        star_p = 0   # string position that % currently absorbs up to
        matched = True
        while p < e or t < m:
            if t < m:
                tok = tokens[t]
                if tok == -1:
                    star_t = t + 1
                    star_p = p
                    t += 1
                    continue
                if p < e:
                    if tok == -2 and (data[p] & 0xC0) != 0x80:  # '_' never starts at a continuation byte
                        p += 1
                        while p < e and (data[p] & 0xC0) == 0x80:
                            p += 1
                        t += 1
                        continue
                    if data[p] == tok:
                        p += 1
                        t += 1
                        continue
            # mismatch: let the last % absorb one more character
            if star_t >= 0 and star_p < e:
                star_p += 1
                p = star_p
                t = star_t
                continue
            matched = False
            break
        out[i] = matched


def _lower_latin(data, out):
    n = data.shape[0]
    i = 0
    while i < n:
        c = data[i]
        if 65 <= c <= 90:
            out[i] = c + 32
        elif c == 0xC3 and i + 1 < n and 0x80 <= data[i + 1] <= 0x9E and data[i + 1] != 0x97:
            out[i] = c
            out[i + 1] = data[i + 1] + 0x20
            i += 2
            continue
        else:
            out[i] = c
        i += 1


# --------------------------------------------------------------------------- numpy twins


def starts_with_numpy(offsets, data, prefix: bytes) -> np.ndarray:
    k = len(prefix)
    lens = np.diff(offsets)
    ok = lens >= k
    if k == 0:
        return ok
    idx = np.nonzero(ok)[0]
    pos = offsets[idx][:, None] + np.arange(k)[None, :]
    res = np.zeros(len(lens), np.bool_)
    res[idx] = (data[pos] == np.frombuffer(prefix, np.uint8)[None, :]).all(axis=1)
    return res


def ends_with_numpy(offsets, data, suffix: bytes) -> np.ndarray:
    k = len(suffix)
    lens = np.diff(offsets)
    ok = lens >= k
    if k == 0:
        return ok
    idx = np.nonzero(ok)[0]
    pos = offsets[idx + 1][:, None] - k + np.arange(k)[None, :]
    res = np.zeros(len(lens), np.bool_)
    res[idx] = (data[pos] == np.frombuffer(suffix, np.uint8)[None, :]).all(axis=1)
    return res


def contains_numpy(offsets, data, needle: bytes) -> np.ndarray:
    k = len(needle)
    n = len(offsets) - 1
    if k == 0:
        return np.ones(n, np.bool_)
    lens = np.diff(offsets)
    res = np.zeros(n, np.bool_)
    nd = np.frombuffer(needle, np.uint8)
    # every start position of every row, checked at once
    for shift in range(int(lens.max(initial=0)) - k + 1):
        idx = np.nonzero((lens - shift >= k) & ~res)[0]
        if idx.size == 0:
            continue
        pos = offsets[idx][:, None] + shift + np.arange(k)[None, :]
        res[idx] |= (data[pos] == nd[None, :]).all(axis=1)
    return res


def lower_latin_numpy(data: np.ndarray) -> np.ndarray:
    out = data.copy()
    upper = (data >= 65) & (data <= 90)
    out[upper] += 32
    lead = np.nonzero(data[:-1] == 0xC3)[0]
    nxt = data[lead + 1]
    sel = lead[(nxt >= 0x80) & (nxt <= 0x9E) & (nxt != 0x97)] + 1
    # a 0xC3 that is itself the continuation of a lowered pair cannot occur in UTF-8
    out[sel] = data[sel] + 0x20
    return out


# --------------------------------------------------------------------------- wrappers


def _u8(b: bytes) -> np.ndarray:
    return np.frombuffer(bytes(b), np.uint8)


def starts_with(offsets, data, prefix: bytes) -> np.ndarray:
    out = np.empty(offsets.shape[0] - 1, np.bool_)
    _jit(_starts_with)(offsets, data, _u8(prefix), out)
    return out


def ends_with(offsets, data, suffix: bytes) -> np.ndarray:
    out = np.empty(offsets.shape[0] - 1, np.bool_)
    _jit(_ends_with)(offsets, data, _u8(suffix), out)
    return out


def contains(offsets, data, needle: bytes) -> np.ndarray:
    out = np.empty(offsets.shape[0] - 1, np.bool_)
    _jit(_contains)(offsets, data, _u8(needle), out)
    return out


def like_match(offsets, data, tokens: np.ndarray) -> np.ndarray:
    out = np.empty(offsets.shape[0] - 1, np.bool_)
    _jit(_like_match)(offsets, data, np.ascontiguousarray(tokens, np.int16), out)
    return out


def lower_latin(data: np.ndarray) -> np.ndarray:
    out = np.empty_like(data)
    _jit(_lower_latin)(data, out)
    return out
