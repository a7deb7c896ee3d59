"""Python / JSON / text values -> columns, and input rows -> a Block, with ClickHouse's rules.

API: ``rows_to_block(schema, rows, defaults=)`` (list of dicts, dict of columns or NDJSON),
``rows_to_block_partial`` (same, bad rows set aside as RejectedRow), ``values_to_column(type,
values, column)``, ``numpy_to_column``, ``text_to_column`` / ``parse_text_value`` (TSV/CSV field
text), ``parse_ndjson``, and the way back: ``column_to_text`` (ClickHouse's text of each value).

The rules follow ClickHouse 26.9's JSONEachRow input with default settings (checked with chDB):

1. A field missing from a row gets the column's DEFAULT expression (a callable from the
   table) or else the type default; ``null`` into a non-Nullable column does the same
   (``input_format_defaults_for_omitted_fields=1``, ``input_format_null_as_default=1``).
   Unknown keys are skipped (``input_format_skip_unknown_fields=1``).
2. Numbers may arrive as quoted strings (``"42"``); an empty string is 0 for integers and
   Decimals (and an error for floats, dates and UUIDs, as in ClickHouse).
3. Integers out of range wrap around modulo 2^bits as ClickHouse does (``300`` into UInt8 is 44);
   a negative number into an unsigned type is an error ("Unsigned type must not contain '-'").
   A non-integral number into an integer column is an error.
4. DateTime accepts ``YYYY-MM-DD hh:mm:ss``, ``YYYY-MM-DD [hh:mm]``, ISO 8601 with ``T``, ``Z``,
   ``+hh:mm``/``+hhmm`` offsets and fractions (truncated), RFC 2822 (``Tue, 02 Jan 2024 ...``),
   and unix seconds (numbers or numeric strings, fractions truncated). Times without a zone
   are in the column's time zone. Values outside 1970-01-01 00:00:00 .. 2106-02-07 06:28:15
   saturate at the ends (``date_time_input_format=best_effort``, as chDB does).
   Date accepts ``YYYY-MM-DD``, ``YYYY-M-D``, ``YYYYMMDD`` and day numbers; date text saturates
   at 1970-01-01 .. 2149-06-06 while a day number is read as a UInt16 (wraps, '-' is an error);
   day overflow rolls over like ClickHouse (2024-02-30 -> 2024-03-01).
5. Decimal values are truncated toward zero to the scale (``1.239`` -> ``1.23``); too many
   integer digits is an error. Floats are read from their shortest text (``repr``).
6. Bool takes true/false and 0/1 (and, more leniently than ClickHouse's JSON reader, the
   strings ``true/false/1/0/yes/no/on/off/t/f/y/n`` any case, which its text formats accept).
7. String takes strings; other JSON values are stored as their compact JSON text, as ClickHouse
   does (``123``, ``true``, ``{"a":1}``). FixedString(N) pads with NUL bytes; longer is an error.
8. Arrays come from JSON lists (``null`` -> ``[]``); UUID from 8-4-4-4-12 or 32 hex digits.

Deviations from ClickHouse (checked by tests/test_convert.py against chDB):

- lenient on purpose, for the Python API: integral floats (``1.0``) into integer columns, the
  Bool text spellings above, a datetime string into Date/Date32 (keeps the date part),
  ``'1700000000.5'`` into DateTime; ``datetime``/``date``/``Decimal``/``UUID`` objects;
- stricter: a Date32 day number beyond Int32 and a 1-2 digit date/time string (ClickHouse
  reads "day N of the current month") are errors;
- non-string JSON values stored into String are re-serialized compactly by orjson
  (ClickHouse keeps the raw text: ``[3, 4]``, ``1e-07``), and JSON integers beyond 64 bits
  arrive as floats (orjson), so they lose precision before wrapping.

Every function is pure: it returns a new column/Block or raises ConversionError naming the
column, the 0-based row and the value; nothing is modified on failure.

Conversion is column-wise: values of one column are gathered with a comprehension, then turned
into a numpy array in one shot (``np.array`` for numbers and datetime objects, one joined
buffer for strings, numpy's datetime64 parser after a shape check on an (n, width) byte matrix
for fixed-shape date/time text); only values that the fast path rejects go through the
per-value parser, which also finds the row to name in an error. Rows whose every key is present
are gathered with ``map(itemgetter(name), rows)``; batches of <= 4 values (single-event Events API
requests) skip numpy's per-call setup and use the scalar parsers. NDJSON bodies skip even the
dicts: ``fast_ndjson_block`` reads flat objects with a numba byte scanner (``kernels/ndjson.py``)
into value spans per column and builds the columns from the bytes; ``one_row_block`` builds a
single event's one-row columns straight from its orjson dict. Both give exactly the general
path's block or decline (None), and the general path runs. Measure with
``PYTHONPATH=. python bench/bench_convert_events.py --baseline <git rev>``.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import email.utils
import itertools
import math
import operator
import re
import threading
import uuid
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np
import orjson

from mergetree import types as T
from mergetree.column import (ArrayColumn, Block, Column, FixedColumn, LowCardinalityColumn,
                              NullableColumn, StringColumn, default_column)
from mergetree.errors import ConversionError

_MISSING = object()
#: batches up to this many values take the scalar parsers (numpy's per-call setup dominates)
_SMALL_BATCH = 4
_DATETIME_MAX = 0xFFFFFFFF
_DATE_MAX = 0xFFFF
# re.ASCII everywhere: Python's \d also matches other scripts' digits, ClickHouse reads only 0-9
_INT_RE = re.compile(r"[+-]?\d+\Z", re.ASCII)
_INT_CHARS_RE = re.compile(r"[0-9+-]*\Z")
_FLOAT_CHARS_RE = re.compile(r"[0-9.eE+-]*\Z")
_FLOAT_RE = re.compile(r"[+-]?(\d+\.?\d*(e[+-]?\d+)?|\.\d+(e[+-]?\d+)?|inf|infinity|nan)\Z",
                       re.IGNORECASE | re.ASCII)
_DECIMAL_RE = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?\Z", re.IGNORECASE | re.ASCII)
_NUMERIC_RE = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)\Z", re.ASCII)
_DATE_RE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})\Z|(\d{4})(\d{2})(\d{2})\Z", re.ASCII)
_DATETIME_RE = re.compile(
    r"(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?"
    r"\s*(Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?\Z", re.IGNORECASE | re.ASCII)
_TRUE = {"true", "1", "yes", "on", "t", "y", "enable", "enabled"}
_FALSE = {"false", "0", "no", "off", "f", "n", "disable", "disabled"}


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 100 else text[:97] + "..."


def _fail(t: T.DataType, value, detail: str = "", code: str = "CANNOT_PARSE_INPUT") -> ConversionError:
    reason = f"Cannot parse {_short(value)} as {t}" + (f": {detail}" if detail else "")
    return ConversionError(None, None, value, reason, code)


# --------------------------------------------------------------------------- calendar math


def days_from_civil(y, m, d):
    """Days since 1970-01-01 of a proleptic Gregorian date; works on ints and numpy arrays.

    Month/day overflow rolls over (day 30 of February is March 1st/2nd) like ClickHouse.
    """
    y = y - (m <= 2)
    era = (y if not isinstance(y, np.ndarray) else y.astype(np.int64)) // 400
    yoe = y - era * 400
    mp = (m + 9) % 12
    doy = (153 * mp + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _local_to_utc_seconds(local: np.ndarray, tz: str | None) -> np.ndarray:
    """Seconds of a wall-clock time in ``tz`` (given as if it were UTC) -> true unix seconds."""
    if tz is None or tz == "UTC" or len(local) == 0:
        return local
    tzinfo = T.get_tzinfo(tz)
    # zone transitions fall on quarter hours: one zoneinfo lookup per distinct quarter hour
    quarters, inverse = np.unique(local // 900, return_inverse=True)
    offsets = np.empty(len(quarters), np.int64)
    for i, q in enumerate(quarters.tolist()):
        wall = _dt.datetime(1970, 1, 1) + _dt.timedelta(seconds=q * 900)
        offsets[i] = int(wall.replace(tzinfo=tzinfo).utcoffset().total_seconds())
    return local - offsets[inverse.reshape(-1)]


# --------------------------------------------------------------------------- scalar parsers
# Each returns the *physical* value (int for numbers/dates, float, bytes for strings).


def _parse_int(t: T.IntType, v) -> int:
    if isinstance(v, bool):
        x = int(v)
    elif isinstance(v, int):
        x = v
    elif isinstance(v, float):
        if not v.is_integer():
            raise _fail(t, v, "not an integer")
        x = int(v)
    elif isinstance(v, (str, bytes)):
        s = v.decode() if isinstance(v, bytes) else v
        if s == "":
            return 0
        if not _INT_RE.match(s):
            raise _fail(t, v)
        x = int(s)
    elif isinstance(v, (np.integer, np.floating, np.bool_)):
        return _parse_int(t, v.item())
    elif isinstance(v, decimal.Decimal) and v == v.to_integral_value():
        x = int(v)
    else:
        raise _fail(t, v)
    if not t.signed:
        negative = x < 0 or (isinstance(v, float) and math.copysign(1.0, v) < 0) or \
            (isinstance(v, (str, bytes)) and v[:1] in ("-", b"-"))
        if negative:  # ClickHouse rejects the '-' sign itself, even in -0
            raise _fail(t, v, "Unsigned type must not contain '-' symbol")
        return x & t.max_value
    half = 1 << (t.bits - 1)
    return ((x + half) % (1 << t.bits)) - half


def _parse_float(t: T.FloatType, v) -> float:
    if isinstance(v, (bool, int, float, np.integer, np.floating, np.bool_, decimal.Decimal)):
        try:
            return float(v)
        except OverflowError:  # an integer beyond the float range
            return float("inf") if v > 0 else float("-inf")
    if isinstance(v, (str, bytes)):
        s = v.decode() if isinstance(v, bytes) else v
        if _FLOAT_RE.match(s):
            return float(s)
    raise _fail(t, v, code="CANNOT_PARSE_NUMBER")


def _parse_bool(t: T.BoolType, v) -> int:
    if isinstance(v, (bool, np.bool_)):
        return int(v)
    if isinstance(v, (int, float, np.integer, np.floating)) and v in (0, 1):
        return int(v)
    if isinstance(v, (str, bytes)):
        s = (v.decode() if isinstance(v, bytes) else v).lower()
        if s in _TRUE:
            return 1
        if s in _FALSE:
            return 0
    raise _fail(t, v, "Invalid boolean value, should be true/false, 1/0", code="CANNOT_PARSE_BOOL")


def _plain_decimal_scaled(text: str, scale: int) -> int | None:
    """[+-]digits[.digits] -> integer scaled by 10^scale, truncated toward zero; None otherwise.

    A fast path that skips the decimal module for the common plain notation."""
    sign = 1
    if text[:1] in ("-", "+"):
        sign = -1 if text[0] == "-" else 1
        text = text[1:]
    whole, _, frac = text.partition(".")
    if not (whole or frac) or not text.isascii() or (whole and not whole.isdigit()) or \
            (frac and not frac.isdigit()):
        return None
    return sign * int((whole or "0") + frac[:scale].ljust(scale, "0"))


def _parse_decimal(t: T.DecimalType, v) -> int:
    if isinstance(v, bool):
        raise _fail(t, v)
    if type(v) is str or type(v) is float:
        text = repr(v) if type(v) is float else v
        scaled = _plain_decimal_scaled(text, t.scale) if text else 0
        if scaled is not None:
            if abs(scaled) > t.max_abs_scaled:
                raise _fail(t, v, f"Decimal value is too big for precision {t.precision} and scale {t.scale}",
                            code="ARGUMENT_OUT_OF_BOUND")
            return scaled
    if isinstance(v, int):
        d = decimal.Decimal(v)
    elif isinstance(v, float):
        if v != v or v in (float("inf"), float("-inf")):
            raise _fail(t, v)
        d = decimal.Decimal(repr(v))
    elif isinstance(v, decimal.Decimal):
        if not v.is_finite():
            raise _fail(t, v)
        d = v
    elif isinstance(v, (str, bytes)):
        s = v.decode() if isinstance(v, bytes) else v
        if s == "":
            return 0
        if not _DECIMAL_RE.match(s):
            raise _fail(t, v)
        d = decimal.Decimal(s)
    elif isinstance(v, (np.integer, np.floating)):
        return _parse_decimal(t, v.item())
    else:
        raise _fail(t, v)
    with decimal.localcontext() as ctx:
        ctx.prec = 60
        scaled = int((d * t.multiplier).to_integral_value(rounding=decimal.ROUND_DOWN))
    if abs(scaled) > t.max_abs_scaled:
        raise _fail(t, v, f"Decimal value is too big for precision {t.precision} and scale {t.scale}",
                    code="ARGUMENT_OUT_OF_BOUND")
    return scaled


def _parse_date_parts(t, v, s: str) -> int:
    m = _DATE_RE.match(s)
    if m:
        g = m.groups()
        y, mo, d = (g[0], g[1], g[2]) if g[0] else (g[3], g[4], g[5])
        y, mo, d = int(y), int(mo), int(d)
        if 1 <= mo <= 12 and 1 <= d <= 31:
            return days_from_civil(y, mo, d)
        raise _fail(t, v, "expected a date in the YYYY-MM-DD or YYYYMMDD format", "CANNOT_PARSE_DATE")
    if _NUMERIC_RE.match(s):  # '19000' is not a date (a JSON number 19000 is a day number)
        raise _fail(t, v, "expected a date in the YYYY-MM-DD or YYYYMMDD format", "CANNOT_PARSE_DATE")
    try:  # lenient: a datetime string keeps its date part
        seconds = _parse_datetime_text(t, v, s, None, 0)
    except ConversionError:
        raise _fail(t, v, "expected a date in the YYYY-MM-DD or YYYYMMDD format", "CANNOT_PARSE_DATE") from None
    return seconds // 86400


def _parse_days(t, v) -> int:
    """Date / Date32 value -> days since the epoch (not clamped)."""
    if isinstance(v, _dt.datetime):
        return (v.date() - T.EPOCH_DATE).days
    if isinstance(v, _dt.date):
        return (v - T.EPOCH_DATE).days
    if isinstance(v, (bool, int, np.integer)):  # a day number (true/false are 1/0)
        return int(v)
    if isinstance(v, (str, bytes)):
        s = v.decode() if isinstance(v, bytes) else v
        return _parse_date_parts(t, v, s.strip())
    if isinstance(v, np.datetime64):
        return int(v.astype("datetime64[D]").astype(np.int64))
    raise _fail(t, v, code="CANNOT_PARSE_DATE")


def _parse_date(t: T.DateType, v) -> int:
    if isinstance(v, (bool, int, np.integer)):
        # a day number is read as a UInt16, like ClickHouse: '-' is an error, big values wrap
        if v < 0:
            raise _fail(t, v, "Unsigned type must not contain '-' symbol", "CANNOT_PARSE_DATE")
        return int(v) & _DATE_MAX
    return min(max(_parse_days(t, v), 0), _DATE_MAX)


def _parse_date32(t: T.Date32Type, v) -> int:
    days = _parse_days(t, v)
    if not -(1 << 31) <= days < (1 << 31):
        raise _fail(t, v, "out of range", "CANNOT_PARSE_DATE")
    return days


def _parse_datetime_text(t, v, s: str, tz: str | None, precision: int) -> int:
    """Date/time text -> ticks (10^-precision s) since the epoch, UTC."""
    m = _DATETIME_RE.match(s)
    scale = 10 ** precision
    if m:
        y, mo, d, hh, mi, ss, frac, zone = m.groups()
        y, mo, d = int(y), int(mo), int(d)
        if not (1 <= mo <= 12 and 1 <= d <= 31):
            raise _fail(t, v, code="CANNOT_PARSE_DATETIME")
        hh, mi, ss = int(hh or 0), int(mi or 0), int(ss or 0)
        if hh > 23 or mi > 59 or ss > 59:
            raise _fail(t, v, code="CANNOT_PARSE_DATETIME")
        seconds = days_from_civil(y, mo, d) * 86400 + hh * 3600 + mi * 60 + ss
        if zone is None:
            seconds = int(_local_to_utc_seconds(np.array([seconds], np.int64), tz)[0])
        elif zone.upper() not in ("Z", "UTC", "GMT"):
            sign = -1 if zone[0] == "-" else 1
            digits = zone[1:].replace(":", "")
            offset = int(digits[:2]) * 3600 + (int(digits[2:4]) * 60 if len(digits) > 2 else 0)
            seconds -= sign * offset
        ticks = seconds * scale
        if frac and precision:
            ticks += int(frac[:precision].ljust(precision, "0"))
        return ticks
    if s.isdigit() and s.isascii():
        return _digits_to_ticks(t, v, s, tz, precision)
    if _NUMERIC_RE.match(s) and s[0] not in "+-":
        # '1700000000.5': unix seconds with a fraction; ClickHouse wants a 9-10 digit integer part
        digits = len(s.partition(".")[0])
        if digits not in (9, 10):
            raise _fail(t, v, f"unexpected number of decimal digits: {digits}", "CANNOT_PARSE_DATETIME")
        return _numeric_to_ticks(t, v, decimal.Decimal(s), precision)
    try:
        parsed = email.utils.parsedate_to_datetime(s)
    except (TypeError, ValueError, IndexError):
        raise _fail(t, v, code="CANNOT_PARSE_DATETIME") from None
    return _datetime_to_ticks(parsed, tz, precision)


def _digits_to_ticks(t, v, s: str, tz: str | None, precision: int) -> int:
    """An all-digit string, read by length like ClickHouse's best-effort parser.

    4 = YYYY, 6 = YYYYMM, 8 = YYYYMMDD, 14 = YYYYMMDDhhmmss (wall time in tz); 9-10 = unix
    seconds; 13 / 16 / 19 = unix milli- / micro- / nanoseconds; other lengths are errors.
    """
    n = len(s)
    scale = 10 ** precision
    if n in (4, 6, 8, 14):
        y = int(s[:4])
        mo = max(int(s[4:6]), 1) if n > 4 else 1
        d = max(int(s[6:8]), 1) if n > 6 else 1
        hh, mi, ss = (int(s[8:10]), int(s[10:12]), int(s[12:14])) if n == 14 else (0, 0, 0)
        if mo > 12 or d > 31 or hh > 23 or mi > 59 or ss > 59:
            raise _fail(t, v, code="CANNOT_PARSE_DATETIME")
        local = days_from_civil(y, mo, d) * 86400 + hh * 3600 + mi * 60 + ss
        return int(_local_to_utc_seconds(np.array([local], np.int64), tz)[0]) * scale
    if n in (9, 10):
        return int(s) * scale
    if n in (13, 16, 19):
        seconds, frac = int(s[:10]), s[10:]
        return seconds * scale + (int(frac[:precision].ljust(precision, "0")) if precision else 0)
    raise _fail(t, v, f"unexpected number of decimal digits: {n}", "CANNOT_PARSE_DATETIME")


def _numeric_to_ticks(t, v, number, precision: int) -> int:
    """Unix seconds (int, float, Decimal) -> ticks, truncated toward -inf at the precision."""
    scale = 10 ** precision
    if isinstance(number, int):
        return number * scale
    if isinstance(number, float):
        if number != number or number in (float("inf"), float("-inf")):
            raise _fail(t, v, code="CANNOT_PARSE_DATETIME")
        number = decimal.Decimal(repr(number))
    with decimal.localcontext() as ctx:
        ctx.prec = 60
        # toward zero, like ClickHouse: -1.0000005 s at precision 6 is -1.000000 s
        return int((number * scale).to_integral_value(rounding=decimal.ROUND_DOWN))


def _datetime_to_ticks(value: _dt.datetime, tz: str | None, precision: int) -> int:
    if value.tzinfo is None:
        value = value.replace(tzinfo=T.get_tzinfo(tz))
    delta = value - _dt.datetime(1970, 1, 1, tzinfo=T.UTC)
    micros = (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds
    if precision >= 6:
        return micros * 10 ** (precision - 6)
    return micros // 10 ** (6 - precision)


def _parse_ticks(t, v, tz: str | None, precision: int) -> int:
    if isinstance(v, _dt.datetime):
        return _datetime_to_ticks(v, tz, precision)
    if isinstance(v, _dt.date):
        return _datetime_to_ticks(_dt.datetime(v.year, v.month, v.day), tz, precision)
    if isinstance(v, bool):
        raise _fail(t, v, code="CANNOT_PARSE_DATETIME")
    if isinstance(v, (int, float, decimal.Decimal)):
        return _numeric_to_ticks(t, v, v, precision)
    if isinstance(v, (np.integer, np.floating)):
        return _numeric_to_ticks(t, v, v.item(), precision)
    if isinstance(v, (str, bytes)):
        s = v.decode() if isinstance(v, bytes) else v
        return _parse_datetime_text(t, v, s.strip(), tz, precision)
    if isinstance(v, np.datetime64):
        return _datetime_to_ticks(v.astype("datetime64[us]").item(), "UTC", precision)
    raise _fail(t, v, code="CANNOT_PARSE_DATETIME")


def _parse_datetime(t: T.DateTimeType, v) -> int:
    return min(max(_parse_ticks(t, v, t.timezone, 0), 0), _DATETIME_MAX)


def _parse_datetime64(t: T.DateTime64Type, v) -> int:
    ticks = _parse_ticks(t, v, t.timezone, t.precision)
    if not -(1 << 63) <= ticks < (1 << 63):
        raise _fail(t, v, "out of range", "CANNOT_PARSE_DATETIME")
    return ticks


def _parse_uuid(t: T.UUIDType, v) -> int:
    if isinstance(v, uuid.UUID):
        return v.int
    if isinstance(v, (str, bytes)):
        s = v.decode() if isinstance(v, bytes) else v
        if len(s) in (32, 36):
            hexdigits = s.replace("-", "") if len(s) == 36 and s[8] == s[13] == s[18] == s[23] == "-" else s
            if len(hexdigits) == 32:
                try:
                    return int(hexdigits, 16)
                except ValueError:
                    pass
    raise _fail(t, v, "expected 8-4-4-4-12 or 32 hexadecimal digits", "CANNOT_PARSE_UUID")


def _json_float_text(v: float) -> str:
    """A JSON number as text (``1e20``, ``-0.0``, ``1.5``): Python's shortest repr with JSON's exponent
    spelling, independent of the orjson version (whose float output changed between releases)."""
    text = repr(v)
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}e{int(exponent)}"
    return text


def _to_string_bytes(v) -> bytes:
    tv = type(v)
    if tv is dict or tv is list:  # JSON objects/arrays are stored as compact JSON text
        try:
            return orjson.dumps(v)
        except TypeError:
            pass
    if isinstance(v, str):
        try:
            return v.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError as exc:
            raise _fail(T.String, v, f"not encodable as UTF-8 ({exc.reason})") from None
    if isinstance(v, (bytes, bytearray, memoryview)):
        return bytes(v)
    if isinstance(v, bool):
        return b"true" if v else b"false"
    if isinstance(v, int):
        return str(v).encode()
    if isinstance(v, float):
        return _json_float_text(v).encode() if v == v and v not in (float("inf"), float("-inf")) else \
            T.format_float(v).encode()
    if isinstance(v, decimal.Decimal):
        return T.format_decimal(v).encode()
    if isinstance(v, _dt.datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S").encode()
    if isinstance(v, _dt.date):
        return v.isoformat().encode()
    if isinstance(v, uuid.UUID):
        return str(v).encode()
    if isinstance(v, (np.generic,)):
        return _to_string_bytes(v.item())
    try:
        return orjson.dumps(v, option=orjson.OPT_SERIALIZE_NUMPY)
    except TypeError:
        raise _fail(T.String, v) from None


def _per_value(t: T.DataType, values: list, parser: Callable) -> list:
    """Run a scalar parser on every value, attaching the row number to the first failure."""
    out = []
    append = out.append
    for i, v in enumerate(values):
        try:
            append(parser(t, v))
        except ConversionError as exc:
            raise exc.at(row=i) from None
    return out


# --------------------------------------------------------------------------- fast paths


def _text_matrix(strings: list[str], width: int) -> np.ndarray | None:
    """(n, width) uint8 matrix of equally long ASCII strings, or None."""
    joined = "".join(strings)
    if len(joined) != width * len(strings) or not joined.isascii():
        return None
    return np.frombuffer(joined.encode("ascii"), np.uint8).reshape(len(strings), width)


def _fast_datetime_strings(strings: list[str], precision: int) -> tuple[np.ndarray, bool] | None:
    """Vectorised parse of equally long 'YYYY-MM-DD' / 'YYYY-MM-DD[ T]hh:mm:ss[.fff][Z]' strings.

    The separators are checked on an (n, width) byte matrix; numpy's datetime64 parser reads
    the date/time part (and rejects bad digits or out-of-range fields); fraction digits are
    read from the matrix and truncated to ``precision``. Returns (ticks, is_utc): ticks of the
    wall-clock time (UTC when every string ends in 'Z'), or None when the group does not have
    exactly this shape (the caller then parses those values one by one).
    """
    return _fast_datetime_matrix(_text_matrix(strings, len(strings[0])), precision)


def _uniform_text_matrix(values: list) -> np.ndarray | None:
    """(n, width) uint8 matrix when every value is an ASCII str as long as the first, else None.

    One NUL-separated join replaces a pass over the types and one over the lengths: the lengths
    are all equal exactly when the separators fill the last column of an (n, width+1) matrix
    and no other byte is NUL.
    """
    n, width = len(values), len(values[0])
    try:
        joined = "\x00".join(values)
    except TypeError:
        return None
    if len(joined) != n * (width + 1) - 1 or not joined.isascii():
        return None
    mat = np.frombuffer((joined + "\x00").encode("ascii"), np.uint8).reshape(n, width + 1)
    if mat[:, width].any() or not mat[:, :width].all():
        return None
    return mat[:, :width]


def _fast_datetime_matrix(mat: np.ndarray | None, precision: int) -> tuple[np.ndarray, bool] | None:
    """_fast_datetime_strings on the (n, width) byte matrix of the strings."""
    if mat is None:
        return None
    n, width = mat.shape
    if width < 10 or 10 < width < 19:
        return None
    if not (((mat[:, 0] - 48) < 10).all() and (mat[:, 4] == 45).all() and (mat[:, 7] == 45).all()):
        return None
    scale = 10 ** precision
    ticks_frac = None
    utc = False
    if width == 10:
        head, unit, unit_scale = 10, "datetime64[D]", 86400
    else:
        sep = mat[:, 10]
        if not (((sep == 32) | (sep == 84)).all() and (mat[:, 13] == 58).all() and (mat[:, 16] == 58).all()):
            return None
        head, unit, unit_scale = 19, "datetime64[s]", 1
        rest = width - 19
        if rest and mat[0, width - 1] == 90:  # 'Z'
            if not (mat[:, width - 1] == 90).all():
                return None
            utc = True
            rest -= 1
        if rest:
            digits = mat[:, 20:19 + rest] - 48  # uint8: non-digits wrap to >= 10
            if rest < 2 or not (mat[:, 19] == 46).all() or not (digits < 10).all():
                return None
            use = min(rest - 1, precision)
            if use:
                weights = 10 ** np.arange(use - 1, -1, -1, dtype=np.int64)
                ticks_frac = (digits[:, :use].astype(np.int64) @ weights) * 10 ** (precision - use)
    try:
        main = np.ascontiguousarray(mat[:, :head]).view(f"S{head}").reshape(n).astype(unit)
    except ValueError:
        return None
    ticks = main.astype(np.int64) * (unit_scale * scale)
    if ticks_frac is not None:
        ticks += ticks_frac
    return ticks, utc


def _datetime_column_ticks(t, values: list, tz: str | None, precision: int) -> np.ndarray:
    """Ticks (int64, UTC) of DateTime/DateTime64 values, vectorised where the shape allows."""
    n = len(values)
    scale = 10 ** precision
    kind = type(values[0]) if n else None
    if kind is str and n <= _SMALL_BATCH:  # a few values: the scalar parser is cheaper than numpy's setup
        return _ticks_list_to_array(t, values, _per_value(t, values, lambda tt, v: _parse_ticks(tt, v, tz, precision)))
    if kind is str and n and values[0]:  # the common case: one shape, no per-row index
        parsed = _fast_datetime_matrix(_uniform_text_matrix(values), precision)
        if parsed is not None:
            ticks, utc = parsed
            if not utc:
                secs, frac = np.divmod(ticks, scale)
                ticks = _local_to_utc_seconds(secs, tz) * scale + frac
            return ticks
    same = _all_of_type(values, kind) if n else False
    if kind is int and same:
        arr = np.array(values)
        if arr.dtype.kind == "i" and (not precision or np.abs(arr).max() <= (2 ** 63 - 1) // scale):
            return arr.astype(np.int64) * scale
    if kind is _dt.datetime and same and all(v.tzinfo is None for v in values):
        micros = np.array(values, dtype="datetime64[us]").astype(np.int64)  # naive = wall time in tz
        secs, frac = np.divmod(micros, 1_000_000)
        frac = frac // 10 ** (6 - precision) if precision <= 6 else frac * 10 ** (precision - 6)
        return _local_to_utc_seconds(secs, tz) * scale + frac
    if kind is _dt.date and same:
        days = np.array(values, dtype="datetime64[D]").astype(np.int64)
        return _local_to_utc_seconds(days * 86400, tz) * scale
    if kind is str and same:
        widths = set(map(len, values))
        lengths = np.fromiter(map(len, values), np.int64, n)
        out = np.empty(n, np.int64)
        done = np.zeros(n, bool)
        for width in sorted(widths):
            idx = np.flatnonzero(lengths == width)
            group = [values[i] for i in idx.tolist()] if len(idx) != n else values
            parsed = _fast_datetime_strings(group, precision) if width else None
            if parsed is None:
                continue
            ticks, utc = parsed
            if not utc:
                secs, frac = np.divmod(ticks, scale)
                ticks = _local_to_utc_seconds(secs, tz) * scale + frac
            out[idx] = ticks
            done[idx] = True
        if done.all():
            return out
        rest = np.flatnonzero(~done)
        slow = _per_value_rows(t, values, rest, lambda tt, v: _parse_ticks(tt, v, tz, precision))
        out[rest] = _ticks_list_to_array(t, [values[i] for i in rest.tolist()], slow, rest)
        return out
    ticks = _per_value(t, values, lambda tt, v: _parse_ticks(tt, v, tz, precision))
    return _ticks_list_to_array(t, values, ticks)


def _ticks_list_to_array(t, values, ticks: list, rows: np.ndarray | None = None) -> np.ndarray:
    """int64 array of parsed ticks; a DateTime saturates, a DateTime64 beyond int64 is an error."""
    if isinstance(t, T.DateTimeType):
        return np.array([min(max(x, 0), _DATETIME_MAX) for x in ticks], dtype=np.int64)
    try:
        return np.array(ticks, dtype=np.int64)
    except OverflowError:
        for i, x in enumerate(ticks):
            if not -(1 << 63) <= x < (1 << 63):
                row = i if rows is None else int(rows[i])
                raise _fail(t, values[i], "out of range", "CANNOT_PARSE_DATETIME").at(row=row) from None
        raise


def _per_value_rows(t, values: list, rows: np.ndarray, parser: Callable) -> list:
    out = []
    for i in rows.tolist():
        try:
            out.append(parser(t, values[i]))
        except ConversionError as exc:
            raise exc.at(row=i) from None
    return out


def _fast_date_days(t, values: list) -> np.ndarray:
    n = len(values)
    if n and all(type(v) is str for v in values) and all(len(v) == 10 for v in values):
        parsed = _fast_datetime_strings(values, 0)
        if parsed is not None:
            return parsed[0] // 86400
    if n and all(type(v) is int for v in values):
        arr = np.array(values)
        if arr.dtype.kind == "i":
            return arr.astype(np.int64)
    parser = _parse_date32 if isinstance(t, T.Date32Type) else _parse_days  # range-checked for Date32
    return np.array(_per_value(t, values, parser), dtype=np.int64)


# --------------------------------------------------------------------------- column builders


def _has_minus(values: list, arr: np.ndarray, kinds: set) -> bool:
    """Whether any input value carries a '-' sign (ClickHouse rejects it for unsigned types)."""
    if (arr < 0).any():
        return True
    if float in kinds and np.signbit(np.array(values, dtype=np.float64)).any():  # -0.0
        return True
    return str in kinds and any(v[:1] == "-" for v in values)


def _ints_column(t: T.IntType, values: list) -> np.ndarray:
    """Integers column: one numpy conversion for homogeneous input, per value otherwise.

    Wrap-around (300 -> 44 in UInt8) comes from the C cast, like ClickHouse's.
    """
    kinds = set(map(type, values))
    arr = None
    if kinds <= {int, bool}:
        for dtype in (np.int64, np.uint64):
            try:
                arr = np.array(values, dtype=dtype)
                break
            except OverflowError:  # beyond int64 (or negative into uint64)
                continue
    elif kinds <= {float, int, bool}:
        floats = np.array(values, dtype=np.float64)
        if np.isfinite(floats).all() and (floats == np.trunc(floats)).all() and \
                np.abs(floats).max(initial=0) < 2.0 ** 53:
            arr = floats.astype(np.int64)
    elif kinds == {str}:
        if _INT_CHARS_RE.match("".join(values)):  # numpy's cast alone also takes ' 1', '1_0', '\u0663'
            try:
                arr = np.array(values).astype(np.int64)
            except (ValueError, OverflowError):
                arr = None
    if arr is not None and (t.signed or arr.dtype.kind == "u" or not _has_minus(values, arr, kinds)):
        return arr.astype(t.dtype)
    parsed = _per_value(t, values, _parse_int)  # exact rules, and the row of the first error
    return np.array(parsed, dtype=np.int64 if t.signed else np.uint64).astype(t.dtype)


def _floats_column(t: T.FloatType, values: list) -> np.ndarray:
    kinds = set(map(type, values))
    with np.errstate(over="ignore"):  # Float32 overflow is inf, as in ClickHouse
        if kinds <= {float, int, bool}:
            try:
                return np.array(values, dtype=np.float64).astype(t.dtype)
            except OverflowError:  # an int beyond the float range: per value gives +-inf
                pass
        elif kinds == {str} and _FLOAT_CHARS_RE.match("".join(values)):
            try:  # plain decimal/exponent text; nan/inf/odd spellings go through the parser
                return np.array(values).astype(np.float64).astype(t.dtype)
            except ValueError:
                pass
        parsed = np.array(_per_value(t, values, _parse_float), dtype=np.float64)
        return parsed.astype(t.dtype)


def _fixed_values(t: T.DataType, values: list) -> np.ndarray:
    if isinstance(t, T.IntType):
        return _ints_column(t, values)
    if isinstance(t, T.FloatType):
        return _floats_column(t, values)
    if isinstance(t, T.BoolType):
        if values and all(type(v) is bool for v in values):
            return np.array(values, dtype=np.uint8)
        return np.array(_per_value(t, values, _parse_bool), dtype=np.uint8)
    if isinstance(t, T.DateType):
        if values and all(type(v) is str for v in values):
            return np.clip(_fast_date_days(t, values), 0, _DATE_MAX).astype(np.uint16)
        return np.array(_per_value(t, values, _parse_date), dtype=np.uint16)
    if isinstance(t, T.Date32Type):
        days = _fast_date_days(t, values)
        bad = np.flatnonzero((days < -(1 << 31)) | (days >= (1 << 31)))
        if len(bad):
            raise _fail(t, values[bad[0]], "out of range", "CANNOT_PARSE_DATE").at(row=int(bad[0]))
        return days.astype(np.int32)
    if isinstance(t, T.DateTimeType):
        ticks = _datetime_column_ticks(t, values, t.timezone, 0)
        return np.minimum(np.maximum(ticks, 0), _DATETIME_MAX).astype(np.uint32)  # ufuncs: no np.clip overhead
    if isinstance(t, T.DateTime64Type):
        return _datetime_column_ticks(t, values, t.timezone, t.precision)
    if isinstance(t, T.DecimalType):
        if values and all(type(v) is int for v in values):
            arr = np.array(values)
            if arr.dtype.kind == "i" and (np.abs(arr) <= t.max_abs_scaled // t.multiplier).all():
                return (arr.astype(np.int64) * t.multiplier).astype(t.dtype)
        return np.array(_per_value(t, values, _parse_decimal), dtype=np.int64).astype(t.dtype)
    if isinstance(t, T.UUIDType):
        ints = _per_value(t, values, _parse_uuid)
        out = np.empty((len(values), 2), np.uint64)
        out[:, 0] = np.array([x >> 64 for x in ints], dtype=np.uint64)
        out[:, 1] = np.array([x & 0xFFFFFFFFFFFFFFFF for x in ints], dtype=np.uint64)
        return out
    if isinstance(t, T.FixedStringType):
        return _fixed_strings(t, values)
    raise ConversionError(None, None, None, f"Cannot convert values to {t}")  # pragma: no cover


def _fixed_strings(t: T.FixedStringType, values: list) -> np.ndarray:
    n, width = len(values), t.length
    out = np.zeros((n, width), np.uint8)
    encoded = []
    for i, v in enumerate(values):
        if not isinstance(v, (str, bytes, bytearray)):  # ClickHouse: "expected opening quote"
            raise _fail(t, v, "expected a string").at(row=i)
        try:
            b = _to_string_bytes(v)
        except ConversionError as exc:
            raise exc.at(row=i) from None
        if len(b) > width:
            raise _fail(t, v, f"Too large value for {t}", "TOO_LARGE_STRING_SIZE").at(row=i)
        encoded.append(b.ljust(width, b"\0"))
    if n:
        out[:] = np.frombuffer(b"".join(encoded), np.uint8).reshape(n, width)
    return out


def strings_to_column(values: list, joined: str | None = None) -> StringColumn:
    """StringColumn from str/bytes/other values (non-strings stored as their JSON text).

    ``joined`` is ``"".join(values)`` when the caller already has it.
    """
    n = len(values)
    if n <= _SMALL_BATCH and _all_of_type(values, str):  # a few strings: plain Python is cheaper
        try:
            encoded = [s.encode("utf-8", "surrogateescape") for s in values]
        except UnicodeEncodeError:
            pass
        else:
            return StringColumn(T.String, np.array((0, *itertools.accumulate(map(len, encoded))), np.int64),
                                np.frombuffer(b"".join(encoded), np.uint8))
    offsets = np.empty(n + 1, np.int64)
    offsets[0] = 0
    if joined is None:
        try:
            joined = "".join(values)
        except TypeError:
            pass
    if joined is not None:
        if joined.isascii():
            np.cumsum(np.fromiter(map(len, values), np.int64, n), out=offsets[1:])
            return StringColumn(T.String, offsets, np.frombuffer(joined.encode("ascii"), np.uint8))
        try:
            encoded = [s.encode("utf-8", "surrogateescape") for s in values]
        except UnicodeEncodeError:
            encoded = None
    if joined is None or encoded is None:
        encoded = []
        for i, v in enumerate(values):
            try:
                encoded.append(_to_string_bytes(v))
            except ConversionError as exc:
                raise exc.at(row=i) from None
    np.cumsum(np.fromiter(map(len, encoded), np.int64, n), out=offsets[1:])
    return StringColumn(T.String, offsets, np.frombuffer(b"".join(encoded), np.uint8))


def _has_none(values: list) -> bool:
    try:
        return None in values  # C-speed scan; elements compared with == after an identity check
    except (ValueError, TypeError):  # an element (numpy array) with an ambiguous ==
        return any(v is None for v in values)


def _nulls_of(values: list, text: bool) -> np.ndarray:
    if text:
        return np.fromiter((v is None or v == "\\N" for v in values), np.bool_, len(values))
    return np.fromiter((v is None for v in values), np.bool_, len(values))


def values_to_column(t: T.DataType, values: list, column: str | None = None, *, text: bool = False) -> Column:
    """Convert a list of Python/JSON values to a column of type t.

    None is NULL in a Nullable column and the type default elsewhere. With ``text=True``
    the values are TSV/CSV field texts: ``\\N`` is NULL too, and strings are not JSON.
    Raises ConversionError naming ``column``, the 0-based row and the value.
    """
    try:
        return _convert(t, values, text)
    except ConversionError as exc:
        raise exc.at(column=column) if column is not None else exc from None


def _convert(t: T.DataType, values: list, text: bool) -> Column:
    if isinstance(t, T.NullableType):
        nulls = _nulls_of(values, text)
        if nulls.any():
            default = t.inner.default
            values = [default if isnull else v for v, isnull in zip(values, nulls.tolist())]
        return NullableColumn(t, _convert(t.inner, values, text), nulls)
    if isinstance(t, T.LowCardinalityType):
        return LowCardinalityColumn.encode(t, _convert(t.inner, values, text))
    # non-Nullable: None (and \N in text) -> type default
    if text and "\\N" in values:
        values = [None if v == "\\N" else v for v in values]
    if isinstance(t, T.StringType) and len(values) > _SMALL_BATCH:
        try:  # all strings (the usual case): no None to look for, and the join is reused
            return strings_to_column(values, "".join(values))
        except TypeError:
            pass
    if _has_none(values):
        default = t.default
        values = [default if v is None else v for v in values]
    if isinstance(t, T.StringType):
        return strings_to_column(values)
    if isinstance(t, T.ArrayType):
        return _array_column(t, values, text)
    if isinstance(t, T.TupleType):
        return _tuple_column(t, values, text)
    if isinstance(t, T.MapType):
        return _map_column(t, values, text)
    return FixedColumn(t, _fixed_values(t, values))


def _literal_text(t, v, what: str, row: int):
    """A tuple / map value given as text (``(1,'a')``, ``{'a':1}``) -> Python value."""
    from sqlparse_ch import parse_expr

    try:
        if what == "map":
            e = parse_expr("map(" + v.strip()[1:-1].replace(":", ",") + ")") if v.strip().startswith("{") else None
        else:
            e = parse_expr(v)
        from mergetree.exec.expression import evaluate_constant

        value, _ = evaluate_constant(e)
        return value
    except Exception:
        raise _fail(t, v, f"cannot parse {what} text").at(row=row) from None


def _tuple_column(t: T.TupleType, values: list, text: bool):
    from mergetree.column import TupleColumn

    k = len(t.elements)
    rows = []
    for i, v in enumerate(values):
        if text and isinstance(v, str):
            v = _literal_text(t, v, "tuple", i)
        if isinstance(v, dict) and t.names:
            v = tuple(v.get(name) for name in t.names)
        if not isinstance(v, (list, tuple)) or len(v) != k:
            raise _fail(t, v, f"expected a tuple of {k} elements").at(row=i)
        rows.append(v)
    cols = [_convert(et, [r[j] for r in rows], False) for j, et in enumerate(t.elements)]
    return TupleColumn(t, cols, len(rows))


def _map_column(t: T.MapType, values: list, text: bool):
    from mergetree.column import MapColumn

    keys, vals, lengths = [], [], []
    for i, v in enumerate(values):
        if text and isinstance(v, str):
            v = _literal_text(t, v, "map", i)
        if isinstance(v, (list, tuple)) and all(isinstance(x, (list, tuple)) and len(x) == 2 for x in v):
            v = dict(v)
        if not isinstance(v, dict):
            raise _fail(t, v, "expected a JSON object").at(row=i)
        keys.extend(v.keys())
        vals.extend(v.values())
        lengths.append(len(v))
    offsets = np.zeros(len(lengths) + 1, np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return MapColumn(t, offsets, _convert(t.key, keys, False), _convert(t.value, vals, False))


def _array_column(t: T.ArrayType, values: list, text: bool) -> ArrayColumn:
    lists = []
    for i, v in enumerate(values):
        if isinstance(v, (list, tuple)):
            lists.append(v)
        elif isinstance(v, np.ndarray) and v.ndim == 1:
            lists.append(v.tolist())
        elif text and isinstance(v, str):
            try:
                lists.append(_parse_text_array(v))
            except ValueError:
                raise _fail(t, v, "Array does not start with '[' character").at(row=i) from None
        else:
            raise _fail(t, v, "expected a JSON array").at(row=i)
    lengths = np.fromiter(map(len, lists), np.int64, len(lists))
    offsets = np.zeros(len(lists) + 1, np.int64)
    np.cumsum(lengths, out=offsets[1:])
    flat = [x for lst in lists for x in lst]
    try:
        inner = _convert(t.inner, flat, False)
    except ConversionError as exc:
        row = int(np.searchsorted(offsets, exc.row, side="right") - 1) if exc.row is not None else None
        raise ConversionError(None, row, exc.value, exc.reason + f" (array element {exc.row - offsets[row]})"
                              if row is not None else exc.reason, exc.code) from None
    return ArrayColumn(t, offsets, inner)


def _parse_text_array(text: str) -> list:
    """TSV-style array text ``[1,2]`` / ``['a','b']`` -> list (quotes converted to JSON)."""
    s = text.strip()
    if not s.startswith("["):
        raise ValueError(text)
    try:
        return orjson.loads(s)
    except orjson.JSONDecodeError:
        pass
    # minimal tokenizer for ['a','b\'c',NULL,1]
    i = 1
    items: list = []
    token = ""
    quoted = False
    while i < len(s):
        c = s[i]
        if quoted:
            if c == "\\" and i + 1 < len(s):
                token += s[i + 1]
                i += 2
                continue
            if c == "'":
                quoted = False
                items.append(token)
                token = ""
            else:
                token += c
        elif c == "'":
            quoted = True
        elif c in ",]":
            tok = token.strip()
            if tok:
                items.append(None if tok == "NULL" else orjson.loads(tok))
            token = ""
        else:
            token += c
        i += 1
    return items


def numpy_to_column(t: T.DataType, array: np.ndarray, column: str | None = None) -> Column:
    """Convert a numpy array (numbers, bools, datetime64, 'U'/'S' strings) to a column."""
    arr = np.asarray(array)
    base = t.inner if isinstance(t, (T.NullableType, T.LowCardinalityType)) else t
    try:
        if isinstance(t, T.NullableType) and arr.dtype.kind == "f" and not isinstance(base, T.FloatType):
            nulls = np.isnan(arr)
            inner = numpy_to_column(t.inner, np.where(nulls, 0, arr), column)
            return NullableColumn(t, inner, nulls)
        if isinstance(t, T.NullableType):
            return NullableColumn(t, numpy_to_column(t.inner, arr, column), np.zeros(len(arr), np.bool_))
        if isinstance(t, T.LowCardinalityType):
            return LowCardinalityColumn.encode(t, numpy_to_column(t.inner, arr, column))
        kind = arr.dtype.kind
        if kind == "O":
            return values_to_column(t, arr.tolist(), column)
        if kind == "M" and isinstance(t, (T.DateType, T.Date32Type, T.DateTimeType, T.DateTime64Type)):
            if isinstance(t, (T.DateType, T.Date32Type)):
                days = arr.astype("datetime64[D]").astype(np.int64)
                return FixedColumn(t, np.clip(days, 0, _DATE_MAX).astype(np.uint16) if isinstance(t, T.DateType)
                                   else days.astype(np.int32))
            if isinstance(t, T.DateTimeType):
                secs = arr.astype("datetime64[s]").astype(np.int64)
                return FixedColumn(t, np.clip(secs, 0, _DATETIME_MAX).astype(np.uint32))
            unit = {0: "s", 3: "ms", 6: "us", 9: "ns"}.get(t.precision)
            if unit:
                return FixedColumn(t, arr.astype(f"datetime64[{unit}]").astype(np.int64))
            us = arr.astype("datetime64[ns]").astype(np.int64)
            return FixedColumn(t, us // 10 ** (9 - t.precision))
        if isinstance(t, T.StringType):
            if kind in "US":
                return strings_to_column(arr.tolist())
            return values_to_column(t, arr.tolist(), column)
        if isinstance(t, T.IntType) and kind in "iub":
            if kind in "iu" and not t.signed and kind == "i" and (arr < 0).any():
                return values_to_column(t, arr.tolist(), column)
            return FixedColumn(t, arr.astype(t.dtype))
        if isinstance(t, T.FloatType) and kind in "iubf":
            return FixedColumn(t, arr.astype(t.dtype))
        if isinstance(t, T.BoolType) and kind == "b":
            return FixedColumn(t, arr.astype(np.uint8))
        if isinstance(t, (T.DateTimeType, T.DateTime64Type, T.DateType, T.Date32Type)) and kind in "iu":
            return FixedColumn(t, _fixed_values(t, arr.astype(np.int64).tolist()))
        if isinstance(t, T.DecimalType) and kind in "iu":
            return FixedColumn(t, _fixed_values(t, arr.tolist()))
        if t.is_fixed and arr.dtype == t.dtype and arr.shape[1:] == t.value_shape:
            return FixedColumn(t, arr)
        return values_to_column(t, arr.tolist(), column)
    except ConversionError as exc:
        raise exc.at(column=column) if column is not None else exc from None


# --------------------------------------------------------------------------- text values


def parse_text_value(t: T.DataType | str, text: str):
    """Parse one TSV/CSV field text into the Python value ``to_pylist`` would return."""
    if isinstance(t, str):
        t = T.parse_type(t)
    return values_to_column(t, [text], text=True).to_pylist()[0]


def text_to_column(t: T.DataType, texts: list[str], column: str | None = None) -> Column:
    """Column from TSV/CSV field texts (``\\N`` is NULL in Nullable columns)."""
    return values_to_column(t, texts, column, text=True)


# --------------------------------------------------------------------------- rows -> Block

Defaults = Mapping[str, Callable[[Block], Column]]


def parse_ndjson(data: bytes | str) -> list[dict]:
    """NDJSON (one JSON object per line, blank lines ignored) or a JSON array of objects."""
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    stripped = data.strip()
    if not stripped:
        return []
    if stripped[:1] == b"[":
        try:
            rows = orjson.loads(stripped)
        except orjson.JSONDecodeError as exc:
            raise ConversionError(None, None, stripped[:100], f"Malformed JSON array of rows: {exc}") from None
    else:
        try:  # fast path: no blank lines, so newlines can simply become commas
            rows = orjson.loads(b"[" + stripped.replace(b"\n", b",") + b"]")
        except orjson.JSONDecodeError:
            rows = None
        if rows is None:
            lines = [ln for ln in data.split(b"\n") if ln.strip()]
            try:
                rows = orjson.loads(b"[" + b",".join(lines) + b"]")
            except orjson.JSONDecodeError:
                rows = None
        if rows is None:
            rows = []
            for line_no, line in enumerate(data.split(b"\n"), start=1):
                if not line.strip():
                    continue
                try:
                    rows.append(orjson.loads(line))
                except orjson.JSONDecodeError as exc:
                    raise ConversionError(None, None, line[:100],
                                          f"Malformed JSON at line {line_no}: {exc}: {_short(line[:100])}",
                                          "INCORRECT_DATA") from None
    if not _all_of_type(rows, dict):
        i, r = next((i, r) for i, r in enumerate(rows) if type(r) is not dict)
        raise ConversionError(None, i, r, f"Expected a JSON object per row, got {_short(r)}", "INCORRECT_DATA")
    return rows


def rows_to_block(schema: Sequence[tuple[str, T.DataType]], rows, *, defaults: Defaults | None = None) -> Block:
    """Convert input rows to a Block of the schema with ClickHouse's rules (module docstring).

    ``rows`` is a list of dicts, a dict of columns (lists or numpy arrays), or NDJSON bytes/str.
    ``defaults`` maps column -> callable(Block so far) -> Column for DEFAULT expressions; it is
    called with every column that the input provided (and earlier defaulted columns) and must
    return a full-length column.
    """
    defaults = defaults or {}
    schema = [(name, T.parse_type(t) if isinstance(t, str) else t) for name, t in schema]
    if isinstance(rows, (bytes, bytearray, memoryview)) and len(rows) >= FAST_NDJSON_MIN_BYTES:
        block = fast_ndjson_block(schema, rows, defaults)
        if block is not None:
            return block
    if isinstance(rows, (bytes, bytearray, memoryview, str)):
        rows = parse_ndjson(bytes(rows) if not isinstance(rows, str) else rows)
    if isinstance(rows, Mapping):
        return _columns_to_block(schema, rows, defaults)
    if not isinstance(rows, list):
        rows = list(rows)
    all_dicts = _all_of_type(rows, dict)
    if not all_dicts:
        for i, r in enumerate(rows):
            if not isinstance(r, Mapping):
                raise ConversionError(None, i, r, f"Expected a dict per row, got {_short(r)}", "INCORRECT_DATA")
    n = len(rows)
    converted: dict[str, Column] = {}
    fill: dict[str, np.ndarray | None] = {}  # rows needing the DEFAULT expression
    for name, t in schema:
        values = _column_values(rows, name) if n and all_dicts else None
        if values is not None:  # every row has this key: only None can mean "default"
            if name in defaults and not t.is_nullable and _has_none(values):
                missing = np.fromiter((v is None for v in values), np.bool_, n)
                if missing.all():
                    fill[name] = None
                    continue
                fill[name] = missing
        elif name in defaults:
            values = [r.get(name, _MISSING) for r in rows]
            if t.is_nullable:
                missing = np.fromiter((v is _MISSING for v in values), np.bool_, n)
            else:
                missing = np.fromiter((v is _MISSING or v is None for v in values), np.bool_, n)
            if missing.all():
                fill[name] = None
                continue
            if missing.any():
                values = [None if v is _MISSING else v for v in values]
                fill[name] = missing
        else:
            values = [r.get(name) for r in rows]
        converted[name] = values_to_column(t, values, name)
    return _apply_defaults(schema, converted, fill, defaults, n)


def _all_of_type(values, kind: type) -> bool:
    """True when every value's type is exactly ``kind`` (one C-speed pass over the types)."""
    kinds = set(map(type, values))
    return not kinds or kinds == {kind}


def _column_values(rows: list[dict], name: str) -> list | None:
    """Every row's value of key ``name`` (one C-speed pass), or None when a row lacks the key.

    ``list(map(itemgetter(name), rows))`` is ~1.4x faster than ``[r.get(name) for r in rows]``
    and, unlike ``zip(*map(itemgetter(*names), rows))``, allocates no per-row tuple (those
    trigger extra garbage collections that ate the gain). A missing key (KeyError) sends the
    caller to the per-row path, which knows about DEFAULT expressions.
    """
    try:
        return list(map(operator.itemgetter(name), rows))
    except KeyError:
        return None


@dataclass(frozen=True)
class RejectedRow:
    """An input row that could not be converted (Tinybird puts these in a quarantine table).

    ``row`` is its 0-based number in the input (for NDJSON: among the non-blank lines), ``raw``
    the input dict or the raw line bytes, ``error`` the ConversionError (column, value, reason).
    """

    row: int
    raw: object
    error: ConversionError


def rows_to_block_partial(schema: Sequence[tuple[str, T.DataType]], rows, *,
                          defaults: Defaults | None = None) -> tuple[Block, list[RejectedRow]]:
    """Like rows_to_block, but rows that fail are set aside instead of failing the whole batch.

    Returns (Block of the good rows in input order, rejected rows in input order). A batch with
    no bad row costs one rows_to_block call; each bad row found costs one more, and after 16 bad
    rows the remaining rows are converted one by one to find the rest.
    """
    schema = [(name, T.parse_type(t) if isinstance(t, str) else t) for name, t in schema]
    rejected: list[RejectedRow] = []
    if isinstance(rows, (bytes, bytearray, memoryview)):
        if len(rows) >= FAST_NDJSON_MIN_BYTES:
            block = fast_ndjson_block(schema, rows, defaults)
        else:
            block = one_row_block(schema, rows, defaults)
        if block is not None:
            return block, rejected
    if isinstance(rows, (bytes, bytearray, memoryview, str)):
        rows, rejected = _parse_ndjson_partial(rows)
    elif isinstance(rows, Mapping):
        raise TypeError("rows_to_block_partial takes rows (list of dicts or NDJSON), not a dict of columns")
    rows = list(rows)
    numbers = list(range(len(rows)))
    if rejected:  # NDJSON row numbers count every non-blank line, malformed ones included
        bad = {r.row for r in rejected}
        numbers = [i for i in range(len(rows) + len(bad)) if i not in bad]
    while True:
        try:
            block = rows_to_block(schema, rows, defaults=defaults)
            break
        except ConversionError as exc:
            if exc.row is None or not 0 <= exc.row < len(rows):
                raise
            rejected.append(RejectedRow(numbers[exc.row], rows[exc.row], exc.at(row=numbers[exc.row])))
            del rows[exc.row], numbers[exc.row]
            if len(rejected) >= 16:
                rows, numbers, more = _isolate_bad_rows(schema, rows, numbers, defaults)
                rejected.extend(more)
    rejected.sort(key=lambda r: r.row)
    return block, rejected


# --------------------------------------------------------------------------- NDJSON fast path

#: bodies with fewer bytes than this take the orjson path (kernel calls cost more than they save)
FAST_NDJSON_MIN_BYTES = 2048
#: rows x columns scanned at once (the scanner's arrays take 17 bytes per cell): bigger bodies in pieces
FAST_NDJSON_MAX_CELLS = 4_000_000


_kernels_ready = threading.Event()
_kernels_lock = threading.Lock()
_kernels_thread: threading.Thread | None = None


def fast_ndjson_kernels(wait: bool = False):
    """``kernels.ndjson`` once its kernels are compiled (or loaded from numba's cache), else None.

    The first call starts a background thread that gets them ready: compiling them takes
    seconds (tens on a busy machine), and a request must not wait for it: until then NDJSON
    takes the orjson path. ``wait=True`` blocks until they are ready (tests, benchmarks).
    """
    global _kernels_thread
    if not _kernels_ready.is_set():
        with _kernels_lock:
            if _kernels_thread is None:
                _kernels_thread = threading.Thread(target=_warm_kernels, name="ndjson-kernels", daemon=True)
                _kernels_thread.start()
        if not wait or not _kernels_ready.wait(600):
            return None
    from mergetree.kernels import ndjson as K

    return K


def _warm_kernels() -> None:
    try:
        from mergetree.kernels import ndjson as K

        body = np.frombuffer(b'{"a":"x\\n","b":1,"c":"2024-01-02 03:04:05"}\n', np.uint8)
        keys = np.frombuffer(b"abc", np.uint8)
        key_offsets = np.arange(4, dtype=np.int64)
        rows = K.count_lines(body)
        kind = np.zeros((3, rows), np.int8)
        start = np.zeros((3, rows), np.int64)
        end = np.zeros((3, rows), np.int64)
        K.scan(body, key_offsets, keys, kind, start, end, np.zeros((3, 8), np.int64))
        K.gather_strings(body, kind[0], start[0], end[0], np.empty(rows + 1, np.int64), np.empty(len(body), np.uint8))
        K.parse_ints(body, kind[1], start[1], end[1], np.empty(rows, np.int64))
        K.pack_spans(body, kind[2], start[2], end[2], 19, np.zeros((rows, 19), np.uint8))
        K.datetime_seconds(body, kind[2], start[2], end[2], np.zeros(rows, np.int64))
    except Exception:  # noqa: BLE001 - no numba kernels: the orjson path serves every body
        import logging

        logging.getLogger("mergetree.convert").exception("NDJSON kernels unavailable; using the orjson path")
        return
    _kernels_ready.set()


def fast_ndjson_block(schema, data, defaults: Defaults | None = None) -> Block | None:
    """The Block of an NDJSON body of flat objects, read by the byte scanner, or None.

    Gives exactly what ``rows_to_block(schema, data, defaults=)`` gives, or None whenever it
    cannot be sure to: a line the scanner does not read like orjson (nested objects or arrays,
    escapes in keys, malformed JSON: see ``kernels/ndjson.py``), a value whose conversion it
    does not do itself (String from non-strings, numbers from strings, DateTime text of other
    shapes, other types), or a value that would be an error. The caller then takes the general
    path, which reports errors and quarantines rows. ``schema`` types must be parsed. None too
    while the kernels are being compiled (``fast_ndjson_kernels``).
    """
    if isinstance(data, (bytearray, memoryview)):
        data = bytes(data)
    if not isinstance(data, bytes) or data[:1] == b"[":
        return None
    K = fast_ndjson_kernels()
    if K is None:
        return None

    buf = np.frombuffer(data, np.uint8)
    rows_max = K.count_lines(buf)
    if rows_max * max(len(schema), 1) > FAST_NDJSON_MAX_CELLS and rows_max > 1:
        return _fast_ndjson_chunks(schema, data, defaults, rows_max)
    names = [name.encode("utf-8", "surrogateescape") for name, _ in schema]
    key_offsets = np.zeros(len(names) + 1, np.int64)
    np.cumsum([len(b) for b in names], out=key_offsets[1:])
    key_data = np.frombuffer(b"".join(names), np.uint8)
    kind = np.zeros((len(names), rows_max), np.int8)
    start = np.zeros((len(names), rows_max), np.int64)
    end = np.zeros((len(names), rows_max), np.int64)
    counts = np.zeros((len(names), 8), np.int64)
    n, status = K.scan(buf, key_offsets, key_data, kind, start, end, counts)
    if status or not n:
        return None
    defaults = defaults or {}
    converted: dict[str, Column] = {}
    fill: dict[str, np.ndarray | None] = {}
    for k, (name, t) in enumerate(schema):
        kd, st, en = kind[k, :n], start[k, :n], end[k, :n]
        c = counts[k].tolist()             # [string bytes, strings, escaped, ints, floats, true, false, null]
        c[0] = n - sum(c[1:])              # now: [missing, ...]
        if name in defaults:
            absent_rows = c[K.K_MISSING] + (0 if t.is_nullable else c[K.K_NULL])
            if absent_rows == n:
                fill[name] = None
                continue
            if absent_rows:
                absent = kd == K.K_MISSING
                if not t.is_nullable:
                    absent |= kd == K.K_NULL
                fill[name] = absent
                kd = np.where(absent, np.int8(K.K_MISSING), kd)
                c[K.K_MISSING] += 0 if t.is_nullable else c[K.K_NULL]
                if not t.is_nullable:
                    c[K.K_NULL] = 0
        col = _fast_column(K, t, buf, kd, st, en, c, int(counts[k, 0]))
        if col is None:
            return None
        converted[name] = col
    return _apply_defaults(schema, converted, fill, defaults, n)


def _fast_ndjson_chunks(schema, data: bytes, defaults, rows_max: int) -> Block | None:
    """A big body in pieces cut at line ends (the scanner's arrays stay ~FAST_NDJSON_MAX_CELLS)."""
    pieces = -(-rows_max * max(len(schema), 1) // FAST_NDJSON_MAX_CELLS) + 1
    step = max(len(data) // pieces, 1)
    blocks, pos = [], 0
    while pos < len(data):
        cut = data.find(b"\n", min(pos + step, len(data)))
        cut = len(data) if cut < 0 else cut + 1
        piece = data[pos:cut]
        pos = cut
        if not piece.strip():
            continue
        block = fast_ndjson_block(schema, piece, defaults)
        if block is None:
            return None
        blocks.append(block)
    return Block.concat(blocks) if blocks else None


def _fast_column(K, t: T.DataType, buf: np.ndarray, kd: np.ndarray, st: np.ndarray, en: np.ndarray,
                 c: list, text_bytes: int):
    """One column from its value kinds/spans (missing and null: NULL or the type default), or None.

    ``c[K]``: how many values of kind K (``c[0]``: missing), ``text_bytes``: bytes of the strings.
    """
    n = len(kd)
    if isinstance(t, T.NullableType):
        inner = _fast_column(K, t.inner, buf, kd, st, en, c, text_bytes)
        if inner is None:
            return None
        absent = c[K.K_MISSING] + c[K.K_NULL]
        nulls = ((kd == K.K_MISSING) | (kd == K.K_NULL)) if absent else np.zeros(n, np.bool_)
        return NullableColumn(t, inner, nulls)
    if isinstance(t, T.LowCardinalityType):
        inner = _fast_column(K, t.inner, buf, kd, st, en, c, text_bytes)
        return None if inner is None else LowCardinalityColumn.encode(t, inner)
    absent = c[K.K_MISSING] + c[K.K_NULL]
    strings = c[K.K_STRING] + c[K.K_ESCAPED]
    if isinstance(t, T.StringType):
        literal = c[K.K_INT] + c[K.K_TRUE] + c[K.K_FALSE]
        if strings + absent + literal != n:
            return None                      # floats as text: orjson's re-serialization differs
        if literal:                          # integers and bools: orjson writes back the same text
            rows = (kd == K.K_INT) | (kd == K.K_TRUE) | (kd == K.K_FALSE)
            widths = (en - st)[rows]
            ints = kd[rows] == K.K_INT
            first = st[rows]
            minus_zero = (widths == 2) & ints & (buf[first] == 45) & (buf[np.minimum(first + 1, len(buf) - 1)] == 48)
            digits = widths - (buf[first] == 45)
            if (digits[ints] > 18).any() or minus_zero.any():
                return None                  # beyond 64 bits orjson reads a float; -0 is written 0
            text_bytes += int(widths.sum())
        offsets = np.empty(n + 1, np.int64)
        out = np.empty(text_bytes, np.uint8)
        w = K.gather_strings(buf, kd, st, en, offsets, out)
        return StringColumn(T.String, offsets, out[:w] if w != len(out) else out)
    if isinstance(t, T.IntType) and t.bits <= 64:
        if c[K.K_INT] + absent != n:
            return None
        arr = np.empty(n, np.int64)
        if not K.parse_ints(buf, kd, st, en, arr):
            return None
        if not t.signed and (arr < 0).any():
            return None                      # an error ("Unsigned type must not contain '-'")
        return FixedColumn(t, arr.astype(t.dtype))
    if isinstance(t, T.FloatType):
        if c[K.K_INT] + c[K.K_FLOAT] + absent != n:
            return None
        values = _span_matrix_values(K, buf, kd, st, en, np.float64, absent)
        if values is None or not np.isfinite(values).all():
            return None
        with np.errstate(over="ignore"):
            return FixedColumn(t, values.astype(t.dtype))
    if isinstance(t, T.BoolType):
        if c[K.K_TRUE] + c[K.K_FALSE] + absent != n:
            return None
        return FixedColumn(t, (kd == K.K_TRUE).astype(np.uint8))
    if isinstance(t, (T.DateTimeType, T.DateTime64Type)):
        numbers = c[K.K_INT]
        if c[K.K_STRING] + numbers + absent != n:
            return None
        precision = 0 if isinstance(t, T.DateTimeType) else t.precision
        scale = 10 ** precision
        ticks = np.zeros(n, np.int64)
        if c[K.K_STRING] and K.datetime_seconds(buf, kd, st, en, ticks):   # the usual shapes, in one pass
            ticks = _local_to_utc_seconds(ticks, t.timezone) if c[K.K_STRING] == n else \
                np.where(kd == K.K_STRING, _local_to_utc_seconds(ticks, t.timezone), ticks)
            if precision:
                ticks = ticks * scale
        elif c[K.K_STRING]:
            text = kd == K.K_STRING if c[K.K_STRING] != n else None
            rows = np.flatnonzero(text) if text is not None else None
            sub = (lambda a: a) if rows is None else (lambda a: a[rows])
            widths = sub(en) - sub(st)
            width = int(widths[0])
            if not (widths == width).all():
                return None
            mat = np.zeros((len(widths), width), np.uint8)
            K.pack_spans(buf, sub(kd), sub(st), sub(en), width, mat)
            parsed = _fast_datetime_matrix(mat, precision)
            if parsed is None:
                return None
            got, utc = parsed
            if not utc:
                secs, frac = np.divmod(got, scale)
                got = _local_to_utc_seconds(secs, t.timezone) * scale + frac
            if rows is None:
                ticks = got
            else:
                ticks[rows] = got
        if numbers:
            ints = np.empty(n, np.int64)
            sel = kd if numbers + absent == n else np.where(kd == K.K_INT, kd, np.int8(K.K_MISSING))
            if not K.parse_ints(buf, sel, st, en, ints):
                return None
            if precision and np.abs(ints).max() > (2 ** 63 - 1) // scale:
                return None
            ticks = np.where(kd == K.K_INT, ints * scale, ticks)
        if isinstance(t, T.DateTimeType):
            return FixedColumn(t, np.minimum(np.maximum(ticks, 0), _DATETIME_MAX).astype(np.uint32))
        return FixedColumn(t, ticks)
    return None


def one_row_block(schema, body, defaults: Defaults | None = None) -> Block | None:
    """The Block of a one-line NDJSON body (a single event) built without the column machinery, or None.

    Like ``fast_ndjson_block``: exactly what ``rows_to_block`` gives, or None (the general path
    runs) for anything else: several lines, a value of another kind than the column's usual one
    (String from a string, numbers from numbers, DateTime from text or a number), a value that
    is an error, a column whose DEFAULT expression would be needed, other types.
    """
    if isinstance(body, (bytearray, memoryview)):
        body = bytes(body)
    if not isinstance(body, bytes) or b"\n" in body.strip():
        return None
    try:
        row = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if type(row) is not dict:
        return None
    columns: dict[str, Column] = {}
    for name, t in schema:
        v = row.get(name)
        is_null = v is None
        nullable = t.__class__ is T.NullableType
        inner = t.inner if nullable else t
        if v is None and defaults and name in defaults and (not nullable or name not in row):
            return None
        tv = type(v)
        cls = inner.__class__
        if cls is T.StringType:
            if tv is str:
                try:
                    data = v.encode("utf-8", "surrogateescape")
                except UnicodeEncodeError:
                    return None
            elif v is None:
                data = b""
            else:
                return None
            col = StringColumn(inner, np.array((0, len(data)), np.int64), np.frombuffer(data, np.uint8))
        elif cls is T.DateTimeType or cls is T.DateTime64Type:
            precision = 0 if cls is T.DateTimeType else inner.precision
            if tv is str or tv is int:
                try:
                    ticks = _parse_ticks(inner, v, inner.timezone, precision)
                except ConversionError:
                    return None
            elif v is None:
                ticks = 0
            else:
                return None
            if cls is T.DateTimeType:
                ticks = min(max(ticks, 0), _DATETIME_MAX)
            elif not -(1 << 63) <= ticks < (1 << 63):
                return None
            col = FixedColumn(inner, np.array((ticks,), inner.dtype))
        elif cls is T.IntType and inner.bits <= 64:
            if v is None:
                v = 0
            elif tv is not int or not -(1 << 63) <= v < (1 << 63) or (v < 0 and not inner.signed):
                return None
            col = FixedColumn(inner, np.array((v,), np.int64).astype(inner.dtype))
        elif cls is T.FloatType:
            if v is None:
                v = 0.0
            elif tv is not float and tv is not int:
                return None
            try:
                with np.errstate(over="ignore"):
                    col = FixedColumn(inner, np.array((v,), np.float64).astype(inner.dtype))
            except OverflowError:
                return None
        else:
            return None
        if nullable:
            col = NullableColumn(t, col, np.array((is_null,), np.bool_))
        columns[name] = col
    return Block(columns, 1)


def _span_matrix_values(K, buf, kd, st, en, dtype, absent: int) -> np.ndarray | None:
    """Number spans -> numpy's text parser on a NUL-padded byte matrix (absent rows: 0)."""
    n = len(kd)
    width = max(int((en - st).max(initial=0)), 1)
    mat = np.zeros((n, width), np.uint8)
    K.pack_spans(buf, kd, st, en, width, mat)
    if absent:
        mat[(kd == K.K_MISSING) | (kd == K.K_NULL), 0] = 48     # "0": the type default
    try:
        return mat.view(f"S{width}").reshape(n).astype(dtype)
    except ValueError:
        return None


def _isolate_bad_rows(schema, rows: list, numbers: list, defaults) -> tuple[list, list, list[RejectedRow]]:
    good_rows, good_numbers, bad = [], [], []
    for row, number in zip(rows, numbers):
        try:
            rows_to_block(schema, [row], defaults=defaults)
        except ConversionError as exc:
            bad.append(RejectedRow(number, row, exc.at(row=number)))
            continue
        good_rows.append(row)
        good_numbers.append(number)
    return good_rows, good_numbers, bad


def _parse_ndjson_partial(data) -> tuple[list[dict], list[RejectedRow]]:
    """NDJSON rows, with malformed lines (or non-object values) returned as rejected rows."""
    try:
        return parse_ndjson(data), []
    except ConversionError as exc:
        error = exc
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    if bytes(data).lstrip()[:1] == b"[":  # a malformed JSON array cannot be split into rows
        raise error
    rows, rejected = [], []
    number = 0
    for line_no, line in enumerate(bytes(data).split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            value = orjson.loads(line)
            if type(value) is not dict:
                raise ConversionError(None, number, line, f"Expected a JSON object per row at line {line_no}",
                                      "INCORRECT_DATA")
            rows.append(value)
        except orjson.JSONDecodeError as exc:
            rejected.append(RejectedRow(number, line, ConversionError(
                None, number, line, f"Malformed JSON at line {line_no}: {exc}", "INCORRECT_DATA")))
        except ConversionError as exc:
            rejected.append(RejectedRow(number, line, exc))
        number += 1
    return rows, rejected


def _columns_to_block(schema, columns: Mapping, defaults: Defaults) -> Block:
    lengths = {name: len(v) for name, v in columns.items()}
    if len(set(lengths.values())) > 1:
        from mergetree.errors import SizesMismatchError
        raise SizesMismatchError(f"Input columns have different lengths: {lengths}")
    n = next(iter(lengths.values())) if lengths else 0
    converted: dict[str, Column] = {}
    fill: dict[str, np.ndarray | None] = {}
    for name, t in schema:
        if name not in columns:
            fill[name] = None
            continue
        values = columns[name]
        if isinstance(values, Column):
            if values.type != t:
                raise ConversionError(name, None, None, f"Column '{name}' has type {values.type}, expected {t}",
                                      "TYPE_MISMATCH")
            converted[name] = values
        elif isinstance(values, np.ndarray):
            converted[name] = numpy_to_column(t, values, name)
        else:
            values = list(values)
            if name in defaults and not t.is_nullable and any(v is None for v in values):
                fill[name] = np.fromiter((v is None for v in values), np.bool_, n)
            converted[name] = values_to_column(t, values, name)
    return _apply_defaults(schema, converted, fill, defaults, n)


def _apply_defaults(schema, converted: dict, fill: dict, defaults: Defaults, n: int) -> Block:
    for name, t in schema:
        if name not in fill:
            continue
        mask = fill[name]
        if name in defaults:
            so_far = Block({k: v for k, v in converted.items()}, n)
            dflt = defaults[name](so_far)
            if dflt.type != t:
                dflt = _cast_default(t, dflt, name)
            if len(dflt) != n:
                raise ConversionError(name, None, None,
                                      f"DEFAULT expression of column '{name}' returned {len(dflt)} rows, expected {n}")
        else:
            dflt = default_column(t, n)
        if mask is None:
            converted[name] = dflt
        else:
            given = converted[name]
            idx = np.arange(n, dtype=np.int64)
            idx[mask] += n
            converted[name] = Column.concat([given, dflt]).take(idx)
    return Block({name: converted[name] for name, _ in schema}, n)


def _cast_default(t: T.DataType, col: Column, name: str) -> Column:
    """Bring a DEFAULT expression result to the column type (via Python values; rare path)."""
    return values_to_column(t, col.to_pylist(), name)


# --------------------------------------------------------------------------- column -> text


def _tz_offsets(seconds: np.ndarray, tz: str | None) -> np.ndarray:
    """UTC offset in seconds of every instant (zone transitions fall on 15-minute boundaries)."""
    if tz is None or tz == "UTC" or len(seconds) == 0:
        return np.zeros(len(seconds), np.int64)
    tzinfo = T.get_tzinfo(tz)
    quarters, inverse = np.unique(seconds // 900, return_inverse=True)
    lo, hi = T._MIN_PY_SECONDS + 86400, T._MAX_PY_SECONDS - 86400  # Python's datetime range
    offsets = np.array([int(_dt.datetime.fromtimestamp(min(max(int(q) * 900, lo), hi), tzinfo)
                            .utcoffset().total_seconds()) for q in quarters.tolist()], np.int64)
    return offsets[inverse.reshape(-1)]


def _datetime_text(seconds: np.ndarray, tz: str | None) -> np.ndarray:
    """'YYYY-MM-DD hh:mm:ss' (numpy U19 array) of unix seconds shown in time zone tz."""
    local = seconds.astype(np.int64) + _tz_offsets(seconds.astype(np.int64), tz)
    local = np.clip(local, T._MIN_PY_SECONDS, T._MAX_PY_SECONDS)  # 4-digit years, like format_ticks
    text = np.datetime_as_string(local.astype("datetime64[s]"), unit="s")
    if len(text):
        chars = text.view(np.uint32).reshape(len(text), -1)
        chars[:, 10] = ord(" ")
    return text


def column_to_text(column: Column) -> list:
    """Text of every value as ClickHouse prints it in TSV-like formats, unescaped; None for NULL.

    Vectorised per type where it pays (dates, date-times, integers, LowCardinality); the
    result equals ``[type.format_value(v) for v in column.to_pylist()]`` (tested).
    """
    t = column.type
    if isinstance(column, NullableColumn):
        texts = column_to_text(column.values)
        for i in np.flatnonzero(column.nulls).tolist():
            texts[i] = None
        return texts
    if isinstance(column, LowCardinalityColumn):
        words = column_to_text(column.dictionary)
        return [words[c] for c in column.codes.tolist()]
    if isinstance(column, (StringColumn, ArrayColumn)) or isinstance(t, (T.FixedStringType, T.UUIDType,
                                                                        T.TupleType, T.MapType)):
        return [t.format_value(v) for v in column.to_pylist()]
    v = column.values
    if len(v) == 0:
        return []
    if isinstance(t, T.IntType):
        return list(map(str, v.tolist()))
    if isinstance(t, T.BoolType):
        return np.where(v != 0, "true", "false").tolist()
    if isinstance(t, T.FloatType):
        return [T.format_float(x, t.bits) for x in v.tolist()]
    if isinstance(t, (T.DateType, T.Date32Type)):
        days = np.clip(v.astype(np.int64), T._MIN_PY_SECONDS // 86400, T._MAX_PY_SECONDS // 86400)
        return np.datetime_as_string(days.astype("datetime64[D]"), unit="D").tolist()
    if isinstance(t, T.DateTimeType):
        return _datetime_text(v, t.timezone).tolist()
    if isinstance(t, T.DateTime64Type):
        seconds, frac = np.divmod(v.astype(np.int64), t.scale)
        outside = (seconds < T._MIN_PY_SECONDS) | (seconds > T._MAX_PY_SECONDS)
        if outside.any():  # saturate like DateTime64Type.format_ticks
            seconds = np.clip(seconds, T._MIN_PY_SECONDS, T._MAX_PY_SECONDS)
            frac = np.where(outside, 0, frac)
        base = _datetime_text(seconds, t.timezone)
        if not t.precision:
            return base.tolist()
        fracs = np.char.zfill(frac.astype(str), t.precision)
        return np.char.add(np.char.add(base, "."), fracs).tolist()
    if isinstance(t, T.DecimalType):
        return [T.format_decimal(d) for d in column.to_pylist()]
    return [t.format_value(x) for x in column.to_pylist()]  # pragma: no cover
