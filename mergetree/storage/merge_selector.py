"""Merge selection policy: which parts to merge next (ClickHouse's SimpleMergeSelector).

The selector is pure policy: it looks at a list of `MergeCandidate` (name,
partition, block range, level, size, age) and returns either a `MergeChoice`
(the names of a contiguous run of parts in one partition) or a `NoMerge` whose
`reason` says why nothing was picked.  It never touches the disk; the merger
(`mergetree.storage.merger`) does the work and the table publishes the result.

The idea, from ClickHouse's `SimpleMergeSelector`:

1. Parts are grouped by partition and ordered by block number.  Only
   *contiguous* runs inside one partition are candidates (merging blocks 1 and 3
   without 2 would produce a part whose block range covers a part it does not
   contain).  Parts already being merged split the list into separate runs.
2. A range [begin, end) of 2..`max_parts_to_merge_at_once` parts whose total size
   stays under `max_bytes_to_merge` is *allowed* when

       (sum_size + count * fixed_cost) / (max_size + fixed_cost) >= lowered_base

   i.e. the merged part is at least `base` (5) times bigger than its largest
   input: merging ~5 similar parts at a time keeps the "merge tree" balanced and
   write amplification at log_5(data size).  `fixed_cost` (5 MiB) makes tiny
   parts count as similar.
3. `lowered_base` slides from `base` down to 2 as (a) the partition has many
   parts (10 -> 50) and (b) the youngest part of the range gets old (10 s -> 1 h
   for ranges under 1 MiB, up to 10 s -> 30 days for 100 GiB ones, interpolated
   on log(size): a 2 MiB range already needs ~2 days): merge eagerly when parts
   pile up or when nothing new arrives.
4. Allowed ranges are scored `(sum_size + count * fixed_cost) / (count - 1.9)`;
   the lowest score wins, which favours long ranges of small parts.  A range
   whose size matches the part just left of it gets a bonus (up to x0.75): this
   builds a balanced tree.  Tiny parts (< 1% of the range) are dropped from the
   right end of the chosen range (they will join the next merge).

Simplifications against ClickHouse: no "blurry base" randomisation and no
stochastic window sliding (we look at the last `window_size` parts
deterministically); the max merge size is a fixed setting rather than a
function of free pool slots and disk space.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any, Iterable, Mapping

MiB = 1024 * 1024
GiB = 1024 * MiB


@dataclass(frozen=True)
class MergeCandidate:
    """One active part as the selector sees it."""

    name: str
    partition_id: str
    min_block: int
    max_block: int
    level: int
    rows: int
    bytes: int
    age_seconds: float
    merging: bool = False  # already taken by a running merge: splits the run


@dataclass(frozen=True)
class MergeChoice:
    parts: list[str]
    partition_id: str
    reason: str
    rows: int = 0
    bytes: int = 0

    def __bool__(self) -> bool:  # a choice is truthy, NoMerge is falsy
        return True


@dataclass(frozen=True)
class NoMerge:
    reason: str

    def __bool__(self) -> bool:
        return False


@dataclass(frozen=True)
class MergeSelectorSettings:
    """Knobs of the selector; names follow ClickHouse's MergeTree settings."""

    merge_selector_base: float = 5.0
    max_parts_to_merge_at_once: int = 100
    max_bytes_to_merge: int = 150 * GiB  # max_bytes_to_merge_at_max_space_in_pool
    size_fixed_cost_to_add: int = 5 * MiB
    min_parts_to_lower_base: int = 10
    max_parts_to_lower_base: int = 50
    min_size_to_lower_base: int = 1 * MiB
    max_size_to_lower_base: int = 100 * GiB
    min_age_to_lower_base_at_min_size: float = 10.0
    min_age_to_lower_base_at_max_size: float = 10.0
    max_age_to_lower_base_at_min_size: float = 3600.0
    max_age_to_lower_base_at_max_size: float = 30 * 86400.0
    min_age_to_force_merge_seconds: float = 0.0  # 0 = off
    window_size: int = 1000
    align_min_ratio_of_sum_to_prev: float = 0.9
    align_max_difference_in_powers_of_two: float = 0.5
    align_max_score_adjustment: float = 0.75
    remove_small_parts_at_right_max_ratio: float = 0.01

    @classmethod
    def from_settings(cls, settings: Any = None) -> "MergeSelectorSettings":
        """Build from a dict, an object with attributes, or an instance (returned as is).

        Unknown keys are ignored, so the table can pass its whole settings dict;
        `max_bytes_to_merge_at_max_space_in_pool` is accepted for `max_bytes_to_merge`.
        """
        if settings is None:
            return cls()
        if isinstance(settings, cls):
            return settings
        get = settings.get if isinstance(settings, Mapping) else (lambda k, d=None: getattr(settings, k, d))
        values = {}
        for f in fields(cls):
            v = get(f.name, None)
            if v is not None:
                values[f.name] = type(f.default)(v)
        alias = get("max_bytes_to_merge_at_max_space_in_pool", None)
        if alias is not None and "max_bytes_to_merge" not in values:
            values["max_bytes_to_merge"] = int(alias)
        return cls(**values)


def _unit(value: float, lo: float, hi: float) -> float:
    """Map value to [0, 1]: 0 below lo, 1 above hi, linear in between."""
    if value <= lo:
        return 0.0
    if value >= hi:
        return 1.0
    return (value - lo) / (hi - lo)


def _lerp(a: float, b: float, t: float) -> float:
    return a + (b - a) * t


def lowered_base(sum_size: float, min_age: float, partition_parts: int, s: MergeSelectorSettings) -> float:
    """The base a range must reach, lowered toward 2 for many or old parts (step 3)."""
    size_t = _unit(math.log(1 + sum_size), math.log(1 + s.min_size_to_lower_base),
                   math.log(1 + s.max_size_to_lower_base))
    min_age_lo = _lerp(s.min_age_to_lower_base_at_min_size, s.min_age_to_lower_base_at_max_size, size_t)
    max_age_lo = _lerp(s.max_age_to_lower_base_at_min_size, s.max_age_to_lower_base_at_max_size, size_t)
    age_t = _unit(min_age, min_age_lo, max_age_lo)
    parts_t = _unit(partition_parts, s.min_parts_to_lower_base, s.max_parts_to_lower_base)
    return _lerp(s.merge_selector_base, 2.0, min(1.0, age_t + parts_t))


def range_score(count: int, sum_size: float, s: MergeSelectorSettings) -> float:
    """Lower is better: estimated cost of the merge per part removed (step 4)."""
    return (sum_size + s.size_fixed_cost_to_add * count) / (count - 1.9)


@dataclass
class _Best:
    score: float = math.inf
    parts: list[MergeCandidate] = field(default_factory=list)
    base: float = 0.0


def _consider(best: _Best, run: list[MergeCandidate], begin: int, end: int, sum_size: int,
              base: float, s: MergeSelectorSettings) -> None:
    score = range_score(end - begin, sum_size, s)
    prev = run[begin - 1].bytes if begin > 0 else 0
    if prev > sum_size * s.align_min_ratio_of_sum_to_prev and sum_size > 0:
        diff = abs(math.log2(sum_size / prev))
        if diff < s.align_max_difference_in_powers_of_two:
            score *= _lerp(s.align_max_score_adjustment, 1.0, diff / s.align_max_difference_in_powers_of_two)
    # Drop tiny parts at the right end; they fit better into the next merge.
    while end >= begin + 3 and run[end - 1].bytes < s.remove_small_parts_at_right_max_ratio * sum_size:
        end -= 1
    if score < best.score:
        best.score = score
        best.parts = run[begin:end]
        best.base = base


def _runs(parts: list[MergeCandidate]) -> list[list[MergeCandidate]]:
    """Split one partition's parts (sorted by block) into runs not broken by a running merge."""
    runs, cur = [], []
    for p in parts:
        if p.merging:
            if cur:
                runs.append(cur)
            cur = []
        else:
            cur.append(p)
    if cur:
        runs.append(cur)
    return runs


def _by_partition(parts: Iterable[MergeCandidate]) -> dict[str, list[MergeCandidate]]:
    groups: dict[str, list[MergeCandidate]] = {}
    for p in parts:
        groups.setdefault(p.partition_id, []).append(p)
    for g in groups.values():
        g.sort(key=lambda p: (p.min_block, p.max_block))
        for a, b in zip(g, g[1:]):
            if b.min_block <= a.max_block:
                raise ValueError(f"select_merge: parts {a.name} and {b.name} overlap in blocks; "
                                 "only active (non-covered) parts may be passed")
    return groups


def select_merge(parts: list[MergeCandidate], settings: Any = None) -> MergeChoice | NoMerge:
    """Pick the best contiguous range of parts to merge, or say why there is none."""
    s = MergeSelectorSettings.from_settings(settings)
    if not parts:
        return NoMerge("no parts")
    groups = _by_partition(parts)
    best = _Best()
    any_pair = False  # did any partition have >= 2 mergeable neighbours?
    any_under_size = False
    any_over_size = False
    for pid, group in groups.items():
        partition_parts = len(group)
        for run in _runs(group):
            if len(run) < 2:
                continue
            any_pair = True
            start = max(0, len(run) - s.window_size)
            for begin in range(start, len(run)):
                sum_size = run[begin].bytes
                max_size = run[begin].bytes
                min_age = run[begin].age_seconds
                for end in range(begin + 2, len(run) + 1):
                    if end - begin > s.max_parts_to_merge_at_once > 0:
                        break
                    cur = run[end - 1]
                    sum_size += cur.bytes
                    max_size = max(max_size, cur.bytes)
                    min_age = min(min_age, cur.age_seconds)
                    if s.max_bytes_to_merge and sum_size > s.max_bytes_to_merge:
                        any_over_size = True
                        break
                    any_under_size = True
                    if s.min_age_to_force_merge_seconds and min_age >= s.min_age_to_force_merge_seconds:
                        base = 1.0
                    else:
                        base = lowered_base(sum_size, min_age, partition_parts, s)
                    ratio = (sum_size + (end - begin) * s.size_fixed_cost_to_add) / (
                        max_size + s.size_fixed_cost_to_add)
                    if ratio >= base:
                        _consider(best, run, begin, end, sum_size, base, s)
    if best.parts:
        chosen = best.parts
        return MergeChoice(
            parts=[p.name for p in chosen],
            partition_id=chosen[0].partition_id,
            reason=(f"{len(chosen)} parts in partition {chosen[0].partition_id} "
                    f"(blocks {chosen[0].min_block}..{chosen[-1].max_block}) reach base {best.base:.2f}; "
                    f"score {best.score:.0f}"),
            rows=sum(p.rows for p in chosen),
            bytes=sum(p.bytes for p in chosen),
        )
    if all(p.merging for p in parts):
        return NoMerge("all parts are already being merged")
    if not any_pair:
        if all(len(g) < 2 for g in groups.values()):
            return NoMerge("only 1 part in each partition")
        return NoMerge("no two adjacent parts are free: the others are being merged")
    if not any_under_size:
        return NoMerge(f"every range of 2+ parts exceeds max_bytes_to_merge={s.max_bytes_to_merge}")
    cut = (f"; longer ranges exceed max_bytes_to_merge={s.max_bytes_to_merge}" if any_over_size else "")
    return NoMerge(f"no range satisfies base {s.merge_selector_base:g} (lowered toward 2 only for "
                   f">{s.min_parts_to_lower_base} parts per partition or parts older than "
                   f"{s.min_age_to_lower_base_at_min_size:g}s): parts are too few, too young or too uneven"
                   f"{cut}")


def select_for_optimize(parts: list[MergeCandidate], *, partition_id: str | None = None,
                        final: bool = True) -> list[MergeChoice]:
    """OPTIMIZE TABLE t [PARTITION p] [FINAL]: one choice per partition covering all its parts.

    With `final`, a partition with a single part is still merged (ClickHouse
    rewrites it with level + 1, applying the engine's merge rule, TTL and
    deletes); without it, single-part partitions are left alone.  Parts already
    being merged make the partition be skipped.
    """
    out = []
    for pid, group in sorted(_by_partition(parts).items()):
        if partition_id is not None and pid != partition_id:
            continue
        if any(p.merging for p in group):
            continue
        if len(group) < 2 and not final:
            continue
        out.append(MergeChoice(parts=[p.name for p in group], partition_id=pid,
                               reason=f"OPTIMIZE{' FINAL' if final else ''}: all {len(group)} part(s) "
                                      f"of partition {pid}",
                               rows=sum(p.rows for p in group), bytes=sum(p.bytes for p in group)))
    return out
