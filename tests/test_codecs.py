"""Codec parsing, compressed blocks (round trip, corruption), Delta and dictionary encodings,
and the numba kernels against their numpy twins."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from mergetree.errors import BadArgumentsError
from mergetree.kernels import codecs as kern
from mergetree.storage import codecs as C


# --------------------------------------------------------------------------- parsing

@pytest.mark.parametrize("text, expected", [
    ("LZ4", C.CodecSpec("LZ4")),
    ("NONE", C.CodecSpec("NONE")),
    ("ZSTD", C.CodecSpec("ZSTD")),
    ("ZSTD(3)", C.CodecSpec("ZSTD", 3)),
    ("CODEC(Delta, ZSTD(3))", C.CodecSpec("ZSTD", 3, True)),
    ("codec(delta(4), lz4)", C.CodecSpec("LZ4", None, True)),
    ("CODEC(LZ4HC(9))", C.CodecSpec("LZ4HC", 9)),
    ("CODEC( Delta , LZ4 )", C.CodecSpec("LZ4", None, True)),
])
def test_parse_codec(text, expected):
    assert C.parse_codec(text) == expected
    assert C.parse_codec(str(expected)) == expected       # printing round-trips


def test_codec_printing():
    assert str(C.CodecSpec("ZSTD", 3, True)) == "CODEC(Delta, ZSTD(3))"
    assert str(C.DEFAULT_CODEC) == "CODEC(LZ4)"


@pytest.mark.parametrize("text, match", [
    ("CODEC(Delta)", "does not compress anything"),
    ("CODEC(LZ4, Delta)", "after the general-purpose codec"),
    ("CODEC(DoubleDelta, LZ4)", "not supported"),
    ("CODEC(Foo)", "Unknown codec 'Foo'"),
    ("ZSTD(99)", r"level must be in \[1, 22\]"),
    ("ZSTD(x)", "must be an integer"),
    ("CODEC(Delta(3), LZ4)", "width must be 1, 2, 4 or 8"),
    ("CODEC()", "Empty codec"),
    ("LZ4(1)", "takes no arguments"),
])
def test_parse_codec_errors(text, match):
    with pytest.raises(BadArgumentsError, match=match):
        C.parse_codec(text)


# --------------------------------------------------------------------------- blocks

SPECS = [C.CodecSpec("LZ4"), C.CodecSpec("ZSTD", 3), C.CodecSpec("NONE"), C.CodecSpec("LZ4HC", 9),
         C.CodecSpec("LZ4", None, True), C.CodecSpec("ZSTD", 1, True)]


NATIVE = [False] + ([True] if kern.NATIVE_DECODER else [])


@pytest.mark.parametrize("native", NATIVE, ids=lambda v: "native" if v else "python")
@pytest.mark.parametrize("spec", SPECS, ids=str)
@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.int32, np.uint64, np.float64])
def test_block_round_trip(spec, dtype, native):
    rng = np.random.default_rng(1)
    info = np.iinfo(dtype) if np.issubdtype(dtype, np.integer) else None
    if info is not None:
        vals = rng.integers(info.min, info.max, 5000, dtype=dtype, endpoint=True)
        vals[:4] = [info.min, info.max, 0, info.max]      # wrap-around differences
    else:
        vals = rng.normal(size=5000).astype(dtype)
        vals[:3] = [np.nan, np.inf, -0.0]
    raw = vals.view(np.uint8)
    block = C.compress_block(raw, spec, delta_width=vals.itemsize)
    crc, method, filt, csize, dsize = C.read_block_header(block, 0)
    assert method == spec.method_byte and dsize == raw.nbytes and csize == len(block) - C.BLOCK_HEADER_SIZE
    assert filt == (vals.itemsize if spec.delta else 0)
    out = C.decode_blocks(block, 0, len(block), native=native)
    assert out.tobytes() == raw.tobytes()


def test_delta_shrinks_sorted_timestamps():
    ts = np.sort(np.random.default_rng(0).integers(1_700_000_000, 1_700_086_400, 100_000)).astype(np.uint32)
    plain = C.compress_block(ts.view(np.uint8), C.CodecSpec("LZ4"), 4)
    delta = C.compress_block(ts.view(np.uint8), C.CodecSpec("LZ4", None, True), 4)
    assert len(delta) < len(plain) * 0.6
    assert C.decode_blocks(delta, 0, len(delta)).view(np.uint32).tolist() == ts.tolist()


def test_delta_by_hand():
    vals = np.array([5, 7, 7, 3, 255], np.uint8)
    assert C.delta_encode(vals.view(np.uint8), 1).tolist() == [5, 2, 0, 252, 252]   # mod 256
    buf = C.delta_encode(vals, 1).copy()
    C.delta_decode(buf, 1)
    assert buf.tolist() == [5, 7, 7, 3, 255]


@pytest.mark.parametrize("native", NATIVE, ids=lambda v: "native" if v else "python")
def test_several_blocks_decode_into_one_buffer(native):
    parts = [np.arange(i * 100, i * 100 + 100, dtype=np.int64) for i in range(5)]
    specs = [C.CodecSpec("LZ4"), C.CodecSpec("ZSTD", 2, True), C.CodecSpec("NONE"),
             C.CodecSpec("LZ4", None, True), C.CodecSpec("ZSTD")]
    stream = b"".join(C.compress_block(p.view(np.uint8), s, 8) for p, s in zip(parts, specs))
    out = C.decode_blocks(stream, 0, len(stream), native=native).view(np.int64)
    assert out.tolist() == list(range(500))
    # a sub-range starting at the second block
    second = len(C.compress_block(parts[0].view(np.uint8), specs[0], 8))
    assert C.decode_blocks(stream, second, len(stream), native=native).view(np.int64).tolist() == \
        list(range(100, 500))


def test_empty_block():
    block = C.compress_block(np.zeros(0, np.uint8), C.CodecSpec("LZ4", None, True), 4)
    assert C.decode_blocks(block, 0, len(block)).nbytes == 0


@pytest.mark.parametrize("native", NATIVE, ids=lambda v: "native" if v else "python")
@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_corruption_detected(spec, native):
    raw = np.arange(4000, dtype=np.uint32).view(np.uint8)
    block = bytearray(C.compress_block(raw, spec, 4))
    for pos in (0, 5, 7, C.BLOCK_HEADER_SIZE + 3, len(block) - 1):
        bad = bytearray(block)
        bad[pos] ^= 0x10
        with pytest.raises(C.BlockCorruptedError):
            C.decode_blocks(bytes(bad), 0, len(bad), native=native)
    with pytest.raises(C.BlockCorruptedError, match="truncated|remain"):
        C.decode_blocks(bytes(block[:-5]), 0, len(block) - 5)
    with pytest.raises(C.BlockCorruptedError, match="truncated block header"):
        C.decode_blocks(bytes(block[:6]), 0, 6)


# --------------------------------------------------------------------------- dictionary

def _strings(values):
    enc = [v.encode() for v in values]
    offsets = np.zeros(len(enc) + 1, np.int64)
    np.cumsum([len(e) for e in enc], out=offsets[1:])
    return offsets, np.frombuffer(b"".join(enc), np.uint8).copy()


def _decode(offsets, data):
    return [bytes(data[offsets[i]:offsets[i + 1]]).decode() for i in range(len(offsets) - 1)]


def test_dictionary_by_hand():
    values = ["click", "view", "click", "", "view", "click", "", "buy"] * 4
    offsets, data = _strings(values)
    d_off, d_data, codes = C.dictionary_encode(offsets, data)
    assert _decode(d_off, d_data) == ["click", "view", "", "buy"]        # first-occurrence order
    assert codes.dtype == np.uint8 and codes[:8].tolist() == [0, 1, 0, 2, 1, 0, 2, 3]
    o2, d2 = C.dictionary_decode(d_off, d_data, codes)
    assert _decode(o2, d2) == values


def test_dictionary_refused_when_it_does_not_pay():
    values = [f"user{i}" for i in range(100)] * 3                     # 100 distinct in 300 rows > 300/4
    assert C.dictionary_encode(*_strings(values)) is None
    assert not C.dictionary_pays_off(300, 100) and C.dictionary_pays_off(400, 100)
    assert not C.dictionary_pays_off(10**7, 70_000)


def test_dictionary_wide_codes():
    values = [str(i) for i in range(300)] * 4
    d_off, d_data, codes = C.dictionary_encode(*_strings(values))
    assert codes.dtype == np.uint16 and len(d_off) == 301


def test_dictionary_code_out_of_range_is_corruption():
    d_off, d_data = _strings(["a", "b"])
    with pytest.raises(C.BlockCorruptedError, match="out of range"):
        C.dictionary_decode(d_off, d_data, np.array([0, 2], np.uint8))


def test_dictionary_distinguishes_trailing_zero_bytes_and_prefixes():
    values = ["a", "a\0", "ab", "a", "", "\0"] * 10
    d_off, d_data, codes = C.dictionary_encode(*_strings(values))
    assert len(d_off) - 1 == 5
    assert _decode(*C.dictionary_decode(d_off, d_data, codes)) == values


# --------------------------------------------------------------------------- kernels vs numpy twins

def _random_strings(rng, n, alphabet, max_len):
    lengths = rng.integers(0, max_len + 1, n)
    offsets = np.zeros(n + 1, np.int64)
    np.cumsum(lengths, out=offsets[1:])
    data = rng.integers(0, alphabet, int(offsets[-1])).astype(np.uint8)
    return offsets, data


@pytest.mark.parametrize("seed", range(6))
def test_dict_encode_kernel_matches_numpy_twin(seed):
    rng = np.random.default_rng(seed)
    offsets, data = _random_strings(rng, int(rng.integers(1, 3000)), int(rng.integers(1, 4)), int(rng.integers(0, 5)))
    n = len(offsets) - 1
    for max_distinct in (n, 3):
        got = (np.empty(n, np.uint32), np.empty(max(max_distinct, 1), np.int64))
        want = (np.empty(n, np.uint32), np.empty(max(max_distinct, 1), np.int64))
        k1 = kern.dict_encode_strings(offsets, data, max_distinct, *got)
        k2 = kern.dict_encode_strings_numpy(offsets, data, max_distinct, *want)
        assert k1 == k2
        if k1 >= 0:
            assert got[0].tolist() == want[0].tolist()
            assert got[1][:k1].tolist() == want[1][:k1].tolist()


@pytest.mark.parametrize("seed", range(4))
def test_gather_kernel_matches_numpy_twin(seed):
    rng = np.random.default_rng(seed)
    offsets, data = _random_strings(rng, 500, 256, 20)
    idx = rng.integers(0, 500, 2000)
    out_off = kern.gather_offsets(offsets, idx)
    a = np.empty(int(out_off[-1]), np.uint8)
    b = np.empty(int(out_off[-1]), np.uint8)
    kern.gather_strings(offsets, data, idx, out_off, a)
    kern.gather_strings_numpy(offsets, data, idx, out_off, b)
    assert a.tobytes() == b.tobytes()
    assert bytes(a[out_off[3]:out_off[4]]) == bytes(data[offsets[idx[3]]:offsets[idx[3] + 1]])


@pytest.mark.parametrize("seed,max_len", [(0, 8), (1, 16), (2, 5), (3, 1)])
def test_short_gather_kernel_matches_numpy_twin(seed, max_len):
    """Fixed-size copies (8 * chunks bytes per row) give the same bytes as the twin."""
    rng = np.random.default_rng(seed)
    offsets, data = _random_strings(rng, 30, 256, max_len)
    idx = rng.integers(0, 30, 3000)
    out_off = kern.gather_offsets(offsets, idx)
    total = int(out_off[-1])
    chunks = -(-max(int(np.diff(offsets).max()), 1) // 8)
    a = np.full(total + 8 * chunks, 0xEE, np.uint8)
    kern.gather_short_strings(offsets, np.concatenate([data, np.zeros(8 * chunks, np.uint8)]), idx, out_off, a,
                              chunks)
    b = np.empty(total, np.uint8)
    kern.gather_strings_numpy(offsets, data, idx, out_off, b)
    assert a[:total].tobytes() == b.tobytes()
    # and through dictionary_decode (which picks this kernel for short values)
    codes = idx.astype(np.uint8)
    got_off, got = C.dictionary_decode(offsets, data, codes)
    assert got_off.tolist() == out_off.tolist() and got.tobytes() == b.tobytes()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet="ab\u00e9\0", max_size=4), max_size=80))
def test_dictionary_round_trip_property(values):
    offsets, data = _strings(values)
    res = C.dictionary_encode(offsets, data, max_distinct=len(values))
    if not values:
        assert res is None
        return
    d_off, d_data, codes = res
    assert len(d_off) - 1 == len(set(values))
    assert _decode(*C.dictionary_decode(d_off, d_data, codes)) == values


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.uint32, np.uint64])
def test_prefix_sum_kernel_matches_numpy_twin(dtype):
    rng = np.random.default_rng(7)
    vals = rng.integers(0, np.iinfo(dtype).max, 1000, dtype=dtype, endpoint=True)   # wraps around
    a, b = vals.copy(), vals.copy()
    kern.prefix_sum_inplace(a)
    kern.prefix_sum_inplace_numpy(b)
    assert a.tolist() == b.tolist()
    empty = np.zeros(0, dtype)
    kern.prefix_sum_inplace(empty)


def test_dictionary_sample_prefilter():
    n = 100_000
    uniq = [f"id{i}" for i in range(n)]
    assert C.dictionary_encode(*_strings(uniq)) is None
    # 20k distinct values in 100k rows: the sample (~16k rows) is not mostly distinct -> full pass accepts
    values = [f"v{i}" for i in np.random.default_rng(0).permutation(np.arange(n) % 20_000)]
    d_off, d_data, codes = C.dictionary_encode(*_strings(values))
    assert len(d_off) - 1 == 20_000 and codes.dtype == np.uint16
    assert _decode(*C.dictionary_decode(d_off, d_data, codes))[-3:] == values[-3:]


@pytest.mark.parametrize("n", [0, 1, 7, 8, 31, 32, 33, 64, 100, 1001])
def test_checksum_kernel_matches_twin(n):
    buf = np.random.default_rng(n).integers(0, 256, n).astype(np.uint8)
    for seed in (0, 1, 2**64 - 1):
        assert int(kern.checksum64(buf, np.uint64(seed))) == kern.checksum64_numpy(buf, seed)


def test_checksum_sensitive_to_every_byte_and_seed():
    buf = np.random.default_rng(1).integers(0, 256, 200).astype(np.uint8)
    base = int(kern.checksum64(buf, np.uint64(3)))
    assert int(kern.checksum64(buf, np.uint64(4))) != base
    for i in range(len(buf)):
        b = buf.copy()
        b[i] ^= 1
        assert int(kern.checksum64(b, np.uint64(3))) != base, i
    starts = np.array([0, 50, 120], np.int64)
    sizes = np.array([50, 70, 80], np.int64)
    seeds = np.array([1, 2, 3], np.uint64)
    expected = np.array([kern.checksum64(buf[s:s + z], sd) for s, z, sd in zip(starts, sizes, seeds)], np.uint64)
    assert kern.first_bad_block(buf, starts, sizes, seeds, expected) == -1
    expected[1] ^= np.uint64(1)
    assert kern.first_bad_block(buf, starts, sizes, seeds, expected) == 1


def _forged_block(payload: bytes, method: int, filt: int, dsize: int) -> bytes:
    """A block with a valid checksum but content that cannot decode as its header says."""
    seed = C._seed(method, filt, len(payload), dsize)
    chk = int(kern.checksum64(np.frombuffer(payload, np.uint8), np.uint64(seed)))
    return C._HEADER.pack(chk, method, filt, len(payload), dsize) + payload


@pytest.mark.parametrize("native", NATIVE, ids=lambda v: "native" if v else "python")
@pytest.mark.parametrize("method, filt, payload, dsize, match", [
    (C.METHOD_LZ4, 0, b"\xff\xff\xff", 100, "cannot decompress"),          # garbage LZ4
    (C.METHOD_ZSTD, 0, b"not zstd at all", 100, "cannot decompress"),
    (C.METHOD_NONE, 0, b"abc", 4, "cannot decompress|size"),
    (0x55, 0, b"abc", 3, "unknown compression method 0x55"),
    (C.METHOD_NONE, 3, b"abc", 3, "bad Delta width 3"),
])
def test_blocks_with_valid_checksum_but_bad_content(native, method, filt, payload, dsize, match):
    block = _forged_block(payload, method, filt, dsize)
    with pytest.raises(C.BlockCorruptedError, match=match):
        C.decode_blocks(block, 0, len(block), native=native)


@pytest.mark.skipif(not kern.NATIVE_DECODER, reason="native codec symbols not available")
@pytest.mark.parametrize("seed", range(5))
def test_native_decoder_matches_python_path(seed):
    rng = np.random.default_rng(seed)
    pieces, stream = [], b""
    for _ in range(int(rng.integers(1, 12))):
        width = int(rng.choice([1, 2, 4, 8]))
        n = int(rng.integers(0, 3000))
        vals = rng.integers(0, 50, n * width).astype(np.uint8)
        spec = SPECS[int(rng.integers(0, len(SPECS)))]
        pieces.append(vals)
        stream += C.compress_block(vals, spec, width)
    want = np.concatenate(pieces).tobytes()
    assert C.decode_blocks(stream, 0, len(stream), native=True).tobytes() == want
    assert C.decode_blocks(stream, 0, len(stream), native=False).tobytes() == want


@pytest.mark.skipif(not kern.NATIVE_DECODER, reason="native codec symbols not available")
def test_parallel_decode_equals_serial_and_reports_first_bad_block(monkeypatch):
    rng = np.random.default_rng(11)
    vals = np.sort(rng.integers(0, 2**40, 300_000)).astype(np.uint64).view(np.uint8)     # 2.4 MB
    specs = [C.CodecSpec("LZ4", None, True), C.CodecSpec("ZSTD", 1), C.CodecSpec("NONE")]
    stream = b"".join(C.compress_block(vals[i:i + 65536], specs[(i >> 16) % 3], 8)
                      for i in range(0, len(vals), 65536))
    monkeypatch.setattr(C, "PARALLEL_DECODE_MIN_BYTES", 1)
    monkeypatch.setattr(C, "DECODE_THREADS", 3)
    assert C.decode_blocks(stream, 0, len(stream), native=True).tobytes() == vals.tobytes()
    bad = bytearray(stream)
    bad[-10] ^= 1                                  # last block, decoded by the last thread
    with pytest.raises(C.BlockCorruptedError, match="checksum mismatch"):
        C.decode_blocks(bytes(bad), 0, len(bad), native=True)
