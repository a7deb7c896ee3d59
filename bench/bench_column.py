"""Column kernels on 1M rows: order_key (dense ranks) and take of String columns, LowCardinality
encoding, and a full ORDER BY (timestamp, user_id) permutation of an events block.

Run: ``python bench/bench_column.py [rows]`` (best of 3; wall and CPU time of this process).
"""

from __future__ import annotations

import sys
import time

import numpy as np

from mergetree import types as T
from mergetree.column import Block, LowCardinalityColumn, column_from_numpy, column_from_values


def best_of(fn, runs: int = 3) -> tuple[float, float]:
    best_wall = best_cpu = float("inf")
    for _ in range(runs):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        best_wall = min(best_wall, time.perf_counter() - w0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    return best_wall, best_cpu


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    rng = np.random.default_rng(0)
    users = column_from_values(T.String, [f"user_{i}" for i in rng.integers(0, 50_000, n)])
    event_ids = column_from_values(T.String, [f"{i:08x}-0000-4000-8000-{i * 7919 % 10 ** 12:012d}"
                                              for i in rng.permutation(n)])
    event_types = column_from_values(T.String, [("page_view", "click", "signup", "purchase")[i]
                                                for i in rng.integers(0, 4, n)])
    ts = column_from_numpy(T.DateTime, rng.integers(1_700_000_000, 1_707_776_000, n).astype(np.uint32))
    block = Block({"timestamp": ts, "user_id": users})
    perm = rng.permutation(n)
    users.slice(0, 5000).order_key()  # compile / load the numba cache
    cases = [
        ("String order_key: user_id (50k distinct)", lambda: users.order_key()),
        ("String order_key: event_id (all distinct)", lambda: event_ids.order_key()),
        ("String order_key: event_type (4 distinct)", lambda: event_types.order_key()),
        ("String take (random permutation): event_id", lambda: event_ids.take(perm)),
        ("LowCardinality(String) encode: event_type",
         lambda: LowCardinalityColumn.encode(T.LowCardinality(T.String), event_types)),
        ("Block.sort_permutation(timestamp, user_id)", lambda: block.sort_permutation(["timestamp", "user_id"])),
    ]
    print(f"{n} rows, best of 3")
    for name, fn in cases:
        wall, cpu = best_of(fn)
        print(f"  {name:46s} wall {wall * 1000:7.1f} ms | cpu {cpu * 1000:7.1f} ms  ({n / cpu / 1e6:5.1f} M rows/s)")


if __name__ == "__main__":
    main()
