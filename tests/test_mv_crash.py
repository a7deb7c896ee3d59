"""Crash safety of materialized views: kill -9 a process inserting into a source with two chained
views (t -> by_p -> total) while merges run; after recovery the source holds every acknowledged
batch exactly once (as tests/test_crash.py checks) and both views agree with the source exactly."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import mv_crash_worker  # noqa: E402
from test_crash import _check_table  # noqa: E402

WORKER = Path(__file__).parent / "mv_crash_worker.py"
ROOT = Path(__file__).parent.parent


def _run_and_kill(data_dir: Path, run_id: int, rng: random.Random) -> tuple[list[int], int]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    proc = subprocess.Popen([sys.executable, str(WORKER), str(data_dir), str(run_id), str(rng.randrange(10**6))],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    target = rng.randrange(0, 10)
    acked: list[int] = []
    try:
        line = proc.stdout.readline()
        assert line.strip() == "READY", (line, proc.stderr.read() if proc.poll() is not None else "")
        while len(acked) < target:
            line = proc.stdout.readline()
            if not line:
                break
            acked.append(int(line.split()[1]))
        time.sleep(rng.uniform(0, 0.05))
    finally:
        proc.send_signal(signal.SIGKILL)
        rest, err = proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL, f"worker exited by itself ({proc.returncode}): {err[-3000:]}"
    acked += [int(x.split()[1]) for x in rest.splitlines() if x.startswith("ACK ")]
    in_flight = (acked[-1] + 1) if acked else run_id * 1_000_000
    return acked, in_flight


def _check_views(data_dir: Path) -> None:
    db = mv_crash_worker.open_db(str(data_dir), background_merges=False)
    try:
        for name in ("by_p", "total"):
            leftovers = [p.name for p in db.table(name).path.iterdir() if p.name.startswith(("tmp_", "delete_tmp_"))]
            assert leftovers == [], f"{name}: temporary directories survived recovery: {leftovers}"
            db.table(name).verify()
        assert not list(data_dir.glob("_commit_journal*.json"))
        raw = db.sql("SELECT p, count(), sum(seq), uniq(batch), max(batch) FROM t GROUP BY p ORDER BY p").rows
        view = db.sql("SELECT p, countMerge(c), sumMerge(s), uniqMerge(u), max(hi) FROM by_p GROUP BY p ORDER BY p").rows
        assert view == raw
        total = db.sql("SELECT countMerge(c), uniqMerge(u) FROM total").rows
        assert total == db.sql("SELECT count(), uniq(batch) FROM t").rows
    finally:
        db.close()


def _trials(tmp_path: Path, n: int, seed: int) -> None:
    rng = random.Random(seed)
    data_dir = tmp_path / "data"
    acked: set[int] = set()
    maybe: set[int] = set()
    for run_id in range(1, n + 1):
        run_acked, in_flight = _run_and_kill(data_dir, run_id, rng)
        acked |= set(run_acked)
        maybe.add(in_flight)
        _check_views(data_dir)
        present = _check_table(data_dir, acked, maybe)
        if in_flight in present:
            acked.add(in_flight)
        maybe.discard(in_flight)


def test_kill_during_ingest_with_chained_views(tmp_path):
    _trials(tmp_path, n=1, seed=20261127)


@pytest.mark.slow
def test_kill_during_ingest_with_chained_views_many_times(tmp_path):
    _trials(tmp_path, n=40, seed=11)
