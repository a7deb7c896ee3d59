"""Data Sources API (create, append NDJSON/CSV, list, describe, truncate, delete job, drop) and /v0/sql."""

from __future__ import annotations

import time

import orjson
import pytest
from starlette.testclient import TestClient

from mergetree.server.app import create_app

ADMIN = "adm"
H = {"Authorization": f"Bearer {ADMIN}"}
FORM = {**H, "Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def client(tmp_path):
    app = create_app(tmp_path / "d", admin_token=ADMIN, flush_interval=3600)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def create(client, name="events", **extra):
    params = {"name": name, "schema": "`id` UInt64 `json:$.id`, `user` String `json:$.user`, `ts` DateTime `json:$.ts`",
              "engine_sorting_key": "user, ts", "engine_partition_key": "toYYYYMM(ts)", **extra}
    return client.post("/v0/datasources", params=params, headers=H)


def sql(client, q, fmt="JSONEachRow"):
    r = client.get("/v0/sql", params={"q": f"{q} FORMAT {fmt}"}, headers=H)
    assert r.status_code == 200, r.text
    return [orjson.loads(x) for x in r.content.splitlines()]


def test_create_describe_and_list(client):
    r = create(client)
    assert r.status_code == 200, r.text
    ds = r.json()["datasource"]
    assert ds["name"] == "events" and ds["id"].startswith("t_")
    assert ds["engine"]["engine"] == "MergeTree"
    assert ds["engine"]["sorting_key"] == "user, ts"
    assert ds["engine"]["partition_key"] == "toYYYYMM(ts)"
    assert ds["engine"]["engine_full"] == "MergeTree PARTITION BY toYYYYMM(ts) ORDER BY (user, ts)"
    assert [(c["name"], c["type"]) for c in ds["schema"]["columns"]] == [
        ("id", "UInt64"), ("user", "String"), ("ts", "DateTime")]
    assert ds["statistics"] == {"bytes": 0, "row_count": 0}
    again = client.get("/v0/datasources/events", headers=H).json()
    assert again["id"] == ds["id"]
    assert [d["name"] for d in client.get("/v0/datasources", headers=H).json()["datasources"]] == ["events"]
    r = create(client)
    assert r.status_code == 409 and "already exists" in r.json()["error"]


def test_create_replacing_engine_from_engine_params(client):
    r = client.post("/v0/datasources", headers=H, params={
        "name": "latest", "schema": "id UInt32, v UInt32", "engine": "ReplacingMergeTree",
        "engine_ver": "v", "engine_sorting_key": "id"})
    assert r.status_code == 200, r.text
    assert r.json()["datasource"]["engine"]["engine_full"] == "ReplacingMergeTree(v) ORDER BY id"


def test_create_form_encoded_like_tb_push(client):
    r = client.post("/v0/datasources", headers=FORM,
                    content=b"name=f&schema=a%20UInt8%2C%20b%20String&engine=MergeTree&engine_sorting_key=a")
    assert r.status_code == 200, r.text
    assert r.json()["datasource"]["engine"]["sorting_key"] == "a"


def test_append_ndjson_and_csv_with_quarantine(client):
    create(client)
    body = b'{"id": 1, "user": "u1", "ts": "2026-01-05 00:00:00"}\n{"id": "x", "user": "u2", "ts": 0}'
    r = client.post("/v0/datasources?mode=append&name=events&format=ndjson", headers=H, content=body)
    assert r.status_code == 200, r.text
    assert r.json()["quarantine_rows"] == 1 and r.json()["datasource"]["statistics"]["row_count"] == 1
    csv_body = b"id,user,ts\n2,u2,2026-02-01 00:00:00\n3,u3,2026-02-02 00:00:00\n"
    r = client.post("/v0/datasources?mode=append&name=events&format=csv", headers=H, content=csv_body)
    assert r.status_code == 200 and r.json()["quarantine_rows"] == 0
    no_header = b"4,u4,2026-03-01 00:00:00\n"
    client.post("/v0/datasources?mode=append&name=events", headers=H, content=no_header)
    assert sql(client, "SELECT id, user FROM events ORDER BY id") == [
        {"id": 1, "user": "u1"}, {"id": 2, "user": "u2"}, {"id": 3, "user": "u3"}, {"id": 4, "user": "u4"}]
    assert sql(client, "SELECT id, user FROM events_quarantine") == [{"id": "x", "user": "u2"}]
    r = client.post("/v0/datasources?mode=append&name=events&format=csv", headers=H,
                    content=b"5,u5\n6,u6,2026-03-01 00:00:00,extra\n7,u7,2026-03-02 00:00:00\n")
    assert r.json()["quarantine_rows"] == 2 and r.json()["successful_rows"] == 1
    errors = sql(client, "SELECT c__error FROM events_quarantine WHERE id IN ('5', '6') ORDER BY id")
    assert ["Expected 3 fields" in e["c__error"][0] for e in errors] == [True, True]
    client.post("/v0/sql", headers=H, content=b"DELETE FROM events WHERE id = 7")
    stats = client.get("/v0/datasources/events", headers=H).json()["statistics"]
    assert stats["row_count"] == 4 and stats["bytes"] > 0
    r = client.post("/v0/datasources?mode=append&name=nope&format=csv", headers=H, content=b"1")
    assert r.status_code == 404


def test_truncate_includes_rows_still_in_the_log(client):
    create(client)
    r = client.post("/v0/events?name=events", headers=H, content=b'{"id": 1, "user": "a", "ts": 0}')
    assert r.status_code == 202
    assert client.post("/v0/datasources/events/truncate", headers=H).status_code == 200
    client.app.state.service.flusher.flush()
    assert sql(client, "SELECT count() AS c FROM events") == [{"c": 0}]


def test_delete_condition_runs_as_a_job(client):
    create(client)
    body = b"\n".join(orjson.dumps({"id": i, "user": f"u{i % 2}", "ts": 0}) for i in range(10))
    client.post("/v0/events?name=events&wait=true", headers=H, content=body)
    r = client.post("/v0/datasources/events/delete", headers=FORM, content=b"delete_condition=user%20%3D%20%27u1%27")
    assert r.status_code == 200, r.text
    job = r.json()
    assert job["kind"] == "delete_data" and job["job_url"] == f"http://testserver/v0/jobs/{job['id']}"
    assert job["delete_condition"] == "user = 'u1'" and job["datasource"]["name"] == "events"
    for _ in range(500):
        job = client.get(f"/v0/jobs/{job['id']}", headers=H).json()
        if job["status"] in ("done", "error"):
            break
        time.sleep(0.01)
    assert job["status"] == "done" and job["rows_affected"] == 5
    assert sql(client, "SELECT id FROM events ORDER BY id") == [{"id": i} for i in (0, 2, 4, 6, 8)]
    assert client.get("/v0/jobs/nope", headers=H).status_code == 404


def test_drop_removes_datasource_and_quarantine(client):
    create(client)
    client.post("/v0/events?name=events&wait=true", headers=H, content=b'{"id": "bad"}')
    assert client.delete("/v0/datasources/events", headers=H).status_code == 204
    assert client.get("/v0/datasources/events", headers=H).status_code == 404
    assert client.get("/v0/sql", params={"q": "SELECT * FROM events_quarantine"}, headers=H).status_code == 404
    assert create(client).status_code == 200          # the name is free again


# ---------------------------------------------------------------- /v0/sql


def test_sql_q_in_query_form_or_raw_body_and_formats(client):
    create(client)
    client.post("/v0/events?name=events&wait=true", headers=H,
                content=b'{"id": 1, "user": "a", "ts": 0}\n{"id": 2, "user": "b", "ts": 0}')
    q = "SELECT count() AS c FROM events"
    r = client.get("/v0/sql", params={"q": q}, headers=H)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert body["data"] == [{"c": 2}] and body["meta"] == [{"name": "c", "type": "UInt64"}] and body["rows"] == 1
    assert set(body["statistics"]) == {"elapsed", "rows_read", "bytes_read"}
    r = client.post("/v0/sql", headers=FORM, content=b"q=" + q.replace(" ", "+").encode())
    assert r.json()["data"] == [{"c": 2}]
    r = client.post("/v0/sql", headers={**H, "Content-Type": "text/plain"}, content=q.encode())
    assert r.json()["data"] == [{"c": 2}]
    r = client.post("/v0/sql", headers=H, content=(q + " FORMAT CSV").encode())
    assert r.text == "2\n" and r.headers["content-type"].startswith("text/csv")
    r = client.get("/v0/sql", params={"q": "SELECT id FROM events ORDER BY id", "format": "CSVWithNames"}, headers=H)
    assert r.text == '"id"\n1\n2\n'


def test_sql_errors_are_400_with_clickhouse_code(client):
    create(client)
    r = client.get("/v0/sql", params={"q": "SELECT nope FROM events"}, headers=H)
    assert r.status_code == 400
    assert "nope" in r.json()["error"] and "(UNKNOWN_IDENTIFIER)" in r.json()["error"]
    r = client.get("/v0/sql", params={"q": "SELECT FROM WHERE"}, headers=H)
    assert r.status_code == 400 and "SYNTAX_ERROR" in r.json()["error"]
    r = client.get("/v0/sql", headers=H)
    assert r.status_code == 400 and "'q'" in r.json()["error"]


def test_admin_may_write_through_sql(client):
    create(client)
    r = client.post("/v0/sql", headers=H, content=b"INSERT INTO events (id, user, ts) VALUES (9, 'z', 0)")
    assert r.status_code == 200, r.text
    assert sql(client, "SELECT id FROM events") == [{"id": 9}]


def test_jsonpaths_pick_nested_values_for_events(client):
    schema = ("`user_id` String `json:$.user.id`, `country` String `json:$.geo['country code']`, "
              "`first_tag` String `json:$.tags[0]`, `n` Int32 `json:$.n`")
    r = client.post("/v0/datasources", params={"name": "nested", "schema": schema, "engine_sorting_key": "user_id"},
                    headers=H)
    assert r.status_code == 200, r.text
    cols = r.json()["datasource"]["schema"]["columns"]
    assert [c["jsonpath"] for c in cols] == ["$.user.id", "$.geo['country code']", "$.tags[0]", "$.n"]
    body = (b'{"user": {"id": "u1"}, "geo": {"country code": "ES"}, "tags": ["a", "b"], "n": 1}\n'
            b'{"user": {"id": "u2"}, "n": "not a number"}\n'
            b'{"user": \n'
            b'{"user": {"id": "u3"}, "tags": [], "n": 3, "ignored": true}')
    r = client.post("/v0/events?name=nested&wait=true", headers=H, content=body)
    assert r.status_code == 200 and r.json() == {"successful_rows": 2, "quarantined_rows": 2}
    assert sql(client, "SELECT user_id, country, first_tag, n FROM nested ORDER BY user_id") == [
        {"user_id": "u1", "country": "ES", "first_tag": "a", "n": 1},
        {"user_id": "u3", "country": "", "first_tag": "", "n": 3}]
    q = sql(client, "SELECT user_id, n, c__error FROM nested_quarantine ORDER BY user_id")
    assert q[0]["user_id"] == "u2" and q[0]["n"] == "not a number" and "at row 1" in q[0]["c__error"][0]
    assert q[1]["user_id"] is None and "Malformed JSON at line 3" in q[1]["c__error"][0]


def test_unsupported_jsonpath_or_bad_schema_is_400(client):
    r = client.post("/v0/datasources", params={"name": "x", "schema": "`a` String `json:$.list[:]`"}, headers=H)
    assert r.status_code == 400 and "$.list[:]" in r.json()["error"]
    r = client.post("/v0/datasources", params={"name": "x", "schema": "`a` String NOT NULL"}, headers=H)
    assert r.status_code == 400 and r.json()["error"].startswith("Invalid schema")


def test_recreated_after_sql_drop_gets_a_fresh_registry_entry(client):
    create(client)
    first = client.get("/v0/datasources/events", headers=H).json()["id"]
    assert client.post("/v0/sql", headers=H, content=b"DROP TABLE events").status_code == 200
    r = client.post("/v0/datasources", params={"name": "events", "schema": "`x` String `json:$.a.b`"}, headers=H)
    assert r.status_code == 200
    ds = r.json()["datasource"]
    assert ds["id"] != first and [c["jsonpath"] for c in ds["schema"]["columns"]] == ["$.a.b"]
