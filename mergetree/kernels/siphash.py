"""SipHash-2-4 (keys 0, 0) of byte strings, as ClickHouse's sipHash64 computes it.

Kernel (numba, ``nogil=True, cache=True``): `siphash64(offsets, data, out)` hashes every row
data[offsets[i]:offsets[i + 1]]; fixed-width values are hashed as their little-endian bytes by
viewing the values array as rows of `width` bytes. `siphash64_reference` is the row-by-row
Python oracle of the tests (checked against ClickHouse's reference values).
"""

from __future__ import annotations

import numba
import numpy as np

_M = (1 << 64) - 1


@numba.njit(nogil=True, cache=True, inline="always")
def _rotl(x, b):
    return (x << np.uint64(b)) | (x >> np.uint64(64 - b))


@numba.njit(nogil=True, cache=True, inline="always")
def _sipround(v0, v1, v2, v3):
    """One SipRound: the ARX network mixing the four state words."""
    v0 += v1
    v1 = _rotl(v1, 13)
    v1 ^= v0
    v0 = _rotl(v0, 32)
    v2 += v3
    v3 = _rotl(v3, 16)
    v3 ^= v2
    v0 += v3
    v3 = _rotl(v3, 21)
    v3 ^= v0
    v2 += v1
    v1 = _rotl(v1, 17)
    v1 ^= v2
    v2 = _rotl(v2, 32)
    return v0, v1, v2, v3


@numba.njit(nogil=True, cache=True)
def siphash64(offsets, data, out):
    for i in range(offsets.shape[0] - 1):
        a = offsets[i]
        n = offsets[i + 1] - a
        v0 = np.uint64(0x736F6D6570736575)
        v1 = np.uint64(0x646F72616E646F6D)
        v2 = np.uint64(0x6C7967656E657261)
        v3 = np.uint64(0x7465646279746573)
        full = n // 8 * 8
        for j in range(0, full + 8, 8):
            m = np.uint64(0)
            if j < full:
                for k in range(8):
                    m |= np.uint64(data[a + j + k]) << np.uint64(8 * k)
            else:  # the last block: the tail bytes and the length in the top byte
                for k in range(n - full):
                    m |= np.uint64(data[a + j + k]) << np.uint64(8 * k)
                m |= np.uint64(n & 0xFF) << np.uint64(56)
            v3 ^= m
            for _ in range(2):
                v0, v1, v2, v3 = _sipround(v0, v1, v2, v3)
            v0 ^= m
        v2 ^= np.uint64(0xFF)
        for _ in range(4):
            v0, v1, v2, v3 = _sipround(v0, v1, v2, v3)
        out[i] = v0 ^ v1 ^ v2 ^ v3


def siphash64_reference(data: bytes) -> int:
    def rotl(x, b):
        return ((x << b) | (x >> (64 - b))) & _M

    v = [0x736F6D6570736575, 0x646F72616E646F6D, 0x6C7967656E657261, 0x7465646279746573]

    def rounds(k):
        for _ in range(k):
            v[0] = (v[0] + v[1]) & _M
            v[1] = rotl(v[1], 13) ^ v[0]
            v[0] = rotl(v[0], 32)
            v[2] = (v[2] + v[3]) & _M
            v[3] = rotl(v[3], 16) ^ v[2]
            v[0] = (v[0] + v[3]) & _M
            v[3] = rotl(v[3], 21) ^ v[0]
            v[2] = (v[2] + v[1]) & _M
            v[1] = rotl(v[1], 17) ^ v[2]
            v[2] = rotl(v[2], 32)

    n = len(data)
    full = n // 8 * 8
    blocks = [int.from_bytes(data[j:j + 8], "little") for j in range(0, full, 8)]
    blocks.append(int.from_bytes(data[full:], "little") | ((n & 0xFF) << 56))
    for m in blocks:
        v[3] ^= m
        rounds(2)
        v[0] ^= m
    v[2] ^= 0xFF
    rounds(4)
    return v[0] ^ v[1] ^ v[2] ^ v[3]


def hash_rows(offsets: np.ndarray, data: np.ndarray) -> np.ndarray:
    out = np.empty(offsets.shape[0] - 1, np.uint64)
    siphash64(np.ascontiguousarray(offsets, np.int64), np.ascontiguousarray(data, np.uint8), out)
    return out
