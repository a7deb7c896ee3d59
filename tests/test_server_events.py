"""Events API: NDJSON/gzip bodies, 202 vs wait=true 200, quarantine, batching, group commit."""

from __future__ import annotations

import gzip
import threading
import time

import orjson
import pytest
from starlette.testclient import TestClient

from mergetree.server.app import create_app

ADMIN = "adm"
H = {"Authorization": f"Bearer {ADMIN}"}
SCHEMA = "id UInt32, s String, ts DateTime"


def make_client(path, flush_interval):
    app = create_app(path, admin_token=ADMIN, flush_interval=flush_interval)
    client = TestClient(app, raise_server_exceptions=False)
    client.__enter__()
    r = client.post("/v0/datasources", params={"name": "ev", "schema": SCHEMA, "engine_sorting_key": "id"},
                    headers=H)
    assert r.status_code == 200, r.text
    return client


@pytest.fixture
def client(tmp_path):
    c = make_client(tmp_path / "d", 3600)      # no timed flush: tests flush explicitly or use wait=true
    yield c
    c.__exit__(None, None, None)


def svc(client):
    return client.app.state.service


def rows(client, q):
    r = client.get("/v0/sql", params={"q": q + " FORMAT JSONEachRow"}, headers=H)
    assert r.status_code == 200, r.text
    return [orjson.loads(line) for line in r.content.splitlines()]


def count(client, table="ev"):
    return rows(client, f"SELECT count() AS c FROM {table}")[0]["c"]


def test_single_object_many_lines_any_content_type(client):
    one = b'{"id": 1, "s": "a", "ts": "2026-01-01 00:00:00"}'
    many = b'{"id": 2, "s": "b", "ts": 1767225600}\n\n{"id": 3, "s": "c", "ts": "2026-01-01T00:00:00Z"}\n'
    for headers in ({}, {"Content-Type": "application/json"}, {"Content-Type": "text/plain"},
                    {"Content-Type": "application/x-ndjson"}):
        r = client.post("/v0/events?name=ev", headers={**H, **headers}, content=one)
        assert r.status_code == 202 and r.json() == {"successful_rows": 1, "quarantined_rows": 0}
    r = client.post("/v0/events?name=ev", headers=H, content=many)
    assert r.status_code == 202 and r.json() == {"successful_rows": 2, "quarantined_rows": 0}
    r = client.post("/v0/events?name=ev", headers={**H, "Content-Encoding": "gzip"}, content=gzip.compress(many))
    assert r.json() == {"successful_rows": 2, "quarantined_rows": 0}
    assert count(client) == 0                 # durable in the log, not yet in parts
    svc(client).flusher.flush()
    assert count(client) == 8
    assert rows(client, "SELECT id, s, toString(ts) AS t FROM ev WHERE id = 3 LIMIT 1") == [
        {"id": 3, "s": "c", "t": "2026-01-01 00:00:00"}]


def test_wait_true_is_200_and_visible_on_return(client):
    body = b"\n".join(orjson.dumps({"id": i, "s": f"x{i}", "ts": 0}) for i in range(100))
    r = client.post("/v0/events?name=ev&wait=true", headers=H, content=body)
    assert r.status_code == 200 and r.json() == {"successful_rows": 100, "quarantined_rows": 0}
    assert rows(client, "SELECT count() AS c, sum(id) AS s FROM ev") == [{"c": 100, "s": 4950}]


def test_rows_become_visible_within_the_flush_interval(tmp_path):
    c = make_client(tmp_path / "d", 0.05)
    try:
        r = c.post("/v0/events?name=ev", headers=H, content=b'{"id": 7, "s": "z", "ts": 0}')
        assert r.status_code == 202
        deadline = time.monotonic() + 30     # generous: a poll, not a timing assertion
        while count(c) == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert rows(c, "SELECT id, s FROM ev") == [{"id": 7, "s": "z"}]
    finally:
        c.__exit__(None, None, None)


def test_bad_rows_go_to_quarantine_with_original_values(client):
    body = (b'{"id": "abc", "s": {"a": 1}, "ts": 0}\n'
            b'{"id": 1, "s": "good", "ts": "2026-01-01 00:00:00"}\n'
            b'{"id": 2, "s": "x", "ts": "nope"}\n'
            b'{"id": 3, "s": "also good"\n'                       # malformed JSON line
            b'{"id": 4, "s": "good too", "ts": 5}')
    r = client.post("/v0/events?name=ev&wait=true", headers=H, content=body)
    assert r.status_code == 200 and r.json() == {"successful_rows": 2, "quarantined_rows": 3}
    assert rows(client, "SELECT id, s FROM ev ORDER BY id") == [{"id": 1, "s": "good"}, {"id": 4, "s": "good too"}]
    q = rows(client, "SELECT id, s, ts, c__error_column, c__error, c__import_id FROM ev_quarantine ORDER BY c__error")
    assert len(q) == 3
    by_col = {tuple(x["c__error_column"]): x for x in q}
    assert by_col[("id",)]["id"] == "abc" and by_col[("id",)]["s"] == '{"a":1}' and by_col[("id",)]["ts"] == "0"
    assert "Cannot parse 'abc' as UInt32" in by_col[("id",)]["c__error"][0]
    assert by_col[("ts",)]["ts"] == "nope" and by_col[("ts",)]["id"] == "2"
    malformed = by_col[()]
    assert malformed["id"] is None and "Malformed JSON" in malformed["c__error"][0]
    assert '"also good"' in malformed["c__error"][0]
    assert len({x["c__import_id"] for x in q}) == 1          # one import id per request
    # the quarantine table is not listed as a data source but shows in the statistics
    names = [d["name"] for d in client.get("/v0/datasources", headers=H).json()["datasources"]]
    assert names == ["ev"]
    assert client.get("/v0/datasources/ev", headers=H).json()["quarantine_rows"] == 3


def test_many_requests_make_one_part_per_flush(client):
    for i in range(30):
        assert client.post("/v0/events?name=ev", headers=H,
                           content=orjson.dumps({"id": i, "s": "p", "ts": 0})).status_code == 202
    svc(client).flusher.flush()
    parts = svc(client).engine.db.table("ev").parts()
    assert len(parts) == 1 and parts[0]["rows"] == 30


def test_group_commit_shares_fsyncs(client):
    flusher = svc(client).flusher
    one_row = svc(client).engine.convert("ev", b'{"id": 1, "s": "g", "ts": 0}')[0]
    before = flusher.wal.fsyncs
    with flusher.wal.io_lock:             # hold the committer while 100 requests queue up
        futures = [flusher.append("ev", one_row) for _ in range(100)]
        time.sleep(0.05)
    seqs = [f.result(timeout=30) for f in futures]
    assert sorted(seqs) == seqs and len(set(seqs)) == 100
    assert flusher.wal.fsyncs - before <= 2
    flusher.flush()
    assert count(client) == 100


def test_concurrent_clients_lose_nothing(client):
    errors = []

    def worker(k):
        try:
            for i in range(20):
                body = b"\n".join(orjson.dumps({"id": k * 1000 + i * 10 + j, "s": "c", "ts": 0}) for j in range(10))
                r = client.post("/v0/events?name=ev", headers=H, content=body)
                assert r.status_code == 202, r.text
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    svc(client).flusher.flush()
    assert rows(client, "SELECT count() AS c, uniqExact(id) AS u FROM ev") == [{"c": 800, "u": 800}]


def test_unknown_datasource_404_and_append_scope(client):
    r = client.post("/v0/events?name=missing", headers=H, content=b"{}")
    assert r.status_code == 404 and "missing" in r.json()["error"]


def test_wait_true_answers_202_when_flushes_are_stuck(client, monkeypatch):
    from mergetree.server import events

    monkeypatch.setattr(events, "WAIT_TIMEOUT_SECONDS", 0.2)
    flusher = svc(client).flusher
    with flusher._flush_lock:            # no flush can run meanwhile
        r = client.post("/v0/events?name=ev&wait=true", headers=H, content=b'{"id": 1, "s": "w", "ts": 0}')
    assert r.status_code == 202 and r.json() == {"successful_rows": 1, "quarantined_rows": 0}
    flusher.flush()
    assert count(client) == 1


def test_503_with_retry_after_when_flushes_fall_behind(client):
    flusher = svc(client).flusher
    flusher.overload_rows = 5
    body = b"\n".join(orjson.dumps({"id": i, "s": "o", "ts": 0}) for i in range(5))
    assert client.post("/v0/events?name=ev", headers=H, content=body).status_code == 202
    r = client.post("/v0/events?name=ev", headers=H, content=body)
    assert r.status_code == 503 and r.headers["retry-after"] == "1" and "retry" in r.json()["error"]
    flusher.flush()
    assert client.post("/v0/events?name=ev", headers=H, content=body).status_code == 202
