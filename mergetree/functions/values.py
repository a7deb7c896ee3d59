"""Function arguments and results: constants, wrappers, physical arrays.

`ConstColumn(data, size)` is a constant: a 1-row column `data` standing for `size` equal
rows. Function implementations get their arguments as plain columns (FixedColumn,
StringColumn) or ConstColumns; ``values(col)`` gives the numpy array of either (length 1 for
a constant, which numpy broadcasts against full columns), so most implementations do not
care which they got. `materialize` expands a constant to a full column.

Type helpers used by all function modules live here too: `NothingType` (the type of the
NULL literal, printed ``Nothing``), `literal_type` (ClickHouse's smallest type for a literal),
`strip` (remove Nullable/LowCardinality), `tz_of`.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from mergetree import types as T
from mergetree.column import (Column, FixedColumn, LowCardinalityColumn, NullableColumn, StringColumn,
                              default_column, fixed_dtype)


@dataclass(frozen=True, repr=False)
class NothingType(T.DataType):
    """The type of NULL: only ever seen as ``Nullable(Nothing)``."""

    kind: ClassVar[str] = "nothing"

    @property
    def name(self) -> str:
        return "Nothing"

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(np.uint8)

    @property
    def default(self):
        return None


Nothing = NothingType()
NullType = T.NullableType(Nothing)


class NothingColumn(FixedColumn):
    """Values of type Nothing (under a NULL constant or in ``[]``): every row is None."""

    def take(self, indices) -> "NothingColumn":
        return NothingColumn(self.type, np.zeros(len(np.asarray(indices)), np.uint8))

    def filter(self, mask) -> "NothingColumn":
        return NothingColumn(self.type, np.zeros(int(np.count_nonzero(mask)), np.uint8))

    def slice(self, start: int, stop: int) -> "NothingColumn":
        return NothingColumn(self.type, self.values[start:stop])

    @classmethod
    def _concat(cls, columns):
        return NothingColumn(columns[0].type, np.zeros(sum(len(c) for c in columns), np.uint8))

    def to_pylist(self) -> list:
        return [None] * len(self)


@dataclass(frozen=True, repr=False)
class IntervalType(T.DataType):
    """``INTERVAL n unit`` as a function argument (``toStartOfInterval(t, INTERVAL 15 MINUTE)``):
    int64 counts of `unit` (SECOND .. YEAR), printed ``IntervalMinute``."""

    unit: str = "DAY"
    kind: ClassVar[str] = "interval"

    @property
    def name(self) -> str:
        return "Interval" + self.unit.capitalize()

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(np.int64)

    @property
    def default(self):
        return 0


class ConstColumn:
    """`size` rows all equal to the single row of `data` (a 1-row Column)."""

    __slots__ = ("data", "size", "type")

    def __init__(self, data: Column, size: int):
        assert len(data) == 1, "ConstColumn data must have exactly one row"
        self.data = data
        self.size = size
        self.type = data.type

    def __len__(self) -> int:
        return self.size

    def materialize(self) -> Column:
        return self.data.take(np.zeros(self.size, np.int64))

    @property
    def value(self):
        """The constant as a Python value (``to_pylist`` form; an interval is its count)."""
        if isinstance(self.type, IntervalType):
            return int(self.data.values[0])
        if isinstance(self.type, T.NullableType) and isinstance(self.type.inner, NothingType):
            return None
        return self.data.to_pylist()[0]

    def with_size(self, size: int) -> "ConstColumn":
        return ConstColumn(self.data, size)

    def __repr__(self) -> str:
        return f"ConstColumn({self.type}, {self.value!r} x {self.size})"


def is_const(c) -> bool:
    return isinstance(c, ConstColumn)


def materialize(c) -> Column:
    return c.materialize() if isinstance(c, ConstColumn) else c


def values(c) -> np.ndarray:
    """numpy values of a FixedColumn or of a constant FixedColumn (1 element)."""
    return c.data.values if isinstance(c, ConstColumn) else c.values


def inner_data(c):
    """The column that holds the rows (the 1-row data for a constant)."""
    return c.data if isinstance(c, ConstColumn) else c


def fixed(t: T.DataType, arr: np.ndarray) -> FixedColumn:
    if isinstance(t, NothingType):
        return NothingColumn(t, np.ascontiguousarray(arr, dtype=np.uint8))
    return FixedColumn(t, np.ascontiguousarray(arr, dtype=fixed_dtype(t)))


def const_of(t: T.DataType, value, size: int) -> ConstColumn:
    """A constant of type t holding a Python value (None -> NULL)."""
    from mergetree.column import column_from_values

    if isinstance(t, T.NullableType) and isinstance(t.inner, NothingType):
        data = NullableColumn(t, NothingColumn(Nothing, np.zeros(1, np.uint8)), np.ones(1, np.bool_))
    elif isinstance(t, T.StringType) and isinstance(value, (str, bytes)):
        return string_const(value, size)
    elif isinstance(t, (T.IntType, T.FloatType, T.BoolType)) and isinstance(value, (int, float)):
        data = FixedColumn(t, np.array([value], dtype=t.dtype))  # literals already fit their type
    else:
        data = column_from_values(t, [value])
    return ConstColumn(data, size)


def null_constant(size: int) -> ConstColumn:
    return const_of(NullType, None, size)


def string_const(value: str | bytes, size: int) -> ConstColumn:
    b = value.encode() if isinstance(value, str) else bytes(value)
    data = StringColumn(T.String, np.array([0, len(b)], np.int64), np.frombuffer(b, np.uint8).copy())
    return ConstColumn(data, size)


# --------------------------------------------------------------------------- types


def strip(t: T.DataType) -> T.DataType:
    """t without LowCardinality and Nullable wrappers."""
    if isinstance(t, T.LowCardinalityType):
        t = t.inner
    if isinstance(t, T.NullableType):
        t = t.inner
    return t


def strip_lc(t: T.DataType) -> T.DataType:
    return t.inner if isinstance(t, T.LowCardinalityType) else t


def is_null_type(t: T.DataType) -> bool:
    return isinstance(t, T.NullableType) and isinstance(t.inner, NothingType)


def make_nullable(t: T.DataType) -> T.DataType:
    if isinstance(t, (T.NullableType, T.ArrayType, T.LowCardinalityType)):
        return t
    return T.Nullable(t)


def tz_of(t: T.DataType) -> str | None:
    """Time zone name of a DateTime/DateTime64 type (None = server time zone, UTC)."""
    return getattr(t, "timezone", None)


def is_int(t) -> bool:
    return isinstance(t, T.IntType)


def is_float(t) -> bool:
    return isinstance(t, T.FloatType)


def is_number(t) -> bool:
    """Int / Float / Bool (Decimal is handled separately)."""
    return isinstance(t, (T.IntType, T.FloatType, T.BoolType))


def is_string(t) -> bool:
    return isinstance(t, T.StringType)


def is_date_like(t) -> bool:
    return isinstance(t, (T.DateType, T.Date32Type, T.DateTimeType, T.DateTime64Type))


def int_type(bits: int, signed: bool) -> T.IntType:
    return T.IntType(min(bits, 64), signed)


def literal_type(value) -> T.DataType:
    """ClickHouse's type of a literal: smallest unsigned int for n >= 0, smallest signed for
    n < 0, Float64, String, Bool, Nullable(Nothing) for NULL."""
    if value is None:
        return NullType
    if isinstance(value, bool):
        return T.Bool
    if isinstance(value, int):
        if value >= 0:
            for bits in (8, 16, 32, 64):
                if value < (1 << bits):
                    return T.IntType(bits, False)
            return T.Float64
        for bits in (8, 16, 32, 64):
            if value >= -(1 << (bits - 1)):
                return T.IntType(bits, True)
        return T.Float64
    if isinstance(value, float):
        return T.Float64
    if isinstance(value, (str, bytes)):
        return T.String
    if isinstance(value, _dt.datetime):
        return T.DateTime
    if isinstance(value, _dt.date):
        return T.Date
    raise TypeError(f"unsupported literal {value!r}")


# --------------------------------------------------------------------------- wrappers


def unwrap_lc(c):
    """Expand a LowCardinality column (or constant) to its inner type."""
    if isinstance(c, ConstColumn):
        if isinstance(c.data, LowCardinalityColumn):
            return ConstColumn(c.data.decode(), c.size)
        return c
    if isinstance(c, LowCardinalityColumn):
        return c.decode()
    return c


def split_nullable(c):
    """(plain column or constant, null mask or None). A constant NULL gives an all-True mask."""
    if isinstance(c, ConstColumn):
        if isinstance(c.data, NullableColumn):
            mask = np.full(c.size, bool(c.data.nulls[0]))
            return ConstColumn(c.data.values, c.size), (mask if mask.any() else None)
        return c, None
    if isinstance(c, NullableColumn):
        return c.values, c.nulls
    return c, None


def with_nulls(col, nulls: np.ndarray | None, t: T.DataType):
    """Wrap `col` (plain result) as Nullable type `t` with mask `nulls`."""
    if not isinstance(t, T.NullableType):
        return col
    if isinstance(col, ConstColumn):
        col = col.materialize()
    if nulls is None:
        nulls = np.zeros(len(col), np.bool_)
    if is_null_type(t):
        return NullableColumn(t, NothingColumn(Nothing, np.zeros(len(col), np.uint8)), np.ones(len(col), np.bool_))
    return NullableColumn(t, col, np.ascontiguousarray(nulls, dtype=np.bool_))


def default_of(t: T.DataType, n: int) -> Column:
    if is_null_type(t):
        return NullableColumn(t, NothingColumn(Nothing, np.zeros(n, np.uint8)), np.ones(n, np.bool_))
    return default_column(t, n)
