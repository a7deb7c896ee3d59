"""Open/recovery: leftover tmp dirs, covered parts, corrupted parts (ClickHouse's loadDataParts).

Each test builds the on-disk state a crash or a disk fault would leave, reopens the database and
checks what is served against the rows inserted (computed here, not by the engine).
"""

from __future__ import annotations

import logging
import os
import shutil

import pytest

import mergetree
from mergetree.errors import CorruptedPartError

SCHEMA = "k UInt32, s String"


def _open(path):
    return mergetree.connect(path, background_merges=False)


def _make(path, batches):
    """A table t with one part per batch of keys; returns the part directory names."""
    db = _open(path)
    t = db.create_table("t", schema=SCHEMA, order_by="k", settings={"index_granularity": 4})
    for keys in batches:
        db.insert("t", {"k": keys, "s": [f"s{k}" for k in keys]})
    names = [p["name"] for p in t.parts()]
    db.close()
    return names


def _keys(db):
    return sorted(db.table("t").read(columns=["k"])["k"].to_pylist())


def test_leftover_tmp_directories_are_removed(tmp_path):
    _make(tmp_path, [[1, 2], [3]])
    tdir = tmp_path / "t"
    # an insert that died before its rename, a merge that died half-written, a removal in progress
    shutil.copytree(tdir / "all_1_1_0", tdir / "tmp_insert_999_1_abc")
    (tdir / "tmp_merge_all_1_2_1").mkdir()
    (tdir / "tmp_merge_all_1_2_1" / "k.bin").write_bytes(b"\x00" * 10)
    shutil.copytree(tdir / "all_2_2_0", tdir / "delete_tmp_all_0_0_0")
    (tdir / "mutation_9.txt.tmp").write_text('{"version": 9')      # a record write cut short
    db = _open(tmp_path)
    try:
        assert sorted(os.listdir(tdir)) == ["all_1_1_0", "all_2_2_0", "detached", "metadata.json"]
        assert _keys(db) == [1, 2, 3]
    finally:
        db.close()


def test_parts_covered_by_a_merged_part_are_dropped(tmp_path):
    """Crash after a merge was committed but before its sources were deleted."""
    names = _make(tmp_path, [[5, 1], [2], [9, 3]])
    tdir = tmp_path / "t"
    backup = tmp_path / "backup"
    backup.mkdir()
    for n in names:
        shutil.copytree(tdir / n, backup / n)
    db = _open(tmp_path)
    db.optimize("t", final=True)
    assert [p["name"] for p in db.table("t").parts()] == ["all_1_3_1"]
    db.close()
    for n in names:                      # the sources reappear next to the merged part
        shutil.copytree(backup / n, tdir / n)
    db = _open(tmp_path)
    try:
        assert [p["name"] for p in db.table("t").parts()] == ["all_1_3_1"]
        assert _keys(db) == [1, 2, 3, 5, 9]                # not duplicated
        assert not any((tdir / n).exists() for n in names)  # covered parts deleted from disk
        db.insert("t", {"k": [7], "s": ["x"]})
        assert [p["name"] for p in db.table("t").parts()] == ["all_1_3_1", "all_4_4_0"]
    finally:
        db.close()


def test_partial_merge_crash_falls_back_to_sources(tmp_path):
    """Crash during a merge: the tmp_merge dir is dropped, the sources serve."""
    names = _make(tmp_path, [[1], [2]])
    (tmp_path / "t" / "tmp_merge_all_1_2_1").mkdir()
    db = _open(tmp_path)
    try:
        assert [p["name"] for p in db.table("t").parts()] == names
        assert _keys(db) == [1, 2]
    finally:
        db.close()


def _data_file(part_dir, column):
    return part_dir / f"{column}.bin"


@pytest.mark.parametrize("damage", ["flip", "truncate", "delete"])
def test_corrupted_part_is_detached_and_the_rest_serves(tmp_path, caplog, damage):
    names = _make(tmp_path, [[1, 2, 3], [4, 5], [6]])
    tdir = tmp_path / "t"
    victim = tdir / names[1]
    f = _data_file(victim, "s")
    data = bytearray(f.read_bytes())
    if damage == "flip":
        data[len(data) // 2] ^= 0xFF
        f.write_bytes(bytes(data))
    elif damage == "truncate":
        f.write_bytes(bytes(data[:-3]))
    else:
        f.unlink()
    with caplog.at_level(logging.WARNING, logger="mergetree"):
        db = _open(tmp_path)
    try:
        assert [p["name"] for p in db.table("t").parts()] == [names[0], names[2]]
        assert _keys(db) == [1, 2, 3, 6]
        assert os.listdir(tdir / "detached") == [f"broken_{names[1]}"]
        assert not victim.exists()
        warning = " ".join(r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING)
        assert names[1] in warning and "s.bin" in warning
        # the detached part's files are kept, never silently deleted
        assert (tdir / "detached" / f"broken_{names[1]}" / "k.bin").exists()
        db.insert("t", {"k": [7], "s": ["x"]})            # the table keeps working
        assert _keys(db) == [1, 2, 3, 6, 7]
    finally:
        db.close()


def test_corruption_found_while_serving_names_part_and_column(tmp_path):
    names = _make(tmp_path, [[1, 2, 3], [4, 5]])
    db = _open(tmp_path)
    try:
        t = db.table("t")
        f = _data_file(t.path / names[0], "s")
        data = bytearray(f.read_bytes())
        data[-1] ^= 0x55                                   # a disk fault after open
        f.write_bytes(bytes(data))
        with pytest.raises(CorruptedPartError) as e:
            t.read(columns=["s"])
        assert e.value.part == names[0] and "s" in str(e.value) and names[0] in str(e.value)
        # quarantined: moved to detached/, later reads serve the other part
        assert (t.path / "detached" / f"broken_{names[0]}").is_dir()
        assert sorted(t.read()["k"].to_pylist()) == [4, 5]
    finally:
        db.close()


def test_broken_merged_part_falls_back_to_its_sources(tmp_path):
    names = _make(tmp_path, [[1], [2]])
    tdir = tmp_path / "t"
    backup = tmp_path / "backup"
    shutil.copytree(tdir, backup)
    db = _open(tmp_path)
    [merged] = db.optimize("t", final=True)
    db.close()
    for n in names:
        shutil.copytree(backup / n, tdir / n)
    (tdir / merged / "k.bin").write_bytes(b"garbage")
    db = _open(tmp_path)
    try:
        assert [p["name"] for p in db.table("t").parts()] == names
        assert _keys(db) == [1, 2]
        assert os.listdir(tdir / "detached") == [f"broken_{merged}"]
    finally:
        db.close()


def test_block_counter_is_past_every_number_seen(tmp_path):
    _make(tmp_path, [[1]])
    tdir = tmp_path / "t"
    # a mutation recorded with version 7 (its block number) and a broken part with blocks up to 5
    from mergetree.storage.mutations import Mutation, save_mutation

    save_mutation(tdir, Mutation(version=7, kind="lightweight_delete", predicate="k = 100", is_done=True))
    shutil.copytree(tdir / "all_1_1_0", tdir / "all_5_5_0")
    (tdir / "all_5_5_0" / "count.txt").write_text("12345")
    db = _open(tmp_path)
    try:
        db.insert("t", {"k": [2], "s": ["b"]})
        names = [p["name"] for p in db.table("t").parts()]
        assert names == ["all_1_1_0", "all_8_8_0"]
    finally:
        db.close()


def test_unknown_directories_and_files_are_left_alone(tmp_path):
    _make(tmp_path, [[1]])
    tdir = tmp_path / "t"
    (tdir / "notes").mkdir()
    (tdir / "README").write_text("hello")
    db = _open(tmp_path)
    try:
        assert _keys(db) == [1]
        assert (tdir / "notes").is_dir() and (tdir / "README").exists()
    finally:
        db.close()


def test_table_dir_without_metadata_is_ignored(tmp_path):
    _make(tmp_path, [[1]])
    (tmp_path / "half_created").mkdir()                   # crash inside create_table
    db = _open(tmp_path)
    try:
        assert db.tables() == ["t"]
        db.create_table("half_created", schema="x UInt8", order_by="x")   # can be created again
        assert db.tables() == ["half_created", "t"]
    finally:
        db.close()


def test_corruption_found_by_a_merge_detaches_the_part(tmp_path):
    names = _make(tmp_path, [[1, 2], [3], [4, 5]])
    db = _open(tmp_path)
    try:
        t = db.table("t")
        f = _data_file(t.path / names[1], "k")
        f.write_bytes(f.read_bytes()[:-2])                 # truncated after the table was opened
        with pytest.raises(CorruptedPartError) as e:
            t.optimize(final=True)
        assert e.value.part == names[1]
        assert os.listdir(t.path / "detached") == [f"broken_{names[1]}"]
        assert [p["name"] for p in t.parts()] == [names[0], names[2]]
        t.optimize(final=True)                             # the healthy parts merge fine
        assert _keys(db) == [1, 2, 4, 5]
    finally:
        db.close()


def test_create_table_does_not_overwrite_a_foreign_directory(tmp_path):
    from mergetree.errors import TableAlreadyExistsError

    _make(tmp_path, [[1]])
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "precious.csv").write_text("1,2\n")
    db = _open(tmp_path)
    try:
        with pytest.raises(TableAlreadyExistsError) as e:
            db.create_table("other", schema="x UInt8", order_by="x")
        assert "precious.csv" in str(e.value)
        assert (tmp_path / "other" / "precious.csv").exists()
    finally:
        db.close()
