"""PartInfo names, parsing, the covers relation and partition ids (expectations from ClickHouse 26.9)."""

import datetime

import pytest

from mergetree.storage.part_info import InvalidPartNameError, PartInfo, partition_id


@pytest.mark.parametrize("name, fields", [
    ("all_1_1_0", ("all", 1, 1, 0, 0)),
    ("202402_2_4_1", ("202402", 2, 4, 1, 0)),
    ("all_1_1_0_2", ("all", 1, 1, 0, 2)),
    ("all_1_1_1_3", ("all", 1, 1, 1, 3)),
    ("20180220--1_5_9_2", ("20180220--1", 5, 9, 2, 0)),
    ("8b8f0fede53df97513a9fb4cb19dc1e4_10_10_0", ("8b8f0fede53df97513a9fb4cb19dc1e4", 10, 10, 0, 0)),
])
def test_parse_and_name_round_trip(name, fields):
    info = PartInfo.parse(name)
    assert (info.partition_id, info.min_block, info.max_block, info.level, info.mutation) == fields
    assert info.name == name
    assert PartInfo(*fields).name == name


@pytest.mark.parametrize("name", [
    "tmp_insert_all_1_1_0", "tmp_merge_all_1_2_1", "delete_tmp_all_1_1_0", "detached", "broken-on-start_all_1_1_0",
    "all_1_1", "all_1_1_0_2_3", "all_a_1_0", "all_2_1_0", "all_01_1_0", "all_1_1_0_0", "_1_1_0", "a.b_1_1_0",
    "format_version.txt",
])
def test_parse_rejects_non_parts(name):
    with pytest.raises(InvalidPartNameError):
        PartInfo.parse(name)
    assert PartInfo.try_parse(name) is None


def test_mutation_suffix_only_when_positive():
    assert PartInfo("all", 3, 3, 0, 0).name == "all_3_3_0"
    assert PartInfo("all", 3, 3, 0, 7).name == "all_3_3_0_7"


def test_contains():
    merged = PartInfo.parse("202402_2_4_1")
    assert merged.contains(PartInfo.parse("202402_2_2_0"))
    assert merged.contains(PartInfo.parse("202402_3_3_0"))
    assert merged.contains(PartInfo.parse("202402_4_4_0"))
    assert merged.contains(merged)                                   # a part covers itself
    assert not merged.strictly_contains(merged)
    assert not merged.contains(PartInfo.parse("202402_5_5_0"))       # block outside the range
    assert not merged.contains(PartInfo.parse("202402_1_2_0"))       # overlaps only partly
    assert not merged.contains(PartInfo.parse("202403_3_3_0"))       # other partition
    assert not merged.contains(PartInfo.parse("202402_3_3_2"))       # higher level
    assert not PartInfo.parse("202402_3_3_0").contains(merged)
    # mutations: all_1_1_0_2 (mutated) covers all_1_1_0, and a merge after it covers both
    mutated = PartInfo.parse("all_1_1_0_2")
    assert mutated.contains(PartInfo.parse("all_1_1_0"))
    assert not PartInfo.parse("all_1_1_0").contains(mutated)
    assert PartInfo.parse("all_1_1_1_3").contains(mutated)
    assert not PartInfo.parse("all_1_2_1").contains(mutated)          # mutation 0 < 2


def test_disjoint_and_order():
    a, b, c = PartInfo.parse("all_1_3_1"), PartInfo.parse("all_4_4_0"), PartInfo.parse("all_3_5_1")
    assert a.is_disjoint(b) and not a.is_disjoint(c)
    assert PartInfo.parse("x_1_1_0").is_disjoint(PartInfo.parse("y_1_1_0"))
    assert sorted([b, a]) == [a, b]


def test_partition_id_rules_observed_in_clickhouse():
    # Values observed in chDB 26.9 system.parts.partition_id for the same partition values.
    assert partition_id(()) == "all"
    assert partition_id((202401,)) == "202401"
    assert partition_id((-5,), ["Int32"]) == "-5"
    assert partition_id((18446744073709551615,), ["UInt64"]) == "18446744073709551615"
    assert partition_id((True,), ["Bool"]) == "1"
    assert partition_id((datetime.date(2024, 1, 2),), ["Date"]) == "20240102"
    assert partition_id((datetime.date(2024, 1, 2),)) == "20240102"
    assert partition_id((datetime.date(2024, 1, 2),), ["Date32"]) == "19724"
    assert partition_id((datetime.datetime(2024, 1, 2, 3, 4, 5),), ["DateTime"]) == "1704164645"
    assert partition_id((datetime.date(2018, 2, 20), -1), ["Date", "Int8"]) == "20180220--1"


def test_partition_id_hash_for_other_values():
    pid = partition_id(("x",), ["String"])
    assert len(pid) == 32 and all(ch in "0123456789abcdef" for ch in pid)
    assert pid == partition_id(("x",), ["String"])                   # deterministic
    assert pid != partition_id(("y",), ["String"])
    mixed = partition_id((datetime.date(2018, 2, 20), "a"), ["Date", "String"])
    assert len(mixed) == 32 and "-" not in mixed
    dt64 = partition_id((datetime.datetime(2024, 1, 2, 3, 4, 5, 123000),), ["DateTime64(3)"])
    assert len(dt64) == 32
    PartInfo(pid, 1, 1, 0)                                           # a valid part-name partition id
    with pytest.raises(ValueError, match="Floating point"):
        partition_id((1.5,), ["Float64"])
