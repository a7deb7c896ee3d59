"""Parts on disk: write_part + DataPart round trips, granule-range reads, block sharing,
checksums, corruption detection, metadata files."""

from __future__ import annotations

import datetime
import decimal
import hashlib
import json
import os
import uuid
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from mergetree.column import (ArrayColumn, Block, Column, FixedColumn, LowCardinalityColumn, NullableColumn,
                              StringColumn)
from mergetree.errors import BadArgumentsError, CorruptedPartError
from mergetree.storage import part_writer as pw
from mergetree.storage.part import DataPart, ReadStats
from mergetree.storage.part_writer import MARK_DTYPE, write_part
from mergetree.types import parse_type


# --------------------------------------------------------------------------- column builders

def fixed(t, values):
    t = parse_type(t)
    return FixedColumn(t, np.asarray(values, dtype=t.dtype).reshape((-1,) + t.value_shape))


def strings(values, t="String"):
    enc = [v if isinstance(v, bytes) else v.encode() for v in values]
    offsets = np.zeros(len(enc) + 1, np.int64)
    np.cumsum([len(e) for e in enc], out=offsets[1:])
    return StringColumn(parse_type(t), offsets, np.frombuffer(b"".join(enc), np.uint8).copy())


def nullable(inner: Column, nulls):
    return NullableColumn(parse_type(f"Nullable({inner.type})"), inner, np.asarray(nulls, bool))


def array(inner: Column, lengths):
    offsets = np.zeros(len(lengths) + 1, np.int64)
    np.cumsum(lengths, out=offsets[1:])
    assert offsets[-1] == len(inner)
    return ArrayColumn(parse_type(f"Array({inner.type})"), offsets, inner)


def lowcard(dictionary: Column, codes):
    return LowCardinalityColumn(parse_type(f"LowCardinality({dictionary.type})"), dictionary,
                                np.asarray(codes, np.uint8))


def all_types_block(n: int, seed: int = 0) -> Block:
    """One column of every supported type, with edge values in the first rows."""
    rng = np.random.default_rng(seed)
    cols = {}
    for t in ("UInt8", "UInt16", "UInt32", "UInt64", "Int8", "Int16", "Int32", "Int64"):
        info = np.iinfo(parse_type(t).dtype)
        v = rng.integers(info.min, info.max, n, endpoint=True, dtype=parse_type(t).dtype)
        v[:3] = [info.min, info.max, 0][:min(3, n)] if n >= 3 else v[:3]
        cols[t.lower()] = fixed(t, v)
    for t in ("Float32", "Float64"):
        v = rng.normal(size=n).astype(parse_type(t).dtype) * 1e6
        v[:5] = [np.nan, np.inf, -np.inf, -0.0, np.finfo(v.dtype).max][:min(5, n)] if n >= 5 else v[:5]
        cols[t.lower()] = fixed(t, v)
    cols["bool"] = fixed("Bool", rng.integers(0, 2, n))
    cols["date"] = fixed("Date", np.r_[[0, 65535], rng.integers(0, 65536, max(n - 2, 0))][:n])
    cols["date32"] = fixed("Date32", np.r_[[-25567, 120529], rng.integers(-25567, 120530, max(n - 2, 0))][:n])
    cols["dt"] = fixed("DateTime('UTC')", np.sort(rng.integers(0, 2**32, n, dtype=np.uint64)).astype(np.uint32))
    cols["dt64"] = fixed("DateTime64(3)", rng.integers(-2**62, 2**62, n))
    cols["dec"] = fixed("Decimal(18, 4)", rng.integers(-10**18 + 1, 10**18, n))
    cols["dec9"] = fixed("Decimal(9, 2)", rng.integers(-10**9 + 1, 10**9, n).astype(np.int32))
    cols["uuid"] = fixed("UUID", rng.integers(0, 2**63, (n, 2)).astype(np.uint64))
    cols["fs"] = fixed("FixedString(3)", rng.integers(0, 256, (n, 3)))
    words = ["", "a", "héllo", "日本語", "x" * 300, "tab\tnew\nline", "\0"]
    cols["s"] = strings([words[i % len(words)] + str(i % 11) for i in range(n)])   # low cardinality -> dict
    cols["s_uniq"] = strings([f"{i}-{words[i % len(words)]}" for i in range(n)])
    nulls = (np.arange(n) % 3) == 0
    cols["ns"] = nullable(strings(["" if z else f"v{i}" for i, z in enumerate(nulls)]), nulls)
    cols["ni"] = nullable(fixed("Int32", np.where(nulls, 0, np.arange(n))), nulls)
    lens = rng.integers(0, 4, n)
    cols["au"] = array(fixed("UInt32", rng.integers(0, 2**32, int(lens.sum()))), lens)
    cols["as"] = array(strings([f"e{i}" for i in range(int(lens.sum()))]), lens)
    inner_lens = rng.integers(0, 3, int(lens.sum()))
    cols["aa"] = array(array(fixed("Int8", rng.integers(-128, 128, int(inner_lens.sum()))), inner_lens), lens)
    an = (np.arange(int(lens.sum())) % 2) == 0
    cols["ans"] = array(nullable(strings(["" if z else "q" for z in an]), an), lens)
    cols["lc"] = lowcard(strings(["red", "green", "blue", "unused"]), rng.integers(0, 3, n))
    lc_nulls = nullable(strings(["", "a", "b"]), [True, False, False])
    cols["lcn"] = LowCardinalityColumn(parse_type("LowCardinality(Nullable(String))"), lc_nulls,
                                       rng.integers(0, 3, n).astype(np.uint8))
    return Block(cols)


def write(tmp_path: Path, block: Block, name="all_1_1_0", key=(), **kw) -> DataPart:
    tmp = tmp_path / f"tmp_insert_{name}"
    kw.setdefault("partition_value", ())
    kw.setdefault("minmax", {})
    write_part(tmp, block, primary_key=Block({k: block[k] for k in key}), **kw)
    final = tmp_path / name
    os.rename(tmp, final)
    return DataPart.open(final)


def assert_blocks_equal(got: Block, want: Block):
    assert got.names == want.names
    assert got.num_rows == want.num_rows
    for n in want.names:
        assert got[n].equals(want[n]), f"column {n} differs"
        assert type(got[n]) is type(want[n]), n


# --------------------------------------------------------------------------- round trips

@pytest.mark.parametrize("codec", [None, "LZ4", "ZSTD(3)", "NONE", "CODEC(Delta, LZ4)", "CODEC(Delta, ZSTD)", "LZ4HC(5)"])
def test_round_trip_every_type(tmp_path, codec):
    block = all_types_block(500, seed=1)
    codecs = {n: codec for n in block.names} if codec else None
    part = write(tmp_path, block, key=("dt",), codecs=codecs, index_granularity=64)
    assert part.rows == 500 and part.marks == 8
    assert part.granule_rows.tolist() == [64] * 7 + [52]
    assert [(n, str(t)) for n, t in part.columns] == [(n, str(block[n].type)) for n in block.names]
    assert_blocks_equal(part.read(), block)
    part.verify_checksums()


def test_values_read_back_as_python(tmp_path):
    block = Block({
        "s": strings(["", "héllo", "日本語", "a\0b"]),
        "n": nullable(fixed("Float64", [1.5, 0, np.nan, -np.inf]), [False, True, False, False]),
        "a": array(strings(["x", "", "y"]), [0, 2, 1, 0]),
    })
    got = write(tmp_path, block, index_granularity=3).read()
    assert got["s"].to_pylist() == ["", "héllo", "日本語", "a\0b"]
    vals = got["n"].to_pylist()
    assert vals[0] == 1.5 and vals[1] is None and np.isnan(vals[2]) and vals[3] == -np.inf
    assert got["a"].to_pylist() == [[], ["x", ""], ["y"], []]


@pytest.mark.parametrize("n, granularity", [(0, 8192), (1, 8192), (8192, 8192), (8193, 8192), (1000, 1)])
def test_granule_counts(tmp_path, n, granularity):
    block = Block({"x": fixed("UInt64", np.arange(n)), "s": strings([str(i) for i in range(n)])})
    part = write(tmp_path, block, key=("x",), index_granularity=granularity)
    expected = [granularity] * (n // granularity) + ([n % granularity] if n % granularity else [])
    assert part.granule_rows.tolist() == expected
    assert part.marks == len(expected)
    assert_blocks_equal(part.read(), block)
    # primary index: key at each granule start + the last row
    want_idx = [i * granularity for i in range(len(expected))] + ([n - 1] if n else [])
    assert part.primary_index["x"].to_pylist() == want_idx


def test_granule_ranges_equal_slices(tmp_path):
    block = all_types_block(1000, seed=2)
    part = write(tmp_path, block, index_granularity=37)
    g = 37
    rng = np.random.default_rng(5)
    for _ in range(15):
        a = int(rng.integers(0, part.marks))
        b = int(rng.integers(a + 1, part.marks + 1))
        c = int(rng.integers(b, part.marks + 1))
        d = int(rng.integers(c, part.marks + 1))
        ranges = [(a, b)] + ([(c, d)] if d > c else [])
        got = part.read(None, ranges)
        for name in block.names:
            want = Column.concat([block[name].slice(x * g, min(y * g, 1000)) for x, y in ranges])
            assert got[name].equals(want), (name, ranges)


def test_overlapping_and_unsorted_ranges_are_merged(tmp_path):
    block = Block({"x": fixed("UInt32", np.arange(100))})
    part = write(tmp_path, block, index_granularity=10)
    assert part.read(["x"], [(5, 7), (0, 2), (1, 3), (7, 8), (4, 4)])["x"].to_pylist() == \
        list(range(0, 30)) + list(range(50, 80))
    assert part.read(["x"], [])["x"].to_pylist() == []
    with pytest.raises(BadArgumentsError, match="out of bounds"):
        part.read(["x"], [(0, 11)])


def test_small_granules_share_compressed_blocks(tmp_path):
    n = 100_000
    rng = np.random.default_rng(0)
    block = Block({"x": fixed("UInt64", rng.integers(0, 2**63, n))})      # incompressible: 800 KB
    part = write(tmp_path, block, index_granularity=100, codecs={"x": "LZ4"})
    marks = np.fromfile(part.path / "x.mrk", MARK_DTYPE)
    assert len(marks) == part.marks + 1 == 1001
    assert marks[-1].tolist() == ((part.path / "x.bin").stat().st_size, 0, 0)
    blocks = np.unique(marks["block_offset"][:-1])
    # a block closes at the first granule boundary once 64 KiB (= 81.92 granules of 800 B) are buffered
    assert len(blocks) == int(np.ceil(1000 / 82))
    assert (marks["offset_in_block"][:-1] > 0).sum() == 1000 - len(blocks)
    assert marks["offset_in_block"][:-1][:3].tolist() == [0, 800, 1600]
    # reading one granule decodes only its block
    stats = ReadStats()
    got = part.read(["x"], [(500, 501)], stats=stats)
    assert got["x"].values.tolist() == block["x"].values[50_000:50_100].tolist()
    assert stats.blocks == 1 and stats.rows == 100 and stats.marks == 1
    assert stats.bytes_read < (part.path / "x.bin").stat().st_size / 10


def test_big_granule_spans_blocks(tmp_path):
    n = 300_000                                                            # 2.4 MB in one granule
    block = Block({"x": fixed("Int64", np.random.default_rng(1).integers(-2**63, 2**63 - 1, n))})
    part = write(tmp_path, block, index_granularity=n, codecs={"x": "NONE"})
    raw = (part.path / "x.bin").read_bytes()
    sizes, pos = [], 0
    while pos < len(raw):
        csize = int.from_bytes(raw[pos + 10:pos + 14], "little")
        sizes.append(int.from_bytes(raw[pos + 14:pos + 18], "little"))
        pos += 18 + csize
    assert sizes == [1 << 20, 1 << 20, n * 8 - (2 << 20)]
    stats = ReadStats()
    assert_blocks_equal(part.read(stats=stats), block)
    assert stats.blocks == 3


def test_file_names_are_escaped(tmp_path):
    block = Block({"a.b": fixed("UInt8", [1, 2]), "ü x": strings(["p", "q"]), "n.c": nullable(fixed("Int8", [1, 0]), [0, 1])})
    part = write(tmp_path, block)
    files = set(os.listdir(part.path))
    assert {"a%2Eb.bin", "a%2Eb.mrk", "%C3%BC%20x.bin", "%C3%BC%20x.size.bin", "n%2Ec.null.bin", "n%2Ec.bin"} <= files
    assert_blocks_equal(part.read(), block)
    assert pw.unescape_for_file_name("%C3%BC%20x") == "ü x"


# --------------------------------------------------------------------------- encodings chosen

def _ser(part):
    return json.loads((part.path / "serialization.json").read_text())["columns"]


def test_automatic_encodings(tmp_path):
    n = 10_000
    rng = np.random.default_rng(3)
    block = Block({
        "ts": fixed("DateTime", np.sort(rng.integers(1_700_000_000, 1_700_100_000, n))),
        "rand": fixed("UInt32", rng.integers(0, 2**32, n)),
        "kind": strings([["click", "view", "buy"][i] for i in rng.integers(0, 3, n)]),
        "id": strings([f"id-{i}" for i in range(n)]),
    })
    part = write(tmp_path, block)
    ser = _ser(part)
    assert ser["ts"]["stream"]["codec"] == "CODEC(Delta, LZ4)"        # sorted integers -> Delta
    assert ser["rand"]["stream"]["codec"] == "CODEC(LZ4)"
    assert ser["kind"]["kind"] == "dict_string"                        # 3 distinct in 10k rows
    assert ser["id"]["kind"] == "string"                               # all distinct
    assert ser["id"]["data"]["codec"] == "CODEC(ZSTD(1))"              # string bytes: ZSTD pays
    assert ser["id"]["sizes"]["codec"] == "CODEC(LZ4)"
    assert (part.path / "kind.dict.bin").exists() and not (part.path / "id.dict.bin").exists()
    assert_blocks_equal(part.read(), block)
    # explicit codecs are taken literally (no automatic Delta)
    part2 = write(tmp_path, block, name="all_2_2_0", codecs={"ts": "ZSTD(5)", "rand": "CODEC(Delta, NONE)"})
    ser2 = _ser(part2)
    assert ser2["ts"]["stream"]["codec"] == "CODEC(ZSTD(5))"
    assert ser2["rand"]["stream"]["codec"] == "CODEC(Delta, NONE)"
    assert_blocks_equal(part2.read(), block)


def test_low_cardinality_dictionary_keeps_only_used_values(tmp_path):
    lc = lowcard(strings(["a", "b", "c", "d"]), [3, 3, 1, 3])
    part = write(tmp_path, Block({"lc": lc}))
    got = part.read()["lc"]
    assert isinstance(got, LowCardinalityColumn)
    assert got.to_pylist() == ["d", "d", "b", "d"]
    assert got.dictionary.to_pylist() == ["b", "d"]


def test_codec_errors(tmp_path):
    block = Block({"x": fixed("UInt8", [1])})
    with pytest.raises(BadArgumentsError, match="Unknown codec"):
        write_part(tmp_path / "t1", block, primary_key=Block(), partition_value=(), minmax={}, codecs={"x": "Foo"})
    with pytest.raises(BadArgumentsError, match="unknown column"):
        write_part(tmp_path / "t2", block, primary_key=Block(), partition_value=(), minmax={}, codecs={"y": "LZ4"})


# --------------------------------------------------------------------------- metadata files

def test_metadata_files(tmp_path):
    block = Block({"d": fixed("Date", [19000, 19001, 19002]), "weird `name`": strings(["a", "b", "c"]),
                   "v": nullable(fixed("UInt8", [1, 0, 3]), [0, 1, 0])})
    minmax = {"d": (datetime.date(2022, 1, 8), datetime.date(2022, 1, 10))}
    part = write(tmp_path, block, name="202201_3_3_0", partition_value=(202201,), minmax=minmax,
                 extra_files={"deleted_rows.mask": b"\x00\x01"})
    p = part.path
    assert (p / "count.txt").read_text() == "3"
    assert (p / "columns.txt").read_text() == (
        "columns format version: 1\n3 columns:\n`d` Date\n`weird \\`name\\`` String\n`v` Nullable(UInt8)\n")
    assert part.partition_value == (202201,)
    assert part.minmax == minmax
    assert (p / "deleted_rows.mask").read_bytes() == b"\x00\x01"
    assert part.info.partition_id == "202201" and part.info.min_block == 3
    # checksums.txt lists every other file with its size and blake2b-128
    lines = (p / "checksums.txt").read_text().splitlines()
    assert lines[0] == "checksums format version: mergetree-1"
    listed = {ln.split("\t")[0]: ln.split("\t")[1:] for ln in lines[2:]}
    assert set(listed) == set(os.listdir(p)) - {"checksums.txt"}
    assert lines[1] == f"{len(listed)} files:"
    for name, (size, digest) in listed.items():
        content = (p / name).read_bytes()
        assert int(size) == len(content)
        assert digest == hashlib.blake2b(content, digest_size=16).hexdigest()
    assert part.bytes_on_disk == sum(f.stat().st_size for f in p.iterdir())


def test_partition_and_minmax_value_types_round_trip(tmp_path):
    values = ("x", -3, 2.5, datetime.date(2149, 6, 6), datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc),
              decimal.Decimal("-1.25"), uuid.UUID(int=12345), None, np.uint32(7))
    part = write(tmp_path, Block({"x": fixed("UInt8", [1])}), partition_value=values,
                 minmax={"ts": (datetime.datetime(2024, 1, 1), datetime.datetime(2024, 2, 1))})
    assert part.partition_value == values[:-1] + (7,)
    assert part.minmax == {"ts": (datetime.datetime(2024, 1, 1), datetime.datetime(2024, 2, 1))}


def test_primary_index_of_expression_key(tmp_path):
    n = 25
    block = Block({"ts": fixed("UInt32", np.arange(n) * 1000), "s": strings([f"k{i // 5}" for i in range(n)])})
    # the key values are supplied by the caller (here intDiv(ts, 3600) and s), one per row
    key = Block({"intDiv(ts, 3600)": fixed("UInt32", np.arange(n) * 1000 // 3600), "s": block["s"]})
    write_part(tmp_path / "tmp_x", block, primary_key=key, partition_value=(), minmax={}, index_granularity=10)
    part = DataPart.open(tmp_path / "tmp_x")
    assert part.info is None                                           # not an active part name
    assert part.primary_index.names == ["intDiv(ts, 3600)", "s"]
    assert part.primary_index["intDiv(ts, 3600)"].to_pylist() == [0, 2, 5, 6]
    assert part.primary_index["s"].to_pylist() == ["k0", "k2", "k4", "k4"]


def test_write_into_non_empty_dir_refused(tmp_path):
    (tmp_path / "tmp_a").mkdir()
    (tmp_path / "tmp_a" / "junk").write_bytes(b"")
    with pytest.raises(BadArgumentsError, match="not empty"):
        write_part(tmp_path / "tmp_a", Block({"x": fixed("UInt8", [1])}), primary_key=Block(),
                   partition_value=(), minmax={})


def test_checksums_written_last_and_everything_fsynced(tmp_path, monkeypatch):
    events = []
    real_fsync = os.fsync
    real_rename = os.rename
    real_open = open

    def spy_fsync(fd):
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        return real_fsync(fd)

    def spy_rename(a, b):
        events.append(("rename", str(b)))
        return real_rename(a, b)

    monkeypatch.setattr(pw.os, "fsync", spy_fsync)
    monkeypatch.setattr(pw.os, "rename", spy_rename)
    block = all_types_block(50)
    write_part(tmp_path / "tmp_p", block, primary_key=Block(), partition_value=(), minmax={})
    names = [Path(p).name for kind, p in events if kind == "fsync"]
    assert events[-1] == ("fsync", str(tmp_path / "tmp_p"))            # the directory, at the very end
    assert events[-2] == ("rename", str(tmp_path / "tmp_p" / "checksums.txt"))
    assert names[-2] == "checksums.txt.tmp"
    assert set(names[:-2]) == set(os.listdir(tmp_path / "tmp_p")) - {"checksums.txt"}


def test_part_without_checksums_is_incomplete(tmp_path):
    part = write(tmp_path, Block({"x": fixed("UInt8", [1, 2])}))
    (part.path / "checksums.txt").unlink()
    with pytest.raises(CorruptedPartError, match="not completely written") as e:
        DataPart.open(part.path)
    assert e.value.part == "all_1_1_0" and e.value.file == "checksums.txt"


# --------------------------------------------------------------------------- corruption

def _corruption_block():
    n = 50_000
    return Block({"id": fixed("UInt64", np.arange(n)), "payload": strings([f"payload-{i * 7919 % 1000}-{i}" for i in range(n)])})


def test_truncated_file_detected_on_open(tmp_path):
    part = write(tmp_path, _corruption_block(), name="all_2_2_0")
    f = part.path / "payload.bin"
    os.truncate(f, f.stat().st_size - 10)
    with pytest.raises(CorruptedPartError) as e:
        DataPart.open(part.path)
    assert e.value.part == "all_2_2_0" and e.value.file == "payload.bin"
    assert "column payload" in str(e.value) and "all_2_2_0" in str(e.value)
    # without the size check, the read itself detects the truncation
    unverified = DataPart.open(part.path, verify=False)
    assert unverified.read(["id"])["id"].values[-1] == 49_999            # other columns still serve
    with pytest.raises(CorruptedPartError, match="column payload") as e2:
        unverified.read(["payload"])
    assert e2.value.file == "payload.bin"


@pytest.mark.parametrize("file, column", [("payload.bin", "payload"), ("payload.size.bin", "payload"), ("id.bin", "id")])
def test_flipped_byte_detected_on_read(tmp_path, file, column):
    part = write(tmp_path, _corruption_block(), name="all_3_3_0")
    f = part.path / file
    raw = bytearray(f.read_bytes())
    raw[len(raw) // 2] ^= 0x04
    f.write_bytes(bytes(raw))
    opened = DataPart.open(part.path)                                  # sizes still match
    with pytest.raises(CorruptedPartError, match=f"column {column}: checksum mismatch") as e:
        opened.read([column])
    assert e.value.part == "all_3_3_0" and e.value.file == file
    with pytest.raises(CorruptedPartError, match="checksum mismatch") as e:
        opened.verify_checksums()
    assert e.value.file == file


def test_corrupted_metadata_files(tmp_path):
    part = write(tmp_path, _corruption_block(), name="all_4_4_0")
    (part.path / "id.mrk").unlink()
    with pytest.raises(CorruptedPartError, match="column id: file is missing") as e:
        DataPart.open(part.path)
    assert e.value.file == "id.mrk"
    part = write(tmp_path, _corruption_block(), name="all_5_5_0")
    raw = bytearray((part.path / "count.txt").read_bytes())
    raw[0] = ord("x")
    (part.path / "count.txt").write_bytes(bytes(raw))
    with pytest.raises(CorruptedPartError, match="not a row count") as e:
        DataPart.open(part.path)
    assert e.value.file == "count.txt"


def test_corrupted_mark_detected(tmp_path):
    part = write(tmp_path, _corruption_block(), name="all_6_6_0", index_granularity=1000)
    marks = np.fromfile(part.path / "payload.mrk", MARK_DTYPE)
    marks["offset_in_block"][3] += 10**9
    marks.tofile(part.path / "payload.mrk")
    opened = DataPart.open(part.path)
    with pytest.raises(CorruptedPartError, match="column payload") as e:
        opened.read(["payload"], [(3, 4)])
    assert e.value.file == "payload.bin"
    with pytest.raises(CorruptedPartError) as e:
        opened.verify_checksums()
    assert e.value.file == "payload.mrk"


# --------------------------------------------------------------------------- property test

_TYPES = ["UInt8", "Int64", "Float32", "Date", "DateTime", "String", "Nullable(String)", "Array(Int16)",
          "LowCardinality(String)", "FixedString(2)", "UUID"]


def _random_column(t: str, n: int, rng) -> Column:
    if t == "String":
        pool = [f"s{i}" for i in range(int(rng.integers(1, 50)))] + ["", "é"]
        return strings([pool[i] for i in rng.integers(0, len(pool), n)])
    if t == "Nullable(String)":
        nulls = rng.random(n) < 0.3
        return nullable(strings(["" if z else str(int(x)) for z, x in zip(nulls, rng.integers(0, 9, n))]), nulls)
    if t == "Array(Int16)":
        lens = rng.integers(0, 4, n)
        return array(fixed("Int16", rng.integers(-2**15, 2**15, int(lens.sum()))), lens)
    if t == "LowCardinality(String)":
        return lowcard(strings(["a", "bb", ""]), rng.integers(0, 3, n))
    pt = parse_type(t)
    if pt.dtype.kind == "f":
        return fixed(t, rng.normal(size=n))
    info = np.iinfo(pt.dtype)
    shape = (n,) + pt.value_shape
    vals = rng.integers(info.min, info.max, shape, endpoint=True, dtype=pt.dtype)
    if rng.random() < 0.5 and not pt.value_shape:
        vals = np.sort(vals)                                           # exercises automatic Delta
    return fixed(t, vals)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 3000), granularity=st.sampled_from([1, 7, 128, 8192]),
       types=st.lists(st.sampled_from(_TYPES), min_size=1, max_size=4),
       codec=st.sampled_from([None, "LZ4", "ZSTD(1)", "NONE", "CODEC(Delta, LZ4)"]))
def test_round_trip_property(tmp_path_factory, seed, n, granularity, types, codec):
    rng = np.random.default_rng(seed)
    block = Block({f"c{i}": _random_column(t, n, rng) for i, t in enumerate(types)})
    tmp = tmp_path_factory.mktemp("prop")
    part = write(tmp, block, key=("c0",), index_granularity=granularity,
                 codecs={k: codec for k in block.names} if codec else None)
    assert_blocks_equal(part.read(), block)
    if part.marks:
        a = int(rng.integers(0, part.marks))
        b = int(rng.integers(a + 1, part.marks + 1))
        got = part.read(None, [(a, b)])
        for name in block.names:
            assert got[name].equals(block[name].slice(a * granularity, min(b * granularity, n)))


def test_malformed_serialization_entry(tmp_path):
    part = write(tmp_path, Block({"x": fixed("UInt8", [1, 2])}), name="all_7_7_0")
    p = part.path / "serialization.json"
    p.write_text(p.read_text().replace('"kind":"fixed"', '"kind":"fixxx"'))
    with pytest.raises(CorruptedPartError, match="unknown serialization kind") as e:
        DataPart.open(part.path, verify=False).read(["x"])
    assert e.value.file == "serialization.json" and e.value.part == "all_7_7_0"


def test_read_no_columns_counts_rows(tmp_path):
    part = write(tmp_path, Block({"x": fixed("UInt8", np.arange(30))}), index_granularity=8)
    got = part.read([], [(1, 4)])
    assert got.num_rows == 22 and got.names == []


@pytest.mark.parametrize("fname", ["checksums.txt", "x.bin", "minmax_d.idx", "a/b", "count.txt", "checksums.txt.tmp"])
def test_extra_file_names_that_would_clash_are_refused(tmp_path, fname):
    with pytest.raises(BadArgumentsError, match="reserved or invalid"):
        write_part(tmp_path / "tmp_e", Block({"x": fixed("UInt8", [1])}), primary_key=Block(),
                   partition_value=(), minmax={}, extra_files={fname: b""})


def test_ranges_sharing_a_block_decode_it_once(tmp_path):
    n = 10_000
    block = Block({"x": fixed("UInt64", np.random.default_rng(2).integers(0, 2**63, n))})
    part = write(tmp_path, block, index_granularity=10, codecs={"x": "NONE"})    # 80 B granules: 820 per block
    stats = ReadStats()
    got = part.read(["x"], [(1, 2), (5, 7), (100, 101)], stats=stats)
    assert got["x"].values.tolist() == block["x"].values[np.r_[10:20, 50:70, 1000:1010]].tolist()
    assert stats.blocks == 1 and stats.marks == 4
    stats2 = ReadStats()
    part.read(["x"], [(0, 1), (900, 901)], stats=stats2)                           # different blocks
    assert stats2.blocks == 2


@pytest.mark.parametrize("file", ["columns.txt", "serialization.json", "primary.idx", "partition.dat", "count.txt"])
def test_garbage_metadata_is_corruption(tmp_path, file):
    part = write(tmp_path, Block({"x": fixed("UInt8", [1, 2])}), name="all_8_8_0", key=("x",))
    f = part.path / file
    f.write_bytes(b"\xff\xfe" + b"\x00" * (f.stat().st_size - 2))       # same size, garbage content
    with pytest.raises(CorruptedPartError) as e:
        DataPart.open(part.path)
    assert e.value.file == file and e.value.part == "all_8_8_0"


def test_part_bytes_do_not_depend_on_encoding_threads(tmp_path, monkeypatch):
    block = all_types_block(3000, seed=4)
    monkeypatch.setattr(pw, "WRITE_THREADS", 1)
    a = write(tmp_path, block, name="all_1_1_0", key=("dt",), index_granularity=100)
    monkeypatch.setattr(pw, "WRITE_THREADS", 2)
    b = write(tmp_path, block, name="all_2_2_0", key=("dt",), index_granularity=100)
    files = sorted(os.listdir(a.path))
    assert files == sorted(os.listdir(b.path))
    for f in files:
        assert (a.path / f).read_bytes() == (b.path / f).read_bytes(), f


def test_encoding_and_decoding_pools_work_in_a_forked_child(tmp_path, monkeypatch):
    import multiprocessing
    from mergetree.storage import codecs as C
    monkeypatch.setattr(C, "PARALLEL_DECODE_MIN_BYTES", 1)
    block = Block({"x": fixed("UInt64", np.arange(300_000)), "y": fixed("UInt32", np.arange(300_000) % 7)})
    write(tmp_path, block, name="all_1_1_0")                  # creates the thread pools in this process

    def child(q):
        part = write(tmp_path, block, name="all_2_2_0")
        q.put(int(part.read(["x"])["x"].values.sum()))

    ctx = multiprocessing.get_context("fork")
    q = ctx.Queue()
    proc = ctx.Process(target=child, args=(q,), daemon=True)
    proc.start()
    proc.join(60)
    if proc.is_alive():                                       # deadlocked on a pool without threads
        proc.kill()
        proc.join()
    assert proc.exitcode == 0
    assert q.get(timeout=5) == int(np.arange(300_000).sum())


def test_unknown_column(tmp_path):
    from mergetree.errors import UnknownColumnError
    part = write(tmp_path, Block({"x": fixed("UInt8", [1])}))
    with pytest.raises(UnknownColumnError, match="Part all_1_1_0 has no column 'y'"):
        part.read(["y"])


@pytest.mark.parametrize("codec,rows", [(None, "subset"), ("ZSTD(3)", "subset"), (None, "permutation"),
                                        (None, "repeats")])
def test_write_with_order_equals_writing_the_taken_block(tmp_path, codec, rows):
    """write_part(order=...) writes block.take(order) (a permutation of all rows: strings are
    dictionary-encoded before the gather)."""
    block = all_types_block(700, seed=5)
    rng = np.random.default_rng(6)
    order = {"subset": rng.permutation(700)[:650],                 # one partition's rows
             "permutation": rng.permutation(700),
             "repeats": rng.integers(0, 700, 700)}[rows].astype(np.int64)
    codecs = {n: codec for n in block.names} if codec else None
    taken = block.take(order)
    a = write(tmp_path, taken, name="all_1_1_0", key=("dt", "s"), codecs=codecs, index_granularity=64)
    tmp = tmp_path / "tmp_insert_all_2_2_0"
    write_part(tmp, block, primary_key=Block({k: block[k] for k in ("dt", "s")}), partition_value=(),
               minmax={}, codecs=codecs, index_granularity=64, order=order)
    os.rename(tmp, tmp_path / "all_2_2_0")
    b = DataPart.open(tmp_path / "all_2_2_0")
    assert b.rows == len(order) and b.granule_rows.tolist() == a.granule_rows.tolist()
    assert_blocks_equal(b.read(), taken)
    assert_blocks_equal(b.primary_index, a.primary_index)
    assert _ser(b)["s"]["kind"] == "dict_string" and _ser(b)["s_uniq"]["kind"] == "string"
    b.verify_checksums()
    with pytest.raises(BadArgumentsError, match="order"):
        write_part(tmp_path / "tmp_bad", block, primary_key=Block(), partition_value=(), minmax={},
                   order=np.array([0, 700]))
