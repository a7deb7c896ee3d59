"""Hashing kernels for group-by and distinct: 64-bit mixing of fixed-width keys.

1. `hash_u64(keys)`: murmur3's fmix64 finaliser over uint64 keys (every input bit reaches the low
   bits the hash tables use). Twin: `hash_u64_numpy`.
2. `key_bits(values)`: fixed-width numeric values -> uint64 keys with equal values <-> equal keys
   (ints sign-extended, floats with -0.0 == 0.0 and one NaN); numpy only, no kernel needed.

3. `hash_strings_mix(offsets, data)`: a second 64-bit string hash (8-byte words mixed with fmix64,
   length folded in), independent of the FNV-1a hash in `mergetree.kernels.strings`; the two
   together identify a string up to a 128-bit collision (ClickHouse's uniqExact keeps only a
   128-bit SipHash of each string for the same reason). Twin: `hash_strings_mix_numpy`.

LowCardinality keys use their dictionary codes directly (see `groupby.py`).
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(nogil=True, cache=True, inline="always")
def fmix64(h):
    h = h ^ (h >> np.uint64(33))
    h = h * np.uint64(0xFF51AFD7ED558CCD)
    h = h ^ (h >> np.uint64(33))
    h = h * np.uint64(0xC4CEB9FE1A85EC53)
    h = h ^ (h >> np.uint64(33))
    return h


@numba.njit(nogil=True, cache=True)
def _hash_u64(keys, out):
    for i in range(keys.shape[0]):
        out[i] = fmix64(keys[i])


def hash_u64(keys: np.ndarray) -> np.ndarray:
    """fmix64 of every uint64 key."""
    keys = np.ascontiguousarray(keys, dtype=np.uint64)
    out = np.empty(len(keys), np.uint64)
    _hash_u64(keys, out)
    return out


def hash_u64_numpy(keys: np.ndarray) -> np.ndarray:
    """Twin of hash_u64."""
    h = np.asarray(keys, dtype=np.uint64).copy()
    with np.errstate(over="ignore"):
        h ^= h >> np.uint64(33)
        h *= np.uint64(0xFF51AFD7ED558CCD)
        h ^= h >> np.uint64(33)
        h *= np.uint64(0xC4CEB9FE1A85EC53)
        h ^= h >> np.uint64(33)
    return h


def key_bits(values: np.ndarray) -> np.ndarray:
    """uint64 keys of a 1-D numeric array: equal values (as ClickHouse groups them) -> equal keys."""
    v = np.asarray(values)
    if v.dtype.kind == "f":
        v = v.astype(np.float64)   # copy
        v[v == 0] = 0.0            # -0.0 groups with 0.0
        v[np.isnan(v)] = np.nan    # one NaN bit pattern
        return v.view(np.uint64)
    if v.dtype.kind == "i":
        return v.astype(np.int64).view(np.uint64)
    if v.dtype.kind in "ub":
        return v.astype(np.uint64)
    raise TypeError(f"key_bits: unsupported dtype {v.dtype}")


@numba.njit(nogil=True, cache=True)
def _hash_strings_mix(offsets, data, out):
    for i in range(offsets.shape[0] - 1):
        a, b = offsets[i], offsets[i + 1]
        h = np.uint64(b - a) * np.uint64(0x9E3779B97F4A7C15)
        k = a
        while k < b:
            w = np.uint64(0)
            for j in range(min(8, b - k)):
                w |= np.uint64(data[k + j]) << np.uint64(8 * j)
            h = fmix64(h ^ w) + np.uint64(0x632BE59BD9B4E019)
            k += 8
        out[i] = fmix64(h)


def hash_strings_mix(offsets: np.ndarray, data: np.ndarray) -> np.ndarray:
    out = np.empty(len(offsets) - 1, np.uint64)
    _hash_strings_mix(np.ascontiguousarray(offsets, np.int64), np.ascontiguousarray(data, np.uint8), out)
    return out


def hash_strings_mix_numpy(offsets: np.ndarray, data: np.ndarray) -> np.ndarray:
    """Twin of hash_strings_mix: one vectorised step per 8-byte word position."""
    offsets = np.asarray(offsets, np.int64)
    starts, lengths = offsets[:-1], np.diff(offsets)
    with np.errstate(over="ignore"):
        h = lengths.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        padded = np.concatenate([np.asarray(data, np.uint8), np.zeros(8, np.uint8)])
        for w_index in range(int((lengths.max() + 7) // 8) if len(lengths) else 0):
            live = lengths > 8 * w_index
            pos = starts[live] + 8 * w_index
            take = np.minimum(lengths[live] - 8 * w_index, 8)
            word = np.zeros(int(live.sum()), np.uint64)
            for j in range(8):
                byte = padded[pos + j].astype(np.uint64)
                word |= np.where(j < take, byte, np.uint64(0)) << np.uint64(8 * j)
            h[live] = hash_u64_numpy(h[live] ^ word) + np.uint64(0x632BE59BD9B4E019)
        return hash_u64_numpy(h)
