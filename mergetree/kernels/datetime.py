"""Calendar kernels: days <-> (year, month, day), month arithmetic, date/time text parsing.

Dates are int64 *days since 1970-01-01* and times int64 *seconds since the epoch*;
time-zone handling happens before and after these kernels (``mergetree.functions.timezones``
turns UTC seconds into local seconds and back), so every kernel here works on the
proleptic Gregorian calendar only, with the "civil from days" arithmetic of Howard
Hinnant's date algorithms (no Python ``datetime`` per row).

Each numba kernel (``@njit(nogil=True, cache=True)``, writing into caller-allocated
outputs) has a plain-numpy twin named ``*_numpy``; the tests check that they agree on
random arrays. The public wrappers at the bottom allocate outputs and call the kernel.

Kernels:
1. `civil_from_days(days, year, month, day)`.
2. `days_from_civil(year, month, day, out)`.
3. `add_months(days, months, out)`: calendar month arithmetic, the day clamped to the
   end of the target month (2024-01-31 + 1 month = 2024-02-29), as ClickHouse does.
4. `parse_datetime(offsets, data, seconds, status, nanos)`: parse String rows
   ``YYYY-MM-DD``, ``YYYYMMDD``, ``YYYY-MM-DD hh:mm[:ss[.frac]]`` (space or ``T``), an optional
   ``Z`` or ``+hh[:mm]``/``-hh[:mm]`` suffix, or an all-digit unix timestamp (not 4 or 8 digits).
   ``status`` is 0 = unparseable, 1 = local wall-clock time, 3 = a date alone (local
   midnight), 2 = absolute (UTC seconds: had a zone suffix or was a unix timestamp);
   ``nanos`` is the fraction of a second.
   Surrounding spaces are allowed. Its twin is the regex-based `parse_datetime_reference`.
5. `offsets_by_day(ts, d0, change, after, at_start, out)`: time-zone offset of every UTC second
   from per-UTC-day tables (offset at the day's start, the moment of at most one change inside
   the day, the offset after it), built by ``mergetree.functions.timezones``.

Tiny inputs (constants, a few index entries; at most ``SMALL`` rows) go to the twins, so short
queries do not pay numba's first-call cost. Integer division is Python's floor division in
both numba and numpy, so the eras need no negative-year correction.
"""

from __future__ import annotations

import numpy as np

_compiled: dict = {}


def _jit(fn):
    """Compile `fn` with numba on first use (numba is imported lazily)."""
    k = fn.__name__
    f = _compiled.get(k)
    if f is None:
        import numba

        f = numba.njit(nogil=True, cache=True)(fn)
        _compiled[k] = f
    return f


# ---------------------------------------------------------------------------
# 1. civil from days


def _civil_from_days(days, year, month, day):
    for i in range(days.shape[0]):
        z = days[i] + 719468
        era = z // 146097
        doe = z - era * 146097
        yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
        doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
        mp = (5 * doy + 2) // 153
        d = doy - (153 * mp + 2) // 5 + 1
        m = mp + 3 if mp < 10 else mp - 9
        y = yoe + era * 400
        if m <= 2:
            y += 1
        year[i] = y
        month[i] = m
        day[i] = d


def civil_from_days_numpy(days: np.ndarray):
    z = days.astype(np.int64) + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = np.where(mp < 10, mp + 3, mp - 9)
    y = yoe + era * 400 + (m <= 2)
    return y, m, d


# ---------------------------------------------------------------------------
# 2. days from civil


def _days_from_civil(year, month, day, out):
    for i in range(year.shape[0]):
        m = month[i]
        y = year[i] - (1 if m <= 2 else 0)
        era = y // 400
        yoe = y - era * 400
        mp = m - 3 if m > 2 else m + 9
        doy = (153 * mp + 2) // 5 + day[i] - 1
        doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
        out[i] = era * 146097 + doe - 719468


def days_from_civil_numpy(year, month, day) -> np.ndarray:
    year = np.asarray(year, dtype=np.int64)
    month = np.asarray(month, dtype=np.int64)
    day = np.asarray(day, dtype=np.int64)
    y = year - (month <= 2)
    era = y // 400
    yoe = y - era * 400
    mp = np.where(month > 2, month - 3, month + 9)
    doy = (153 * mp + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


# ---------------------------------------------------------------------------
# 3. month arithmetic


def _add_months(days, months, out):
    for i in range(days.shape[0]):
        z = days[i] + 719468
        era = z // 146097
        doe = z - era * 146097
        yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
        doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
        mp = (5 * doy + 2) // 153
        d = doy - (153 * mp + 2) // 5 + 1
        m = mp + 3 if mp < 10 else mp - 9
        y = yoe + era * 400
        if m <= 2:
            y += 1
        # shift the month, floor-dividing into years
        t = y * 12 + (m - 1) + months[i]
        y = t // 12
        m = t - y * 12 + 1
        if m == 2:
            leap = (y % 4 == 0 and y % 100 != 0) or y % 400 == 0
            last = 29 if leap else 28
        elif m == 4 or m == 6 or m == 9 or m == 11:
            last = 30
        else:
            last = 31
        if d > last:
            d = last
        y2 = y - (1 if m <= 2 else 0)
        era = y2 // 400
        yoe = y2 - era * 400
        mp = m - 3 if m > 2 else m + 9
        doy = (153 * mp + 2) // 5 + d - 1
        doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
        out[i] = era * 146097 + doe - 719468


_MONTH_DAYS = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)


def add_months_numpy(days: np.ndarray, months: np.ndarray) -> np.ndarray:
    y, m, d = civil_from_days_numpy(days)
    t = y * 12 + (m - 1) + np.asarray(months, dtype=np.int64)
    y = t // 12
    m = t - y * 12 + 1
    leap = ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)
    last = _MONTH_DAYS[m - 1] + ((m == 2) & leap)
    return days_from_civil_numpy(y, m, np.minimum(d, last))


# ---------------------------------------------------------------------------
# 4. parsing date/time text


def _parse_datetime(offsets, data, seconds, status, nanos):
    for i in range(offsets.shape[0] - 1):
        p = offsets[i]
        end = offsets[i + 1]
        seconds[i] = 0
        status[i] = 0
        nanos[i] = 0
        while p < end and data[p] == 32:
            p += 1
        while end > p and data[end - 1] == 32:
            end -= 1
        # leading run of digits
        q = p
        while q < end and 48 <= data[q] <= 57:
            q += 1
        nd = q - p
        if nd == 0:
            continue
        if q == end and nd != 4 and nd != 8:
            # all digits: a unix timestamp
            v = 0
            for k in range(p, q):
                v = v * 10 + (data[k] - 48)
            seconds[i] = v
            status[i] = 2
            continue
        if nd == 8:
            y = 0
            for k in range(p, p + 4):
                y = y * 10 + (data[k] - 48)
            mo = (data[p + 4] - 48) * 10 + (data[p + 5] - 48)
            d = (data[p + 6] - 48) * 10 + (data[p + 7] - 48)
            p = q
        elif nd == 4:
            y = 0
            for k in range(p, q):
                y = y * 10 + (data[k] - 48)
            p = q
            if p >= end or data[p] != 45:
                continue
            p += 1
            mo = 0
            c = 0
            while p < end and 48 <= data[p] <= 57 and c < 2:
                mo = mo * 10 + (data[p] - 48)
                p += 1
                c += 1
            if c == 0 or p >= end or data[p] != 45:
                continue
            p += 1
            d = 0
            c = 0
            while p < end and 48 <= data[p] <= 57 and c < 2:
                d = d * 10 + (data[p] - 48)
                p += 1
                c += 1
            if c == 0:
                continue
        else:
            continue
        if mo < 1 or mo > 12 or d < 1:
            continue
        if mo == 2:
            last = 29 if ((y % 4 == 0 and y % 100 != 0) or y % 400 == 0) else 28
        elif mo == 4 or mo == 6 or mo == 9 or mo == 11:
            last = 30
        else:
            last = 31
        if d > last:
            continue
        yy = y - (1 if mo <= 2 else 0)
        era = yy // 400
        yoe = yy - era * 400
        mp = mo - 3 if mo > 2 else mo + 9
        doy = (153 * mp + 2) // 5 + d - 1
        days = era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468
        hh = 0
        mi = 0
        ss = 0
        frac = 0
        ok = True
        absolute = False
        has_time = p < end
        if p < end:
            if data[p] != 32 and data[p] != 84:  # ' ' or 'T'
                continue
            p += 1
            # hh:mm[:ss]
            vals = np.zeros(3, dtype=np.int64)
            nparts = 0
            while nparts < 3:
                c = 0
                v = 0
                while p < end and 48 <= data[p] <= 57 and c < 2:
                    v = v * 10 + (data[p] - 48)
                    p += 1
                    c += 1
                if c == 0:
                    ok = False
                    break
                vals[nparts] = v
                nparts += 1
                if p < end and data[p] == 58 and nparts < 3:
                    p += 1
                else:
                    break
            if not ok or nparts < 2:
                continue
            hh = vals[0]
            mi = vals[1]
            ss = vals[2]
            if hh > 23 or mi > 59 or ss > 59:
                continue
            if p < end and data[p] == 46:  # fraction: nanoseconds (digits beyond 9 ignored)
                p += 1
                digits = 0
                while p < end and 48 <= data[p] <= 57:
                    if digits < 9:
                        frac = frac * 10 + (data[p] - 48)
                        digits += 1
                    p += 1
                while digits < 9:
                    frac *= 10
                    digits += 1
            if p < end and data[p] == 90:  # 'Z'
                absolute = True
                p += 1
            elif p < end and (data[p] == 43 or data[p] == 45):
                sign = 1 if data[p] == 43 else -1
                p += 1
                oh = 0
                c = 0
                while p < end and 48 <= data[p] <= 57 and c < 2:
                    oh = oh * 10 + (data[p] - 48)
                    p += 1
                    c += 1
                if c != 2:
                    continue
                om = 0
                colon = p < end and data[p] == 58
                if colon:
                    p += 1
                c = 0
                while p < end and 48 <= data[p] <= 57 and c < 2:
                    om = om * 10 + (data[p] - 48)
                    p += 1
                    c += 1
                if c == 1 or (colon and c == 0):
                    continue
                absolute = True
                ss = ss - sign * (oh * 3600 + om * 60)
            if p != end:
                continue
        seconds[i] = days * 86400 + hh * 3600 + mi * 60 + ss
        status[i] = 2 if absolute else (1 if has_time else 3)
        nanos[i] = frac


def parse_datetime_reference(values: list[bytes], with_fraction: bool = False):
    """Row-by-row Python reference of `parse_datetime` (tests only; uses `datetime`)."""
    import datetime as _dt
    import re

    rx = re.compile(
        rb"^ *(?:(\d{4})-(\d{1,2})-(\d{1,2})|(\d{4})(\d{2})(\d{2}))"
        rb"(?:[ T](\d{1,2}):(\d{1,2})(?::(\d{1,2}))?(?:\.(\d*))?(Z|[+-]\d{2}(?::?\d{2})?)?)? *$")
    secs = np.zeros(len(values), dtype=np.int64)
    status = np.zeros(len(values), dtype=np.uint8)
    nanos = np.zeros(len(values), dtype=np.int64)
    for i, v in enumerate(values):
        s = v.strip(b" ")
        if s.isdigit() and len(s) not in (4, 8):
            secs[i] = int(s)
            status[i] = 2
            continue
        m = rx.match(v)
        if not m:
            continue
        g = m.groups()
        y, mo, d = (g[0], g[1], g[2]) if g[0] else (g[3], g[4], g[5])
        try:
            base = _dt.datetime(int(y), int(mo), int(d), int(g[6] or 0), int(g[7] or 0), int(g[8] or 0))
        except ValueError:
            continue
        sec = (base - _dt.datetime(1970, 1, 1)) // _dt.timedelta(seconds=1)
        st = 1 if g[6] is not None else 3
        nanos[i] = int((g[9] or b"")[:9].ljust(9, b"0"))
        z = g[10]
        if z:
            st = 2
            if z != b"Z":
                sign = 1 if z[:1] == b"+" else -1
                digits = z[1:].replace(b":", b"")
                sec -= sign * (int(digits[:2]) * 3600 + int(digits[2:4] or 0) * 60)
        secs[i] = sec
        status[i] = st
    return (secs, status, nanos) if with_fraction else (secs, status)


# ---------------------------------------------------------------------------
# 5. time-zone offsets from per-day tables


def _offsets_by_day(ts, d0, change, after, at_start, out):
    for i in range(ts.shape[0]):
        t = ts[i]
        d = t // 86400 - d0
        out[i] = after[d] if t >= change[d] else at_start[d]


def offsets_by_day_numpy(ts, d0, change, after, at_start) -> np.ndarray:
    day = ts // 86400 - d0
    return np.where(ts >= change[day], after[day], at_start[day])


# ---------------------------------------------------------------------------
# public wrappers: tiny inputs (constants, a few index entries) take the numpy twins, so a
# short query does not pay numba's first-call cost; the twins are tested equal to the kernels.

SMALL = 16


def offsets_by_day(ts: np.ndarray, d0: int, change, after, at_start) -> np.ndarray:
    ts = np.ascontiguousarray(ts, dtype=np.int64)
    out = np.empty(ts.shape[0], np.int64)
    _jit(_offsets_by_day)(ts, np.int64(d0), np.ascontiguousarray(change, np.int64),
                          np.ascontiguousarray(after, np.int64), np.ascontiguousarray(at_start, np.int64), out)
    return out


def civil_from_days(days: np.ndarray):
    """(year, month, day) int64 arrays of `days` since 1970-01-01."""
    days = np.ascontiguousarray(days, dtype=np.int64)
    n = days.shape[0]
    if n <= SMALL:
        return civil_from_days_numpy(days)
    y = np.empty(n, np.int64)
    m = np.empty(n, np.int64)
    d = np.empty(n, np.int64)
    _jit(_civil_from_days)(days, y, m, d)
    return y, m, d


def days_from_civil(year, month, day) -> np.ndarray:
    year = np.ascontiguousarray(year, dtype=np.int64)
    month = np.ascontiguousarray(month, dtype=np.int64)
    day = np.ascontiguousarray(day, dtype=np.int64)
    if year.shape[0] <= SMALL:
        return days_from_civil_numpy(year, month, day)
    out = np.empty(year.shape[0], np.int64)
    _jit(_days_from_civil)(year, month, day, out)
    return out


def add_months(days: np.ndarray, months) -> np.ndarray:
    """`days` shifted by `months` calendar months (an int or an array), day clamped."""
    days = np.ascontiguousarray(days, dtype=np.int64)
    months = np.ascontiguousarray(np.broadcast_to(np.asarray(months, dtype=np.int64), days.shape))
    if days.shape[0] <= SMALL:
        return add_months_numpy(days, months)
    out = np.empty(days.shape[0], np.int64)
    _jit(_add_months)(days, months, out)
    return out


def parse_datetime(offsets: np.ndarray, data: np.ndarray, with_fraction: bool = False):
    """Parse String rows (offsets + bytes) as date/time text: (seconds int64, status uint8),
    plus the fraction of a second in nanoseconds with ``with_fraction``."""
    offsets = np.ascontiguousarray(offsets, dtype=np.int64)
    data = np.ascontiguousarray(data, dtype=np.uint8)
    n = offsets.shape[0] - 1
    if n <= SMALL:
        return parse_datetime_reference([bytes(data[offsets[i]:offsets[i + 1]]) for i in range(n)], with_fraction)
    secs = np.empty(n, np.int64)
    status = np.empty(n, np.uint8)
    nanos = np.empty(n, np.int64)
    _jit(_parse_datetime)(offsets, data, secs, status, nanos)
    return (secs, status, nanos) if with_fraction else (secs, status)
