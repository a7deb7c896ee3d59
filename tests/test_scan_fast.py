"""The point-lookup read path (exec/scan.py `_read_task_point`): binary search of the first key
column as stored (`DataPart.key_run`, kernel `sizes_equal_range`), reads of only the run of rows
that holds the key value (`DataPart.read(rows=...)`), and the comparisons evaluated with one numpy
operation (`_compare_fast`). Each is checked against the general path it replaces, and the queries
against answers computed here in Python."""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path

import numpy as np
import pytest

import mergetree
from mergetree import types as T
from mergetree.column import Block, FixedColumn, NullableColumn
from mergetree.storage import read_cache as rc
from mergetree.storage.part import DataPart
from mergetree.storage.part_writer import write_part
from mergetree.types import parse_type

sys.path.insert(0, str(Path(__file__).parent))
from part_columns import mixed_columns, strings  # noqa: E402


_strings = strings


@pytest.fixture
def cache():
    c = rc.UncompressedCache(64 << 20)
    yield c
    c.clear()


# --------------------------------------------------------------------------- kernel

def test_sizes_equal_range_kernel_matches_its_twin():
    from mergetree.kernels.keyrange import sizes_equal_range, sizes_equal_range_numpy

    rng = np.random.default_rng(3)
    alphabet = [b"", b"a", b"ab", b"abc", b"b", b"\x00", b"\xff", b"user_1", b"user_10", b"user_2"]
    for n in (0, 1, 2, 9, 300, 5000):
        rows = sorted(alphabet[i] + b"x" * int(j) for i, j in zip(rng.integers(0, len(alphabet), n),
                                                                rng.integers(0, 2, n)))
        data = np.frombuffer(b"".join(rows), np.uint8) if n else np.zeros(0, np.uint8)
        for dtype in (np.uint32, np.uint64):
            sizes = np.array([len(r) for r in rows], dtype)
            for probe in alphabet + [b"zz", b"a\x00", b"user_", b"user_1x"]:
                got = sizes_equal_range(sizes, data, probe)
                assert got == sizes_equal_range_numpy(sizes, data, probe)
                lo, hi, b0, b1, total = got
                assert total == len(data) and rows[lo:hi] == [probe] * (hi - lo)
                assert bytes(data[b0:b1]) == probe * (hi - lo)
    # sizes that do not add up to the bytes: reported through the total, nothing searched
    sizes = np.array([1, 2], np.uint32)
    assert sizes_equal_range(sizes, np.zeros(2, np.uint8), b"a") == (0, 0, 0, 0, 3)
    assert sizes_equal_range_numpy(sizes, np.zeros(2, np.uint8), b"a") == (0, 0, 0, 0, 3)


# --------------------------------------------------------------------------- DataPart level

@pytest.fixture
def part(tmp_path):
    n = 5000
    rng = np.random.default_rng(5)
    keys = sorted(f"user_{int(i):04d}" for i in rng.integers(0, 2500, n))
    block = Block({"u": _strings(keys), "s": _strings([f"unique-{i}" for i in range(n)]), **mixed_columns(n, rng)})
    tmp = tmp_path / "tmp_p"
    write_part(tmp, block, primary_key=Block({"u": block["u"]}), partition_value=(), minmax={}, index_granularity=64)
    os.rename(tmp, tmp_path / "all_1_1_0")
    p = DataPart.open(tmp_path / "all_1_1_0")
    assert p._serialization["d"]["kind"] == "dict_string" and p._serialization["u"]["kind"] == "string"
    return p


NAMES = ["u", "k", "d", "s", "lc", "ni", "a"]


def test_read_rows_window_equals_read_then_slice(part, cache):
    rng = np.random.default_rng(8)
    for ranges in ([(3, 4)], [(0, 2), (10, 11)], [(5, 9), (20, 22), (40, 41)], [(0, part.marks)]):
        whole = part.read(NAMES, ranges)
        total = whole.num_rows
        windows = [(0, 0), (0, total), (0, 1), (total - 1, total), (63, 65), (64, 128), (1, total - 1)]
        windows += [tuple(sorted(rng.integers(0, total + 1, 2).tolist())) for _ in range(20)]
        for lo, hi in windows:
            if not 0 <= lo <= hi <= total:
                continue
            for masked in (False, True):
                mask = rng.random(hi - lo) < 0.4 if masked else None
                want = whole.slice(lo, hi)
                if mask is not None:
                    want = want.filter(mask)
                for c in (None, cache):
                    got = part.read(NAMES, ranges, cache=c, copy=False, rows=(lo, hi), mask=mask)
                    assert got.num_rows == want.num_rows, (ranges, lo, hi)
                    for name in NAMES:
                        assert got[name].equals(want[name]), (name, ranges, lo, hi, masked)
    got = part.read(["k"], [(0, 2)], rows=(3, 5))
    got["k"].values[0] = 99                      # a fresh array, never a view of the part's bytes
    assert part.read(["k"], [(0, 2)], rows=(3, 5))["k"].values.tolist() == [3, 4]
    with pytest.raises(mergetree.errors.BadArgumentsError):
        part.read(["k"], [(0, 1)], rows=(0, 65))
    with pytest.raises(mergetree.errors.BadArgumentsError):
        part.read(["k"], [(0, 1)], rows=(0, 4), mask=np.ones(3, bool))


def test_key_run_finds_the_rows_of_the_value(part, cache):
    keys = part.read(["u"])["u"]
    all_keys = [bytes(keys.data[keys.offsets[i]:keys.offsets[i + 1]]) for i in range(len(keys))]
    starts = part.granule_starts()
    assert starts[-1] == part.rows and len(starts) == part.marks + 1
    for ranges in ([(3, 4)], [(0, 2), (10, 11)], [(0, part.marks)], [(7, 9), (9, 12)]):
        rows = [all_keys[r] for a, b in ranges for r in range(starts[a], starts[b])]
        for probe in {rows[0], rows[-1], rows[len(rows) // 2], b"user_", b"user_9999", b""}:
            for c in (None, cache):
                lo, hi, n, nbytes = part.key_run("u", ranges, probe, c)
                assert n == len(rows) and nbytes == 8 * (n + 1) + sum(map(len, rows))
                assert rows[lo:hi] == [probe] * (hi - lo)
                assert probe not in rows[:lo] + rows[hi:]
                assert (hi > lo) == (probe in rows)
    assert part.key_run("d", [(0, 1)], b"click") is None       # dictionary-encoded: read it instead
    assert part.key_run("k", [(0, 1)], b"1") is None
    assert part.key_run("u", [], b"x") == (0, 0, 0, 0)


def test_key_run_reports_a_corrupt_column(part, tmp_path):
    from mergetree.errors import CorruptedPartError

    meta = part._serialization["u"]["sizes"]
    sizes = (part.path / (meta["file"] + ".bin"))
    raw = bytearray(sizes.read_bytes())
    raw[-1] ^= 0xFF
    sizes.write_bytes(bytes(raw))
    fresh = DataPart.open(part.path, verify=False)
    with pytest.raises(CorruptedPartError) as e:
        fresh.key_run("u", [(fresh.marks - 1, fresh.marks)], b"user_1000")
    assert "column u" in str(e.value)


# --------------------------------------------------------------------------- comparisons

@pytest.mark.parametrize("type_name, values, const", [
    ("UInt8", [0, 1, 200, 255], 200), ("Int64", [-5, 0, 7, 2 ** 40], 7), ("Int8", [-128, 0, 127], -1),
    ("UInt64", [0, 2 ** 63, 2 ** 64 - 1], 2 ** 63), ("Date", [0, 19000, 20000], dt.date(2022, 1, 1)),
    ("DateTime('UTC')", [0, 1700000000, 1800000000], dt.datetime(2023, 11, 14, 22, 13, 20)),
])
def test_compare_fast_equals_the_function(type_name, values, const):
    from mergetree.exec.expression import bind, execute
    from mergetree.exec.filter import truth
    from mergetree.exec.scan import _compare_fast

    t = parse_type(type_name)
    col = FixedColumn(t, np.array(values, t.dtype))
    block = Block({"x": col})
    lit = {"Date": f"toDate('{const}')", "DateTime('UTC')": f"toDateTime('{const}', 'UTC')"}.get(type_name)
    lit = lit or f"to{type_name}({const})"
    for op in ("=", "!=", "<", ">", "<=", ">="):
        for text in (f"x {op} {lit}", f"{lit} {op} x"):
            b = bind(text, {"x": t})
            got = _compare_fast(b, block)
            assert got is not None, text
            assert got.tolist() == truth(execute(b, block), len(col)).tolist(), text


def test_compare_fast_declines_other_shapes():
    from mergetree.exec.expression import bind
    from mergetree.exec.scan import _compare_fast

    schema = {"x": T.parse_type("UInt8"), "f": T.parse_type("Float64"), "n": T.parse_type("Nullable(Int32)"),
              "s": T.String}
    block = Block({"x": FixedColumn(schema["x"], np.array([1, 2], np.uint8)),
                   "f": FixedColumn(schema["f"], np.array([1.0, np.nan])),
                   "n": NullableColumn(schema["n"], FixedColumn(T.parse_type("Int32"), np.array([1, 2], np.int32)),
                                       np.array([False, True])),
                   "s": _strings(["a", "b"])})
    for text in ("x > 300", "x > -1", "f > 1", "n > 1", "s = 'a'", "x + 1 > 2", "x > x"):
        assert _compare_fast(bind(text, schema), block) is None, text


# --------------------------------------------------------------------------- queries

@pytest.mark.parametrize("one_pass_rows", [256, 0])      # long runs are read in two passes
def test_point_lookups_return_the_rows_computed_here(tmp_path, monkeypatch, one_pass_rows):
    monkeypatch.setattr("mergetree.exec.scan.POINT_ONE_PASS_ROWS", one_pass_rows)
    runs = []
    key_run = DataPart.key_run

    def counted(self, *args, **kwargs):
        runs.append(key_run(self, *args, **kwargs))
        return runs[-1]

    monkeypatch.setattr(DataPart, "key_run", counted)
    db = mergetree.connect(str(tmp_path / "db"), background_merges=False)
    try:
        db.sql("CREATE TABLE e (u String, ts DateTime('UTC'), d Date, x Int16, n Nullable(Int32), ev String) "
               "ENGINE = MergeTree PARTITION BY toYYYYMM(ts) ORDER BY (u, ts) SETTINGS index_granularity = 64")
        rng = np.random.default_rng(12)
        rows = []
        for _ in range(3):
            m = 2500
            users = [("hot", "", "b\x00")[i % 3] if i < 300 else f"u{i}" for i in rng.integers(0, 3000, m)]
            ts = rng.integers(1_700_000_000, 1_700_000_000 + 90 * 86400, m).tolist()
            xs = rng.integers(-5, 10, m).tolist()
            ns = [None if v % 4 == 0 else v for v in rng.integers(0, 100, m).tolist()]
            evs = [("view", "click", "buy")[v] for v in rng.integers(0, 3, m)]
            db.insert("e", {"u": users, "ts": ts, "d": [t // 86400 for t in ts], "x": xs, "n": ns, "ev": evs})
            rows += list(zip(users, ts, xs, ns, evs))
        db.sql("DELETE FROM e WHERE x = 7")
        rows = [r for r in rows if r[2] != 7]
        cut = 1_700_000_000 + 45 * 86400
        cases = [
            ("u = 'hot'", lambda r: r[0] == "hot"),
            (f"u = 'hot' AND ts >= toDateTime({cut}, 'UTC')", lambda r: r[0] == "hot" and r[1] >= cut),
            (f"u = 'u500' AND d < toDate({cut // 86400})", lambda r: r[0] == "u500" and r[1] // 86400 < cut // 86400),
            ("'u900' = u AND x > 2", lambda r: r[0] == "u900" and r[2] > 2),
            ("u = 'u900' AND x > 2.5", lambda r: r[0] == "u900" and r[2] > 2.5),
            ("u = '' AND n > 50", lambda r: r[0] == "" and r[3] is not None and r[3] > 50),
            ("u = 'b\\0' AND n IS NULL", lambda r: r[0] == "b\x00" and r[3] is None),
            ("u = 'u1100' AND ev = 'buy' AND x <= 3", lambda r: r[0] == "u1100" and r[4] == "buy" and r[2] <= 3),
            ("u = 'nobody' AND x > 0", lambda r: False),
            ("u = 'u333' AND length(u) = 4", lambda r: r[0] == "u333"),
        ]
        for where, pred in cases:
            want = sorted((r[4], r[1], r[0]) for r in rows if pred(r))
            for rule in ("", "prewhere"):
                settings = {"optimizer_disabled_rules": rule} if rule else None
                got = db.sql(f"SELECT ev, toUnixTimestamp(ts), u FROM e WHERE {where} ORDER BY ev, ts, u",
                             settings=settings).rows
                assert sorted(got) == want, (where, rule)
                counts = db.sql(f"SELECT ev, count() FROM e WHERE {where} GROUP BY ev ORDER BY ev",
                                settings=settings).rows
                assert counts == sorted({e: sum(1 for w in want if w[0] == e) for e, _, _ in want}.items())
        assert any(r is not None and r[1] > r[0] for r in runs)       # the point path ran, and found rows
    finally:
        db.close()


def test_cached_single_range_reads_equal_the_file(tmp_path, cache):
    """A single granule range found wholly in the uncompressed cache is cut from the cached blocks
    (`DataPart._read_cached_range`): same bytes as a read of the file, incl. streams with no bytes."""
    n = 3000
    block = Block({"k": FixedColumn(parse_type("UInt32"), np.arange(n, dtype=np.uint32)),
                   "e": _strings([""] * n),
                   "s": _strings([f"v{i * 7919 % 1000}" * (i % 3) for i in range(n)])})
    tmp = tmp_path / "tmp_c"
    write_part(tmp, block, primary_key=Block({"k": block["k"]}), partition_value=(), minmax={}, index_granularity=100)
    os.rename(tmp, tmp_path / "all_1_1_0")
    p = DataPart.open(tmp_path / "all_1_1_0")
    for ranges in ([(0, 1)], [(3, 7)], [(p.marks - 1, p.marks)], [(0, p.marks)], [(12, 13)]):
        plain = p.read(["k", "e", "s"], ranges)
        for _ in range(2):                               # the second read is served by the cache
            for copy in (True, False):
                got = p.read(["k", "e", "s"], ranges, cache=cache, copy=copy)
                for c in ("k", "e", "s"):
                    assert got[c].equals(plain[c]), (c, ranges)
    assert cache.stats()["hits"] > 0


def test_prepared_dictionary_decodes_as_dictionary_decode():
    from mergetree.storage.codecs import BlockCorruptedError, PreparedDictionary, dictionary_decode

    rng = np.random.default_rng(21)
    for entries in (["a"], ["", "x", "page_view", "click"], [f"v{i}" * (i % 5) for i in range(300)],
                    ["long-" * 10, "s"]):                       # short entries: fixed-size copies; a long one: not
        d = _strings(entries)
        prep = PreparedDictionary(d.offsets, d.data)
        for n in (0, 1, 5, 63, 64, 65, 300, 5000):
            codes = rng.integers(0, len(entries), n).astype(np.uint16)
            got, want = prep.decode(codes), dictionary_decode(d.offsets, d.data, codes)
            assert got[0].tolist() == want[0].tolist() and got[1].tobytes() == want[1].tobytes()
            assert got[1].tobytes() == b"".join(entries[c].encode() for c in codes.tolist())
        with pytest.raises(BlockCorruptedError):
            prep.decode(np.array([0, len(entries)], np.uint16))


def test_lazy_equalities_answer_as_the_table_of_points():
    """KeyCondition._equalities_lazy (one mark's check) against _equalities (the exclusion search's)."""
    from mergetree.column import column_from_values
    from mergetree.storage.key_condition import KeyCondition

    cols = [_strings(["a", "a", "ab", "", "", "b\x00", "b"]),
            FixedColumn(parse_type("UInt32"), np.array([1, 1, 2, 2, 3, 3, 3], np.uint32)),
            FixedColumn(parse_type("Float64"), np.array([0.5, 0.5, -0.0, 0.0, 1.0, 2.0, 2.0])),
            column_from_values(parse_type("Nullable(Int32)"), [None, None, 1, 1, None, 2, 2])]
    lazy = KeyCondition._equalities_lazy(cols)
    table = KeyCondition._equalities(cols)
    for k in range(len(cols)):
        for i in range(7):
            for j in range(7):
                assert bool(lazy[k](i, j)) == bool(table[k](i, j)), (k, i, j)
