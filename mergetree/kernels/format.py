"""Number formatting kernels: integers to decimal text in the (offsets, data) String layout.

Kernel (numba, ``nogil=True, cache=True``) with its plain-numpy twin:
1. `format_ints(values, offsets, data)`: writes each int64 (or uint64) as decimal digits, '-'
   for negatives; the caller sizes the buffers from `decimal_lengths`.
"""

from __future__ import annotations

import numpy as np

_compiled: dict = {}

_POW10 = np.array([10 ** k for k in range(1, 20)], dtype=np.uint64)


def _jit(fn):
    f = _compiled.get(fn.__name__)
    if f is None:
        import numba

        f = numba.njit(nogil=True, cache=True)(fn)
        _compiled[fn.__name__] = f
    return f


def decimal_lengths(values: np.ndarray) -> np.ndarray:
    """Number of characters of each integer's decimal text (sign included)."""
    if values.dtype.kind == "u":
        mag = values.astype(np.uint64)
        neg = np.zeros(values.shape[0], np.bool_)
    else:
        v = values.astype(np.int64)
        neg = v < 0
        # |INT64_MIN| does not fit int64: go through uint64 two's complement
        mag = np.where(neg, (~v.view(np.uint64)) + np.uint64(1), v.view(np.uint64))
    digits = 1 + (mag[:, None] >= _POW10[None, :]).sum(axis=1)
    return digits + neg


def _format_ints(values, ten, offsets, data):
    # `ten` has the dtype of `values`: uint64 arithmetic must not mix with int64 literals
    # (numba would promote to float64)
    for i in range(values.shape[0]):
        v = values[i]
        end = offsets[i + 1]
        start = offsets[i]
        if v < 0:
            data[start] = 45
            # digits of |v| without negating (INT64_MIN has no positive counterpart)
            p = end
            while v != 0:
                p -= 1
                r = v % 10  # floor modulo: 0..9
                if r != 0:
                    data[p] = 48 + 10 - r
                    v = v // 10 + 1
                else:
                    data[p] = 48
                    v = v // 10
        else:
            p = end
            while True:
                p -= 1
                data[p] = np.uint8(v % ten) + np.uint8(48)
                v = v // ten
                if v == 0:
                    break


def format_ints_numpy(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lens = decimal_lengths(values)
    offsets = np.zeros(values.shape[0] + 1, np.int64)
    np.cumsum(lens, out=offsets[1:])
    data = np.zeros(int(offsets[-1]), np.uint8)
    if values.dtype.kind == "u":
        mag = values.astype(np.uint64)
        neg = np.zeros(values.shape[0], np.bool_)
    else:
        v = values.astype(np.int64)
        neg = v < 0
        mag = np.where(neg, (~v.view(np.uint64)) + np.uint64(1), v.view(np.uint64))
    data[offsets[:-1][neg]] = 45
    pos = offsets[1:] - 1
    alive = np.ones(values.shape[0], np.bool_)
    while alive.any():
        idx = np.nonzero(alive)[0]
        data[pos[idx]] = (48 + mag[idx] % np.uint64(10)).astype(np.uint8)
        mag[idx] //= np.uint64(10)
        pos[idx] -= 1
        alive[idx] = mag[idx] != 0
    return offsets, data


def format_ints(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(offsets, data) of the decimal text of int64/uint64 `values`."""
    if values.dtype.kind == "u":
        values = np.ascontiguousarray(values, dtype=np.uint64)
    else:
        values = np.ascontiguousarray(values, dtype=np.int64)
    if values.shape[0] <= 16:
        return format_ints_numpy(values)
    lens = decimal_lengths(values)
    offsets = np.zeros(values.shape[0] + 1, np.int64)
    np.cumsum(lens, out=offsets[1:])
    data = np.empty(int(offsets[-1]), np.uint8)
    _jit(_format_ints)(values, values.dtype.type(10), offsets, data)
    return offsets, data
