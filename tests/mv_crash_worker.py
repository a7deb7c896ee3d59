"""Subprocess for tests/test_mv_crash.py: inserts into a source with two chained materialized views
(t -> by_p -> total) and merges, until killed. Same batches and ``ACK`` protocol as crash_worker.py.

Usage: ``python tests/mv_crash_worker.py DATA_DIR RUN_ID SEED``
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import crash_worker  # noqa: E402

BY_P = ("CREATE TABLE IF NOT EXISTS by_p (p UInt8, c AggregateFunction(count), s AggregateFunction(sum, UInt32), "
        "u AggregateFunction(uniq, UInt64), hi SimpleAggregateFunction(max, UInt64)) "
        "ENGINE = AggregatingMergeTree ORDER BY p SETTINGS index_granularity = 32")
MV1 = ("CREATE MATERIALIZED VIEW IF NOT EXISTS mv_by_p TO by_p AS SELECT p, countState() AS c, sumState(seq) AS s, "
       "uniqState(batch) AS u, max(batch) AS hi FROM t GROUP BY p")
TOTAL = ("CREATE TABLE IF NOT EXISTS total (c AggregateFunction(count), u AggregateFunction(uniq, UInt64)) "
         "ENGINE = AggregatingMergeTree ORDER BY tuple()")
MV2 = "CREATE MATERIALIZED VIEW IF NOT EXISTS mv_total TO total AS SELECT countMergeState(c) AS c, uniqMergeState(u) AS u FROM by_p"


def open_db(path: str, **options):
    db = crash_worker.open_db(path, **options)
    for s in (BY_P, MV1, TOTAL, MV2):
        db.sql(s)
    return db


def main() -> None:
    path, run_id, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rng = random.Random(seed)
    db = open_db(path, merge_interval=0.02)
    print("READY", flush=True)
    i = 0
    while True:
        batch = run_id * 1_000_000 + i
        db.insert("t", crash_worker.batch_columns(batch))
        print(f"ACK {batch}", flush=True)
        i += 1
        r = rng.random()
        if r < 0.15:
            db.optimize("by_p", final=False)
        elif r < 0.2:
            db.optimize("total", final=True)
        elif r < 0.25:
            db.optimize("t", final=False)


if __name__ == "__main__":
    main()
