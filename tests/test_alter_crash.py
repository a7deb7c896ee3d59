"""kill -9 while columns are added, renamed and merged: after restart, every acknowledged insert is there
once, every acknowledged ALTER is there, and every column reads its DEFAULT (``batch + k``) on every row,
whichever schema version wrote the row's part (tests/alter_crash_worker.py)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

WORKER = Path(__file__).with_name("alter_crash_worker.py")


def _run_and_kill(data: Path, rng: random.Random) -> list[str]:
    env = {**os.environ, "PYTHONPATH": str(WORKER.parent.parent)}
    proc = subprocess.Popen([sys.executable, str(WORKER), str(data)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env)
    first = proc.stdout.readline()             # the worker is up (imports take seconds on a busy machine)
    time.sleep(0.3 + rng.random() * 1.5)
    proc.send_signal(signal.SIGKILL)
    out, err = proc.communicate()
    assert proc.returncode == -signal.SIGKILL, err.decode()[-2000:]
    return (first + out).decode().splitlines()


def _check(data: Path, lines: list[str]) -> None:
    import mergetree

    acked = {int(x.split()[1]) for x in lines if x.startswith("ACK ")}
    altered = {int(x.split()[1]) for x in lines if x.startswith("ALTER ")}
    renamed = {int(x.split()[1]) for x in lines if x.startswith("RENAME ")}
    db = mergetree.connect(data, background_merges=False)
    try:
        t = db.table("t")
        cols = t.metadata.column_names
        for k in altered:
            assert (f"r{k}" if k in renamed else f"c{k}") in cols, (k, cols)
        got = dict(db.sql("SELECT batch, count() FROM t GROUP BY batch").rows)
        for k in acked:
            assert got.get(k) == 1 + k % 50, (k, got.get(k))
        extra = [c for c in cols if c[0] in "cr" and c[1:].isdigit()]
        if extra:
            checks = ", ".join(f"countIf({c} != batch + {c[1:]})" for c in extra)
            assert set(db.sql(f"SELECT {checks} FROM t").rows[0]) == {0}
    finally:
        db.close()


def _trials(tmp_path, n: int, seed: int) -> None:
    rng = random.Random(seed)
    data = tmp_path / "db"
    lines: list[str] = []
    for _ in range(n):
        lines += _run_and_kill(data, rng)
        _check(data, lines)
    assert any(x.startswith("ALTER ") for x in lines)


def test_kill_during_alters(tmp_path):
    _trials(tmp_path, n=1, seed=61)


@pytest.mark.slow
def test_kill_during_alters_many_times(tmp_path):
    _trials(tmp_path, n=25, seed=5)
