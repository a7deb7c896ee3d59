"""Merge selector policy: ~5 similar parts, contiguity, partitions, and explained refusals."""

import itertools

from hypothesis import given, settings, strategies as st

from mergetree.storage.merge_selector import (
    MergeCandidate, MergeChoice, MergeSelectorSettings, NoMerge, lowered_base, select_for_optimize,
    select_merge,
)

KiB = 1024
MiB = 1024 * 1024


def parts_of(sizes, partition="all", age=0.0, start_block=1, merging=()):
    out = []
    for i, size in enumerate(sizes):
        b = start_block + i
        out.append(MergeCandidate(name=f"{partition}_{b}_{b}_0", partition_id=partition, min_block=b,
                                  max_block=b, level=0, rows=size // 10, bytes=size, age_seconds=age,
                                  merging=b in merging))
    return out


def test_four_young_small_parts_are_not_merged_and_reason_mentions_base():
    res = select_merge(parts_of([100 * KiB] * 4))
    assert isinstance(res, NoMerge) and not res
    assert "base 5" in res.reason


def test_five_young_small_parts_are_merged_together():
    parts = parts_of([100 * KiB] * 5)
    res = select_merge(parts)
    assert isinstance(res, MergeChoice)
    assert res.parts == [p.name for p in parts]
    assert res.partition_id == "all"
    assert res.rows == sum(p.rows for p in parts)


def test_single_part_per_partition_is_explained():
    parts = parts_of([MiB], "202401") + parts_of([MiB], "202402", start_block=2)
    res = select_merge(parts)
    assert res.reason == "only 1 part in each partition"
    assert select_merge([]).reason == "no parts"


def test_old_parts_lower_the_base_to_two():
    # Two parts an hour old: base is lowered all the way to 2, and 2 equal tiny parts reach ~2.
    parts = parts_of([100 * KiB] * 2, age=3600.0)
    res = select_merge(parts)
    assert isinstance(res, MergeChoice) and len(res.parts) == 2
    s = MergeSelectorSettings()
    assert lowered_base(200 * KiB, 3600.0, 2, s) == 2.0
    assert lowered_base(200 * KiB, 0.0, 2, s) == 5.0
    assert lowered_base(200 * KiB, 0.0, 50, s) == 2.0  # many parts
    assert 2.0 < lowered_base(200 * KiB, 0.0, 30, s) < 5.0


def test_big_part_is_not_merged_with_small_ones():
    # One 10 GiB part followed by 4 small ones: merging the big one would not reach base 5.
    parts = parts_of([10 * 1024 * MiB] + [MiB] * 4)
    res = select_merge(parts)
    assert isinstance(res, NoMerge)
    # With 5 small ones after it, only the small ones are picked.
    parts = parts_of([10 * 1024 * MiB] + [MiB] * 5)
    res = select_merge(parts)
    assert isinstance(res, MergeChoice)
    assert res.parts == [p.name for p in parts[1:]]


def test_prefers_long_range_of_small_parts():
    # 10 equal parts: the whole range scores best ((sum + n*cost)/(n-1.9) decreases with n).
    parts = parts_of([MiB] * 10)
    res = select_merge(parts)
    assert res.parts == [p.name for p in parts]


def test_max_parts_at_once_and_max_bytes():
    parts = parts_of([MiB] * 30)
    res = select_merge(parts, {"max_parts_to_merge_at_once": 7})
    assert len(res.parts) == 7
    res = select_merge(parts_of([MiB] * 6), {"max_bytes_to_merge": 3 * MiB})
    assert isinstance(res, NoMerge) and "max_bytes_to_merge" in res.reason


def test_parts_being_merged_split_the_range():
    # Block 4 is in a running merge: neither side has 5 parts, and no choice may span block 4.
    parts = parts_of([MiB] * 9, merging={4})
    res = select_merge(parts)
    assert isinstance(res, MergeChoice)
    assert all(int(n.split("_")[1]) > 4 for n in res.parts)
    res = select_merge(parts_of([MiB] * 3, merging={1, 2, 3}))
    assert res.reason == "all parts are already being merged"


def test_never_across_partitions():
    parts = parts_of([MiB] * 3, "a", start_block=1) + parts_of([MiB] * 3, "b", start_block=4)
    assert isinstance(select_merge(parts), NoMerge)
    parts = parts_of([MiB] * 3, "a", start_block=1) + parts_of([MiB] * 6, "b", start_block=4)
    res = select_merge(parts)
    assert res.partition_id == "b" and all(n.startswith("b_") for n in res.parts)


def test_tiny_parts_at_right_end_are_dropped():
    parts = parts_of([50 * MiB] * 6 + [KiB, KiB])
    res = select_merge(parts)
    assert res.parts == [p.name for p in parts[:6]]


def test_settings_from_dict_ignores_unknown_keys():
    s = MergeSelectorSettings.from_settings({"index_granularity": 8192, "merge_selector_base": 3,
                                             "max_bytes_to_merge_at_max_space_in_pool": 10})
    assert s.merge_selector_base == 3.0 and s.max_bytes_to_merge == 10


def test_optimize_selects_every_partition():
    parts = parts_of([MiB] * 2, "a") + parts_of([MiB], "b", start_block=3)
    choices = select_for_optimize(parts)
    assert [(c.partition_id, len(c.parts)) for c in choices] == [("a", 2), ("b", 1)]
    assert [c.partition_id for c in select_for_optimize(parts, final=False)] == ["a"]
    assert [c.partition_id for c in select_for_optimize(parts, partition_id="b")] == ["b"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("ab"), st.integers(1, 200 * MiB), st.floats(0, 1e5),
                          st.booleans()), min_size=0, max_size=40))
def test_choice_is_contiguous_within_one_partition(spec):
    parts = []
    for block, (pid, size, age, merging) in enumerate(spec, start=1):
        parts.append(MergeCandidate(f"{pid}_{block}_{block}_0", pid, block, block, 0, size, size, age,
                                    merging))
    res = select_merge(parts)
    if not res:
        assert res.reason
        return
    chosen = [p for p in parts if p.name in res.parts]
    assert len(chosen) == len(res.parts) >= 2
    assert {p.partition_id for p in chosen} == {res.partition_id}
    assert not any(p.merging for p in chosen)
    same = [p for p in parts if p.partition_id == res.partition_id]
    idx = [same.index(p) for p in chosen]
    assert idx == list(range(idx[0], idx[0] + len(idx)))  # no gap inside the partition


def simulate(inserts: int, insert_bytes: int, seconds_between: float, merges_per_insert: int = 1):
    """Insert equal parts; after each insert run the selector and apply its choice instantly."""
    parts: list[MergeCandidate] = []
    created: dict[str, float] = {}
    now = 0.0
    written = 0
    max_parts = 0
    for block in range(1, inserts + 1):
        now += seconds_between
        name = f"all_{block}_{block}_0"
        parts.append(MergeCandidate(name, "all", block, block, 0, 1, insert_bytes, 0.0))
        created[name] = now
        for _ in range(merges_per_insert):
            cands = [MergeCandidate(p.name, p.partition_id, p.min_block, p.max_block, p.level, p.rows, p.bytes,
                                    now - created[p.name]) for p in parts]
            choice = select_merge(cands)
            if not choice:
                break
            chosen = [p for p in parts if p.name in choice.parts]
            new = MergeCandidate(f"all_{chosen[0].min_block}_{chosen[-1].max_block}_{max(p.level for p in chosen) + 1}",
                                 "all", chosen[0].min_block, chosen[-1].max_block,
                                 max(p.level for p in chosen) + 1, sum(p.rows for p in chosen),
                                 sum(p.bytes for p in chosen), 0.0)
            i = parts.index(chosen[0])
            parts[i:i + len(chosen)] = [new]
            created[new.name] = now
            written += new.bytes
        max_parts = max(max_parts, len(parts))
    return parts, written / (inserts * insert_bytes), max_parts


def test_simulation_keeps_part_count_low_and_write_amplification_logarithmic():
    # 1000 inserts of 1 MiB, one per second: ~log_5(1000) ~ 4.3 rewrites per byte at most
    parts, amplification, max_parts = simulate(1000, MiB, 1.0)
    assert max_parts <= 30
    assert amplification <= 6.0
    assert [p.min_block for p in parts] == sorted(p.min_block for p in parts)  # still contiguous
    assert parts[0].min_block == 1 and parts[-1].max_block == 1000
    assert all(a.max_block + 1 == b.min_block for a, b in zip(parts, parts[1:]))


def test_simulation_with_rare_inserts_lowers_the_base():
    # Small parts (ranges < 1 MiB lower the base between 10 s and 1 h of age) inserted an hour
    # apart are merged more eagerly than the same parts inserted every second: fewer parts,
    # more rewriting. (Bigger ranges need days: the age window grows with log(size).)
    parts, amplification, max_parts = simulate(40, 100 * 1024, 3600.0)
    young, young_amplification, young_max = simulate(40, 100 * 1024, 1.0)
    assert max_parts < young_max
    assert amplification > young_amplification
    sizes = [p.max_block - p.min_block + 1 for p in parts]
    assert sizes == sorted(sizes, reverse=True)  # a balanced "merge tree": big old parts first
