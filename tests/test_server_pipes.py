"""Pipe endpoints: /v0/pipes/NAME.{json,csv,ndjson,parquet}, q=, params, /v0/sql pipeline=, OpenAPI.

Expectations are hand-computed from the rows inserted here; the JSON shape is ClickHouse's JSON
format (checked against the keys and layout chDB writes).
"""

from __future__ import annotations

import datetime as dt
import io
import textwrap

import orjson
import pytest
from starlette.testclient import TestClient

from mergetree.server.app import create_app

ADMIN = "admin-secret-long-enough-for-hs256-keys"
H = {"Authorization": f"Bearer {ADMIN}"}

# t: 6 rows; k in a,a,b,b,b,c; v = 1..6
DATASOURCE = """
SCHEMA >
    `k` String `json:$.k`,
    `v` Int32 `json:$.v`,
    `tags` Array(String) `json:$.tags`

ENGINE "MergeTree"
ENGINE_SORTING_KEY "k, v"
"""
ROWS = [{"k": "a", "v": 1, "tags": ["x"]}, {"k": "a", "v": 2, "tags": []}, {"k": "b", "v": 3, "tags": ["x", "y"]},
        {"k": "b", "v": 4, "tags": []}, {"k": "b", "v": 5, "tags": ["y"]}, {"k": "c", "v": 6, "tags": []}]

PIPES = {
    # two nodes: the second reads the first by name; Int32 default, String filter, array param
    "by_key": """
        TOKEN "reader" READ

        NODE filtered
        SQL >
            %
            SELECT k, v FROM t
            WHERE v >= {{ Int32(min_v, 0, description="smallest v", example="2") }}
            {% if defined(keys) %} AND k IN {{ Array(keys, 'String', description="keys to keep") }} {% end %}

        NODE summed
        SQL >
            SELECT k, sum(v) AS total, count() AS n FROM filtered GROUP BY k ORDER BY k

        TYPE endpoint
    """,
    # reads another pipe by name; a required param
    "top": """
        NODE only
        SQL >
            %
            SELECT k, total FROM by_key WHERE total >= {{ Int64(threshold, required=True) }} ORDER BY total DESC
            LIMIT {{ Int32(limit, 10) }}
    """,
    "broken_sql": """
        NODE n
        SQL >
            SELECT no_such_column FROM t
    """,
    "to_target": """
        NODE m
        SQL >
            SELECT k, sum(v) AS v FROM t GROUP BY k

        TYPE materialized
        DATASOURCE t_sums
    """,
    "no_table": """
        NODE n
        SQL >
            SELECT * FROM nowhere
    """,
    "threads": """
        NODE n
        SQL >
            %
            {{ max_threads(1) }}
            SELECT count() AS c FROM t
    """,
    "custom": """
        NODE n
        SQL >
            %
            {% if not defined(x) %}{{ error('x is needed, really') }}{% end %}
            SELECT {{ Int32(x) }} AS x
    """,
}


def _project(root):
    (root / "datasources").mkdir(parents=True)
    (root / "pipes").mkdir()
    (root / "datasources" / "t.datasource").write_text(DATASOURCE)
    (root / "datasources" / "t_sums.datasource").write_text(
        'SCHEMA >\n    `k` String,\n    `v` Int64\n\nENGINE "SummingMergeTree"\nENGINE_SORTING_KEY "k"\n')
    for name, text in PIPES.items():
        (root / "pipes" / f"{name}.pipe").write_text(textwrap.dedent(text))
    return root


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    root = _project(tmp_path_factory.mktemp("proj"))
    app = create_app(tmp_path_factory.mktemp("data"), admin_token=ADMIN, flush_interval=0.05, project=root)
    with TestClient(app, raise_server_exceptions=False) as c:
        body = b"\n".join(orjson.dumps(r) for r in ROWS)
        r = c.post("/v0/events?name=t&wait=true", content=body, headers=H)
        assert r.status_code == 200 and r.json()["successful_rows"] == 6, r.text
        yield c


def _token(client, name):
    return {"Authorization": "Bearer " + client.get(f"/v0/tokens/{name}", headers=H).json()["token"]}


def test_json_is_clickhouse_json_shape_with_hand_computed_values(client):
    r = client.get("/v0/pipes/by_key.json", headers=H)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert list(body) == ["meta", "data", "rows", "rows_before_limit_at_least", "statistics"]
    assert body["meta"] == [{"name": "k", "type": "String"}, {"name": "total", "type": "Int64"},
                            {"name": "n", "type": "UInt64"}]
    assert body["data"] == [{"k": "a", "total": 3, "n": 2}, {"k": "b", "total": 12, "n": 3},
                            {"k": "c", "total": 6, "n": 1}]
    assert body["rows"] == 3 and body["rows_before_limit_at_least"] == 3
    assert set(body["statistics"]) == {"elapsed", "rows_read", "bytes_read"}
    assert body["statistics"]["rows_read"] == 6
    # ClickHouse's layout: tab-indented, "meta" first
    assert r.text.startswith('{\n\t"meta":\n\t[\n')


def test_params_default_override_and_arrays(client):
    r = client.get("/v0/pipes/by_key.json", params={"min_v": "3"}, headers=H)
    assert r.json()["data"] == [{"k": "b", "total": 12, "n": 3}, {"k": "c", "total": 6, "n": 1}]
    # repeated keys make an array; comma-separated too
    for params in ([("keys", "a"), ("keys", "c")], {"keys": "a,c"}):
        r = client.get("/v0/pipes/by_key.json", params=params, headers=H)
        assert [d["k"] for d in r.json()["data"]] == ["a", "c"], r.text
    # POST with a JSON body
    r = client.post("/v0/pipes/by_key.json", json={"min_v": 5, "keys": ["b", "c"]}, headers=H)
    assert r.json()["data"] == [{"k": "b", "total": 5, "n": 1}, {"k": "c", "total": 6, "n": 1}]
    # curl -d '{...}' sends JSON as a form: still JSON
    r = client.post("/v0/pipes/by_key.json", content=b'{"min_v": 6}',
                    headers={**H, "Content-Type": "application/x-www-form-urlencoded"})
    assert r.json()["data"] == [{"k": "c", "total": 6, "n": 1}]
    # POST form
    r = client.post("/v0/pipes/by_key.json", data={"min_v": "6"}, headers=H)
    assert r.json()["data"] == [{"k": "c", "total": 6, "n": 1}]


def test_pipe_reading_another_pipe_and_required_param(client):
    r = client.get("/v0/pipes/top.json", params={"threshold": "6"}, headers=H)
    assert r.json()["data"] == [{"k": "b", "total": 12}, {"k": "c", "total": 6}]
    assert r.json()["rows_before_limit_at_least"] == 2
    r = client.get("/v0/pipes/top.json", params={"threshold": "1", "min_v": "4", "limit": "1"}, headers=H)
    assert r.json()["data"] == [{"k": "b", "total": 9}]
    r = client.get("/v0/pipes/top.json", headers=H)
    assert r.status_code == 400
    assert r.json()["error"] == ("Template Syntax Error: Required parameter is not defined. Check the parameters "
                                 "threshold. Please provide a value or set a default value in the pipe code.")


def test_errors_are_400_with_the_message_and_404_for_unknown_pipes(client):
    r = client.get("/v0/pipes/by_key.json", params={"min_v": "abc"}, headers=H)
    assert r.status_code == 400 and r.json()["error"] == "Template Syntax Error: Error validating 'abc' to type Int32"
    r = client.get("/v0/pipes/broken_sql.json", headers=H)
    assert r.status_code == 400 and "no_such_column" in r.json()["error"]
    assert r.json()["error"].startswith("[Error]") and "(UNKNOWN_IDENTIFIER)" in r.json()["error"]
    r = client.get("/v0/pipes/no_table.json", headers=H)      # no server path, no list of every table
    assert r.status_code == 400 and r.json()["error"] == "[Error] Table nowhere does not exist. (UNKNOWN_TABLE)"
    r = client.get("/v0/pipes/custom.json", headers=H)
    assert r.status_code == 400 and r.json()["error"] == "x is needed, really"
    r = client.get("/v0/pipes/custom.json?x=5", headers=H)
    assert r.json()["data"] == [{"x": 5}]
    r = client.get("/v0/pipes/nope.json", headers=H)
    assert r.status_code == 404 and set(r.json()) == {"error", "documentation"} and "nope" in r.json()["error"]
    r = client.get("/v0/pipes/to_target.json", headers=H)
    assert r.status_code == 404 and "materialized pipe, not an API endpoint" in r.json()["error"]


def test_materialized_pipe_feeds_its_data_source(client):
    """TYPE materialized: a view from t into t_sums, run on every insert into t (sums 3, 12, 6)."""
    r = client.get("/v0/sql", params={"q": "SELECT k, sum(v) AS v FROM t_sums GROUP BY k ORDER BY k FORMAT JSON"},
                   headers=H)
    assert r.json()["data"] == [{"k": "a", "v": 3}, {"k": "b", "v": 12}, {"k": "c", "v": 6}]
    r = client.get("/v0/pipes/by_key.xml", headers=H)
    assert r.status_code == 400 and "xml" in r.json()["error"]


def test_csv_ndjson_parquet(client):
    r = client.get("/v0/pipes/by_key.csv", headers=H)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.text == '"k","total","n"\n"a",3,2\n"b",12,3\n"c",6,1\n'
    r = client.get("/v0/pipes/by_key.ndjson", headers=H)
    assert [orjson.loads(x) for x in r.text.splitlines()] == [
        {"k": "a", "total": 3, "n": 2}, {"k": "b", "total": 12, "n": 3}, {"k": "c", "total": 6, "n": 1}]
    pq = pytest.importorskip("pyarrow.parquet")
    r = client.get("/v0/pipes/by_key.parquet", headers=H)
    assert r.status_code == 200
    table = pq.read_table(io.BytesIO(r.content))
    assert table.column_names == ["k", "total", "n"]
    assert table.column("total").to_pylist() == [3, 12, 6]


def test_q_runs_sql_over_the_pipe_result(client):
    r = client.get("/v0/pipes/by_key.json", params={"q": "SELECT sum(total) AS s, max(n) AS m FROM _"}, headers=H)
    assert r.status_code == 200, r.text
    assert r.json()["data"] == [{"s": "21", "m": "3"}] or r.json()["data"] == [{"s": 21, "m": 3}]
    r = client.get("/v0/pipes/by_key.json", params={"q": "SELECT k FROM _ WHERE total > 5 ORDER BY k",
                                                    "min_v": "2"}, headers=H)
    assert r.json()["data"] == [{"k": "b"}, {"k": "c"}]


def test_q_cannot_read_other_data_sources_with_a_pipe_token(client):
    reader = _token(client, "reader")
    assert client.get("/v0/pipes/by_key.json", headers=reader).status_code == 200
    for q in ("SELECT * FROM t", "SELECT * FROM _ WHERE k IN (SELECT k FROM t)", "SELECT * FROM _ WHERE k IN t",
              "SELECT * FROM _ JOIN t USING k", "INSERT INTO t VALUES ('z', 1, [])"):
        r = client.get("/v0/pipes/by_key.json", params={"q": q}, headers=reader)
        assert r.status_code == 403, (q, r.text)
    # the token can read the pipe, not other pipes or the data source itself
    assert client.get("/v0/pipes/top.json?threshold=1", headers=reader).status_code == 403
    r = client.get("/v0/sql", params={"q": "SELECT count() FROM t"}, headers=reader)
    assert r.status_code == 403


def test_pipe_list_and_detail_with_param_metadata(client):
    r = client.get("/v0/pipes", headers=H)
    names = [p["name"] for p in r.json()["pipes"]]
    assert names == ["broken_sql", "by_key", "custom", "no_table", "threads", "to_target", "top"]
    r = client.get("/v0/pipes", headers=_token(client, "reader"))
    assert [p["name"] for p in r.json()["pipes"]] == ["by_key"]
    r = client.get("/v0/pipes/by_key", headers=H)
    info = r.json()
    assert [n["name"] for n in info["nodes"]] == ["filtered", "summed"]
    assert info["endpoint"] == "summed"
    params = {p["name"]: p for p in info["params"]}
    assert params["min_v"]["type"] == "Int32" and params["min_v"]["default"] == 0
    assert params["min_v"]["description"] == "smallest v" and params["min_v"]["required"] is False
    assert params["keys"]["type"] == "Array(String)"
    assert client.get("/v0/pipes/nope", headers=H).status_code == 404


def test_openapi_document(client):
    r = client.get("/v0/pipes/openapi.json", headers=_token(client, "reader"))
    doc = r.json()
    assert doc["openapi"].startswith("3.0")
    assert set(doc["paths"]) == {f"/pipes/by_key.{ext}" for ext in ("json", "csv", "ndjson", "parquet")}
    op = doc["paths"]["/pipes/by_key.json"]["get"]
    params = {p["name"]: p for p in op["parameters"]}
    assert params["min_v"]["schema"] == {"type": "integer", "format": "int32", "default": 0}
    assert params["min_v"]["in"] == "query" and params["min_v"]["required"] is False
    assert params["min_v"]["description"] == "smallest v" and params["min_v"]["example"] == "2"
    assert params["keys"]["schema"] == {"type": "array", "items": {"type": "string"}}
    assert set(op["responses"]["200"]["content"]["application/json"]["schema"]["properties"]) == {
        "meta", "data", "rows", "rows_before_limit_at_least", "statistics"}
    full = client.get("/v0/pipes/openapi.json", headers=H).json()
    try:
        from openapi_spec_validator import validate
    except ImportError:
        validate = None
    if validate is not None:
        validate(doc)
        validate(full)
    top = {p["name"]: p for p in full["paths"]["/pipes/top.json"]["get"]["parameters"]}
    assert top["threshold"]["required"] is True and top["threshold"]["schema"]["type"] == "integer"


def test_sql_pipeline_and_pipe_names_and_templates(client):
    r = client.get("/v0/sql", params={"q": "SELECT k, total FROM _ ORDER BY total DESC LIMIT 1 FORMAT JSON",
                                      "pipeline": "by_key"}, headers=H)
    assert r.status_code == 200, r.text
    assert r.json()["data"] == [{"k": "b", "total": 12}]
    r = client.get("/v0/sql", params={"q": "SELECT sum(n) AS n FROM by_key FORMAT JSON", "min_v": "2"}, headers=H)
    assert r.json()["data"] == [{"n": "5"}] or r.json()["data"] == [{"n": 5}]
    r = client.get("/v0/sql", params={"q": "% SELECT count() AS c FROM t WHERE v > {{Int32(x, 0)}} FORMAT JSON",
                                      "x": "4"}, headers=H)
    assert r.json()["data"] in ([{"c": "2"}], [{"c": 2}])
    r = client.get("/v0/sql", params={"q": "% SELECT {{Int32(x)}} FORMAT JSON", "x": "no"}, headers=H)
    assert r.status_code == 400 and "Error validating 'no' to type Int32" in r.json()["error"]
    # pipeline= with a pipe token: the pipe's scope is enough for `_`, but not for the data source
    reader = _token(client, "reader")
    r = client.get("/v0/sql", params={"q": "SELECT count() AS c FROM _ FORMAT JSON", "pipeline": "by_key"},
                   headers=reader)
    assert r.status_code == 200 and r.json()["data"] in ([{"c": "3"}], [{"c": 3}])
    r = client.get("/v0/sql", params={"q": "SELECT count() FROM t", "pipeline": "by_key"}, headers=reader)
    assert r.status_code == 403
    r = client.get("/v0/sql", params={"q": "SELECT 1 FROM _", "pipeline": "nope"}, headers=H)
    assert r.status_code == 404


def test_quickstart_client_flow(tmp_path):
    """The README's client code: POST /v0/events?name=events, then GET user_activity.json."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "examples" / "quickstart"
    app = create_app(tmp_path / "data", admin_token=ADMIN, flush_interval=0.05, project=root)
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)

    def ts(days_ago):
        return (now - dt.timedelta(days=days_ago, minutes=1)).strftime("%Y-%m-%d %H:%M:%S")

    events = [("user_123", "page_view", 1), ("user_123", "page_view", 3), ("user_123", "click", 10),
              ("user_123", "purchase", 40), ("user_9", "page_view", 1)]
    with TestClient(app, raise_server_exceptions=False) as c:
        for i, (user, kind, ago) in enumerate(events):
            # exactly the fetch() of the issue: Bearer token, JSON.stringify body, no content type
            # the last one with wait=true: 200 once it, and so every event logged before it, is visible
            last = i == len(events) - 1
            r = c.post("/v0/events?name=events" + ("&wait=true" if last else ""),
                       headers={"Authorization": "Bearer " + ADMIN},
                       content=orjson.dumps({"event_id": f"e{i}", "user_id": user, "event_type": kind,
                                             "properties": '{"page":"/"}', "timestamp": ts(ago)}))
            assert r.status_code == (200 if last else 202)
            assert r.json() == {"successful_rows": 1, "quarantined_rows": 0}
        deadline = dt.datetime.now() + dt.timedelta(seconds=10)
        while True:
            r = c.get("/v0/pipes/user_activity.json?user_id=user_123&days=30",
                      headers={"Authorization": "Bearer " + ADMIN})
            assert r.status_code == 200, r.text
            if r.json()["rows"] == 2 or dt.datetime.now() > deadline:
                break
        data = r.json()["data"]
        assert [(d["event_type"], d["events"]) for d in data] == [("page_view", 2), ("click", 1)]
        assert data[0]["last_seen"] == ts(1)
        r = c.get("/v0/pipes/user_activity.json?user_id=user_123", headers=H)     # days defaults to 7
        assert [(d["event_type"], d["events"]) for d in r.json()["data"]] == [("page_view", 2)]
        r = c.get("/v0/pipes/daily_active_users.json", headers=H)
        days = {d["day"]: d["active_users"] for d in r.json()["data"]}
        assert sum(days.values()) == 4 and days[ts(1)[:10]] == 2
        # the datafile tokens work for their scopes
        dash = {"Authorization": "Bearer " + c.get("/v0/tokens/dashboard", headers=H).json()["token"]}
        tracker = {"Authorization": "Bearer " + c.get("/v0/tokens/tracker", headers=H).json()["token"]}
        assert c.get("/v0/pipes/user_activity.json?user_id=user_9", headers=dash).json()["rows"] == 1
        assert c.get("/v0/pipes/user_activity.json?user_id=user_9", headers=tracker).status_code == 403
        assert c.post("/v0/events?name=events", headers=tracker, content=b'{"user_id":"u"}').status_code == 202


def test_jwt_fixed_params_override_the_request(client):
    import time

    r = client.post(f"/v0/tokens?expiration_time={int(time.time()) + 600}", headers=H,
                    json={"name": "tenant", "scopes": [{"type": "PIPES:READ", "resource": "by_key",
                                                        "fixed_params": {"min_v": 6}}]})
    assert r.status_code == 200, r.text
    jwt_h = {"Authorization": "Bearer " + r.json()["token"]}
    r = client.get("/v0/pipes/by_key.json?min_v=0", headers=jwt_h)
    assert r.status_code == 200 and r.json()["data"] == [{"k": "c", "total": 6, "n": 1}]
    r = client.post("/v0/pipes/by_key.json", json={"min_v": 1}, headers=jwt_h)
    assert r.json()["data"] == [{"k": "c", "total": 6, "n": 1}]
    assert client.get("/v0/pipes/top.json?threshold=1", headers=jwt_h).status_code == 403


def test_q_in_a_json_body(client):
    r = client.post("/v0/pipes/by_key.json", json={"q": "SELECT count() AS c FROM _", "min_v": 4}, headers=H)
    assert r.status_code == 200 and r.json()["data"] in ([{"c": 2}], [{"c": "2"}])


def test_parse_cache_gives_the_parser_s_ast_for_any_parameter_value():
    """The literal-shape cache must never change a statement: hostile strings, quotes, backslashes,
    comment markers, in every position a template puts a string."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from mergetree.server.pipes import parse_sql
    from sqlparse_ch import parse
    from sqlparse_ch.template import render

    tpl = ("% SELECT k, v FROM t WHERE k = {{String(a)}} AND v > {{Int32(n, 1)}} -- it's\n"
           "AND k != {{String(b, 'x')}} AND k IN {{Array(c, 'String', default='p,q')}} LIMIT {{Int32(l, 5)}}")

    @settings(max_examples=60, deadline=None)
    @given(st.text(max_size=30), st.text(max_size=30), st.lists(st.text(max_size=8), min_size=1, max_size=3),
           st.integers(0, 1000))
    def check(a, b, c, n):
        sql = render(tpl, {"a": a, "b": b, "c": c, "n": str(n)}).sql
        assert parse_sql(sql) == parse(sql)
        assert parse_sql(sql) == parse(sql)          # the second call hits the cached shape

    check()


def test_json_body_is_byte_for_byte_chdb_json_apart_from_statistics(client):
    """The same query over the same rows in chDB (ClickHouse 26): identical text, except the
    statistics numbers and the rows_before_limit_at_least line Tinybird always adds."""
    import re

    chdb = pytest.importorskip("chdb")
    values = ", ".join(f"('{r['k']}', {r['v']})" for r in ROWS)
    expected = chdb.query(f"SELECT k, sum(v) AS total, count() AS n FROM values('k String, v Int32', {values}) "
                          f"GROUP BY k ORDER BY k", "JSON").bytes().decode()
    ours = client.get("/v0/pipes/by_key.json", headers=H).text

    def norm(text):
        text = text.replace('\t"rows_before_limit_at_least": 3,\n\n', "")
        return re.sub(r'("(elapsed|rows_read|bytes_read)": )[0-9.e-]+', r"\1N", text)

    assert norm(ours) == norm(expected)


def test_template_max_threads_reaches_the_engine(client, monkeypatch):
    svc = client.app.state.service
    seen = []
    real = svc.engine.run
    monkeypatch.setattr(svc.engine, "run", lambda stmt, params=None, settings=None, **kw:
                        seen.append(settings) or real(stmt, params, settings, **kw))
    r = client.get("/v0/pipes/threads.json", headers=H)
    assert r.status_code == 200 and r.json()["data"] in ([{"c": 6}], [{"c": "6"}])
    assert seen == [{"max_threads": 1}]
