"""``serve --workers N``: SELECTs run in read-only worker processes (mergetree/replica.py).

What must hold (the module docstring's argument): rows acknowledged before a request are visible
to it; merges and deletes never break a worker's read; worker answers and errors are the
server's; a dead worker is replaced and its request still answered. Expectations are counted from
the rows sent here; a second server without workers gives the expected error texts.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

import pytest

from mergetree.server import http as server_http
from mergetree.server.app import create_app
from tests.test_server_concurrency import BATCHES, DATASOURCE, PIPE, Server, call

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="POSIX socketpair workers")


def _project(root):
    proj = root / "project"
    proj.mkdir()
    (proj / "ev.datasource").write_text(DATASOURCE)
    (proj / "stats.pipe").write_text(PIPE)
    return proj


@pytest.fixture()
def project(tmp_path):
    return _project(tmp_path)


def _start(tmp_path, project, name="data", workers=2):
    os.environ["MERGETREE_WORKER_WARMUP"] = "0"      # workers inherit it: no warm-up workload in tests
    server_http.configure_query_threads(workers + 1 if workers else 2)
    app = create_app(tmp_path / name, admin_token="concurrency-admin-token-long-enough-for-hs256",
                     project=project, flush_interval=0.05, merge_interval=0.05, workers=workers)
    svc = app.state.service
    if workers:
        assert svc.engine.workers.wait_ready(120), "query workers did not start"
        svc.engine.local_when_alone = False     # every pipe call through the workers, even a lone one
    return Server(app), svc


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """One server with 2 workers for the tests that do not stop it (each uses its own user ids)."""
    root = tmp_path_factory.mktemp("workers")
    srv, svc = _start(root, _project(root))
    yield srv, svc
    srv.stop()
    server_http.configure_query_threads(None)


@pytest.fixture()
def own_server(tmp_path, project):
    srv, svc = _start(tmp_path, project)
    yield srv, svc
    srv.stop()
    server_http.configure_query_threads(None)


def _sql(conn, q: str):
    status, body = call(conn, "GET", "/v0/sql?q=" + quote(q))
    return status, json.loads(body)


def _ingest(conn, rows: list[dict]) -> None:
    status, body = call(conn, "POST", "/v0/events?name=ev&wait=true", "\n".join(json.dumps(r) for r in rows).encode())
    assert status == 200, body


def test_acknowledged_rows_are_visible_in_workers_and_merges_do_not_break_reads(served):
    """Many small wait=true batches (one part each, merged away every 50 ms while queries run):
    after each acknowledgement the worker-served count is exactly the rows acknowledged; then
    parts merged away are gone from disk and answers are still right."""
    srv, svc = served
    conn = srv.conn()
    total = 0
    before = svc.engine.workers.stats["worker"]
    for batch in range(10):
        rows = [{"user_id": f"m{batch % 3}", "n": batch * 100 + j} for j in range(7)]
        _ingest(conn, rows)
        total += len(rows)
        status, doc = _sql(conn, "SELECT count() AS c, sum(n) AS s FROM ev WHERE user_id LIKE 'm%' FORMAT JSON")
        assert status == 200, doc
        assert doc["data"] == [{"c": total, "s": sum(b * 100 + j for b in range(batch + 1) for j in range(7))}]
        status, body = call(conn, "GET", f"/v0/pipes/stats.json?user_id=m{batch % 3}")
        assert status == 200 and json.loads(body)["data"][0]["c"] == 7 * len(range(batch % 3, batch + 1, 3))
    status, doc = _sql(conn, "OPTIMIZE TABLE ev FINAL")
    assert status == 200, doc
    table_dir = svc.data_dir / "tables" / "ev"
    deadline = time.monotonic() + 60            # the outdated parts are removed once unpinned
    while len([d for d in os.listdir(table_dir) if d[0].isdigit() or d.startswith("all")]) > 1 \
            and time.monotonic() < deadline:
        time.sleep(0.05)
        _sql(conn, "SELECT 1 FORMAT JSON")
    assert len(svc.engine.db.table("ev").parts()) == 1
    status, doc = _sql(conn, "SELECT count() AS c FROM ev WHERE user_id LIKE 'm%' FORMAT JSON")
    assert doc["data"] == [{"c": total}]
    conn.close()
    assert svc.engine.workers.stats["worker"] - before >= 20    # the reads above ran in the workers


def test_concurrent_ingest_and_worker_queries_stay_consistent(served):
    """4 writers (wait=true) and 6 readers over worker processes while merges run: every answer is
    explained by the acknowledged/sent rows; at the end every row is there once."""
    srv, svc = served
    sent, acked = [0] * 4, [0] * 4
    lock, stop = threading.Lock(), threading.Event()
    problems: list = []

    def writer(k: int):
        conn = srv.conn()
        for batch in range(BATCHES):
            rows = [{"user_id": f"w{k}", "n": batch * 10 + j} for j in range(5)]
            with lock:
                sent[k] += 5
            status, body = call(conn, "POST", "/v0/events?name=ev&wait=true",
                                "\n".join(json.dumps(r) for r in rows).encode())
            if status != 200:
                problems.append(("ingest", status, body))
                return
            with lock:
                acked[k] += 5
        conn.close()

    def reader(r: int):
        conn = srv.conn()
        i = 0
        while not stop.is_set():
            k = (r + i) % 4
            i += 1
            with lock:
                floor = acked[k]            # acknowledged before the request: must be seen
            status, body = call(conn, "GET", f"/v0/pipes/stats.json?user_id=w{k}")
            with lock:
                ceiling = sent[k]           # sent before the answer: the most it can see
            if status != 200:
                problems.append(("query", status, body))
                return
            c = json.loads(body)["data"][0]["c"]
            if not floor <= c <= ceiling or c % 5:
                problems.append(("inconsistent", k, floor, c, ceiling))
        conn.close()

    readers = [threading.Thread(target=reader, args=(r,)) for r in range(6)]
    for t in readers:
        t.start()
    with ThreadPoolExecutor(4) as ex:
        list(ex.map(writer, range(4)))
    stop.set()
    for t in readers:
        t.join(60)
    assert not problems, problems[:5]
    conn = srv.conn()
    status, doc = _sql(conn, "SELECT user_id, count() AS c, uniqExact(n) AS u FROM ev WHERE user_id LIKE 'w%' "
                             "GROUP BY user_id ORDER BY user_id FORMAT JSON")
    assert doc["data"] == [{"user_id": f"w{k}", "c": 5 * BATCHES, "u": 5 * BATCHES} for k in range(4)]
    conn.close()
    assert svc.engine.workers.stats["worker"] > 0


def test_deletes_and_new_tables_are_seen_by_workers(served):
    srv, svc = served
    conn = srv.conn()
    _ingest(conn, [{"user_id": f"d{i % 4}", "n": i} for i in range(40)])
    assert _sql(conn, "SELECT count() AS c FROM ev WHERE user_id = 'd1' FORMAT JSON")[1]["data"] == [{"c": 10}]
    status, doc = _sql(conn, "ALTER TABLE ev DELETE WHERE user_id = 'd1'")
    assert status == 200, doc
    assert _sql(conn, "SELECT count() AS c FROM ev WHERE user_id = 'd1' FORMAT JSON")[1]["data"] == [{"c": 0}]
    assert _sql(conn, "SELECT count() AS c FROM ev WHERE user_id LIKE 'd%' FORMAT JSON")[1]["data"] == [{"c": 30}]
    status, doc = _sql(conn, "CREATE TABLE extra (x UInt32) ENGINE = MergeTree ORDER BY x")
    assert status == 200, doc
    assert _sql(conn, "INSERT INTO extra VALUES (1), (2), (40)")[0] == 200
    assert _sql(conn, "SELECT sum(x) AS s FROM extra FORMAT JSON")[1]["data"] == [{"s": 43}]
    assert _sql(conn, "DROP TABLE extra")[0] == 200
    status, doc = _sql(conn, "SELECT sum(x) AS s FROM extra FORMAT JSON")
    assert status == 404 and "extra" in doc["error"], doc
    conn.close()


def test_worker_errors_are_the_servers_errors(tmp_path, project, served):
    """The same bad requests against a server without workers give the same status and text."""
    srv, _ = served
    plain, plain_svc = _start(tmp_path, project, name="plain", workers=0)
    try:
        bad = ["SELECT no_such_col FROM ev FORMAT JSON", "SELECT * FROM nowhere FORMAT JSON",
               "SELECT toDate('x') FROM ev FORMAT JSON", "SELECT 1 + 'a' FORMAT JSON"]
        a, b = srv.conn(), plain.conn()
        _ingest(a, [{"user_id": "e", "n": 1}])
        _ingest(b, [{"user_id": "e", "n": 1}])
        bad = [q.replace("FROM ev", "FROM ev WHERE user_id = 'e'") for q in bad]
        for q in bad:
            assert _sql(a, q) == _sql(b, q), q
        for q in ["SELECT name, engine, sorting_key FROM system.tables WHERE name = 'ev'",
                  "SELECT name, type FROM system.columns WHERE table = 'ev' ORDER BY position",
                  "SELECT name, active FROM system.parts WHERE table = 'ev' ORDER BY name"]:
            # system tables are the server's view (outdated parts included), never a worker's; a
            # background merge may change the parts between the two reads: a few tries
            assert any(_sql(a, q + " FORMAT JSON")[1]["data"] == served[1].engine.db.sql(q).to_dicts()
                       for _ in range(5)), q
        for path in ("/v0/pipes/stats.json", "/v0/pipes/stats.json?user_id=e", "/v0/pipes/stats.json?user_id=zz"):
            ra, rb = call(a, "GET", path), call(b, "GET", path)
            da, db = json.loads(ra[1]), json.loads(rb[1])
            for d in (da, db):
                d.pop("statistics", None)
            assert (ra[0], da) == (rb[0], db), path
        a.close()
        b.close()
    finally:
        plain.stop()


@pytest.mark.slow
def test_a_killed_worker_is_replaced_and_requests_still_answered(own_server):
    srv, svc = own_server
    conn = srv.conn()
    _ingest(conn, [{"user_id": "k", "n": i} for i in range(5)])
    for pid in svc.engine.workers.pids():
        os.kill(pid, signal.SIGKILL)
    for _ in range(10):                 # answered in-process (fallback) while workers come back
        status, body = call(conn, "GET", "/v0/pipes/stats.json?user_id=k")
        assert status == 200 and json.loads(body)["data"] == [{"c": 5, "s": 10}]
    assert svc.engine.workers.wait_ready(120)
    before = svc.engine.workers.stats["worker"]
    status, body = call(conn, "GET", "/v0/pipes/stats.json?user_id=k")
    assert status == 200 and json.loads(body)["data"] == [{"c": 5, "s": 10}]
    assert svc.engine.workers.stats["worker"] == before + 1
    assert svc.engine.workers.stats["respawned"] >= 1
    conn.close()
    pids = svc.engine.workers.pids()
    srv.stop()
    for pid in pids:                    # closing the server ends its workers
        try:
            os.kill(pid, 0)
            alive = os.waitpid(pid, os.WNOHANG) == (0, 0)
        except (ProcessLookupError, ChildProcessError):
            alive = False
        assert not alive, pid


@pytest.mark.slow
def test_serve_cli_with_workers_answers_and_stops_its_workers(tmp_path, project):
    """``mergetree serve --workers 1``: the worker process answers; SIGTERM ends server and worker."""
    import subprocess
    import sys
    import urllib.request

    from tests.test_server_concurrency import ADMIN

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = open(tmp_path / "serve.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "mergetree.cli", "serve", str(project), "--data-dir",
                             str(tmp_path / "d"), "--port", str(port), "--admin-token", ADMIN, "--workers", "1",
                             "--log-level", "warning"], stdout=subprocess.DEVNULL, stderr=log,
                            env={**os.environ, "MERGETREE_WORKERS_LOCAL_WHEN_ALONE": "0"})   # lone calls too
    log.close()
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/v0/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                assert time.monotonic() < deadline, "server did not come up"
                time.sleep(0.1)
        kids = [int(p) for t in os.listdir(f"/proc/{proc.pid}/task")
                for p in open(f"/proc/{proc.pid}/task/{t}/children").read().split()]
        assert len(kids) == 1
        req = urllib.request.Request(f"http://127.0.0.1:{port}/v0/events?name=ev&wait=true", method="POST",
                                     data=b'{"user_id": "c", "n": 4}\n{"user_id": "c", "n": 5}',
                                     headers={"Authorization": f"Bearer {ADMIN}"})
        assert urllib.request.urlopen(req, timeout=60).status == 200
        cpu0 = open(f"/proc/{kids[0]}/stat").read().rsplit(")", 1)[1].split()[11:13]
        req = urllib.request.Request(f"http://127.0.0.1:{port}/v0/pipes/stats.json?user_id=c",
                                     headers={"Authorization": f"Bearer {ADMIN}"})
        for _ in range(20):
            with urllib.request.urlopen(req, timeout=60) as r:
                assert json.loads(r.read())["data"] == [{"c": 2, "s": 9}]
        cpu1 = open(f"/proc/{kids[0]}/stat").read().rsplit(")", 1)[1].split()[11:13]
        assert cpu1 != cpu0                 # the worker did the queries
    finally:
        proc.terminate()
        assert proc.wait(timeout=60) in (0, -signal.SIGTERM)   # uvicorn re-raises the signal after shutdown
    for pid in kids:
        assert not os.path.exists(f"/proc/{pid}") or open(f"/proc/{pid}/stat").read().split()[2] == "Z"


@pytest.mark.parametrize("sql", [
    "SELECT event_type, count() AS events FROM (SELECT * FROM ev WHERE user_id = 'x' AND n >= 3) AS t "
    "GROUP BY event_type ORDER BY events DESC LIMIT 10",
    "WITH a AS (SELECT 1 AS x) SELECT arrayMap(v -> v + x, [1, 2]), tuple(1, 'a').2, CAST(x AS String) FROM a",
    "SELECT * FROM ev AS l LEFT JOIN ev AS r USING (user_id) WHERE l.n IN (SELECT n FROM ev) SETTINGS max_threads = 2",
    "SELECT 1 UNION ALL SELECT 2 FORMAT JSON",
    "SELECT sum(n) OVER (PARTITION BY user_id ORDER BY n ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) FROM ev",
])
def test_request_pickling_round_trips_statements(sql):
    """The server's compact AST pickling gives back an equal statement."""
    import pickle

    from mergetree.replica import dumps_request
    from sqlparse_ch import parse

    stmt = parse(sql)
    message = (7, stmt, {"p": 1}, None, {"ev": "user_id = 'x'"}, {}, {})
    assert pickle.loads(dumps_request(message)) == message
    assert pickle.loads(dumps_request(message))[1] == pickle.loads(pickle.dumps(stmt))


def test_token_filters_and_fixed_params_hold_in_workers(served):
    """A JWT's datasource filter and fixed_params reach the worker: it sees only its rows."""
    import jwt

    from tests.test_server_concurrency import ADMIN

    srv, svc = served
    conn = srv.conn()
    _ingest(conn, [{"user_id": f"j{i % 2}", "n": i} for i in range(10)])
    token = jwt.encode({"workspace_id": "w", "name": "j0_only", "exp": int(time.time()) + 600, "scopes": [
        {"type": "PIPES:READ", "resource": "stats", "fixed_params": {"user_id": "j1"}},
        {"type": "DATASOURCES:READ", "resource": "ev", "filter": "user_id = 'j0'"}]}, ADMIN, algorithm="HS256")
    before = svc.engine.workers.stats["worker"]
    hdr = {"Authorization": f"Bearer {token}"}
    for q in ["SELECT count() AS c FROM ev", "SELECT count() AS c FROM (SELECT * FROM ev WHERE n >= 0)",
              "SELECT count() AS c FROM (SELECT n FROM ev UNION ALL SELECT n FROM ev WHERE user_id = 'j1')"]:
        conn.request("GET", "/v0/sql?q=" + quote(q + " FORMAT JSON"), headers=hdr)
        r = conn.getresponse()
        doc = json.loads(r.read())
        assert r.status == 200 and doc["data"] == [{"c": 5}], (q, doc)     # j0's 5 rows, never j1's
    # the pipe is called with user_id=j1 (fixed), but the filter keeps only j0's rows: nothing
    conn.request("GET", "/v0/pipes/stats.json?user_id=j0", headers=hdr)
    r = conn.getresponse()
    assert r.status == 200 and json.loads(r.read())["data"] == [{"c": 0, "s": 0}]
    conn.close()
    assert svc.engine.workers.stats["worker"] - before == 4


def test_pipe_calls_are_compiled_and_encoded_in_workers(tmp_path, project, served):
    """``WorkerPool.run_pipe``: a pipe call is compiled, run and encoded by a worker; pipes registered
    after the start reach the workers; a pipe over another pipe, a tb_secret() pipe (compiled by the
    server) and template errors answer exactly as a server without workers does."""
    from mergetree.server.workspace import variables
    from sqlparse_ch.datafiles.parse import parse_pipe

    srv, svc = served
    plain, plain_svc = _start(tmp_path, project, name="plain2", workers=0)
    extra = {
        "top": "NODE t\nSQL >\n    %\n    SELECT user_id, count() AS c, sum(n) AS s FROM ev\n"
               "    WHERE user_id LIKE {{ String(prefix, 'p') }} || '%'\n    GROUP BY user_id ORDER BY user_id\n"
               "    LIMIT {{ Int32(lim, 10) }}\n\nTYPE endpoint\n",
        "over": "NODE o\nSQL >\n    SELECT count() AS users, sum(c) AS c FROM top\n\nTYPE endpoint\n",
        "secret": "NODE s\nSQL >\n    %\n    SELECT count() AS c FROM ev WHERE user_id = {{ tb_secret('who') }}\n"
                  "\nTYPE endpoint\n",
    }
    try:
        a, b = srv.conn(), plain.conn()
        for conn, s in ((a, svc), (b, plain_svc)):
            _ingest(conn, [{"user_id": f"p{i % 3}", "n": i} for i in range(9)])
            variables(s).set("who", "p1", create=True)
            for name, text in extra.items():
                s.pipes.register(parse_pipe(text, name=name))
        before = dict(svc.engine.workers.stats)
        for path in ("/v0/pipes/top.json", "/v0/pipes/top.json?prefix=p&lim=2", "/v0/pipes/top.csv",
                     "/v0/pipes/top.ndjson?lim=1", "/v0/pipes/over.json", "/v0/pipes/secret.json",
                     "/v0/pipes/top.json?lim=x", "/v0/pipes/nope.json"):
            ra, rb = call(a, "GET", path), call(b, "GET", path)
            if path.split("?")[0].endswith(".json"):
                da, db = json.loads(ra[1]), json.loads(rb[1])
                for d in (da, db):
                    d.pop("statistics", None)
                assert (ra[0], da) == (rb[0], db), path
            else:
                assert ra == rb, path
        assert json.loads(call(a, "GET", "/v0/pipes/secret.json")[1])["data"] == [{"c": 3}]
        # top x4 and over ran in the workers as pipe calls; secret (x2 above) and the bad lim=x were
        # declined (fallback), then secret's statement, compiled by the server, ran in a worker (x2)
        assert svc.engine.workers.stats["worker"] - before["worker"] == 5 + 2
        assert svc.engine.workers.stats["fallback"] - before["fallback"] == 3
        a.close()
        b.close()
    finally:
        plain.stop()


def test_a_lone_pipe_call_runs_in_the_server_and_concurrent_ones_in_workers(served):
    """``Engine.pipe_call``: with no other call in flight the server answers itself (no hand-off);
    while calls overlap, the workers take them; the answers are the same either way."""
    srv, svc = served
    conn = srv.conn()
    _ingest(conn, [{"user_id": "alone", "n": i} for i in range(6)])
    expected = [{"c": 6, "s": 15}]
    svc.engine.local_when_alone = True
    try:
        before = dict(svc.engine.workers.stats)
        for _ in range(5):
            status, body = call(conn, "GET", "/v0/pipes/stats.json?user_id=alone")
            assert status == 200 and json.loads(body)["data"] == expected
        assert svc.engine.workers.stats == before          # all five ran here, statement included
        conn.close()

        def client(_):
            c = srv.conn()
            try:
                return [json.loads(call(c, "GET", "/v0/pipes/stats.json?user_id=alone")[1])["data"]
                        for _ in range(15)]
            finally:
                c.close()

        with ThreadPoolExecutor(6) as ex:
            answers = [a for out in ex.map(client, range(6)) for a in out]
        assert answers == [expected] * 90
        assert svc.engine.workers.stats["worker"] > before["worker"]     # overlapping calls went out
        assert svc.engine._calls == 0
    finally:
        svc.engine.local_when_alone = False


def test_a_cancelled_statement_stops_in_the_worker(served):
    """``Engine.run(cancel=event)`` (a /v0/sql client that went away): the event reaches the worker
    running the statement, which stops it (QUERY_WAS_CANCELLED) and takes the next one."""
    from mergetree.exec.context import QueryWasCancelledError

    _, svc = served
    before, fallbacks = svc.engine.workers.stats["worker"], svc.engine.workers.stats["fallback"]
    event = threading.Event()
    threading.Timer(0.5, event.set).start()
    started = time.monotonic()
    with pytest.raises(QueryWasCancelledError):
        svc.engine.run("SELECT sum(number) FROM numbers(100000000000)", cancel=event)   # hours uncancelled
    assert time.monotonic() - started < 60
    assert svc.engine.run("SELECT count() AS c FROM numbers(10)").rows == [(10,)]
    assert svc.engine.workers.stats["worker"] == before + 1
    assert svc.engine.workers.stats["fallback"] == fallbacks       # the worker stopped it, not the server
