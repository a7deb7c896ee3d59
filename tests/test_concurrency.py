"""Concurrency: readers running during inserts and merges never see duplicated or missing rows.

A writer thread inserts numbered batches (each batch: rows ``(batch, seq)`` for ``seq`` in
``range(n)``), the background worker and an OPTIMIZE thread merge, and reader threads read the
whole table in a loop. Every read must be a consistent snapshot: each batch it contains appears
with all its rows exactly once; every batch acknowledged before the read started is there; no
batch that was not yet being inserted is there.
"""

from __future__ import annotations

import os
import threading
from collections import Counter

import numpy as np

import mergetree


def _batch(b: int) -> dict:
    n = 1 + (b * 37) % 60
    return {"batch": [b] * n, "seq": list(range(n)), "p": [b % 2] * n}


def test_readers_during_merges_see_consistent_snapshots(tmp_path):
    db = mergetree.connect(tmp_path, merge_interval=0.005)
    t = db.create_table("t", schema="batch UInt32, seq UInt32, p UInt8", order_by="seq, batch",
                        partition_by="p", settings={"index_granularity": 16})
    lock = threading.Lock()
    acked: set[int] = set()
    started: set[int] = set()
    stop = threading.Event()
    errors: list[str] = []
    reads = [0]

    def writer():
        try:
            for b in range(50):
                with lock:
                    started.add(b)
                db.insert("t", _batch(b))
                with lock:
                    acked.add(b)
        except Exception as e:  # noqa: BLE001
            errors.append(f"writer: {e!r}")
        finally:
            stop.set()

    def optimizer():
        while not stop.is_set():
            try:
                t.optimize(final=False)
            except Exception as e:  # noqa: BLE001
                errors.append(f"optimize: {e!r}")
                return

    def reader():
        while not stop.is_set() and not errors:
            with lock:
                before = set(acked)
            block = t.read(columns=["batch", "seq"])
            with lock:
                allowed = set(started)
            batch = block["batch"].values
            counts = Counter(batch.tolist())
            for b, c in counts.items():
                if c != len(_batch(b)["seq"]):
                    errors.append(f"batch {b}: {c} rows, expected {len(_batch(b)['seq'])}")
            pairs = np.stack([batch, block["seq"].values], axis=1)
            if len(np.unique(pairs, axis=0)) != len(pairs):
                errors.append("duplicated (batch, seq) rows")
            if missing := before - set(counts):
                errors.append(f"acknowledged batches missing: {sorted(missing)[:5]}")
            if extra := set(counts) - allowed:
                errors.append(f"batches never inserted: {sorted(extra)[:5]}")
            reads[0] += 1

    threads = [threading.Thread(target=f) for f in (writer, optimizer, reader, reader)]
    try:
        for th in threads:
            th.start()
        for th in threads:
            th.join(timeout=300)
        assert not errors, errors[:5]
        assert reads[0] > 0
        assert sorted(Counter(t.read(columns=["batch"])["batch"].to_pylist())) == list(range(50))
        # merges really happened while reading
        assert max(p["level"] for p in t.parts()) >= 1
    finally:
        stop.set()
        db.close()


def test_close_waits_for_running_merge(tmp_path, monkeypatch):
    from mergetree.storage import merger

    db = mergetree.connect(tmp_path, background_merges=False)
    t = db.create_table("t", schema="k UInt32", order_by="k")
    for i in range(5):
        db.insert("t", {"k": list(range(i * 100, i * 100 + 100))})
    in_merge = threading.Event()
    real = merger.merge_parts

    def slow_merge(*args, **kwargs):
        in_merge.set()
        threading.Event().wait(0.2)
        return real(*args, **kwargs)

    monkeypatch.setattr(merger, "merge_parts", slow_merge)
    merging = threading.Thread(target=t.optimize)
    merging.start()
    assert in_merge.wait(60)
    db.close()                      # must not return while the merge is half-way
    merging.join()
    assert sorted(os.listdir(tmp_path / "t")) == ["all_1_5_1", "detached", "metadata.json"]
    db = mergetree.connect(tmp_path, background_merges=False)
    try:
        assert sorted(db.table("t").read()["k"].to_pylist()) == list(range(500))
    finally:
        db.close()


def test_deletes_racing_merges_stay_deleted(tmp_path):
    """A lightweight delete and a merge of the same parts must not lose the delete."""
    db = mergetree.connect(tmp_path, merge_interval=0.002)
    t = db.create_table("t", schema="batch UInt32, seq UInt32, p UInt8", order_by="seq, batch",
                        partition_by="p", settings={"index_granularity": 16})
    deleted: list[int] = []
    errors: list[str] = []
    try:
        for b in range(36):
            db.insert("t", _batch(b))
            if b % 3 == 0 and b >= 3:
                victim = b - 3
                db.delete("t", f"batch = {victim}")
                deleted.append(victim)
            if b % 7 == 0:
                t.optimize(final=False)
        db.stop_merges()
        expected = Counter()
        for b in range(36):
            if b not in deleted:
                expected[b] = len(_batch(b)["seq"])
        assert Counter(t.read(columns=["batch"])["batch"].to_pylist()) == expected
        t.optimize(final=True)                  # physically dropped by the merge
        assert sum(p["rows"] for p in t.parts()) == sum(expected.values())
        assert Counter(t.read(columns=["batch"])["batch"].to_pylist()) == expected
    finally:
        db.close()
    assert not errors
