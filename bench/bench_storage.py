"""pytest-benchmark micro-benchmarks of the storage layer on generated events.

    pytest bench/bench_storage.py --benchmark-enable [-k scan]     # BENCH_ROWS=1000000 for bigger

Not collected by the default test run (testpaths = tests); with the project's default
``--benchmark-disable`` each benchmark still runs once, so ``pytest bench/bench_storage.py``
doubles as a smoke test.  Every benchmark checks its result against the generator's own
numbers.  The side-by-side table with chDB is ``python -m bench.storage_report``.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from bench import gen_events as ge  # noqa: E402

mergetree = pytest.importorskip("mergetree")

ROWS = int(os.environ.get("BENCH_ROWS", "200000"))
PARTS = 10  # OPTIMIZE FINAL input: this many inserts (x 3 monthly partitions)
SCHEMA = "event_id String, user_id String, event_type String, properties String, timestamp DateTime"


@pytest.fixture(scope="module")
def events():
    return ge.generate_events(ROWS, seed=42)


@pytest.fixture(scope="module")
def block(events):
    return ge.events_block(events)


def _new_db(path: Path):
    if path.exists():
        shutil.rmtree(path)
    db = mergetree.connect(str(path), background_merges=False)
    db.create_table("events", schema=SCHEMA, engine="MergeTree", order_by="timestamp, user_id",
                    partition_by="toYYYYMM(timestamp)")
    return db


@pytest.fixture(scope="module")
def loaded(block):
    """A table holding the events, merged to one part per partition."""
    d = Path(tempfile.mkdtemp(prefix="bench-storage-"))
    db = _new_db(d / "db")
    db.insert("events", block)
    db.optimize("events", final=True)
    yield db
    db.close()
    shutil.rmtree(d, ignore_errors=True)


def test_generate_events(benchmark):
    out = benchmark(ge.generate_events, ROWS, 42)
    assert len(out["event_id"]) == ROWS


def test_insert(benchmark, block, tmp_path):
    counter = iter(range(10**6))

    def setup():
        return (_new_db(tmp_path / f"db{next(counter)}"),), {}

    def run(db):
        db.insert("events", block)
        return db

    db = benchmark.pedantic(run, setup=setup, rounds=3, iterations=1)
    assert sum(p["rows"] for p in db.table("events").parts()) == ROWS


def test_optimize_final(benchmark, block, tmp_path):
    counter = iter(range(10**6))
    step = -(-ROWS // PARTS)
    pieces = [block.slice(a, min(ROWS, a + step)) for a in range(0, ROWS, step)]

    def setup():
        db = _new_db(tmp_path / f"db{next(counter)}")
        for p in pieces:
            db.insert("events", p)
        return (db,), {}

    def run(db):
        db.optimize("events", final=True)
        return db

    db = benchmark.pedantic(run, setup=setup, rounds=3, iterations=1)
    parts = db.table("events").parts()
    assert sum(p["rows"] for p in parts) == ROWS
    assert len(parts) == len({p["partition"] for p in parts})  # one part per partition


def test_scan_timestamp(benchmark, loaded, events):
    t = loaded.table("events")
    out = benchmark(lambda: t.read(columns=["timestamp"]))
    assert int(out["timestamp"].values.astype(np.int64).sum()) == int(events["timestamp"].astype(np.int64).sum())


def test_scan_properties(benchmark, loaded, events):
    t = loaded.table("events")
    out = benchmark(lambda: t.read(columns=["properties"]))
    col = out["properties"]
    assert int(col.offsets[-1]) == int(events["properties"].offsets[-1])


def test_part_read_timestamp(benchmark, loaded, events):
    part_mod = pytest.importorskip("mergetree.storage.part")
    parts = [part_mod.DataPart.open(Path(p["path"]), verify=False) for p in loaded.table("events").parts()]
    out = benchmark(lambda: [p.read(["timestamp"]) for p in parts])
    total = sum(int(b["timestamp"].values.astype(np.int64).sum()) for b in out)
    assert total == int(events["timestamp"].astype(np.int64).sum())


def test_part_read_properties(benchmark, loaded, events):
    part_mod = pytest.importorskip("mergetree.storage.part")
    parts = [part_mod.DataPart.open(Path(p["path"]), verify=False) for p in loaded.table("events").parts()]
    out = benchmark(lambda: [p.read(["properties"]) for p in parts])
    assert sum(int(b["properties"].offsets[-1]) for b in out) == int(events["properties"].offsets[-1])


def test_bytes_on_disk_per_row(loaded, events):
    """Not timed: records bytes/row of the merged table in the benchmark JSON via print."""
    parts = loaded.table("events").parts()
    nbytes = sum(p["bytes_on_disk"] for p in parts)
    assert nbytes > 0
    print(f"\nbytes on disk per row: {nbytes / ROWS:.1f} ({len(parts)} parts)")
