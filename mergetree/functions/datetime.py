"""Date and time functions, vectorized, time-zone aware (ClickHouse 26.9 semantics).

A DateTime is UTC seconds; date functions of a ``DateTime('tz')`` work on that zone's wall
clock (``toDate`` of ``2024-01-01 23:30:00 UTC`` in Asia/Kolkata is 2024-01-02). An optional
last argument names another zone: ``toDate(ts, 'Asia/Kolkata')``, ``toYYYYMM(ts, 'UTC')``.
Every function computes wall-clock seconds once (`timezones.utc_to_local`), does calendar
arithmetic with the numba kernels in ``mergetree.kernels.datetime``, and converts instants
back with `timezones.local_to_utc`.

Functions: toDate, toDateTime, toDateTime64, toYYYYMM, toYYYYMMDD, toYear, toQuarter, toMonth, toDayOfMonth,
toDayOfWeek, toHour, toMinute, toSecond, toUnixTimestamp, toStartOfMinute,
toStartOfFiveMinutes (toStartOfFiveMinute), toStartOfFifteenMinutes, toStartOfHour,
toStartOfDay, toStartOfWeek(x[, mode]) (mode 0 Sunday, 1 Monday), toMonday, toStartOfMonth,
toStartOfQuarter, toStartOfYear, now([tz]), today(), and the INTERVAL arithmetic
add{Seconds,Minutes,Hours,Days,Weeks,Months,Quarters,Years} / subtract{...}
(``ts + INTERVAL 90 DAY`` is ``addDays(ts, 90)``): days and weeks keep the wall-clock time
across DST changes, months clamp the day to the end of the month (2024-01-31 + 1 month =
2024-02-29), a Date plus hours/minutes/seconds becomes a DateTime.

Range rules observed in ClickHouse: ``toDate``/``toDateTime`` of a number clamp below at 0;
``toDate(n)`` takes n > 65535 as a unix timestamp; text beyond the range saturates; plain
``Date + n`` wraps around.
"""

from __future__ import annotations

import re
import time as _time

import numpy as np

from mergetree import types as T
from mergetree.column import StringColumn
from mergetree.errors import CannotParseDateError, CannotParseDateTimeError
from mergetree.functions import timezones as TZ
from mergetree.functions import values as V
from mergetree.functions.registry import (NOT_CONST, BadFunctionArguments, CannotParseText, IllegalTypeOfArgument,
                                          Monotonicity, check_arity, illegal_type, register, register_alias)

_DATE_MAX = 65535
_DT_MAX = 0xFFFFFFFF


def _k():
    from mergetree.kernels import datetime as K

    return K


def _tz_arg(name: str, types, consts, i: int) -> str | None:
    """The time zone named by optional constant argument i, else None."""
    if len(types) <= i:
        return None
    if not isinstance(types[i], T.StringType):
        raise illegal_type(name, types[i], i)
    tz = consts[i]
    if tz is NOT_CONST:
        raise IllegalTypeOfArgument(f"Argument {i + 1} (time zone) of function {name} must be a constant string")
    try:
        TZ.get_zone(tz)
    except TZ.InvalidTimezone as e:
        raise BadFunctionArguments(str(e)) from None
    return tz


def _is_dt(t) -> bool:
    return isinstance(t, (T.DateTimeType, T.DateTime64Type))


def _is_date(t) -> bool:
    return isinstance(t, (T.DateType, T.Date32Type))


def _zone(t, tz_arg):
    return tz_arg if tz_arg is not None else V.tz_of(t)


def _epoch_seconds(c, t) -> np.ndarray:
    """UTC seconds (int64) of a DateTime / DateTime64 argument (DateTime64 floored)."""
    v = V.values(c).astype(np.int64)
    if isinstance(t, T.DateTime64Type):
        return v // t.scale
    return v


def _local_seconds(c, t, tz) -> np.ndarray:
    """Wall-clock seconds (as if UTC) of a Date/Date32/DateTime/DateTime64 argument."""
    if _is_date(t):
        return V.values(c).astype(np.int64) * 86400
    return TZ.utc_to_local(tz, _epoch_seconds(c, t))


def _local_days(c, t, tz) -> np.ndarray:
    if _is_date(t):
        return V.values(c).astype(np.int64)
    return _local_seconds(c, t, tz) // 86400


def _date_time_arg(name, types, i=0, allow_date=True):
    t = types[i]
    if _is_dt(t) or (allow_date and _is_date(t)):
        return t
    raise illegal_type(name, t, i)


def _always_increasing(types, consts, i):
    if i == 0 and (_is_dt(types[0]) or _is_date(types[0])):
        return Monotonicity(increasing=True, always=True)
    return None


# --------------------------------------------------------------------------- conversions


_DATE_PREFIX = re.compile(r"\d{4}-\d{2}-\d{2}|\d{8}")


def parse_error(bad: str, what: str) -> CannotParseText:
    """ClickHouse's error for text that is not a `what` (Date, Date32, DateTime, DateTime64):
    CANNOT_PARSE_DATE / CANNOT_PARSE_DATETIME, except a Date followed by other text, which is
    CANNOT_PARSE_TEXT (``toDate('2020-01-01x')``: the date parsed, the rest did not)."""
    if what.startswith("DateTime"):
        return CannotParseDateTimeError(f"Cannot parse DateTime from String: '{bad}' is not a {what}")
    m = _DATE_PREFIX.match(bad)
    if m is not None:
        return CannotParseText(f"Cannot parse string '{bad}' as {what}: syntax error at position {m.end()} "
                               f"(parsed just '{m.group()}')")
    return CannotParseDateError(f"Cannot parse date: expected a date in the YYYY-MM-DD or YYYYMMDD format: "
                                f"cannot parse {what} from String '{bad}'")


def _parse_text(c, tz, what: str = "DateTime") -> tuple[np.ndarray, np.ndarray]:
    """(UTC seconds, wall-clock seconds) of String values; raises on unparseable text."""
    from mergetree.functions.comparison import _string_parts

    offsets, data = _string_parts(c)
    secs, status = _k().parse_datetime(offsets, data)
    if (status == 0).any():
        i = int(np.argmin(status))
        bad = bytes(data[offsets[i]:offsets[i + 1]]).decode("utf-8", "replace")
        raise parse_error(bad, what)
    utc = np.where(status == 2, secs, TZ.local_to_utc(tz, secs))
    local = np.where(status == 2, TZ.utc_to_local(tz, secs), secs)
    return utc, local


def _to_date_monotonic(types, consts, i):
    # Date32 -> Date wraps around outside 1970..2149
    if isinstance(types[0], T.Date32Type):
        return None
    return _always_increasing(types, consts, i)


@register("toDate", monotonic=_to_date_monotonic)
def to_date(types, consts):
    check_arity("toDate", types, 1, 2)
    t = types[0]
    tz_arg = _tz_arg("toDate", types, consts, 1)
    if not (_is_dt(t) or _is_date(t) or isinstance(t, (T.StringType, T.IntType, T.FloatType))):
        raise illegal_type("toDate", t, 0)

    def impl(args, n):
        c = args[0]
        if isinstance(t, T.DateType):
            return V.fixed(T.Date, V.values(c))
        if isinstance(t, T.Date32Type):
            return V.fixed(T.Date, V.values(c).astype(np.int64).astype(np.uint16))
        if isinstance(t, T.StringType):
            _, local = _parse_text(c, _zone(t, tz_arg), "Date")
            days = np.clip(local // 86400, 0, _DATE_MAX)
        elif isinstance(t, (T.IntType, T.FloatType)):
            v = V.values(c)
            v = np.trunc(v).astype(np.int64) if v.dtype.kind == "f" else v.astype(np.int64)
            as_ts = v > _DATE_MAX
            days = np.where(as_ts, TZ.utc_to_local(tz_arg, np.where(as_ts, v, 0)) // 86400, v)
            days = np.clip(days, 0, _DATE_MAX)
        else:
            days = _local_days(c, t, _zone(t, tz_arg))
        return V.fixed(T.Date, days.astype(np.uint16))

    return T.Date, impl


@register("toDateTime", monotonic=_always_increasing)
def to_datetime(types, consts):
    check_arity("toDateTime", types, 1, 2)
    t = types[0]
    tz_arg = _tz_arg("toDateTime", types, consts, 1)
    if not (_is_dt(t) or _is_date(t) or isinstance(t, (T.StringType, T.IntType, T.FloatType))):
        raise illegal_type("toDateTime", t, 0)
    tz = tz_arg if tz_arg is not None else (V.tz_of(t) if _is_dt(t) else None)
    rtype = T.DateTimeType(tz)

    def impl(args, n):
        c = args[0]
        if _is_dt(t):
            secs = _epoch_seconds(c, t)
        elif _is_date(t):
            secs = TZ.local_to_utc(tz, V.values(c).astype(np.int64) * 86400)
        elif isinstance(t, T.StringType):
            secs, _ = _parse_text(c, tz)
        else:
            v = V.values(c)
            secs = np.trunc(v).astype(np.int64) if v.dtype.kind == "f" else v.astype(np.int64)
        return V.fixed(rtype, np.clip(secs, 0, _DT_MAX).astype(np.uint32))

    return rtype, impl


@register("toDateTime64", monotonic=_always_increasing)
def to_datetime64(types, consts):
    check_arity("toDateTime64", types, 2, 3)
    t = types[0]
    if not isinstance(types[1], T.IntType) or consts[1] is NOT_CONST or not 0 <= int(consts[1]) <= 9:
        raise IllegalTypeOfArgument("Argument 2 (scale) of function toDateTime64 must be a constant integer 0..9")
    p = int(consts[1])
    tz_arg = _tz_arg("toDateTime64", types, consts, 2)
    if not (_is_dt(t) or _is_date(t) or isinstance(t, (T.StringType, T.IntType, T.FloatType))):
        raise illegal_type("toDateTime64", t, 0)
    tz = tz_arg if tz_arg is not None else (V.tz_of(t) if _is_dt(t) else None)
    rtype = T.DateTime64(p, tz)
    scale = 10 ** p

    def impl(args, n):
        c = args[0]
        if isinstance(t, T.DateTime64Type):
            v = V.values(c).astype(np.int64)
            ticks = v * (scale // t.scale) if p >= t.precision else v // (t.scale // scale)
        elif isinstance(t, T.DateTimeType):
            ticks = V.values(c).astype(np.int64) * scale
        elif _is_date(t):
            ticks = TZ.local_to_utc(tz, V.values(c).astype(np.int64) * 86400) * scale
        elif isinstance(t, T.StringType):
            from mergetree.functions.comparison import Domain, _parse_date_text

            ticks = _parse_date_text(c, Domain("num", np.dtype(np.int64), "ticks", p, tz))
        else:
            v = V.values(c)
            ticks = np.round(v * scale).astype(np.int64) if v.dtype.kind == "f" else v.astype(np.int64) * scale
        return V.fixed(rtype, ticks)

    return rtype, impl


@register("toUnixTimestamp", monotonic=_always_increasing)
def to_unix_timestamp(types, consts):
    check_arity("toUnixTimestamp", types, 1, 2)
    t = _date_time_arg("toUnixTimestamp", types, allow_date=True)

    def impl(args, n):
        if _is_date(t):
            secs = V.values(args[0]).astype(np.int64) * 86400
        else:
            secs = _epoch_seconds(args[0], t)
        return V.fixed(T.UInt32, secs.astype(np.uint32))

    return T.UInt32, impl


# --------------------------------------------------------------------------- date parts


def by_day(days: np.ndarray, fn, dtype) -> np.ndarray:
    """fn(days) cast to dtype; for long columns spanning few distinct days, fn runs once per day
    of the span and rows gather from that table (ClickHouse's DateLUT idea)."""
    n = days.shape[0]
    if n >= 1024:
        lo, hi = int(days.min()), int(days.max())
        if hi - lo + 1 <= n // 4:
            table = np.asarray(fn(np.arange(lo, hi + 1, dtype=np.int64))).astype(dtype)
            return table[days - lo]
    return np.asarray(fn(days)).astype(dtype)


def _part(name: str, rtype, compute, monotonic=None, day_based=True):
    """A date part: compute(local days) (or compute(local seconds) when not day_based)."""

    @register(name, monotonic=monotonic)
    def resolve(types, consts):
        check_arity(name, types, 1, 2)
        t = _date_time_arg(name, types)
        tz_arg = _tz_arg(name, types, consts, 1)

        def impl(args, n):
            if day_based:
                out = by_day(_local_days(args[0], t, _zone(t, tz_arg)), compute, rtype.dtype)
            else:
                out = compute(_local_seconds(args[0], t, _zone(t, tz_arg))).astype(rtype.dtype)
            return V.fixed(rtype, out)

        return rtype, impl

    return resolve


def _ymd(days):
    return _k().civil_from_days(days)


_part("toYear", T.UInt16, lambda d: _ymd(d)[0], monotonic=_always_increasing)
_part("toMonth", T.UInt8, lambda d: _ymd(d)[1])
_part("toQuarter", T.UInt8, lambda d: (_ymd(d)[1] - 1) // 3 + 1)
_part("toDayOfMonth", T.UInt8, lambda d: _ymd(d)[2])
_part("toYYYYMM", T.UInt32, lambda d: (lambda y, m, _: y * 100 + m)(*_ymd(d)), monotonic=_always_increasing)
_part("toYYYYMMDD", T.UInt32, lambda d: (lambda y, m, dd: y * 10000 + m * 100 + dd)(*_ymd(d)),
      monotonic=_always_increasing)
# 1970-01-01 was a Thursday (ISO day 4)
_part("toDayOfWeek", T.UInt8, lambda d: (d + 3) % 7 + 1)
_part("toHour", T.UInt8, lambda s: (s % 86400) // 3600, day_based=False)
_part("toMinute", T.UInt8, lambda s: (s % 3600) // 60, day_based=False)
_part("toSecond", T.UInt8, lambda s: s % 60, day_based=False)


# --------------------------------------------------------------------------- start of ...


def _start_of_time(name: str, step: int, date_ok: bool = False):
    """toStartOf{Minute,FiveMinutes,FifteenMinutes,Hour,Day}: DateTime in the argument's zone."""

    @register(name, monotonic=_always_increasing)
    def resolve(types, consts):
        check_arity(name, types, 1, 2)
        t = _date_time_arg(name, types, allow_date=date_ok)
        tz_arg = _tz_arg(name, types, consts, 1)
        tz = _zone(t, tz_arg)
        rtype = T.DateTimeType(tz_arg if tz_arg is not None else (V.tz_of(t) if _is_dt(t) else None))

        def impl(args, n):
            local = _local_seconds(args[0], t, tz)
            utc = TZ.local_to_utc(tz, local - local % step)
            return V.fixed(rtype, np.clip(utc, 0, _DT_MAX).astype(np.uint32))

        return rtype, impl

    return resolve


_start_of_time("toStartOfMinute", 60)
_start_of_time("toStartOfFiveMinutes", 300)
_start_of_time("toStartOfFiveMinute", 300)
_start_of_time("toStartOfFifteenMinutes", 900)
_start_of_time("toStartOfHour", 3600)
_start_of_time("toStartOfDay", 86400, date_ok=True)


def _start_of_date(name: str, compute, max_args: int = 2, mode_arg: bool = False):
    """toStartOf{Month,Quarter,Year}, toMonday, toStartOfWeek: a Date."""

    @register(name, monotonic=_always_increasing)
    def resolve(types, consts):
        check_arity(name, types, 1, max_args)
        t = _date_time_arg(name, types)
        mode = 0
        tz_pos = 1
        if mode_arg and len(types) >= 2:
            if not isinstance(types[1], T.IntType) or consts[1] is NOT_CONST:
                raise IllegalTypeOfArgument(f"Argument 2 (mode) of function {name} must be a constant integer")
            mode = int(consts[1])
            tz_pos = 2
        tz_arg = _tz_arg(name, types, consts, tz_pos)

        def impl(args, n):
            days = _local_days(args[0], t, _zone(t, tz_arg))
            out = by_day(days, lambda d: np.clip(compute(d, mode), 0, _DATE_MAX), np.uint16)
            return V.fixed(T.Date, out)

        return T.Date, impl

    return resolve


def _month_start(days, mode):
    return days - _k().civil_from_days(days)[2] + 1


def _quarter_start(days, mode):
    K = _k()
    y, m, _ = K.civil_from_days(days)
    return K.days_from_civil(y, (m - 1) // 3 * 3 + 1, np.ones_like(y))


def _year_start(days, mode):
    K = _k()
    y, _, _ = K.civil_from_days(days)
    return K.days_from_civil(y, np.ones_like(y), np.ones_like(y))


def _week_start(days, mode):
    # ISO weekday: Monday 0 .. Sunday 6 (1970-01-01 was a Thursday = 3)
    wd = (days + 3) % 7
    if mode % 2 == 1:  # modes 1, 3, 5, 7: weeks start on Monday
        return days - wd
    return days - (wd + 1) % 7


_start_of_date("toStartOfMonth", _month_start)
_start_of_date("toStartOfQuarter", _quarter_start)
_start_of_date("toStartOfYear", _year_start)
_start_of_date("toMonday", lambda d, m: _week_start(d, 1))
_start_of_date("toStartOfWeek", _week_start, max_args=3, mode_arg=True)


# --------------------------------------------------------------------------- now / today


@register("now", case_insensitive=True, aliases=("current_timestamp",))
def now(types, consts):
    check_arity("now", types, 0, 1)
    tz = _tz_arg("now", types, consts, 0)
    rtype = T.DateTimeType(tz)
    value = int(_time.time())

    def impl(args, n):
        return V.ConstColumn(V.fixed(rtype, np.array([value], np.uint32)), n)

    return rtype, impl


@register("today", case_insensitive=True, aliases=("curdate", "current_date"))
def today(types, consts):
    check_arity("today", types, 0)
    value = int(_time.time()) // 86400

    def impl(args, n):
        return V.ConstColumn(V.fixed(T.Date, np.array([value], np.uint16)), n)

    return T.Date, impl


# --------------------------------------------------------------------------- INTERVAL arithmetic

INTERVAL_UNITS = {  # unit -> (function suffix, seconds per unit or None for calendar units)
    "SECOND": ("Seconds", 1),
    "MINUTE": ("Minutes", 60),
    "HOUR": ("Hours", 3600),
    "DAY": ("Days", None),
    "WEEK": ("Weeks", None),
    "MONTH": ("Months", None),
    "QUARTER": ("Quarters", None),
    "YEAR": ("Years", None),
}


def interval_function(unit: str, subtract: bool) -> str:
    """Name of the function implementing ``x +/- INTERVAL n unit`` (``addDays``...)."""
    suffix = INTERVAL_UNITS[unit.upper()][0]
    return ("subtract" if subtract else "add") + suffix


def _shift_monotonic(types, consts, i):
    if i == 0 and consts[1] is not NOT_CONST:
        return Monotonicity(increasing=True, always=False)
    return None


def _register_interval(unit: str, subtract: bool):
    suffix, seconds = INTERVAL_UNITS[unit]
    name = ("subtract" if subtract else "add") + suffix
    sign = -1 if subtract else 1

    @register(name, monotonic=_shift_monotonic)
    def resolve(types, consts):
        check_arity(name, types, 2)
        t = _date_time_arg(name, types)
        if not isinstance(types[1], (T.IntType, T.FloatType)):
            raise illegal_type(name, types[1], 1)
        tz = V.tz_of(t)
        if _is_date(t) and seconds is not None:
            if isinstance(t, T.Date32Type):
                raise IllegalTypeOfArgument(f"Function {name} of Date32 is not supported")
            rtype = T.DateTime
        else:
            rtype = t

        def amount(args):
            k = V.values(args[1])
            return (np.trunc(k) if k.dtype.kind == "f" else k).astype(np.int64) * sign

        def impl(args, n):
            k = amount(args)
            c = args[0]
            if seconds is not None:  # a fixed number of seconds
                if _is_date(t):
                    secs = V.values(c).astype(np.int64) * 86400 + k * seconds
                    return V.fixed(rtype, secs.astype(np.uint32))
                if isinstance(t, T.DateTime64Type):
                    return V.fixed(rtype, V.values(c).astype(np.int64) + k * seconds * t.scale)
                return V.fixed(rtype, (V.values(c).astype(np.int64) + k * seconds).astype(np.uint32))
            months = {"Months": 1, "Quarters": 3, "Years": 12}.get(suffix)
            days_step = {"Days": 1, "Weeks": 7}.get(suffix)
            if _is_date(t):
                d = V.values(c).astype(np.int64)
                if months is None:
                    d = d + k * days_step
                elif k.shape[0] == 1:
                    d = by_day(d, lambda x: _k().add_months(x, k * months), np.int64)
                else:
                    d = _k().add_months(d, k * months)
                return V.fixed(rtype, d.astype(rtype.dtype))
            # DateTime: calendar arithmetic on the wall clock, keeping the time of day
            frac = 0
            if isinstance(t, T.DateTime64Type):
                ticks = V.values(c).astype(np.int64)
                frac = ticks % t.scale
            local = _local_seconds(c, t, tz)
            if months is None and TZ.is_utc(tz):
                utc = local + k * (days_step * 86400)
            else:
                days, tod = local // 86400, local % 86400
                if months is None:
                    days = days + k * days_step
                elif k.shape[0] == 1:  # a constant shift: once per distinct day
                    days = by_day(days, lambda d: _k().add_months(d, k * months), np.int64)
                else:
                    days = _k().add_months(days, k * months)
                utc = TZ.local_to_utc(tz, days * 86400 + tod)
            if isinstance(t, T.DateTime64Type):
                return V.fixed(rtype, utc * t.scale + frac)
            if months is not None:  # observed: clamps below 1970, wraps above 2106
                utc = np.maximum(utc, 0)
            return V.fixed(rtype, utc.astype(np.uint32))

        return rtype, impl

    return resolve


for _unit in INTERVAL_UNITS:
    _register_interval(_unit, False)
    _register_interval(_unit, True)


# --------------------------------------------------------------------------- buckets and differences

_UNIT_SECONDS = {"SECOND": 1, "MINUTE": 60, "HOUR": 3600}


@register("toStartOfInterval")
def to_start_of_interval(types, consts):
    check_arity("toStartOfInterval", types, 2, 3)
    t = _date_time_arg("toStartOfInterval", types)
    if isinstance(t, T.DateTime64Type) or isinstance(t, T.Date32Type):
        raise IllegalTypeOfArgument(f"toStartOfInterval of {t} is not supported yet")
    it = types[1]
    if not isinstance(it, V.IntervalType) or consts[1] is NOT_CONST:
        raise IllegalTypeOfArgument("Argument 2 of function toStartOfInterval must be a constant INTERVAL")
    n = int(consts[1])
    if n <= 0:
        raise BadFunctionArguments("Value for second argument of function toStartOfInterval "
                                   "should be greater than zero")
    unit = it.unit
    tz_arg = _tz_arg("toStartOfInterval", types, consts, 2)
    tz = _zone(t, tz_arg)
    by_time = unit in _UNIT_SECONDS or unit == "DAY"
    rtype = T.DateTimeType(tz_arg if tz_arg is not None else (V.tz_of(t) if _is_dt(t) else None)) if by_time \
        else T.Date

    def impl(args, rows):
        if unit in ("SECOND", "MINUTE"):  # observed: aligned on UTC epoch seconds
            utc = (_epoch_seconds(args[0], t) if _is_dt(t)
                   else TZ.local_to_utc(tz, V.values(args[0]).astype(np.int64) * 86400))
            step = n * _UNIT_SECONDS[unit]
            return V.fixed(rtype, np.clip(utc - utc % step, 0, _DT_MAX).astype(np.uint32))
        local = _local_seconds(args[0], t, tz)
        if by_time:
            if unit == "HOUR":  # observed: hours counted from the local midnight
                tod = local % 86400
                start = local - tod + tod // (3600 * n) * (3600 * n)
            else:  # DAY: local days since the epoch
                start = local - local % (86400 * n)
            utc = TZ.local_to_utc(tz, start)
            return V.fixed(rtype, np.clip(utc, 0, _DT_MAX).astype(np.uint32))
        days = local // 86400
        if unit == "WEEK":  # weeks counted from Monday 1970-01-05
            fn = lambda d: np.maximum((d - 4) // (7 * n) * (7 * n) + 4, 0)  # noqa: E731
        else:
            months = {"MONTH": n, "QUARTER": 3 * n, "YEAR": 12 * n}[unit]

            def fn(d):
                y, m, _ = _k().civil_from_days(d)
                k = (y - 1970) * 12 + (m - 1)
                k = k // months * months
                return _k().days_from_civil(1970 + k // 12, k % 12 + 1, np.ones_like(k))
        out = by_day(days, lambda d: np.clip(fn(d), 0, _DATE_MAX), np.uint16)
        return V.fixed(T.Date, out)

    return rtype, impl


_DIFF_UNITS = {"second": "second", "ss": "second", "s": "second", "minute": "minute", "mi": "minute", "n": "minute",
               "hour": "hour", "hh": "hour", "h": "hour", "day": "day", "dd": "day", "d": "day",
               "week": "week", "wk": "week", "ww": "week", "month": "month", "mm": "month", "m": "month",
               "quarter": "quarter", "qq": "quarter", "q": "quarter", "year": "year", "yyyy": "year",
               "yy": "year"}


def _relative(c, t, unit: str, tz) -> np.ndarray:
    """ClickHouse's toRelative<Unit>Num of a date/time in zone tz."""
    if unit in ("second", "minute", "hour"):
        # ClickHouse counts these on UTC seconds shifted by the zone's offset at the epoch
        # (so DST never changes them; Asia/Kolkata hours still start at :30 UTC)
        if _is_date(t):
            secs = TZ.local_to_utc(tz, V.values(c).astype(np.int64) * 86400)
        else:
            secs = _epoch_seconds(c, t)
        if unit == "second":
            return secs
        secs = secs + int(TZ.utc_offsets(tz, np.zeros(1, np.int64))[0])
        return secs // 60 if unit == "minute" else secs // 3600
    local = _local_seconds(c, t, tz)
    if unit == "hour":
        return local // 3600
    days = local // 86400
    if unit == "day":
        return days
    if unit == "week":
        return (days + 3) // 7
    y, m, _ = _k().civil_from_days(days)
    if unit == "month":
        return y * 12 + m
    if unit == "quarter":
        return y * 4 + (m - 1) // 3
    return y


@register("dateDiff", case_insensitive=True, aliases=("date_diff", "timestampDiff", "timestamp_diff"))
def date_diff(types, consts):
    check_arity("dateDiff", types, 3, 4)
    if not isinstance(types[0], T.StringType) or consts[0] is NOT_CONST:
        raise IllegalTypeOfArgument("First argument (unit) of function dateDiff must be a constant string")
    unit = _DIFF_UNITS.get(str(consts[0]).lower().rstrip("s") if str(consts[0]).lower() not in _DIFF_UNITS
                           else str(consts[0]).lower())
    if unit is None:
        raise BadFunctionArguments(f"Function dateDiff does not support '{consts[0]}' unit")
    ta = _date_time_arg("dateDiff", types, 1)
    tb = _date_time_arg("dateDiff", types, 2)
    tz_arg = _tz_arg("dateDiff", types, consts, 3)

    def impl(args, n):
        a = _relative(args[1], ta, unit, _zone(ta, tz_arg))
        b = _relative(args[2], tb, unit, _zone(tb, tz_arg))
        return V.fixed(T.Int64, np.broadcast_to(b - a, (n,)).astype(np.int64))

    return T.Int64, impl


_TRUNC_TO = {"second": None, "minute": "toStartOfMinute", "hour": "toStartOfHour", "day": "toStartOfDay",
             "week": "toMonday", "month": "toStartOfMonth", "quarter": "toStartOfQuarter", "year": "toStartOfYear"}


@register("date_trunc", case_insensitive=True, aliases=("dateTrunc",))
def date_trunc(types, consts):
    from mergetree.functions.registry import get_function, prepare_call

    check_arity("date_trunc", types, 2, 3)
    if not isinstance(types[0], T.StringType) or consts[0] is NOT_CONST:
        raise IllegalTypeOfArgument("First argument (unit) of function date_trunc must be a constant string")
    unit = str(consts[0]).lower()
    if unit not in _TRUNC_TO:
        raise BadFunctionArguments(f"Function date_trunc does not support '{consts[0]}' unit")
    t = _date_time_arg("date_trunc", types, 1)
    if _TRUNC_TO[unit] is None:
        if not _is_dt(t):
            raise IllegalTypeOfArgument(f"date_trunc('second') of {t} is not supported")
        return t, lambda args, n: args[1]
    inner = prepare_call(get_function(_TRUNC_TO[unit]), list(types[1:]), list(consts[1:]))

    def impl(args, n):
        return inner.run(args[1:], n)

    return inner.type, impl


# --------------------------------------------------------------------------- formatDateTime and small parts

_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"]
_WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_COMPOSITE = {"F": "%Y-%m-%d", "T": "%H:%i:%S", "D": "%m/%d/%y", "R": "%H:%i", "r": "%I:%i %p"}
_PRIMITIVES = set("YyCGVmcdeHkIhlisSpfjuwQMWab")


def _format_plan(fmt: str) -> list:
    """[('lit', text) | ('spec', letter)] of a formatDateTime format (composites expanded)."""
    out = []
    i = 0
    lit = []
    while i < len(fmt):
        ch = fmt[i]
        if ch != "%":
            lit.append(ch)
            i += 1
            continue
        if i + 1 >= len(fmt):
            raise BadFunctionArguments("'%' must not be the last character in the format string, use '%%' instead")
        spec = fmt[i + 1]
        i += 2
        if spec in _COMPOSITE:
            sub = _format_plan(_COMPOSITE[spec])
            for kind, v in sub:
                if kind == "lit":
                    lit.append(v)
                else:
                    if lit:
                        out.append(("lit", "".join(lit)))
                        lit = []
                    out.append((kind, v))
            continue
        if spec in "%nt":
            lit.append({"%": "%", "n": "\n", "t": "\t"}[spec])
            continue
        if spec not in _PRIMITIVES:
            raise BadFunctionArguments(f"Incorrect syntax '%{spec}', symbol is not supported '{spec}' "
                                       "for function formatDateTime")
        if lit:
            out.append(("lit", "".join(lit)))
            lit = []
        out.append(("spec", spec))
    if lit:
        out.append(("lit", "".join(lit)))
    return out


def _digits_column(values: np.ndarray, width: int):
    from mergetree.functions.strings import _digits_into

    mat = np.empty((len(values), width), np.uint8)
    _digits_into(mat, 0, values.astype(np.int64), width)
    return StringColumn(T.String, np.arange(len(values) + 1, dtype=np.int64) * width, mat.reshape(-1))


def _names_column(names: list[str], index: np.ndarray):
    table = StringColumn.from_bytes_list([s.encode() for s in names])
    return table.take(index.astype(np.int64))


@register("formatDateTime", case_insensitive=True, aliases=("DATE_FORMAT",))
def format_datetime(types, consts):
    check_arity("formatDateTime", types, 2, 3)
    t = _date_time_arg("formatDateTime", types)
    if not isinstance(types[1], T.StringType) or consts[1] is NOT_CONST:
        raise IllegalTypeOfArgument("Argument 2 (format) of function formatDateTime must be a constant string")
    plan = _format_plan(str(consts[1]))
    tz_arg = _tz_arg("formatDateTime", types, consts, 2)

    def impl(args, n):
        from mergetree.functions.registry import get_function, prepare_call
        from mergetree.kernels.format import format_ints

        c = args[0]
        local = _local_seconds(c, t, _zone(t, tz_arg))
        days, tod = local // 86400, local % 86400
        y, m, d = _k().civil_from_days(days)
        hour, minute, second = tod // 3600, (tod // 60) % 60, tod % 60
        wd = (days + 3) % 7 + 1  # ISO: Monday 1
        doy = days - _k().days_from_civil(y, np.ones_like(y), np.ones_like(y)) + 1
        h12 = np.where(hour % 12 == 0, 12, hour % 12)
        parts = []
        for kind, v in plan:
            if kind == "lit":
                parts.append(V.string_const(v, n))
                continue
            if v in "YG":
                if v == "G":  # ISO year: the year of this week's Thursday
                    parts.append(_digits_column(_k().civil_from_days(days - wd + 4)[0], 4))
                else:
                    parts.append(_digits_column(y, 4))
            elif v == "y":
                parts.append(_digits_column(y % 100, 2))
            elif v == "C":
                parts.append(_digits_column(y // 100, 2))
            elif v == "V":
                thursday = days - wd + 4
                ty = _k().civil_from_days(thursday)[0]
                tdoy = thursday - _k().days_from_civil(ty, np.ones_like(ty), np.ones_like(ty))
                parts.append(_digits_column(tdoy // 7 + 1, 2))
            elif v in "mc":
                parts.append(_digits_column(m, 2))
            elif v == "d":
                parts.append(_digits_column(d, 2))
            elif v == "e":
                parts.append(StringColumn(T.String, *format_ints(d.astype(np.int64))))
            elif v in "Hk":
                parts.append(_digits_column(hour, 2))
            elif v in "Ihl":
                parts.append(_digits_column(h12, 2))
            elif v == "i":
                parts.append(_digits_column(minute, 2))
            elif v in "Ss":
                parts.append(_digits_column(second, 2))
            elif v == "p":
                parts.append(_names_column(["AM", "PM"], (hour >= 12).astype(np.int64)))
            elif v == "f":
                if isinstance(t, T.DateTime64Type):
                    frac = V.values(c).astype(np.int64) % t.scale * (10 ** 6) // t.scale
                else:
                    frac = np.zeros(len(days), np.int64)
                parts.append(_digits_column(frac, 6))
            elif v == "j":
                parts.append(_digits_column(doy, 3))
            elif v == "u":
                parts.append(_digits_column(wd, 1))
            elif v == "w":
                parts.append(_digits_column(wd % 7, 1))
            elif v == "Q":
                parts.append(_digits_column((m - 1) // 3 + 1, 1))
            elif v == "M":
                parts.append(_names_column(_MONTHS, m - 1))
            elif v == "b":
                parts.append(_names_column([s[:3] for s in _MONTHS], m - 1))
            elif v == "W":
                parts.append(_names_column(_WEEKDAYS, wd - 1))
            elif v == "a":
                parts.append(_names_column([s[:3] for s in _WEEKDAYS], wd - 1))
        if not parts:
            return V.string_const("", n)
        rows = len(days)
        parts = [p.with_size(rows) if V.is_const(p) else p for p in parts]
        call = prepare_call(get_function("concat"), [T.String] * len(parts), [NOT_CONST] * len(parts))
        return V.materialize(call.run(parts, rows))

    return T.String, impl


_part("toDayOfYear", T.UInt16, lambda d: d - _k().days_from_civil(_ymd(d)[0], np.ones_like(d), np.ones_like(d)) + 1)
_part("toRelativeDayNum", T.UInt32, lambda d: d, monotonic=_always_increasing)
_start_of_time("toStartOfTenMinutes", 600)


@register("yesterday", case_insensitive=True)
def yesterday(types, consts):
    check_arity("yesterday", types, 0)
    value = int(_time.time()) // 86400 - 1

    def impl(args, n):
        return V.ConstColumn(V.fixed(T.Date, np.array([value], np.uint16)), n)

    return T.Date, impl


@register("fromUnixTimestamp", case_insensitive=True, aliases=("FROM_UNIXTIME",))
def from_unix_timestamp(types, consts):
    """fromUnixTimestamp(x) is toDateTime(x); with a format, formatDateTime(toDateTime(x), fmt[, tz])."""
    from mergetree.functions.registry import get_function, prepare_call

    check_arity("fromUnixTimestamp", types, 1, 3)
    if not isinstance(types[0], (T.IntType, T.FloatType)):
        raise illegal_type("fromUnixTimestamp", types[0], 0)
    to_dt = prepare_call(get_function("toDateTime"), [types[0]], [NOT_CONST])
    if len(types) == 1:
        return to_dt.type, lambda args, n: to_dt.run(args, n)
    fmt = prepare_call(get_function("formatDateTime"), [to_dt.type, *types[1:]], [NOT_CONST, *list(consts)[1:]])

    def impl(args, n):
        return fmt.run([to_dt.run(args[:1], n), *args[1:]], n)

    return fmt.type, impl


def _best_effort(name: str, mode: str):
    @register(name)
    def resolve(types, consts):
        check_arity(name, types, 1, 2)
        if not isinstance(types[0], T.StringType):
            raise illegal_type(name, types[0], 0)
        tz = _tz_arg(name, types, consts, 1)
        plain = T.DateTimeType(tz)
        rtype = T.Nullable(plain) if mode == "null" else plain

        def impl(args, n):
            from mergetree.functions.comparison import _string_parts

            offsets, data = _string_parts(args[0])
            secs, status = _k().parse_datetime(offsets, data)
            bad = status == 0
            if mode == "plain" and bad.any():
                i = int(np.argmax(bad))
                text = bytes(data[offsets[i]:offsets[i + 1]]).decode("utf-8", "replace")
                raise CannotParseDateTimeError(f"Cannot read DateTime: unrecognized value '{text}' (function {name})")
            utc = np.where(status == 2, secs, TZ.local_to_utc(tz, secs))
            utc = np.where(bad, 0, np.clip(utc, 0, _DT_MAX))
            col = V.fixed(plain, utc.astype(np.uint32))
            if mode == "null":
                col = V.with_nulls(col, bad, rtype)
            return V.ConstColumn(col, n) if V.is_const(args[0]) else col

        return rtype, impl

    return resolve


# the formats of kernels.datetime.parse_datetime (ISO-like text and unix timestamps), a subset of
# ClickHouse's best-effort parser (no month names, no RFC 2822)
_best_effort("parseDateTimeBestEffort", "plain")
_best_effort("parseDateTimeBestEffortOrNull", "null")
_best_effort("parseDateTimeBestEffortOrZero", "zero")


# ClickHouse's case-insensitive SQL-compatibility aliases (the canonical names stay case-sensitive)
for _alias, _target in (("YEAR", "toYear"), ("MONTH", "toMonth"), ("QUARTER", "toQuarter"), ("DAY", "toDayOfMonth"),
                        ("DAYOFMONTH", "toDayOfMonth"), ("DAYOFWEEK", "toDayOfWeek"), ("DAYOFYEAR", "toDayOfYear"),
                        ("HOUR", "toHour"), ("MINUTE", "toMinute"), ("SECOND", "toSecond"), ("DATE", "toDate")):
    register_alias(_alias, _target)


# --------------------------------------------------------------------------- the long tail (H5)
# toDate32, now64, toISOWeek, toISOYear, toWeek, toYearWeek, toRelative*Num, dateAdd/dateSub/
# timestampAdd/timestampSub (x, INTERVAL) (the parser turns dateAdd(unit, n, x) into
# x + INTERVAL n unit), parseDateTime64BestEffort[OrNull|OrZero], fromUnixTimestamp64Milli/
# Micro/Nano/Second, toUnixTimestamp64Milli/Micro/Nano/Second, toTimeZone, timeSlot.

_DATE32_MAX = 2932896  # 9999-12-31: a larger number given to toDate32 is a unix timestamp


@register("toDate32", monotonic=_always_increasing)
def to_date32(types, consts):
    check_arity("toDate32", types, 1, 2)
    t = types[0]
    tz_arg = _tz_arg("toDate32", types, consts, 1)
    if not (_is_dt(t) or _is_date(t) or isinstance(t, (T.StringType, T.IntType, T.FloatType))):
        raise illegal_type("toDate32", t, 0)

    def impl(args, n):
        c = args[0]
        if _is_date(t):
            days = V.values(c).astype(np.int64)
        elif isinstance(t, T.StringType):
            from mergetree.functions.comparison import _string_parts

            offsets, data = _string_parts(c)
            secs, status = _k().parse_datetime(offsets, data)
            if (status == 0).any():
                i = int(np.argmin(status))
                bad = bytes(data[offsets[i]:offsets[i + 1]]).decode("utf-8", "replace")
                raise parse_error(bad, "Date32")
            local = np.where(status == 2, TZ.utc_to_local(_zone(t, tz_arg), secs), secs)
            days = local // 86400
        elif isinstance(t, (T.IntType, T.FloatType)):
            v = V.values(c)
            v = np.trunc(v).astype(np.int64) if v.dtype.kind == "f" else v.astype(np.int64)
            # as toDate: a number beyond the Date32 day range is a unix timestamp
            as_ts = v > _DATE32_MAX
            days = np.where(as_ts, TZ.utc_to_local(tz_arg, np.where(as_ts, v, 0)) // 86400, v)
        else:
            days = _local_days(c, t, _zone(t, tz_arg))
        return V.fixed(T.Date32, days.astype(np.int32))

    return T.Date32, impl


@register("now64", case_insensitive=True)
def now64(types, consts):
    check_arity("now64", types, 0, 2)
    p = 3
    if types:
        if not isinstance(types[0], T.IntType) or consts[0] is NOT_CONST or not 0 <= int(consts[0]) <= 9:
            raise IllegalTypeOfArgument("Argument 1 (scale) of function now64 must be a constant integer 0..9")
        p = int(consts[0])
    tz = _tz_arg("now64", types, consts, 1)
    rtype = T.DateTime64(p, tz)
    value = int(_time.time_ns() // 10 ** (9 - p))

    def impl(args, n):
        return V.ConstColumn(V.fixed(rtype, np.array([value], np.int64)), n)

    return rtype, impl


def _iso_week_year(days):
    wd = (days + 3) % 7  # Monday = 0
    thursday = days - wd + 3
    y, _, _ = _ymd(thursday)
    jan1 = _k().days_from_civil(y, np.ones_like(y), np.ones_like(y))
    return (thursday - jan1) // 7 + 1, y


def _days_in_year(y):
    return 365 + ((y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0))).astype(np.int64)


def week_and_year(days: np.ndarray, mode: int) -> tuple[np.ndarray, np.ndarray]:
    """MySQL/ClickHouse week number and its year for week mode 0..9 (vectorized calc_week).

    Bits: 1 Monday first, 2 weeks 1..53 (else 0..53), 4 week 1 is the first week with 4+ days
    (toggled for Sunday-first modes), 8 week 1 is the week containing January 1."""
    days = np.asarray(days, np.int64)
    if mode & 8:
        monday_first = bool(mode & 1)
        wd = (days + 3) % 7 if monday_first else (days + 4) % 7
        y, _, _ = _ymd(days)
        start = days - wd
        nxt = _k().days_from_civil(y + 1, np.ones_like(y), np.ones_like(y))
        nxt_start = nxt - ((nxt + 3) % 7 if monday_first else (nxt + 4) % 7)
        in_next = days >= nxt_start
        jan1 = _k().days_from_civil(y, np.ones_like(y), np.ones_like(y))
        jan1_start = jan1 - ((jan1 + 3) % 7 if monday_first else (jan1 + 4) % 7)
        week = (start - jan1_start) // 7 + 1
        return np.where(in_next, 1, week), np.where(in_next, y + 1, y)
    behaviour = mode & 7
    if not behaviour & 1:
        behaviour ^= 4
    monday_first = bool(behaviour & 1)
    week_year = np.full(days.shape, bool(behaviour & 2))
    first_weekday = bool(behaviour & 4)
    y, m, d = _ymd(days)
    first = _k().days_from_civil(y, np.ones_like(y), np.ones_like(y))
    weekday = (first + 3) % 7 if monday_first else (first + 4) % 7
    year = y.copy()

    def late_first(wdv):
        return (wdv != 0) if first_weekday else (wdv >= 4)

    early = (m == 1) & (d <= 7 - weekday)
    zero = early & ~week_year & late_first(weekday)
    move = early & ~zero
    year = np.where(move, year - 1, year)
    prev_days = _days_in_year(year)
    first = np.where(move, first - prev_days, first)
    weekday = np.where(move, (weekday + 53 * 7 - prev_days) % 7, weekday)
    week_year = week_year | move
    offset = np.where(late_first(weekday), days - (first + (7 - weekday)), days - (first - weekday))
    week = offset // 7 + 1
    wd2 = (weekday + _days_in_year(year)) % 7
    bump = week_year & (offset >= 52 * 7) & ((wd2 < 4) if not first_weekday else (wd2 == 0))
    week = np.where(bump, 1, week)
    year = np.where(bump, year + 1, year)
    week = np.where(zero, 0, week)
    year = np.where(zero, y, year)
    return week, year


def _week_function(name: str, with_year: bool, default_mode: int, iso: bool = False):
    @register(name)
    def resolve(types, consts):
        check_arity(name, types, 1, 1 if iso else 3)
        t = _date_time_arg(name, types)
        mode = default_mode
        if len(types) >= 2:
            if not isinstance(types[1], T.IntType) or consts[1] is NOT_CONST:
                raise IllegalTypeOfArgument(f"Argument 2 (mode) of function {name} must be a constant integer")
            mode = int(consts[1])
        tz_arg = _tz_arg(name, types, consts, 2)
        rtype = T.UInt32 if with_year else T.UInt8

        def compute(days):
            if iso:
                w, y = _iso_week_year(days)
                return y if with_year else w
            w, y = week_and_year(days, mode | (2 if with_year else 0))
            return y * 100 + w if with_year else w

        def impl(args, n):
            return V.fixed(rtype, by_day(_local_days(args[0], t, _zone(t, tz_arg)), compute, rtype.dtype))

        return rtype, impl

    return resolve


_week_function("toISOWeek", False, 3, iso=True)
_week_function("toWeek", False, 0)
_week_function("toYearWeek", True, 0)
_part("toISOYear", T.UInt16, lambda d: _iso_week_year(d)[1])
register_alias("WEEK", "toWeek")
register_alias("YEARWEEK", "toYearWeek")


_WHOLE_HOURS: dict = {}


def _zone_hour_rules(tz) -> tuple[bool, int]:
    """(offsets were whole hours over 1970..2106, offset at the epoch) of a zone, as ClickHouse's
    date LUT sees it."""
    key = tz or "UTC"
    if key not in _WHOLE_HOURS:
        probes = np.array([(y - 1970) * 31556952 + k * 2629746 for y in range(1970, 2107) for k in (0, 3, 6, 9)],
                          np.int64)
        offs = TZ.utc_offsets(tz, probes)
        _WHOLE_HOURS[key] = (bool((offs % 3600 == 0).all()),
                             int(TZ.utc_offsets(tz, np.zeros(1, np.int64))[0]))
    return _WHOLE_HOURS[key]


def _relative_num(unit: str):
    name = f"toRelative{unit}Num"
    rtype = T.UInt32

    @register(name, monotonic=_always_increasing)
    def resolve(types, consts):
        check_arity(name, types, 1, 2)
        t = _date_time_arg(name, types)
        tz_arg = _tz_arg(name, types, consts, 1)

        def impl(args, n):
            c = args[0]
            tz = _zone(t, tz_arg)
            if unit in ("Second", "Minute", "Hour"):
                secs = TZ.local_to_utc(tz, V.values(c).astype(np.int64) * 86400) if _is_date(t) \
                    else _epoch_seconds(c, t)
                if unit == "Second":
                    out = secs
                elif unit == "Minute":
                    out = secs // 60
                else:
                    whole, off0 = _zone_hour_rules(tz)
                    out = secs // 3600 if whole else (secs + 86400 - off0) // 3600
            else:
                days = _local_days(c, t, tz)
                if unit == "Day":
                    out = days
                elif unit == "Week":
                    out = (days + 3) // 7
                else:
                    y, m, _ = _ymd(days)
                    out = {"Month": y * 12 + m, "Quarter": y * 4 + (m - 1) // 3, "Year": y}[unit]
            return V.fixed(rtype, out.astype(np.uint32))

        return rtype, impl

    return resolve


for _u in ("Second", "Minute", "Hour", "Week", "Month", "Quarter", "Year"):
    _relative_num(_u)


def _date_add_interval(name: str, subtract: bool):
    """dateAdd(x, INTERVAL n unit) (the three-argument form is rewritten by the parser)."""
    from mergetree.functions.registry import get_function, prepare_call

    @register(name, case_insensitive=True)
    def resolve(types, consts):
        check_arity(name, types, 2)
        if not isinstance(types[1], V.IntervalType):
            if isinstance(types[0], V.IntervalType):  # dateAdd(INTERVAL, x)
                types = [types[1], types[0]]
                swap = True
            else:
                raise IllegalTypeOfArgument(f"Function {name} expects (date, INTERVAL) or (unit, n, date)")
        else:
            swap = False
        call = prepare_call(get_function(interval_function(types[1].unit, subtract)), [types[0], T.Int64],
                            [NOT_CONST, NOT_CONST])

        def impl(args, n):
            a, b = (args[1], args[0]) if swap else (args[0], args[1])
            k = V.values(b).astype(np.int64)
            return call.run([a, V.fixed(T.Int64, k) if not V.is_const(b) else V.ConstColumn(V.fixed(T.Int64, k), n)],
                            n)

        return call.type, impl

    return resolve


for _n, _s in (("dateAdd", False), ("date_add", False), ("timestampAdd", False), ("timestamp_add", False),
               ("dateSub", True), ("date_sub", True), ("timestampSub", True), ("timestamp_sub", True)):
    _date_add_interval(_n, _s)


def _best_effort64(name: str, mode: str):
    @register(name)
    def resolve(types, consts):
        check_arity(name, types, 1, 3)
        if not isinstance(types[0], T.StringType):
            raise illegal_type(name, types[0], 0)
        p = 3
        if len(types) >= 2:
            if not isinstance(types[1], T.IntType) or consts[1] is NOT_CONST or not 0 <= int(consts[1]) <= 9:
                raise IllegalTypeOfArgument(f"Argument 2 (precision) of function {name} must be a constant 0..9")
            p = int(consts[1])
        tz = _tz_arg(name, types, consts, 2)
        plain = T.DateTime64(p, tz)
        rtype = T.Nullable(plain) if mode == "null" else plain
        scale = 10 ** p

        def impl(args, n):
            from mergetree.functions.comparison import _string_parts

            offsets, data = _string_parts(args[0])
            secs, status, nanos = _k().parse_datetime(offsets, data, with_fraction=True)
            bad = status == 0
            if mode == "plain" and bad.any():
                i = int(np.argmax(bad))
                text = bytes(data[offsets[i]:offsets[i + 1]]).decode("utf-8", "replace")
                raise CannotParseDateTimeError(f"Cannot read DateTime64: unrecognized value '{text}' (function {name})")
            utc = np.where(status == 2, secs, TZ.local_to_utc(tz, secs))
            ticks = np.where(bad, 0, utc * scale + nanos // (10 ** (9 - p)))
            col = V.fixed(plain, ticks.astype(np.int64))
            if mode == "null":
                col = V.with_nulls(col, bad, rtype)
            return V.ConstColumn(col, n) if V.is_const(args[0]) else col

        return rtype, impl

    return resolve


_best_effort64("parseDateTime64BestEffort", "plain")
_best_effort64("parseDateTime64BestEffortOrNull", "null")
_best_effort64("parseDateTime64BestEffortOrZero", "zero")


_TICK_UNITS = {"Second": 0, "Milli": 3, "Micro": 6, "Nano": 9}


def _from_unix64(unit: str):
    name = f"fromUnixTimestamp64{unit}"
    p = _TICK_UNITS[unit]

    @register(name)
    def resolve(types, consts):
        check_arity(name, types, 1, 2)
        if not isinstance(types[0], T.IntType):
            raise illegal_type(name, types[0], 0)
        tz = _tz_arg(name, types, consts, 1)
        rtype = T.DateTime64(p, tz)
        return rtype, lambda args, n: V.fixed(rtype, V.values(args[0]).astype(np.int64))

    return resolve


def _to_unix64(unit: str):
    name = f"toUnixTimestamp64{unit}"
    p = _TICK_UNITS[unit]

    @register(name)
    def resolve(types, consts):
        check_arity(name, types, 1)
        t = types[0]
        if not isinstance(t, (T.DateTime64Type, T.DateTimeType)):
            raise illegal_type(name, t, 0)

        def impl(args, n):
            v = V.values(args[0]).astype(np.int64)
            src = t.precision if isinstance(t, T.DateTime64Type) else 0
            out = v * 10 ** (p - src) if p >= src else np.floor_divide(v, 10 ** (src - p))
            return V.fixed(T.Int64, out)

        return T.Int64, impl

    return resolve


for _u in _TICK_UNITS:
    _from_unix64(_u)
    _to_unix64(_u)


@register("toTimeZone", case_insensitive=True, aliases=("toTimezone",))
def to_time_zone(types, consts):
    """The same instants shown in another zone: only the type changes."""
    check_arity("toTimeZone", types, 2)
    t = types[0]
    if not _is_dt(t):
        raise IllegalTypeOfArgument(f"Illegal type {t} of argument of function toTimezone. "
                                    "Should be DateTime or DateTime64")
    tz = _tz_arg("toTimeZone", types, consts, 1)
    rtype = T.DateTime64(t.precision, tz) if isinstance(t, T.DateTime64Type) else T.DateTimeType(tz)
    return rtype, lambda args, n: V.fixed(rtype, V.values(args[0]))


@register("timeSlot")
def time_slot(types, consts):
    """The half hour the instant falls in, on the UTC timestamp (so zones with a :15/:45 offset
    show :15/:45 slots, as in ClickHouse)."""
    check_arity("timeSlot", types, 1, 2)
    t = _date_time_arg("timeSlot", types, allow_date=False)
    tz_arg = _tz_arg("timeSlot", types, consts, 1)
    if isinstance(t, T.DateTime64Type):
        rtype = T.DateTime64(t.precision, tz_arg if tz_arg is not None else t.timezone)

        def impl64(args, n):
            v = V.values(args[0]).astype(np.int64)
            return V.fixed(rtype, (v // (1800 * t.scale)) * (1800 * t.scale))

        return rtype, impl64
    rtype = T.DateTimeType(tz_arg if tz_arg is not None else t.timezone)

    def impl(args, n):
        v = V.values(args[0]).astype(np.int64)
        return V.fixed(rtype, (v // 1800 * 1800).astype(np.uint32))

    return rtype, impl


def _or_parse(name: str, target: str, mode: str):
    """toDateOrNull / toDateOrZero / toDateTimeOrNull / toDateTimeOrZero / toDate32OrNull /
    toDate32OrZero of text: unparsable text gives NULL or the zero value (1970-01-01, or
    1900-01-01 for Date32)."""

    @register(name)
    def resolve(types, consts):
        check_arity(name, types, 1, 2)
        if not isinstance(types[0], T.StringType):
            raise IllegalTypeOfArgument(f"Conversion functions with postfix 'OrZero' or 'OrNull' should take "
                                        f"String argument (function {name})")
        tz = _tz_arg(name, types, consts, 1)
        plain = {"Date": T.Date, "Date32": T.Date32, "DateTime": T.DateTimeType(tz)}[target]
        rtype = T.Nullable(plain) if mode == "null" else plain

        def impl(args, n):
            from mergetree.functions.comparison import _string_parts

            offsets, data = _string_parts(args[0])
            secs, status = _k().parse_datetime(offsets, data)
            bad = status == 0
            if target == "DateTime":
                utc = np.where(status == 2, secs, TZ.local_to_utc(tz, secs))
                vals = np.where(bad, 0, np.clip(utc, 0, _DT_MAX)).astype(np.uint32)
            else:
                local = np.where(status == 2, TZ.utc_to_local(tz, secs), secs)
                days = local // 86400
                if target == "Date":
                    vals = np.where(bad, 0, np.clip(days, 0, _DATE_MAX)).astype(np.uint16)
                else:
                    vals = np.where(bad, -25567, days).astype(np.int32)
            col = V.fixed(plain, vals)
            if mode == "null":
                col = V.with_nulls(col, bad, rtype)
            return V.ConstColumn(col, n) if V.is_const(args[0]) else col

        return rtype, impl

    return resolve


for _t in ("Date", "Date32", "DateTime"):
    _or_parse(f"to{_t}OrNull", _t, "null")
    _or_parse(f"to{_t}OrZero", _t, "zero")


def _last_day(days):
    y, m, _ = _ymd(days)
    first = _k().days_from_civil(y, m, np.ones_like(m))
    return _k().add_months(first, np.ones_like(first)) - 1


_start_of_date("toLastDayOfMonth", lambda d, mode: _last_day(d))
_part("toYYYYMMDDhhmmss", T.UInt64,
      lambda s: (lambda y, m, d: ((y * 100 + m) * 100 + d) * 1000000)(*_ymd(s // 86400))
      + (s % 86400) // 3600 * 10000 + (s % 3600) // 60 * 100 + s % 60, day_based=False)
