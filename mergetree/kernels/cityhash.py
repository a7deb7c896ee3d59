"""CityHash64 (version 1.0.2, the one ClickHouse's cityHash64 uses) of byte strings, and the
integer hash ClickHouse applies to a single number.

Kernel (numba, ``nogil=True, cache=True``): `cityhash64(offsets, data, out)`. Python oracle:
`cityhash64_reference` (tests compare both, and both against chDB). `int_hash64(bits)` (numpy,
uint64) is ``cityHash64`` of one number: the murmur3 64-bit finalizer of the value's bits xor
0x4CF2D2BAAE6DA887 (ClickHouse's intHash64).
"""

from __future__ import annotations

import numba
import numpy as np

_K0 = 0xC3A5C85C97CB3127
_K1 = 0xB492B66FBE98F273
_K2 = 0x9AE16A3B2F90404F
_K3 = 0xC949D7C7509E6557
_KMUL = 0x9DDFEA08EB382D69
_M = (1 << 64) - 1
_INT_HASH_SALT = 0x4CF2D2BAAE6DA887

_jit = numba.njit(nogil=True, cache=True)


@_jit
def _u(x):
    return np.uint64(x)


@_jit
def _f64(d, i):
    # an unsigned index spares numba's negative-index fix-up, so LLVM fuses the 8 loads into one
    j = np.uint64(i)
    v = np.uint64(0)
    for k in range(8):
        v |= np.uint64(d[j + np.uint64(k)]) << np.uint64(8 * k)
    return v


@_jit
def _f32(d, i):
    j = np.uint64(i)
    v = np.uint64(0)
    for k in range(4):
        v |= np.uint64(d[j + np.uint64(k)]) << np.uint64(8 * k)
    return v


@_jit
def _rot(v, s):
    if s == 0:
        return v
    return (v >> np.uint64(s)) | (v << np.uint64(64 - s))


@_jit
def _smix(v):
    return v ^ (v >> np.uint64(47))


@_jit
def _h16(u, v):
    kmul = np.uint64(0x9DDFEA08EB382D69)
    a = (u ^ v) * kmul
    a ^= a >> np.uint64(47)
    b = (v ^ a) * kmul
    b ^= b >> np.uint64(47)
    return b * kmul


@_jit
def _weak(w, x, y, z, a, b):
    a += w
    b = _rot(b + a + z, 21)
    c = a
    a += x
    a += y
    b += _rot(a, 44)
    return a + z, b + c


@_jit
def _weaks(d, i, a, b):
    return _weak(_f64(d, i), _f64(d, i + 8), _f64(d, i + 16), _f64(d, i + 24), a, b)


@_jit
def _hash_one(d, s, n):
    k0 = np.uint64(0xC3A5C85C97CB3127)
    k1 = np.uint64(0xB492B66FBE98F273)
    k2 = np.uint64(0x9AE16A3B2F90404F)
    k3 = np.uint64(0xC949D7C7509E6557)
    un = np.uint64(n)
    if n <= 16:
        if n > 8:
            a = _f64(d, s)
            b = _f64(d, s + n - 8)
            return _h16(a, _rot(b + un, n)) ^ b
        if n >= 4:
            a = _f32(d, s)
            return _h16(un + (a << np.uint64(3)), _f32(d, s + n - 4))
        if n > 0:
            a = np.uint64(d[s])
            b = np.uint64(d[s + (n >> 1)])
            c = np.uint64(d[s + n - 1])
            y = a + (b << np.uint64(8))
            z = un + (c << np.uint64(2))
            return _smix(y * k2 ^ z * k3) * k2
        return k2
    if n <= 32:
        a = _f64(d, s) * k1
        b = _f64(d, s + 8)
        c = _f64(d, s + n - 8) * k2
        dd = _f64(d, s + n - 16) * k0
        return _h16(_rot(a - b, 43) + _rot(c, 30) + dd, a + _rot(b ^ k3, 20) - c + un)
    if n <= 64:
        z = _f64(d, s + 24)
        a = _f64(d, s) + (un + _f64(d, s + n - 16)) * k0
        b = _rot(a + z, 52)
        c = _rot(a, 37)
        a += _f64(d, s + 8)
        c += _rot(a, 7)
        a += _f64(d, s + 16)
        vf = a + z
        vs = b + _rot(a, 31) + c
        a = _f64(d, s + 16) + _f64(d, s + n - 32)
        z = _f64(d, s + n - 8)
        b = _rot(a + z, 52)
        c = _rot(a, 37)
        a += _f64(d, s + n - 24)
        c += _rot(a, 7)
        a += _f64(d, s + n - 16)
        wf = a + z
        ws = b + _rot(a, 31) + c
        r = _smix((vf + ws) * k2 + (wf + vs) * k0)
        return _smix(r * k0 + vs) * k2
    x = _f64(d, s)
    y = _f64(d, s + n - 16) ^ k1
    z = _f64(d, s + n - 56) ^ k0
    v0, v1 = _weaks(d, s + n - 64, un, y)
    w0, w1 = _weaks(d, s + n - 32, un * k1, k0)
    z += _smix(v1) * k1
    x = _rot(z + x, 39) * k1
    y = _rot(y, 33) * k1
    left = (n - 1) & ~63
    p = s
    while True:
        x = _rot(x + y + v0 + _f64(d, p + 16), 37) * k1
        y = _rot(y + v1 + _f64(d, p + 48), 42) * k1
        x ^= w1
        y ^= v0
        z = _rot(z ^ w0, 33)
        v0, v1 = _weaks(d, p, v1 * k1, x + w0)
        w0, w1 = _weaks(d, p + 32, z + w1, y)
        t = z
        z = x
        x = t
        p += 64
        left -= 64
        if left == 0:
            break
    return _h16(_h16(v0, w0) + _smix(y) * k1 + z, _h16(v1, w1) + x)


@_jit
def cityhash64(offsets, data, out):
    for i in range(offsets.shape[0] - 1):
        out[i] = _hash_one(data, offsets[i], offsets[i + 1] - offsets[i])


def hash_rows(offsets: np.ndarray, data: np.ndarray) -> np.ndarray:
    out = np.empty(offsets.shape[0] - 1, np.uint64)
    cityhash64(np.ascontiguousarray(offsets, np.int64), np.ascontiguousarray(data, np.uint8), out)
    return out


def int_hash64(bits: np.ndarray) -> np.ndarray:
    """ClickHouse's intHash64 of uint64 bit patterns (murmur3 finalizer of bits ^ salt)."""
    x = bits.astype(np.uint64) ^ np.uint64(_INT_HASH_SALT)
    x ^= x >> np.uint64(33)
    x *= np.uint64(0xFF51AFD7ED558CCD)
    x ^= x >> np.uint64(33)
    x *= np.uint64(0xC4CEB9FE1A85EC53)
    x ^= x >> np.uint64(33)
    return x


# --------------------------------------------------------------------------- Python oracle


def cityhash64_reference(s: bytes) -> int:
    def f64(i):
        return int.from_bytes(s[i:i + 8], "little")

    def f32(i):
        return int.from_bytes(s[i:i + 4], "little")

    def rot(v, sh):
        return v if sh == 0 else ((v >> sh) | (v << (64 - sh))) & _M

    def smix(v):
        return v ^ (v >> 47)

    def h16(u, v):
        a = ((u ^ v) * _KMUL) & _M
        a ^= a >> 47
        b = ((v ^ a) * _KMUL) & _M
        b ^= b >> 47
        return (b * _KMUL) & _M

    def weaks(i, a, b):
        w, x, y, z = f64(i), f64(i + 8), f64(i + 16), f64(i + 24)
        a = (a + w) & _M
        b = rot((b + a + z) & _M, 21)
        c = a
        a = (a + x + y) & _M
        b = (b + rot(a, 44)) & _M
        return (a + z) & _M, (b + c) & _M

    n = len(s)
    if n <= 16:
        if n > 8:
            a, b = f64(0), f64(n - 8)
            return h16(a, rot((b + n) & _M, n)) ^ b
        if n >= 4:
            return h16((n + (f32(0) << 3)) & _M, f32(n - 4))
        if n > 0:
            y = s[0] + (s[n >> 1] << 8)
            z = n + (s[n - 1] << 2)
            return (smix(((y * _K2) & _M) ^ ((z * _K3) & _M)) * _K2) & _M
        return _K2
    if n <= 32:
        a, b = (f64(0) * _K1) & _M, f64(8)
        c, d = (f64(n - 8) * _K2) & _M, (f64(n - 16) * _K0) & _M
        return h16((rot((a - b) & _M, 43) + rot(c, 30) + d) & _M, (a + rot(b ^ _K3, 20) - c + n) & _M)
    if n <= 64:
        z = f64(24)
        a = (f64(0) + (n + f64(n - 16)) * _K0) & _M
        b, c = rot((a + z) & _M, 52), rot(a, 37)
        a = (a + f64(8)) & _M
        c = (c + rot(a, 7)) & _M
        a = (a + f64(16)) & _M
        vf, vs = (a + z) & _M, (b + rot(a, 31) + c) & _M
        a = (f64(16) + f64(n - 32)) & _M
        z = f64(n - 8)
        b, c = rot((a + z) & _M, 52), rot(a, 37)
        a = (a + f64(n - 24)) & _M
        c = (c + rot(a, 7)) & _M
        a = (a + f64(n - 16)) & _M
        wf, ws = (a + z) & _M, (b + rot(a, 31) + c) & _M
        r = smix(((vf + ws) * _K2 + (wf + vs) * _K0) & _M)
        return (smix((r * _K0 + vs) & _M) * _K2) & _M
    x, y, z = f64(0), f64(n - 16) ^ _K1, f64(n - 56) ^ _K0
    v = weaks(n - 64, n, y)
    w = weaks(n - 32, (n * _K1) & _M, _K0)
    z = (z + smix(v[1]) * _K1) & _M
    x = (rot((z + x) & _M, 39) * _K1) & _M
    y = (rot(y, 33) * _K1) & _M
    left, p = (n - 1) & ~63, 0
    while True:
        x = (rot((x + y + v[0] + f64(p + 16)) & _M, 37) * _K1) & _M
        y = (rot((y + v[1] + f64(p + 48)) & _M, 42) * _K1) & _M
        x ^= w[1]
        y ^= v[0]
        z = rot(z ^ w[0], 33)
        v = weaks(p, (v[1] * _K1) & _M, (x + w[0]) & _M)
        w = weaks(p + 32, (z + w[1]) & _M, y)
        z, x = x, z
        p += 64
        left -= 64
        if left == 0:
            break
    return h16((h16(v[0], w[0]) + smix(y) * _K1 + z) & _M, (h16(v[1], w[1]) + x) & _M)
