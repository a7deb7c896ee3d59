"""Part names and the "covers" relation between parts.

A MergeTree *data part* is identified by a name
``{partition_id}_{min_block}_{max_block}_{level}[_{mutation}]``:

1. ``partition_id`` -- text derived from the partition-key value (see :func:`partition_id`):
   ``all`` without ``PARTITION BY``; the decimal text of an integer; ``YYYYMMDD`` for a Date;
   the members of a tuple joined with ``-``; a 32-hex-digit hash for anything else.
2. ``min_block``/``max_block`` -- the range of block numbers (one per-table counter; each insert
   takes one number) whose rows the part holds. An inserted part has ``min == max``.
3. ``level`` -- 0 for an inserted part; a merge produces ``max(source levels) + 1``.
4. ``mutation`` -- the version (block number) of the last mutation applied; omitted when 0.

``A.contains(B)`` ("A covers B") holds when both are in the same partition and A's block range
includes B's, with ``A.level >= B.level`` and ``A.mutation >= B.mutation``. A merged part covers
its sources; this single relation drives which parts are visible and what is dropped on crash
recovery (a source part whose merge result was committed is covered and can be deleted).

Simplification vs ClickHouse: the partition-id hash for non-integer values is a blake2b-128 of
our own value encoding (ClickHouse uses SipHash-128 of its binary serialization), so the 32-hex
ids differ from ClickHouse's bits while having the same shape and the same purpose.
"""

from __future__ import annotations

import datetime
import decimal
import hashlib
import re
import uuid
from dataclasses import dataclass

from mergetree.errors import InvalidPartNameError

__all__ = ["PartInfo", "InvalidPartNameError", "partition_id"]


_PARTITION_ID_RE = re.compile(r"^[0-9A-Za-z-]+$")
_NUMBER_RE = re.compile(r"^[0-9]+$")
# Directory prefixes that ClickHouse uses for things that are not active parts.
_NON_PART_PREFIXES = ("tmp", "delete_tmp", "detached", "broken", "ignored", "clone", "covered-by-broken")


@dataclass(frozen=True, slots=True, order=True)
class PartInfo:
    """The identity of a data part; ordering is (partition, min, max, level, mutation)."""

    partition_id: str
    min_block: int
    max_block: int
    level: int
    mutation: int = 0

    def __post_init__(self) -> None:
        if not self.partition_id or not _PARTITION_ID_RE.match(self.partition_id):
            raise InvalidPartNameError(f"Invalid partition id {self.partition_id!r}: "
                                       "expected letters, digits and '-'")
        if min(self.min_block, self.max_block, self.level, self.mutation) < 0:
            raise InvalidPartNameError(f"Negative block number, level or mutation in part {self.name}")
        if self.min_block > self.max_block:
            raise InvalidPartNameError(f"Part {self.name}: min_block {self.min_block} > "
                                       f"max_block {self.max_block}")

    @property
    def name(self) -> str:
        base = f"{self.partition_id}_{self.min_block}_{self.max_block}_{self.level}"
        return base + (f"_{self.mutation}" if self.mutation > 0 else "")

    def __str__(self) -> str:
        return self.name

    @classmethod
    def parse(cls, name: str) -> "PartInfo":
        """Parse an active part directory name; raise InvalidPartNameError for anything else."""
        lowered = name.lower()
        if any(lowered.startswith(p) for p in _NON_PART_PREFIXES):
            raise InvalidPartNameError(f"{name!r} is not an active part name "
                                       "(temporary, detached or broken directory)")
        pieces = name.split("_")
        if len(pieces) not in (4, 5):
            raise InvalidPartNameError(f"Invalid part name {name!r}: expected "
                                       "partition_min_max_level[_mutation]")
        numbers = pieces[1:]
        if not all(_NUMBER_RE.match(p) for p in numbers):
            raise InvalidPartNameError(f"Invalid part name {name!r}: block numbers, level and "
                                       "mutation must be non-negative integers")
        info = cls(pieces[0], *(int(p) for p in numbers))
        if info.name != name:  # e.g. leading zeros or an explicit "_0" mutation suffix
            raise InvalidPartNameError(f"Invalid part name {name!r}: not canonical "
                                       f"(would be {info.name!r})")
        return info

    @classmethod
    def try_parse(cls, name: str) -> "PartInfo | None":
        try:
            return cls.parse(name)
        except InvalidPartNameError:
            return None

    def contains(self, other: "PartInfo") -> bool:
        """True when this part covers ``other`` (ClickHouse's MergeTreePartInfo::contains).

        A part contains itself.
        """
        return (self.partition_id == other.partition_id
                and self.min_block <= other.min_block
                and other.max_block <= self.max_block
                and self.level >= other.level
                and self.mutation >= other.mutation)

    covers = contains

    def strictly_contains(self, other: "PartInfo") -> bool:
        return self != other and self.contains(other)

    def is_disjoint(self, other: "PartInfo") -> bool:
        """No block number in common (or different partitions)."""
        return (self.partition_id != other.partition_id
                or self.max_block < other.min_block
                or other.max_block < self.min_block)


# --------------------------------------------------------------------------- partition ids

_EPOCH_DATE = datetime.date(1970, 1, 1)


def partition_id(values: tuple, types: list | tuple | None = None) -> str:
    """The partition id of a partition-key value tuple (ClickHouse's rules, observed in 26.9).

    ``values`` are Python values (``to_pylist`` style) or plain integers; ``types`` (optional)
    are the DataTypes of the partition-key expressions, which disambiguate Date vs Date32 vs
    DateTime. Rules:

    * empty tuple (no PARTITION BY) -> ``all``
    * every member integer-like -> members joined with ``-``: integers and Bool as decimal text,
      Date as ``YYYYMMDD``, Date32 as its day number, DateTime as its unix seconds
      (``(toDate('2018-02-20'), -1)`` -> ``20180220--1``)
    * otherwise (String, DateTime64, Decimal, UUID, ...) -> 32 hex digits of a hash of all values.
    """
    values = tuple(values)
    if not values:
        return "all"
    if types is not None and len(types) != len(values):
        raise ValueError(f"partition_id: {len(values)} values but {len(types)} types")
    texts = []
    for i, v in enumerate(values):
        tname = str(types[i]) if types is not None else None
        text = _simple_partition_text(v, tname)
        if text is None:
            return _hash_partition(values, types)
        texts.append(text)
    return "-".join(texts)


def _strip_wrappers(tname: str) -> str:
    for wrapper in ("LowCardinality(", "Nullable("):
        if tname.startswith(wrapper):
            return _strip_wrappers(tname[len(wrapper):-1])
    return tname


def _simple_partition_text(v, tname: str | None) -> str | None:
    """Decimal / YYYYMMDD text for integer-like members, None when the member must be hashed."""
    if tname is not None:
        base = _strip_wrappers(tname)
        if base.startswith(("Float", "BFloat")):
            raise ValueError("Floating point partition key is not supported")
        if base == "Date":
            if isinstance(v, datetime.date):
                return v.strftime("%Y%m%d")
            if isinstance(v, int):
                return (_EPOCH_DATE + datetime.timedelta(days=v)).strftime("%Y%m%d")
            return None
        if base == "Date32":
            if isinstance(v, datetime.date):
                return str((v - _EPOCH_DATE).days)
            return str(int(v)) if isinstance(v, int) else None
        if base == "DateTime" or base.startswith("DateTime("):
            if isinstance(v, datetime.datetime):
                aware = v if v.tzinfo else v.replace(tzinfo=datetime.timezone.utc)
                return str(int(aware.timestamp()))
            return str(int(v)) if isinstance(v, int) else None
        if base == "Bool" or base.startswith(("UInt", "Int")):
            return str(int(v)) if isinstance(v, (int, bool)) else None
        return None
    # No types: decide from the Python value.
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, datetime.datetime):
        return None
    if isinstance(v, datetime.date):
        return v.strftime("%Y%m%d")
    if isinstance(v, float):
        raise ValueError("Floating point partition key is not supported")
    return None


def _hash_partition(values: tuple, types) -> str:
    h = hashlib.blake2b(digest_size=16)
    for i, v in enumerate(values):
        tname = str(types[i]) if types is not None else type(v).__name__
        h.update(tname.encode() + b"\x00" + _value_bytes(v) + b"\x01")
    return h.hexdigest()


def _value_bytes(v) -> bytes:
    if v is None:
        return b"N"
    if isinstance(v, (bytes, bytearray)):
        return b"B" + bytes(v)
    if isinstance(v, str):
        return b"S" + v.encode("utf-8")
    if isinstance(v, datetime.datetime):
        return b"T" + v.isoformat().encode()
    if isinstance(v, (datetime.date, decimal.Decimal, uuid.UUID, int, float)):
        return b"V" + str(v).encode()
    if isinstance(v, (list, tuple)):
        return b"L" + b"\x02".join(_value_bytes(x) for x in v)
    return b"R" + repr(v).encode()
