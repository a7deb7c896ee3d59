"""The read path's caches (storage/read_cache.py): kept file mappings per part and the
uncompressed-block cache, plus the cached key-condition analyses (storage/key_condition.py).

Real behaviour: a cached read returns the same bytes as an uncached one (DataPart.read without
the cache is the independent expectation, and query answers are checked against sums computed
by hand); no entry of a removed part is ever served (merge, mutation, delete, truncate, drop +
recreate, replace); file descriptors (/proc/self/fd) do not grow over many queries and are
released by merges, DROP TABLE and Database.close; a merge running during cached reads never
changes an answer; the cache stays within its byte bound and big scans do not fill it."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

import mergetree
from mergetree.column import Block, FixedColumn
from mergetree.storage import read_cache as rc
from mergetree.storage.part import DataPart, ReadStats
from mergetree.storage.part_writer import write_part
from mergetree.types import parse_type

sys.path.insert(0, str(Path(__file__).parent))
from part_columns import mixed_columns, strings  # noqa: E402


def _fds(root=None) -> int:
    """Open file descriptors of this process (under `root` only, when given: immune to other
    threads of the test process opening sockets or files meanwhile)."""
    n = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if root is None or target.startswith(str(root)):
            n += 1
    return n


_strings = strings


def _part(tmp_path, n=50_000, granularity=256, name="all_1_1_0"):
    rng = np.random.default_rng(7)
    block = Block({
        "k": FixedColumn(parse_type("UInt64"), np.arange(n, dtype=np.uint64)),
        "v": FixedColumn(parse_type("Float64"), rng.normal(size=n)),
        "s": _strings([f"user_{i % 997}_{'x' * (i % 5)}" for i in range(n)]),
        "u": _strings([f"unique-{i}" for i in range(n)]),
    })
    tmp = tmp_path / f"tmp_{name}"
    write_part(tmp, block, primary_key=Block({"k": block["k"]}), partition_value=(), minmax={},
               index_granularity=granularity)
    os.rename(tmp, tmp_path / name)
    return DataPart.open(tmp_path / name), block


@pytest.fixture
def cache():
    c = rc.UncompressedCache(64 << 20)
    yield c
    c.clear()


# --------------------------------------------------------------------------- DataPart level

def test_cached_read_equals_uncached_read(tmp_path, cache):
    part, block = _part(tmp_path)
    rng = np.random.default_rng(1)
    for _ in range(40):
        a = int(rng.integers(0, part.marks))
        ranges = [(a, min(part.marks, a + int(rng.integers(1, 4))))]
        if rng.random() < 0.5:
            b = int(rng.integers(0, part.marks))
            ranges.append((b, b + 1))
        plain = part.read(["k", "v", "s", "u"], ranges)
        for copy in (True, False):
            got = part.read(["k", "v", "s", "u"], ranges, cache=cache, copy=copy)
            for c in ("k", "v", "s", "u"):
                assert got[c].equals(plain[c]), (c, ranges)
        # and the expectation from the written block itself
        rows = np.concatenate([np.arange(x * 256, min(y * 256, len(block["k"]))) for x, y in sorted(ranges)])
        assert np.unique(plain["k"].values).tolist() == np.unique(rows).tolist()
    st = cache.stats()
    assert st["hits"] > 0 and st["misses"] > 0 and st["bytes"] <= st["max_bytes"]


def test_second_read_decodes_nothing_and_cached_bytes_are_protected(tmp_path, cache):
    part, _ = _part(tmp_path)
    s1, s2 = ReadStats(), ReadStats()
    first = part.read(["v", "s"], [(10, 12)], stats=s1, cache=cache)
    second = part.read(["v", "s"], [(10, 12)], stats=s2, cache=cache, copy=False)
    assert s1.blocks > 0 and s2.blocks == 0 and s2.bytes_decompressed == 0
    assert second["v"].equals(first["v"]) and second["s"].equals(first["s"])
    with pytest.raises(ValueError):           # a view of a cached block cannot be written through
        second["v"].values[0] = 1.0
    first["v"].values[0] = 123.0              # a copy can, without touching the cache
    assert part.read(["v"], [(10, 12)], cache=cache)["v"].values[0] != 123.0


def test_uids_are_never_reused_and_close_forgets_the_part(tmp_path, cache):
    part, _ = _part(tmp_path)
    again = DataPart.open(part.path)
    assert again.uid != part.uid
    part.read(["v"], [(0, 3)], cache=cache)
    assert cache.stats()["entries"] > 0 and rc.mapped_files.open_count(part.uid) == 1
    again.read(["v"], [(0, 3)], cache=cache)          # its own entries: another uid
    assert cache.stats()["hits"] == 0
    rc.uncompressed_cache  # the process cache is separate from this test's one
    part.close()
    assert rc.mapped_files.open_count(part.uid) == 0
    assert part.read(["v"], [(0, 3)])["v"].equals(again.read(["v"], [(0, 3)])["v"])   # still readable
    assert rc.mapped_files.open_count(part.uid) == 0                                    # without keeping a map
    again.close()


def test_mapping_capacity_is_bounded(tmp_path, monkeypatch):
    files = rc.MappedFiles(capacity=2)
    monkeypatch.setattr("mergetree.storage.part.mapped_files", files)
    part, block = _part(tmp_path)
    for _ in range(3):
        got = part.read(["k", "v", "s", "u"], [(5, 7)])     # 6 .bin files through 2 mappings
        assert got["k"].values.tolist() == list(range(5 * 256, 7 * 256))
        assert files.open_count() <= 2
    assert _fds(tmp_path) <= 2
    files.clear()
    assert _fds(tmp_path) == 0


def test_lru_byte_bound_and_eviction_order():
    c = rc.UncompressedCache(10_000)
    for i in range(20):
        c.put((1, "f", i), np.zeros(1000, np.uint8), 10)
    st = c.stats()
    assert st["bytes"] <= 10_000 and st["evictions"] > 0
    assert c.get((1, "f", 19)) is not None and c.get((1, "f", 0)) is None
    c.get((1, "f", 19 - st["entries"] + 1))            # touch the oldest survivor: it stays
    c.put((1, "f", 100), np.zeros(1000, np.uint8), 10)
    assert c.get((1, "f", 19 - st["entries"] + 1)) is not None
    c.put((2, "g", 0), np.zeros(50_000, np.uint8), 10)  # bigger than the whole cache: not kept
    assert c.get((2, "g", 0)) is None and c.stats()["bytes"] <= 10_000
    c.drop_part(1)
    assert c.stats()["entries"] == 0 and c.stats()["bytes"] == 0


def test_cache_is_thread_safe():
    c = rc.UncompressedCache(200_000)
    errors = []

    def work(seed):
        rng = np.random.default_rng(seed)
        try:
            for _ in range(2000):
                k = (int(rng.integers(0, 3)), "f", int(rng.integers(0, 100)))
                hit = c.get(k)
                if hit is None:
                    c.put(k, np.full(int(rng.integers(100, 5000)), k[2] % 251, np.uint8), 1)
                elif not (hit[0] == k[2] % 251).all():
                    errors.append(k)
                if rng.random() < 0.01:
                    c.drop_part(int(rng.integers(0, 3)))
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=work, args=(s,)) for s in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    st = c.stats()
    assert 0 <= st["bytes"] <= 200_000
    assert st["bytes"] == sum(v[0].nbytes + rc.ENTRY_OVERHEAD for v in c._entries.values())


# --------------------------------------------------------------------------- through SQL

def _db(tmp_path):
    return mergetree.connect(str(tmp_path / "db"), background_merges=False)


def _fill(db, parts=3, n=20_000):
    db.sql("CREATE TABLE t (k UInt64, g String, v UInt64) ENGINE = MergeTree ORDER BY k "
           "SETTINGS index_granularity = 1024")
    for p in range(parts):
        ks = np.arange(p * n, (p + 1) * n)
        db.insert("t", {"k": ks.tolist(), "g": [f"g{k % 7}" for k in ks.tolist()], "v": (ks * 3).tolist()})


def _point(db, k, **settings):
    return db.sql(f"SELECT count(), sum(v), any(g) FROM t WHERE k = {k}", settings=settings or None).rows[0]


def test_point_queries_hit_the_cache_and_match_uncached(tmp_path):
    db = _db(tmp_path)
    try:
        _fill(db)
        before = rc.uncompressed_cache.stats()
        for k in (5, 777, 20_001, 45_000, 5, 777, 20_001, 45_000):
            assert _point(db, k) == (1, 3 * k, f"g{k % 7}")
            assert _point(db, k, use_uncompressed_cache=0) == (1, 3 * k, f"g{k % 7}")
        after = rc.uncompressed_cache.stats()
        assert after["hits"] - before["hits"] > 0
        # a scan over everything is over merge_tree_max_rows_to_use_cache (here lowered): no new entries
        hits, misses = after["hits"], after["misses"]
        assert db.sql("SELECT sum(v) FROM t WHERE g = 'g3'",
                      settings={"merge_tree_max_rows_to_use_cache": 8192}).rows == [
            (sum(3 * k for k in range(60_000) if k % 7 == 3),)]
        st = rc.uncompressed_cache.stats()
        assert (st["hits"], st["misses"]) == (hits, misses)
    finally:
        db.close()


@pytest.mark.parametrize("change", ["merge", "update", "delete", "truncate", "drop", "replace_partition"])
def test_no_stale_block_after_a_change(tmp_path, change):
    db = _db(tmp_path)
    try:
        _fill(db, parts=2, n=5000)
        table = db.table("t")
        old_uids = {p.uid for p in table.active_parts()}
        for k in (10, 4000, 7000):
            assert _point(db, k) == (1, 3 * k, f"g{k % 7}")
        if change == "merge":
            db.sql("OPTIMIZE TABLE t FINAL")
            want = {10: (1, 30), 4000: (1, 12000), 7000: (1, 21000)}
        elif change == "update":
            db.sql("ALTER TABLE t UPDATE v = v + 1 WHERE 1")
            want = {10: (1, 31), 4000: (1, 12001), 7000: (1, 21001)}
        elif change == "delete":
            db.sql("DELETE FROM t WHERE k = 4000")
            want = {10: (1, 30), 4000: (0, 0), 7000: (1, 21000)}
        elif change == "truncate":
            db.sql("TRUNCATE TABLE t")
            db.insert("t", {"k": [10, 4000, 7000], "g": ["x", "x", "x"], "v": [1, 2, 3]})
            want = {10: (1, 1), 4000: (1, 2), 7000: (1, 3)}
        elif change == "drop":
            db.sql("DROP TABLE t")
            db.sql("CREATE TABLE t (k UInt64, g String, v UInt64) ENGINE = MergeTree ORDER BY k "
                   "SETTINGS index_granularity = 1024")
            ks = np.arange(0, 10_000)
            db.insert("t", {"k": ks.tolist(), "g": ["y"] * len(ks), "v": (ks * 5).tolist()})
            want = {10: (1, 50), 4000: (1, 20000), 7000: (1, 35000)}
        else:   # same rows again under the same part names' partition: a full replacement
            table.replace_contents(Block({
                "k": FixedColumn(parse_type("UInt64"), np.array([10, 4000, 7000], np.uint64)),
                "g": _strings(["z", "z", "z"]),
                "v": FixedColumn(parse_type("UInt64"), np.array([7, 8, 9], np.uint64))}))
            want = {10: (1, 7), 4000: (1, 8), 7000: (1, 9)}
        for k, (cnt, s) in want.items():
            got = _point(db, k)
            assert got[:2] == (cnt, s), (change, k, got)
            assert _point(db, k, use_uncompressed_cache=0)[:2] == (cnt, s)
        live = {p.uid for p in db.table("t").active_parts()}
        stale = [key for key in list(rc.uncompressed_cache._entries) if key[0] in old_uids - live]
        assert not stale
    finally:
        db.close()


def test_file_descriptors_are_stable_and_released(tmp_path):
    def fds():                                  # only descriptors of files under tmp_path
        return _fds(tmp_path)

    assert fds() == 0
    db = _db(tmp_path)
    try:
        _fill(db, parts=4, n=5000)
        for i in range(20):
            assert _point(db, i * 997 % 20_000)[0] == 1
        after_warm = fds()
        for i in range(300):
            assert _point(db, i * 131 % 20_000)[0] == 1
        assert fds() == after_warm                         # no growth over many queries
        mapped = sum(rc.mapped_files.open_count(p.uid) for p in db.table("t").active_parts())
        assert mapped > 0
        sources = db.table("t").active_parts()
        db.sql("OPTIMIZE TABLE t FINAL")                     # sources outdated and removed: unmapped
        assert all(rc.mapped_files.open_count(p.uid) == 0 for p in sources)
        assert fds() <= after_warm
        db.sql("CREATE TABLE u (k UInt64) ENGINE = MergeTree ORDER BY k")
        db.insert("u", {"k": list(range(100))})
        assert db.sql("SELECT sum(k) FROM u WHERE k < 50").rows == [(1225,)]
        u_parts = db.table("u").active_parts()
        assert sum(rc.mapped_files.open_count(p.uid) for p in u_parts) > 0
        db.sql("DROP TABLE u")
        assert all(rc.mapped_files.open_count(p.uid) == 0 for p in u_parts)
        parts = db.table("t").active_parts()
    finally:
        db.close()
    assert all(rc.mapped_files.open_count(p.uid) == 0 for p in parts)
    assert fds() == 0


def test_quarantine_unmaps_the_broken_part(tmp_path):
    db = _db(tmp_path)
    try:
        _fill(db, parts=2, n=3000)
        first = db.table("t").active_parts()[0]
        assert _point(db, 10)[0] == 1
        f = first.path / "v.bin"
        data = bytearray(f.read_bytes())
        data[len(data) // 2] ^= 0xFF
        f.write_bytes(bytes(data))
        with pytest.raises(mergetree.errors.CorruptedPartError):
            db.sql("SELECT sum(v) FROM t", settings={"use_uncompressed_cache": 0})
        assert rc.mapped_files.open_count(first.uid) == 0
        assert not [k for k in rc.uncompressed_cache._entries if k[0] == first.uid]
        assert db.sql("SELECT count(), sum(v) FROM t").rows == [(3000, 3 * sum(range(3000, 6000)))]
    finally:
        db.close()


def test_merges_during_cached_reads_keep_answers_right(tmp_path):
    db = _db(tmp_path)
    errors = []
    stop = threading.Event()
    try:
        _fill(db, parts=6, n=2000)             # keys 0..11999, v = 3k

        def reader(seed):
            rng = np.random.default_rng(seed)
            try:
                while not stop.is_set():
                    k = int(rng.integers(0, 12_000))
                    got = _point(db, k)
                    if got != (1, 3 * k, f"g{k % 7}"):
                        errors.append((k, got))
            except Exception as e:  # noqa: BLE001
                errors.append(e)

        readers = [threading.Thread(target=reader, args=(s,)) for s in range(2)]
        for t in readers:
            t.start()
        for i in range(6):                      # new keys elsewhere, merged with the old ones
            ks = np.arange(100_000 + i * 500, 100_000 + (i + 1) * 500)
            db.insert("t", {"k": ks.tolist(), "g": ["n"] * len(ks), "v": ks.tolist()})
            db.table("t").merge_once()
        db.sql("OPTIMIZE TABLE t FINAL")
        stop.set()
        for t in readers:
            t.join()
        assert not errors, errors[:5]
        assert db.sql("SELECT count() FROM t").rows == [(15_000,)]
        assert len(db.table("t").active_parts()) == 1
    finally:
        stop.set()
        db.close()


# --------------------------------------------------------------------------- key condition cache

def test_condition_analysis_is_shared_and_equal(tmp_path):
    from mergetree.exec.expression import bind
    from mergetree.storage.key_condition import KeyCondition
    from sqlparse_ch import parse_expr

    db = _db(tmp_path)
    try:
        db.sql("CREATE TABLE e (u String, ts DateTime, x UInt32) ENGINE = MergeTree "
               "PARTITION BY toYYYYMM(ts) ORDER BY (u, ts) SETTINGS index_granularity = 64")
        rng = np.random.default_rng(3)
        n = 20_000
        ts = 1_700_000_000 + rng.integers(0, 90 * 86400, n)
        users = [f"u{i}" for i in rng.integers(0, 300, n)]
        db.insert("e", {"u": users, "ts": ts.tolist(), "x": rng.integers(0, 100, n).tolist()})
        m = db.table("e").metadata
        schema = dict(m.schema)
        parts = db.table("e").active_parts()
        for text in ["u = 'u7' AND ts >= toDateTime(1702000000)",
                     "u = 'u8' AND ts >= toDateTime(1702000000)",
                     "u IN ('u1', 'u2') AND toDate(ts) = '2023-12-01'",
                     "NOT (u < 'u5') OR ts < toDateTime(1701000000)",
                     "x = 3 AND ts BETWEEN toDateTime(1703000000) AND toDateTime(1704000000)"]:
            ast = parse_expr(text)
            bound = bind(ast, schema)
            plain = KeyCondition.for_table(m, ast)
            cached = KeyCondition.for_table(m, ast, bound_where=bound)
            for p in parts:
                assert cached.may_match_part(p) == plain.may_match_part(p), (text, p.name)
                assert cached.select_mark_ranges(p.primary_index, p.marks) == \
                    plain.select_mark_ranges(p.primary_index, p.marks), (text, p.name)
            # the same condition again (a new bind, as the next query would): the same analysis
            again = KeyCondition.for_table(m, parse_expr(text), bound_where=bind(parse_expr(text), schema))
            if "IN" not in text:
                assert again is cached
            # and the answers agree with the rows (hand filter with numpy)
        got = db.sql("SELECT count() FROM e WHERE u = 'u7' AND ts >= toDateTime(1702000000)").rows[0][0]
        want = sum(1 for uu, t in zip(users, ts.tolist()) if uu == "u7" and t >= 1702000000)
        assert got == want
    finally:
        db.close()


def test_partition_pruning_shared_between_different_users(tmp_path):
    from mergetree.exec.expression import bind
    from mergetree.storage import key_condition as K
    from sqlparse_ch import parse_expr

    db = _db(tmp_path)
    try:
        db.sql("CREATE TABLE e (u String, ts DateTime) ENGINE = MergeTree PARTITION BY toYYYYMM(ts) ORDER BY (u, ts)")
        db.insert("e", {"u": ["a", "b", "c"], "ts": [1_700_000_000, 1_703_000_000, 1_706_000_000]})
        m = db.table("e").metadata
        kcs = []
        for user in ("a", "b", "c"):
            text = f"u = '{user}' AND ts >= toDateTime(1702000000)"
            kc = K.KeyCondition.for_table(m, parse_expr(text), bound_where=bind(parse_expr(text), dict(m.schema)))
            matched = [p.partition_value for p in db.table("e").active_parts() if kc.may_match_part(p)]
            assert sorted(matched) == [(202312,), (202401,)]
            kcs.append(kc)
        assert kcs[0] is not kcs[1]
        assert kcs[0]._minmax_kc is kcs[1]._minmax_kc is kcs[2]._minmax_kc
        assert kcs[0]._partition_kc is kcs[1]._partition_kc
        assert db.sql("SELECT u FROM e WHERE u = 'b' AND ts >= toDateTime(1702000000)").rows == [("b",)]
    finally:
        db.close()


def test_masked_read_equals_read_then_filter(tmp_path, cache):
    """DataPart.read(mask=...) (PREWHERE's late materialization) against read() + filter()."""
    n = 20_000
    rng = np.random.default_rng(5)
    block = Block({**mixed_columns(n, rng), "u": _strings([f"unique-{i}" for i in range(n)])})
    tmp = tmp_path / "tmp_m"
    write_part(tmp, block, primary_key=Block({"k": block["k"]}), partition_value=(), minmax={}, index_granularity=512)
    os.rename(tmp, tmp_path / "all_1_1_0")
    part = DataPart.open(tmp_path / "all_1_1_0")
    assert part._serialization["d"]["kind"] == "dict_string"
    names = ["k", "d", "u", "lc", "ni", "a"]
    for ranges in ([(3, 4)], [(0, 2), (10, 11)], [(0, part.marks)]):
        rows = sum(int(part.granule_rows[a:b].sum()) for a, b in ranges)
        for density in (0.0, 0.001, 0.5, 1.0):
            mask = rng.random(rows) < density
            want = part.read(names, ranges).filter(mask)
            for c in (None, cache):
                got = part.read(names, ranges, cache=c, copy=False, mask=mask)
                assert got.num_rows == int(mask.sum())
                for name in names:
                    assert got[name].equals(want[name]), (name, ranges, density)
    with pytest.raises(mergetree.errors.BadArgumentsError):
        part.read(["k"], [(0, 1)], mask=np.ones(3, bool))


# --------------------------------------------------------------------------- key point narrowing

def test_string_equal_range_kernel_matches_its_twin():
    from mergetree.kernels.keyrange import string_equal_range, string_equal_range_numpy

    rng = np.random.default_rng(11)
    alphabet = [b"", b"a", b"ab", b"abc", b"b", b"\x00", b"\xff", b"\xff\x00", b"user_1", b"user_10", b"user_2"]
    for n in (0, 1, 2, 7, 100, 1000):
        rows = sorted(alphabet[i] + (b"x" * int(j)) for i, j in zip(rng.integers(0, len(alphabet), n),
                                                                  rng.integers(0, 2, n)))
        offsets = np.zeros(n + 1, np.int64)
        np.cumsum([len(r) for r in rows], out=offsets[1:])
        data = np.frombuffer(b"".join(rows), np.uint8) if n else np.zeros(0, np.uint8)
        for probe in alphabet + [b"zz", b"a\x00", b"abx", b"user_", b"user_1x"]:
            assert string_equal_range(offsets, data, probe) == string_equal_range_numpy(offsets, data, probe)


def test_point_lookup_narrowing_gives_the_same_rows(tmp_path):
    db = _db(tmp_path)
    try:
        db.sql("CREATE TABLE e (u String, ts UInt32, x UInt32) ENGINE = MergeTree ORDER BY (u, ts) "
               "SETTINGS index_granularity = 128")
        rng = np.random.default_rng(4)
        all_rows = []
        for _ in range(3):        # three parts; 'hot' spans several granules, '' is a key too
            n = 3000
            users = [("hot", "", "a", "b\x00", "zz")[i] if i < 5 else f"u{i}" for i in rng.integers(0, 60, n)]
            ts = rng.integers(0, 1000, n)
            xs = rng.integers(0, 10, n)
            db.insert("e", {"u": users, "ts": ts.tolist(), "x": xs.tolist()})
            all_rows += list(zip(users, ts.tolist(), xs.tolist()))
        db.sql("DELETE FROM e WHERE x = 7")
        all_rows = [r for r in all_rows if r[2] != 7]

        def want(pred):
            rows = [r for r in all_rows if pred(r)]
            return (len(rows), sum(r[1] for r in rows))

        cases = [
            ("u = 'hot'", lambda r: r[0] == "hot"),
            ("u = 'hot' AND ts >= 500", lambda r: r[0] == "hot" and r[1] >= 500),
            ("'hot' = u AND x < 5", lambda r: r[0] == "hot" and r[2] < 5),
            ("u = '' AND ts < 100", lambda r: r[0] == "" and r[1] < 100),
            ("u = 'b\\0'", lambda r: r[0] == "b\x00"),
            ("u = 'absent' AND ts > 1", lambda r: False),
            ("u = 'u7' OR ts = 3", lambda r: r[0] == "u7" or r[1] == 3),
            ("u = 'u7' AND (ts = 3 OR x = 1)", lambda r: r[0] == "u7" and (r[1] == 3 or r[2] == 1)),
        ]
        for where, pred in cases:
            for cols in ("count(), sum(ts)", "count(), sum(ts), max(u)"):    # PREWHERE and plain reads
                got = db.sql(f"SELECT {cols} FROM e WHERE {where}").rows[0][:2]
                assert got == want(pred), (where, cols, got)
    finally:
        db.close()


def test_table_read_api_uses_the_cache_for_small_reads(tmp_path):
    db = _db(tmp_path)
    try:
        _fill(db, parts=2, n=5000)
        table = db.table("t")
        before = rc.uncompressed_cache.stats()["hits"]
        for _ in range(2):
            blk = table.read(["k", "v", "g"], where="k = 4321")
            assert blk["k"].values.tolist() == [4321] and blk["v"].values.tolist() == [3 * 4321]
            assert blk["g"].to_pylist() == [f"g{4321 % 7}"]
            whole = table.read(["k"])                # no WHERE: copies, never views of the cache
            assert whole.num_rows == 10_000 and whole["k"].values.flags.writeable
        assert rc.uncompressed_cache.stats()["hits"] > before
    finally:
        db.close()
