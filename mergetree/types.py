"""ClickHouse data types: frozen descriptions of what a column holds.

A type is a frozen dataclass. ``str(t)`` and ``t.name`` give ClickHouse's canonical spelling
(``DateTime('UTC')``, ``Decimal(10, 2)``, ``Nullable(String)``), so a type prints the way
``toTypeName`` prints it and ``parse_type(str(t)) == t``.

Physical representation (see ``mergetree.column``), never numpy object arrays:

1. UInt8..UInt64, Int8..Int64, Float32/64: one numpy array of that dtype.
2. Bool: uint8 0/1. Date: uint16 days since 1970-01-01. Date32: int32 days.
   DateTime: uint32 seconds since the epoch (the time zone only affects text).
   DateTime64(p): int64 ticks of 10^-p seconds. Decimal(P, S): int32 (P <= 9) or int64
   (P <= 18) integers scaled by 10^S.
3. UUID: uint64 array of shape (n, 2) holding the (high, low) halves.
   FixedString(N): uint8 array of shape (n, N).
4. String: int64 offsets (n + 1, offsets[0] == 0) + one uint8 buffer.
5. Nullable(T): a T column + a bool null mask. Array(T): int64 offsets + a T column.
   LowCardinality(T): a dictionary T column + uint8/16/32 codes.

``parse_type`` accepts the names ClickHouse prints plus the SQL aliases of
``system.data_type_families`` (BIGINT, VARCHAR(255), TIMESTAMP, DOUBLE PRECISION, INT UNSIGNED...).
Family names are case-sensitive except the families ClickHouse registers as case-insensitive
(``Date``, ``DateTime``, ``Decimal``, ``Bool`` and all SQL aliases), exactly as ClickHouse does.

Simplifications against ClickHouse: no 128/256-bit integers, Decimal precision at most 18,
no Enum/JSON/IP types (Tuple and Map are supported); LowCardinality accepts any wrapped type (ClickHouse rejects
small fixed-size types unless ``allow_suspicious_low_cardinality_types`` is set).
"""

from __future__ import annotations

import datetime as _dt
import decimal
import difflib
import functools
import math
import re
import uuid
import zoneinfo
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from mergetree.errors import TypeDefinitionError, UnknownTypeError

EPOCH_DATE = _dt.date(1970, 1, 1)
EPOCH_DATETIME = _dt.datetime(1970, 1, 1)
UTC = _dt.timezone.utc


# --------------------------------------------------------------------------- helpers


def format_float(value: float, bits: int = 64) -> str:
    """Shortest round-trip text of a float as ClickHouse prints it.

    ClickHouse uses the shortest digits that read back to the same value, written in plain
    notation when the decimal exponent is in [-6, 21) and as ``1e21`` / ``1e-7`` (no ``+``)
    otherwise; ``inf``, ``-inf``, ``nan``; ``-0`` for negative zero; ``1`` for ``1.0``.
    """
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    if bits == 32:
        text = np.format_float_scientific(np.float32(value), unique=True, trim="-")
    else:
        text = repr(float(value))
    sign = ""
    if text[0] == "-":
        sign, text = "-", text[1:]
    mantissa, _, exp_text = text.partition("e")
    exponent = int(exp_text) if exp_text else 0
    int_part, _, frac_part = mantissa.partition(".")
    digits = (int_part + frac_part).lstrip("0")
    # position of the decimal point relative to the start of `digits`
    point = len(int_part.lstrip("0")) + exponent if int_part.lstrip("0") else \
        exponent - (len(frac_part) - len(frac_part.lstrip("0")))
    digits = digits.rstrip("0") or "0"
    k = len(digits)
    if k <= point <= 21:
        out = digits + "0" * (point - k)
    elif 0 < point <= 21:
        out = digits[:point] + "." + digits[point:]
    elif -6 < point <= 0:
        out = "0." + "0" * (-point) + digits
    else:
        e = point - 1
        out = digits[0] + ("." + digits[1:] if k > 1 else "") + "e" + str(e)
    return sign + out


def _check_timezone(tz: str | None) -> None:
    if tz is None:
        return
    try:
        zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, IsADirectoryError) as exc:
        raise TypeDefinitionError(f"Invalid time zone: '{tz}'") from exc


@functools.lru_cache(maxsize=None)
def get_tzinfo(tz: str | None) -> _dt.tzinfo:
    """The tzinfo for a type's time zone name (UTC when the type has none)."""
    if tz is None or tz == "UTC":
        return UTC
    return zoneinfo.ZoneInfo(tz)


# --------------------------------------------------------------------------- types


@dataclass(frozen=True, repr=False)
class DataType:
    """Base of all data types. Subclasses are frozen dataclasses compared by value."""

    kind: ClassVar[str] = "?"
    #: True when the column is a FixedColumn: one numpy array, maybe with trailing dimensions.
    is_fixed: ClassVar[bool] = True

    @property
    def name(self) -> str:  # pragma: no cover - every subclass overrides
        raise NotImplementedError

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return self.name

    @property
    def dtype(self) -> np.dtype | None:
        """numpy dtype of the values array of a FixedColumn (None for other columns)."""
        return None

    @property
    def value_shape(self) -> tuple[int, ...]:
        """Trailing shape of one value in the values array (``(2,)`` for UUID)."""
        return ()

    @property
    def default(self):
        """The type default as a Python value (what an omitted field gets)."""
        raise NotImplementedError

    @property
    def physical_default(self):
        """The type default as the physical value stored in the array."""
        return 0

    def format_value(self, value) -> str:
        """Text of a Python value (as ``to_pylist`` returns it) in TSV-like form, unescaped."""
        return str(value)

    @property
    def is_nullable(self) -> bool:
        return False

    @property
    def is_numeric(self) -> bool:
        return False

    def unwrap(self) -> "DataType":
        """The type without Nullable / LowCardinality wrappers."""
        return self


@dataclass(frozen=True, repr=False)
class IntType(DataType):
    bits: int
    signed: bool
    kind: ClassVar[str] = "int"

    @property
    def name(self) -> str:
        return f"{'Int' if self.signed else 'UInt'}{self.bits}"

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(f"{'i' if self.signed else 'u'}{self.bits // 8}")

    @property
    def min_value(self) -> int:
        return -(1 << (self.bits - 1)) if self.signed else 0

    @property
    def max_value(self) -> int:
        return (1 << (self.bits - 1)) - 1 if self.signed else (1 << self.bits) - 1

    @property
    def default(self) -> int:
        return 0

    @property
    def is_numeric(self) -> bool:
        return True

    def format_value(self, value) -> str:
        return str(int(value))


@dataclass(frozen=True, repr=False)
class FloatType(DataType):
    bits: int
    kind: ClassVar[str] = "float"

    @property
    def name(self) -> str:
        return f"Float{self.bits}"

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(f"f{self.bits // 8}")

    @property
    def default(self) -> float:
        return 0.0

    @property
    def is_numeric(self) -> bool:
        return True

    def format_value(self, value) -> str:
        return format_float(float(value), self.bits)


@dataclass(frozen=True, repr=False)
class BoolType(DataType):
    kind: ClassVar[str] = "bool"

    @property
    def name(self) -> str:
        return "Bool"

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(np.uint8)

    @property
    def default(self) -> bool:
        return False

    @property
    def is_numeric(self) -> bool:
        return True

    def format_value(self, value) -> str:
        return "true" if value else "false"


@dataclass(frozen=True, repr=False)
class StringType(DataType):
    kind: ClassVar[str] = "string"
    is_fixed: ClassVar[bool] = False

    @property
    def name(self) -> str:
        return "String"

    @property
    def default(self) -> str:
        return ""

    @property
    def physical_default(self):
        return b""

    def format_value(self, value) -> str:
        return value if isinstance(value, str) else bytes(value).decode("utf-8", "surrogateescape")


@dataclass(frozen=True, repr=False)
class FixedStringType(DataType):
    length: int
    kind: ClassVar[str] = "fixedstring"

    def __post_init__(self):
        if not isinstance(self.length, int) or self.length <= 0:
            raise TypeDefinitionError(
                "FixedString data type family must have a number (positive integer) as its "
                f"argument, got {self.length!r}")

    @property
    def name(self) -> str:
        return f"FixedString({self.length})"

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(np.uint8)

    @property
    def value_shape(self) -> tuple[int, ...]:
        return (self.length,)

    @property
    def default(self) -> str:
        return "\0" * self.length

    @property
    def physical_default(self):
        return np.zeros(self.length, np.uint8)

    def format_value(self, value) -> str:
        return value if isinstance(value, str) else bytes(value).decode("utf-8", "surrogateescape")


@dataclass(frozen=True, repr=False)
class DateType(DataType):
    kind: ClassVar[str] = "date"
    min_value: ClassVar[_dt.date] = _dt.date(1970, 1, 1)
    max_value: ClassVar[_dt.date] = _dt.date(2149, 6, 6)

    @property
    def name(self) -> str:
        return "Date"

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(np.uint16)

    @property
    def default(self) -> _dt.date:
        return EPOCH_DATE

    def format_value(self, value) -> str:
        return value.isoformat()


@dataclass(frozen=True, repr=False)
class Date32Type(DataType):
    kind: ClassVar[str] = "date32"
    min_value: ClassVar[_dt.date] = _dt.date(1900, 1, 1)
    max_value: ClassVar[_dt.date] = _dt.date(2299, 12, 31)

    @property
    def name(self) -> str:
        return "Date32"

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(np.int32)

    @property
    def default(self) -> _dt.date:
        return EPOCH_DATE

    def format_value(self, value) -> str:
        return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"


def _format_datetime(value: _dt.datetime, tz: str | None, precision: int = 0) -> str:
    try:
        if value.tzinfo is not None:
            value = value.astimezone(get_tzinfo(tz))
        elif tz is not None and tz != "UTC":
            value = value.replace(tzinfo=UTC).astimezone(get_tzinfo(tz))
    except OverflowError:  # a saturated value at year 1 or 9999: show it unconverted
        pass
    text = (f"{value.year:04d}-{value.month:02d}-{value.day:02d} "
            f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}")
    if precision:
        text += "." + f"{value.microsecond:06d}{'0' * 3}"[:precision]
    return text


@dataclass(frozen=True, repr=False)
class DateTimeType(DataType):
    timezone: str | None = None
    kind: ClassVar[str] = "datetime"
    max_seconds: ClassVar[int] = 0xFFFFFFFF

    def __post_init__(self):
        _check_timezone(self.timezone)

    @property
    def name(self) -> str:
        return "DateTime" if self.timezone is None else f"DateTime('{self.timezone}')"

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(np.uint32)

    @property
    def tzinfo(self) -> _dt.tzinfo:
        return get_tzinfo(self.timezone)

    @property
    def default(self) -> _dt.datetime:
        if self.timezone is None:
            return EPOCH_DATETIME
        return EPOCH_DATETIME.replace(tzinfo=UTC).astimezone(self.tzinfo)

    def format_value(self, value) -> str:
        return _format_datetime(value, self.timezone)


_MIN_PY_SECONDS = int((_dt.datetime(1, 1, 1) - EPOCH_DATETIME).total_seconds())
_MAX_PY_SECONDS = int((_dt.datetime(9999, 12, 31, 23, 59, 59) - EPOCH_DATETIME).total_seconds())


@dataclass(frozen=True, repr=False)
class DateTime64Type(DataType):
    precision: int = 3
    timezone: str | None = None
    kind: ClassVar[str] = "datetime64"

    def __post_init__(self):
        if not isinstance(self.precision, int) or not 0 <= self.precision <= 9:
            raise TypeDefinitionError(
                f"Scale {self.precision} is out of bounds for DateTime64 (max is 9 for nanoseconds)")
        _check_timezone(self.timezone)

    @property
    def name(self) -> str:
        if self.timezone is None:
            return f"DateTime64({self.precision})"
        return f"DateTime64({self.precision}, '{self.timezone}')"

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(np.int64)

    @property
    def tzinfo(self) -> _dt.tzinfo:
        return get_tzinfo(self.timezone)

    @property
    def scale(self) -> int:
        """Ticks per second."""
        return 10 ** self.precision

    @property
    def default(self) -> _dt.datetime:
        if self.timezone is None:
            return EPOCH_DATETIME
        return EPOCH_DATETIME.replace(tzinfo=UTC).astimezone(self.tzinfo)

    def format_value(self, value) -> str:
        return _format_datetime(value, self.timezone, self.precision)

    def format_ticks(self, ticks: int) -> str:
        """Text of a raw tick count; keeps nanosecond digits that Python datetimes lose."""
        seconds, frac = divmod(int(ticks), self.scale)
        if not _MIN_PY_SECONDS <= seconds <= _MAX_PY_SECONDS:  # beyond years 1..9999: saturate
            seconds, frac = min(max(seconds, _MIN_PY_SECONDS), _MAX_PY_SECONDS), 0
        text = _format_datetime(EPOCH_DATETIME + _dt.timedelta(seconds=seconds), self.timezone)
        if self.precision:
            text += "." + str(frac).rjust(self.precision, "0")
        return text


@dataclass(frozen=True, repr=False)
class UUIDType(DataType):
    kind: ClassVar[str] = "uuid"

    @property
    def name(self) -> str:
        return "UUID"

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(np.uint64)

    @property
    def value_shape(self) -> tuple[int, ...]:
        return (2,)

    @property
    def default(self) -> uuid.UUID:
        return uuid.UUID(int=0)

    @property
    def physical_default(self):
        return np.zeros(2, np.uint64)

    def format_value(self, value) -> str:
        return str(value)


@dataclass(frozen=True, repr=False)
class DecimalType(DataType):
    precision: int
    scale: int
    kind: ClassVar[str] = "decimal"

    def __post_init__(self):
        if not isinstance(self.precision, int) or not 1 <= self.precision <= 76:
            raise TypeDefinitionError(
                f"Wrong precision: it must be between 1 and 76, got {self.precision}")
        if self.precision > 18:
            raise TypeDefinitionError(
                f"Decimal({self.precision}, {self.scale}) is not supported: mergetree supports "
                "Decimal precision up to 18 (Decimal32 and Decimal64)")
        if not isinstance(self.scale, int) or not 0 <= self.scale <= self.precision:
            raise TypeDefinitionError(
                "Negative scales and scales larger than precision are not supported, got "
                f"Decimal({self.precision}, {self.scale})")

    @property
    def name(self) -> str:
        return f"Decimal({self.precision}, {self.scale})"

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(np.int32 if self.precision <= 9 else np.int64)

    @property
    def multiplier(self) -> int:
        return 10 ** self.scale

    @property
    def max_abs_scaled(self) -> int:
        """Largest allowed |scaled integer| (10^P - 1)."""
        return 10 ** self.precision - 1

    @property
    def default(self) -> decimal.Decimal:
        return decimal.Decimal(0)

    @property
    def is_numeric(self) -> bool:
        return True

    def format_value(self, value) -> str:
        return format_decimal(value)


def format_decimal(value: decimal.Decimal) -> str:
    """Decimal text without trailing zeros, as ClickHouse 26 prints it (``1.50`` -> ``1.5``)."""
    text = format(decimal.Decimal(value).normalize(), "f")
    return "0" if text in ("-0", "0") else text


@dataclass(frozen=True, repr=False)
class NullableType(DataType):
    inner: DataType
    kind: ClassVar[str] = "nullable"
    is_fixed: ClassVar[bool] = False

    def __post_init__(self):
        if isinstance(self.inner, (NullableType, ArrayType, LowCardinalityType, MapType)):  # Nullable(Tuple) is fine
            raise TypeDefinitionError(
                f"Nested type {self.inner} cannot be inside Nullable type")

    @property
    def name(self) -> str:
        return f"Nullable({self.inner.name})"

    @property
    def default(self):
        return None

    @property
    def is_nullable(self) -> bool:
        return True

    def format_value(self, value) -> str:
        return "\\N" if value is None else self.inner.format_value(value)

    def unwrap(self) -> DataType:
        return self.inner.unwrap()


@dataclass(frozen=True, repr=False)
class ArrayType(DataType):
    inner: DataType
    kind: ClassVar[str] = "array"
    is_fixed: ClassVar[bool] = False

    @property
    def name(self) -> str:
        return f"Array({self.inner.name})"

    @property
    def default(self) -> list:
        return []

    def format_value(self, value) -> str:
        return "[" + ",".join(_format_in_array(self.inner, v) for v in value) + "]"


def _format_in_array(t: DataType, value) -> str:
    """Element text inside an array: strings/dates quoted with ' and escaped, NULL as NULL."""
    if value is None:
        return "NULL"
    base = t.unwrap()
    if isinstance(base, (IntType, FloatType, BoolType, DecimalType, ArrayType, TupleType, MapType)):
        return t.format_value(value)
    return "'" + t.format_value(value).translate(_ARRAY_ESCAPES) + "'"


@dataclass(frozen=True, repr=False)
class TupleType(DataType):
    """``Tuple(T1, T2)`` or named ``Tuple(a T1, b T2)``: a TupleColumn (one column per element).
    Python values are tuples; text is ``(1,'a')``."""

    elements: tuple
    names: tuple | None = None
    kind: ClassVar[str] = "tuple"
    is_fixed: ClassVar[bool] = False

    @property
    def name(self) -> str:
        if self.names:
            return "Tuple(" + ", ".join(f"{n} {t.name}" for n, t in zip(self.names, self.elements)) + ")"
        return "Tuple(" + ", ".join(t.name for t in self.elements) + ")"

    @property
    def default(self) -> tuple:
        return tuple(t.default for t in self.elements)

    def format_value(self, value) -> str:
        return "(" + ",".join(_format_in_array(t, v) for t, v in zip(self.elements, value)) + ")"


@dataclass(frozen=True, repr=False)
class MapType(DataType):
    """``Map(K, V)``: a MapColumn (offsets + key column + value column, like Array(Tuple(K, V))).
    Python values are dicts; text is ``{'a':1}``."""

    key: DataType
    value: DataType
    kind: ClassVar[str] = "map"
    is_fixed: ClassVar[bool] = False

    @property
    def name(self) -> str:
        return f"Map({self.key.name}, {self.value.name})"

    @property
    def default(self) -> dict:
        return {}

    def format_value(self, value) -> str:
        return "{" + ",".join(_format_in_array(self.key, k) + ":" + _format_in_array(self.value, v)
                              for k, v in value.items()) + "}"


# escapes inside quoted strings of array/tuple text, as ClickHouse writes them
_ARRAY_ESCAPES = str.maketrans({"\\": "\\\\", "'": "\\'", "\t": "\\t", "\n": "\\n", "\0": "\\0",
                                "\r": "\\r", "\b": "\\b", "\f": "\\f"})


@dataclass(frozen=True, repr=False)
class LowCardinalityType(DataType):
    inner: DataType
    kind: ClassVar[str] = "lowcardinality"
    is_fixed: ClassVar[bool] = False

    def __post_init__(self):
        base = self.inner.inner if isinstance(self.inner, NullableType) else self.inner
        if isinstance(base, (ArrayType, LowCardinalityType)):
            raise TypeDefinitionError(
                f"LowCardinality can't be used with {self.inner} type")

    @property
    def name(self) -> str:
        return f"LowCardinality({self.inner.name})"

    @property
    def default(self):
        return self.inner.default

    @property
    def is_nullable(self) -> bool:
        return self.inner.is_nullable

    def format_value(self, value) -> str:
        return self.inner.format_value(value)

    def unwrap(self) -> DataType:
        return self.inner.unwrap()


def _format_param(p) -> str:
    if isinstance(p, str):
        return "'" + p.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if isinstance(p, float):
        return format_float(p)
    return str(p)


def _function_spec(function: str, params: tuple) -> str:
    return function + (f"({', '.join(_format_param(p) for p in params)})" if params else "")


@dataclass(frozen=True, repr=False)
class AggregateFunctionType(DataType):
    """``AggregateFunction(f[(params)], T..)``: a column of aggregate states (materialized views).

    Its columns are ``AggregateStateColumn`` (mergetree/functions/aggregate/states.py): every
    value is the function's state rows; ``fMerge`` / ``finalizeAggregation`` finish them."""

    function: str
    params: tuple = ()
    arg_types: tuple = ()
    kind: ClassVar[str] = "aggregate_function"
    is_fixed: ClassVar[bool] = False

    @property
    def name(self) -> str:
        inner = ", ".join([_function_spec(self.function, self.params)] + [t.name for t in self.arg_types])
        return f"AggregateFunction({inner})"

    @property
    def default(self):
        return None

    def format_value(self, value) -> str:
        return "" if value is None else str(value)


@dataclass(frozen=True, repr=False)
class SimpleAggregateFunctionType(DataType):
    """``SimpleAggregateFunction(f, T)``: values of type T that AggregatingMergeTree combines with
    f when rows of one key meet. Tables store (and queries see) plain T columns: ``storage_type``."""

    function: str
    inner: DataType
    kind: ClassVar[str] = "simple_aggregate_function"
    is_fixed: ClassVar[bool] = False

    @property
    def name(self) -> str:
        return f"SimpleAggregateFunction({self.function}, {self.inner.name})"

    @property
    def storage_type(self) -> DataType:
        return self.inner

    @property
    def default(self):
        return self.inner.default

    def format_value(self, value) -> str:
        return self.inner.format_value(value)


# --------------------------------------------------------------------------- singletons

UInt8 = IntType(8, False)
UInt16 = IntType(16, False)
UInt32 = IntType(32, False)
UInt64 = IntType(64, False)
Int8 = IntType(8, True)
Int16 = IntType(16, True)
Int32 = IntType(32, True)
Int64 = IntType(64, True)
Float32 = FloatType(32)
Float64 = FloatType(64)
Bool = BoolType()
String = StringType()
Date = DateType()
Date32 = Date32Type()
DateTime = DateTimeType()
UUID = UUIDType()


def Nullable(inner: DataType) -> NullableType:  # noqa: N802 - mirrors the SQL spelling
    return NullableType(inner)


def Array(inner: DataType) -> ArrayType:  # noqa: N802
    return ArrayType(inner)


def LowCardinality(inner: DataType) -> LowCardinalityType:  # noqa: N802
    return LowCardinalityType(inner)


def FixedString(length: int) -> FixedStringType:  # noqa: N802
    return FixedStringType(length)


def Decimal(precision: int, scale: int = 0) -> DecimalType:  # noqa: N802
    return DecimalType(precision, scale)


def DateTime64(precision: int = 3, timezone: str | None = None) -> DateTime64Type:  # noqa: N802
    return DateTime64Type(precision, timezone)


# --------------------------------------------------------------------------- parse_type

_TOKEN_RE = re.compile(r"""\s*(?:(?P<ident>[A-Za-z_][A-Za-z0-9_]*)|(?P<num>-?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)|(?P<str>'(?:[^'\\]|\\.)*')|(?P<punct>[(),]))""")


class _TypeParser:
    def __init__(self, text: str):
        self.text = text
        self.tokens: list[tuple[str, str, int]] = []
        pos = 0
        while pos < len(text):
            m = _TOKEN_RE.match(text, pos)
            if not m or m.end() == pos:
                if text[pos:].strip() == "":
                    break
                bad = len(text[pos:]) - len(text[pos:].lstrip()) + pos
                raise UnknownTypeError(
                    f"Syntax error in type '{text}' at position {bad}: unexpected '{text[bad]}'")
            kind = m.lastgroup
            start = m.start(kind)
            self.tokens.append((kind, m.group(kind), start))
            pos = m.end()
        self.i = 0

    def peek(self):
        return self.tokens[self.i] if self.i < len(self.tokens) else ("end", "", len(self.text))

    def take(self, kind: str | None = None, value: str | None = None):
        tok = self.peek()
        if (kind and tok[0] != kind) or (value and tok[1] != value):
            want = value or kind
            got = tok[1] or "end of input"
            raise UnknownTypeError(
                f"Syntax error in type '{self.text}' at position {tok[2]}: expected {want}, got '{got}'")
        self.i += 1
        return tok

    def parse(self) -> DataType:
        t = self.parse_type()
        tok = self.peek()
        if tok[0] != "end":
            raise UnknownTypeError(
                f"Syntax error in type '{self.text}' at position {tok[2]}: unexpected '{tok[1]}'")
        return t

    def parse_type(self) -> DataType:
        _, word, pos = self.take("ident")
        name = word
        if word in ("AggregateFunction", "SimpleAggregateFunction") and self.peek()[1] == "(":
            return self.parse_aggregate_function(word)
        if word == "Tuple" and self.peek()[1] == "(":
            return self.parse_tuple()
        # multi-word SQL aliases: DOUBLE PRECISION, INT UNSIGNED, NATIONAL CHARACTER VARYING...
        while True:
            tok = self.peek()
            if tok[0] != "ident":
                break
            longer = f"{name} {tok[1]}".upper()
            if not any(a == longer or a.startswith(longer + " ") for a in _MULTI_WORD):
                break
            name = f"{name} {tok[1]}"
            self.i += 1
        args: list = []
        if self.peek()[1] == "(":
            self.take()
            if self.peek()[1] != ")":
                while True:
                    args.append(self.parse_arg())
                    if self.peek()[1] == ",":
                        self.take()
                        continue
                    break
            self.take("punct", ")")
        return _build(name, args, pos, self.text)

    def parse_tuple(self) -> DataType:
        """Tuple(T1, ..) or Tuple(name1 T1, ..) (all elements named or none)."""
        self.take("punct", "(")
        names, elements = [], []
        while self.peek()[1] != ")":
            kind, word, _ = self.peek()
            nxt = self.tokens[self.i + 1] if self.i + 1 < len(self.tokens) else ("end", "", 0)
            if kind == "ident" and nxt[0] == "ident" and \
                    not any(a.startswith(f"{word} {nxt[1]}".upper()) for a in _MULTI_WORD):
                self.i += 1
                names.append(word)
            elements.append(self.parse_type())
            if self.peek()[1] == ",":
                self.take()
                continue
            break
        self.take("punct", ")")
        if not elements:
            raise TypeDefinitionError("Tuple cannot be empty")
        if names and len(names) != len(elements):
            raise TypeDefinitionError(f"Tuple elements must be all named or all unnamed in '{self.text}'")
        return TupleType(tuple(elements), tuple(names) if names else None)

    def parse_aggregate_function(self, family: str) -> DataType:
        """AggregateFunction(f[(p1, ..)], T1, ..) / SimpleAggregateFunction(f, T)."""
        self.take("punct", "(")
        _, function, _ = self.take("ident")
        params: list = []
        if self.peek()[1] == "(":
            self.take()
            while self.peek()[1] != ")":
                kind, value, _ = self.peek()
                if kind not in ("num", "str"):
                    self.take("num")
                params.append(self.parse_arg())
                if self.peek()[1] == ",":
                    self.take()
            self.take("punct", ")")
        types: list = []
        while self.peek()[1] == ",":
            self.take()
            types.append(self.parse_type())
        self.take("punct", ")")
        if family == "SimpleAggregateFunction":
            if len(types) != 1 or params:
                raise TypeDefinitionError(f"Data type SimpleAggregateFunction requires a function name and "
                                          f"one argument type, got '{self.text}'")
            return SimpleAggregateFunctionType(function, types[0])
        return AggregateFunctionType(function, tuple(params), tuple(types))

    def parse_arg(self):
        kind, value, _ = self.peek()
        if kind == "num":
            self.i += 1
            return int(value) if re.fullmatch(r"-?\d+", value) else float(value)
        if kind == "str":
            self.i += 1
            return re.sub(r"\\(.)", r"\1", value[1:-1])
        return self.parse_type()


def _int_args(family: str, args: list, lo: int, hi: int) -> list[int]:
    if not lo <= len(args) <= hi or not all(isinstance(a, int) for a in args):
        raise TypeDefinitionError(
            f"{family} data type family expects {lo}..{hi} integer arguments, got {args!r}")
    return args


def _one_type_arg(family: str, args: list) -> DataType:
    if len(args) != 1 or not isinstance(args[0], DataType):
        raise TypeDefinitionError(
            f"{family} data type family must have exactly one type argument, got {args!r}")
    return args[0]


def _no_args(t: DataType):
    def build(args, family):
        if args:
            raise TypeDefinitionError(f"{family} data type family must not have arguments")
        return t
    return build


def _ignore_int_args(t: DataType):
    """MySQL-style display widths (INT(11), VARCHAR(255), FLOAT(24)) are accepted and ignored."""
    def build(args, family):
        _int_args(family, args, 0, 2)
        return t
    return build


def _build_datetime(args, family):
    if not args:
        return DateTime
    if isinstance(args[0], int):  # DateTime(3) is DateTime64(3)
        return _build_datetime64(args, family)
    if len(args) == 1 and isinstance(args[0], str):
        return DateTimeType(args[0])
    raise TypeDefinitionError(f"{family} data type family expects an optional time zone, got {args!r}")


def _build_datetime64(args, family):
    if not args:
        return DateTime64Type(3)
    if not isinstance(args[0], int) or len(args) > 2 or (len(args) == 2 and not isinstance(args[1], str)):
        raise TypeDefinitionError(
            f"{family} data type family expects (precision[, 'time zone']), got {args!r}")
    return DateTime64Type(args[0], args[1] if len(args) == 2 else None)


def _build_decimal(args, family):
    args = _int_args(family, args, 0, 2)
    precision = args[0] if args else 10
    scale = args[1] if len(args) > 1 else 0
    return DecimalType(precision, scale)


def _build_decimal_n(precision: int):
    def build(args, family):
        (scale,) = _int_args(family, args, 1, 1)
        if not 0 <= scale <= precision:
            raise TypeDefinitionError(
                f"Negative scales and scales larger than precision are not supported, got {family}({scale})")
        return DecimalType(precision, scale)
    return build


def _build_fixed_string(args, family):
    if len(args) != 1 or not isinstance(args[0], int):
        raise TypeDefinitionError(
            f"{family} data type family must have exactly one argument - size in bytes")
    return FixedStringType(args[0])


def _wrapper(cls):
    def build(args, family):
        return cls(_one_type_arg(family, args))
    return build


# Case-sensitive families (ClickHouse's case_insensitive = 0).
_FAMILIES: dict[str, object] = {
    **{t.name: _no_args(t) for t in (UInt8, UInt16, UInt32, UInt64, Int8, Int16, Int32, Int64,
                                     Float32, Float64, String, UUID)},
    "FixedString": _build_fixed_string,
    "Nullable": _wrapper(NullableType),
    "Array": _wrapper(ArrayType),
    "LowCardinality": _wrapper(LowCardinalityType),
    "Map": lambda args, family: _build_map(args, family),
}


def _build_map(args, family):
    if len(args) != 2 or not all(isinstance(a, DataType) for a in args):
        raise TypeDefinitionError(f"Map data type family must have two type arguments, got {args!r}")
    if isinstance(args[0], (NullableType, ArrayType, TupleType, MapType)):
        raise TypeDefinitionError(f"Map cannot have a key of type {args[0]}")
    return MapType(args[0], args[1])

# Case-insensitive families and SQL aliases (system.data_type_families, case_insensitive = 1).
_CI_FAMILIES: dict[str, object] = {
    "BOOL": _no_args(Bool), "BOOLEAN": _no_args(Bool),
    "DATE": _no_args(Date), "DATE32": _no_args(Date32),
    "DATETIME": _build_datetime, "DATETIME32": _build_datetime, "TIMESTAMP": _build_datetime,
    "DATETIME64": _build_datetime64,
    "DECIMAL": _build_decimal, "DEC": _build_decimal, "NUMERIC": _build_decimal, "FIXED": _build_decimal,
    "DECIMAL32": _build_decimal_n(9), "DECIMAL64": _build_decimal_n(18),
    "BINARY": _build_fixed_string,
    "DOUBLE": _ignore_int_args(Float64), "DOUBLE PRECISION": _ignore_int_args(Float64),
    "FLOAT": _ignore_int_args(Float32), "REAL": _ignore_int_args(Float32),
    "SINGLE": _ignore_int_args(Float32),
    "TINYINT": _ignore_int_args(Int8), "TINYINT SIGNED": _ignore_int_args(Int8),
    "TINYINT UNSIGNED": _ignore_int_args(UInt8), "INT1": _ignore_int_args(Int8),
    "INT1 SIGNED": _ignore_int_args(Int8), "INT1 UNSIGNED": _ignore_int_args(UInt8),
    "BYTE": _ignore_int_args(Int8),
    "SMALLINT": _ignore_int_args(Int16), "SMALLINT SIGNED": _ignore_int_args(Int16),
    "SMALLINT UNSIGNED": _ignore_int_args(UInt16), "YEAR": _ignore_int_args(UInt16),
    "INT": _ignore_int_args(Int32), "INT SIGNED": _ignore_int_args(Int32),
    "INT UNSIGNED": _ignore_int_args(UInt32), "INTEGER": _ignore_int_args(Int32),
    "INTEGER SIGNED": _ignore_int_args(Int32), "INTEGER UNSIGNED": _ignore_int_args(UInt32),
    "MEDIUMINT": _ignore_int_args(Int32), "MEDIUMINT SIGNED": _ignore_int_args(Int32),
    "MEDIUMINT UNSIGNED": _ignore_int_args(UInt32),
    "BIGINT": _ignore_int_args(Int64), "BIGINT SIGNED": _ignore_int_args(Int64),
    "BIGINT UNSIGNED": _ignore_int_args(UInt64), "SIGNED": _ignore_int_args(Int64),
    "UNSIGNED": _ignore_int_args(UInt64), "BIT": _ignore_int_args(UInt64),
    "SET": _ignore_int_args(UInt64),
    **{alias: _ignore_int_args(String) for alias in (
        "TEXT", "VARCHAR", "VARCHAR2", "CHAR", "CHARACTER", "NCHAR", "NVARCHAR", "CLOB", "BLOB",
        "BYTEA", "VARBINARY", "TINYTEXT", "MEDIUMTEXT", "LONGTEXT", "TINYBLOB", "MEDIUMBLOB",
        "LONGBLOB", "CHAR VARYING", "CHARACTER VARYING", "CHAR LARGE OBJECT",
        "CHARACTER LARGE OBJECT", "NCHAR VARYING", "NCHAR LARGE OBJECT", "NATIONAL CHAR",
        "NATIONAL CHARACTER", "NATIONAL CHAR VARYING", "NATIONAL CHARACTER VARYING",
        "NATIONAL CHARACTER LARGE OBJECT", "BINARY VARYING", "BINARY LARGE OBJECT")},
}

_MULTI_WORD = [name for name in _CI_FAMILIES if " " in name]

# Families ClickHouse knows that mergetree does not implement (clear error instead of "unknown").
_UNSUPPORTED = {
    "UInt128", "UInt256", "Int128", "Int256", "Decimal128", "Decimal256", "BFloat16", "Enum",
    "Enum8", "Enum16", "IPv4", "IPv6", "INET4", "INET6", "Nested", "JSON", "Dynamic",
    "Variant", "Object", "Nothing", "Time",
    "Time64", "Point", "Ring", "Polygon", "MultiPolygon", "LineString", "MultiLineString",
    "Geometry", "QBit", "IntervalSecond", "IntervalDay",
}


def _build(name: str, args: list, pos: int, text: str) -> DataType:
    builder = _FAMILIES.get(name)
    if builder is None:
        builder = _CI_FAMILIES.get(name.upper())
    if builder is None:
        if name in _UNSUPPORTED or name.upper() in {u.upper() for u in _UNSUPPORTED}:
            raise UnknownTypeError(
                f"Data type {name} (at position {pos} in type '{text}') is not supported by mergetree")
        candidates = list(_FAMILIES) + [n for n in _CI_FAMILIES if " " not in n] + [
            "Bool", "Date", "Date32", "DateTime", "DateTime64", "Decimal", "Decimal32", "Decimal64"]
        hints = difflib.get_close_matches(name, candidates, n=2, cutoff=0.6)
        if not hints:
            hints = difflib.get_close_matches(name.upper(), [c.upper() for c in candidates], n=2, cutoff=0.6)
            hints = [next(c for c in candidates if c.upper() == h) for h in hints]
        hint = f" Maybe you meant: {hints!r}" if hints else ""
        raise UnknownTypeError(
            f"Unknown data type family: {name} at position {pos} in type '{text}'.{hint}")
    return builder(args, name)


@functools.lru_cache(maxsize=4096)
def parse_type(text: str) -> DataType:
    """Parse a ClickHouse type name (``Nullable(DateTime64(3, 'UTC'))``, ``BIGINT``...)."""
    if isinstance(text, DataType):
        return text
    return _TypeParser(text).parse()
