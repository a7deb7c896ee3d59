"""POST /v0/datafiles (mergetree push / deploy): admin only, checked before applied, safe paths,
kept in the data directory and served again after a restart."""

from __future__ import annotations

import orjson
from starlette.testclient import TestClient

from mergetree.server.app import create_app

ADMIN = "admin-secret-long-enough-for-hs256-keys-push"
H = {"Authorization": f"Bearer {ADMIN}"}
DS = "SCHEMA >\n    `id` UInt32,\n    `s` String\n\nENGINE \"MergeTree\"\nENGINE_SORTING_KEY \"id\"\n"
PIPE = "TOKEN \"reader\" READ\n\nNODE n\nSQL >\n    SELECT count() AS n FROM things\n\nTYPE endpoint\n"


def push(c, files, mode="push", **params):
    return c.post("/v0/datafiles", params={"mode": mode, **params}, content=orjson.dumps({"files": files}),
                  headers=H)


def test_push_persists_and_is_served_after_restart(tmp_path):
    data = tmp_path / "data"
    with TestClient(create_app(data, admin_token=ADMIN, flush_interval=0.05)) as c:
        r = push(c, {"datasources/things.datasource": DS, "pipes/count_things.pipe": PIPE}, dry_run="true")
        assert r.status_code == 200 and r.json()["dry_run"] is True
        assert c.get("/v0/datasources/things", headers=H).status_code == 404          # dry run: nothing made
        r = push(c, {"datasources/things.datasource": DS, "pipes/count_things.pipe": PIPE})
        assert r.status_code == 200, r.text
        assert r.json()["created_datasources"] == ["things"] and r.json()["pipes"] == ["count_things"]
        assert c.post("/v0/events?name=things&wait=true", content=b'{"id": 1, "s": "a"}', headers=H).status_code == 200
        again = push(c, {"pipes/count_things.pipe": PIPE})
        assert again.json()["result"] == "no_changes"
    with TestClient(create_app(data, admin_token=ADMIN, flush_interval=0.05)) as c:      # restart
        tokens = {t["name"]: t["token"] for t in c.get("/v0/tokens", headers=H).json()["tokens"]}
        r = c.get("/v0/pipes/count_things.json", headers={"Authorization": f"Bearer {tokens['reader']}"})
        assert r.status_code == 200 and r.json()["data"] == [{"n": 1}]


def test_push_refuses_bad_input_and_changes_nothing(tmp_path):
    with TestClient(create_app(tmp_path / "data", admin_token=ADMIN, flush_interval=0.05),
                    raise_server_exceptions=False) as c:
        assert push(c, {"things.datasource": DS}).status_code == 200
        for bad in ["../evil.pipe", "/etc/x.pipe", "notes.txt", "a/../../b.datasource"]:
            r = push(c, {bad: PIPE})
            assert r.status_code == 400 and "Invalid datafile path" in r.json()["error"], bad
        # a schema change of an existing data source is refused with the file name; nothing changes
        r = push(c, {"things.datasource": DS.replace("`s` String", "`s` UInt8"), "p.pipe": PIPE})
        assert r.status_code == 400 and "things.datasource" in r.json()["error"]
        assert c.get("/v0/pipes/p.json", headers=H).status_code == 404
        r = push(c, {"broken.pipe": "NODE n\nSQL >\n    SELECT FROM\n"})
        assert r.status_code == 400 and "broken.pipe" in r.json()["error"]
        r = c.post("/v0/datafiles", content=b"[1, 2]", headers=H)
        assert r.status_code == 400 and "files" in r.json()["error"]
        assert push(c, {"x.pipe": PIPE}, mode="nope").status_code == 400
        tok = c.post("/v0/tokens", params={"name": "w", "scope": "DATASOURCES:CREATE"}, headers=H).json()["token"]
        r = c.post("/v0/datafiles", content=orjson.dumps({"files": {}}), headers={"Authorization": f"Bearer {tok}"})
        assert r.status_code == 403 and "ADMIN" in r.json()["error"]


def test_deploy_replaces_the_pipes_and_keeps_the_data(tmp_path):
    with TestClient(create_app(tmp_path / "data", admin_token=ADMIN, flush_interval=0.05)) as c:
        assert push(c, {"things.datasource": DS, "count_things.pipe": PIPE}).status_code == 200
        r = push(c, {"things.datasource": DS}, mode="deploy")
        assert r.status_code == 200 and r.json()["removed_files"] == ["count_things.pipe"]
        assert c.get("/v0/pipes/count_things.json", headers=H).status_code == 404
        assert c.get("/v0/datasources/things", headers=H).status_code == 200


def test_datafile_tokens_follow_the_project(tmp_path):
    """TOKEN lines -> scoped tokens: values stable across reloads, a removed line revokes its scope,
    a token made through the API with the same name only gains scopes."""
    from types import SimpleNamespace as NS

    from mergetree.server.auth import TokenStore

    def project(ds_tokens, pipe_tokens):
        tok = lambda name, perm: NS(name=name, permission=perm)   # noqa: E731
        return NS(datasources={"ev": NS(tokens=[tok(*t) for t in ds_tokens])},
                  pipes={"top": NS(tokens=[tok(*t) for t in pipe_tokens])})

    store = TokenStore(tmp_path / "tokens.json", ADMIN)
    store.create("api_made", ["PIPES:READ:other"])
    store.ensure_datafile_tokens(project([("reader", "READ"), ("tracker", "APPEND"), ("api_made", "READ")],
                                         [("reader", "READ")]))
    t = {x["name"]: x for x in store.list()}
    assert t["reader"]["scopes"] == [{"type": "DATASOURCES:READ", "resource": "ev"},
                                     {"type": "PIPES:READ", "resource": "top"}]
    assert t["tracker"]["scopes"] == [{"type": "DATASOURCES:APPEND", "resource": "ev"}]
    assert t["api_made"]["scopes"] == [{"type": "PIPES:READ", "resource": "other"},
                                       {"type": "DATASOURCES:READ", "resource": "ev"}]
    value = t["reader"]["token"]
    # reload without the pipe's TOKEN line and without tracker: scopes revoked, values kept
    store = TokenStore(tmp_path / "tokens.json", ADMIN)
    store.ensure_datafile_tokens(project([("reader", "READ")], []))
    t = {x["name"]: x for x in store.list()}
    assert t["reader"]["token"] == value
    assert t["reader"]["scopes"] == [{"type": "DATASOURCES:READ", "resource": "ev"}]
    assert t["tracker"]["scopes"] == []
    assert store.authenticate(value).allows("DATASOURCES:READ", "ev")
    assert not store.authenticate(t["tracker"]["token"]).allows("DATASOURCES:APPEND", "ev")
