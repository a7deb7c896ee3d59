"""Columns of every kind a part stores differently, for tests that write a part and read it back:
plain numbers, a dictionary-encoded String, LowCardinality, Nullable and Array."""

from __future__ import annotations

import numpy as np

from mergetree.column import ArrayColumn, FixedColumn, LowCardinalityColumn, NullableColumn, StringColumn
from mergetree.types import parse_type


def strings(values) -> StringColumn:
    """A String column of ``values`` (str or bytes)."""
    enc = [v if isinstance(v, bytes) else v.encode() for v in values]
    offsets = np.zeros(len(enc) + 1, np.int64)
    np.cumsum([len(e) for e in enc], out=offsets[1:])
    data = np.frombuffer(b"".join(enc), np.uint8).copy() if enc else np.zeros(0, np.uint8)
    return StringColumn(parse_type("String"), offsets, data)


def mixed_columns(n: int, rng: np.random.Generator) -> dict:
    """``k`` UInt64 0..n-1, ``d`` a 4-value String (written dictionary-encoded), ``lc``
    LowCardinality(String), ``ni`` Nullable(Int32) (~30% NULL), ``a`` Array(UInt8) of 0-2 elements."""
    lens = rng.integers(0, 3, n)
    nulls = rng.random(n) < 0.3
    return {
        "k": FixedColumn(parse_type("UInt64"), np.arange(n, dtype=np.uint64)),
        "d": strings([("page_view", "click", "signup", "a" * 40)[i % 4] for i in range(n)]),
        "lc": LowCardinalityColumn(parse_type("LowCardinality(String)"), strings(["x", "yy", "zzz"]),
                                   rng.integers(0, 3, n).astype(np.uint8)),
        "ni": NullableColumn(parse_type("Nullable(Int32)"),
                             FixedColumn(parse_type("Int32"), np.where(nulls, 0, np.arange(n)).astype(np.int32)), nulls),
        "a": ArrayColumn(parse_type("Array(UInt8)"), np.concatenate([[0], np.cumsum(lens)]).astype(np.int64),
                         FixedColumn(parse_type("UInt8"), rng.integers(0, 255, int(lens.sum())).astype(np.uint8))),
    }
