"""Conversion throughput: 100k event rows -> Block, from a list of dicts and from NDJSON bytes.

Run: ``python bench/bench_convert.py [rows]`` (prints rows/s; best of 5 runs).
Events schema: event_id String, user_id String, event_type String, properties String
(a small JSON object), timestamp DateTime.
"""

from __future__ import annotations

import sys
import time

import orjson

from mergetree import types as T
from mergetree.convert import rows_to_block

SCHEMA = [("event_id", T.String), ("user_id", T.String), ("event_type", T.String),
          ("properties", T.String), ("timestamp", T.DateTime)]
EVENT_TYPES = ["page_view", "click", "signup", "purchase", "scroll"]


def make_events(n: int) -> list[dict]:
    base = 1_700_000_000
    rows = []
    for i in range(n):
        ts = base + i * 7
        rows.append({
            "event_id": f"{i:08x}-0000-4000-8000-{i * 7919 % 10**12:012d}",
            "user_id": f"user_{i * 31 % 5000}",
            "event_type": EVENT_TYPES[i % 5],
            "properties": orjson.dumps({"path": f"/p/{i % 97}", "ms": i % 1000}).decode(),
            "timestamp": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ts)),
        })
    return rows


def best_of(fn, runs: int = 5) -> tuple[float, float]:
    """Best wall time and best CPU time of this process (CPU time is robust on a busy machine)."""
    best_wall = best_cpu = float("inf")
    for _ in range(runs):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        best_wall = min(best_wall, time.perf_counter() - w0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    return best_wall, best_cpu


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    rows = make_events(n)
    ndjson = b"\n".join(orjson.dumps(r) for r in rows)
    iso_rows = [dict(r, timestamp=r["timestamp"].replace(" ", "T") + "Z") for r in rows]
    unix_rows = [dict(r, timestamp=1_700_000_000 + i * 7) for i, r in enumerate(rows)]
    obj_rows = [dict(r, properties=orjson.loads(r["properties"])) for r in rows]
    rows_to_block(SCHEMA, rows[:100])  # warm up (numba cache, imports)
    cases = [
        ("list of dicts ('YYYY-MM-DD hh:mm:ss')", lambda: rows_to_block(SCHEMA, rows)),
        ("list of dicts (ISO 8601 ...T...Z)", lambda: rows_to_block(SCHEMA, iso_rows)),
        ("list of dicts (unix seconds)", lambda: rows_to_block(SCHEMA, unix_rows)),
        ("list of dicts (properties as JSON object)", lambda: rows_to_block(SCHEMA, obj_rows)),
        ("NDJSON bytes", lambda: rows_to_block(SCHEMA, ndjson)),
    ]
    print(f"{n} event rows, best of 5")
    for name, fn in cases:
        wall, cpu = best_of(fn)
        print(f"  {name:45s} wall {wall * 1000:7.1f} ms {n / wall / 1e6:5.2f} M rows/s | "
              f"cpu {cpu * 1000:7.1f} ms {n / cpu / 1e6:5.2f} M rows/s")


if __name__ == "__main__":
    main()
