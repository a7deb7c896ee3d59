"""Time zones for date functions: UTC seconds <-> local wall-clock seconds, vectorized.

A DateTime is stored as UTC seconds; its time zone only matters for text and for date
functions (``toDate(ts)`` of a ``DateTime('Asia/Kolkata')`` is the Kolkata date). Rather than
calling ``zoneinfo`` per row, we build, once per (zone, year), the table of offset
transitions of that year (sample the offset daily, then bisect every change down to the
second) and look rows up with ``np.searchsorted``.

`local_to_utc` resolves wall-clock times the way ClickHouse's DateLUT does: use the offset in
force at the start of that local day, and if the result falls after that day's offset
change, use the offset after the change. So a time inside a spring-forward gap moves
back by the gap (Berlin 2024-03-31 02:30 -> 00:30 UTC) and an ambiguous autumn time takes
its first occurrence (Berlin 2024-10-27 02:30 -> 00:30 UTC), as observed in ClickHouse 26.9.
"""

from __future__ import annotations

import datetime as _dt
import functools
import zoneinfo

import numpy as np

SERVER_TIMEZONE = "UTC"

_MIN_YEAR = 1900
_MAX_YEAR = 2300


class InvalidTimezone(ValueError):
    pass


@functools.lru_cache(maxsize=256)
def get_zone(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError) as e:
        raise InvalidTimezone(f"Invalid time zone: '{name}'") from e


def _offset_at(zone, t: int) -> int:
    return int(_dt.datetime.fromtimestamp(t, _dt.timezone.utc).astimezone(zone).utcoffset().total_seconds())


@functools.lru_cache(maxsize=4096)
def _year_transitions(name: str, year: int) -> tuple[tuple[int, int], ...]:
    """((utc_start, offset), ...) for every offset change within `year` (UTC), plus the
    offset in force at the start of the year."""
    zone = get_zone(name)
    start = int((_dt.datetime(year, 1, 1, tzinfo=_dt.timezone.utc)).timestamp())
    end = int((_dt.datetime(year + 1, 1, 1, tzinfo=_dt.timezone.utc)).timestamp())
    out = [(start, _offset_at(zone, start))]
    prev_t, prev_off = start, out[0][1]
    t = start
    while t < end:
        t2 = min(t + 86400, end)
        off2 = _offset_at(zone, t2)
        if off2 != prev_off:
            lo, hi = prev_t, t2  # offset(lo) == prev_off, offset(hi) != prev_off
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if _offset_at(zone, mid) == prev_off:
                    lo = mid
                else:
                    hi = mid
            out.append((hi, _offset_at(zone, hi)))
            prev_off = out[-1][1]
        prev_t = t2
        t = t2
    return tuple(out)


@functools.lru_cache(maxsize=512)
def _table(name: str, y0: int, y1: int) -> tuple[np.ndarray, np.ndarray]:
    starts, offs = [], []
    for y in range(y0, y1 + 1):
        for s, o in _year_transitions(name, y):
            if offs and offs[-1] == o:
                continue
            starts.append(s)
            offs.append(o)
    return np.array(starts, dtype=np.int64), np.array(offs, dtype=np.int64)


def is_utc(name: str | None) -> bool:
    return name is None or name in ("UTC", "Etc/UTC", "GMT", "Etc/GMT", "UCT", "Universal", "Zulu")


def _year_of(t: int) -> int:
    return int(1970 + t // 31556952)


def utc_offsets(name: str | None, ts: np.ndarray) -> np.ndarray:
    """Offset in seconds (local - UTC) of zone `name` at each UTC second in `ts` (int64)."""
    ts = np.asarray(ts, dtype=np.int64)
    if is_utc(name) or ts.size == 0:
        return np.zeros(ts.shape, dtype=np.int64)
    lo, hi = int(ts.min()), int(ts.max())
    y0 = max(_MIN_YEAR, _year_of(lo) - 1)
    y1 = min(_MAX_YEAR, _year_of(hi) + 1)
    starts, offs = _table(name, y0, max(y0, y1))
    d0, d1 = lo // 86400, hi // 86400
    if ts.size >= 1024 and d1 - d0 + 1 <= ts.size // 4:
        # per-UTC-day table: offset at the day's start, and (at most one) change inside the day
        day_starts = np.arange(d0, d1 + 2, dtype=np.int64) * 86400
        k = np.clip(np.searchsorted(starts, day_starts, side="right") - 1, 0, len(offs) - 1)
        at_start = offs[k[:-1]]
        nxt = np.minimum(k[:-1] + 1, len(offs) - 1)
        change = np.where((k[:-1] + 1 < len(offs)) & (starts[nxt] < day_starts[1:]), starts[nxt], day_starts[1:])
        after = offs[nxt]
        from mergetree.kernels.datetime import offsets_by_day

        return offsets_by_day(ts, d0, change, after, at_start)
    idx = np.searchsorted(starts, ts, side="right") - 1
    np.clip(idx, 0, len(offs) - 1, out=idx)
    return offs[idx]


def utc_to_local(name: str | None, ts: np.ndarray) -> np.ndarray:
    """Wall-clock seconds (as if UTC) of UTC seconds `ts` in zone `name`."""
    ts = np.asarray(ts, dtype=np.int64)
    if is_utc(name):
        return ts
    return ts + utc_offsets(name, ts)


def local_to_utc(name: str | None, local: np.ndarray) -> np.ndarray:
    """UTC seconds of wall-clock seconds `local` in zone `name` (ClickHouse's gap/overlap rules)."""
    local = np.asarray(local, dtype=np.int64)
    if is_utc(name):
        return local
    day_start = local - local % 86400
    off_start = utc_offsets(name, day_start - utc_offsets(name, day_start))
    guess = local - off_start
    off_guess = utc_offsets(name, guess)
    return np.where(off_guess == off_start, guess, local - off_guess)
