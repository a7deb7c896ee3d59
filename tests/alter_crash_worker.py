"""Subprocess for tests/test_alter_crash.py: insert, ALTER ADD/RENAME COLUMN and merge in a loop until killed.

Usage: ``python tests/alter_crash_worker.py DATA_DIR``

Table ``t (batch UInt64, seq UInt32)``. Step k: insert batch k (``seq`` 0..k % 50), print ``ACK k``;
then ``ADD COLUMN IF NOT EXISTS c<k> UInt64 DEFAULT batch + <k>``, print ``ALTER k``; every third step
an ``OPTIMIZE FINAL`` and a RENAME of the column of step k - 1 to ``r<k-1>`` (print ``RENAME k-1``).
Resumes after the highest batch present, so a restart continues where the kill stopped it.
"""

from __future__ import annotations

import sys


def main() -> None:
    import mergetree

    db = mergetree.connect(sys.argv[1], merge_interval=0.05)
    db.create_table("t", "batch UInt64, seq UInt32", order_by="batch, seq", if_not_exists=True)
    k = 1 + int(db.sql("SELECT max(batch) FROM t").rows[0][0] or 0)     # resume after the last batch
    names = db.table("t").metadata.column_names
    if k > 1 and f"c{k - 1}" not in names and f"r{k - 1}" not in names:   # killed between insert and ALTER
        db.alter_add_column("t", f"c{k - 1} UInt64 DEFAULT batch + {k - 1}")
    while True:
        n = 1 + k % 50
        db.insert("t", {"batch": [k] * n, "seq": list(range(n))})
        print(f"ACK {k}", flush=True)
        db.alter_add_column("t", f"c{k} UInt64 DEFAULT batch + {k}", if_not_exists=True)
        print(f"ALTER {k}", flush=True)
        if k % 3 == 0:
            db.optimize("t", final=True)
            if f"c{k - 1}" in db.table("t").metadata.column_names:
                db.alter_rename_column("t", f"c{k - 1}", f"r{k - 1}")
                print(f"RENAME {k - 1}", flush=True)
        k += 1


if __name__ == "__main__":
    main()
