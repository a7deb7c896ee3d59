"""The merger: real parts on disk merged into one, with masks, TTL and engine rules."""

import os
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from mergetree.column import Block
from mergetree.storage import merger, mutations, ttl
from mergetree.storage.part import DataPart
from mergetree.storage.part_info import PartInfo
from mergetree.storage.part_writer import write_part
from sqlparse_ch.ast.expr import Identifier

from test_merging import block, reference, SPEC as REF_SPEC


def make_meta(spec, order_by, engine="MergeTree", engine_args=(), ttl_column=None, granularity=3):
    from mergetree.types import parse_type

    schema = [(n, parse_type(t)) for n, t in spec.items()]
    return SimpleNamespace(
        engine_name=engine, engine_args=list(engine_args), schema=schema, order_by=list(order_by),
        sorting_key_asts=[Identifier(c) for c in order_by], primary_key=list(order_by), partition_columns=[],
        codecs={}, settings={"index_granularity": granularity},
        ttl_ast=Identifier(ttl_column) if ttl_column else None)


def write(tmp_path: Path, meta, spec, rows, block_number, level=0, partition="all"):
    """An inserted part: rows sorted (stably) by the key, like the table's insert."""
    b = block(spec, rows)
    b = b.take(b.sort_permutation(meta.order_by))
    info = PartInfo(partition, block_number, block_number, level)
    d = tmp_path / info.name
    write_part(d, b, primary_key=Block({k: b[k] for k in meta.primary_key}, b.num_rows), partition_value=(),
               minmax={}, index_granularity=meta.settings["index_granularity"],
               extra_files=ttl.ttl_extra_files(b, meta))
    return DataPart.open(d)


def read_all(path):
    part = DataPart.open(path)
    part.verify_checksums()
    return part, part.read([n for n, _ in part.columns]).to_pylist_rows()


SPEC = {"k": "String", "v": "Int64"}


def test_merge_of_plain_parts_is_sorted_and_stable(tmp_path):
    meta = make_meta(SPEC, ["k"])
    p1 = write(tmp_path, meta, SPEC, [("b", 1), ("a", 1), ("c", 1)], 1)
    p2 = write(tmp_path, meta, SPEC, [("a", 2), ("b", 2)], 2)
    p3 = write(tmp_path, meta, SPEC, [("a", 3), ("d", 3), ("b", 3), ("a", 4)], 3)
    res = merger.merge_parts([p3, p1, p2], tmp_path / "tmp_merge_x", metadata=meta, now=0)
    assert res.rows == 9 and res.rows_read == 9 and res.source_parts == [p1.name, p2.name, p3.name]
    part, rows = read_all(os.fspath(res))
    # equal keys keep block-number order (1, 2, 3, then insertion order inside a block)
    assert rows == [("a", 1), ("a", 2), ("a", 3), ("a", 4), ("b", 1), ("b", 2), ("b", 3), ("c", 1), ("d", 3)]
    assert part.marks == 3  # granularity 3
    assert part.primary_index.to_pylist_rows() == [("a",), ("a",), ("b",), ("d",)]


def test_merge_applies_engine_rule(tmp_path):
    spec = {"k": "UInt32", "v": "String", "ver": "UInt32"}
    meta = make_meta(spec, ["k"], "ReplacingMergeTree", ["ver"])
    p1 = write(tmp_path, meta, spec, [(1, "new", 9), (2, "x", 1)], 1)
    p2 = write(tmp_path, meta, spec, [(1, "old", 3), (2, "y", 1)], 2)
    res = merger.merge_parts([p1, p2], tmp_path / "tmp_merge", metadata=meta, now=0)
    assert read_all(res.path)[1] == [(1, "new", 9), (2, "y", 1)]
    assert res.rows_collapsed == 2


def test_table_call_form_writes_into_table_dir(tmp_path):
    meta = make_meta(SPEC, ["k"])
    p1 = write(tmp_path, meta, SPEC, [("a", 1)], 1)
    p2 = write(tmp_path, meta, SPEC, [("a", 2)], 2)
    info = PartInfo("all", 1, 2, 1)
    tmp = merger.merge_parts(tmp_path, [p1, p2], info, meta, final=True)
    assert Path(tmp) == tmp_path / "tmp_merge_all_1_2_1"
    assert read_all(Path(tmp))[1] == [("a", 1), ("a", 2)]


def test_lightweight_delete_clone_masks_rows_and_merge_drops_them(tmp_path):
    meta = make_meta(SPEC, ["k"])
    p1 = write(tmp_path, meta, SPEC, [("a", 1), ("b", 2), ("c", 3), ("d", 4)], 1)
    d, deleted = mutations.lightweight_delete_part(p1, lambda b: b["v"].values % 2 == 0, tmp_path / "tmp_m1")
    assert deleted == 2
    masked = DataPart.open(d)
    masked.verify_checksums()  # the new checksums.txt covers the mask and the hard links
    assert os.stat(d / "k.bin").st_ino == os.stat(p1.path / "k.bin").st_ino  # data is hard-linked
    assert mutations.read_row_mask(masked).tolist() == [True, False, True, False]
    assert mutations.read_row_mask(p1) is None
    # a second delete combines with the first mask and counts only new rows
    d2, deleted2 = mutations.lightweight_delete_part(masked, lambda b: b["v"].values >= 3, tmp_path / "tmp_m2")
    assert deleted2 == 1
    masked2 = DataPart.open(d2)
    assert mutations.read_row_mask(masked2).tolist() == [True, False, False, False]
    res = merger.merge_parts([masked2], tmp_path / "tmp_merge", metadata=meta, now=0)
    assert res.rows_masked == 3
    part, rows = read_all(res.path)
    assert rows == [("a", 1)] and mutations.read_row_mask(part) is None


def test_mask_file_is_validated(tmp_path):
    data = mutations.mask_file_bytes(np.array([True, False, True]))
    assert mutations.parse_mask_bytes(data).tolist() == [True, False, True]
    with pytest.raises(Exception, match="cannot parse row mask"):
        mutations.parse_mask_bytes(b"garbage\nrows 3\n\x05", "p")
    with pytest.raises(Exception, match="1 mask bytes for 9 rows"):
        mutations.parse_mask_bytes(data.replace(b"rows 3", b"rows 9"), "p")


def test_everything_deleted_gives_an_empty_part(tmp_path):
    spec = {"k": "UInt32", "v": "Int8", "sign": "Int8"}
    meta = make_meta(spec, ["k"], "CollapsingMergeTree", ["sign"])
    p1 = write(tmp_path, meta, spec, [(1, 0, 1)], 1)
    p2 = write(tmp_path, meta, spec, [(1, 0, -1)], 2)
    res = merger.merge_parts([p1, p2], tmp_path / "tmp_merge", metadata=meta, now=0)
    part, rows = read_all(res.path)
    assert rows == [] and part.rows == 0 and res.rows_collapsed == 2


def test_parts_from_two_partitions_are_refused(tmp_path):
    meta = make_meta(SPEC, ["k"])
    p1 = write(tmp_path, meta, SPEC, [("a", 1)], 1, partition="x")
    p2 = write(tmp_path, meta, SPEC, [("a", 1)], 2, partition="y")
    with pytest.raises(Exception, match="different partitions"):
        merger.merge_parts([p1, p2], tmp_path / "tmp", metadata=meta)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(st.tuples(st.sampled_from(["", "a", "b"]), st.integers(-2, 2), st.integers(0, 3),
                                   st.integers(-300, 300), st.integers(0, 255), st.sampled_from([-1, 1])),
                         min_size=1, max_size=10), min_size=1, max_size=4),
       st.sampled_from(["MergeTree", "ReplacingMergeTree", "SummingMergeTree", "CollapsingMergeTree"]))
def test_merged_parts_match_engine_semantics(tmp_path_factory, parts, engine):
    tmp_path = tmp_path_factory.mktemp("m")
    args = {"ReplacingMergeTree": ["ver"], "CollapsingMergeTree": ["sign"]}.get(engine, [])
    meta = make_meta(REF_SPEC, ["k1", "k2"], engine, args, granularity=4)
    written = [write(tmp_path, meta, REF_SPEC, rows, i + 1) for i, rows in enumerate(parts)]
    res = merger.merge_parts(written, tmp_path / "tmp_merge", metadata=meta, now=0)
    rows = read_all(res.path)[1]
    want = reference(engine, [r for p in parts for r in p])
    assert sorted(rows) == sorted(want)
    assert [r[:2] for r in rows] == sorted(r[:2] for r in rows)  # sorted by key


def test_final_block_with_and_without_bounds(tmp_path):
    spec = {"k": "UInt32", "v": "String", "sign": "Int8"}
    meta = make_meta(spec, ["k"], "CollapsingMergeTree", ["sign"])
    parts = [[(2, "x", 1), (1, "a", -1)], [(1, "b", 1), (3, "y", 1)], [(2, "x", -1)]]
    blocks = [block(spec, rows) for rows in parts]
    blocks = [b.take(b.sort_permutation(["k"])) for b in blocks]
    bounds = np.cumsum([0] + [b.num_rows for b in blocks])
    b = Block.concat(blocks)
    want = [(1, "b", 1), (3, "y", 1)]  # key 1: -1 then +1 -> FINAL keeps the +1; key 2 cancels
    assert merger.final_block(b, meta).to_pylist_rows() == want
    assert merger.final_block(b, meta, bounds=bounds).to_pylist_rows() == want


ALL_TYPES = {
    "s": "String", "lc": "LowCardinality(String)", "fs": "FixedString(3)", "u": "UUID",
    "d": "Decimal(10, 2)", "t64": "DateTime64(3)", "d32": "Date32", "nf": "Nullable(Float64)",
    "arr": "Array(UInt32)", "b": "Bool", "i": "Int64",
}


def _random_rows(rng, n):
    import datetime
    import decimal
    import uuid as uuid_mod

    rows = []
    for _ in range(n):
        rows.append({
            "s": str(rng.choice(["", "a", "ab", "é"])), "lc": str(rng.choice(["x", "y"])),
            "fs": str(rng.choice(["abc", "ab", ""])),
            "u": uuid_mod.UUID(int=int(rng.integers(0, 4)) << 64 | int(rng.integers(0, 3))),
            "d": decimal.Decimal(int(rng.integers(-500, 500))) / 100,
            "t64": datetime.datetime(2020, 1, 1) + datetime.timedelta(milliseconds=int(rng.integers(0, 3))),
            "d32": datetime.date(1950, 1, 1) + datetime.timedelta(days=int(rng.integers(0, 3))),
            "nf": None if rng.random() < 0.3 else float(rng.choice([0.5, -0.0, float("nan")])),
            "arr": [int(x) for x in rng.integers(0, 3, rng.integers(0, 3))],
            "b": bool(rng.integers(0, 2)), "i": int(rng.integers(-2, 3)),
        })
    return rows


@pytest.mark.parametrize("key", [["s", "i"], ["lc", "fs"], ["u"], ["d", "t64", "d32"], ["nf", "b"], ["fs", "u", "s"]])
def test_merge_of_every_type_keeps_the_multiset_and_sorts_by_key(tmp_path, key):
    from mergetree.convert import rows_to_block
    from mergetree.types import parse_type

    rng = np.random.default_rng(len(key) * 7 + len(key[0]))
    schema = [(n, parse_type(t)) for n, t in ALL_TYPES.items()]
    meta = make_meta(ALL_TYPES, key, granularity=5)
    parts, all_rows = [], []
    for block_number in range(1, 4):
        rows = _random_rows(rng, 12)
        b = rows_to_block(schema, rows)
        b = b.take(b.sort_permutation(key))
        d = tmp_path / f"all_{block_number}_{block_number}_0"
        write_part(d, b, primary_key=Block({k: b[k] for k in key}, b.num_rows), partition_value=(), minmax={},
                   index_granularity=5)
        parts.append(DataPart.open(d))
        all_rows.append(b)
    res = merger.merge_parts(parts, tmp_path / "tmp_merge", metadata=meta, now=0)
    merged = DataPart.open(res.path).read(list(ALL_TYPES))
    union = Block.concat(all_rows)
    canon = lambda rows: sorted(repr(r) for r in rows)  # noqa: E731  (NaN != NaN, so compare reprs)
    assert canon(merged.to_pylist_rows()) == canon(union.to_pylist_rows())
    # sorted by the key under ClickHouse ordering, ties in block order: equal to a stable sort of the union
    want = union.take(union.sort_permutation(key))
    assert [repr(r) for r in merged.to_pylist_rows()] == [repr(r) for r in want.to_pylist_rows()]


def test_an_unsorted_source_part_is_refused(tmp_path):
    meta = make_meta(SPEC, ["k"])
    good = write(tmp_path, meta, SPEC, [("a", 1), ("c", 1)], 1)
    b = block(SPEC, [("b", 2), ("a", 2)])  # written without sorting: violates the part invariant
    d = tmp_path / "all_2_2_0"
    write_part(d, b, primary_key=Block({"k": b["k"]}), partition_value=(), minmax={}, index_granularity=3)
    with pytest.raises(Exception, match=r"all_2_2_0.*not sorted by the sorting key \(row 1"):
        merger.merge_parts([good, DataPart.open(d)], tmp_path / "tmp_merge", metadata=meta, now=0)
