"""Subprocess for tests/test_replace_crash.py: ``Database.replace`` in a loop until killed.

Usage: ``python tests/replace_crash_worker.py DATA_DIR RUN_ID SEED [KILL_AT_RENAME]``

Table ``t`` (partitioned by ``p``) is replaced again and again by generation ``g = RUN_ID * 1000 + i``:
:func:`gen_rows` rows ``(gen, seq, p)`` spread over several partitions, so one replace drops several
old partitions and publishes several new parts. A materialized view ``mv`` writes ``(gen, count())``
into ``tgt`` (a replace cascades to it: ``tgt`` then holds the view over the new rows only). After ``db.replace`` returns the worker prints ``ACK <gen>``.

With ``KILL_AT_RENAME=k`` the process SIGKILLs itself at the k-th rename of a ``tmp_*`` part directory of its first
replace (a deterministic kill inside the publish step); otherwise the test kills it at random.
"""

from __future__ import annotations

import os
import random
import signal
import sys

SCHEMA = "gen UInt64, seq UInt32, p UInt8"


def gen_rows(gen: int) -> int:
    return 5 + (gen * 7919) % 200


def gen_columns(gen: int) -> dict:
    n = gen_rows(gen)
    return {"gen": [gen] * n, "seq": list(range(n)), "p": [(gen + s) % 4 for s in range(n)]}


def open_db(path: str, **options):
    import mergetree

    db = mergetree.connect(path, **options)
    db.create_table("t", schema=SCHEMA, order_by="seq", partition_by="p", if_not_exists=True)
    db.create_table("tgt", schema="gen UInt64, c UInt64", order_by="gen", if_not_exists=True)
    db.sql("CREATE MATERIALIZED VIEW IF NOT EXISTS mv TO tgt AS SELECT gen, count() AS c FROM t GROUP BY gen")
    return db


def main() -> None:
    path, run_id, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    kill_at = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    rng = random.Random(seed)
    db = open_db(path, merge_interval=0.02)
    if kill_at and db.sql("SELECT count() FROM t").rows[0][0] == 0:
        db.replace("t", gen_columns(run_id * 1000 + 999))     # old rows for the armed replace to drop
        print(f"ACK {run_id * 1000 + 999}", flush=True)
    if kill_at:
        real_rename, calls = os.rename, [0]

        def rename(src, dst):      # count the publishing renames of part directories (tmp_* -> name)
            calls[0] += os.path.basename(str(src)).startswith("tmp_")
            if calls[0] == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)
            return real_rename(src, dst)

        os.rename = rename
    print("READY", flush=True)
    i = 0
    while True:
        gen = run_id * 1000 + i
        db.replace("t", gen_columns(gen))
        print(f"ACK {gen}", flush=True)
        i += 1
        if rng.random() < 0.2:
            db.insert("t", gen_columns(gen))        # an append between replaces: the next replace drops it too
            print(f"APPEND {gen}", flush=True)


if __name__ == "__main__":
    main()
