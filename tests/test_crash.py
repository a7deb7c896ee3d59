"""Crash safety: kill -9 a process that inserts and merges, reopen, check what survived.

The promise (ClickHouse's, with fsync on): every insert acknowledged before the kill is present
exactly once; nothing else is, except possibly the one insert in flight, which is present
entirely or not at all; no tmp_* directory remains; every part passes its checksums.
Each trial reuses the same data directory, so recovery of a recovered table is exercised too.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
import crash_worker  # noqa: E402

WORKER = Path(__file__).parent / "crash_worker.py"
ROOT = Path(__file__).parent.parent


def _run_and_kill(data_dir: Path, run_id: int, rng: random.Random) -> tuple[list[int], int]:
    """Start the worker, kill it after a random number of ACKs plus a random delay.

    Returns (acknowledged batches, the batch that may have been in flight)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    proc = subprocess.Popen([sys.executable, str(WORKER), str(data_dir), str(run_id), str(rng.randrange(10**6))],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    target = rng.randrange(0, 25)
    acked: list[int] = []
    try:
        line = proc.stdout.readline()
        assert line.strip() == "READY", (line, proc.stderr.read() if proc.poll() is not None else "")
        while len(acked) < target:
            line = proc.stdout.readline()
            if not line:
                break
            acked.append(int(line.split()[1]))
        time.sleep(rng.uniform(0, 0.03))
    finally:
        proc.send_signal(signal.SIGKILL)
        rest, err = proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL, f"worker exited by itself ({proc.returncode}): {err[-3000:]}"
    acked += [int(x.split()[1]) for x in rest.splitlines() if x.startswith("ACK ")]
    in_flight = (acked[-1] + 1) if acked else run_id * 1_000_000
    return acked, in_flight


def _check_table(data_dir: Path, acked: set[int], maybe: set[int]) -> set[int]:
    db = crash_worker.open_db(str(data_dir), background_merges=False)
    try:
        table = db.table("t")
        leftovers = [p.name for p in table.path.iterdir()
                     if p.name.startswith(("tmp_", "delete_tmp_")) or p.name.endswith(".tmp")]
        assert leftovers == [], f"temporary directories survived recovery: {leftovers}"
        broken = os.listdir(table.path / "detached")
        assert broken == [], f"parts detached as broken after a crash: {broken}"
        table.verify()                         # checksums of every active part
        block = table.read(columns=["batch", "seq"])
        batch = block["batch"].values
        seq = block["seq"].values
        counts = Counter(batch.tolist())
        present = set(counts)
        missing = acked - present
        assert not missing, f"acknowledged batches lost: {sorted(missing)[:10]}"
        unexpected = present - acked - maybe
        assert not unexpected, f"batches that were never inserted: {sorted(unexpected)[:10]}"
        for b, c in counts.items():
            n = crash_worker.batch_rows(b)
            assert c == n, f"batch {b}: {c} rows, inserted {n} (duplicated or partial)"
        # exactly once: (batch, seq) pairs are unique and complete
        order = np.lexsort((seq, batch))
        pairs = np.stack([batch[order], seq[order]], axis=1)
        assert len(np.unique(pairs, axis=0)) == len(pairs)
        # parts never overlap in block ranges (no covered part was served)
        infos = sorted((p["partition_id"], p["min_block"], p["max_block"]) for p in table.parts())
        for a, b in zip(infos, infos[1:]):
            assert a[0] != b[0] or a[2] < b[1], f"overlapping active parts {a} {b}"
        return present
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
        present = _check_table(data_dir, acked, maybe)
        # what recovery decided about the in-flight batch is final from now on
        if in_flight in present:
            acked.add(in_flight)
        maybe.discard(in_flight)


def test_kill_during_inserts_and_merges(tmp_path):
    _trials(tmp_path, n=4, seed=20261127)


@pytest.mark.slow
def test_kill_during_inserts_and_merges_many_times(tmp_path):
    _trials(tmp_path, n=60, seed=7)
