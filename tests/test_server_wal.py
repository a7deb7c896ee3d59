"""Write-ahead log replay: a crash anywhere never loses an acknowledged row nor inserts one twice.

A crash is simulated in-process: a patched step raises ``Crash`` (a BaseException the flusher
does not catch) in the middle of a flush, then the service is abandoned without its shutdown
flush (threads stopped, files closed: the disk is what kill -9 would leave) and reopened.
"""

from __future__ import annotations

import os

import orjson
import pytest

from mergetree.server import wal as wal_mod
from mergetree.server.app import Service

SCHEMA = "id UInt32, m UInt8"


class Crash(BaseException):
    pass


def open_service(path):
    return Service(path, admin_token="adm", flush_interval=3600, merge_interval=3600)


def abandon(svc):
    """What kill -9 leaves: no final flush, no cleanup."""
    f = svc.flusher
    f.wal.close()
    f._stop.set()
    f._wake.set()
    f._thread.join()
    svc.jobs.close()
    svc.engine.close()
    os.close(svc._lock_fd)


def ingest(svc, ds, ids, bad=()):
    body = b"\n".join([orjson.dumps({"id": i, "m": i % 3}) for i in ids] +
                      [orjson.dumps({"id": "bad", "m": b}) for b in bad])
    block, rejected = svc.engine.convert(ds, body)
    q = svc.engine.quarantine_block(ds, rejected, "imp") if rejected else None
    return svc.flusher.append(ds, block, q).result(timeout=30)


def ids_of(svc, ds):
    res = svc.engine.run(f"SELECT id FROM {ds} ORDER BY id")
    return [r[0] for r in res.rows]


@pytest.fixture
def setup(tmp_path):
    svc = open_service(tmp_path)
    # 'a' partitioned by m (3 partitions), 'b' unpartitioned
    svc.engine.create_datasource("a", SCHEMA, sorting_key="id", partition_key="m")
    svc.engine.create_datasource("b", SCHEMA, sorting_key="id")
    return tmp_path, svc


def test_replay_of_never_flushed_records(setup):
    path, svc = setup
    ingest(svc, "a", range(10))
    ingest(svc, "b", range(5), bad=[7])
    abandon(svc)
    svc = open_service(path)
    try:
        assert ids_of(svc, "a") == list(range(10))
        assert ids_of(svc, "b") == list(range(5))
        assert ids_of(svc, "b_quarantine") == ["bad"]
        assert not list((path / "server" / "wal").glob("segment_*0001.wal"))
    finally:
        svc.close()


@pytest.mark.parametrize("crash_on_write", [1, 2, 3])
def test_crash_between_table_commits_and_the_flush_log(setup, monkeypatch, crash_on_write):
    """Write 1 = the flush log before any insert; 2 = 'a' done; 3 = 'b' done."""
    path, svc = setup
    ingest(svc, "a", range(0, 30))
    ingest(svc, "b", range(100, 110))
    ingest(svc, "a", range(30, 40))
    real = wal_mod.atomic_write
    calls = []

    def crashing(p, data):
        calls.append(orjson.loads(data))
        real(p, data)
        if len(calls) == crash_on_write:
            raise Crash

    monkeypatch.setattr(wal_mod, "atomic_write", crashing)
    # crash *after* the write hits the disk; for write 1 the crash is before any insert,
    # for 2 after 'a' committed and was marked, for 3 after both
    with pytest.raises(Crash):
        svc.flusher.flush()
    monkeypatch.setattr(wal_mod, "atomic_write", real)
    abandon(svc)
    svc = open_service(path)
    try:
        assert ids_of(svc, "a") == list(range(40))
        assert ids_of(svc, "b") == list(range(100, 110))
        assert not (path / "server" / "wal" / "flush.json").exists()
    finally:
        svc.close()


def test_crash_after_insert_commits_before_it_is_marked(setup, monkeypatch):
    path, svc = setup
    ingest(svc, "a", range(20))
    ingest(svc, "b", range(50, 55))
    real_insert = type(svc.engine).insert_block

    def insert_then_crash(self, name, block):
        real_insert(self, name, block)
        raise Crash          # parts committed, flush.json not yet updated

    monkeypatch.setattr(type(svc.engine), "insert_block", insert_then_crash)
    with pytest.raises(Crash):
        svc.flusher.flush()
    monkeypatch.setattr(type(svc.engine), "insert_block", real_insert)
    assert len(ids_of(svc, "a")) + len(ids_of(svc, "b")) in (20, 5)      # one table committed
    abandon(svc)
    svc = open_service(path)
    try:
        assert ids_of(svc, "a") == list(range(20))
        assert ids_of(svc, "b") == list(range(50, 55))
    finally:
        svc.close()


def test_crash_between_partitions_of_one_insert(setup, monkeypatch):
    """An insert commits one part per partition: a crash can leave some partitions committed."""
    path, svc = setup
    ingest(svc, "a", range(30))                  # m = id % 3: partitions 0, 1, 2
    real_insert = type(svc.engine).insert_block

    def first_partition_then_crash(self, name, block):
        import numpy as np

        m = np.asarray(block["m"].values)
        real_insert(self, name, block.filter(m == 1))
        raise Crash

    monkeypatch.setattr(type(svc.engine), "insert_block", first_partition_then_crash)
    with pytest.raises(Crash):
        svc.flusher.flush()
    monkeypatch.setattr(type(svc.engine), "insert_block", real_insert)
    assert ids_of(svc, "a") == [i for i in range(30) if i % 3 == 1]
    abandon(svc)
    svc = open_service(path)
    try:
        assert ids_of(svc, "a") == list(range(30))
        # and later ingest after the recovery still works and is counted once
        ingest(svc, "a", range(30, 33))
        svc.flusher.flush()
        assert ids_of(svc, "a") == list(range(33))
    finally:
        svc.close()


def test_crash_after_segments_deleted(setup, monkeypatch):
    path, svc = setup
    ingest(svc, "a", range(5))

    real_unlink = type(path).unlink

    def unlink(self, missing_ok=False):
        if self.name == "flush.json":
            raise Crash
        return real_unlink(self, missing_ok=missing_ok)

    monkeypatch.setattr(type(path), "unlink", unlink)
    with pytest.raises(Crash):
        svc.flusher.flush()
    monkeypatch.setattr(type(path), "unlink", real_unlink)
    abandon(svc)
    svc = open_service(path)
    try:
        assert ids_of(svc, "a") == list(range(5))
    finally:
        svc.close()


def test_torn_tail_is_ignored_and_later_records_survive(setup):
    path, svc = setup
    ingest(svc, "a", range(3))
    seg = sorted((path / "server" / "wal").glob("segment_*.wal"))[-1]
    abandon(svc)
    with open(seg, "ab") as f:                     # half of a record that was never acknowledged
        f.write(wal_mod.encode_record("a", None, None)[:7])
    svc = open_service(path)
    try:
        assert ids_of(svc, "a") == [0, 1, 2]
        ingest(svc, "a", [3])
        abandon(svc)
        svc = open_service(path)
        assert ids_of(svc, "a") == [0, 1, 2, 3]
    finally:
        svc.close()


def test_dropped_datasource_rows_are_discarded_not_blocking(setup):
    path, svc = setup
    ingest(svc, "b", range(3))
    with svc.engine.write_lock:
        svc.engine.drop_datasource("b")
    svc.flusher.flush()
    assert svc.flusher.dropped_rows == 3
    ingest(svc, "a", [1])
    svc.flusher.flush()
    assert ids_of(svc, "a") == [1]
    svc.close()


def test_unexpected_error_after_commit_is_retried_without_double_insert(setup, monkeypatch):
    path, svc = setup
    ingest(svc, "a", range(10))
    ingest(svc, "b", range(20, 25))
    real_insert = type(svc.engine).insert_block
    failed = []

    def fail_once_after_commit(self, name, block):
        real_insert(self, name, block)
        if not failed:
            failed.append(name)
            raise RuntimeError("a bug after the commit")

    monkeypatch.setattr(type(svc.engine), "insert_block", fail_once_after_commit)
    svc.flusher.flush()
    assert failed
    assert ids_of(svc, "a") == list(range(10))
    assert ids_of(svc, "b") == list(range(20, 25))
    svc.close()


def test_failed_flush_is_finished_before_new_records(setup, monkeypatch):
    """The flush log cannot be written: nothing inserted; the next flush takes both batches."""
    path, svc = setup
    ingest(svc, "a", range(10))
    real = wal_mod.atomic_write
    calls = []

    def fail_first(p, data):
        calls.append(1)
        if len(calls) == 1:
            raise OSError("disk hiccup")
        real(p, data)

    monkeypatch.setattr(wal_mod, "atomic_write", fail_first)
    with pytest.raises(OSError):
        svc.flusher.flush()
    ingest(svc, "a", range(10, 12))
    svc.flusher.flush()
    assert ids_of(svc, "a") == list(range(12))
    assert not list((path / "server" / "wal").glob("flush.json"))
    svc.close()
    svc = open_service(path)
    try:
        assert ids_of(svc, "a") == list(range(12))
    finally:
        svc.close()


def test_a_waiter_that_gave_up_does_not_break_the_flush(setup):
    path, svc = setup
    seq = ingest(svc, "a", [1])
    fut = svc.flusher.visible(seq)
    assert fut.cancel()                  # what asyncio.wait_for does to a wait=true that timed out
    assert svc.flusher.flush() == 1
    assert ids_of(svc, "a") == [1]
    svc.close()


def test_a_cancelled_append_does_not_kill_the_committer(setup):
    path, svc = setup
    block = svc.engine.convert("a", b'{"id": 5, "m": 0}')[0]
    with svc.flusher.wal.io_lock:
        first = svc.flusher.append("a", block)
        first.cancel()                    # the request went away before the fsync
    second = svc.flusher.append("a", block)
    assert second.result(timeout=30) > 0
    svc.flusher.flush()
    assert ids_of(svc, "a") == [5, 5]     # the cancelled request's row was logged all the same
    svc.close()


def test_clean_close_flushes_everything(setup):
    path, svc = setup
    ingest(svc, "a", range(4))
    svc.close()
    wal = path / "server" / "wal"
    assert sum(p.stat().st_size for p in wal.glob("segment_*.wal")) == 0
    svc = open_service(path)
    try:
        assert ids_of(svc, "a") == [0, 1, 2, 3]
    finally:
        svc.close()


def test_record_encodings_round_trip(tmp_path):
    """Number/date/String blocks are written compactly (MTW2), other columns pickled (MTW1); both
    read back equal, with the re-log tag, and a segment may mix them."""
    import numpy as np

    from mergetree.column import Block, FixedColumn, StringColumn, column_from_values
    from mergetree import types as T

    plain = Block({
        "id": FixedColumn(T.UInt32, np.array([1, 2], np.uint32)),
        "ts": FixedColumn(T.parse_type("DateTime('Asia/Kolkata')"), np.array([0, 86400], np.uint32)),
        "x": FixedColumn(T.Float64, np.array([1.5, -0.0])),
        "s": StringColumn(T.String, np.array([0, 2, 5], np.int64), np.frombuffer("aé\x00b".encode(), np.uint8).copy()),
    })
    nullable = Block({"n": column_from_values(T.parse_type("Nullable(Int32)"), [None, 7])})
    frames = [wal_mod.encode_record("t", plain, None), wal_mod.encode_record("t", plain, nullable, (4, "t")),
              wal_mod.encode_record("t", None, plain, (5, "t_quarantine"))]
    assert [f[:4] for f in frames] == [b"MTW2", b"MTW1", b"MTW2"]
    seg = tmp_path / "segment_0000000000000001.wal"
    seg.write_bytes(b"".join(frames))
    r1, r2, r3 = wal_mod.read_segment(seg)
    assert r1[0] == "t" and r1[2] is None and len(r1) == 3
    assert r2[3] == (4, "t") and r3[3] == (5, "t_quarantine") and r3[1] is None
    for got in (r1[1], r2[1], r3[2]):
        assert got.schema == plain.schema
        assert [c.to_pylist() for c in got.columns.values()] == [c.to_pylist() for c in plain.columns.values()]
    assert r2[2]["n"].to_pylist() == [None, 7]
