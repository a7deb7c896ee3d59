"""Parsing numbers out of String columns (offsets, data), with ClickHouse's strict syntax.

Integers: an optional sign and at least one digit, nothing else (no spaces, no ``.``, no
``0x``): ``'+42'`` and ``'00012'`` parse, ``' 42'``, ``'42 '``, ``'4.2'``, ``''`` do not.
Floats: ``[+-]`` then ``digits[.digits]`` or ``.digits`` or ``digits.``, an optional exponent
``e[+-]digits``; or ``inf``/``infinity``/``nan`` in any case. The float *value* is then produced
by numpy's C conversion of the validated bytes (correctly rounded), not by this module.

Kernels (numba, ``nogil=True, cache=True``) with plain-numpy twins ``*_numpy``:
1. `parse_ints(offsets, data, magnitude, negative, status)`: status 1 = ok, 0 = syntax error,
   2 = the magnitude does not fit 64 bits.
2. `float_syntax(offsets, data, ok)`: whether each row is valid float text.
"""

from __future__ import annotations

import numpy as np

_compiled: dict = {}
SMALL = 16


def _jit(fn):
    f = _compiled.get(fn.__name__)
    if f is None:
        import numba

        f = numba.njit(nogil=True, cache=True)(fn)
        _compiled[fn.__name__] = f
    return f


def _parse_ints(offsets, data, magnitude, negative, status):
    limit = np.uint64(1844674407370955161)  # (2**64 - 1) // 10
    ten = np.uint64(10)
    for i in range(offsets.shape[0] - 1):
        p = offsets[i]
        end = offsets[i + 1]
        magnitude[i] = 0
        negative[i] = False
        status[i] = 0
        if p < end and (data[p] == 43 or data[p] == 45):
            negative[i] = data[p] == 45
            p += 1
        if p >= end:
            negative[i] = False
            continue
        v = np.uint64(0)
        ok = 1
        while p < end:
            c = data[p]
            if c < 48 or c > 57:
                ok = 0
                break
            d = np.uint64(c - 48)
            if v > limit or (v == limit and d > np.uint64(5)):
                ok = 2
            if ok == 1:
                v = v * ten + d
            p += 1
        if ok == 0:
            negative[i] = False
        else:
            magnitude[i] = v
        status[i] = ok


def parse_ints_numpy(offsets, data):
    n = offsets.shape[0] - 1
    lens = np.diff(offsets)
    width = int(lens.max(initial=0))
    mat = np.full((n, max(width, 1)), -1, np.int16)
    cols = np.arange(width)
    mask = cols[None, :] < lens[:, None]
    mat[:, :width][mask] = data[(offsets[:-1, None] + cols[None, :])[mask]]
    first = mat[:, 0]
    has_sign = (first == 43) | (first == 45)
    negative = first == 45
    digits = (mat >= 48) & (mat <= 57)
    body_len = lens - has_sign
    start = has_sign.astype(np.int64)
    in_body = (cols[None, :] >= start[:, None]) & mask if width else np.zeros((n, 0), bool)
    ok = (body_len > 0) & (digits[:, :width] | ~in_body).all(axis=1) if width else np.zeros(n, bool)
    magnitude = np.zeros(n, np.uint64)
    overflow = np.zeros(n, np.bool_)
    limit = np.uint64(1844674407370955161)
    for k in range(width):
        d = np.where(in_body[:, k] & ok, mat[:, k] - 48, 0).astype(np.uint64)
        step = in_body[:, k] & ok & ~overflow
        over = step & ((magnitude > limit) | ((magnitude == limit) & (d > 5)))
        overflow |= over
        step &= ~over
        magnitude = np.where(step, magnitude * np.uint64(10) + d, magnitude)
    status = np.where(ok, np.where(overflow, 2, 1), 0).astype(np.uint8)
    return magnitude, negative & (status > 0), status


def _float_syntax(offsets, data, ok):
    for i in range(offsets.shape[0] - 1):
        p = offsets[i]
        end = offsets[i + 1]
        ok[i] = False
        if p < end and (data[p] == 43 or data[p] == 45):
            p += 1
        n = end - p
        # inf / infinity / nan
        # (c | 32) lowers ASCII letters; only 'I'/'i', 'N'/'n'... map onto the letters tested
        if n == 3 or n == 8:
            if n == 3:
                a = data[p] | 32
                b = data[p + 1] | 32
                c = data[p + 2] | 32
                if (a == 105 and b == 110 and c == 102) or (a == 110 and b == 97 and c == 110):
                    ok[i] = True
                    continue
            else:
                word = (105, 110, 102, 105, 110, 105, 116, 121)  # "infinity"
                same = True
                for k in range(8):
                    if (data[p + k] | 32) != word[k]:
                        same = False
                        break
                if same:
                    ok[i] = True
                    continue
        int_digits = 0
        while p < end and 48 <= data[p] <= 57:
            p += 1
            int_digits += 1
        frac_digits = 0
        if p < end and data[p] == 46:
            p += 1
            while p < end and 48 <= data[p] <= 57:
                p += 1
                frac_digits += 1
        if int_digits + frac_digits == 0:
            continue
        if p < end and (data[p] == 101 or data[p] == 69):
            p += 1
            if p < end and (data[p] == 43 or data[p] == 45):
                p += 1
            exp_digits = 0
            while p < end and 48 <= data[p] <= 57:
                p += 1
                exp_digits += 1
            if exp_digits == 0:
                continue
        ok[i] = p == end


def float_syntax_reference(values: list[bytes]) -> np.ndarray:
    """Row-by-row regex reference of `float_syntax` (the tests' oracle and the small-input path)."""
    import re

    rx = re.compile(rb"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|(?i:inf|infinity|nan))")
    return np.array([rx.fullmatch(v) is not None for v in values], np.bool_)


def _parse_one_int(text: bytes):
    """parse_ints_numpy's answer for one value, or None (overflow: left to the array path)."""
    body = text[1:] if text[:1] in (b"+", b"-") else text
    if not (body and body.isdigit()):       # bytes.isdigit: ASCII 0-9 only
        return np.zeros(1, np.uint64), np.zeros(1, np.bool_), np.zeros(1, np.uint8)
    v = int(body)
    if v > 0xFFFF_FFFF_FFFF_FFFF:
        return None
    return np.array([v], np.uint64), np.array([text[:1] == b"-"], np.bool_), np.ones(1, np.uint8)


def parse_ints(offsets, data):
    """(magnitude uint64, negative bool, status uint8) per row."""
    offsets = np.ascontiguousarray(offsets, np.int64)
    data = np.ascontiguousarray(data, np.uint8)
    n = offsets.shape[0] - 1
    if n == 1:             # a constant (toInt32('30') in a pipe): ~40 small numpy calls otherwise
        one = _parse_one_int(bytes(data[offsets[0]:offsets[1]]))
        if one is not None:
            return one
    if n <= SMALL:
        return parse_ints_numpy(offsets, data)
    magnitude = np.empty(n, np.uint64)
    negative = np.empty(n, np.bool_)
    status = np.empty(n, np.uint8)
    _jit(_parse_ints)(offsets, data, magnitude, negative, status)
    return magnitude, negative, status


def float_syntax(offsets, data) -> np.ndarray:
    offsets = np.ascontiguousarray(offsets, np.int64)
    data = np.ascontiguousarray(data, np.uint8)
    n = offsets.shape[0] - 1
    if n <= SMALL:
        return float_syntax_reference([bytes(data[offsets[i]:offsets[i + 1]]) for i in range(n)])
    ok = np.empty(n, np.bool_)
    _jit(_float_syntax)(offsets, data, ok)
    return ok


def parse_floats(offsets, data) -> tuple[np.ndarray, np.ndarray]:
    """(float64 values, ok) per row; invalid rows hold 0."""
    ok = float_syntax(offsets, data)
    n = offsets.shape[0] - 1
    out = np.zeros(n, np.float64)
    idx = np.nonzero(ok)[0]
    if idx.size:
        lens = (offsets[idx + 1] - offsets[idx])
        width = int(lens.max())
        mat = np.zeros((idx.size, width), np.uint8)
        cols = np.arange(width)
        mask = cols[None, :] < lens[:, None]
        mat[mask] = data[(offsets[idx][:, None] + cols[None, :])[mask]]
        out[idx] = mat.view(f"S{width}").reshape(-1).astype(np.float64)
    return out, ok
