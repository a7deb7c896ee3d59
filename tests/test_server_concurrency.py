"""The server under concurrent clients: endpoint answers stay right, ingest stays visible, the
query pool (``server/http.py``) runs the engine work and never lets one slow query stop the rest.

A real uvicorn server on 127.0.0.1 (in a thread of this process, so the tests can look at the
query pool) and clients on their own keep-alive connections. Expectations are computed here from
the rows this test sends. No wall-clock bounds: speed is measured by bench/bench_api.py.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from mergetree.server import http as server_http
from mergetree.server.app import create_app

ADMIN = "concurrency-admin-token-long-enough-for-hs256"
H = {"Authorization": f"Bearer {ADMIN}"}

DATASOURCE = """
SCHEMA >
    `user_id` String `json:$.user_id`,
    `n` Int32 `json:$.n`

ENGINE "MergeTree"
ENGINE_SORTING_KEY "user_id, n"
"""
PIPE = """
NODE per_user
SQL >
    %
    SELECT count() AS c, sum(n) AS s FROM ev WHERE user_id = {{ String(user_id, required=True) }}

TYPE endpoint
"""
USERS = [f"u{i}" for i in range(12)]
BATCHES = 8                 # wait=true batches per writer in the ingest + query tests


def _rows_of(i: int) -> list[dict]:
    """User u{i} has i + 1 rows with n = 0..i (count i + 1, sum i * (i + 1) / 2)."""
    return [{"user_id": f"u{i}", "n": n} for n in range(i + 1)]


class Server:
    """uvicorn in a daemon thread; ``stop()`` ends it and closes the service."""

    def __init__(self, app):
        import uvicorn

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                                    access_log=False, lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise AssertionError("uvicorn did not start")
            time.sleep(0.02)

    def conn(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(60)


def call(conn, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
    conn.request(method, path, body=body, headers=H)
    r = conn.getresponse()
    return r.status, r.read()


@pytest.fixture()
def project(tmp_path):
    proj = tmp_path / "project"
    (proj / "datasources").mkdir(parents=True)
    (proj / "pipes").mkdir()
    (proj / "datasources" / "ev.datasource").write_text(DATASOURCE)
    (proj / "pipes" / "stats.pipe").write_text(PIPE)
    return proj


@pytest.fixture()
def server(tmp_path, project):
    server_http.configure_query_threads(2)
    app = create_app(tmp_path / "data", admin_token=ADMIN, project=project, flush_interval=0.05)
    srv = Server(app)
    yield srv
    srv.stop()
    server_http.configure_query_threads(None)


def _ingest_all(srv: Server) -> None:
    body = "\n".join(json.dumps(r) for i in range(len(USERS)) for r in _rows_of(i)).encode()
    conn = srv.conn()
    status, text = call(conn, "POST", "/v0/events?name=ev&wait=true", body)
    assert status == 200, text
    conn.close()


def test_concurrent_endpoint_calls_all_answer_right(server):
    """16 clients x 15 calls on keep-alive connections, 2 query threads: every answer is 200 and
    the user's own count/sum."""
    _ingest_all(server)

    def client(k: int) -> list[tuple[str, int, dict]]:
        conn, out = server.conn(), []
        for j in range(15):
            i = (k * 7 + j) % len(USERS)
            status, body = call(conn, "GET", f"/v0/pipes/stats.json?user_id=u{i}")
            out.append((f"u{i}", status, json.loads(body)))
        conn.close()
        return out

    with ThreadPoolExecutor(16) as ex:
        answers = [a for part in ex.map(client, range(16)) for a in part]
    assert len(answers) == 16 * 15
    for user, status, doc in answers:
        assert status == 200, doc
        i = int(user[1:])
        assert doc["data"] == [{"c": i + 1, "s": i * (i + 1) // 2}], (user, doc)
        assert doc["rows"] == 1


def test_concurrent_sql_and_errors_keep_their_own_answers(server):
    """Good and bad requests interleaved from many clients: each gets its own answer (a 400 stays
    with the request that caused it, never a 500)."""
    _ingest_all(server)
    from urllib.parse import quote

    def client(k: int):
        conn, out = server.conn(), []
        for j in range(10):
            i = (k + j) % len(USERS)
            if j % 3 == 0:
                status, body = call(conn, "GET", "/v0/sql?q=" + quote(f"SELECT no_such_col FROM ev WHERE n = {i}"))
                out.append(("bad", i, status, body))
            elif j % 3 == 1:
                status, body = call(conn, "GET", "/v0/pipes/stats.json")       # user_id is required
                out.append(("missing", i, status, body))
            else:
                q = quote(f"SELECT count() AS c FROM ev WHERE user_id = 'u{i}' FORMAT JSON")
                status, body = call(conn, "GET", f"/v0/sql?q={q}")
                out.append(("good", i, status, body))
        conn.close()
        return out

    with ThreadPoolExecutor(12) as ex:
        answers = [a for part in ex.map(client, range(12)) for a in part]
    for kind, i, status, body in answers:
        doc = json.loads(body)
        if kind == "good":
            assert status == 200 and doc["data"] == [{"c": i + 1}], doc
        elif kind == "bad":
            assert status == 400 and "no_such_col" in doc["error"], doc
        else:
            assert status == 400 and "user_id" in doc["error"], doc


def test_ingest_and_query_concurrently_read_your_writes(server):
    """4 clients ingest (wait=true) while 4 query: every query answer is a count some prefix of the
    acknowledged writes explains (never more rows than were sent, never fewer than were acknowledged
    before the query started), and at the end every acknowledged row is there exactly once."""
    sent = [0] * 4              # rows whose POST started, per writer (user w{k})
    acked = [0] * 4             # rows acknowledged with 200 (committed, visible)
    lock = threading.Lock()
    stop = threading.Event()
    problems: list = []

    def writer(k: int):
        conn = server.conn()
        for batch in range(BATCHES):
            rows = [{"user_id": f"w{k}", "n": batch * 10 + j} for j in range(5)]
            with lock:
                sent[k] += len(rows)
            status, body = call(conn, "POST", "/v0/events?name=ev&wait=true",
                                "\n".join(json.dumps(r) for r in rows).encode())
            if status != 200:
                problems.append(("ingest", status, body))
                break
            with lock:
                acked[k] += len(rows)
        conn.close()

    def reader(k: int):
        conn = server.conn()
        while not stop.is_set():
            with lock:
                floor = acked[k]            # acknowledged before the request: must be seen
            status, body = call(conn, "GET", f"/v0/pipes/stats.json?user_id=w{k}")
            with lock:
                ceiling = sent[k]           # sent before the answer: the most it can see
            if status != 200:
                problems.append(("query", status, body))
                break
            c = json.loads(body)["data"][0]["c"]
            if not floor <= c <= ceiling or c % 5:
                problems.append(("inconsistent", k, floor, c, ceiling))
        conn.close()

    readers = [threading.Thread(target=reader, args=(k,)) for k in range(4)]
    for t in readers:
        t.start()
    with ThreadPoolExecutor(4) as ex:
        list(ex.map(writer, range(4)))
    stop.set()
    for t in readers:
        t.join(60)
    assert not problems, problems[:5]
    conn = server.conn()
    for k in range(4):
        status, body = call(conn, "GET", f"/v0/pipes/stats.json?user_id=w{k}")
        assert status == 200
        assert json.loads(body)["data"] == [{"c": 5 * BATCHES, "s": sum(b * 10 + j for b in range(BATCHES)
                                                                    for j in range(5))}]
    conn.close()


def test_engine_work_runs_on_the_query_pool_and_a_slow_query_blocks_no_one(server, monkeypatch):
    """Pipe calls and /v0/sql run on the 'mergetree-query' threads; while one query is stuck,
    another request is still answered (2 threads), and the stuck one finishes once released."""
    _ingest_all(server)
    from mergetree.server.engine import Engine

    real_run = Engine.run
    gate = threading.Event()
    entered = threading.Event()
    threads: list[str] = []

    def run(self, stmt, *args, **kwargs):
        threads.append(threading.current_thread().name)
        if "u3" in repr(stmt):           # the slow one
            entered.set()
            assert gate.wait(60)
        return real_run(self, stmt, *args, **kwargs)

    monkeypatch.setattr(Engine, "run", run)
    slow_result: list = []

    def slow():
        conn = server.conn()
        slow_result.append(call(conn, "GET", "/v0/pipes/stats.json?user_id=u3"))
        conn.close()

    t = threading.Thread(target=slow)
    t.start()
    assert entered.wait(60)
    conn = server.conn()
    status, body = call(conn, "GET", "/v0/pipes/stats.json?user_id=u5")     # answered while u3 waits
    assert status == 200 and json.loads(body)["data"] == [{"c": 6, "s": 15}]
    from urllib.parse import quote

    status, body = call(conn, "GET", "/v0/sql?q=" + quote("SELECT count() AS c FROM ev FORMAT JSON"))
    assert status == 200 and json.loads(body)["data"] == [{"c": sum(i + 1 for i in range(len(USERS)))}]
    conn.close()
    assert not slow_result                # still stuck
    gate.set()
    t.join(60)
    assert slow_result[0][0] == 200 and json.loads(slow_result[0][1])["data"] == [{"c": 4, "s": 6}]
    assert threads and all(name.startswith("mergetree-query") for name in threads), threads


def test_configure_query_threads():
    try:
        server_http.configure_query_threads(3)
        assert server_http.query_threads() == 3
        assert server_http.query_pool()._max_workers == 3
        with pytest.raises(ValueError, match="query threads must be >= 1"):
            server_http.configure_query_threads(0)
    finally:
        server_http.configure_query_threads(None)
    assert server_http.query_threads() == server_http.DEFAULT_QUERY_THREADS


def test_serve_rejects_a_bad_query_threads_value(tmp_path, capsys):
    from mergetree.server.cli_commands import main

    assert main(["serve", "--data-dir", str(tmp_path / "d"), "--query-threads", "0"]) == 2
    assert "--query-threads must be >= 1" in capsys.readouterr().err


def test_gc_freezer_moves_live_objects_out_of_the_collector():
    """serve freezes the objects alive after start-up (gc.freeze), so full collections stop walking them."""
    import gc

    from mergetree.server.cli_commands import _GcFreezer

    gc.unfreeze()
    try:
        assert _GcFreezer(enabled=False).start().enabled is False and gc.get_freeze_count() == 0
        keep = [{"i": i} for i in range(1000)]          # live: frozen
        freezer = _GcFreezer(later=()).start()
        assert gc.get_freeze_count() >= len(keep)
        assert not any(o is keep for o in gc.get_objects(generation=2))
        freezer.stop()
    finally:
        gc.unfreeze()
