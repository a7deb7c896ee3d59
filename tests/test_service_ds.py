"""Service data sources: tinybird.pipe_stats_rt, tinybird.pipe_stats, tinybird.datasources_ops_log.

Every expectation is hand-computed from the requests this file makes (counts, status codes, rows
appended); the columns and types are Tinybird's documented ones (server/service_ds.py).
"""

from __future__ import annotations

import textwrap

import orjson
import pytest
from starlette.testclient import TestClient

from mergetree.server.app import create_app

ADMIN = "admin-secret-long-enough-for-hs256-keys"
H = {"Authorization": f"Bearer {ADMIN}"}

DATASOURCE = """
TOKEN "appender" APPEND

SCHEMA >
    `k` String `json:$.k`,
    `v` Int32 `json:$.v`

ENGINE "MergeTree"
ENGINE_SORTING_KEY "k, v"
"""
PIPES = {
    "x": """
        TOKEN "reader" READ

        NODE n
        SQL >
            %
            SELECT k, sum(v) AS total FROM t
            WHERE v >= {{ Int32(min_v, 0) }}
            GROUP BY k ORDER BY k
    """,
    # an endpoint over a service data source: readable with its own PIPES:READ scope, as in Tinybird
    "stats": """
        TOKEN "stats_reader" READ

        NODE n
        SQL >
            %
            SELECT count() AS c FROM tinybird.pipe_stats_rt WHERE pipe_name = {{ String(p, 'x') }}
    """,
}


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    root = tmp_path_factory.mktemp("proj")
    (root / "t.datasource").write_text(DATASOURCE)
    for name, text in PIPES.items():
        (root / f"{name}.pipe").write_text(textwrap.dedent(text))
    app = create_app(tmp_path_factory.mktemp("data"), admin_token=ADMIN, flush_interval=0.05, project=root)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def _svc(client):
    return client.app.state.service


def _flush(client):
    svc = _svc(client)
    svc.flusher.flush()
    svc.service_ds.flush()


def _sql(client, q, headers=H):
    return client.get("/v0/sql", params={"q": q + " FORMAT JSON"}, headers=headers)


def _token(client, name):
    return {"Authorization": "Bearer " + client.get(f"/v0/tokens/{name}", headers=H).json()["token"]}


def test_endpoint_requests_are_logged_with_status_codes_and_read_stats(client):
    rows = [{"k": "a", "v": 1}, {"k": "a", "v": 2}, {"k": "b", "v": 3}]
    r = client.post("/v0/events?name=t&wait=true", content=b"\n".join(orjson.dumps(x) for x in rows), headers=H)
    assert r.status_code == 200, r.text
    reader = _token(client, "reader")
    ok_ids = []
    for i in range(5):                      # 5 good calls (3 with the admin token, 2 with 'reader')
        r = client.get("/v0/pipes/x.json", params={"min_v": "2"}, headers=H if i < 3 else reader)
        assert r.status_code == 200, r.text
        assert r.json()["data"] == [{"k": "a", "total": 2}, {"k": "b", "total": 3}]
        ok_ids.append(r.headers["x-request-id"])
    for _ in range(3):                      # 3 bad parameter values: 400
        r = client.get("/v0/pipes/x.json", params={"min_v": "nope"}, headers=reader)
        assert r.status_code == 400, r.text
    r = client.get("/v0/pipes/x.json", headers={"Authorization": "Bearer wrong"})   # 1 bad token: 403
    assert r.status_code == 403
    assert client.get("/v0/pipes/nope.json", headers=H).status_code == 404            # not logged: no pipe
    _flush(client)

    r = _sql(client, "SELECT count() AS c, countIf(status_code = 400) AS bad, countIf(status_code = 403) AS forbidden, "
                     "sum(error) AS errors, countIf(token_name = 'reader') AS by_reader, "
                     "sum(result_rows) AS result_rows, uniqExact(request_id) AS ids "
                     "FROM tinybird.pipe_stats_rt WHERE pipe_name = 'x'")
    assert r.status_code == 200, r.text
    assert r.json()["data"] == [{"c": 9, "bad": 3, "forbidden": 1, "errors": 4, "by_reader": 5,
                                 "result_rows": 10, "ids": 9}]
    # read stats of a good call: the 3 rows of t; the parameters without the token; the id of the header
    r = _sql(client, "SELECT read_rows, parameters['min_v'] AS min_v, method, status_code, url, duration > 0 AS timed, "
                     "token_name, length(token) > 0 AS has_token_id "
                     f"FROM tinybird.pipe_stats_rt WHERE request_id = '{ok_ids[0]}'")
    assert len(r.json()["data"]) == 1, r.text
    row = r.json()["data"][0]
    assert (row["read_rows"], row["min_v"], row["method"], row["status_code"], row["timed"]) == (3, "2", "GET", 200, 1)
    assert row["url"] == "/v0/pipes/x.json?min_v=2"          # path + query, as Tinybird (its CLI adds the host)
    assert row["token_name"] == _svc(client).tokens.authenticate(ADMIN).name and row["has_token_id"] == 1
    # a token passed as ?token= never lands in the url or the parameters
    client.get("/v0/pipes/x.json", params={"token": ADMIN, "min_v": "1"})
    _flush(client)
    r = _sql(client, "SELECT count() AS c FROM tinybird.pipe_stats_rt "
                     f"WHERE pipe_name = 'x' AND (position(url, '{ADMIN}') > 0 OR mapContains(parameters, 'token'))")
    assert r.json()["data"] == [{"c": 0}]

    # the daily aggregate (Tinybird's tinybird.pipe_stats): 10 requests, 4 errors
    r = _sql(client, "SELECT sum(view_count) AS views, sum(error_count) AS errors, avgMerge(avg_duration_state) > 0 AS avg "
                     "FROM tinybird.pipe_stats WHERE pipe_name = 'x'")
    assert r.json()["data"] == [{"views": 10, "errors": 4, "avg": 1}], r.text


def test_appends_show_up_in_datasources_ops_log(client):
    # Events API: 4 good rows and 1 quarantined (v is not a number), flushed with wait=true
    body = b'{"k":"c","v":1}\n{"k":"c","v":2}\n{"k":"d","v":3}\n{"k":"d","v":4}\n{"k":"e","v":"zz"}'
    r = client.post("/v0/events?name=t&wait=true", content=body, headers=H)
    assert r.json() == {"successful_rows": 4, "quarantined_rows": 1}, r.text
    # Data Sources API: an NDJSON append of 2 rows, then a truncate
    r = client.post("/v0/datasources?name=t&mode=append&format=ndjson",
                    content=b'{"k":"f","v":5}\n{"k":"f","v":6}\n', headers=H)
    assert r.status_code == 200, r.text
    import_id = r.json()["import_id"]
    assert client.post("/v0/datasources/t/truncate", headers=H).status_code == 200
    _flush(client)

    r = _sql(client, "SELECT event_type, sum(rows) AS rows, sum(rows_quarantine) AS q, count() AS ops "
                     "FROM tinybird.datasources_ops_log WHERE datasource_name = 't' AND result = 'ok' "
                     "GROUP BY event_type ORDER BY event_type")
    assert r.status_code == 200, r.text
    got = {d["event_type"]: (d["rows"], d["q"]) for d in r.json()["data"]}
    # append-hfi: the 3 rows of the first test + these 4 good rows; 1 row in t_quarantine
    assert got["append-hfi"] == (7, 1)
    assert got["append"] == (2, 0)
    assert "truncate" in got
    r = _sql(client, "SELECT min(written_bytes) > 0 AS wb, sum(written_rows) AS wr FROM tinybird.datasources_ops_log "
                     "WHERE event_type = 'append-hfi' AND rows > 0")
    assert r.json()["data"] == [{"wb": 1, "wr": 7}], r.text
    r = _sql(client, f"SELECT import_id, job_id, rows, datasource_id != '' AS has_id FROM tinybird.datasources_ops_log "
                     f"WHERE event_type = 'append'")
    assert r.json()["data"] == [{"import_id": import_id, "job_id": import_id, "rows": 2, "has_id": 1}]


def test_a_token_without_admin_cannot_read_service_data_sources(client):
    reader = _token(client, "reader")
    for q in ("SELECT count() FROM tinybird.pipe_stats_rt", "SELECT count() FROM tinybird.datasources_ops_log",
              "SELECT count() FROM tinybird.pipe_stats", "SELECT count() FROM tinybird.endpoint_errors"):
        r = _sql(client, q, headers=reader)
        assert r.status_code == 403, r.text
        assert "ADMIN" in r.json()["error"] and "tinybird." in r.json()["error"]
    # not through the internal table name either (it is no data source the token has a scope for)
    r = _sql(client, "SELECT count() FROM tinybird__pipe_stats_rt", headers=reader)
    assert r.status_code == 403, r.text
    # an endpoint over a service data source: its PIPES:READ scope is enough (as in Tinybird)
    _flush(client)
    r = client.get("/v0/pipes/stats.json", headers=_token(client, "stats_reader"))
    assert r.status_code == 200, r.text
    assert r.json()["data"][0]["c"] >= 10


def test_clients_cannot_write_or_list_service_data_sources(client):
    names = [d["name"] for d in client.get("/v0/datasources", headers=H).json()["datasources"]]
    assert "t" in names and not any(n.startswith("tinybird") for n in names)
    for name in ("tinybird__pipe_stats_rt", "tinybird.pipe_stats_rt", "tinybird__datasources_ops_log"):
        r = client.post(f"/v0/events?name={name}", content=b'{"pipe_name":"x"}', headers=H)
        assert r.status_code in (400, 404), r.text
        r = client.post(f"/v0/datasources?name={name}&mode=append&format=ndjson", content=b'{"pipe_name":"x"}',
                        headers=H)
        assert r.status_code in (400, 404), r.text
        assert client.post(f"/v0/datasources/{name}/truncate", headers=H).status_code in (400, 404)
        assert client.delete(f"/v0/datasources/{name}", headers=H).status_code in (400, 404)
    _flush(client)
    r = _sql(client, "SELECT count() AS c FROM tinybird.pipe_stats_rt WHERE pipe_name = ''")
    assert r.json()["data"] == [{"c": 0}]


def test_recording_can_be_turned_off(tmp_path, monkeypatch):
    monkeypatch.setenv("MERGETREE_SERVICE_DATASOURCES", "0")
    root = tmp_path / "proj"
    root.mkdir()
    (root / "t.datasource").write_text(DATASOURCE)
    (root / "x.pipe").write_text(textwrap.dedent(PIPES["x"]))
    app = create_app(tmp_path / "data", admin_token=ADMIN, flush_interval=0.05, project=root)
    with TestClient(app, raise_server_exceptions=False) as c:
        assert c.get("/v0/pipes/x.json", headers=H).status_code == 200
        assert not c.app.state.service.service_ds.enabled
        assert "tinybird__pipe_stats_rt" not in c.app.state.service.engine.db.tables()


def test_query_api_requests_are_logged_as_query_api_but_not_reads_of_service_data_sources(client):
    _flush(client)
    q = ("SELECT count() AS c, countIf(status_code = 400) AS bad, countIf(status_code = 403) AS forbidden "
         "FROM tinybird.pipe_stats_rt WHERE pipe_name = 'query_api'")
    before = _sql(client, q).json()["data"][0]
    assert _sql(client, "SELECT count() FROM t").status_code == 200
    assert _sql(client, "SELECT nope FROM t").status_code == 400
    assert _sql(client, "SELECT count() FROM t", headers={"Authorization": "Bearer wrong"}).status_code == 403
    _flush(client)
    after = _sql(client, q).json()["data"][0]
    # 3 new rows (one 400, one 403); the queries of tinybird.pipe_stats_rt (`before`, `after`) are not logged
    assert {k: after[k] - before[k] for k in after} == {"c": 3, "bad": 1, "forbidden": 1}
    r = _sql(client, "SELECT DISTINCT pipe_id FROM tinybird.pipe_stats_rt WHERE pipe_name = 'query_api'")
    assert r.json()["data"] == [{"pipe_id": "query_api"}]
    r = _sql(client, "SELECT count() AS c FROM tinybird.pipe_stats_rt WHERE url LIKE '%tinybird.pipe_stats_rt%'")
    assert r.json()["data"] == [{"c": 0}]
    r = _sql(client, "SELECT pipe_id FROM tinybird.pipe_stats_rt WHERE pipe_name = 'x' LIMIT 1")
    assert r.json()["data"] == [{"pipe_id": client.get("/v0/pipes/x", headers=H).json()["id"]}]


def test_post_body_parameters_are_logged(client):
    r = client.post("/v0/pipes/x.json", data={"min_v": "3"}, headers=H)
    assert r.status_code == 200, r.text
    rid = r.headers["x-request-id"]
    _flush(client)
    r = _sql(client, f"SELECT method, parameters, url FROM tinybird.pipe_stats_rt WHERE request_id = '{rid}'")
    assert r.json()["data"] == [{"method": "POST", "parameters": {"min_v": "3"}, "url": "/v0/pipes/x.json"}], r.text


def test_endpoint_errors_keep_the_error_message(client):
    r = client.get("/v0/pipes/x.json", params={"min_v": "oops"}, headers=H)
    assert r.status_code == 400
    message, rid = r.json()["error"], r.headers["x-request-id"]
    _flush(client)
    r = _sql(client, "SELECT pipe_name, status_code, error, params, url FROM tinybird.endpoint_errors "
                     f"WHERE request_id = '{rid}'")
    assert r.json()["data"] == [{"pipe_name": "x", "status_code": 400, "error": message,
                                 "params": '{"min_v":"oops"}', "url": "/v0/pipes/x.json?min_v=oops"}], r.text
    # only errors, only endpoints: every row is a 4xx/5xx of a pipe, none of /v0/sql
    r = _sql(client, "SELECT countIf(status_code < 400) AS ok, countIf(pipe_name = 'query_api') AS sql, "
                     "count() >= 5 AS some FROM tinybird.endpoint_errors")
    assert r.json()["data"] == [{"ok": 0, "sql": 0, "some": 1}], r.text


def test_create_and_drop_are_logged_with_the_data_source_id(client):
    r = client.post("/v0/datasources", data={"name": "tmp_ds", "schema": "a Int32", "mode": "create"}, headers=H)
    assert r.status_code == 200, r.text
    ds_id = r.json()["datasource"]["id"]
    _flush(client)
    assert client.delete("/v0/datasources/tmp_ds", headers=H).status_code == 204
    _flush(client)
    r = _sql(client, "SELECT event_type, datasource_id, result FROM tinybird.datasources_ops_log "
                     "WHERE datasource_name = 'tmp_ds' ORDER BY timestamp, event_type")
    assert r.json()["data"] == [{"event_type": "create", "datasource_id": ds_id, "result": "ok"},
                                {"event_type": "delete", "datasource_id": ds_id, "result": "ok"}], r.text


def test_sql_cannot_write_service_data_sources_even_with_the_admin_token(client):
    for q in ("INSERT INTO tinybird__pipe_stats_rt (pipe_name) VALUES ('fake')",
              "DROP TABLE tinybird__datasources_ops_log", "TRUNCATE TABLE tinybird__pipe_stats_rt",
              "ALTER TABLE tinybird__pipe_stats_rt DELETE WHERE 1"):
        r = client.post("/v0/sql", content=q, headers=H)
        assert r.status_code == 400 and "read-only" in r.json()["error"], (q, r.text)
    _flush(client)
    r = _sql(client, "SELECT count() AS c FROM tinybird.pipe_stats_rt WHERE pipe_name = 'fake'")
    assert r.json()["data"] == [{"c": 0}]
