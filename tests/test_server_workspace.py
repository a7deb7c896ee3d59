"""server/workspace.py and server/pipe_admin.py: secrets (/v0/variables + tb_secret), workspace info,
tinybird-local's /tokens and workspaces, Forward /v1/build, /v1/deploy, /v1/deployments, and Classic
pipe administration (POST/DELETE /v0/pipes, nodes, endpoint, /v1/pipes/NAME.pipe).

Expected shapes are Tinybird's documented ones (TINYBIRD.md D.4/D.6, verdin's VariableInfo
docstring, the tb 5.x CLI's reads of build/deployment answers); expected rows are hand-computed."""

from __future__ import annotations

import os
import stat

import pytest
from starlette.testclient import TestClient

from mergetree.server.app import create_app

ADMIN = "admin-secret-long-enough-for-hs256-keys-workspace"
H = {"Authorization": f"Bearer {ADMIN}"}
DS = ("SCHEMA >\n    `a` String `json:$.a`,\n    `n` Int32 `json:$.n`\n\n"
      "ENGINE \"MergeTree\"\nENGINE_SORTING_KEY \"a\"\n")
PIPE = "NODE t\nSQL >\n    SELECT sum(n) AS total FROM things\n\nTYPE endpoint\n"


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def client(tmp_path):
    with TestClient(create_app(tmp_path / "data", admin_token=ADMIN, flush_interval=0.05)) as c:
        yield c


def make_things(c, headers=H, rows=b'{"a": "x", "n": 1}\n{"a": "s3cr3t", "n": 2}\n{"a": "y", "n": 4}'):
    r = c.post("/v0/datasources", params={"name": "things", "schema": "a String, n Int32"}, headers=headers)
    assert r.status_code == 200, r.text
    r = c.post("/v0/events?name=things&wait=true", content=rows, headers=headers)
    assert r.status_code == 200 and r.json()["successful_rows"] == 3


def token_with(c, name, *scopes):
    r = c.post("/v0/tokens", params=[("name", name), *[("scope", s) for s in scopes]], headers=H)
    assert r.status_code == 200, r.text
    return r.json()["token"]


# --------------------------------------------------------------------------- variables


def test_variables_crud_never_lists_values_and_persists(tmp_path):
    data = tmp_path / "data"
    with TestClient(create_app(data, admin_token=ADMIN, flush_interval=0.05)) as c:
        r = c.post("/v0/variables", data={"name": "pg_password", "value": "hunter2"}, headers=H)
        assert r.status_code == 200, r.text
        v = r.json()
        assert v["name"] == "pg_password" and v["type"] == "secret" and "value" not in v
        assert v["edited_by"] == "token: 'admin token'" and "T" in v["created_at"]      # verdin's example shape
        assert c.post("/v0/variables", data={"name": "pg_password", "value": "x"}, headers=H).status_code == 409
        r = c.post("/v0/variables", json={"name": "other", "value": "v2"}, headers=H)          # JSON body too
        assert r.status_code == 200
        listed = c.get("/v0/variables", headers=H).json()["variables"]
        assert sorted(x["name"] for x in listed) == ["other", "pg_password"]
        assert "hunter2" not in c.get("/v0/variables", headers=H).text
        assert "hunter2" not in c.get("/v0/variables/pg_password", headers=H).text
        r = c.put("/v0/variables/pg_password", data={"value": "hunter3"}, headers=H)
        assert r.status_code == 200 and r.json()["name"] == "pg_password"
        assert c.put("/v0/variables/nope", data={"value": "x"}, headers=H).status_code == 404
        assert c.delete("/v0/variables/other", headers=H).json() == {"ok": True}
        assert c.delete("/v0/variables/other", headers=H).status_code == 404
        assert c.get("/v0/variables/other", headers=H).status_code == 404
        for bad in ({"name": "1abc", "value": "x"}, {"name": "a-b", "value": "x"}, {"name": "ok"},
                    {"name": "big", "value": "x" * 9000}, {"name": "t", "value": "x", "type": "plain"}):
            r = c.post("/v0/variables", data=bad, headers=H)
            assert r.status_code == 400 and r.json()["error"] and r.json()["documentation"], bad
        reader = token_with(c, "reader", "DATASOURCES:CREATE")
        for method, path in (("GET", "/v0/variables"), ("GET", "/v0/variables/pg_password"),
                             ("DELETE", "/v0/variables/pg_password")):
            r = c.request(method, path, headers=bearer(reader))
            assert r.status_code == 403 and "ADMIN" in r.json()["error"]
    path = data / "server" / "variables.json"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with TestClient(create_app(data, admin_token=ADMIN, flush_interval=0.05)) as c:     # restart
        assert [x["name"] for x in c.get("/v0/variables", headers=H).json()["variables"]] == ["pg_password"]


def test_tb_secret_is_bound_as_a_parameter_never_spliced(client):
    c = client
    make_things(c)
    sql = "%\nSELECT count() AS c, sum(n) AS s FROM things WHERE a = {{ tb_secret('pw') }}"
    r = c.post("/v0/pipes", json={"name": "by_secret", "nodes": [{"name": "n", "sql": sql, "type": "endpoint"}]},
               headers=H)
    assert r.status_code == 200, r.text
    r = c.get("/v0/pipes/by_secret.json", headers=H)                   # no such secret yet
    assert r.status_code == 400 and "Cannot access secret 'pw'" in r.json()["error"]
    c.post("/v0/variables", data={"name": "pw", "value": "s3cr3t"}, headers=H)
    assert c.get("/v0/pipes/by_secret.json", headers=H).json()["data"] == [{"c": 1, "s": 2}]
    # a hostile value stays a string: it matches no row instead of widening the WHERE
    c.put("/v0/variables/pw", data={"value": "x' OR 1=1 OR a = '"}, headers=H)
    assert c.get("/v0/pipes/by_secret.json", headers=H).json()["data"] == [{"c": 0, "s": 0}]
    # a caller cannot read the secret by naming its parameter in q= or /v0/sql (only the pipe's AST is bound)
    c.put("/v0/variables/pw", data={"value": "s3cr3t"}, headers=H)
    reader = token_with(c, "reader", "PIPES:READ:by_secret")
    for params in ({"q": "SELECT {pw:String} AS leak FROM _"}, {"q": "SELECT c, {pw:String} AS leak FROM _"}):
        r = c.get("/v0/pipes/by_secret.json", params=params, headers=bearer(reader))
        assert r.status_code == 400 and "s3cr3t" not in r.text, r.text
    r = c.get("/v0/sql", params={"q": "SELECT {pw:String} AS leak FORMAT JSON"}, headers=H)
    assert r.status_code == 400 and "s3cr3t" not in r.text
    r = c.get("/v0/sql", params={"q": "SELECT c, s FROM by_secret FORMAT JSON"}, headers=H)     # a pipe in /v0/sql
    assert r.status_code == 200 and r.json()["data"] == [{"c": 1, "s": 2}]
    assert c.get("/v0/pipes/by_secret.json", params={"q": "SELECT c FROM _"},
                 headers=bearer(reader)).json()["data"] == [{"c": 1}]
    # with a default, a missing secret renders the default
    sql2 = "%\nSELECT count() AS c FROM things WHERE a = {{ tb_secret('missing', 'y') }}"
    c.post("/v0/pipes", json={"name": "dflt", "nodes": [{"name": "n", "sql": sql2, "type": "endpoint"}]}, headers=H)
    assert c.get("/v0/pipes/dflt.json", headers=H).json()["data"] == [{"c": 1}]


# --------------------------------------------------------------------------- workspace, auth, /tokens


def test_workspace_auth_and_local_tokens(tmp_path):
    with TestClient(create_app(tmp_path / "data", admin_token=ADMIN, flush_interval=0.05)) as c:
        ws = c.get("/v0/workspace", headers=H).json()
        assert ws["name"] == "mergetree" and ws["id"] and "token" not in ws and ws["scope"] == "admin"
        reader = token_with(c, "reader", "PIPES:READ:x")
        auth = c.get("/v0/auth", headers=bearer(reader)).json()
        assert auth["is_admin"] is False and auth["token_name"] == "reader" and auth["workspace_id"] == ws["id"]
        assert auth["scopes"] == [{"type": "PIPES:READ", "resource": "x"}]
        assert "scope" not in c.get("/v0/workspace", headers=bearer(reader)).json()      # not an admin token
        assert c.get("/v0/auth").status_code == 403
        assert c.get("/tokens").json() == {"user_token": ADMIN, "admin_token": ADMIN, "workspace_admin_token": ADMIN}
        assert c.get("/v0/workspace", headers=H).json()["id"] == ws["id"]              # stable
    app = create_app(tmp_path / "data2", admin_token=ADMIN, flush_interval=0.05)
    with TestClient(app, client=("10.1.2.3", 4000)) as remote:          # /tokens hands out the admin token
        r = remote.get("/tokens")
        assert r.status_code == 403 and ADMIN not in r.text
    with TestClient(create_app(tmp_path / "data3", admin_token=ADMIN, flush_interval=0.05)) as c:
        r = c.get("/tokens", headers={"X-Forwarded-For": "203.0.113.9"})     # a local reverse proxy
        assert r.status_code == 403 and ADMIN not in r.text


# --------------------------------------------------------------------------- workspaces


def test_created_workspaces_are_separate_and_routed_by_token(tmp_path):
    data = tmp_path / "data"
    with TestClient(create_app(data, admin_token=ADMIN, flush_interval=0.05)) as c:
        make_things(c)
        r = c.post("/v1/workspaces", params={"name": "Tinybird_Local_Build_abc", "assign_to_organization_id": "o"},
                   headers=H)
        assert r.status_code == 200, r.text
        ws = r.json()
        assert ws["name"] == "Tinybird_Local_Build_abc" and ws["token"].startswith("p.")
        assert c.post("/v1/workspaces", params={"name": "Tinybird_Local_Build_abc"}, headers=H).status_code == 409
        listed = c.get(f"/v1/user/workspaces?with_organization=true&token={ADMIN}").json()
        assert listed["id"] == listed["workspaces"][0]["id"] and listed["name"] == "mergetree"
        assert listed["organization_id"] and [w["name"] for w in listed["workspaces"]] == [
            "mergetree", "Tinybird_Local_Build_abc"]
        assert all(w["token"] for w in listed["workspaces"])
        wh = bearer(ws["token"])
        assert c.get("/v0/datasources", headers=wh).json()["datasources"] == []      # its own, empty data
        assert c.get("/v0/workspace", headers=wh).json()["id"] == ws["id"]
        r = c.post("/v0/datasources", params={"name": "only_there", "schema": "x Int32"}, headers=wh)
        assert r.status_code == 200
        assert c.get("/v0/datasources/only_there", headers=H).status_code == 404
        assert c.get("/v0/datasources/things", headers=wh).status_code == 404
        # only the server's admin token manages workspaces
        assert c.get("/v1/user/workspaces", headers=wh).status_code == 403
        assert c.post("/v1/workspaces", params={"name": "x"}, headers=wh).status_code == 403
        reader = token_with(c, "reader", "DATASOURCES:READ:things")
        assert c.post("/v1/workspaces", params={"name": "x"}, headers=bearer(reader)).status_code == 403
        assert c.post("/v1/workspaces", params={"name": "bad name!"}, headers=H).status_code == 400
        # a JWT minted in the created workspace (signed with its admin token) reaches that workspace
        import time as _time

        r = c.post("/v0/tokens", params={"expiration_time": int(_time.time()) + 600}, headers=wh,
                   json={"name": "dash", "scopes": [{"type": "DATASOURCES:READ", "resource": "only_there"}]})
        jwt_token = r.json()["token"]
        r = c.get("/v0/sql", params={"q": "SELECT count() AS c FROM only_there FORMAT JSON"}, headers=bearer(jwt_token))
        assert r.status_code == 200 and r.json()["data"] == [{"c": 0}]
        assert c.get("/v0/datasources/things", headers=bearer(jwt_token)).status_code in (403, 404)
        r = c.post("/v0/tokens", params={"expiration_time": int(_time.time()) + 600}, headers=H,
                   json={"name": "main_dash", "scopes": [{"type": "DATASOURCES:READ", "resource": "things"}]})
        r = c.get("/v0/sql", params={"q": "SELECT count() AS c FROM things FORMAT JSON"},
                  headers=bearer(r.json()["token"]))                      # the default workspace's JWTs still work
        assert r.status_code == 200 and r.json()["data"] == [{"c": 3}]
        assert c.delete(f"/v1/workspaces/{listed['workspaces'][0]['id']}", headers=H).status_code == 400
    with TestClient(create_app(data, admin_token=ADMIN, flush_interval=0.05)) as c:     # restart: still routed
        assert c.get("/v0/datasources/only_there", headers=wh).status_code == 200
        r = c.delete(f"/v1/workspaces/{ws['id']}?hard_delete_confirmation=yes", headers=H)
        assert r.status_code == 200 and r.json()["deleted"] is True
        assert not (data / "workspaces" / ws["id"]).exists()
        assert c.get("/v0/datasources", headers=wh).status_code == 403                 # its token is gone
        assert c.delete(f"/v1/workspaces/{ws['id']}", headers=H).status_code == 404
        assert c.get("/v0/datasources/things", headers=H).status_code == 200           # the default one is intact


# --------------------------------------------------------------------------- build / deploy


def build(c, files, headers):
    parts = [("context://", ("cli-version", "5.0.3", "text/plain"))]
    parts += [("data_project://", (name, text, "text/plain")) for name, text in files.items()]
    return c.post("/v1/build", files=parts, headers=headers)


def test_build_in_a_created_workspace_is_fresh(client):
    c = client
    ws = c.post("/v1/workspaces", params={"name": "b"}, headers=H).json()
    wh = bearer(ws["token"])
    files = {"datasources/things.datasource": DS, "endpoints/total.pipe": PIPE,
             "connections/kafka.connection": "TYPE kafka\n"}
    r = build(c, files, wh)
    assert r.status_code == 200, r.text
    b = r.json()
    assert b["result"] == "success"
    assert b["build"]["new_datasource_names"] == ["things"] and b["build"]["new_pipe_names"] == ["total"]
    assert b["build"]["changed_pipe_names"] == [] and b["build"]["deleted_datasource_names"] == []
    assert any(f["resource"] == "connections/kafka.connection" for f in b["build"]["feedback"])
    c.post("/v0/events?name=things&wait=true", content=b'{"a": "x", "n": 5}', headers=wh)
    assert c.get("/v0/pipes/total.json", headers=wh).json()["data"] == [{"total": 5}]
    r = build(c, files, wh).json()                       # nothing changed: nothing rebuilt, data kept
    assert r["result"] == "success" and not any(v for k, v in r["build"].items() if k.endswith("_names"))
    assert c.get("/v0/pipes/total.json", headers=wh).json()["data"] == [{"total": 5}]
    changed = {**files, "endpoints/total.pipe": PIPE.replace("sum(n)", "sum(n) * 10")}
    r = build(c, changed, wh).json()
    assert r["build"]["changed_pipe_names"] == ["total"] and r["build"]["new_datasource_names"] == []
    assert c.get("/v0/datasources/things", headers=wh).json()["statistics"]["row_count"] == 0   # fresh
    c.post("/v0/events?name=things&wait=true", content=b'{"a": "x", "n": 5}', headers=wh)
    retyped = {**changed, "datasources/things.datasource": DS.replace("`n` Int32", "`n` Int64")}
    r = build(c, retyped, wh).json()                     # a schema change is fine in a fresh build
    assert r["result"] == "success" and r["build"]["changed_datasource_names"] == ["things"]
    assert c.get("/v0/datasources/things", headers=wh).json()["schema"]["columns"][1]["type"] == "Int64"
    # a bad datafile: failed, file named, the workspace keeps serving the last good build
    r = build(c, {**changed, "endpoints/bad.pipe": "NODE n\nSQL >\n    SELECT FROM\n"}, wh)
    assert r.status_code == 400 and r.json()["result"] == "failed"
    assert r.json()["errors"][0]["filename"] == "endpoints/bad.pipe" and r.json()["errors"][0]["error"]
    assert c.get("/v0/pipes/total.json", headers=wh).status_code == 200
    assert c.post("/v1/build", content=b"x", headers=wh).status_code == 400             # not multipart
    r = c.post("/v1/build", files=[("context://", ("cli-version", "5.0.3", "text/plain"))], headers=wh)
    assert r.status_code == 400 and "No datafiles" in r.json()["error"]                 # nothing to build
    r = build(c, {"connections/k.connection": "TYPE kafka\n"}, wh)                       # only unsupported files
    assert r.status_code == 400 and "No .datasource or .pipe" in r.json()["error"]
    r = build(c, {"../evil.pipe": PIPE}, wh)
    assert r.status_code == 400 and "Invalid datafile path" in r.json()["error"]


def test_build_in_the_default_workspace_never_drops_data(client):
    c = client
    assert build(c, {"datasources/things.datasource": DS}, H).json()["build"]["new_datasource_names"] == ["things"]
    c.post("/v0/events?name=things&wait=true", content=b'{"a": "x", "n": 5}', headers=H)
    r = build(c, {"datasources/things.datasource": DS, "endpoints/total.pipe": PIPE}, H).json()
    assert r["build"]["new_pipe_names"] == ["total"]
    assert c.get("/v0/pipes/total.json", headers=H).json()["data"] == [{"total": 5}]
    r = build(c, {"datasources/things.datasource": DS.replace("`n` Int32", "`n` String")}, H)
    assert r.status_code == 400 and r.json()["result"] == "failed"
    assert "things.datasource" in r.json()["errors"][0]["filename"]
    assert c.get("/v0/pipes/total.json", headers=H).json()["data"] == [{"total": 5}]
    reader = token_with(c, "reader", "DATASOURCES:CREATE")
    assert build(c, {"datasources/things.datasource": DS}, bearer(reader)).status_code == 403


def deploy(c, files, headers, **params):
    parts = [("data_project://", (name, text, "text/plain")) for name, text in files.items()]
    return c.post("/v1/deploy", files=parts, params=params, headers=headers)


def test_deploy_and_deployments(client):
    c = client
    files = {"datasources/things.datasource": DS, "endpoints/total.pipe": PIPE}
    seed = c.get("/v1/deployments", headers=H).json()["deployments"]          # Tinybird's seed deployment 0
    assert [(d["id"], d["live"]) for d in seed] == [("0", True)]
    r = deploy(c, files, H, check="true")
    assert r.json()["result"] == "success" and c.get("/v0/datasources/things", headers=H).status_code == 404
    r = deploy(c, files, H, auto_promote="true")
    assert r.status_code == 200, r.text
    d1 = r.json()["deployment"]
    assert d1["id"] == "1" and d1["status"] == "data_ready" and d1["live"] is True and d1["errors"] == []
    assert d1["new_datasource_names"] == ["things"] and d1["new_pipe_names"] == ["total"]
    assert deploy(c, files, H, auto_promote="true").json()["result"] == "no_changes"
    r = deploy(c, {"datasources/things.datasource": DS}, H, auto_promote="true").json()   # the pipe leaves
    assert r["deployment"]["id"] == "2" and r["deployment"]["deleted_pipe_names"] == ["total"]
    assert c.get("/v0/pipes/total.json", headers=H).status_code == 404
    assert c.get("/v0/datasources/things", headers=H).status_code == 200
    listed = c.get("/v1/deployments", headers=H).json()["deployments"]
    assert [(d["id"], d["status"], d["live"]) for d in listed] == [("2", "data_ready", True)]   # not the deleted
    assert c.get("/v1/deployments/1", headers=H).json()["deployment"]["status"] == "deleted"
    assert c.get("/v1/deployments/0", headers=H).json()["deployment"]["status"] == "deleted"
    assert c.post("/v1/deployments/2/set-live", headers=H).json()["deployment"]["live"] is True
    assert c.delete("/v1/deployments/2", headers=H).status_code == 400          # the live one stays
    assert c.get("/v1/deployments/9", headers=H).status_code == 404
    # without auto_promote: a candidate, applied only when promoted (or discarded)
    r = deploy(c, files, H).json()
    assert r["result"] == "success" and r["deployment"]["live"] is False and r["deployment"]["id"] == "3"
    assert "files" not in r["deployment"]
    assert c.get("/v0/pipes/total.json", headers=H).status_code == 404                # not applied yet
    listed = c.get("/v1/deployments", headers=H).json()["deployments"]
    assert [(d["id"], d["live"]) for d in listed] == [("2", True), ("3", False)]      # live first (tb promote)
    assert c.post("/v1/deployments/3/set-live", headers=H).json()["deployment"]["live"] is True
    assert c.get("/v0/pipes/total.json", headers=H).json()["data"] == [{"total": 0}]   # sum() of no rows
    assert c.get("/v1/deployments/2", headers=H).json()["deployment"]["status"] == "deleted"
    r = deploy(c, {"datasources/things.datasource": DS}, H).json()                   # another candidate ...
    assert c.delete(f"/v1/deployments/{r['deployment']['id']}", headers=H).json()["deployment"]["status"] == "deleted"
    assert c.get("/v0/pipes/total.json", headers=H).status_code == 200                # ... discarded: no change
    assert c.post(f"/v1/deployments/{r['deployment']['id']}/set-live", headers=H).status_code == 400
    changed = {"datasources/things.datasource": DS.replace("`n` Int32", "`n` UInt8")}
    r = deploy(c, changed, H, check="true")                              # the check sees the schema change too
    assert r.status_code == 400 and r.json()["result"] == "failed"
    r = deploy(c, changed, H, auto_promote="true")
    assert r.status_code == 400 and r.json()["result"] == "failed"
    assert r.json()["deployment"]["errors"][0]["filename"] == "datasources/things.datasource"


# --------------------------------------------------------------------------- classic pipe admin


def test_pipe_admin_create_nodes_endpoint_drop(tmp_path):
    from sqlparse_ch.datafiles import read_datafile

    data = tmp_path / "data"
    with TestClient(create_app(data, admin_token=ADMIN, flush_interval=0.05)) as c:
        make_things(c)
        r = c.post("/v0/pipes", data={"name": "p", "sql": "SELECT a, n FROM things"}, headers=H)
        assert r.status_code == 200, r.text
        assert [n["name"] for n in r.json()["nodes"]] == ["p_0"] and r.json()["created_at"]
        assert c.post("/v0/pipes", data={"name": "p", "sql": "SELECT 1"}, headers=H).status_code == 409
        r = c.post("/v0/pipes/p/nodes", params={"name": "agg"}, content=b"SELECT sum(n) AS s FROM p_0", headers=H)
        assert r.status_code == 200 and r.json()["name"] == "agg"
        r = c.post("/v0/pipes/p/nodes/agg/endpoint", headers=H)
        assert r.status_code == 200 and r.json()["endpoint"] == "agg"
        assert c.get("/v0/pipes/p.json", headers=H).json()["data"] == [{"s": 7}]
        r = c.post("/v0/pipes/p/nodes/p_0/endpoint", headers=H)                  # move the endpoint
        assert r.json()["endpoint"] == "p_0"
        assert [x["node_type"] for x in r.json()["nodes"]] == ["endpoint", "standard"]
        assert c.delete("/v0/pipes/p/nodes/p_0/endpoint", headers=H).status_code == 200
        r = c.post("/v0/pipes/p/nodes/t_p_agg/endpoint", headers=H)             # a node id works too
        assert r.status_code == 200 and r.json()["endpoint"] == "agg"
        assert c.post("/v0/pipes/p/nodes/zz/endpoint", headers=H).status_code == 404
        text = c.get("/v1/pipes/p.pipe", headers=H)
        assert text.headers["content-type"] == "text/plain"
        f = tmp_path / "p.pipe"
        f.write_text(text.text)
        assert [(n.name, n.sql.strip()) for n in read_datafile(str(f)).nodes] == [
            ("p_0", "SELECT a, n FROM things"), ("agg", "SELECT sum(n) AS s FROM p_0")]
        # JSON body with a template and force=true to replace
        body = {"name": "p", "description": "sums", "nodes": [
            {"name": "f", "sql": "%\nSELECT sum(n) AS s FROM things WHERE n >= {{Int32(min_n, 0)}}",
             "type": "endpoint"}]}
        assert c.post("/v0/pipes", json=body, headers=H).status_code == 409
        r = c.post("/v0/pipes?force=true", json=body, headers=H)
        assert r.status_code == 200 and r.json()["description"] == "sums"
        assert c.get("/v0/pipes/p.json?min_n=2", headers=H).json()["data"] == [{"s": 6}]
        for bad in ({"name": "x y", "nodes": [{"sql": "SELECT 1"}]}, {"name": "q", "nodes": []},
                    {"name": "q", "nodes": [{"name": "n"}]}, {"name": "q", "nodes": [{"sql": "SELECT", "type": "x"}]},
                    {"name": "things", "nodes": [{"sql": "SELECT 1"}]}):
            r = c.post("/v0/pipes", json=body | bad, headers=H)
            assert r.status_code in (400, 409) and r.json()["error"], bad
        # values that would add datafile lines (a TOKEN, another NODE) are refused or stay inside their block
        evil = {"name": "e", "nodes": [{"sql": "SELECT 1 AS one", "target_datasource": "things",
                                        "schedule_cron": "* * * * *\nTOKEN \"t\" READ"}]}
        assert c.post("/v0/pipes", json=evil, headers=H).status_code == 400
        for bad_description in ({"x": 1}, ["a"]):
            assert c.post("/v0/pipes", json={"name": "e", "description": bad_description,
                                             "nodes": [{"sql": "SELECT 1"}]}, headers=H).status_code == 400
        r = c.post("/v0/pipes", json={"name": "e", "description": "d\nTOKEN \"t2\" READ\nNODE x",
                                      "nodes": [{"sql": "SELECT 1 AS one\nTOKEN \"t3\" READ", "name": "n"}]},
                   headers=H)
        assert r.status_code in (200, 400)
        names = {t["name"] for t in c.get("/v0/tokens", headers=H).json()["tokens"]}
        assert not names & {"t", "t2", "t3"}
        c.delete("/v0/pipes/e", headers=H)
        assert c.post("/v0/pipes", json={"name": "q", "nodes": [{"sql": "SELECT nope FROM things"}]},
                      headers=H).status_code == 400                                # checked before served
        # scopes: PIPES:CREATE creates, PIPES:DROP:p drops
        maker = token_with(c, "maker", "PIPES:CREATE")
        nobody = token_with(c, "nobody", "DATASOURCES:READ:things")
        assert c.post("/v0/pipes", data={"name": "m", "sql": "SELECT 1 AS one"}, headers=bearer(nobody)).status_code == 403
        assert c.post("/v0/pipes", data={"name": "m", "sql": "SELECT 1 AS one"}, headers=bearer(maker)).status_code == 200
        assert c.delete("/v0/pipes/m", headers=bearer(maker)).status_code == 403
        dropper = token_with(c, "dropper", "PIPES:DROP:m")
        assert c.delete("/v0/pipes/m", headers=bearer(dropper)).status_code == 204
        assert c.get("/v0/pipes/m.json", headers=H).status_code == 404
        assert c.delete("/v0/pipes/m", headers=H).status_code == 404
    with TestClient(create_app(data, admin_token=ADMIN, flush_interval=0.05)) as c:      # kept in the data dir
        assert c.get("/v0/pipes/p.json?min_n=4", headers=H).json()["data"] == [{"s": 4}]
        assert c.get("/v0/pipes/m", headers=H).status_code == 404


def test_pipe_admin_materialized_and_copy_nodes(client):
    import time

    c = client
    make_things(c)
    c.post("/v0/datasources", params={"name": "totals", "schema": "a String, n Int64",
                                      "engine": "SummingMergeTree", "engine_sorting_key": "a"}, headers=H)
    mv = {"name": "mv", "nodes": [{"name": "m", "sql": "SELECT a, toInt64(n) AS n FROM things",
                                   "datasource": "totals"}]}
    assert c.post("/v0/pipes", json=mv, headers=H).status_code == 200
    rows = lambda: c.get("/v0/sql", params={"q": "SELECT sum(n) AS s FROM totals FORMAT JSON"},  # noqa: E731
                         headers=H).json()["data"]
    assert rows() == [{"s": 7}]                                         # populated at creation (empty target)
    c.post("/v0/events?name=things&wait=true", content=b'{"a": "z", "n": 10}', headers=H)
    assert rows() == [{"s": 17}]
    assert c.delete("/v0/pipes/mv", headers=H).status_code == 204       # stops materializing
    c.post("/v0/events?name=things&wait=true", content=b'{"a": "z", "n": 100}', headers=H)
    assert rows() == [{"s": 17}]
    c.post("/v0/datasources", params={"name": "snap", "schema": "c UInt64"}, headers=H)
    cp = {"name": "cp", "nodes": [{"name": "c", "sql": "SELECT count() AS c FROM things",
                                   "target_datasource": "snap", "mode": "append"}]}
    assert c.post("/v0/pipes", json=cp, headers=H).status_code == 200
    job = c.post("/v0/pipes/cp/copy", headers=H).json()
    for _ in range(200):
        status = c.get(f"/v0/jobs/{job['id']}", headers=H).json()["status"]
        if status in ("done", "error"):
            break
        time.sleep(0.05)
    assert status == "done"
    assert c.get("/v0/sql", params={"q": "SELECT c FROM snap FORMAT JSON"}, headers=H).json()["data"] == [{"c": 5}]
    # a copy that filters by a secret gets the secret's value (bound in the AST, not spliced into text)
    c.post("/v0/variables", data={"name": "who", "value": "z' OR '1"}, headers=H)
    sql = "%\nSELECT count() AS c FROM things WHERE a = {{ tb_secret('who') }} OR a = 'x'"
    cp2 = {"name": "cp2", "nodes": [{"name": "c", "sql": sql, "target_datasource": "snap", "mode": "replace"}]}
    assert c.post("/v0/pipes", json=cp2, headers=H).status_code == 200
    job = c.post("/v0/pipes/cp2/copy", headers=H).json()
    for _ in range(200):
        status = c.get(f"/v0/jobs/{job['id']}", headers=H).json()["status"]
        if status in ("done", "error"):
            break
        time.sleep(0.05)
    assert status == "done", c.get(f"/v0/jobs/{job['id']}", headers=H).json()
    assert c.get("/v0/sql", params={"q": "SELECT c FROM snap FORMAT JSON"}, headers=H).json()["data"] == [{"c": 1}]


# --------------------------------------------------------------------------- a real client: verdin


def test_verdin_variables_api(tmp_path):
    """verdin's ``/v0/variables`` client, unmodified, against a live server."""
    verdin_api = pytest.importorskip("verdin.api.variables", reason="verdin is not installed (pip install verdin)")
    from tests.clients.conftest import LiveServer

    server = LiveServer(tmp_path, project=None)
    try:
        api = verdin_api.VariablesApi(server.admin, server.host)
        created = api.create("pg_password", "hunter2").variable
        assert created["name"] == "pg_password" and created["type"] == "secret"
        assert [v["name"] for v in api.list().variables] == ["pg_password"]
        assert api.get("pg_password").variable["name"] == "pg_password"
        assert api.update("pg_password", "hunter3").variable["name"] == "pg_password"
        assert api.delete("pg_password").ok is True
        with pytest.raises(verdin_api.VariableNotFoundError):
            api.get("pg_password")
    finally:
        server.stop()


# --------------------------------------------------------------------------- pipe formats


def test_prometheus_and_csvwithnames_pipe_formats_match_clickhouse(client):
    """``.prometheus`` / ``FORMAT Prometheus`` byte-identical with chDB on the same rows (grouping of
    consecutive names, HELP/TYPE from a group's first row, sorted and escaped labels, +Inf/NaN,
    timestamp 0 left out); ``.csvwithnames`` is ``.csv``."""
    chdb = pytest.importorskip("chdb")
    rows = [("'b'", "1", "'hb'", "'counter'", "map('z', '1', 'a', 'q\"\\\\x')", "5"),
            ("'a'", "2", "'h\\na'", "''", "map()", "0"),
            ("'b'", "3", "''", "''", "map()", "0"),
            ("'a'", "nan", "'ha2'", "'gauge'", "map('k', 'v')", "7"),
            ("'c'", "-inf", "''", "''", "map()", "0"), ("'c'", "1e20", "''", "''", "map()", "0"),
            ("'c'", "1e-7", "''", "''", "map()", "0"), ("'c'", "-0.", "''", "''", "map()", "0")]
    shape = ["{} AS name", "toFloat64({}) AS value", "{} AS help", "{} AS type",
             "CAST({} AS Map(String, String)) AS labels", "toInt64({}) AS timestamp"]
    sql = " UNION ALL ".join("SELECT " + ", ".join(f.format(v) for f, v in zip(shape, r)) for r in rows)
    # chDB runs UNION ALL branches in parallel (its row order varies run to run): one thread keeps
    # the branches' order, which is ours
    expected = chdb.query(f"SELECT * FROM ({sql}) SETTINGS max_threads = 1", "Prometheus").bytes()
    c = client
    r = c.get("/v0/sql", params={"q": sql + " FORMAT Prometheus"}, headers=H)
    assert r.status_code == 200 and r.content == expected
    assert c.post("/v0/pipes", json={"name": "metrics", "nodes": [{"name": "m", "sql": sql, "type": "endpoint"}]},
                  headers=H).status_code == 200
    r = c.get("/v0/pipes/metrics.prometheus", headers=H)
    assert r.status_code == 200 and r.content == expected and r.headers["content-type"].startswith("text/plain")
    r = c.get("/v0/sql", params={"q": "SELECT 'x' AS name FORMAT Prometheus"}, headers=H)
    assert r.status_code == 400 and "value" in r.json()["error"]
    simple = "SELECT 1 AS a, 'x,y' AS b"
    assert c.post("/v0/pipes", data={"name": "simple", "sql": simple}, headers=H).status_code == 200
    r = c.get("/v0/pipes/simple.csvwithnames", headers=H)
    assert r.status_code == 200 and r.content == chdb.query(simple, "CSVWithNames").bytes()
    assert r.content == c.get("/v0/pipes/simple.csv", headers=H).content


def test_classic_cli_sql_helpers(client):
    """The Classic CLI's fallbacks when its native toolset is missing: tables a query reads, tables
    replaced by others (the result must run and give the replacement's rows), SQL formatting."""
    c = client
    make_things(c)
    q = ("WITH c AS (SELECT 1 AS x) SELECT * FROM c, things WHERE a IN (SELECT a FROM other) "
         "AND n IN (SELECT number FROM numbers(3))")
    r = c.post("/v0/sql_tables", data={"q": q, "raising": "true", "table_functions": "false"}, headers=H)
    assert r.status_code == 200 and r.json() == {"tables": [["", "other"], ["", "things"]]}
    r = c.post("/v0/sql_tables", data={"q": "SELECT FROM", "raising": "true"}, headers=H)
    assert r.status_code == 400 and "SYNTAX_ERROR" in r.json()["error"]
    assert c.post("/v0/sql_tables", data={"q": "SELECT FROM"}, headers=H).json() == {"tables": []}
    r = c.post("/v0/sql_replace", data={"q": "SELECT sum(n) AS s FROM t", "replacements": '{"t": "things"}'},
               headers=H)
    assert r.status_code == 200
    assert c.get("/v0/sql", params={"q": r.json()["query"] + " FORMAT JSON"}, headers=H).json()["data"] == [{"s": 7}]
    r = c.post("/v0/sql_replace", data={"q": "SELECT count() AS c FROM t",
                                        "replacements": '{"t": "(SELECT * FROM things WHERE n > 1)"}'}, headers=H)
    assert c.get("/v0/sql", params={"q": r.json()["query"] + " FORMAT JSON"}, headers=H).json()["data"] == [{"c": 2}]
    assert c.post("/v0/sql_replace", data={"q": "SELECT 1", "replacements": "[1]"}, headers=H).status_code == 400
    assert c.get("/v0/sql_format", params={"q": "select a from t"}, headers=H).json() == {"q": "SELECT a\nFROM t"}
    assert c.get("/v0/sql_format", params={"q": "select from"}, headers=H).json() == {"q": "select from"}
    assert c.post("/v0/sql_tables", data={"q": "SELECT 1"}).status_code == 403


def test_mergetree_build_accepts_tb_secret_pipes(tmp_path):
    from mergetree.server.project import build_errors

    (tmp_path / "t.datasource").write_text("SCHEMA >\n    `a` String\n\nENGINE \"MergeTree\"\nENGINE_SORTING_KEY \"a\"\n")
    (tmp_path / "p.pipe").write_text("NODE n\nSQL >\n    %\n    SELECT count() c FROM t WHERE a = {{ tb_secret('pw') }}\n")
    (tmp_path / "q.pipe").write_text("NODE n\nSQL >\n    %\n    SELECT nope FROM t WHERE a = {{ tb_secret('pw') }}\n")
    errors = build_errors(tmp_path)          # q's unknown column is still reported: only the secret is waived
    assert [e.filename.rsplit("/", 1)[-1] for e in errors] == ["q.pipe"] and "nope" in errors[0].message


def test_copy_node_api_pause_resume_and_unlink_materialization(tmp_path):
    import datetime as dt

    data = tmp_path / "data"
    with TestClient(create_app(data, admin_token=ADMIN, flush_interval=0.05)) as c:
        make_things(c)
        c.post("/v0/datasources", params={"name": "snap", "schema": "c UInt64"}, headers=H)
        assert c.post("/v0/pipes", data={"name": "cp", "sql": "SELECT count() AS c FROM things"},
                      headers=H).status_code == 200
        r = c.post("/v0/pipes/cp/nodes/cp_0/copy", data={"target_datasource": "snap", "schedule_cron": "* * * * *",
                                                         "mode": "append"}, headers=H)
        assert r.status_code == 200, r.text
        assert r.json()["type"] == "copy" and "COPY_SCHEDULE * * * * *" in c.get("/v1/pipes/cp.pipe", headers=H).text
        assert c.post("/v0/pipes/cp/nodes/cp_0/copy", data={}, headers=H).status_code == 200     # keeps the target
        r = c.post("/v0/pipes/cp/nodes/cp_0/copy", data={"target_datasource": "snap", "schedule_cron": "* * * * *"},
                   headers=H)
        jobs = c.app.state.service.pipe_jobs
        start = dt.datetime(2030, 1, 1, 10, 0, 30)
        jobs.tick(start)                                                  # first sight: next run 10:01
        assert jobs.tick(start + dt.timedelta(minutes=1)) == ["cp"]
        r = c.post("/v0/pipes/cp/copy/pause", headers=H)
        assert r.status_code == 200 and r.json()["copy_status"] == "paused"
        assert jobs.tick(start + dt.timedelta(minutes=3)) == []
        assert c.post("/v0/pipes/things_nope/copy/pause", headers=H).status_code == 404
    with TestClient(create_app(data, admin_token=ADMIN, flush_interval=0.05)) as c:          # still paused
        jobs = c.app.state.service.pipe_jobs
        jobs.tick(start)
        assert jobs.tick(start + dt.timedelta(minutes=5)) == []
        assert c.post("/v0/pipes/cp/copy/resume", headers=H).json()["copy_status"] == "ok"
        jobs.tick(start + dt.timedelta(minutes=6))
        assert jobs.tick(start + dt.timedelta(minutes=7)) == ["cp"]
        r = c.delete("/v0/pipes/cp/nodes/cp_0/copy", headers=H)
        assert r.status_code == 200 and r.json()["type"] == "endpoint"     # a plain pipe again
        assert c.post("/v0/pipes/cp/copy/pause", headers=H).status_code == 400
        # materialized node unlinked: the view stops, the target keeps its rows
        c.post("/v0/datasources", params={"name": "agg", "schema": "n Int64"}, headers=H)
        c.post("/v0/pipes", json={"name": "mv", "nodes": [{"name": "m", "sql": "SELECT toInt64(n) AS n FROM things",
                                                          "datasource": "agg"}]}, headers=H)
        count = lambda: c.get("/v0/sql", params={"q": "SELECT count() AS c FROM agg FORMAT JSON"},  # noqa: E731
                              headers=H).json()["data"][0]["c"]
        assert count() == 3
        r = c.delete("/v0/pipes/mv/nodes/m/materialization", headers=H)
        assert r.status_code == 200 and r.json()["nodes"][0]["node_type"] == "standard"
        c.post("/v0/events?name=things&wait=true", content=b'{"a": "q", "n": 1}', headers=H)
        assert count() == 3
        assert c.delete("/v0/pipes/mv/nodes/m/materialization", headers=H).status_code == 400


def test_node_analysis_and_pipe_ids_for_the_classic_cli(client):
    c = client
    make_things(c)
    c.post("/v0/datasources", params={"name": "agg", "schema": "a String, total Int64"}, headers=H)
    assert c.post("/v0/pipes", json={"name": "chk", "nodes": [
        {"name": "m", "sql": "SELECT a, toInt64(sum(n)) AS total FROM things GROUP BY a"}]}, headers=H).status_code == 200
    r = c.get("/v0/pipes/chk/nodes/m/analysis", params={"dry_run": "true", "datasource": "agg"}, headers=H)
    assert r.status_code == 200, r.text
    a = r.json()
    assert a["warnings"] == [] and a["analysis"]["datasource"]["columns"] == [
        {"name": "a", "type": "String"}, {"name": "total", "type": "Int64"}]
    assert "SCHEMA >" in a["analysis"]["datasource"]["datafile"] and "NODE m" in a["analysis"]["pipe"]["datafile"]
    r = c.get("/v0/pipes/t_chk/nodes/t_chk_m/analysis", params={"datasource": "things"}, headers=H)   # ids work
    assert r.status_code == 400 and "n" in r.json()["error"]                 # things.n is not produced
    assert c.get("/v0/pipes/chk/nodes/zz/analysis", headers=H).status_code == 404
    # a copy pipe's JSON carries what tb push reads next (copy_target_datasource, schedule), PUT by id
    r = c.post("/v0/pipes", json={"name": "cp", "nodes": [{"name": "c", "sql": "SELECT a, toInt64(n) AS total FROM things",
                                                         "target_datasource": "agg", "schedule_cron": "0 * * * *"}]},
               headers=H).json()
    assert r["copy_target_datasource"] == "agg" and r["schedule"] == {"cron": "0 * * * *"} and r["copy_node"] == "c"
    r = c.put("/v0/pipes/t_cp/nodes/t_cp_c/copy", data={"schedule_cron": "None", "mode": "append"}, headers=H)
    assert r.status_code == 200 and r.json()["schedule"] == {} and r.json()["copy_target_datasource"] == "agg"
    assert c.delete("/v0/pipes/t_cp", headers=H).status_code == 204
