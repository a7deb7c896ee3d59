"""Schema changes through the service: project migrations (serve / push), POST /v0/datasources/NAME/alter,
/v0/datasources/exchange, GET NAME.datasource, PUT NAME (rename, description), and rows in the
write-ahead log across an ALTER.

Expectations are hand-computed from ClickHouse's ADD COLUMN rule (rows stored before the change read
the column's DEFAULT, evaluated over their own values) and Tinybird's documented API behaviour.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import orjson
import pytest
from starlette.testclient import TestClient

from mergetree.server.app import create_app
from mergetree.server.project import ProjectError

ADMIN = "admin-secret-long-enough-for-hs256-keys"
H = {"Authorization": f"Bearer {ADMIN}"}
FORM = {**H, "Content-Type": "application/x-www-form-urlencoded"}

DS = """
SCHEMA >
    `id` UInt32 `json:$.id`,
    `name` String `json:$.name`

ENGINE "MergeTree"
ENGINE_SORTING_KEY "id"
"""
PIPE = """
NODE n
SQL >
    SELECT * FROM things ORDER BY id
"""


def _write(root: Path, files: dict) -> Path:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text).lstrip("\n"))
    return root


def _sql(c, q):
    r = c.get("/v0/sql", params={"q": f"{q} FORMAT JSONEachRow"}, headers=H)
    assert r.status_code == 200, r.text
    return [orjson.loads(x) for x in r.content.splitlines()]


def test_serve_migrates_a_datafile_that_adds_columns_and_refuses_removals(tmp_path):
    root = _write(tmp_path / "p", {"datasources/things.datasource": DS, "pipes/all_things.pipe": PIPE})
    data = tmp_path / "data"
    with TestClient(create_app(data, admin_token=ADMIN, project=root)) as c:
        c.post("/v0/events?name=things&wait=true", headers=H, content=b'{"id": 1, "name": "a"}')
    # two new columns at the end: applied with ALTER ADD COLUMN when the server starts
    added = DS.replace("`name` String `json:$.name`",
                       "`name` String `json:$.name`,\n    `n` UInt16 `json:$.n` DEFAULT id + 100,\n"
                       "    `tag` String `json:$.meta.tag`")
    (root / "datasources/things.datasource").write_text(added)
    with TestClient(create_app(data, admin_token=ADMIN, project=root)) as c:
        c.post("/v0/events?name=things&wait=true", headers=H,
               content=b'{"id": 2, "name": "b", "n": 7, "meta": {"tag": "t"}}\n{"id": 3, "name": "c"}')
        assert c.get("/v0/pipes/all_things.json", headers=H).json()["data"] == [
            {"id": 1, "name": "a", "n": 101, "tag": ""},       # stored before: DEFAULT over its own row
            {"id": 2, "name": "b", "n": 7, "tag": "t"},
            {"id": 3, "name": "c", "n": 103, "tag": ""}]
        info = c.get("/v0/datasources/things", headers=H).json()
        assert [(x["name"], x["jsonpath"]) for x in info["schema"]["columns"]] == [
            ("id", "$.id"), ("name", "$.name"), ("n", "$.n"), ("tag", "$.meta.tag")]
    # the same project again: nothing to do
    with TestClient(create_app(data, admin_token=ADMIN, project=root)) as c:
        assert _sql(c, "SELECT count() AS c FROM things") == [{"c": 3}]
    # removing a column would lose data: refused, naming the file, the SCHEMA line and the column
    (root / "datasources/things.datasource").write_text(DS)
    with pytest.raises(ProjectError) as e:
        create_app(data, admin_token=ADMIN, project=root)
    path = str(root / "datasources/things.datasource")
    assert str(e.value).startswith(f"{path}:2: Data Source 'things' exists with another definition: "
                                   f"column 'n' UInt16 was removed from the datafile")
    # a changed type of an existing column: refused on the column's line, nothing changes
    (root / "datasources/things.datasource").write_text(added.replace("`n` UInt16", "`n` String"))
    with pytest.raises(ProjectError, match=r"things.datasource:5: .*column 'n' changes type from UInt16 to String"):
        create_app(data, admin_token=ADMIN, project=root)
    (root / "datasources/things.datasource").write_text(added)
    with TestClient(create_app(data, admin_token=ADMIN, project=root)) as c:
        assert _sql(c, "SELECT sum(n) AS s FROM things") == [{"s": 211}]
    # a changed DEFAULT is applied (metadata-only, as ALTER MODIFY COLUMN): only the row stored before
    # the column existed follows it, the others were written
    (root / "datasources/things.datasource").write_text(added.replace("DEFAULT id + 100", "DEFAULT id+200"))
    with TestClient(create_app(data, admin_token=ADMIN, project=root)) as c:
        assert _sql(c, "SELECT id, n FROM things ORDER BY id") == [{"id": 1, "n": 201}, {"id": 2, "n": 7},
                                                                   {"id": 3, "n": 103}]
        # the alter endpoint lists the pipes that read the data source (tb prints them)
        r = c.post("/v0/datasources/things/alter", headers=H, data={"description": "x", "dry": "true"})
        assert r.status_code == 200 and r.json()["dependencies"] == ["all_things"]


def test_push_adds_columns_and_dry_run_reports_them(tmp_path):
    with TestClient(create_app(tmp_path / "data", admin_token=ADMIN, flush_interval=0.05),
                    raise_server_exceptions=False) as c:
        def push(files, **params):
            return c.post("/v0/datafiles", params=params, headers=H, content=orjson.dumps({"files": files}))
        ds = textwrap.dedent(DS).lstrip("\n")
        assert push({"things.datasource": ds}).status_code == 200
        c.post("/v0/events?name=things&wait=true", headers=H, content=b'{"id": 1, "name": "a"}')
        more = ds.replace("`name` String `json:$.name`", "`name` String `json:$.name`,\n    `z` Int8 DEFAULT -1")
        r = push({"things.datasource": more}, dry_run="true")
        assert r.status_code == 200 and r.json()["altered_datasources"] == ["things"]
        assert [x["name"] for x in c.get("/v0/datasources/things", headers=H).json()["schema"]["columns"]] == ["id", "name"]
        r = push({"things.datasource": more})
        assert r.status_code == 200, r.text
        assert _sql(c, "SELECT id, z FROM things") == [{"id": 1, "z": -1}]
        r = push({"things.datasource": ds}, dry_run="true")     # the check refuses what the deploy would
        assert r.status_code == 400 and "things.datasource" in r.json()["error"] and "'z'" in r.json()["error"]


@pytest.fixture
def client(tmp_path):
    app = create_app(tmp_path / "d", admin_token=ADMIN, flush_interval=3600)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def _create(c, name, schema="`id` UInt64 `json:$.id`, `user` String `json:$.user`"):
    r = c.post("/v0/datasources", params={"name": name, "schema": schema, "engine_sorting_key": "id"}, headers=H)
    assert r.status_code == 200, r.text


def test_alter_endpoint_adds_columns_at_the_end(client):
    c = client
    _create(c, "ev")
    c.post("/v0/events?name=ev&wait=true", headers=H, content=b'{"id": 1, "user": "u"}')
    new = "`id` UInt64 `json:$.id`, `user` String `json:$.user`, `plan` String `json:$.plan` DEFAULT 'free'"
    r = c.post("/v0/datasources/ev/alter", headers=FORM, content=f"schema={new}&dry=true".encode())
    assert r.status_code == 200, r.text
    assert r.json()["operations"] == ["ADD COLUMN `plan` String DEFAULT 'free'"] and r.json()["dry_run"] is True
    assert len(c.get("/v0/datasources/ev", headers=H).json()["schema"]["columns"]) == 2    # dry: no change
    r = c.post("/v0/datasources/ev/alter", headers=H, data={"schema": new, "description": "events v2"})
    assert r.status_code == 200, r.text
    info = r.json()["datasource"]
    assert [x["name"] for x in info["schema"]["columns"]] == ["id", "user", "plan"]
    assert info["description"] == "events v2"
    c.post("/v0/events?name=ev&wait=true", headers=H, content=b'{"id": 2, "user": "v", "plan": "pro"}')
    assert _sql(c, "SELECT id, plan FROM ev ORDER BY id") == [{"id": 1, "plan": "free"}, {"id": 2, "plan": "pro"}]
    # a changed DEFAULT of an existing column: MODIFY COLUMN (the row stored before `plan` existed follows it)
    r = c.post("/v0/datasources/ev/alter", headers=H, data={"schema": new.replace("'free'", "'trial'")})
    assert r.status_code == 200 and r.json()["operations"] == ["MODIFY COLUMN `plan` DEFAULT 'trial'"], r.text
    assert _sql(c, "SELECT id, plan FROM ev ORDER BY id") == [{"id": 1, "plan": "trial"}, {"id": 2, "plan": "pro"}]
    new = new.replace("'free'", "'trial'")
    # what cannot apply: 400 naming the column, nothing changes
    for schema, words in [("`id` UInt64, `plan` String", "'user'"),
                          ("`id` UInt64, `user` UInt8, `plan` String", "'user' would change type"),
                          ("`id` UInt64, `x` UInt8, `user` String, `plan` String", "'x'"),
                          ("`id` UInt64, `user` String, `plan` String, `bad` Nope", "'bad'")]:
        r = c.post("/v0/datasources/ev/alter", headers=H, data={"schema": schema})
        assert r.status_code == 400 and words in r.json()["error"], (schema, r.text)
        assert set(r.json()) == {"error", "documentation"}
    assert [x["name"] for x in c.get("/v0/datasources/ev", headers=H).json()["schema"]["columns"]] == ["id", "user", "plan"]
    assert c.post("/v0/datasources/nope/alter", headers=H, data={"schema": "a UInt8"}).status_code == 404
    # TTL: metadata-only, shown in the engine description
    r = c.post("/v0/datasources/ev/alter", headers=H, data={"ttl": "toDateTime(id) + INTERVAL 1 DAY"})
    assert r.status_code == 200 and r.json()["operations"] == ["MODIFY TTL toDateTime(id) + INTERVAL 1 DAY"]
    assert r.json()["datasource"]["engine"]["ttl"] == "toDateTime(id) + INTERVAL 1 DAY"
    r = c.post("/v0/datasources/ev/alter", headers=H, data={"ttl": "false"})
    assert r.json()["operations"] == ["REMOVE TTL"] and r.json()["datasource"]["engine"]["ttl"] == ""
    # a read-only token may not alter
    tok = c.post("/v0/tokens", params={"name": "r", "scope": "DATASOURCES:READ:ev"}, headers=H).json()["token"]
    r = c.post("/v0/datasources/ev/alter", headers={"Authorization": f"Bearer {tok}"}, data={"schema": new})
    assert r.status_code == 403


def test_rows_in_the_write_ahead_log_survive_an_alter(tmp_path):
    """Events acknowledged (202, in the WAL) under the old schema are flushed after the ALTER: kept."""
    app = create_app(tmp_path / "d", admin_token=ADMIN, flush_interval=3600)
    with TestClient(app, raise_server_exceptions=False) as c:
        _create(c, "ev")
        svc = app.state.service
        assert c.post("/v0/events?name=ev", headers=H, content=b'{"id": 1, "user": "a"}').status_code == 202
        # the ALTER itself goes around the endpoint's flush: the WAL still holds the old-schema rows
        svc.engine.add_columns("ev", [("`score` UInt32 DEFAULT id * 2", None)])
        svc.flusher.flush()
        assert _sql(c, "SELECT id, user, score FROM ev") == [{"id": 1, "user": "a", "score": 2}]


def test_exchange_swaps_contents(client):
    c = client
    _create(c, "live")
    _create(c, "staging")
    _create(c, "other", schema="`id` UInt64, `user` String, `x` UInt8")
    c.post("/v0/events?name=live&wait=true", headers=H, content=b'{"id": 1, "user": "old"}')
    c.post("/v0/events?name=staging&wait=true", headers=H, content=b'{"id": 2, "user": "new"}\n{"id": 3, "user": "new"}')
    live_id = c.get("/v0/datasources/live", headers=H).json()["id"]
    r = c.post("/v0/datasources/exchange", headers=H, data={"datasource_a": "live", "datasource_b": "staging"})
    assert r.status_code == 200, r.text
    assert _sql(c, "SELECT id, user FROM live ORDER BY id") == [{"id": 2, "user": "new"}, {"id": 3, "user": "new"}]
    assert _sql(c, "SELECT id, user FROM staging ORDER BY id") == [{"id": 1, "user": "old"}]
    assert c.get("/v0/datasources/live", headers=H).json()["id"] == live_id        # the name keeps its id
    c.post("/v0/events?name=live&wait=true", headers=H, content=b'{"id": 4, "user": "after"}')
    assert _sql(c, "SELECT count() AS n FROM live") == [{"n": 3}]
    r = c.post("/v0/datasources/exchange", headers=H, data={"datasource_a": "live", "datasource_b": "other"})
    assert r.status_code == 400 and "columns differ" in r.json()["error"]
    r = c.post("/v0/datasources/exchange", headers=H, data={"datasource_a": "live"})
    assert r.status_code == 400 and "datasource_b" in r.json()["error"]
    r = c.post("/v0/datasources/exchange", headers=H, data={"datasource_a": "live", "datasource_b": "nope"})
    assert r.status_code == 404


def test_datafile_text_round_trips(client):
    from sqlparse_ch.datafiles import parse_datasource

    c = client
    r = c.post("/v0/datasources", headers=H, params={
        "name": "latest", "schema": "`id` UInt32 `json:$.id`, `v` UInt32 `json:$.v`, `ts` DateTime DEFAULT now()",
        "engine": "ReplacingMergeTree", "engine_ver": "v", "engine_sorting_key": "id",
        "engine_partition_key": "toYYYYMM(ts)", "description": "the latest value"})
    assert r.status_code == 200, r.text
    r = c.get("/v0/datasources/latest.datasource", headers=H)
    assert r.status_code == 200 and r.headers["content-type"] == "text/plain"     # exactly: tb pull reads it
    ds = parse_datasource(r.text, name="latest")
    assert [(x.name, x.type, x.jsonpath, x.default) for x in ds.columns] == [
        ("id", "UInt32", "$.id", None), ("v", "UInt32", "$.v", None), ("ts", "DateTime", None, "now()")]
    assert (ds.engine, ds.ver, ds.sorting_key, ds.partition_key) == ("ReplacingMergeTree", "v", "id", "toYYYYMM(ts)")
    assert ds.description.strip() == "the latest value"
    assert c.get("/v0/datasources/nope.datasource", headers=H).status_code == 404


def test_put_renames_and_describes(client):
    c = client
    _create(c, "a1")
    c.post("/v0/events?name=a1&wait=true", headers=H, content=b'{"id": 1, "user": "u"}')
    ident = c.get("/v0/datasources/a1", headers=H).json()["id"]
    tok = c.post("/v0/tokens", params={"name": "reader", "scope": "DATASOURCES:READ:a1:id > 0"},
                 headers=H).json()["token"]
    r = c.put("/v0/datasources/a1", headers=FORM, content=b"name=a2&description=renamed")
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "a2" and r.json()["description"] == "renamed" and r.json()["id"] == ident
    assert c.get("/v0/datasources/a1", headers=H).status_code == 404
    assert _sql(c, "SELECT count() AS n FROM a2") == [{"n": 1}]
    # a token scoped to the data source follows the rename, filter included
    scopes = {t["name"]: t["scopes"] for t in c.get("/v0/tokens", headers=H).json()["tokens"]}["reader"]
    assert scopes == [{"type": "DATASOURCES:READ", "resource": "a2", "filter": "id > 0"}]
    r = c.get("/v0/sql", params={"q": "SELECT count() AS n FROM a2 FORMAT JSON"}, headers={"Authorization": f"Bearer {tok}"})
    assert r.status_code == 200 and r.json()["data"] == [{"n": 1}]
    _create(c, "b")
    r = c.put("/v0/datasources/a2", headers=FORM, content=b"name=b")
    assert r.status_code == 409 and "already exists" in r.json()["error"]
    r = c.put("/v0/datasources/a2", headers=FORM, content=b"name=9bad")
    assert r.status_code == 400


def test_alter_adds_the_column_to_the_quarantine_table_too(client):
    c = client
    _create(c, "q")
    r = c.post("/v0/events?name=q&wait=true", headers=H, content=b'{"id": "not a number", "user": "u"}')
    assert r.json()["quarantined_rows"] == 1
    new = "`id` UInt64 `json:$.id`, `user` String `json:$.user`, `n` UInt8 `json:$.n`"
    assert c.post("/v0/datasources/q/alter", headers=H, data={"schema": new}).status_code == 200
    r = c.post("/v0/events?name=q&wait=true", headers=H, content=b'{"id": 5, "user": "v", "n": "abc"}')
    assert r.json()["quarantined_rows"] == 1
    rows = _sql(c, "SELECT id, user, n FROM q_quarantine ORDER BY user")
    assert rows == [{"id": "not a number", "user": "u", "n": None}, {"id": "5", "user": "v", "n": "abc"}]


def test_dev_reload_adds_a_column_while_serving_and_keeps_serving_on_a_refused_change(tmp_path):
    import os
    import time

    from mergetree.server.project import Reloader

    root = _write(tmp_path / "p", {"things.datasource": DS, "all_things.pipe": PIPE})
    app = create_app(tmp_path / "data", admin_token=ADMIN, project=root)
    with TestClient(app) as c:
        c.post("/v0/events?name=things&wait=true", headers=H, content=b'{"id": 1, "name": "a"}')
        reloader = Reloader(app.state.service, root, interval=60)      # driven by check()
        text = textwrap.dedent(DS).lstrip("\n").replace(
            "`name` String `json:$.name`", "`name` String `json:$.name`,\n    `v` Int32 `json:$.v` DEFAULT -id")
        (root / "things.datasource").write_text(text)
        os.utime(root / "things.datasource", ns=(time.time_ns(), time.time_ns() + 10**9))
        assert reloader.check() is True
        c.post("/v0/events?name=things&wait=true", headers=H, content=b'{"id": 2, "name": "b", "v": 5}')
        assert c.get("/v0/pipes/all_things.json", headers=H).json()["data"] == [
            {"id": 1, "name": "a", "v": -1}, {"id": 2, "name": "b", "v": 5}]
        # dropping the column again is refused: the error names the file, the old definition keeps serving
        (root / "things.datasource").write_text(textwrap.dedent(DS).lstrip("\n"))
        os.utime(root / "things.datasource", ns=(time.time_ns(), time.time_ns() + 2 * 10**9))
        assert reloader.check() is False
        assert "things.datasource" in reloader.last_error and "column 'v' Int32 was removed" in reloader.last_error
        assert c.get("/v0/pipes/all_things.json", headers=H).json()["rows"] == 2


@pytest.mark.slow          # worker processes take seconds to start
def test_query_workers_see_column_changes_and_exchanges(tmp_path):
    """``serve --workers``: SELECTs in worker processes read old parts through the new schema."""
    import time

    app = create_app(tmp_path / "d", admin_token=ADMIN, flush_interval=3600, workers=1)
    with TestClient(app, raise_server_exceptions=False) as c:
        _create(c, "w1")
        _create(c, "w2")
        c.post("/v0/events?name=w1&wait=true", headers=H, content=b'{"id": 1, "user": "a"}')
        c.post("/v0/events?name=w2&wait=true", headers=H, content=b'{"id": 2, "user": "b"}')
        workers = app.state.service.engine.workers
        deadline = time.time() + 60
        while workers.stats["worker"] == 0 and time.time() < deadline:   # until a worker answers
            _sql(c, "SELECT count() AS n FROM w1")
            time.sleep(0.2)
        new = "`id` UInt64 `json:$.id`, `user` String `json:$.user`, `x` UInt64 DEFAULT id * 7"
        assert c.post("/v0/datasources/w1/alter", headers=H, data={"schema": new}).status_code == 200
        assert _sql(c, "SELECT id, x FROM w1") == [{"id": 1, "x": 7}]
        assert c.post("/v0/datasources/exchange", headers=H,
                      data={"datasource_a": "w2", "datasource_b": "w1"}).status_code == 400    # columns differ
        c.post("/v0/datasources/w2/alter", headers=H, data={"schema": new})
        assert c.post("/v0/datasources/exchange", headers=H,
                      data={"datasource_a": "w2", "datasource_b": "w1"}).status_code == 200
        before = workers.stats["worker"]
        assert _sql(c, "SELECT id, x FROM w1") == [{"id": 2, "x": 14}]
        assert _sql(c, "SELECT id, x FROM w2") == [{"id": 1, "x": 7}]
        assert workers.stats["worker"] == before + 2          # answered by the worker, not the fallback


def test_quickstart_evolves_a_source_its_view_target_and_the_view(tmp_path):
    """The canonical project grows a `country` column in `events`, its view target and the view's SQL:
    one restart applies all three; rows stored before read the DEFAULT in both tables."""
    import shutil

    root = tmp_path / "qs"
    shutil.copytree(Path(__file__).resolve().parent.parent / "examples" / "quickstart", root)
    data = tmp_path / "data"
    ev = b'{"event_id": "e1", "user_id": "u1", "event_type": "click", "timestamp": "2026-11-27 10:00:00"}'
    with TestClient(create_app(data, admin_token=ADMIN, project=root)) as c:
        assert c.post("/v0/events?name=events&wait=true", headers=H, content=ev).status_code == 200
    src, tgt, mv = (root / "datasources/events.datasource", root / "datasources/events_by_user.datasource",
                    root / "pipes/events_by_user_mv.pipe")
    src.write_text(src.read_text().replace("`timestamp` DateTime `json:$.timestamp`",
                                           "`timestamp` DateTime `json:$.timestamp`,\n"
                                           "    `country` LowCardinality(String) `json:$.country` DEFAULT 'ZZ'"))
    tgt.write_text(tgt.read_text().replace("`timestamp` DateTime",
                                           "`timestamp` DateTime,\n    `country` LowCardinality(String) DEFAULT 'ZZ'"))
    mv.write_text(mv.read_text().replace("SELECT user_id, event_type, timestamp FROM events",
                                         "SELECT user_id, event_type, timestamp, country FROM events"))
    ev2 = ev.replace(b'"e1"', b'"e2"').replace(b"}", b', "country": "ES"}')
    with TestClient(create_app(data, admin_token=ADMIN, project=root)) as c:
        assert c.post("/v0/events?name=events&wait=true", headers=H, content=ev2).status_code == 200
        assert _sql(c, "SELECT event_id, country FROM events ORDER BY event_id") == [
            {"event_id": "e1", "country": "ZZ"}, {"event_id": "e2", "country": "ES"}]
        assert _sql(c, "SELECT user_id, country FROM events_by_user ORDER BY country") == [
            {"user_id": "u1", "country": "ES"}, {"user_id": "u1", "country": "ZZ"}]
        r = c.get("/v0/pipes/user_activity.json", params={"user_id": "u1", "days": 100000}, headers=H)
        assert r.status_code == 200, r.text
