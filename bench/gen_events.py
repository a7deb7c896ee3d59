"""Deterministic, vectorised generator for the product-analytics ``events`` table.

Schema (ClickHouse spelling)::

    event_id   String    -- UUID v4 text, 36 chars
    user_id    String    -- 'user_<n>', Zipf-Mandelbrot over ~1M users
    event_type String    -- 20 values, skewed (page_view ~30%)
    properties String    -- small JSON object: page always; button / plan / amount depending on the type
    timestamp  DateTime  -- the 90 days before a fixed anchor (UTC), daily + weekly pattern

Everything is drawn from one seeded ``numpy.random.Generator`` up front as small integer "codes"
(:class:`EventCodes`); strings are then rendered from the codes in row chunks without any per-row
Python code: every string is a concatenation of *segments*, each a padded ``uint8`` matrix
``(rows, width)`` plus a length per row; hstacking the segments and compacting with a boolean
mask yields the flat ``data`` bytes of an offsets+data string column (or the bytes of NDJSON/CSV
lines) directly.  The same codes render the columns, NDJSON, CSV and Parquet, so every output of
one ``(n_rows, seed, anchor)`` holds exactly the same values.

CLI::

    python -m bench.gen_events --rows 1M --format ndjson --out events.ndjson [--seed 42] [--sorted]
"""

from __future__ import annotations

import argparse
import datetime as _dt
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "EVENTS_SCHEMA",
    "EVENT_TYPES",
    "Strings",
    "EventCodes",
    "draw_codes",
    "generate_events",
    "events_block",
    "write_ndjson",
    "write_csv",
    "write_parquet",
    "write_events",
    "parse_rows",
]

EVENTS_SCHEMA = (
    "event_id String, user_id String, event_type String, properties String, timestamp DateTime"
)
COLUMNS = ("event_id", "user_id", "event_type", "properties", "timestamp")

DEFAULT_ANCHOR = "2026-01-01 00:00:00"
N_USERS = 1_000_000
ZIPF_S = 1.0  # exponent of the Zipf-Mandelbrot law over user ranks
ZIPF_Q = 50.0  # offset that flattens the head: weight(rank k, 0-based) ~ (k + 1 + q) ** -s
SPAN_DAYS = 90
CHUNK_ROWS = 262_144  # rows rendered at a time (bounds the padded matrices to a few hundred MB)

# (event_type, weight, has_button, has_plan, has_amount); "page" is present for every type.
_TYPES = [
    ("page_view", 30.0, 0, 0, 0),
    ("click", 15.0, 1, 0, 0),
    ("scroll", 9.0, 0, 0, 0),
    ("session_start", 7.0, 0, 0, 0),
    ("session_end", 6.0, 0, 0, 0),
    ("search", 5.0, 0, 0, 0),
    ("view_item", 5.0, 0, 0, 0),
    ("login", 4.0, 1, 0, 0),
    ("add_to_cart", 3.5, 1, 0, 1),
    ("video_play", 2.0, 0, 0, 0),
    ("error", 1.8, 0, 0, 0),
    ("begin_checkout", 1.5, 1, 1, 1),
    ("logout", 1.5, 1, 0, 0),
    ("purchase", 1.0, 0, 1, 1),
    ("remove_from_cart", 1.0, 1, 0, 1),
    ("signup", 0.8, 1, 1, 0),
    ("video_complete", 0.8, 0, 0, 0),
    ("share", 0.7, 1, 0, 0),
    ("comment", 0.6, 0, 0, 0),
    ("subscribe", 0.4, 1, 1, 1),
]
EVENT_TYPES = [t[0] for t in _TYPES]
_TYPE_P = np.array([t[1] for t in _TYPES]) / sum(t[1] for t in _TYPES)
_HAS_BUTTON = np.array([t[2] for t in _TYPES], dtype=bool)
_HAS_PLAN = np.array([t[3] for t in _TYPES], dtype=bool)
_HAS_AMOUNT = np.array([t[4] for t in _TYPES], dtype=bool)

PAGES = [
    "/", "/home", "/pricing", "/features", "/about", "/blog", "/contact", "/login", "/signup",
    "/dashboard", "/settings", "/settings/billing", "/settings/team", "/docs", "/docs/quickstart",
    "/docs/api", "/docs/sql", "/docs/ingest", "/docs/endpoints", "/changelog", "/careers",
    "/customers", "/integrations", "/integrations/kafka", "/integrations/s3", "/product/1",
    "/product/2", "/product/3", "/product/4", "/product/5", "/product/6", "/product/7", "/product/8",
    "/cart", "/checkout", "/checkout/success", "/search", "/help", "/status", "/terms",
]
_PAGE_P = 1.0 / (np.arange(len(PAGES)) + 2.0) ** 1.2
_PAGE_P /= _PAGE_P.sum()
BUTTONS = [
    "buy_now", "add_to_cart", "sign_up", "log_in", "learn_more", "start_trial", "contact_sales",
    "download", "share", "subscribe", "next", "back", "close", "submit", "play",
]
_BUTTON_P = 1.0 / (np.arange(len(BUTTONS)) + 1.5)
_BUTTON_P /= _BUTTON_P.sum()
PLANS = ["free", "starter", "pro", "business", "enterprise"]
_PLAN_P = np.array([40.0, 25.0, 20.0, 10.0, 5.0])
_PLAN_P /= _PLAN_P.sum()

# Relative activity per hour of day (UTC): quiet nights, afternoon peak, smaller evening bump.
_h = np.arange(24, dtype=np.float64)
_HOUR_P = 0.12 + np.exp(-(((_h - 14.0) / 4.0) ** 2)) + 0.55 * np.exp(-(((_h - 20.5) / 2.0) ** 2))
_HOUR_P /= _HOUR_P.sum()
# Relative activity per weekday, Monday = 0.
_WEEKDAY_W = np.array([1.0, 1.05, 1.05, 1.0, 0.95, 0.65, 0.55])


# ---------------------------------------------------------------------------------------------
# Strings: offsets + data (the project's StringColumn layout) without depending on mergetree


@dataclass(frozen=True)
class Strings:
    """A string column as ``offsets`` (int64, n+1, offsets[0] == 0) and ``data`` (uint8)."""

    offsets: np.ndarray
    data: np.ndarray

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @property
    def nbytes(self) -> int:
        return int(self.offsets.nbytes + self.data.nbytes)

    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def __getitem__(self, i: int) -> str:
        return bytes(self.data[self.offsets[i] : self.offsets[i + 1]]).decode()

    def to_pylist(self) -> list[str]:
        """Python strings (for tests and small data only)."""
        raw = self.data.tobytes()
        o = self.offsets.tolist()
        return [raw[o[i] : o[i + 1]].decode() for i in range(len(o) - 1)]

    def to_numpy(self) -> np.ndarray:
        """Fixed-width numpy bytes array (dtype 'S<max_len>'), built without a per-row loop."""
        lens = self.lengths()
        n = len(lens)
        w = int(lens.max()) if n else 1
        w = max(w, 1)
        mat = np.zeros((n, w), dtype=np.uint8)
        mat[np.arange(w) < lens[:, None]] = self.data
        return mat.view(f"S{w}").reshape(n)

    def to_column(self):
        """The project's ``mergetree.column.StringColumn`` (imported lazily)."""
        from mergetree.column import StringColumn
        from mergetree.types import parse_type

        return StringColumn(parse_type("String"), self.offsets, self.data)

    def take(self, idx: np.ndarray) -> "Strings":
        lens = self.lengths()[idx]
        offsets = np.zeros(len(idx) + 1, dtype=np.int64)
        np.cumsum(lens, out=offsets[1:])
        starts = self.offsets[:-1][idx]
        # byte i of the output row r comes from starts[r] + (i - offsets[r])
        src = np.repeat(starts - offsets[:-1], lens) + np.arange(offsets[-1], dtype=np.int64)
        return Strings(offsets, self.data[src])

    @staticmethod
    def concat(parts: list["Strings"]) -> "Strings":
        if len(parts) == 1:
            return parts[0]
        total = sum(len(p) for p in parts)
        offsets = np.empty(total + 1, dtype=np.int64)
        offsets[0] = 0
        pos, base = 1, 0
        for p in parts:
            k = len(p)
            offsets[pos : pos + k] = p.offsets[1:] + base
            pos += k
            base += int(p.offsets[-1])
        return Strings(offsets, np.concatenate([p.data for p in parts]))

    @staticmethod
    def from_list(values: list[str]) -> "Strings":
        enc = [v.encode() for v in values]
        offsets = np.zeros(len(enc) + 1, dtype=np.int64)
        np.cumsum([len(b) for b in enc], out=offsets[1:])
        return Strings(offsets, np.frombuffer(b"".join(enc), dtype=np.uint8).copy())


# ---------------------------------------------------------------------------------------------
# Segments: a padded (rows, width) uint8 matrix + per-row lengths


@dataclass
class _Seg:
    mat: np.ndarray  # (n, w) uint8
    lens: np.ndarray  # (n,) int, 0 <= lens <= w

    def when(self, present: np.ndarray) -> "_Seg":
        return _Seg(self.mat, np.where(present, self.lens, 0))


def _const(text: bytes, n: int) -> _Seg:
    row = np.frombuffer(text, dtype=np.uint8)
    return _Seg(np.broadcast_to(row, (n, len(row))), np.broadcast_to(np.int64(len(row)), (n,)))


class _Dict:
    """A small dictionary of byte strings as a padded matrix, for rendering codes."""

    def __init__(self, values: list[bytes]):
        w = max(1, max(len(v) for v in values))
        self.mat = np.zeros((len(values), w), dtype=np.uint8)
        for i, v in enumerate(values):  # loop over the dictionary (small), not the rows
            self.mat[i, : len(v)] = np.frombuffer(v, dtype=np.uint8)
        self.lens = np.array([len(v) for v in values], dtype=np.int64)

    def seg(self, codes: np.ndarray) -> _Seg:
        return _Seg(self.mat[codes], self.lens[codes])


_POW10 = 10 ** np.arange(19, dtype=np.int64)


def _uint_seg(values: np.ndarray, min_digits: int = 1) -> _Seg:
    """Decimal text of non-negative integers, left-aligned, at least ``min_digits`` (zero-padded)."""
    v = values.astype(np.int64)
    n = len(v)
    vmax = int(v.max()) if n else 0
    w = max(min_digits, len(str(vmax)))
    ndig = np.full(n, min_digits, dtype=np.int64)
    for d in range(min_digits, w):
        ndig += v >= _POW10[d]
    j = np.arange(w, dtype=np.int64)
    exp = ndig[:, None] - 1 - j[None, :]
    digits = (v[:, None] // _POW10[np.clip(exp, 0, 18)]) % 10
    mat = (digits + 48).astype(np.uint8)
    return _Seg(mat, ndig)


def _fixed_seg(mat: np.ndarray) -> _Seg:
    return _Seg(mat, np.broadcast_to(np.int64(mat.shape[1]), (mat.shape[0],)))


def _full(s: _Seg) -> bool:
    """True when every row uses the segment's whole width (constant and fixed segments)."""
    sl = np.asarray(s.lens)
    return sl.strides == (0,) and len(sl) > 0 and int(sl[0]) == s.mat.shape[1]


def _compact(segs: list[_Seg]) -> tuple[np.ndarray, np.ndarray]:
    """Concatenate segments row-wise: returns (per-row lengths int64, flat bytes uint8)."""
    n = segs[0].mat.shape[0]
    width = sum(s.mat.shape[1] for s in segs)
    if all(_full(s) for s in segs):  # fixed width (e.g. UUID text): no compaction needed
        mat = np.concatenate([s.mat for s in segs], axis=1) if len(segs) > 1 else segs[0].mat
        return np.full(n, width, dtype=np.int64), np.ascontiguousarray(mat).reshape(-1)
    mat = np.empty((n, width), dtype=np.uint8)
    mask = np.empty((n, width), dtype=bool)
    lens = np.zeros(n, dtype=np.int64)
    a = 0
    for s in segs:
        w = s.mat.shape[1]
        mat[:, a : a + w] = s.mat
        sl = np.asarray(s.lens)
        if _full(s):  # always the whole width
            mask[:, a : a + w] = True
        else:
            np.less(np.arange(w)[None, :], sl[:, None], out=mask[:, a : a + w])
        lens += sl
        a += w
    return lens, mat[mask]


def _strings(segs: list[_Seg]) -> Strings:
    lens, data = _compact(segs)
    offsets = np.zeros(len(lens) + 1, dtype=np.int64)
    np.cumsum(lens, out=offsets[1:])
    return Strings(offsets, data)


# ---------------------------------------------------------------------------------------------
# Drawing


def parse_anchor(anchor: str | int | _dt.datetime) -> int:
    """Unix seconds (UTC) of the anchor; naive datetimes/strings are taken as UTC."""
    if isinstance(anchor, (int, np.integer)):
        return int(anchor)
    if isinstance(anchor, str):
        anchor = _dt.datetime.fromisoformat(anchor.replace("Z", "+00:00"))
    if anchor.tzinfo is None:
        anchor = anchor.replace(tzinfo=_dt.timezone.utc)
    return int(anchor.timestamp())


@dataclass
class EventCodes:
    """All random draws of one dataset, as compact integer arrays (the single source of truth)."""

    n: int
    seed: int
    anchor: int  # unix seconds; timestamps are in [anchor - 90 days, anchor)
    uuid: np.ndarray  # (n, 16) uint8, RFC 4122 version 4
    user: np.ndarray  # (n,) int32: the number in 'user_<n>' (1..N_USERS)
    type: np.ndarray  # (n,) uint8: index into EVENT_TYPES
    page: np.ndarray  # (n,) uint8: index into PAGES
    button: np.ndarray  # (n,) uint8: index into BUTTONS (meaningful where has_button)
    plan: np.ndarray  # (n,) uint8: index into PLANS (meaningful where has_plan)
    amount_cents: np.ndarray  # (n,) int64 (meaningful where has_amount)
    timestamp: np.ndarray  # (n,) uint32 unix seconds

    @property
    def has_button(self) -> np.ndarray:
        return _HAS_BUTTON[self.type]

    @property
    def has_plan(self) -> np.ndarray:
        return _HAS_PLAN[self.type]

    @property
    def has_amount(self) -> np.ndarray:
        return _HAS_AMOUNT[self.type]

    def take(self, idx: np.ndarray) -> "EventCodes":
        return EventCodes(
            n=len(idx), seed=self.seed, anchor=self.anchor, uuid=self.uuid[idx], user=self.user[idx],
            type=self.type[idx], page=self.page[idx], button=self.button[idx], plan=self.plan[idx],
            amount_cents=self.amount_cents[idx], timestamp=self.timestamp[idx],
        )

    def slice(self, a: int, b: int) -> "EventCodes":
        return self.take(np.arange(a, min(b, self.n)))

    def sort_order(self) -> np.ndarray:
        """Row order of ORDER BY (timestamp, user_id) (user_id compared as bytes, like ClickHouse)."""
        return np.lexsort((_user_rank()[self.user], self.timestamp))


_USER_RANK_CACHE: dict[int, np.ndarray] = {}


def _user_rank() -> np.ndarray:
    """rank[u] = position of 'user_<u>' in byte order among user_0..user_N (cached)."""
    r = _USER_RANK_CACHE.get(N_USERS)
    if r is None:
        names = _user_strings(np.arange(N_USERS + 1)).to_numpy()
        r = np.empty(N_USERS + 1, dtype=np.int64)
        r[np.argsort(names, kind="stable")] = np.arange(N_USERS + 1)
        _USER_RANK_CACHE[N_USERS] = r
    return r


_ZIPF_CDF: list[np.ndarray] = []
DRAW_BLOCK = 65_536  # rows drawn per independently seeded block (makes datasets prefix-stable)


def _zipf_cdf() -> np.ndarray:
    if not _ZIPF_CDF:
        k = np.arange(1, N_USERS + 1, dtype=np.float64)
        cdf = np.cumsum((k + ZIPF_Q) ** -ZIPF_S)
        _ZIPF_CDF.append(cdf / cdf[-1])
    return _ZIPF_CDF[0]


def _day_p(start: int) -> np.ndarray:
    days = start // 86400 + np.arange(SPAN_DAYS)
    weekday = (days + 3) % 7  # 1970-01-01 was a Thursday (Monday = 0)
    trend = np.linspace(0.85, 1.15, SPAN_DAYS)  # a growing product
    p = _WEEKDAY_W[weekday] * trend
    return p / p.sum()


def _draw_block(seed: int, block: int, start: int, perm: np.ndarray, day_p: np.ndarray) -> tuple:
    m = DRAW_BLOCK
    rng = np.random.default_rng([seed, block])
    uuid = rng.integers(0, 256, size=(m, 16), dtype=np.uint8)
    uuid[:, 6] = (uuid[:, 6] & 0x0F) | 0x40  # version 4
    uuid[:, 8] = (uuid[:, 8] & 0x3F) | 0x80  # RFC 4122 variant
    u = rng.random(m)
    order = np.argsort(u)  # sorted needles make the search over the 1M-entry CDF cache-friendly
    rank = np.empty(m, dtype=np.int64)
    rank[order] = np.searchsorted(_zipf_cdf(), u[order], side="right")
    np.minimum(rank, N_USERS - 1, out=rank)
    user = perm[rank]
    etype = rng.choice(len(EVENT_TYPES), size=m, p=_TYPE_P).astype(np.uint8)
    page = rng.choice(len(PAGES), size=m, p=_PAGE_P).astype(np.uint8)
    button = rng.choice(len(BUTTONS), size=m, p=_BUTTON_P).astype(np.uint8)
    plan = rng.choice(len(PLANS), size=m, p=_PLAN_P).astype(np.uint8)
    amount = np.clip(np.round(np.exp(rng.normal(3.3, 1.0, size=m)) * 100), 99, 9_999_999)
    day = rng.choice(SPAN_DAYS, size=m, p=day_p)
    hour = rng.choice(24, size=m, p=_HOUR_P)
    sec = rng.integers(0, 3600, size=m)
    ts = (start + day * 86400 + hour * 3600 + sec).astype(np.uint32)
    return uuid, user, etype, page, button, plan, amount.astype(np.int64), ts


def draw_codes(n_rows: int, seed: int = 42, anchor: str | int = DEFAULT_ANCHOR) -> EventCodes:
    """Draw every random quantity of ``n_rows`` events.  Rows come in blocks of ``DRAW_BLOCK``, block
    ``i`` drawn from ``numpy.random.default_rng([seed, i])``, so a smaller dataset is an exact prefix
    of a larger one with the same seed and anchor."""
    n = int(n_rows)
    if n < 0:
        raise ValueError(f"n_rows must be >= 0, got {n_rows!r}")
    a = parse_anchor(anchor)
    start = a - SPAN_DAYS * 86400
    if start % 86400:
        raise ValueError(f"anchor must be midnight UTC, got {anchor!r}")
    # user rank -> user number via a fixed permutation, so the heaviest user is not user_1
    perm = np.random.default_rng([seed, 2**32 - 1]).permutation(N_USERS).astype(np.int32) + 1
    day_p = _day_p(start)
    nblocks = -(-n // DRAW_BLOCK)
    fields = [[] for _ in range(8)]
    for b in range(nblocks):
        for acc, arr in zip(fields, _draw_block(seed, b, start, perm, day_p)):
            acc.append(arr)
    empty = [np.zeros((0, 16), np.uint8)] + [np.zeros(0, d) for d in
             (np.int32, np.uint8, np.uint8, np.uint8, np.uint8, np.int64, np.uint32)]
    cols = [np.concatenate(f)[:n] if f else e for f, e in zip(fields, empty)]
    return EventCodes(n, seed, a, *cols)


# ---------------------------------------------------------------------------------------------
# Rendering (segments)

_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_UUID_POS = np.array([i for i in range(36) if i not in (8, 13, 18, 23)])
_TYPE_DICT = _Dict([t.encode() for t in EVENT_TYPES])
_PAGE_DICT = _Dict([p.encode() for p in PAGES])
_BUTTON_DICT = _Dict([b.encode() for b in BUTTONS])
_PLAN_DICT = _Dict([p.encode() for p in PLANS])


def _uuid_seg(uuid: np.ndarray) -> _Seg:
    n = uuid.shape[0]
    nib = np.empty((n, 32), dtype=np.uint8)
    nib[:, 0::2] = uuid >> 4
    nib[:, 1::2] = uuid & 0x0F
    mat = np.full((n, 36), ord("-"), dtype=np.uint8)
    mat[:, _UUID_POS] = _HEX[nib]
    return _fixed_seg(mat)


def _user_segs(user: np.ndarray) -> list[_Seg]:
    return [_const(b"user_", len(user)), _uint_seg(user)]


def _user_strings(user: np.ndarray) -> Strings:
    return _strings(_user_segs(user))


def _properties_segs(c: EventCodes, quote: bytes = b'"') -> list[_Seg]:
    """JSON object text; ``quote`` is how a JSON quote is spelled (b'\\\\"' inside a JSON string,
    b'""' inside a CSV quoted field).  Values never contain quotes or backslashes."""
    q = quote
    n = c.n
    cents = c.amount_cents
    return [
        _const(b"{" + q + b"page" + q + b":" + q, n),
        _PAGE_DICT.seg(c.page),
        _const(q, n),
        _const(b"," + q + b"button" + q + b":" + q, n).when(c.has_button),
        _BUTTON_DICT.seg(c.button).when(c.has_button),
        _const(q, n).when(c.has_button),
        _const(b"," + q + b"plan" + q + b":" + q, n).when(c.has_plan),
        _PLAN_DICT.seg(c.plan).when(c.has_plan),
        _const(q, n).when(c.has_plan),
        _const(b"," + q + b"amount" + q + b":", n).when(c.has_amount),
        _uint_seg(cents // 100).when(c.has_amount),
        _const(b".", n).when(c.has_amount),
        _uint_seg(cents % 100, min_digits=2).when(c.has_amount),
        _const(b"}", n),
    ]


def _civil(days: np.ndarray):
    """Days since 1970-01-01 -> (year, month, day), proleptic Gregorian (H. Hinnant's algorithm)."""
    z = days.astype(np.int64) + 719468
    era = np.floor_divide(z, 146097)
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = np.where(mp < 10, mp + 3, mp - 9)
    return y + (m <= 2), m, d


def _datetime_seg(ts: np.ndarray) -> _Seg:
    """'YYYY-MM-DD hh:mm:ss' (UTC) as a fixed (n, 19) matrix."""
    t = ts.astype(np.int64)
    days, sod = np.divmod(t, 86400)
    y, m, d = _civil(days)
    parts = [(y, 4), (m, 2), (d, 2), (sod // 3600, 2), (sod // 60 % 60, 2), (sod % 60, 2)]
    mat = np.empty((len(t), 19), dtype=np.uint8)
    mat[:, [4, 7]] = ord("-")
    mat[:, 10] = ord(" ")
    mat[:, [13, 16]] = ord(":")
    pos = 0
    for v, w in parts:
        for j in range(w):
            mat[:, pos + j] = 48 + (v // 10 ** (w - 1 - j)) % 10
        pos += w + 1
    return _fixed_seg(mat)


def _render_columns(c: EventCodes) -> dict[str, Strings]:
    return {
        "event_id": _strings([_uuid_seg(c.uuid)]),
        "user_id": _strings(_user_segs(c.user)),
        "event_type": _strings([_TYPE_DICT.seg(c.type)]),
        "properties": _strings(_properties_segs(c)),
    }


def _chunks(n: int, chunk: int = CHUNK_ROWS):
    for a in range(0, n, chunk):
        yield a, min(n, a + chunk)


def _codes_for(n_rows, seed, anchor, sort: bool) -> EventCodes:
    c = draw_codes(n_rows, seed, anchor)
    if sort:
        c = c.take(c.sort_order())
    return c


def generate_events(
    n_rows: int, seed: int = 42, anchor: str | int = DEFAULT_ANCHOR, *, sort: bool = False,
    codes: EventCodes | None = None,
) -> dict[str, object]:
    """The events table as columns: 4 :class:`Strings` (offsets+data) and ``timestamp`` (uint32
    unix seconds, the DateTime physical type).  ``sort=True`` orders rows by (timestamp, user_id);
    the default (unsorted, in draw order) is the realistic input.  Same arguments -> same bytes."""
    c = codes if codes is not None else _codes_for(n_rows, seed, anchor, sort)
    pieces: dict[str, list[Strings]] = {k: [] for k in COLUMNS[:4]}
    for a, b in _chunks(c.n):
        for k, s in _render_columns(c.slice(a, b)).items():
            pieces[k].append(s)
    out: dict[str, object] = {k: Strings.concat(v) if v else Strings.from_list([]) for k, v in pieces.items()}
    out["timestamp"] = c.timestamp.copy()
    return out


def events_block(cols: dict[str, object]):
    """Wrap :func:`generate_events` output as a ``mergetree.column.Block`` (imported lazily)."""
    from mergetree.column import Block, FixedColumn
    from mergetree.types import parse_type

    out = {}
    for k in COLUMNS:
        v = cols[k]
        if isinstance(v, Strings):
            out[k] = v.to_column()
        else:
            out[k] = FixedColumn(parse_type("DateTime"), np.ascontiguousarray(v, dtype=np.uint32))
    return Block(out)


# ---------------------------------------------------------------------------------------------
# Writers


def _ndjson_segs(c: EventCodes) -> list[_Seg]:
    n = c.n
    return [
        _const(b'{"event_id":"', n), _uuid_seg(c.uuid),
        _const(b'","user_id":"', n), *_user_segs(c.user),
        _const(b'","event_type":"', n), _TYPE_DICT.seg(c.type),
        _const(b'","properties":"', n), *_properties_segs(c, quote=b'\\"'),
        _const(b'","timestamp":"', n), _datetime_seg(c.timestamp),
        _const(b'"}\n', n),
    ]


def _csv_segs(c: EventCodes) -> list[_Seg]:
    n = c.n
    return [
        _uuid_seg(c.uuid), _const(b",", n), *_user_segs(c.user), _const(b",", n),
        _TYPE_DICT.seg(c.type), _const(b',"', n), *_properties_segs(c, quote=b'""'),
        _const(b'",', n), _datetime_seg(c.timestamp), _const(b"\n", n),
    ]


def _write_text(path, c: EventCodes, segs_fn, header: bytes = b"") -> int:
    total = 0
    with open(path, "wb") as f:
        if header:
            f.write(header)
            total += len(header)
        for a, b in _chunks(c.n):
            _, data = _compact(segs_fn(c.slice(a, b)))
            f.write(memoryview(data))
            total += len(data)
    return total


def write_ndjson(path, n_rows: int = 0, seed: int = 42, anchor=DEFAULT_ANCHOR, *, sort=False,
                 codes: EventCodes | None = None) -> int:
    """One JSON object per line (ClickHouse JSONEachRow); returns the bytes written."""
    c = codes if codes is not None else _codes_for(n_rows, seed, anchor, sort)
    return _write_text(path, c, _ndjson_segs)


def write_csv(path, n_rows: int = 0, seed: int = 42, anchor=DEFAULT_ANCHOR, *, sort=False,
              codes: EventCodes | None = None) -> int:
    """CSV with a header line (ClickHouse CSVWithNames); returns the bytes written."""
    c = codes if codes is not None else _codes_for(n_rows, seed, anchor, sort)
    return _write_text(path, c, _csv_segs, header=(",".join(COLUMNS) + "\n").encode())


def write_parquet(path, n_rows: int = 0, seed: int = 42, anchor=DEFAULT_ANCHOR, *, sort=False,
                  codes: EventCodes | None = None, row_group_rows: int = 1_048_576) -> int:
    """Parquet (needs pyarrow): strings as UTF8, timestamp as timestamp[s, UTC]; returns file size."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    c = codes if codes is not None else _codes_for(n_rows, seed, anchor, sort)
    schema = pa.schema(
        [(k, pa.string()) for k in COLUMNS[:4]] + [("timestamp", pa.timestamp("s", tz="UTC"))]
    )
    with pq.ParquetWriter(str(path), schema, compression="zstd") as w:
        for a, b in _chunks(c.n, row_group_rows):
            sl = c.slice(a, b)
            arrays = []
            for k, s in _render_columns(sl).items():
                arrays.append(
                    pa.Array.from_buffers(
                        pa.string(), len(s),
                        [None, pa.py_buffer(s.offsets.astype(np.int32)), pa.py_buffer(s.data)],
                    )
                )
            arrays.append(pa.array(sl.timestamp.astype(np.int64), pa.timestamp("s", tz="UTC")))
            w.write_table(pa.Table.from_arrays(arrays, schema=schema))
    return Path(path).stat().st_size


_WRITERS = {"ndjson": write_ndjson, "jsoneachrow": write_ndjson, "csv": write_csv, "parquet": write_parquet}


def write_events(path, n_rows: int, fmt: str = "ndjson", seed: int = 42, anchor=DEFAULT_ANCHOR,
                 *, sort: bool = False, codes: EventCodes | None = None) -> int:
    try:
        fn = _WRITERS[fmt.lower()]
    except KeyError:
        raise ValueError(f"unknown format {fmt!r}; expected one of ndjson, csv, parquet") from None
    return fn(path, n_rows, seed, anchor, sort=sort, codes=codes)


def parse_rows(text: str) -> int:
    """'1M' -> 1_000_000, '10k' -> 10_000, '2.5M', '1_000', '1e6'."""
    t = text.strip().replace("_", "").lower()
    mult = {"k": 10**3, "m": 10**6, "g": 10**9, "b": 10**9}.get(t[-1:], 1)
    if mult != 1:
        t = t[:-1]
    try:
        v = float(t) * mult
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad row count {text!r} (examples: 10000, 10k, 1M)") from None
    if v < 0 or v != int(v):
        raise argparse.ArgumentTypeError(f"bad row count {text!r}")
    return int(v)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.gen_events", description=__doc__.split("\n")[0])
    p.add_argument("--rows", type=parse_rows, default=parse_rows("1M"))
    p.add_argument("--format", default="ndjson", choices=["ndjson", "csv", "parquet"])
    p.add_argument("--out", required=True, help="output file path")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--anchor", default=DEFAULT_ANCHOR, help="UTC midnight; data covers the 90 days before")
    p.add_argument("--sorted", action="store_true", help="order rows by (timestamp, user_id)")
    args = p.parse_args(argv)
    t0 = time.perf_counter()
    nbytes = write_events(args.out, args.rows, args.format, args.seed, args.anchor, sort=args.sorted)
    dt = time.perf_counter() - t0
    print(f"wrote {args.rows:,} rows, {nbytes:,} bytes to {args.out} ({args.format}) in {dt:.1f}s",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
