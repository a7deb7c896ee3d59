"""Hash kernels bit-exact with ClickHouse: xxHash64, XXH3-64, MurmurHash3 (x86_32, x64_128
folded to 64 bits), FarmHash Fingerprint64, MD5, SHA-256, intHash32/intHash64 and the
functions ClickHouse uses to combine the hashes of several arguments.

Every row kernel is ``f(offsets, data, out)`` over a String column (a fixed-width value is
hashed as its own little-endian bytes by viewing the values as rows of `width` bytes), numba
``nogil=True, cache=True``; all arithmetic is on uint64 (wrapping, as in C). The plain-Python
twins the tests use are in tests/test_functions_hash.py (and hashlib for MD5/SHA-256).
"""

from __future__ import annotations

import numba
import numpy as np

_jit = numba.njit(nogil=True, cache=True)
_inline = numba.njit(nogil=True, cache=True, inline="always")

U = np.uint64


@_inline
def _r64(d, i):
    # an unsigned index spares numba's negative-index fix-up, so LLVM fuses the 8 loads into one
    j = U(i)
    return (U(d[j]) | (U(d[j + U(1)]) << U(8)) | (U(d[j + U(2)]) << U(16)) | (U(d[j + U(3)]) << U(24))
            | (U(d[j + U(4)]) << U(32)) | (U(d[j + U(5)]) << U(40)) | (U(d[j + U(6)]) << U(48))
            | (U(d[j + U(7)]) << U(56)))


@_inline
def _r32(d, i):
    j = U(i)
    return U(d[j]) | (U(d[j + U(1)]) << U(8)) | (U(d[j + U(2)]) << U(16)) | (U(d[j + U(3)]) << U(24))


@_inline
def _rotl(x, r):
    return (x << U(r)) | (x >> U(64 - r))


@_inline
def _rotr(x, r):
    if r == 0:
        return x
    return (x >> U(r)) | (x << U(64 - r))


@_inline
def _rotl32(x, r):
    x &= U(0xFFFFFFFF)
    return ((x << U(r)) | (x >> U(32 - r))) & U(0xFFFFFFFF)


# --------------------------------------------------------------------------- intHash, combine

@_jit
def int_hash64(x):
    """ClickHouse IntHash64Impl: murmur3 fmix64 of x ^ 0x4CF2D2BAAE6DA887."""
    x = U(x) ^ U(0x4CF2D2BAAE6DA887)
    x ^= x >> U(33)
    x *= U(0xFF51AFD7ED558CCD)
    x ^= x >> U(33)
    x *= U(0xC4CEB9FE1A85EC53)
    x ^= x >> U(33)
    return x


@_jit
def int_hash32(x):
    """ClickHouse IntHash32Impl (salt 0x75D9543DE018BF45), low 32 bits."""
    key = U(x) ^ U(0x75D9543DE018BF45)
    key = (~key) + (key << U(18))
    key = key ^ ((key >> U(31)) | (key << U(33)))
    key = key * U(21)
    key = key ^ ((key >> U(11)) | (key << U(53)))
    key = key + (key << U(6))
    key = key ^ ((key >> U(22)) | (key << U(42)))
    return key & U(0xFFFFFFFF)


@_jit
def hash128to64(lo, hi):
    """CityHash v1.0.2 Hash128to64 (= FarmHash Fingerprint(uint128))."""
    kmul = U(0x9DDFEA08EB382D69)
    a = (lo ^ hi) * kmul
    a ^= a >> U(47)
    b = (hi ^ a) * kmul
    b ^= b >> U(47)
    return b * kmul


@_jit
def farm_fingerprint128(lo, hi):
    """FarmHash Fingerprint(uint128): like Hash128to64 with two more shift-multiply rounds."""
    kmul = U(0x9DDFEA08EB382D69)
    a = (lo ^ hi) * kmul
    a ^= a >> U(47)
    b = (hi ^ a) * kmul
    b ^= b >> U(44)
    b *= kmul
    b ^= b >> U(41)
    return b * kmul


@_jit
def int_hash64_array(v, out):
    for i in range(v.shape[0]):
        out[i] = int_hash64(v[i])


@_jit
def int_hash32_array(v, out):
    for i in range(v.shape[0]):
        out[i] = int_hash32(v[i])


@_jit
def combine(prev, h, mode):
    """Combine an accumulated hash with the next argument's: 0 Hash128to64, 1 intHash64(prev)
    ^ h, 2 intHash32(prev) ^ h, 3 FarmHash Fingerprint(uint128)."""
    for i in range(prev.shape[0]):
        if mode == 0:
            prev[i] = hash128to64(prev[i], h[i])
        elif mode == 3:
            prev[i] = farm_fingerprint128(prev[i], h[i])
        elif mode == 1:
            prev[i] = int_hash64(prev[i]) ^ h[i]
        else:
            prev[i] = int_hash32(prev[i]) ^ h[i]


# --------------------------------------------------------------------------- xxHash64

_P1 = 0x9E3779B185EBCA87
_P2 = 0xC2B2AE3D27D4EB4F
_P3 = 0x165667B19E3779F9
_P4 = 0x85EBCA77C2B2AE63
_P5 = 0x27D4EB2F165667C5


@_inline
def _xround(acc, lane):
    acc += lane * U(_P2)
    acc = _rotl(acc, 31)
    return acc * U(_P1)


@_inline
def _xmerge(acc, val):
    acc ^= _xround(U(0), val)
    return acc * U(_P1) + U(_P4)


@_jit
def _xxh64_one(d, s, n):
    p = s
    end = s + n
    if n >= 32:
        v1 = U(_P1) + U(_P2)
        v2 = U(_P2)
        v3 = U(0)
        v4 = U(0) - U(_P1)
        limit = end - 32
        while p <= limit:
            v1 = _xround(v1, _r64(d, p))
            v2 = _xround(v2, _r64(d, p + 8))
            v3 = _xround(v3, _r64(d, p + 16))
            v4 = _xround(v4, _r64(d, p + 24))
            p += 32
        h = _rotl(v1, 1) + _rotl(v2, 7) + _rotl(v3, 12) + _rotl(v4, 18)
        h = _xmerge(h, v1)
        h = _xmerge(h, v2)
        h = _xmerge(h, v3)
        h = _xmerge(h, v4)
    else:
        h = U(_P5)
    h += U(n)
    while p + 8 <= end:
        h ^= _xround(U(0), _r64(d, p))
        h = _rotl(h, 27) * U(_P1) + U(_P4)
        p += 8
    if p + 4 <= end:
        h ^= _r32(d, p) * U(_P1)
        h = _rotl(h, 23) * U(_P2) + U(_P3)
        p += 4
    while p < end:
        h ^= U(d[p]) * U(_P5)
        h = _rotl(h, 11) * U(_P1)
        p += 1
    h ^= h >> U(33)
    h *= U(_P2)
    h ^= h >> U(29)
    h *= U(_P3)
    h ^= h >> U(32)
    return h


@_jit
def xxhash64(offsets, data, out):
    for i in range(offsets.shape[0] - 1):
        out[i] = _xxh64_one(data, offsets[i], offsets[i + 1] - offsets[i])


# --------------------------------------------------------------------------- XXH3 64 (seed 0)

_SECRET = np.array([
    0xb8, 0xfe, 0x6c, 0x39, 0x23, 0xa4, 0x4b, 0xbe, 0x7c, 0x01, 0x81, 0x2c, 0xf7, 0x21, 0xad, 0x1c,
    0xde, 0xd4, 0x6d, 0xe9, 0x83, 0x90, 0x97, 0xdb, 0x72, 0x40, 0xa4, 0xa4, 0xb7, 0xb3, 0x67, 0x1f,
    0xcb, 0x79, 0xe6, 0x4e, 0xcc, 0xc0, 0xe5, 0x78, 0x82, 0x5a, 0xd0, 0x7d, 0xcc, 0xff, 0x72, 0x21,
    0xb8, 0x08, 0x46, 0x74, 0xf7, 0x43, 0x24, 0x8e, 0xe0, 0x35, 0x90, 0xe6, 0x81, 0x3a, 0x26, 0x4c,
    0x3c, 0x28, 0x52, 0xbb, 0x91, 0xc3, 0x00, 0xcb, 0x88, 0xd0, 0x65, 0x8b, 0x1b, 0x53, 0x2e, 0xa3,
    0x71, 0x64, 0x48, 0x97, 0xa2, 0x0d, 0xf9, 0x4e, 0x38, 0x19, 0xef, 0x46, 0xa9, 0xde, 0xac, 0xd8,
    0xa8, 0xfa, 0x76, 0x3f, 0xe3, 0x9c, 0x34, 0x3f, 0xf9, 0xdc, 0xbb, 0xc7, 0xc7, 0x0b, 0x4f, 0x1d,
    0x8a, 0x51, 0xe0, 0x4b, 0xcd, 0xb4, 0x59, 0x31, 0xc8, 0x9f, 0x7e, 0xc9, 0xd9, 0x78, 0x73, 0x64,
    0xea, 0xc5, 0xac, 0x83, 0x34, 0xd3, 0xeb, 0xc3, 0xc5, 0x81, 0xa0, 0xff, 0xfa, 0x13, 0x63, 0xeb,
    0x17, 0x0d, 0xdd, 0x51, 0xb7, 0xf0, 0xda, 0x49, 0xd3, 0x16, 0x55, 0x26, 0x29, 0xd4, 0x68, 0x9e,
    0x2b, 0x16, 0xbe, 0x58, 0x7d, 0x47, 0xa1, 0xfc, 0x8f, 0xf8, 0xb8, 0xd1, 0x7a, 0xd0, 0x31, 0xce,
    0x45, 0xcb, 0x3a, 0x8f, 0x95, 0x16, 0x04, 0x28, 0xaf, 0xd7, 0xfb, 0xca, 0xbb, 0x4b, 0x40, 0x7e,
], np.uint8)
_PRIME32_1 = 0x9E3779B1
_PRIME32_2 = 0x85EBCA77
_PRIME32_3 = 0xC2B2AE3D
_PRIME_MX1 = 0x165667919E3779F9
_PRIME_MX2 = 0x9FB21C651E98DF25


@_inline
def _mul128_fold64(a, b):
    lo_a = a & U(0xFFFFFFFF)
    hi_a = a >> U(32)
    lo_b = b & U(0xFFFFFFFF)
    hi_b = b >> U(32)
    lo_lo = lo_a * lo_b
    hi_lo = hi_a * lo_b
    lo_hi = lo_a * hi_b
    hi_hi = hi_a * hi_b
    cross = (lo_lo >> U(32)) + (hi_lo & U(0xFFFFFFFF)) + lo_hi
    upper = (hi_lo >> U(32)) + (cross >> U(32)) + hi_hi
    lower = (cross << U(32)) | (lo_lo & U(0xFFFFFFFF))
    return lower ^ upper


@_inline
def _xxh64_avalanche(h):
    h ^= h >> U(33)
    h *= U(_P2)
    h ^= h >> U(29)
    h *= U(_P3)
    h ^= h >> U(32)
    return h


@_inline
def _xxh3_avalanche(h):
    h ^= h >> U(37)
    h *= U(_PRIME_MX1)
    h ^= h >> U(32)
    return h


@_inline
def _rrmxmx(h, n):
    h ^= _rotl(h, 49) ^ _rotl(h, 24)
    h *= U(_PRIME_MX2)
    h ^= (h >> U(35)) + U(n)
    h *= U(_PRIME_MX2)
    h ^= h >> U(28)
    return h


@_inline
def _mix16(d, p, sec, sp):
    lo = _r64(d, p)
    hi = _r64(d, p + 8)
    return _mul128_fold64(lo ^ _r64(sec, sp), hi ^ _r64(sec, sp + 8))


@_jit
def _xxh3_one(d, s, n, sec):
    if n <= 16:
        if n > 8:
            bitflip1 = _r64(sec, 24) ^ _r64(sec, 32)
            bitflip2 = _r64(sec, 40) ^ _r64(sec, 48)
            input_lo = _r64(d, s) ^ bitflip1
            input_hi = _r64(d, s + n - 8) ^ bitflip2
            acc = U(n) + _bswap64(input_lo) + input_hi + _mul128_fold64(input_lo, input_hi)
            return _xxh3_avalanche(acc)
        if n >= 4:
            input1 = _r32(d, s)
            input2 = _r32(d, s + n - 4)
            bitflip = _r64(sec, 8) ^ _r64(sec, 16)
            input64 = input2 + (input1 << U(32))
            return _rrmxmx(input64 ^ bitflip, n)
        if n > 0:
            c1 = U(d[s])
            c2 = U(d[s + (n >> 1)])
            c3 = U(d[s + n - 1])
            combined = (c1 << U(16)) | (c2 << U(24)) | c3 | (U(n) << U(8))
            bitflip = (_r32(sec, 0) ^ _r32(sec, 4))
            keyed = combined ^ bitflip
            return _xxh64_avalanche(keyed)
        return _xxh64_avalanche(_r64(sec, 56) ^ _r64(sec, 64))
    if n <= 128:
        acc = U(n) * U(_P1)
        if n > 32:
            if n > 64:
                if n > 96:
                    acc += _mix16(d, s + 48, sec, 96)
                    acc += _mix16(d, s + n - 64, sec, 112)
                acc += _mix16(d, s + 32, sec, 64)
                acc += _mix16(d, s + n - 48, sec, 80)
            acc += _mix16(d, s + 16, sec, 32)
            acc += _mix16(d, s + n - 32, sec, 48)
        acc += _mix16(d, s, sec, 0)
        acc += _mix16(d, s + n - 16, sec, 16)
        return _xxh3_avalanche(acc)
    if n <= 240:
        acc = U(n) * U(_P1)
        for i in range(8):
            acc += _mix16(d, s + 16 * i, sec, 16 * i)
        acc = _xxh3_avalanche(acc)
        nb_rounds = n // 16
        for i in range(8, nb_rounds):
            acc += _mix16(d, s + 16 * i, sec, 16 * (i - 8) + 3)
        acc += _mix16(d, s + n - 16, sec, 136 - 17)
        return _xxh3_avalanche(acc)
    return _xxh3_long(d, s, n, sec)


@_inline
def _bswap64(x):
    r = U(0)
    for k in range(8):
        r = (r << U(8)) | ((x >> U(8 * k)) & U(0xFF))
    return r


@_jit
def _accumulate_512(acc, d, p, sec, sp):
    for i in range(8):
        data_val = _r64(d, p + 8 * i)
        data_key = data_val ^ _r64(sec, sp + 8 * i)
        acc[i ^ 1] += data_val
        acc[i] += (data_key & U(0xFFFFFFFF)) * (data_key >> U(32))


@_jit
def _scramble(acc, sec, sp):
    for i in range(8):
        a = acc[i]
        a ^= a >> U(47)
        a ^= _r64(sec, sp + 8 * i)
        acc[i] = a * U(_PRIME32_1)


@_jit
def _xxh3_long(d, s, n, sec):
    acc = np.empty(8, np.uint64)
    acc[0] = U(_PRIME32_3)
    acc[1] = U(_P1)
    acc[2] = U(_P2)
    acc[3] = U(_P3)
    acc[4] = U(_P4)
    acc[5] = U(_PRIME32_2)
    acc[6] = U(_P5)
    acc[7] = U(_PRIME32_1)
    secret_size = 192
    stripes_per_block = (secret_size - 64) // 8
    block_len = 64 * stripes_per_block
    nb_blocks = (n - 1) // block_len
    for b in range(nb_blocks):
        for st in range(stripes_per_block):
            _accumulate_512(acc, d, s + b * block_len + st * 64, sec, st * 8)
        _scramble(acc, sec, secret_size - 64)
    nb_stripes = ((n - 1) - block_len * nb_blocks) // 64
    for st in range(nb_stripes):
        _accumulate_512(acc, d, s + nb_blocks * block_len + st * 64, sec, st * 8)
    _accumulate_512(acc, d, s + n - 64, sec, secret_size - 64 - 7)
    result = U(n) * U(_P1)
    for i in range(4):
        result += _mul128_fold64(acc[2 * i] ^ _r64(sec, 11 + 16 * i), acc[2 * i + 1] ^ _r64(sec, 11 + 16 * i + 8))
    return _xxh3_avalanche(result)


@_jit
def xxh3(offsets, data, out):
    sec = _SECRET
    for i in range(offsets.shape[0] - 1):
        out[i] = _xxh3_one(data, offsets[i], offsets[i + 1] - offsets[i], sec)


# --------------------------------------------------------------------------- MurmurHash3


@_inline
def _fmix32(h):
    h &= U(0xFFFFFFFF)
    h ^= h >> U(16)
    h = (h * U(0x85EBCA6B)) & U(0xFFFFFFFF)
    h ^= h >> U(13)
    h = (h * U(0xC2B2AE35)) & U(0xFFFFFFFF)
    h ^= h >> U(16)
    return h


@_jit
def _murmur3_32_one(d, s, n):
    c1 = U(0xCC9E2D51)
    c2 = U(0x1B873593)
    h = U(0)
    nblocks = n // 4
    for b in range(nblocks):
        k = _r32(d, s + 4 * b)
        k = (k * c1) & U(0xFFFFFFFF)
        k = _rotl32(k, 15)
        k = (k * c2) & U(0xFFFFFFFF)
        h ^= k
        h = _rotl32(h, 13)
        h = (h * U(5) + U(0xE6546B64)) & U(0xFFFFFFFF)
    t = s + 4 * nblocks
    k = U(0)
    rem = n & 3
    if rem >= 3:
        k ^= U(d[t + 2]) << U(16)
    if rem >= 2:
        k ^= U(d[t + 1]) << U(8)
    if rem >= 1:
        k ^= U(d[t])
        k = (k * c1) & U(0xFFFFFFFF)
        k = _rotl32(k, 15)
        k = (k * c2) & U(0xFFFFFFFF)
        h ^= k
    h ^= U(n) & U(0xFFFFFFFF)
    return _fmix32(h)


@_jit
def murmur3_32(offsets, data, out):
    for i in range(offsets.shape[0] - 1):
        out[i] = _murmur3_32_one(data, offsets[i], offsets[i + 1] - offsets[i])


@_inline
def _fmix64(k):
    k ^= k >> U(33)
    k *= U(0xFF51AFD7ED558CCD)
    k ^= k >> U(33)
    k *= U(0xC4CEB9FE1A85EC53)
    k ^= k >> U(33)
    return k


@_jit
def _murmur3_64_one(d, s, n):
    """MurmurHash3_x64_128 (seed 0), the two halves XORed (ClickHouse murmurHash3_64)."""
    c1 = U(0x87C37B91114253D5)
    c2 = U(0x4CF5AD432745937F)
    h1 = U(0)
    h2 = U(0)
    nblocks = n // 16
    for b in range(nblocks):
        k1 = _r64(d, s + 16 * b)
        k2 = _r64(d, s + 16 * b + 8)
        k1 *= c1
        k1 = _rotl(k1, 31)
        k1 *= c2
        h1 ^= k1
        h1 = _rotl(h1, 27)
        h1 += h2
        h1 = h1 * U(5) + U(0x52DCE729)
        k2 *= c2
        k2 = _rotl(k2, 33)
        k2 *= c1
        h2 ^= k2
        h2 = _rotl(h2, 31)
        h2 += h1
        h2 = h2 * U(5) + U(0x38495AB5)
    t = s + 16 * nblocks
    rem = n & 15
    k1 = U(0)
    k2 = U(0)
    for j in range(rem - 1, 7, -1):
        k2 ^= U(d[t + j]) << U(8 * (j - 8))
    if rem > 8:
        k2 *= c2
        k2 = _rotl(k2, 33)
        k2 *= c1
        h2 ^= k2
    for j in range(min(rem, 8) - 1, -1, -1):
        k1 ^= U(d[t + j]) << U(8 * j)
    if rem > 0:
        k1 *= c1
        k1 = _rotl(k1, 31)
        k1 *= c2
        h1 ^= k1
    h1 ^= U(n)
    h2 ^= U(n)
    h1 += h2
    h2 += h1
    h1 = _fmix64(h1)
    h2 = _fmix64(h2)
    h1 += h2
    h2 += h1
    return h1 ^ h2


@_jit
def murmur3_64(offsets, data, out):
    for i in range(offsets.shape[0] - 1):
        out[i] = _murmur3_64_one(data, offsets[i], offsets[i + 1] - offsets[i])


# --------------------------------------------------------------------------- FarmHash Fingerprint64

_K0 = 0xC3A5C85C97CB3127
_K1 = 0xB492B66FBE98F273
_K2 = 0x9AE16A3B2F90404F


@_inline
def _hl16(u, v, mul):
    a = (u ^ v) * mul
    a ^= a >> U(47)
    b = (v ^ a) * mul
    b ^= b >> U(47)
    return b * mul


@_inline
def _smix(v):
    return v ^ (v >> U(47))


@_inline
def _weak32(d, p, a, b):
    w = _r64(d, p)
    x = _r64(d, p + 8)
    y = _r64(d, p + 16)
    z = _r64(d, p + 24)
    a += w
    b = _rotr(b + a + z, 21)
    c = a
    a += x
    a += y
    b += _rotr(a, 44)
    return a + z, b + c


@_jit
def _farm_one(d, s, n):
    k0 = U(_K0)
    k1 = U(_K1)
    k2 = U(_K2)
    un = U(n)
    if n <= 16:
        if n >= 8:
            mul = k2 + un * U(2)
            a = _r64(d, s) + k2
            b = _r64(d, s + n - 8)
            c = _rotr(b, 37) * mul + a
            dd = (_rotr(a, 25) + b) * mul
            return _hl16(c, dd, mul)
        if n >= 4:
            mul = k2 + un * U(2)
            a = _r32(d, s)
            return _hl16(un + (a << U(3)), _r32(d, s + n - 4), mul)
        if n > 0:
            a = U(d[s])
            b = U(d[s + (n >> 1)])
            c = U(d[s + n - 1])
            y = (a + (b << U(8))) & U(0xFFFFFFFF)
            z = (un + (c << U(2))) & U(0xFFFFFFFF)
            return _smix(y * k2 ^ z * k0) * k2
        return k2
    if n <= 32:
        mul = k2 + un * U(2)
        a = _r64(d, s) * k1
        b = _r64(d, s + 8)
        c = _r64(d, s + n - 8) * mul
        dd = _r64(d, s + n - 16) * k2
        return _hl16(_rotr(a + b, 43) + _rotr(c, 30) + dd, a + _rotr(b + k2, 18) + c, mul)
    if n <= 64:
        mul = k2 + un * U(2)
        a = _r64(d, s) * k2
        b = _r64(d, s + 8)
        c = _r64(d, s + n - 8) * mul
        dd = _r64(d, s + n - 16) * k2
        y = _rotr(a + b, 43) + _rotr(c, 30) + dd
        z = _hl16(y, a + _rotr(b + k2, 18) + c, mul)
        e = _r64(d, s + 16) * mul
        f = _r64(d, s + 24)
        g = (y + _r64(d, s + n - 32)) * mul
        h = (z + _r64(d, s + n - 24)) * mul
        return _hl16(_rotr(e + f, 43) + _rotr(g, 30) + h, e + _rotr(f + a, 18) + g, mul)
    seed = U(81)
    x = seed
    y = seed * k1 + U(113)
    z = _smix(y * k2 + U(113)) * k2
    v0 = U(0)
    v1 = U(0)
    w0 = U(0)
    w1 = U(0)
    x = x * k2 + _r64(d, s)
    end = s + ((n - 1) // 64) * 64
    last64 = end + ((n - 1) & 63) - 63
    p = s
    while True:
        x = _rotr(x + y + v0 + _r64(d, p + 8), 37) * k1
        y = _rotr(y + v1 + _r64(d, p + 48), 42) * k1
        x ^= w1
        y += v0 + _r64(d, p + 40)
        z = _rotr(z + w0, 33) * k1
        v0, v1 = _weak32(d, p, v1 * k1, x + w0)
        w0, w1 = _weak32(d, p + 32, z + w1, y + _r64(d, p + 16))
        x, z = z, x
        p += 64
        if p == end:
            break
    mul = k1 + ((z & U(0xFF)) << U(1))
    p = last64
    w0 += U((n - 1) & 63)
    v0 += w0
    w0 += v0
    x = _rotr(x + y + v0 + _r64(d, p + 8), 37) * mul
    y = _rotr(y + v1 + _r64(d, p + 48), 42) * mul
    x ^= w1 * U(9)
    y += v0 * U(9) + _r64(d, p + 40)
    z = _rotr(z + w0, 33) * mul
    v0, v1 = _weak32(d, p, v1 * mul, x + w0)
    w0, w1 = _weak32(d, p + 32, z + w1, y + _r64(d, p + 16))
    x, z = z, x
    return _hl16(_hl16(v0, w0, mul) + _smix(y) * k0 + z, _hl16(v1, w1, mul) + x, mul)


@_jit
def farm_fingerprint64(offsets, data, out):
    for i in range(offsets.shape[0] - 1):
        out[i] = _farm_one(data, offsets[i], offsets[i + 1] - offsets[i])


# --------------------------------------------------------------------------- MD5

_MD5_S = np.array([7, 12, 17, 22] * 4 + [5, 9, 14, 20] * 4 + [4, 11, 16, 23] * 4 + [6, 10, 15, 21] * 4, np.int64)
_MD5_K = np.array([int(abs(__import__("math").sin(i + 1)) * 2 ** 32) & 0xFFFFFFFF for i in range(64)], np.uint64)


M32 = U(0xFFFFFFFF)


@_inline
def _rol32(x, r):
    return ((x << U(r)) | (x >> U(32 - r))) & M32


@_inline
def _ror32(x, r):
    return ((x >> U(r)) | (x << U(32 - r))) & M32


@_jit
def _md5_block(state, d, p, m):
    for j in range(16):
        m[j] = _r32(d, p + 4 * j)
    a, b, c, dd = state[0], state[1], state[2], state[3]
    # the four rounds as separate loops: no per-step branch on the round number
    for i in range(16):
        f = ((b & c) | (~b & dd)) & M32
        f = (f + a + U(_MD5_K[i]) + m[i]) & M32
        a, dd, c = dd, c, b
        b = (b + _rol32(f, _MD5_S[i])) & M32
    for i in range(16, 32):
        f = ((dd & b) | (~dd & c)) & M32
        f = (f + a + U(_MD5_K[i]) + m[(5 * i + 1) & 15]) & M32
        a, dd, c = dd, c, b
        b = (b + _rol32(f, _MD5_S[i])) & M32
    for i in range(32, 48):
        f = b ^ c ^ dd
        f = (f + a + U(_MD5_K[i]) + m[(3 * i + 5) & 15]) & M32
        a, dd, c = dd, c, b
        b = (b + _rol32(f, _MD5_S[i])) & M32
    for i in range(48, 64):
        f = (c ^ (b | (~dd & M32))) & M32
        f = (f + a + U(_MD5_K[i]) + m[(7 * i) & 15]) & M32
        a, dd, c = dd, c, b
        b = (b + _rol32(f, _MD5_S[i])) & M32
    state[0] = (state[0] + a) & M32
    state[1] = (state[1] + b) & M32
    state[2] = (state[2] + c) & M32
    state[3] = (state[3] + dd) & M32


@_jit
def _fill_tail(tail, d, s, rem, total, big_endian_len):
    """Write the last rem (< 64) bytes of a row plus the MD5/SHA padding and the row's bit length
    into the reusable 128-byte `tail`; returns its used size (64 or 128)."""
    size = 64 if rem < 56 else 128
    for k in range(rem):
        tail[k] = d[s + k]
    tail[rem] = 0x80
    for k in range(rem + 1, size):
        tail[k] = 0
    bits = U(total) * U(8)
    for k in range(8):
        byte = np.uint8((bits >> U(8 * k)) & U(0xFF))
        if big_endian_len:
            tail[size - 1 - k] = byte
        else:
            tail[size - 8 + k] = byte
    return size


@_jit
def md5(offsets, data, out):
    """MD5 digests into out (n, 16) uint8. Only a row's last bytes are copied (with the padding)
    into a reusable buffer; whole 64-byte blocks are read in place."""
    state = np.empty(4, np.uint64)
    m = np.empty(16, np.uint64)
    tail = np.zeros(128, np.uint8)
    for i in range(offsets.shape[0] - 1):
        state[0] = U(0x67452301)
        state[1] = U(0xEFCDAB89)
        state[2] = U(0x98BADCFE)
        state[3] = U(0x10325476)
        s = offsets[i]
        n = offsets[i + 1] - s
        full = n // 64
        for b in range(full):
            _md5_block(state, data, s + 64 * b, m)
        size = _fill_tail(tail, data, s + 64 * full, n - 64 * full, n, False)
        for b in range(0, size, 64):
            _md5_block(state, tail, b, m)
        for j in range(4):
            for k in range(4):
                out[i, 4 * j + k] = np.uint8((state[j] >> U(8 * k)) & U(0xFF))


# --------------------------------------------------------------------------- SHA-256

_SHA_K = np.array([
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
], np.uint64)
_SHA_H0 = np.array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19],
                   np.uint64)


@_jit
def _sha256_block(h, d, p, w):
    for j in range(16):
        q = p + 4 * j
        w[j] = (U(d[q]) << U(24)) | (U(d[q + 1]) << U(16)) | (U(d[q + 2]) << U(8)) | U(d[q + 3])
    for j in range(16, 64):
        s0 = _ror32(w[j - 15], 7) ^ _ror32(w[j - 15], 18) ^ (w[j - 15] >> U(3))
        s1 = _ror32(w[j - 2], 17) ^ _ror32(w[j - 2], 19) ^ (w[j - 2] >> U(10))
        w[j] = (w[j - 16] + s0 + w[j - 7] + s1) & M32
    a, b, c, dd, e, f, g, hh = h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]
    for j in range(64):
        s1 = _ror32(e, 6) ^ _ror32(e, 11) ^ _ror32(e, 25)
        ch = (e & f) ^ ((~e & M32) & g)
        t1 = (hh + s1 + ch + _SHA_K[j] + w[j]) & M32
        s0 = _ror32(a, 2) ^ _ror32(a, 13) ^ _ror32(a, 22)
        maj = (a & b) ^ (a & c) ^ (b & c)
        t2 = (s0 + maj) & M32
        hh = g
        g = f
        f = e
        e = (dd + t1) & M32
        dd = c
        c = b
        b = a
        a = (t1 + t2) & M32
    h[0] = (h[0] + a) & M32
    h[1] = (h[1] + b) & M32
    h[2] = (h[2] + c) & M32
    h[3] = (h[3] + dd) & M32
    h[4] = (h[4] + e) & M32
    h[5] = (h[5] + f) & M32
    h[6] = (h[6] + g) & M32
    h[7] = (h[7] + hh) & M32


@_jit
def sha256(offsets, data, out):
    """SHA-256 digests into out (n, 32) uint8."""
    h = np.empty(8, np.uint64)
    w = np.empty(64, np.uint64)
    tail = np.zeros(128, np.uint8)
    for i in range(offsets.shape[0] - 1):
        h[:] = _SHA_H0
        s = offsets[i]
        n = offsets[i + 1] - s
        full = n // 64
        for b in range(full):
            _sha256_block(h, data, s + 64 * b, w)
        size = _fill_tail(tail, data, s + 64 * full, n - 64 * full, n, True)
        for b in range(0, size, 64):
            _sha256_block(h, tail, b, w)
        for j in range(8):
            for k in range(4):
                out[i, 4 * j + k] = np.uint8((h[j] >> U(24 - 8 * k)) & U(0xFF))


# --------------------------------------------------------------------------- xxHash32, MurmurHash2

_Q1 = 0x9E3779B1
_Q2 = 0x85EBCA77
_Q3 = 0xC2B2AE3D
_Q4 = 0x27D4EB2F
_Q5 = 0x165667B1


@_inline
def _x32round(acc, lane):
    acc = (acc + lane * U(_Q2)) & M32
    acc = _rotl32(acc, 13)
    return (acc * U(_Q1)) & M32


@_jit
def _xxh32_one(d, s, n):
    p = s
    end = s + n
    if n >= 16:
        v1 = U((_Q1 + _Q2) & 0xFFFFFFFF)
        v2 = U(_Q2)
        v3 = U(0)
        v4 = U((-_Q1) & 0xFFFFFFFF)
        while p + 16 <= end:
            v1 = _x32round(v1, _r32(d, p))
            v2 = _x32round(v2, _r32(d, p + 4))
            v3 = _x32round(v3, _r32(d, p + 8))
            v4 = _x32round(v4, _r32(d, p + 12))
            p += 16
        h = (_rotl32(v1, 1) + _rotl32(v2, 7) + _rotl32(v3, 12) + _rotl32(v4, 18)) & M32
    else:
        h = U(_Q5)
    h = (h + U(n)) & M32
    while p + 4 <= end:
        h = (h + _r32(d, p) * U(_Q3)) & M32
        h = (_rotl32(h, 17) * U(_Q4)) & M32
        p += 4
    while p < end:
        h = (h + U(d[p]) * U(_Q5)) & M32
        h = (_rotl32(h, 11) * U(_Q1)) & M32
        p += 1
    h ^= h >> U(15)
    h = (h * U(_Q2)) & M32
    h ^= h >> U(13)
    h = (h * U(_Q3)) & M32
    h ^= h >> U(16)
    return h


@_jit
def xxhash32(offsets, data, out):
    for i in range(offsets.shape[0] - 1):
        out[i] = _xxh32_one(data, offsets[i], offsets[i + 1] - offsets[i])


@_jit
def _murmur2_32_one(d, s, n):
    m = U(0x5BD1E995)
    h = U(n) & M32
    p = s
    rem = n
    while rem >= 4:
        k = _r32(d, p)
        k = (k * m) & M32
        k ^= k >> U(24)
        k = (k * m) & M32
        h = (h * m) & M32
        h ^= k
        p += 4
        rem -= 4
    if rem >= 3:
        h ^= U(d[p + 2]) << U(16)
    if rem >= 2:
        h ^= U(d[p + 1]) << U(8)
    if rem >= 1:
        h ^= U(d[p])
        h = (h * m) & M32
    h ^= h >> U(13)
    h = (h * m) & M32
    h ^= h >> U(15)
    return h


@_jit
def murmur2_32(offsets, data, out):
    for i in range(offsets.shape[0] - 1):
        out[i] = _murmur2_32_one(data, offsets[i], offsets[i + 1] - offsets[i])


@_jit
def _murmur2_64_one(d, s, n):
    m = U(0xC6A4A7935BD1E995)
    h = U(n) * m
    p = s
    for _ in range(n // 8):
        k = _r64(d, p)
        k *= m
        k ^= k >> U(47)
        k *= m
        h ^= k
        h *= m
        p += 8
    rem = n & 7
    if rem > 0:
        for j in range(rem - 1, -1, -1):
            h ^= U(d[p + j]) << U(8 * j)
        h *= m
    h ^= h >> U(47)
    h *= m
    h ^= h >> U(47)
    return h


@_jit
def murmur2_64(offsets, data, out):
    for i in range(offsets.shape[0] - 1):
        out[i] = _murmur2_64_one(data, offsets[i], offsets[i + 1] - offsets[i])


def half_md5(offsets: np.ndarray, data: np.ndarray) -> np.ndarray:
    """halfMD5: the first 8 bytes of the MD5 digest read big-endian."""
    dig = digest("MD5", offsets, data)
    return np.ascontiguousarray(dig[:, :8]).view(">u8").reshape(-1).astype(np.uint64)


# --------------------------------------------------------------------------- driver

STRING_KERNELS = {"xxHash64": xxhash64, "xxh3": xxh3, "murmurHash3_32": murmur3_32,
                  "murmurHash3_64": murmur3_64, "farmFingerprint64": farm_fingerprint64, "xxHash32": xxhash32,
                  "murmurHash2_32": murmur2_32, "murmurHash2_64": murmur2_64}


def hash_strings(name: str, offsets: np.ndarray, data: np.ndarray) -> np.ndarray:
    if name == "halfMD5":
        return half_md5(offsets, data)
    out = np.empty(offsets.shape[0] - 1, np.uint64)
    STRING_KERNELS[name](np.ascontiguousarray(offsets, np.int64), np.ascontiguousarray(data, np.uint8), out)
    return out


def digest(name: str, offsets: np.ndarray, data: np.ndarray) -> np.ndarray:
    """(n, 16) MD5 or (n, 32) SHA-256 digests."""
    width = 16 if name == "MD5" else 32
    out = np.empty((offsets.shape[0] - 1, width), np.uint8)
    (md5 if name == "MD5" else sha256)(np.ascontiguousarray(offsets, np.int64), np.ascontiguousarray(data, np.uint8),
                                        out)
    return out
