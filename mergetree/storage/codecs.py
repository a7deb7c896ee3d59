"""Compression codecs, compressed blocks and light encodings.

Every ``.bin`` file of a part is a sequence of *compressed blocks*. One block:

1. ``checksum`` u64 -- :func:`mergetree.kernels.codecs.checksum64` of the payload, seeded with
   the rest of the header, so a flipped bit in the sizes or the data is detected when the block
   is read (before anything is decompressed).
2. ``method`` u8  -- general codec: ``0x02`` NONE, ``0x82`` LZ4 (also LZ4HC), ``0x90`` ZSTD
   (ClickHouse's method bytes).
3. ``filter`` u8  -- light pre-transform applied before compression: 0 none, or the element
   width in bytes (1, 2, 4, 8) of a Delta encoding.
4. ``compressed_size`` u32 -- payload bytes.
5. ``decompressed_size`` u32 -- bytes after decompression (and after undoing Delta).
6. payload.

All integers little-endian; the header is 18 bytes (:data:`BLOCK_HEADER_SIZE`).

Codec text follows ClickHouse: ``CODEC(Delta, ZSTD(3))``, ``LZ4``, ``ZSTD``, ``LZ4HC(9)``,
``NONE``. ``Delta``/``Delta(n)`` stores differences between consecutive values of the stream
(reinterpreted as unsigned integers of the element width, so it is lossless for any fixed-width
type and wraps around like C); decoding is one prefix sum in place. Delta is applied only to
streams of fixed-width *values* (not to string bytes, lengths or null maps); the writer chooses
it automatically for sorted integer columns (see :mod:`mergetree.storage.part_writer`).

Reading (:func:`decode_blocks`): the headers of the needed blocks are parsed first, the output
buffer is allocated once, and one numba call verifies each block's checksum, decompresses it
straight into its place in the buffer (the C decompressors bundled in the ``lz4`` and
``zstandard`` packages, called by symbol) and undoes Delta. A pure-Python path (python-lz4 /
zstandard objects, one extra copy per block) is the fallback and the tested twin.

Dictionary encoding (:func:`dictionary_encode`) turns a String stream into a dictionary of
distinct values plus integer codes when that pays off (:func:`dictionary_pays_off`); the part
writer chooses it per part and column automatically.

Simplifications vs ClickHouse, with reasons:

* A 64-bit xxHash64-style checksum (numba, ~9 GB/s) instead of CityHash128 over the block:
  enough to detect corruption (it is not a defence against tampering). zlib.crc32 (~2 GB/s)
  was the slowest step of reading a numeric column.
* Delta's width is always the stream's element width (ClickHouse lets ``Delta(n)`` differ).
* No DoubleDelta/Gorilla/T64/FPC/GCD: Delta + LZ4/ZSTD covers the timestamps and counters of the
  workloads we target; the codec parser rejects the others by name.
"""

from __future__ import annotations

import os
import re
import struct
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import lz4.block
import numpy as np
import zstandard

from mergetree.errors import BadArgumentsError

__all__ = [
    "CodecSpec", "DEFAULT_CODEC", "AUTO_STRING_DATA_CODEC", "BLOCK_HEADER_SIZE", "BlockCorruptedError", "parse_codec",
    "compress_block", "read_block_header", "decode_blocks", "delta_encode", "delta_decode",
    "dictionary_encode", "dictionary_pays_off", "METHOD_NONE", "METHOD_LZ4", "METHOD_ZSTD",
]

METHOD_NONE = 0x02
METHOD_LZ4 = 0x82
METHOD_ZSTD = 0x90

_HEADER = struct.Struct("<QBBII")
_HEADER_REST = struct.Struct("<BBII")
BLOCK_HEADER_SIZE = _HEADER.size  # 18
_M64 = (1 << 64) - 1
_SEED_MULT = 11400714785074694791


def _seed(method: int, filt: int, csize: int, dsize: int) -> int:
    """Checksum seed from the header fields after the checksum (every field changes it)."""
    return (((csize << 16) | (filt << 8) | method) * _SEED_MULT + dsize) & _M64

_METHOD_BYTES = {"NONE": METHOD_NONE, "LZ4": METHOD_LZ4, "LZ4HC": METHOD_LZ4, "ZSTD": METHOD_ZSTD}
_UNSUPPORTED = ("DoubleDelta", "Gorilla", "T64", "FPC", "GCD", "AES_128_GCM_SIV", "AES_256_GCM_SIV",
                "DEFLATE_QPL", "ZSTD_QAT")


class BlockCorruptedError(Exception):
    """A compressed block that fails its checksum or cannot be decoded.

    Raised by the low-level functions here; the part reader converts it into
    :class:`mergetree.errors.CorruptedPartError` naming the part, file and column.
    """


@dataclass(frozen=True, slots=True)
class CodecSpec:
    """A parsed codec chain: optional Delta, then one general codec."""

    method: str = "LZ4"          # 'LZ4' | 'LZ4HC' | 'ZSTD' | 'NONE'
    level: int | None = None     # ZSTD / LZ4HC level (None = the codec's default)
    delta: bool = False

    @property
    def method_byte(self) -> int:
        return _METHOD_BYTES[self.method]

    def __str__(self) -> str:
        items = []
        if self.delta:
            items.append("Delta")
        items.append(self.method if self.level is None else f"{self.method}({self.level})")
        return f"CODEC({', '.join(items)})"

    def with_delta(self, delta: bool) -> "CodecSpec":
        return CodecSpec(self.method, self.level, delta)


DEFAULT_CODEC = CodecSpec("LZ4")
# What the part writer uses for the bytes of String values when the column names no codec.
AUTO_STRING_DATA_CODEC = CodecSpec("ZSTD", 1)

_ITEM_RE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\(\s*([^()]*?)\s*\))?\s*$")


def parse_codec(text: "str | CodecSpec") -> CodecSpec:
    """Parse ``CODEC(Delta, ZSTD(3))`` / ``LZ4`` / ``ZSTD(1)`` / ``NONE`` (case-insensitive names)."""
    if isinstance(text, CodecSpec):
        return text
    src = text.strip()
    m = re.match(r"^CODEC\s*\((.*)\)$", src, re.IGNORECASE | re.DOTALL)
    body = m.group(1) if m else src
    items = [p for p in _split_top_level(body)]
    if not items or any(not p.strip() for p in items):
        raise BadArgumentsError(f"Empty codec in {text!r}")
    delta = False
    general: CodecSpec | None = None
    for item in items:
        im = _ITEM_RE.match(item)
        if not im:
            raise BadArgumentsError(f"Cannot parse codec {item.strip()!r} in {text!r}")
        name, arg = im.group(1), im.group(2)
        upper = name.upper()
        if general is not None:
            raise BadArgumentsError(f"Codec {name} after the general-purpose codec {general.method} "
                                    f"in {text!r}: put Delta first, e.g. CODEC(Delta, LZ4)")
        if upper == "DELTA":
            if arg not in (None, "") and arg not in ("1", "2", "4", "8"):
                raise BadArgumentsError(f"Delta codec width must be 1, 2, 4 or 8, got {arg!r} in {text!r}")
            if delta:
                raise BadArgumentsError(f"Delta given twice in {text!r}")
            delta = True
        elif upper in ("LZ4", "NONE"):
            if arg not in (None, ""):
                raise BadArgumentsError(f"Codec {upper} takes no arguments in {text!r}")
            general = CodecSpec(upper, None, delta)
        elif upper in ("ZSTD", "LZ4HC"):
            level = None
            if arg not in (None, ""):
                try:
                    level = int(arg)
                except ValueError:
                    raise BadArgumentsError(f"{upper} level must be an integer, got {arg!r} in {text!r}") from None
                lo, hi = (1, 22) if upper == "ZSTD" else (1, 12)
                if not lo <= level <= hi:
                    raise BadArgumentsError(f"{upper} level must be in [{lo}, {hi}], got {level} in {text!r}")
            general = CodecSpec(upper, level, delta)
        elif any(upper == u.upper() for u in _UNSUPPORTED):
            raise BadArgumentsError(f"Codec {name} is not supported by mergetree (supported: Delta, LZ4, "
                                    f"LZ4HC, ZSTD, NONE) in {text!r}")
        else:
            raise BadArgumentsError(f"Unknown codec {name!r} in {text!r}")
    if general is None:
        raise BadArgumentsError(f"Compression codec Delta does not compress anything in {text!r}: "
                                "add a general-purpose codec after it, like CODEC(Delta, LZ4)")
    return general


def _split_top_level(body: str) -> list[str]:
    parts, depth, cur = [], 0, []
    for ch in body:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return parts


# --------------------------------------------------------------------------- Delta

_UINT_OF_WIDTH = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}


def delta_encode(raw: np.ndarray, width: int) -> np.ndarray:
    """Differences of consecutive ``width``-byte unsigned values of the byte array ``raw``."""
    vals = raw.view(_UINT_OF_WIDTH[width])
    out = np.empty_like(vals)
    if len(vals):
        out[0] = vals[0]
        np.subtract(vals[1:], vals[:-1], out=out[1:])
    return out.view(np.uint8)


def delta_decode(buf: np.ndarray, width: int) -> None:
    """Undo :func:`delta_encode` in place on the byte array ``buf`` (wrapping cumulative sum)."""
    from mergetree.kernels.codecs import prefix_sum_inplace  # lazy: numba stays out of plain imports

    prefix_sum_inplace(buf.view(_UINT_OF_WIDTH[width]))


# --------------------------------------------------------------------------- compressed blocks

# zstandard (de)compressor objects are reusable but not thread-safe: one set per thread
_zstd_local = threading.local()


def _zstd(level: int) -> zstandard.ZstdCompressor:
    cache = _zstd_local.__dict__.setdefault("compressors", {})
    c = cache.get(level)
    if c is None:
        c = cache[level] = zstandard.ZstdCompressor(level=level)
    return c


def _zstd_decompressor() -> zstandard.ZstdDecompressor:
    d = getattr(_zstd_local, "decompressor", None)
    if d is None:
        d = _zstd_local.decompressor = zstandard.ZstdDecompressor()
    return d


def compress_block(raw: np.ndarray, spec: CodecSpec, delta_width: int = 0) -> bytes:
    """One compressed block (header + payload) holding the bytes ``raw`` (a uint8 array).

    ``delta_width`` > 0 applies Delta over elements of that width (only when ``spec.delta``).
    """
    raw = np.ascontiguousarray(raw, dtype=np.uint8)
    n = raw.nbytes
    filt = 0
    if spec.delta and delta_width in _UINT_OF_WIDTH and n % delta_width == 0 and n:
        raw = delta_encode(raw, delta_width)
        filt = delta_width
    if spec.method == "NONE":
        payload = raw.tobytes()
    elif spec.method == "LZ4":
        payload = lz4.block.compress(raw, store_size=False)
    elif spec.method == "LZ4HC":
        payload = lz4.block.compress(raw, mode="high_compression", compression=spec.level or 9,
                                     store_size=False)
    else:
        payload = _zstd(spec.level or 1).compress(raw)
    from mergetree.kernels.codecs import checksum64  # lazy: keeps numba out of plain imports

    method = spec.method_byte
    chk = int(checksum64(np.frombuffer(payload, np.uint8), np.uint64(_seed(method, filt, len(payload), n))))
    return _HEADER.pack(chk, method, filt, len(payload), n) + payload


def read_block_header(buf, pos: int) -> tuple[int, int, int, int, int]:
    """(checksum, method, filter, compressed_size, decompressed_size) of the block at ``pos``."""
    if pos + BLOCK_HEADER_SIZE > len(buf):
        raise BlockCorruptedError(f"truncated block header at offset {pos} "
                                  f"(file region ends at {len(buf)})")
    return _HEADER.unpack_from(buf, pos)


# Reads that decode at least this much are split over DECODE_THREADS threads (the kernel releases
# the GIL); ClickHouse similarly reads one column with several threads (max_threads).
DECODE_THREADS = min(2, os.cpu_count() or 1)
PARALLEL_DECODE_MIN_BYTES = 1 << 20
_decode_pool: ThreadPoolExecutor | None = None
_decode_pool_lock = threading.Lock()


def _forget_pool_after_fork() -> None:   # a forked child has none of the parent's threads
    global _decode_pool
    _decode_pool = None


os.register_at_fork(after_in_child=_forget_pool_after_fork)


def _pool() -> ThreadPoolExecutor:
    global _decode_pool
    with _decode_pool_lock:
        if _decode_pool is None:
            _decode_pool = ThreadPoolExecutor(DECODE_THREADS, thread_name_prefix="mergetree-decode")
        return _decode_pool


def _decode_native(kernels, arr, pstarts, csizes, dsizes, methods, filters, seeds, expected, out, total):
    """Run the native decoder, on contiguous slices of the blocks in parallel for big reads."""
    nblocks = len(pstarts)
    if DECODE_THREADS < 2 or total < PARALLEL_DECODE_MIN_BYTES or nblocks < 2:
        return kernels.decode_blocks_native(arr, pstarts, csizes, dsizes, methods, filters, seeds, expected, out)
    ends = np.cumsum(dsizes)
    # split at block boundaries so that every thread decodes about the same number of bytes
    cuts = [0] + [int(np.searchsorted(ends, total * k // DECODE_THREADS)) + 1 for k in range(1, DECODE_THREADS)]
    cuts = sorted(set(min(c, nblocks) for c in cuts)) + [nblocks]
    jobs = []
    for a, b in zip(cuts[:-1], cuts[1:]):
        if a >= b:
            continue
        o0 = int(ends[a - 1]) if a else 0
        o1 = int(ends[b - 1])
        jobs.append((a, _pool().submit(kernels.decode_blocks_native, arr, pstarts[a:b], csizes[a:b], dsizes[a:b],
                                       methods[a:b], filters[a:b], seeds[a:b], expected[a:b], out[o0:o1])))
    for a, fut in jobs:                       # report the first bad block in file order
        status, bad = fut.result()
        if status:
            return status, a + bad
    return 0, -1


def decode_blocks(buf, start: int, end: int, out: np.ndarray | None = None, *,
                  native: bool | None = None, array: np.ndarray | None = None) -> np.ndarray:
    """Decode the consecutive blocks in ``buf[start:end]`` into one uint8 array.

    The decompressed size of every block is read from the headers first, so the output is
    allocated once (or ``out`` is used when given and big enough). Raises
    :class:`BlockCorruptedError` naming the offset of a block that is truncated, fails its
    checksum or does not decode.

    Two implementations with the same contract: the numba kernel
    :func:`mergetree.kernels.codecs.decode_blocks_native` (checksum + LZ4/ZSTD C call + Delta per
    block, decompressing straight into ``out``; used when available) and the Python loop below
    (python-lz4 / zstandard objects, one extra copy per block). ``native`` forces one of them.
    ``array``: ``buf`` as a uint8 numpy array when the caller has one (a kept file mapping).
    """
    from mergetree.kernels import codecs as kernels

    mv = memoryview(buf)
    headers = []
    total = 0
    pos = start
    while pos < end:
        chk, method, filt, csize, dsize = read_block_header(mv, pos)
        if pos + BLOCK_HEADER_SIZE + csize > end:
            raise BlockCorruptedError(f"block at offset {pos} claims {csize} payload bytes but only "
                                      f"{end - pos - BLOCK_HEADER_SIZE} remain (truncated file?)")
        headers.append((pos, chk, method, filt, csize, dsize))
        total += dsize
        pos += BLOCK_HEADER_SIZE + csize
    if out is None or out.nbytes < total:
        out = np.empty(total, np.uint8)
    if not headers:
        return out[:0]
    arr = np.frombuffer(mv, np.uint8) if array is None else array
    pstarts = np.array([h[0] + BLOCK_HEADER_SIZE for h in headers], np.int64)
    csizes = np.array([h[4] for h in headers], np.int64)
    seeds = np.array([_seed(h[2], h[3], h[4], h[5]) for h in headers], np.uint64)
    expected = np.array([h[1] for h in headers], np.uint64)
    if native is None:
        native = kernels.NATIVE_DECODER
    if native:
        dsizes = np.array([h[5] for h in headers], np.int64)
        methods = np.array([h[2] for h in headers], np.uint8)
        filters = np.array([h[3] for h in headers], np.uint8)
        status, b = _decode_native(kernels, arr, pstarts, csizes, dsizes, methods, filters, seeds, expected,
                                   out, total)
        if status:
            pos, _, method, filt = headers[b][:4]
            reason = {kernels.STATUS_CHECKSUM: "checksum mismatch in compressed block",
                      kernels.STATUS_DECOMPRESS: "cannot decompress block",
                      kernels.STATUS_METHOD: f"unknown compression method 0x{method:02x} in block",
                      kernels.STATUS_FILTER: f"bad Delta width {filt} in block"}[status]
            raise BlockCorruptedError(f"{reason} at offset {pos}")
        return out[:total]
    # Python path: verify every checksum in one kernel call, then decompress block by block
    bad = kernels.first_bad_block(arr, pstarts, csizes, seeds, expected)
    if bad >= 0:
        raise BlockCorruptedError(f"checksum mismatch in compressed block at offset {headers[bad][0]}")
    at = 0
    for pos, chk, method, filt, csize, dsize in headers:
        p0 = pos + BLOCK_HEADER_SIZE
        payload = mv[p0:p0 + csize]
        dst = out[at:at + dsize]
        try:
            if method == METHOD_LZ4:
                dst[:] = np.frombuffer(lz4.block.decompress(payload, uncompressed_size=dsize), np.uint8)
            elif method == METHOD_ZSTD:
                dst[:] = np.frombuffer(_zstd_decompressor().decompress(payload, max_output_size=dsize), np.uint8)
            elif method == METHOD_NONE:
                dst[:] = np.frombuffer(payload, np.uint8)
            else:
                raise BlockCorruptedError(f"unknown compression method 0x{method:02x} in block at offset {pos}")
        except (lz4.block.LZ4BlockError, zstandard.ZstdError, ValueError) as e:
            raise BlockCorruptedError(f"cannot decompress block at offset {pos}: {e}") from None
        if filt:
            if filt not in _UINT_OF_WIDTH or dsize % filt:
                raise BlockCorruptedError(f"bad Delta width {filt} in block at offset {pos}")
            delta_decode(dst, filt)
        at += dsize
    return out[:total]


# --------------------------------------------------------------------------- dictionary encoding

DICTIONARY_MAX_SIZE = 65536
DICTIONARY_SAMPLE_ROWS = 16384


def dictionary_pays_off(n_rows: int, n_distinct: int) -> bool:
    """Use a dictionary when values repeat at least 4 times on average and it stays <= 64k entries."""
    return n_rows > 0 and n_distinct <= min(n_rows // 4, DICTIONARY_MAX_SIZE)


def dictionary_encode(offsets: np.ndarray, data: np.ndarray, max_distinct: int | None = None):
    """Dictionary-encode strings given as (offsets int64[n+1], data uint8).

    Returns ``(dict_offsets, dict_data, codes)`` with codes as the narrowest of uint8/16/32 and
    dictionary entries in first-occurrence order, or ``None`` when the dictionary would not pay
    off (more than ``max_distinct`` distinct values; default: rows // 4 capped at 64k). Columns of
    >= 64k rows are first tried on a strided sample of ~16k rows: more than 90% of it distinct
    -> None without the full pass.
    """
    from mergetree.kernels import codecs as kernels  # lazy: keeps numba out of plain imports

    n = len(offsets) - 1
    if max_distinct is None:
        max_distinct = min(n // 4, DICTIONARY_MAX_SIZE)
    if n == 0 or max_distinct <= 0:
        return None
    codes = np.empty(n, np.uint32)
    first_rows = np.empty(max_distinct, np.int64)
    offsets = np.ascontiguousarray(offsets, dtype=np.int64)
    data = np.ascontiguousarray(data, dtype=np.uint8)
    if n >= 4 * DICTIONARY_SAMPLE_ROWS:
        # Cheap pre-filter: a strided sample with more than 90% of its rows distinct means a
        # near-unique column (ids, UUIDs); skip the full pass that would give up late.
        idx = np.arange(0, n, n // DICTIONARY_SAMPLE_ROWS, dtype=np.int64)
        s_off = kernels.gather_offsets(offsets, idx)
        s_data = np.empty(int(s_off[-1]), np.uint8)
        kernels.gather_strings(offsets, data, idx, s_off, s_data)
        s_limit = len(idx) * 9 // 10
        if kernels.dict_encode_strings(s_off, s_data, s_limit, np.empty(len(idx), np.uint32),
                                       np.empty(s_limit, np.int64)) < 0:
            return None
    k = kernels.dict_encode_strings(offsets, data, max_distinct, codes, first_rows)
    if k < 0:
        return None
    first_rows = first_rows[:k]
    dict_offsets = kernels.gather_offsets(offsets, first_rows)
    dict_data = np.empty(int(dict_offsets[-1]), np.uint8)
    kernels.gather_strings(offsets, data, first_rows, dict_offsets, dict_data)
    code_dtype = np.uint8 if k <= 256 else np.uint16 if k <= 65536 else np.uint32
    return dict_offsets, dict_data, codes.astype(code_dtype)


SHORT_STRING_BYTES = 16   # dictionaries whose values are all this short decode with fixed-size copies


class PreparedDictionary:
    """A dictionary (offsets + bytes) with what every decode of it needs computed once: the entry
    lengths, the longest entry and the zero-padded bytes for fixed-size copies. A part's
    dictionary never changes, so the part keeps one (`part._prepared_dictionary`) and a read of a
    few rows pays only the gather. `decode(codes)` returns what `dictionary_decode` returns."""

    __slots__ = ("offsets", "data", "lengths", "longest", "chunks", "padded")

    def __init__(self, dict_offsets: np.ndarray, dict_data: np.ndarray):
        self.offsets = dict_offsets
        self.data = dict_data
        self.lengths = np.diff(dict_offsets)
        self.longest = int(self.lengths.max()) if len(self.lengths) else 0
        self.chunks = max(1, -(-self.longest // 8))
        self.padded = np.concatenate([dict_data, np.zeros(8 * self.chunks, np.uint8)]) \
            if self.longest <= SHORT_STRING_BYTES else None

    def decode(self, codes: np.ndarray):
        import mergetree.kernels.codecs as kernels

        idx = codes.astype(np.int64, copy=False)
        n = len(idx)
        top = (max(idx.tolist()) if n <= 256 else int(idx.max())) if n else -1
        if top >= len(self.lengths):
            raise BlockCorruptedError(f"dictionary code {top} out of range "
                                      f"(dictionary has {len(self.lengths)} entries)")
        out_offsets = np.empty(n + 1, np.int64)
        out_offsets[0] = 0
        np.cumsum(self.lengths[idx], out=out_offsets[1:])
        total = int(out_offsets[-1])
        if n >= 64 and self.padded is not None:
            buf = np.empty(total + 8 * self.chunks, np.uint8)
            kernels.gather_short_strings(self.offsets, self.padded, idx, out_offsets, buf, self.chunks)
            return out_offsets, buf[:total]
        out_data = np.empty(total, np.uint8)
        kernels.gather_strings(self.offsets, self.data, idx, out_offsets, out_data)
        return out_offsets, out_data


def dictionary_decode(dict_offsets: np.ndarray, dict_data: np.ndarray, codes: np.ndarray):
    """Strings (offsets, data) of ``dictionary[codes]``."""
    from mergetree.kernels import codecs as kernels

    idx = codes.astype(np.int64, copy=False)
    # the largest code (a few codes: builtin max over them, numpy's reduction costs ~3 us)
    top = (max(idx.tolist()) if len(idx) <= 64 else int(idx.max())) if len(idx) else -1
    if top >= len(dict_offsets) - 1:
        raise BlockCorruptedError(f"dictionary code {top} out of range "
                                  f"(dictionary has {len(dict_offsets) - 1} entries)")
    out_offsets = kernels.gather_offsets(dict_offsets, idx)
    total = int(out_offsets[-1])
    longest = (int(np.diff(dict_offsets).max()) if len(dict_offsets) > 1 else 0) if len(idx) >= 64 else None
    if longest is not None and longest <= SHORT_STRING_BYTES:   # many rows: fixed-size copies, see gather_short_strings
        chunks = max(1, -(-longest // 8))
        padded = np.concatenate([dict_data, np.zeros(8 * chunks, np.uint8)])
        buf = np.empty(total + 8 * chunks, np.uint8)
        kernels.gather_short_strings(dict_offsets, padded, idx, out_offsets, buf, chunks)
        return out_offsets, buf[:total]
    out_data = np.empty(total, np.uint8)
    kernels.gather_strings(dict_offsets, dict_data, idx, out_offsets, out_data)
    return out_offsets, out_data
