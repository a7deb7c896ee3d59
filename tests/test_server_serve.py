"""`mergetree serve` as a real process: kill -9 during ingest, restart, every acknowledged row once."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

ADMIN = "serve-test-admin"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(port, method, path, body=None, headers=None, timeout=30):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body, method=method,
                                 headers={"Authorization": f"Bearer {ADMIN}", **(headers or {})})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.status, r.read()


def start(data_dir, port, flush_interval=0.1):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    log = open(data_dir.parent / "server.log", "ab")      # a file, not a pipe nobody drains
    proc = subprocess.Popen([sys.executable, "-m", "mergetree.cli", "serve",
                             "--data-dir", str(data_dir), "--port", str(port), "--admin-token", ADMIN,
                             "--flush-interval", str(flush_interval), "--log-level", "warning"],
                            stdout=subprocess.DEVNULL, stderr=log, env=env)
    log.close()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited: {(data_dir.parent / 'server.log').read_text()[-2000:]}")
        try:
            if request(port, "GET", "/v0/health", timeout=2)[0] == 200:
                return proc
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.1)
    proc.kill()
    raise AssertionError("server did not come up")


def ids_in_table(port):
    q = urllib.parse.quote("SELECT id, count() AS c FROM ev GROUP BY id FORMAT JSONEachRow")
    _, body = request(port, "GET", f"/v0/sql?q={q}")
    return {r["id"]: r["c"] for r in map(json.loads, body.splitlines())}


def ingest_until_killed(port, proc, acked: set, next_id: list, kill_after: int, rows_per_request: int):
    """Threads post events; once `kill_after` requests were acknowledged, SIGKILL the server."""
    lock = threading.Lock()
    done = threading.Event()

    def worker():
        while not done.is_set():
            with lock:
                start_id = next_id[0]
                next_id[0] += rows_per_request
            ids = range(start_id, start_id + rows_per_request)
            body = "\n".join(json.dumps({"id": i, "s": "x" * (i % 7)}) for i in ids).encode()
            try:
                status, _ = request(port, "POST", "/v0/events?name=ev", body, timeout=10)
            except (urllib.error.URLError, http.client.HTTPException, OSError):   # the kill
                return
            if status in (200, 202):
                with lock:
                    acked.update(ids)
                    if len(acked) >= kill_after * rows_per_request and not done.is_set():
                        os.kill(proc.pid, signal.SIGKILL)
                        done.set()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL


def run_kill_cycles(tmp_path, cycles: int, kill_after: int, rows_per_request: int):
    data = tmp_path / "data"
    port = free_port()
    proc = start(data, port)
    try:
        status, _ = request(port, "POST", "/v0/datasources?" + urllib.parse.urlencode(
            {"name": "ev", "schema": "id UInt64, s String", "engine_sorting_key": "id"}))
        assert status == 200
        acked: set = set()
        next_id = [0]
        for _ in range(cycles):
            ingest_until_killed(port, proc, acked, next_id, kill_after, rows_per_request)
            proc = start(data, port)
            present = ids_in_table(port)            # replay happens before the server listens
            missing = acked - set(present)
            twice = {i: c for i, c in present.items() if c != 1}
            assert not missing, f"{len(missing)} acknowledged rows lost, e.g. {sorted(missing)[:5]}"
            assert not twice, f"rows present more than once: {dict(list(twice.items())[:5])}"
            assert set(present) <= set(range(next_id[0]))
    finally:
        proc.kill()
        proc.wait()


def test_kill_9_after_202_then_restart_keeps_every_row_once(tmp_path):
    run_kill_cycles(tmp_path, cycles=1, kill_after=20, rows_per_request=50)


@pytest.mark.slow
def test_kill_9_repeatedly_during_sustained_ingest(tmp_path):
    run_kill_cycles(tmp_path, cycles=8, kill_after=300, rows_per_request=200)


def test_sigterm_flushes_and_exits_cleanly(tmp_path):
    data = tmp_path / "data"
    port = free_port()
    proc = start(data, port, flush_interval=3600)       # only the shutdown flushes
    try:
        request(port, "POST", "/v0/datasources?" + urllib.parse.urlencode(
            {"name": "ev", "schema": "id UInt64, s String", "engine_sorting_key": "id"}))
        body = "\n".join(json.dumps({"id": i, "s": "t"}) for i in range(100)).encode()
        assert request(port, "POST", "/v0/events?name=ev", body)[0] == 202
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) in (0, -signal.SIGTERM)   # uvicorn re-raises the signal after shutdown
        wal = data / "server" / "wal"
        assert sum(p.stat().st_size for p in wal.glob("segment_*.wal")) == 0     # all flushed into parts
        assert not (wal / "flush.json").exists()
        proc = start(data, port)
        assert ids_in_table(port) == {i: 1 for i in range(100)}
    finally:
        proc.kill()
        proc.wait()
