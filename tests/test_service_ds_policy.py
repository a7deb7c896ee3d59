"""When the service data sources' writer thread writes (server/service_ds.py, ServiceSources):
a row is written once it is ``interval`` old, but a table gets at most one part per
``busy_interval`` seconds, so under load each part holds many requests (every part costs its
files, fsyncs and later merges) while a lone request after a quiet spell is visible after
``interval``. The expectations are the policy's own arithmetic on hand-picked times.
"""

from __future__ import annotations

import threading
import time

from mergetree.server import service_ds
from mergetree.server.service_ds import PIPE_STATS_RT, ServiceSources


class FakeEngine:
    """Records the writer's inserts (table, rows, wall time); no storage."""

    def __init__(self):
        self.inserts: list[tuple[str, int, float]] = []
        self.lock = threading.Lock()

    def create_service_table(self, *a, **k):
        pass

    def create_service_view(self, *a, **k):
        pass

    def insert_service_block(self, name, cols):
        with self.lock:
            self.inserts.append((name, len(next(iter(cols.values()))), time.time()))
        return 0

    def exists(self, name):
        return True

    def describe(self, name):
        return {"id": "t_" + name}


SCOPE = {"query_string": b"a=1", "state": {}, "headers": [], "path": "/v0/pipes/p.json", "method": "GET"}


def _req(wall: float) -> tuple:
    return (wall, 0.001, "p", 200, (1, 2, 3), SCOPE, service_ds.new_request_id(int(wall * 1000)), None)


def _recorder(interval, busy) -> ServiceSources:
    rec = ServiceSources(FakeEngine(), enabled=False, interval=interval, busy_interval=busy)
    rec.enabled = True          # no thread: the tests drive _due / _flush_due with their own clock
    return rec


def test_a_lone_row_is_due_interval_after_it_arrived():
    rec = _recorder(1.0, 5.0)
    assert rec._due("requests", rec._requests, 100.0) is None          # nothing buffered
    rec.request(_req(100.0))
    assert rec._due("requests", rec._requests, 100.2) == 101.0          # 100 + interval


def test_after_a_write_the_next_is_not_before_busy_interval():
    rec = _recorder(1.0, 5.0)
    rec.request(_req(100.0))
    assert rec._flush_due(100.5) == 0.5 and rec.engine.inserts == []  # not yet due: check again in 0.5 s
    rec._flush_due(101.0)
    assert [(t, n) for t, n, _ in rec.engine.inserts] == [(PIPE_STATS_RT, 1)] and not rec._requests
    rec._last_flush["requests"] = 101.0                                 # (the write's wall time, fixed)
    rec.request(_req(101.5))
    # due at max(101.5 + 1, 101 + 5) = 106: under load one part per busy_interval
    assert rec._due("requests", rec._requests, 102.0) == 106.0
    assert rec._due("requests", rec._requests, 200.0) == 106.0          # overdue: write now
    # a clock set back never postpones a write past the policy: the last write counts as long ago
    assert rec._due("requests", rec._requests, 50.0) == 51.0            # (row from the "future": now + 1)


def test_ops_and_requests_are_paced_separately():
    rec = _recorder(1.0, 5.0)
    now = time.time()
    rec._last_flush["requests"] = now           # requests just written
    rec.op("append-hfi", "ds", rows=3)
    rec.request(_req(now))
    wait = rec._flush_due(now + 1.5)            # the op (1.5 s old) is due; requests wait for busy
    assert [(t, n) for t, n, _ in rec.engine.inserts] == [(service_ds.OPS_LOG, 1)]
    assert wait == 1.0                          # requests due at now + 5: look again after interval


def test_flush_writes_everything_at_once():
    rec = _recorder(1.0, 5.0)
    rec._last_flush["requests"] = time.time()
    rec.request(_req(time.time()))
    rec.op("append-hfi", "ds", rows=3)
    assert rec.flush() == 2
    assert sorted(t for t, _, _ in rec.engine.inserts) == sorted([PIPE_STATS_RT, service_ds.OPS_LOG])


def test_under_a_stream_of_requests_the_thread_writes_one_part_per_busy_interval():
    eng = FakeEngine()
    rec = ServiceSources(eng, enabled=True, interval=0.05, busy_interval=0.4)
    try:
        rec.request(_req(time.time()))              # a lone request: written after ~interval
        deadline = time.time() + 5
        while not eng.inserts and time.time() < deadline:
            time.sleep(0.01)
        assert eng.inserts and eng.inserts[0][1] == 1
        t0, sent = time.time(), 1
        while time.time() - t0 < 1.3:               # then ~130 requests over 1.3 s
            rec.request(_req(time.time()))
            sent += 1
            time.sleep(0.01)
        time.sleep(0.6)                             # the last ones are written within busy_interval
        rows = sum(n for _, n, _ in eng.inserts)
        times = [w for _, _, w in eng.inserts]
    finally:
        rec.close()
    assert rows == sent                             # every row written, once
    assert 2 <= len(times) <= 6                     # ~1.9 s / 0.4 s, not one part per 0.05 s
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert min(gaps) >= 0.35                        # (0.4 s minus the scheduler's jitter)
