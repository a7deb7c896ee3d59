"""A table whose insert keeps failing: its acknowledged rows are kept (log + memory) and retried
with backoff until an insert succeeds, exactly once; the other tables keep flushing."""

from __future__ import annotations

import orjson
import pytest
from starlette.testclient import TestClient

from tests.test_server_wal import SCHEMA, Crash, abandon, ids_of, ingest, open_service


@pytest.fixture
def setup(tmp_path):
    svc = open_service(tmp_path)
    svc.engine.create_datasource("a", SCHEMA, sorting_key="id", partition_key="m")
    svc.engine.create_datasource("b", SCHEMA, sorting_key="id")
    return tmp_path, svc


def fail_n_times(monkeypatch, engine, table, n, *, after_commit=False):
    """Patch Engine.insert_block so inserts into ``table`` raise ``n`` times; returns the call log."""
    real = type(engine).insert_block
    calls = []

    def insert(self, name, block):
        calls.append((name, block.num_rows))
        if name == table and len([c for c in calls if c[0] == table]) <= n:
            if after_commit:
                real(self, name, block)
            raise RuntimeError("injected insert failure")
        return real(self, name, block)

    monkeypatch.setattr(type(engine), "insert_block", insert)
    return calls


def manual_flushes_only(f):
    """Stop the flusher thread (a wait=true waiter wakes it): the test drives every flush."""
    f._stop.set()
    f._wake.set()
    f._thread.join()
    f._stop.clear()


def test_failing_insert_keeps_rows_until_it_recovers(setup, monkeypatch):
    path, svc = setup
    f = svc.flusher
    manual_flushes_only(f)
    f.retry_backoff = 0                       # every flush is a new try
    calls = fail_n_times(monkeypatch, svc.engine, "a", 3)
    seq_a = ingest(svc, "a", range(10))
    ingest(svc, "b", range(20, 25))
    waiter = f.visible(seq_a)

    f.flush()                                 # try 1 fails; 'b' is not held back
    assert ids_of(svc, "a") == []
    assert ids_of(svc, "b") == list(range(20, 25))
    assert f.status()["failing_tables"] == 1 and f.insert_failures == 1
    assert f.pending_rows == 10               # kept in memory (and re-logged)
    assert not waiter.done()                  # wait=true follows the rows, not the batch

    ingest(svc, "a", range(10, 12))
    ingest(svc, "b", [25])
    f.flush()                                 # try 2 fails
    assert ids_of(svc, "b") == list(range(20, 26))
    f.flush()                                 # try 3 fails
    assert f.insert_failures == 3 and not waiter.done()
    assert ids_of(svc, "a") == []

    f.flush()                                 # try 4 succeeds
    assert ids_of(svc, "a") == list(range(12))            # every row, exactly once
    assert ids_of(svc, "b") == list(range(20, 26))
    assert waiter.result(timeout=5) is not None
    assert f.dropped_rows == 0 and f.status()["status"] == "ok" and f.pending_rows == 0
    assert [n for n, _ in calls].count("a") == 4
    assert not list((path / "server" / "wal").glob("flush.json"))
    svc.close()
    svc = open_service(path)                  # nothing left in the log to replay twice
    try:
        assert ids_of(svc, "a") == list(range(12))
        assert ids_of(svc, "b") == list(range(20, 26))
    finally:
        svc.close()


def test_backoff_skips_the_failing_table_but_not_the_others(setup, monkeypatch):
    path, svc = setup
    f = svc.flusher
    f.retry_backoff = 3600
    calls = fail_n_times(monkeypatch, svc.engine, "a", 1)
    ingest(svc, "a", range(5))
    f.flush()
    assert f.flush() == 0                     # only a table waiting for its next try: no work
    ingest(svc, "b", [7])
    f.flush()                                 # 'b' flushes; 'a' is re-logged, not tried again
    assert ids_of(svc, "b") == [7] and ids_of(svc, "a") == []
    assert [n for n, _ in calls].count("a") == 1
    f._failing["a"]["next_try"] = 0           # the backoff step elapsed
    ingest(svc, "b", [8])
    f.flush()
    assert ids_of(svc, "a") == list(range(5)) and ids_of(svc, "b") == [7, 8]
    assert f.dropped_rows == 0 and f.insert_failures == 1
    svc.close()


def test_failure_after_commit_does_not_insert_twice(setup, monkeypatch):
    path, svc = setup
    svc.flusher.retry_backoff = 0
    fail_n_times(monkeypatch, svc.engine, "a", 2, after_commit=True)
    ingest(svc, "a", range(6))
    svc.flusher.flush()
    ingest(svc, "a", range(6, 8))
    svc.flusher.flush()
    svc.flusher.flush()
    assert ids_of(svc, "a") == list(range(8))
    assert svc.flusher.dropped_rows == 0
    svc.close()


@pytest.mark.parametrize("crash_at", ["after_relog", "after_marked_done"])
def test_crash_while_a_table_is_failing(setup, monkeypatch, crash_at):
    """kill -9 after the rows were re-logged (before or after flush.json says so): exactly once."""
    path, svc = setup
    fail_n_times(monkeypatch, svc.engine, "a", 10 ** 9)
    ingest(svc, "a", range(4))
    ingest(svc, "b", range(10, 13))
    real_relog = type(svc.flusher)._relog

    def relog_then_crash(self, name, block, upto):
        seq = real_relog(self, name, block, upto)
        if crash_at == "after_relog":
            raise Crash()
        return seq

    monkeypatch.setattr(type(svc.flusher), "_relog", relog_then_crash)
    if crash_at == "after_marked_done":
        svc.flusher.flush()
        ingest(svc, "a", [4])
        monkeypatch.setattr(type(svc.flusher), "_failed", lambda *a: (_ for _ in ()).throw(Crash()))
        with pytest.raises(Crash):            # second try dies before anything is re-logged
            svc.flusher.retry_backoff, svc.flusher._failing["a"]["next_try"] = 0, 0
            svc.flusher.flush()
    else:
        with pytest.raises(Crash):
            svc.flusher.flush()
    abandon(svc)
    monkeypatch.undo()
    svc = open_service(path)
    try:
        want = list(range(5)) if crash_at == "after_marked_done" else list(range(4))
        assert ids_of(svc, "a") == want
        assert ids_of(svc, "b") == list(range(10, 13))
        assert svc.flusher.dropped_rows == 0
    finally:
        svc.close()


def test_failing_insert_during_replay_keeps_the_rows(setup, monkeypatch):
    path, svc = setup
    ingest(svc, "a", range(3))
    abandon(svc)
    from mergetree.server.engine import Engine

    real = Engine.insert_block
    n = []

    def fail_once(self, name, block):
        n.append(name)
        if len(n) == 1:
            raise RuntimeError("injected")
        return real(self, name, block)

    monkeypatch.setattr(Engine, "insert_block", fail_once)
    svc = open_service(path)                  # replay fails once: rows re-logged, not lost
    try:
        assert svc.flusher.insert_failures == 1 and svc.flusher.status()["failing_tables"] == 1
        assert ids_of(svc, "a") == [] and svc.flusher.pending_rows == 3
        svc.flusher._failing["a"]["next_try"] = 0      # the backoff step elapsed
        svc.flusher.flush()
        assert ids_of(svc, "a") == [0, 1, 2] and svc.flusher.dropped_rows == 0
    finally:
        svc.close()


def test_health_reports_failing_inserts_without_internals(tmp_path, monkeypatch):
    from mergetree.server.app import create_app

    admin = "admin-secret-long-enough-for-hs256-keys"
    app = create_app(tmp_path / "data", admin_token=admin, flush_interval=3600)
    with TestClient(app) as client:
        svc = app.state.service
        svc.engine.create_datasource("secret_ds", "id UInt32", sorting_key="id")
        svc.flusher.retry_backoff = 0
        fail_n_times(monkeypatch, svc.engine, "secret_ds", 1)
        r = client.post("/v0/events", params={"name": "secret_ds"}, content=orjson.dumps({"id": 1}),
                        headers={"Authorization": f"Bearer {admin}"})
        assert r.status_code == 202
        assert client.get("/v0/health").json() == {"status": "ok"}
        svc.flusher.flush()
        r = client.get("/v0/health")
        assert r.status_code == 200
        assert r.json() == {"status": "degraded", "failing_event_tables": 1}
        assert "secret_ds" not in r.text and "injected" not in r.text
        svc.flusher.flush()
        assert client.get("/v0/health").json() == {"status": "ok"}
        assert svc.engine.run("SELECT count() FROM secret_ds").rows == [(1,)]


def test_rows_of_a_dropped_and_recreated_data_source_are_discarded(setup):
    """The user deleted the destination: its old rows are discarded (counted), nothing blocks."""
    path, svc = setup
    ingest(svc, "b", range(3))
    ingest(svc, "a", [1])
    with svc.engine.write_lock:
        svc.engine.drop_datasource("b")
        svc.engine.create_datasource("b", "id UInt64, s String", sorting_key="id")
    block = svc.engine.convert("b", b'{"id": 9, "s": "new"}')[0]
    svc.flusher.append("b", block).result(timeout=30)
    svc.flusher.flush()
    assert svc.flusher.dropped_rows == 3 and svc.flusher.status()["status"] == "ok"
    assert ids_of(svc, "b") == [9] and ids_of(svc, "a") == [1]
    svc.close()


def test_unfinished_flush_after_relog_does_not_insert_twice(setup, monkeypatch):
    """The rows were re-logged, then marking the table done failed: the retry of the unfinished
    flush sees the re-logged record and does not insert the old rows again."""
    from mergetree.server import wal as wal_mod

    path, svc = setup
    manual_flushes_only(svc.flusher)
    svc.flusher.retry_backoff = 0
    fail_n_times(monkeypatch, svc.engine, "a", 1)
    ingest(svc, "a", range(5))
    real = wal_mod.atomic_write
    calls = []

    def fail_second(p, data):
        calls.append(1)
        if len(calls) == 2:
            raise OSError("disk hiccup")
        real(p, data)

    monkeypatch.setattr(wal_mod, "atomic_write", fail_second)
    with pytest.raises(OSError):
        svc.flusher.flush()
    svc.flusher.flush()
    assert ids_of(svc, "a") == list(range(5))
    svc.close()
    svc = open_service(path)
    try:
        assert ids_of(svc, "a") == list(range(5))
    finally:
        svc.close()
