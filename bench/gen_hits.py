"""Deterministic, vectorised generator for a ClickBench-like ``hits`` table (a column subset).

Not the real dataset: the columns the ClickBench-style suite (bench/suites/clickbench.sql) touches,
with cardinalities and skews in the spirit of the original (a few dominant counters, most search
phrases empty, most AdvEngineID zero, July 2013 dates).  Strings are built from small vocabularies
with numpy only (offsets + data, no per-row Python).  Output: Parquet (needs pyarrow).

    python -m bench.gen_hits --rows 1M --out hits.parquet [--seed 42]
"""

from __future__ import annotations

import argparse
import datetime as _dt

import numpy as np

HITS_SCHEMA = (
    "WatchID Int64, CounterID UInt32, EventDate Date, EventTime DateTime, UserID Int64, "
    "RegionID UInt32, AdvEngineID UInt8, ResolutionWidth UInt16, SearchEngineID UInt16, "
    "SearchPhrase String, MobilePhoneModel String, URL String, Title String, IsRefresh UInt8, "
    "DontCountHits UInt8, TraficSourceID Int8"
)
HITS_ORDER_BY = "CounterID, EventDate, UserID, EventTime, WatchID"
START = int(_dt.datetime(2013, 7, 1, tzinfo=_dt.timezone.utc).timestamp())
DAYS = 31

_WORDS = ("cars", "phone", "weather", "news", "video", "music", "download", "free", "buy", "cheap",
          "moscow", "football", "games", "online", "movie", "recipe", "photo", "maps", "bank", "hotel")
_DOMAINS = ("http://yandex.ru", "http://mail.ru", "http://vk.com", "http://google.com/search",
            "http://auto.ru", "http://avito.ru", "http://kinopoisk.ru", "http://lenta.ru",
            "http://rbc.ru", "http://ok.ru", "http://livejournal.com", "http://wikipedia.org")
_MODELS = ("iPhone", "iPad", "Galaxy", "Lumia", "Xperia", "Nexus", "HTC One", "Redmi")
_TITLES = ("Main page", "Search results", "News", "Weather forecast", "Car sale", "Video",
           "Mail", "Maps", "Online games", "Photos")


def _zipf(rng, n: int, k: int, s: float = 1.1) -> np.ndarray:
    """n draws from 0..k-1 with P(i) ~ (i+1)^-s."""
    p = 1.0 / np.arange(1, k + 1) ** s
    return np.searchsorted(np.cumsum(p / p.sum()), rng.random(n), side="right").clip(0, k - 1)


def _concat(pieces: list[tuple[np.ndarray, np.ndarray]]):
    """Row-wise concatenation of string columns given as (offsets, data) -> (offsets, data)."""
    n = len(pieces[0][0]) - 1
    lens = sum(np.diff(o) for o, _ in pieces)
    offsets = np.zeros(n + 1, np.int64)
    np.cumsum(lens, out=offsets[1:])
    data = np.empty(int(offsets[-1]), np.uint8)
    pos = offsets[:-1].copy()
    for o, d in pieces:
        ln = np.diff(o)
        # scatter each piece's bytes to its place: index of every byte within its row
        if len(d):
            row = np.repeat(np.arange(n), ln)
            within = np.arange(len(d)) - np.repeat(o[:-1], ln)
            data[pos[row] + within] = d
        pos += ln
    return offsets, data


def _vocab(words, codes: np.ndarray):
    """Strings words[codes] as (offsets, data)."""
    enc = [w.encode() for w in words]
    lens = np.array([len(w) for w in enc], np.int64)
    flat = np.frombuffer(b"".join(enc), np.uint8)
    starts = np.concatenate([[0], np.cumsum(lens)[:-1]])
    ln = lens[codes]
    offsets = np.zeros(len(codes) + 1, np.int64)
    np.cumsum(ln, out=offsets[1:])
    idx = np.repeat(starts[codes] - offsets[:-1], ln) + np.arange(int(offsets[-1]))
    return offsets, flat[idx]


def _digits(values: np.ndarray):
    """Non-negative integers as decimal text (offsets, data)."""
    v = values.astype(np.int64)
    nd = np.maximum(1, np.floor(np.log10(np.maximum(v, 1))).astype(np.int64) + 1)
    offsets = np.zeros(len(v) + 1, np.int64)
    np.cumsum(nd, out=offsets[1:])
    row = np.repeat(np.arange(len(v)), nd)
    pos_from_end = offsets[1:][row] - 1 - np.arange(int(offsets[-1]))
    data = (48 + (v[row] // 10 ** pos_from_end) % 10).astype(np.uint8)
    return offsets, data


def generate_hits(n: int, seed: int = 42) -> dict[str, np.ndarray | tuple]:
    """Columns: numbers as numpy arrays, strings as (offsets int64, data uint8)."""
    rng = np.random.default_rng(seed)
    counter_rank = _zipf(rng, n, 5000, 1.3)
    counters = rng.permutation(np.arange(1, 100_001))[:5000].astype(np.uint32)
    counters[0] = 62                            # ClickBench's favourite counter is the busiest
    event_time = (START + rng.integers(0, DAYS * 86400, n)).astype(np.uint32)
    # < 2**39: avg(UserID) must not overflow an Int64 sum (ClickHouse wraps, DuckDB does not)
    user_pool = rng.integers(1, 2**39, 200_000, dtype=np.int64)
    phrase_on = rng.random(n) < 0.15
    w1, w2 = _zipf(rng, n, len(_WORDS), 0.9), _zipf(rng, n, len(_WORDS), 0.9)
    empty = (np.zeros(n + 1, np.int64), np.zeros(0, np.uint8))
    space = _vocab([" "], np.zeros(n, np.int64))
    phrase = _concat([_vocab(_WORDS, w1), space, _vocab(_WORDS, w2)])
    phrase = _mask(phrase, phrase_on)
    model = _mask(_vocab(_MODELS, _zipf(rng, n, len(_MODELS), 1.0)), rng.random(n) < 0.08)
    url = _concat([_vocab(_DOMAINS, _zipf(rng, n, len(_DOMAINS), 1.0)),
                   _vocab(["/page/"], np.zeros(n, np.int64)), _digits(_zipf(rng, n, 20_000, 1.05))])
    url = _mask(url, rng.random(n) >= 0.02)
    title = _vocab(_TITLES, _zipf(rng, n, len(_TITLES), 1.0))
    del empty
    return {
        "WatchID": rng.integers(1, 2**62, n, dtype=np.int64),
        "CounterID": counters[counter_rank],
        "EventDate": ((event_time // 86400)).astype(np.uint16),
        "EventTime": event_time,
        "UserID": user_pool[_zipf(rng, n, len(user_pool), 0.8)],
        "RegionID": (_zipf(rng, n, 9000, 1.2) + 1).astype(np.uint32),
        "AdvEngineID": np.where(rng.random(n) < 0.03, rng.integers(1, 30, n), 0).astype(np.uint8),
        "ResolutionWidth": np.array([1920, 1366, 1280, 1440, 1024, 1600, 0], np.uint16)[
            _zipf(rng, n, 7, 1.0)],
        "SearchEngineID": np.where(phrase_on, rng.integers(1, 10, n), 0).astype(np.uint16),
        "SearchPhrase": phrase,
        "MobilePhoneModel": model,
        "URL": url,
        "Title": title,
        "IsRefresh": (rng.random(n) < 0.1).astype(np.uint8),
        "DontCountHits": (rng.random(n) < 0.05).astype(np.uint8),
        "TraficSourceID": rng.integers(-1, 10, n).astype(np.int8),
    }


def _mask(s, keep: np.ndarray):
    """Strings with rows where keep is False replaced by ''."""
    o, d = s
    ln = np.where(keep, np.diff(o), 0)
    offsets = np.zeros(len(ln) + 1, np.int64)
    np.cumsum(ln, out=offsets[1:])
    byte_keep = np.repeat(keep, np.diff(o))
    return offsets, d[byte_keep]


def write_parquet(path, n_rows: int, seed: int = 42) -> int:
    """The hits table as one Parquet file (Date as date32, DateTime as timestamp[s, UTC])."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    cols = generate_hits(n_rows, seed)
    arrays, names = [], []
    for name, v in cols.items():
        if isinstance(v, tuple):
            o, d = v
            arrays.append(pa.Array.from_buffers(pa.large_string(), n_rows,
                                                [None, pa.py_buffer(o), pa.py_buffer(d)]))
        elif name == "EventDate":
            arrays.append(pa.array(v.astype(np.int32), pa.date32()))
        elif name == "EventTime":
            arrays.append(pa.array(v.astype(np.int64), pa.timestamp("s", tz="UTC")))
        else:
            arrays.append(pa.array(v))
        names.append(name)
    pq.write_table(pa.Table.from_arrays(arrays, names=names), str(path), compression="zstd",
                   row_group_size=1_048_576)
    from pathlib import Path

    return Path(path).stat().st_size


def main(argv: list[str] | None = None) -> int:
    from bench.gen_events import parse_rows

    p = argparse.ArgumentParser(prog="python -m bench.gen_hits", description=__doc__.split("\n")[0])
    p.add_argument("--rows", type=parse_rows, default=parse_rows("1M"))
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--out", required=True)
    a = p.parse_args(argv)
    print(write_parquet(a.out, a.rows, a.seed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
