"""Subprocess for tests/test_crash.py: insert and merge in a loop until killed.

Usage: ``python tests/crash_worker.py DATA_DIR RUN_ID SEED``

Creates table ``t`` if needed, then inserts batch after batch; batch ``RUN_ID * 1_000_000 + i`` has
:func:`batch_rows` rows ``(batch, seq)`` for ``seq`` in ``range(n)``, all in one partition
(``p = batch % 3``), so each insert is one atomic part. After ``db.insert`` returns it prints
``ACK <batch>`` and flushes: from then on the batch must survive ``kill -9``. Between inserts it
runs explicit merges (``optimize``) and lightweight deletes that match nothing, and the background worker
merges too, so the kill lands anywhere in insert, commit, merge, rename or cleanup.
"""

from __future__ import annotations

import random
import sys

SCHEMA = "batch UInt64, seq UInt32, p UInt8, payload String"


def batch_rows(batch: int) -> int:
    return 1 + (batch * 7919) % 150


def batch_columns(batch: int) -> dict:
    n = batch_rows(batch)
    return {"batch": [batch] * n, "seq": list(range(n)), "p": [batch % 3] * n,
            "payload": [f"b{batch}-{s}" * (1 + s % 3) for s in range(n)]}


def open_db(path: str, **options):
    import mergetree

    db = mergetree.connect(path, **options)
    db.create_table("t", schema=SCHEMA, order_by="seq, batch", partition_by="p",
                    settings={"index_granularity": 32}, if_not_exists=True)
    return db


def main() -> None:
    path, run_id, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rng = random.Random(seed)
    db = open_db(path, merge_interval=0.02)
    print("READY", flush=True)
    i = 0
    while True:
        batch = run_id * 1_000_000 + i
        db.insert("t", batch_columns(batch))
        print(f"ACK {batch}", flush=True)
        i += 1
        r = rng.random()
        if r < 0.15:
            db.optimize("t", final=False)
        elif r < 0.2:
            db.optimize("t", final=True, partition=rng.randrange(3))
        elif r < 0.25:
            db.delete("t", "batch = 7")     # matches nothing; exercises mutation commits under kill


if __name__ == "__main__":
    main()
