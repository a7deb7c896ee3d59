"""Hash and id functions, bit-exact with ClickHouse: cityHash64, sipHash64, xxHash64, xxh3,
murmurHash3_32, murmurHash3_64, farmFingerprint64, xxHash32, murmurHash2_32, murmurHash2_64,
halfMD5, intHash32, intHash64, MD5, SHA256,
generateUUIDv4, toUUID, toUUIDOrNull, toUUIDOrZero, UUIDStringToNum, UUIDNumToString.

How ClickHouse hashes an argument depends on its type and the function:

* String / FixedString: the function over the bytes.
* numbers, dates, Bool, UUID: cityHash64 and farmFingerprint64 ("int hash for PODs") take
  intHash64 of the value's own-width bits zero-extended, so ``cityHash64(toInt8(-1)) =
  cityHash64(toUInt8(255))``; the others hash the value's little-endian bytes, so
  ``xxHash64(toUInt8(1)) != xxHash64(toUInt64(1))``.
* several arguments: the first argument's hash, then ``combine(previous, next)`` per argument:
  CityHash's Hash128to64 (cityHash64, xxHash64, xxh3), FarmHash's Fingerprint(uint128)
  (farmFingerprint64), ``intHash64(prev) ^
  next`` (murmurHash3_64, murmurHash2_64), ``intHash32(prev) ^ next`` (murmurHash3_32,
  murmurHash2_32, xxHash32), and for sipHash64 / halfMD5 the function of the 16 bytes of both
  hashes.

intHash32/intHash64 sign-extend signed arguments to 64 bits (``intHash64(toInt8(-1)) =
intHash64(18446744073709551615)``). Arrays, tuples and maps as hash arguments are not supported
(IllegalTypeOfArgument).
"""

from __future__ import annotations

import numpy as np

from mergetree import types as T
from mergetree.column import FixedColumn
from mergetree.errors import MergeTreeError
from mergetree.functions import values as V
from mergetree.functions.comparison import _string_parts
from mergetree.functions.registry import check_arity, illegal_type, register


class CannotParseUUID(MergeTreeError):
    code = "CANNOT_PARSE_UUID"


def _is_text(t) -> bool:
    return isinstance(t, (T.StringType, T.FixedStringType))


def _hashable(name, t, i):
    if _is_text(t):
        return
    if t.is_fixed and t.dtype is not None and (not t.value_shape or isinstance(t, T.UUIDType)):
        return
    raise illegal_type(name, t, i)


def _row_bytes(c):
    """(offsets, bytes) of a fixed-width column: each row's little-endian value bytes."""
    v = np.ascontiguousarray(V.values(c))
    rows = v.shape[0]
    width = v.dtype.itemsize * (int(np.prod(v.shape[1:])) if v.ndim > 1 else 1)
    return np.arange(rows + 1, dtype=np.int64) * width, v.view(np.uint8).reshape(-1)


def _zero_extended_bits(c) -> np.ndarray:
    v = np.ascontiguousarray(V.values(c))
    return v.view(np.dtype(f"u{v.dtype.itemsize}")).astype(np.uint64)


def _siphash(offsets, data):
    from mergetree.kernels.siphash import hash_rows

    return hash_rows(offsets, data)


def _cityhash(offsets, data):
    from mergetree.kernels.cityhash import hash_rows

    return hash_rows(offsets, data)


def _kernel(name):
    from mergetree.kernels import hashes as H

    return lambda offsets, data: H.hash_strings(name, offsets, data)


# name -> (string kernel factory, int hash for PODs, combine mode, result type)
_ANY_HASH = {
    "cityHash64": (lambda: _cityhash, True, "city", T.UInt64),
    "sipHash64": (lambda: _siphash, False, "sip", T.UInt64),
    "xxHash64": (lambda: _kernel("xxHash64"), False, "city", T.UInt64),
    "xxh3": (lambda: _kernel("xxh3"), False, "city", T.UInt64),
    "farmFingerprint64": (lambda: _kernel("farmFingerprint64"), True, "farm", T.UInt64),
    "murmurHash3_64": (lambda: _kernel("murmurHash3_64"), False, "int64", T.UInt64),
    "murmurHash3_32": (lambda: _kernel("murmurHash3_32"), False, "int32", T.UInt32),
    "xxHash32": (lambda: _kernel("xxHash32"), False, "int32", T.UInt32),
    "murmurHash2_32": (lambda: _kernel("murmurHash2_32"), False, "int32", T.UInt32),
    "murmurHash2_64": (lambda: _kernel("murmurHash2_64"), False, "int64", T.UInt64),
    "halfMD5": (lambda: _kernel("halfMD5"), False, "self", T.UInt64),
}


def _hash_one_argument(name, t, c, n):
    from mergetree.kernels import hashes as H

    kernel_factory, int_hash, _, _ = _ANY_HASH[name]
    if _is_text(t):
        h = kernel_factory()(*_string_parts(c))
    elif int_hash and V.values(c).dtype.itemsize <= 8 and not isinstance(t, T.UUIDType):
        bits = _zero_extended_bits(c)
        h = np.empty(len(bits), np.uint64)
        H.int_hash64_array(bits, h)
    else:
        h = kernel_factory()(*_row_bytes(c))
    return np.ascontiguousarray(np.broadcast_to(h, (n,)), np.uint64)


def _combine(name, acc, h):
    from mergetree.kernels import hashes as H

    mode = _ANY_HASH[name][2]
    if mode in ("sip", "self"):  # the function itself over the 16 bytes of both hashes
        pair = np.empty((len(acc), 2), np.uint64)
        pair[:, 0] = acc
        pair[:, 1] = h
        fn = _siphash if mode == "sip" else _ANY_HASH[name][0]()
        return fn(np.arange(len(acc) + 1, dtype=np.int64) * 16, pair.view(np.uint8).reshape(-1))
    acc = acc.copy()
    H.combine(acc, h, {"city": 0, "int64": 1, "int32": 2, "farm": 3}[mode])
    return acc


def _any_hash(name: str):
    rtype = _ANY_HASH[name][3]

    @register(name)
    def resolve(types, consts):
        check_arity(name, types, 1, 1 << 20)
        for i, t in enumerate(types):
            _hashable(name, t, i)

        def impl(args, n):
            rows = 1 if all(V.is_const(a) for a in args) else n
            acc = None
            for t, a in zip(types, args):
                h = _hash_one_argument(name, t, a, rows)
                acc = h if acc is None else _combine(name, acc, h)
            return V.fixed(rtype, acc.astype(rtype.dtype))

        return rtype, impl

    return resolve


for _name in _ANY_HASH:
    _any_hash(_name)


def _int_hash(name: str, bits: int):
    rtype = T.UInt64 if bits == 64 else T.UInt32

    @register(name)
    def resolve(types, consts):
        check_arity(name, types, 1)
        t = types[0]
        if not isinstance(t, (T.IntType, T.BoolType, T.DateType, T.Date32Type, T.DateTimeType, T.DecimalType)):
            raise illegal_type(name, t, 0)

        def impl(args, n):
            from mergetree.kernels import hashes as H

            v = np.ascontiguousarray(V.values(args[0]))
            x = v.astype(np.int64).view(np.uint64) if v.dtype.kind == "i" else v.astype(np.uint64)
            out = np.empty(len(x), np.uint64)
            (H.int_hash64_array if bits == 64 else H.int_hash32_array)(x, out)
            return V.fixed(rtype, out.astype(rtype.dtype))

        return rtype, impl

    return resolve


_int_hash("intHash64", 64)
_int_hash("intHash32", 32)


def _digest(name: str, width: int):
    rtype = T.FixedStringType(width)

    @register(name)
    def resolve(types, consts):
        check_arity(name, types, 1)
        if not _is_text(types[0]):
            raise illegal_type(name, types[0], 0)

        def impl(args, n):
            from mergetree.kernels import hashes as H

            return FixedColumn(rtype, H.digest(name, *_string_parts(args[0])))

        return rtype, impl

    return resolve


_digest("MD5", 16)
_digest("SHA256", 32)


# --------------------------------------------------------------------------- UUIDs


def parse_uuids(offsets: np.ndarray, data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """((n, 2) uint64 [high, low] halves, ok mask) of 36-char (8-4-4-4-12) or 32-hex UUID text."""
    n = len(offsets) - 1
    lens = np.diff(offsets)
    ok = (lens == 36) | (lens == 32)
    out = np.zeros((n, 2), np.uint64)
    for length, dashes in ((36, (8, 13, 18, 23)), (32, ())):
        rows = np.nonzero(lens == length)[0]
        if not len(rows):
            continue
        mat = data[offsets[rows][:, None] + np.arange(length)[None, :]]
        if dashes:
            ok[rows] &= (mat[:, list(dashes)] == 45).all(axis=1)
            mat = np.delete(mat, list(dashes), axis=1)
        val = np.full(mat.shape, 255, np.int16)
        for lo, hi, base in ((48, 57, 0), (97, 102, 10), (65, 70, 10)):
            m = (mat >= lo) & (mat <= hi)
            val[m] = mat[m].astype(np.int16) - lo + base
        ok[rows] &= (val != 255).all(axis=1)
        nib = np.where(val == 255, 0, val).astype(np.uint64)
        weights = np.uint64(1) << (np.uint64(4) * np.arange(15, -1, -1, dtype=np.uint64))
        out[rows, 0] = (nib[:, :16] * weights).sum(axis=1, dtype=np.uint64)
        out[rows, 1] = (nib[:, 16:] * weights).sum(axis=1, dtype=np.uint64)
    out[~ok] = 0
    return out, ok


def _to_uuid(name: str, on_error: str):
    rtype = T.UUIDType() if on_error != "null" else T.Nullable(T.UUIDType())

    @register(name)
    def resolve(types, consts):
        check_arity(name, types, 1)
        t = types[0]
        if isinstance(t, T.UUIDType):
            return t, lambda args, n: args[0]
        if not _is_text(t):
            raise illegal_type(name, t, 0)

        def impl(args, n):
            offsets, data = _string_parts(args[0])
            vals, ok = parse_uuids(offsets, data)
            if on_error == "throw" and not ok.all():
                i = int(np.argmin(ok))
                text = bytes(data[offsets[i]:offsets[i + 1]]).decode("utf-8", "replace")
                raise CannotParseUUID(f"Cannot parse uuid {text}: Cannot parse UUID from String")
            col = FixedColumn(T.UUIDType(), vals)
            if on_error == "null":
                return V.with_nulls(col, ~ok, rtype)
            return col

        return rtype, impl

    return resolve


_to_uuid("toUUID", "throw")
_to_uuid("toUUIDOrZero", "zero")
_to_uuid("toUUIDOrNull", "null")


@register("UUIDStringToNum")
def uuid_string_to_num(types, consts):
    check_arity("UUIDStringToNum", types, 1)
    if not _is_text(types[0]):
        raise illegal_type("UUIDStringToNum", types[0], 0)
    rtype = T.FixedStringType(16)

    def impl(args, n):
        offsets, data = _string_parts(args[0])
        vals, ok = parse_uuids(offsets, data)
        if not ok.all():
            i = int(np.argmin(ok))
            text = bytes(data[offsets[i]:offsets[i + 1]]).decode("utf-8", "replace")
            raise CannotParseUUID(f"Cannot parse uuid {text}: Cannot parse UUID from String")
        be = vals.astype(">u8")  # big-endian bytes: the text order
        return FixedColumn(rtype, be.view(np.uint8).reshape(-1, 16).copy())

    return rtype, impl


@register("generateUUIDv4")
def generate_uuid_v4(types, consts):
    """Random version-4 UUIDs; an optional argument only makes calls distinct (as in ClickHouse)."""
    check_arity("generateUUIDv4", types, 0, 1)

    def impl(args, n):
        vals = np.frombuffer(np.random.default_rng().bytes(16 * max(n, 1)), np.uint64).reshape(-1, 2)[:n].copy()
        vals[:, 0] = (vals[:, 0] & np.uint64(0xFFFFFFFFFFFF0FFF)) | np.uint64(0x4000)
        vals[:, 1] = (vals[:, 1] & np.uint64(0x3FFFFFFFFFFFFFFF)) | np.uint64(0x8000000000000000)
        return FixedColumn(T.UUIDType(), vals)

    return T.UUIDType(), impl
