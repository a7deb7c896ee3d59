"""In-memory columns and blocks: numpy arrays, never numpy object arrays.

A column is an immutable value: operations return new columns that may share (views of) the
arrays of their input; nobody writes into a column's arrays after construction.

==========================  =====================================================================
Column class                physical layout
==========================  =====================================================================
FixedColumn(type, values)   one numpy array of ``type.dtype`` and shape ``(n,) + type.value_shape``
                            (numbers, Bool, Date/Date32/DateTime/DateTime64, Decimal, UUID (n, 2),
                            FixedString(N) (n, N))
StringColumn                ``offsets`` int64 (n + 1, offsets[0] == 0) + ``data`` uint8
NullableColumn              ``values`` (a column of the inner type; the type default under a NULL)
                            + ``nulls`` bool mask
ArrayColumn                 ``offsets`` int64 (n + 1) + ``values`` (column of all elements)
TupleColumn                 ``columns``: one column per element (equal lengths)
MapColumn                   ``offsets`` int64 (n + 1) + ``keys`` + ``values`` (columns of all entries)
LowCardinalityColumn        ``dictionary`` (column of distinct values) + ``codes`` uint8/16/32
==========================  =====================================================================

Every column has ``len(c)``, ``c.type``, ``take(indices)``, ``filter(mask)``, ``slice(a, b)``,
``Column.concat(columns)``, ``to_pylist()``, ``nbytes``, ``order_key(descending=False)`` and
``equals(other)``.

``order_key`` returns one 1-D numeric array, or a tuple of them (most significant first),
whose ascending order (``np.lexsort(key[::-1])``, or ``kernels.sort.sort_permutation``) is
ClickHouse's order of the values: integers as themselves, floats through an order-preserving
unsigned integer map (``-0 == 0``, NaN after +inf), strings/FixedString/arrays as dense ranks
(numba kernel), UUID as (low half, high half) like ClickHouse, NULLs last. With
``descending=True`` the key sorts in ClickHouse's DESC order, which still puts NaN and NULL
last. Equal values have equal keys, so keys also serve for grouping and merge equality.
Ranks are relative to one column: to compare keys of two columns (two parts), concatenate
them first and split the key. ``dense_ranks()`` turns any key into int64 ranks 0..k-1.

Extras: ``StringColumn.from_bytes_list / to_pybytes / lengths``, ``LowCardinalityColumn.encode /
decode``, ``Block.sort_permutation(names, descending)``; text of a column is
``mergetree.convert.column_to_text``.

``to_pylist`` gives Python values: int, float, str (bytes that are not UTF-8 are decoded with
``surrogateescape``), bool, ``datetime.date``, ``datetime.datetime`` (tz-aware when the type has
a time zone, naive UTC otherwise; DateTime64 beyond microseconds is truncated),
``decimal.Decimal``, ``uuid.UUID``, None, list.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import uuid
from typing import Iterable, Sequence

import numpy as np

from mergetree import types as T
from mergetree.errors import SizesMismatchError, TypeMismatchError

_EMPTY_OFFSETS = np.zeros(1, np.int64)
_INT64 = np.dtype(np.int64)
_UINT8 = np.dtype(np.uint8)


def _as_indices(indices) -> np.ndarray:
    idx = np.asarray(indices)
    if idx.dtype.kind not in "iu":
        if idx.size == 0:
            return np.zeros(0, np.int64)
        raise TypeError(f"take() needs integer indices, got dtype {idx.dtype}")
    return idx.astype(np.int64, copy=False)


def _as_mask(mask, n: int) -> np.ndarray:
    m = np.asarray(mask)
    if m.dtype != np.bool_:
        m = m.astype(np.bool_)
    if m.shape != (n,):
        raise SizesMismatchError(f"filter mask has {m.shape[0] if m.ndim else 0} rows, column has {n}")
    return m


def _check_same_type(columns: Sequence["Column"]) -> T.DataType:
    if not columns:
        raise ValueError("Column.concat needs at least one column")
    t = columns[0].type
    for c in columns[1:]:
        if c.type != t:
            raise TypeMismatchError(f"Cannot concatenate columns of types {t} and {c.type}")
    return t


def _ranged_positions(starts: np.ndarray, lens: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """New offsets and the flat source positions of rows [starts[i], starts[i] + lens[i])."""
    new_offsets = np.empty(len(lens) + 1, np.int64)
    new_offsets[0] = 0
    np.cumsum(lens, out=new_offsets[1:])
    total = int(new_offsets[-1])
    if total == 0:
        return new_offsets, np.zeros(0, np.int64)
    if total >= 65536:  # one pass in a kernel instead of arange + repeat + add
        from mergetree.kernels.arrays import ranged_positions
        pos = np.empty(total, np.int64)
        ranged_positions(np.ascontiguousarray(starts, np.int64), np.ascontiguousarray(lens, np.int64),
                         new_offsets, pos)
        return new_offsets, pos
    pos = np.arange(total, dtype=np.int64)
    pos += np.repeat(starts - new_offsets[:-1], lens)
    return new_offsets, pos


class Column:
    """Base class of all columns; see the module docstring for the shared API."""

    __slots__ = ("type",)

    type: T.DataType

    def __len__(self) -> int:  # pragma: no cover - overridden
        raise NotImplementedError

    def take(self, indices) -> "Column":
        raise NotImplementedError

    def filter(self, mask) -> "Column":
        return self.take(np.flatnonzero(_as_mask(mask, len(self))))

    def slice(self, start: int, stop: int) -> "Column":
        raise NotImplementedError

    @classmethod
    def concat(cls, columns: Sequence["Column"]) -> "Column":
        columns = list(columns)
        _check_same_type(columns)
        if len(columns) == 1:
            return columns[0]
        return type(columns[0])._concat(columns)

    @classmethod
    def _concat(cls, columns: list["Column"]) -> "Column":
        raise NotImplementedError

    def to_pylist(self) -> list:
        raise NotImplementedError

    @property
    def nbytes(self) -> int:
        raise NotImplementedError

    def order_key(self, descending: bool = False):
        raise NotImplementedError

    def dense_ranks(self) -> np.ndarray:
        """int64 dense ranks (0 = smallest) in ClickHouse order; equal values, equal ranks."""
        from mergetree.kernels.sort import dense_rank_keys
        return dense_rank_keys(self.order_key())

    def equals(self, other: "Column") -> bool:
        raise NotImplementedError

    def __getitem__(self, i: int):
        """One value as a Python object (convenience; not for hot paths)."""
        n = len(self)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError(f"row {i} out of range for a column of {n} rows")
        return self.slice(i, i + 1).to_pylist()[0]

    def __repr__(self) -> str:
        values = self.slice(0, min(len(self), 10)).to_pylist()
        more = ", ..." if len(self) > 10 else ""
        return f"{type(self).__name__}({self.type}, {values!r}{more} [{len(self)} rows])"

    def __eq__(self, other):  # columns are compared with .equals(); == would be ambiguous
        raise TypeError("use Column.equals() to compare columns")

    __hash__ = None  # type: ignore[assignment]


# --------------------------------------------------------------------------- FixedColumn


def _float_order_key(values: np.ndarray, descending: bool) -> np.ndarray:
    bits = values.dtype.itemsize * 8
    udt = np.dtype(f"u{bits // 8}")
    x = values.copy()
    x[x == 0] = 0  # -0.0 == 0.0
    nan = np.isnan(x)
    x[nan] = 0
    b = x.view(udt)
    sign = np.array(1 << (bits - 1), dtype=udt)
    key = np.where(b & sign, ~b, b | sign)
    if descending:
        key = ~key
        key[nan] = np.iinfo(udt).max
    else:
        key[nan] = np.iinfo(udt).max
    # keys of real values never reach max: ~(+inf | sign) > 0 and +inf | sign < max
    return key


#: type -> (values dtype, values ndim, value shape) of a FixedColumn (types' dtype properties build a
#: new np.dtype on every call)
_FIXED_SPECS: dict = {}


def _fixed_spec(type: T.DataType):
    if not type.is_fixed:
        raise TypeMismatchError(f"FixedColumn cannot hold type {type}")
    spec = (type.dtype, 1 + len(type.value_shape), tuple(type.value_shape))
    if len(_FIXED_SPECS) < 4096:
        try:
            _FIXED_SPECS[type] = spec
        except TypeError:
            pass
    return spec


def fixed_dtype(type: T.DataType) -> np.dtype:
    """The values dtype of a FixedColumn of `type` (cached: the types build a new np.dtype per call)."""
    try:
        spec = _FIXED_SPECS.get(type)
    except TypeError:
        spec = None
    return (spec or _fixed_spec(type))[0]


class FixedColumn(Column):
    """A column of fixed-width values held in one numpy array."""

    __slots__ = ("values",)

    def __init__(self, type: T.DataType, values: np.ndarray):
        try:
            spec = _FIXED_SPECS.get(type)
        except TypeError:           # a type with an unhashable field
            spec = None
        if spec is None:
            spec = _fixed_spec(type)
        if values.__class__ is not np.ndarray:
            values = np.asarray(values)
        dtype, ndim, shape = spec
        if values.dtype != dtype or values.ndim != ndim or (ndim > 1 and values.shape[1:] != shape):
            raise TypeMismatchError(
                f"FixedColumn of {type} needs a {type.dtype} array of shape (n, {', '.join(map(str, type.value_shape))}), "
                f"got {values.dtype} {values.shape}")
        self.type = type
        self.values = values

    def __len__(self) -> int:
        return self.values.shape[0]

    def take(self, indices) -> "FixedColumn":
        return FixedColumn(self.type, self.values[_as_indices(indices)])

    def filter(self, mask) -> "FixedColumn":
        return FixedColumn(self.type, self.values[_as_mask(mask, len(self))])

    def slice(self, start: int, stop: int) -> "FixedColumn":
        return FixedColumn(self.type, self.values[start:stop])

    @classmethod
    def _concat(cls, columns):
        return FixedColumn(columns[0].type, np.concatenate([c.values for c in columns]))

    @property
    def nbytes(self) -> int:
        return self.values.nbytes

    def to_pylist(self) -> list:
        return _fixed_to_pylist(self.type, self.values)

    def order_key(self, descending: bool = False):
        t = self.type
        v = self.values
        if isinstance(t, T.FloatType):
            return _float_order_key(v, descending)
        if isinstance(t, T.UUIDType):
            low, high = v[:, 1], v[:, 0]
            return (~low, ~high) if descending else (low, high)
        if isinstance(t, T.FixedStringType):
            from mergetree.kernels.strings import dense_rank_sequences
            n, width = v.shape
            offsets = np.arange(n + 1, dtype=np.int64) * width
            ranks = dense_rank_sequences(offsets, np.ascontiguousarray(v).reshape(-1))
            return ~ranks if descending else ranks
        return ~v if descending else v

    def equals(self, other) -> bool:
        if not isinstance(other, FixedColumn) or other.type != self.type:
            return False
        if isinstance(self.type, T.FloatType):
            return np.array_equal(self.values, other.values, equal_nan=True)
        return np.array_equal(self.values, other.values)


_PY_MIN_DAY = int(np.datetime64("0001-01-01", "D").astype(np.int64))
_PY_MAX_DAY = int(np.datetime64("9999-12-31", "D").astype(np.int64))
_PY_MIN_US = int(np.datetime64("0001-01-01T00:00:00", "us").astype(np.int64))
_PY_MAX_US = int(np.datetime64("9999-12-31T23:59:59.999999", "us").astype(np.int64))


def _datetime64_to_pylist(ticks: np.ndarray, precision: int, tz: str | None) -> list:
    if precision <= 6:
        us = ticks.astype(np.int64) * (10 ** (6 - precision))
    else:
        us = ticks.astype(np.int64) // (10 ** (precision - 6))
    # Python datetimes stop at years 1..9999: saturate there (text keeps exact ticks: format_ticks)
    margin = 0 if tz is None else 86_400_000_000  # room for the zone offset in astimezone
    us = np.clip(us, _PY_MIN_US + margin, _PY_MAX_US - margin)
    naive = us.astype("datetime64[us]").tolist()
    if tz is None:
        return naive
    tzinfo = T.get_tzinfo(tz)
    return [d.replace(tzinfo=T.UTC).astimezone(tzinfo) for d in naive]


def _fixed_to_pylist(t: T.DataType, v: np.ndarray) -> list:
    if isinstance(t, (T.IntType, T.FloatType)):
        return v.tolist()
    if isinstance(t, T.BoolType):
        return v.astype(np.bool_).tolist()
    if isinstance(t, (T.DateType, T.Date32Type)):  # Date32 can hold days beyond Python's years 1..9999
        return np.clip(v.astype(np.int64), _PY_MIN_DAY, _PY_MAX_DAY).astype("datetime64[D]").tolist()
    if isinstance(t, T.DateTimeType):
        if t.timezone is None:
            return v.astype(np.int64).astype("datetime64[s]").tolist()
        tzinfo = t.tzinfo
        return [_dt.datetime.fromtimestamp(s, tzinfo) for s in v.tolist()]
    if isinstance(t, T.DateTime64Type):
        return _datetime64_to_pylist(v, t.precision, t.timezone)
    if isinstance(t, T.DecimalType):
        s = -t.scale
        return [decimal.Decimal(x).scaleb(s) for x in v.tolist()]
    if isinstance(t, T.UUIDType):
        return [uuid.UUID(int=(hi << 64) | lo) for hi, lo in v.tolist()]
    if isinstance(t, T.FixedStringType):
        raw = v.tobytes()
        n = t.length
        return [raw[i:i + n].decode("utf-8", "surrogateescape") for i in range(0, len(raw), n)]
    raise TypeMismatchError(f"no Python conversion for {t}")  # pragma: no cover


# --------------------------------------------------------------------------- StringColumn


class StringColumn(Column):
    """Variable-length byte strings: ``offsets`` (int64, n + 1) + ``data`` (uint8)."""

    __slots__ = ("offsets", "data")

    def __init__(self, type: T.DataType, offsets: np.ndarray, data: np.ndarray):
        if not isinstance(type, T.StringType):
            raise TypeMismatchError(f"StringColumn cannot hold type {type}")
        if offsets.__class__ is not np.ndarray:
            offsets = np.asarray(offsets)
        if data.__class__ is not np.ndarray:
            data = np.asarray(data)
        if offsets.dtype != _INT64 or offsets.ndim != 1 or len(offsets) == 0 or offsets[0] != 0:
            raise TypeMismatchError("StringColumn offsets must be a 1-D int64 array starting with 0")
        if data.dtype != _UINT8 or data.ndim != 1 or offsets[-1] != len(data):
            raise TypeMismatchError(
                f"StringColumn data must be a 1-D uint8 array of offsets[-1] = {int(offsets[-1])} bytes, "
                f"got {data.dtype} {data.shape}")
        self.type = type
        self.offsets = offsets
        self.data = data

    @classmethod
    def from_bytes_list(cls, items: Sequence[bytes]) -> "StringColumn":
        lens = np.fromiter((len(b) for b in items), np.int64, len(items))
        offsets = np.empty(len(items) + 1, np.int64)
        offsets[0] = 0
        np.cumsum(lens, out=offsets[1:])
        data = np.frombuffer(b"".join(items), np.uint8)
        return cls(T.String, offsets, data)

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def take(self, indices) -> "StringColumn":
        from mergetree.kernels.strings import gather_strings
        idx = _as_indices(indices)
        if len(idx) and idx.min() < 0:  # numpy-style negative indices (the kernel wants 0..n-1)
            idx = np.where(idx < 0, idx + len(self), idx)
        offsets, data = gather_strings(self.offsets, self.data, idx)
        return StringColumn(self.type, offsets, data)

    def filter(self, mask) -> "StringColumn":
        m = _as_mask(mask, len(self))
        if len(m) >= 1024:
            idx = np.flatnonzero(m)
            if len(idx) * 8 < len(m):  # few survivors: gather them instead of masking every byte
                return self.take(idx)
        lens = self.lengths
        kept = lens[m]
        offsets = np.empty(len(kept) + 1, np.int64)
        offsets[0] = 0
        np.cumsum(kept, out=offsets[1:])
        return StringColumn(self.type, offsets, self.data[np.repeat(m, lens)])

    def slice(self, start: int, stop: int) -> "StringColumn":
        start, stop, _ = slice(start, stop).indices(len(self))
        stop = max(stop, start)
        offs = self.offsets[start:stop + 1]
        return StringColumn(self.type, offs - offs[0], self.data[offs[0]:offs[-1]])

    @classmethod
    def _concat(cls, columns):
        data = np.concatenate([c.data for c in columns])
        parts = [np.zeros(1, np.int64)]
        base = 0
        for c in columns:
            parts.append(c.offsets[1:] + base)
            base += int(c.offsets[-1])
        return StringColumn(columns[0].type, np.concatenate(parts), data)

    @property
    def nbytes(self) -> int:
        return self.offsets.nbytes + self.data.nbytes

    def to_pybytes(self) -> list[bytes]:
        raw = self.data.tobytes()
        o = self.offsets.tolist()
        return [raw[o[i]:o[i + 1]] for i in range(len(o) - 1)]

    def to_pylist(self) -> list[str]:
        raw = self.data.tobytes()
        o = self.offsets.tolist()
        if raw.isascii():
            text = raw.decode("ascii")
            return [text[o[i]:o[i + 1]] for i in range(len(o) - 1)]
        return [raw[o[i]:o[i + 1]].decode("utf-8", "surrogateescape") for i in range(len(o) - 1)]

    def order_key(self, descending: bool = False):
        ranks = self.dense_ranks()
        return ~ranks if descending else ranks

    def dense_ranks(self) -> np.ndarray:
        from mergetree.kernels.strings import dense_rank_sequences
        return dense_rank_sequences(self.offsets, self.data)

    def equals(self, other) -> bool:
        return (isinstance(other, StringColumn) and other.type == self.type
                and np.array_equal(self.offsets, other.offsets) and np.array_equal(self.data, other.data))


# --------------------------------------------------------------------------- NullableColumn


class NullableColumn(Column):
    """``values`` (inner type, the default under a NULL) + ``nulls`` (bool mask)."""

    __slots__ = ("values", "nulls")

    def __init__(self, type: T.DataType, values: Column, nulls: np.ndarray):
        if not isinstance(type, T.NullableType):
            raise TypeMismatchError(f"NullableColumn needs a Nullable type, got {type}")
        if values.type != type.inner:
            raise TypeMismatchError(f"NullableColumn of {type} got values of type {values.type}")
        nulls = np.asarray(nulls)
        if nulls.dtype != np.bool_ or nulls.shape != (len(values),):
            raise TypeMismatchError(
                f"NullableColumn nulls must be a bool array of {len(values)} rows, got {nulls.dtype} {nulls.shape}")
        self.type = type
        self.values = values
        self.nulls = nulls

    def __len__(self) -> int:
        return len(self.nulls)

    def take(self, indices) -> "NullableColumn":
        idx = _as_indices(indices)
        return NullableColumn(self.type, self.values.take(idx), self.nulls[idx])

    def filter(self, mask) -> "NullableColumn":
        m = _as_mask(mask, len(self))
        return NullableColumn(self.type, self.values.filter(m), self.nulls[m])

    def slice(self, start: int, stop: int) -> "NullableColumn":
        return NullableColumn(self.type, self.values.slice(start, stop), self.nulls[start:stop])

    @classmethod
    def _concat(cls, columns):
        return NullableColumn(columns[0].type, Column.concat([c.values for c in columns]),
                              np.concatenate([c.nulls for c in columns]))

    @property
    def nbytes(self) -> int:
        return self.values.nbytes + self.nulls.nbytes

    def to_pylist(self) -> list:
        values = self.values.to_pylist()
        if self.nulls.any():
            for i in np.flatnonzero(self.nulls).tolist():
                values[i] = None
        return values

    def order_key(self, descending: bool = False):
        from mergetree.kernels.sort import flatten_keys
        inner = flatten_keys(self.values.order_key(descending))
        if self.nulls.any():
            inner = [np.where(self.nulls, k.dtype.type(0), k) for k in inner]
        return (self.nulls.view(np.uint8), *inner)

    def equals(self, other) -> bool:
        if not isinstance(other, NullableColumn) or other.type != self.type:
            return False
        if not np.array_equal(self.nulls, other.nulls):
            return False
        keep = ~self.nulls
        return self.values.filter(keep).equals(other.values.filter(keep))


# --------------------------------------------------------------------------- ArrayColumn


class RangedColumn(Column):
    """A column whose row i is the range ``offsets[i]:offsets[i + 1]`` of one or more child columns
    (Array: its elements; Map: its keys and values; AggregateFunction: its state rows). Subclasses
    name their children (``_children``) and rebuild themselves from new ones (``_with``); taking,
    slicing and concatenating rows is the same for all of them."""

    __slots__ = ("offsets",)

    def _children(self) -> list:
        raise NotImplementedError

    def _with(self, offsets: np.ndarray, children: list) -> "RangedColumn":
        raise NotImplementedError

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def take(self, indices) -> "RangedColumn":
        idx = _as_indices(indices)
        starts = self.offsets[:-1][idx]
        offsets, pos = _ranged_positions(starts, self.offsets[1:][idx] - starts)
        return self._with(offsets, [c.take(pos) for c in self._children()])

    def slice(self, start: int, stop: int) -> "RangedColumn":
        start, stop, _ = slice(start, stop).indices(len(self))
        stop = max(stop, start)
        offs = self.offsets[start:stop + 1]
        a, b = int(offs[0]), int(offs[-1])
        return self._with(offs - offs[0], [c.slice(a, b) for c in self._children()])

    @classmethod
    def _concat(cls, columns):
        parts = [np.zeros(1, np.int64)]
        base = 0
        for c in columns:
            parts.append(c.offsets[1:] + base)
            base += int(c.offsets[-1])
        children = zip(*(c._children() for c in columns))
        return columns[0]._with(np.concatenate(parts), [Column.concat(list(ch)) for ch in children])


class ArrayColumn(RangedColumn):
    """``offsets`` (int64, n + 1) into ``values``, a column holding all elements."""

    __slots__ = ("values",)

    def __init__(self, type: T.DataType, offsets: np.ndarray, values: Column):
        if not isinstance(type, T.ArrayType):
            raise TypeMismatchError(f"ArrayColumn needs an Array type, got {type}")
        if values.type != type.inner:
            raise TypeMismatchError(f"ArrayColumn of {type} got elements of type {values.type}")
        offsets = np.asarray(offsets)
        if (offsets.dtype != np.int64 or offsets.ndim != 1 or len(offsets) == 0 or offsets[0] != 0
                or int(offsets[-1]) != len(values)):
            raise TypeMismatchError(
                f"ArrayColumn offsets must be int64, start at 0 and end at the {len(values)} elements")
        self.type = type
        self.offsets = offsets
        self.values = values

    def _children(self) -> list:
        return [self.values]

    def _with(self, offsets, children) -> "ArrayColumn":
        return ArrayColumn(self.type, offsets, children[0])

    @property
    def nbytes(self) -> int:
        return self.offsets.nbytes + self.values.nbytes

    def to_pylist(self) -> list:
        flat = self.values.to_pylist()
        o = self.offsets.tolist()
        return [flat[o[i]:o[i + 1]] for i in range(len(o) - 1)]

    def order_key(self, descending: bool = False):
        ranks = self.dense_ranks()
        return ~ranks if descending else ranks

    def dense_ranks(self) -> np.ndarray:
        from mergetree.kernels.strings import dense_rank_sequences
        element_ranks = self.values.dense_ranks() if len(self.values) else np.zeros(0, np.int64)
        return dense_rank_sequences(self.offsets, element_ranks)

    def equals(self, other) -> bool:
        return (isinstance(other, ArrayColumn) and other.type == self.type
                and np.array_equal(self.offsets, other.offsets) and self.values.equals(other.values))


# --------------------------------------------------------------------------- TupleColumn, MapColumn


class TupleColumn(Column):
    """``Tuple(T1, .., Tk)``: one column per element (``columns``), all of the same length."""

    __slots__ = ("columns", "_n")

    def __init__(self, type: T.DataType, columns: Sequence[Column], n: int | None = None):
        if not isinstance(type, T.TupleType):
            raise TypeMismatchError(f"TupleColumn needs a Tuple type, got {type}")
        columns = list(columns)
        if len(columns) != len(type.elements) or any(c.type != t for c, t in zip(columns, type.elements)):
            raise TypeMismatchError(f"TupleColumn of {type} got columns of types {[str(c.type) for c in columns]}")
        lens = {len(c) for c in columns}
        if len(lens) > 1:
            raise SizesMismatchError(f"TupleColumn elements have different lengths {sorted(lens)}")
        self.type = type
        self.columns = columns
        self._n = lens.pop() if lens else (n or 0)

    def __len__(self) -> int:
        return self._n

    def take(self, indices) -> "TupleColumn":
        idx = _as_indices(indices)
        return TupleColumn(self.type, [c.take(idx) for c in self.columns], len(idx))

    def slice(self, start: int, stop: int) -> "TupleColumn":
        start, stop, _ = slice(start, stop).indices(self._n)
        return TupleColumn(self.type, [c.slice(start, stop) for c in self.columns], max(stop - start, 0))

    @classmethod
    def _concat(cls, columns):
        parts = [Column.concat([c.columns[i] for c in columns]) for i in range(len(columns[0].columns))]
        return TupleColumn(columns[0].type, parts, sum(len(c) for c in columns))

    @property
    def nbytes(self) -> int:
        return sum(c.nbytes for c in self.columns)

    def to_pylist(self) -> list:
        if not self.columns:
            return [()] * self._n
        return list(zip(*(c.to_pylist() for c in self.columns)))

    def order_key(self, descending: bool = False):
        return tuple(c.order_key(descending) for c in self.columns)

    def dense_ranks(self) -> np.ndarray:
        from mergetree.kernels.sort import dense_rank_keys, flatten_keys
        return dense_rank_keys(flatten_keys(self.order_key()))

    def equals(self, other) -> bool:
        return (isinstance(other, TupleColumn) and other.type == self.type and len(other) == len(self)
                and all(a.equals(b) for a, b in zip(self.columns, other.columns)))


class MapColumn(RangedColumn):
    """``Map(K, V)``: ``offsets`` (int64, n + 1) into ``keys`` and ``values`` (columns of all entries)."""

    __slots__ = ("keys", "values")

    def __init__(self, type: T.DataType, offsets: np.ndarray, keys: Column, values: Column):
        if not isinstance(type, T.MapType):
            raise TypeMismatchError(f"MapColumn needs a Map type, got {type}")
        if keys.type != type.key or values.type != type.value:
            raise TypeMismatchError(f"MapColumn of {type} got entries of types {keys.type}, {values.type}")
        offsets = np.asarray(offsets)
        if (offsets.dtype != np.int64 or offsets.ndim != 1 or len(offsets) == 0 or offsets[0] != 0
                or int(offsets[-1]) != len(keys) or len(keys) != len(values)):
            raise TypeMismatchError(f"MapColumn offsets must be int64, start at 0 and end at the {len(keys)} entries")
        self.type = type
        self.offsets = offsets
        self.keys = keys
        self.values = values

    def _children(self) -> list:
        return [self.keys, self.values]

    def _with(self, offsets, children) -> "MapColumn":
        return MapColumn(self.type, offsets, children[0], children[1])

    @property
    def nbytes(self) -> int:
        return self.offsets.nbytes + self.keys.nbytes + self.values.nbytes

    def to_pylist(self) -> list:
        ks, vs = self.keys.to_pylist(), self.values.to_pylist()
        o = self.offsets.tolist()
        return [dict(zip(ks[o[i]:o[i + 1]], vs[o[i]:o[i + 1]])) for i in range(len(o) - 1)]

    def entries(self) -> "ArrayColumn":
        """The map as Array(Tuple(K, V)) (ClickHouse's physical layout)."""
        tt = T.TupleType((self.type.key, self.type.value))
        return ArrayColumn(T.Array(tt), self.offsets, TupleColumn(tt, [self.keys, self.values]))

    def order_key(self, descending: bool = False):
        ranks = self.dense_ranks()
        return ~ranks if descending else ranks

    def dense_ranks(self) -> np.ndarray:
        return self.entries().dense_ranks()

    def equals(self, other) -> bool:
        return (isinstance(other, MapColumn) and other.type == self.type
                and np.array_equal(self.offsets, other.offsets) and self.keys.equals(other.keys)
                and self.values.equals(other.values))


# --------------------------------------------------------------------------- LowCardinalityColumn


def _codes_dtype(dictionary_size: int) -> np.dtype:
    if dictionary_size <= 1 << 8:
        return np.dtype(np.uint8)
    if dictionary_size <= 1 << 16:
        return np.dtype(np.uint16)
    return np.dtype(np.uint32)


class LowCardinalityColumn(Column):
    """``dictionary`` (a column of the inner type) + ``codes`` (uint8/16/32 row -> dictionary index)."""

    __slots__ = ("dictionary", "codes")

    def __init__(self, type: T.DataType, dictionary: Column, codes: np.ndarray):
        if not isinstance(type, T.LowCardinalityType):
            raise TypeMismatchError(f"LowCardinalityColumn needs a LowCardinality type, got {type}")
        if dictionary.type != type.inner:
            raise TypeMismatchError(f"LowCardinalityColumn of {type} got a dictionary of type {dictionary.type}")
        codes = np.asarray(codes)
        if codes.dtype not in (np.uint8, np.uint16, np.uint32) or codes.ndim != 1:
            raise TypeMismatchError(f"LowCardinalityColumn codes must be uint8/16/32, got {codes.dtype}")
        self.type = type
        self.dictionary = dictionary
        self.codes = codes

    @classmethod
    def encode(cls, type: T.DataType, column: Column) -> "LowCardinalityColumn":
        """Dictionary-encode a column of the inner type (dictionary in first-seen order)."""
        if isinstance(column, StringColumn):  # hash grouping, no sort
            from mergetree.kernels.strings import group_strings
            group_ids, first_rows = group_strings(column.offsets, column.data)
            return cls(type, column.take(first_rows), group_ids.astype(_codes_dtype(len(first_rows))))
        ranks = column.dense_ranks() if len(column) else np.zeros(0, np.int64)
        uniq, first, inverse = np.unique(ranks, return_index=True, return_inverse=True)
        # dictionary in first-appearance order keeps encoding deterministic and stable
        appearance = np.argsort(first, kind="stable")
        remap = np.empty(len(uniq), np.int64)
        remap[appearance] = np.arange(len(uniq))
        dictionary = column.take(first[appearance])
        codes = remap[inverse.reshape(-1)].astype(_codes_dtype(len(uniq)))
        return cls(type, dictionary, codes)

    def decode(self) -> Column:
        """The column of the inner type (dictionary values expanded per row)."""
        return self.dictionary.take(self.codes.astype(np.int64))

    def __len__(self) -> int:
        return len(self.codes)

    def take(self, indices) -> "LowCardinalityColumn":
        return LowCardinalityColumn(self.type, self.dictionary, self.codes[_as_indices(indices)])

    def filter(self, mask) -> "LowCardinalityColumn":
        return LowCardinalityColumn(self.type, self.dictionary, self.codes[_as_mask(mask, len(self))])

    def slice(self, start: int, stop: int) -> "LowCardinalityColumn":
        return LowCardinalityColumn(self.type, self.dictionary, self.codes[start:stop])

    @classmethod
    def _concat(cls, columns):
        if all(c.dictionary is columns[0].dictionary for c in columns):
            codes = np.concatenate([c.codes for c in columns])
            return LowCardinalityColumn(columns[0].type, columns[0].dictionary, codes)
        # unify the dictionaries: encode the concatenated dictionaries, remap each code array
        merged = LowCardinalityColumn.encode(columns[0].type,
                                             Column.concat([c.dictionary for c in columns]))
        remap = merged.codes.astype(np.int64)
        out_dtype = _codes_dtype(len(merged.dictionary))
        codes, base = [], 0
        for c in columns:
            codes.append(remap[base + c.codes.astype(np.int64)].astype(out_dtype))
            base += len(c.dictionary)
        return LowCardinalityColumn(columns[0].type, merged.dictionary, np.concatenate(codes))

    @property
    def nbytes(self) -> int:
        return self.dictionary.nbytes + self.codes.nbytes

    def to_pylist(self) -> list:
        values = self.dictionary.to_pylist()
        return [values[c] for c in self.codes.tolist()]

    def order_key(self, descending: bool = False):
        from mergetree.kernels.sort import dense_rank_keys
        if len(self.dictionary) == 0:
            return np.zeros(len(self.codes), np.int64)
        ranks = dense_rank_keys(self.dictionary.order_key(descending))
        return ranks[self.codes]

    def equals(self, other) -> bool:
        return (isinstance(other, LowCardinalityColumn) and other.type == self.type
                and self.decode().equals(other.decode()))


# --------------------------------------------------------------------------- constructors


def default_column(type: T.DataType, n: int) -> Column:
    """A column of n type defaults (0, '', 1970-01-01, NULL, [] ...)."""
    if isinstance(type, T.AggregateFunctionType):     # n empty states (functions/aggregate/states.py)
        from mergetree.functions.aggregate.states import empty_states
        return empty_states(type, n)
    if isinstance(type, T.SimpleAggregateFunctionType):
        type = type.inner
    if isinstance(type, T.StringType):
        return StringColumn(type, np.zeros(n + 1, np.int64), np.zeros(0, np.uint8))
    if isinstance(type, T.NullableType):
        return NullableColumn(type, default_column(type.inner, n), np.ones(n, np.bool_))
    if isinstance(type, T.ArrayType):
        return ArrayColumn(type, np.zeros(n + 1, np.int64), default_column(type.inner, 0))
    if isinstance(type, T.TupleType):
        return TupleColumn(type, [default_column(t, n) for t in type.elements], n)
    if isinstance(type, T.MapType):
        return MapColumn(type, np.zeros(n + 1, np.int64), default_column(type.key, 0), default_column(type.value, 0))
    if isinstance(type, T.LowCardinalityType):
        inner = type.inner
        dictionary = default_column(inner, 1)
        return LowCardinalityColumn(type, dictionary, np.zeros(n, np.uint8))
    return FixedColumn(type, np.zeros((n,) + type.value_shape, type.dtype))


def empty_column(type: T.DataType) -> Column:
    return default_column(type, 0)


def column_from_values(type: T.DataType | str, values: Iterable, *, name: str | None = None) -> Column:
    """Build a column from Python values (None -> NULL, or the default in a non-Nullable column).

    Accepts what ``to_pylist`` returns plus the loose inputs of JSON: numbers as strings,
    dates/datetimes as text or numbers, and so on (see ``mergetree.convert``). Raises
    ConversionError naming the row and the value.
    """
    from mergetree.convert import values_to_column
    if isinstance(type, str):
        type = T.parse_type(type)
    return values_to_column(type, list(values), column=name)


def column_from_numpy(type: T.DataType | str, array: np.ndarray, *, name: str | None = None) -> Column:
    """Build a column from a numpy array (numbers, datetime64, 'U'/'S' strings)."""
    from mergetree.convert import numpy_to_column
    if isinstance(type, str):
        type = T.parse_type(type)
    return numpy_to_column(type, array, column=name)


# --------------------------------------------------------------------------- Block


class Block:
    """Named columns of equal length (insertion order is column order)."""

    __slots__ = ("columns", "_num_rows")

    def __init__(self, columns: dict[str, Column] | None = None, num_rows: int | None = None):
        columns = dict(columns) if columns else {}
        n = None
        for c in columns.values():
            if n is None:
                n = len(c)
            elif len(c) != n:
                lengths = {name: len(c) for name, c in columns.items()}
                raise SizesMismatchError(f"Block columns have different numbers of rows: {lengths}")
        if n is None:
            n = num_rows or 0
        if num_rows is not None and n != num_rows:
            raise SizesMismatchError(f"Block has {n} rows, expected {num_rows}")
        self.columns = columns
        self._num_rows = n

    @classmethod
    def trusted(cls, columns: dict, num_rows: int) -> "Block":
        """A Block over `columns` (a dict the Block now owns) known to have `num_rows` rows each
        (columns taken from other Blocks of that size): no copy, no length check."""
        b = object.__new__(cls)
        b.columns = columns
        b._num_rows = num_rows
        return b

    @property
    def num_rows(self) -> int:
        return self._num_rows

    def __len__(self) -> int:
        return self._num_rows

    @property
    def names(self) -> list[str]:
        return list(self.columns)

    @property
    def schema(self) -> list[tuple[str, T.DataType]]:
        return [(name, c.type) for name, c in self.columns.items()]

    def __getitem__(self, name: str) -> Column:
        try:
            return self.columns[name]
        except KeyError:
            from mergetree.errors import UnknownColumnError
            raise UnknownColumnError(
                f"Missing column '{name}' in block with columns {self.names}") from None

    def __contains__(self, name: str) -> bool:
        return name in self.columns

    def __iter__(self):
        return iter(self.columns.items())

    @property
    def nbytes(self) -> int:
        return sum(c.nbytes for c in self.columns.values())

    def select(self, names: Sequence[str]) -> "Block":
        return Block({n: self[n] for n in names}, self._num_rows)

    def with_column(self, name: str, column: Column) -> "Block":
        cols = dict(self.columns)
        cols[name] = column
        return Block(cols)

    def take(self, indices) -> "Block":
        idx = _as_indices(indices)
        return Block({n: c.take(idx) for n, c in self.columns.items()}, len(idx))

    def filter(self, mask) -> "Block":
        m = _as_mask(mask, self._num_rows)
        return Block({n: c.filter(m) for n, c in self.columns.items()}, int(np.count_nonzero(m)))

    def slice(self, start: int, stop: int) -> "Block":
        start, stop, _ = slice(start, stop).indices(self._num_rows)
        return Block({n: c.slice(start, stop) for n, c in self.columns.items()}, max(stop - start, 0))

    @classmethod
    def concat(cls, blocks: Sequence["Block"]) -> "Block":
        blocks = list(blocks)
        if not blocks:
            return Block()
        names = blocks[0].names
        for b in blocks[1:]:
            if b.names != names:
                raise TypeMismatchError(f"Cannot concatenate blocks with columns {names} and {b.names}")
        if not names:
            return Block({}, sum(b.num_rows for b in blocks))
        return Block({n: Column.concat([b.columns[n] for b in blocks]) for n in names})

    def sort_permutation(self, names: Sequence[str], descending: Sequence[bool] | None = None) -> np.ndarray:
        """Stable permutation ordering the rows by the named columns (ClickHouse order)."""
        from mergetree.kernels.sort import sort_permutation
        desc = list(descending) if descending is not None else [False] * len(names)
        return sort_permutation([self[n].order_key(d) for n, d in zip(names, desc)])

    def to_pylist_rows(self) -> list[tuple]:
        if not self.columns:
            return [()] * self._num_rows
        return list(zip(*(c.to_pylist() for c in self.columns.values())))

    def to_dicts(self) -> list[dict]:
        names = self.names
        return [dict(zip(names, row)) for row in self.to_pylist_rows()]

    def to_pydict(self) -> dict[str, list]:
        return {n: c.to_pylist() for n, c in self.columns.items()}

    def equals(self, other: "Block") -> bool:
        return (isinstance(other, Block) and self.names == other.names and self.num_rows == other.num_rows
                and all(c.equals(other.columns[n]) for n, c in self.columns.items()))

    def __repr__(self) -> str:
        cols = ", ".join(f"{n} {c.type}" for n, c in self.columns.items())
        return f"Block({self._num_rows} rows: {cols})"
