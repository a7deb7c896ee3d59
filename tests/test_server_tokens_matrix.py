"""The scope MATRIX (issue #6 part 3): every kind of token x every route, asserting the status.

A token can never read or write beyond its scopes: not through /v0/sql (subqueries, UNION, JOIN,
IN, CTEs), not through a pipe that reads another data source, not through ``q=`` on an endpoint.
A JWT's datasource ``filter`` limits every read; its ``fixed_params`` override the request's.
Expected values are counted by hand from the rows inserted below.
"""

from __future__ import annotations

import time

import jwt
import pytest
from starlette.testclient import TestClient

from mergetree.server.app import create_app

ADMIN = "admin-secret-long-enough-for-hs256-keys-matrix"

EVENTS = """TOKEN "ds_read" READ
TOKEN "ds_append" APPEND

SCHEMA >
    `id` UInt32,
    `user` String

ENGINE "MergeTree"
ENGINE_SORTING_KEY "id"
"""
SECRET = """SCHEMA >
    `id` UInt32,
    `code` String

ENGINE "MergeTree"
ENGINE_SORTING_KEY "id"
"""
# by_user reads events; the pipe token can call it without any data source scope (as in Tinybird)
BY_USER = """TOKEN "pipe_read" READ

NODE n
SQL >
    %
    SELECT count() AS c FROM events
    {% if defined(user) %} WHERE user = {{ String(user) }} {% end %}

TYPE endpoint
"""
# a pipe reading a pipe: the row filter still applies at depth
OF_PIPE = """TOKEN "pipe_read" READ

NODE n
SQL >
    SELECT c * 10 AS c10 FROM by_user

TYPE endpoint
"""
ROWS = [(1, "u1"), (2, "u2"), (3, "u1"), (4, "u3")]


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    root = tmp_path_factory.mktemp("proj")
    (root / "events.datasource").write_text(EVENTS)
    (root / "secret.datasource").write_text(SECRET)
    (root / "by_user.pipe").write_text(BY_USER)
    (root / "of_pipe.pipe").write_text(OF_PIPE)
    app = create_app(tmp_path_factory.mktemp("data"), admin_token=ADMIN, flush_interval=0.05, project=root)
    with TestClient(app, raise_server_exceptions=False) as c:
        admin = {"Authorization": f"Bearer {ADMIN}"}
        body = "\n".join(f'{{"id": {i}, "user": "{u}"}}' for i, u in ROWS)
        assert c.post("/v0/events?name=events&wait=true", content=body, headers=admin).status_code == 200
        assert c.post("/v0/events?name=events&wait=true", content='{"id": "not a number", "user": "u2"}',
                      headers=admin).status_code == 200          # creates events_quarantine
        assert c.post("/v0/events?name=secret&wait=true", content='{"id": 9, "code": "x"}',
                      headers=admin).status_code == 200
        toks = {t["name"]: t["token"] for t in c.get("/v0/tokens", headers=admin).json()["tokens"]}
        exp = int(time.time()) + 3600
        tokens = {
            "admin": ADMIN,
            "ds_read": toks["ds_read"],
            "ds_append": toks["ds_append"],
            "pipe_read": toks["pipe_read"],
            "jwt": jwt.encode({"workspace_id": "w", "name": "user_u1", "exp": exp, "scopes": [
                {"type": "PIPES:READ", "resource": "by_user", "fixed_params": {"user": "u1"}},
                {"type": "PIPES:READ", "resource": "of_pipe"},
                {"type": "DATASOURCES:READ", "resource": "events", "filter": "user = 'u1'"}]},
                ADMIN, algorithm="HS256"),
            "expired": jwt.encode({"name": "old", "exp": int(time.time()) - 10, "scopes": [
                {"type": "DATASOURCES:READ", "resource": "events"}]}, ADMIN, algorithm="HS256"),
            "wrong_key": jwt.encode({"name": "forged", "exp": exp, "scopes": [
                {"type": "DATASOURCES:READ", "resource": "secret"}]}, "not-the-admin-token-but-long-enough-for-hs256", algorithm="HS256"),
            "garbage": "p.garbage-token",
            "none": None,
        }
        yield c, tokens


KINDS = ["admin", "ds_read", "ds_append", "pipe_read", "jwt", "expired", "wrong_key", "garbage", "none"]
X = 403

# route -> (method, url, body, expected status per token kind in KINDS order)
MATRIX = {
    "events append":      ("POST", "/v0/events?name=events", b'{"id": 100, "user": "m"}',
                           [202, X, 202, X, X, X, X, X, X]),
    "events append other": ("POST", "/v0/events?name=secret", b'{"id": 100, "code": "m"}',
                            [202, X, X, X, X, X, X, X, X]),
    "ds list":            ("GET", "/v0/datasources", None, [200, 200, 200, 200, 200, X, X, X, X]),
    "ds read":            ("GET", "/v0/datasources/events", None, [200, 200, 200, X, 200, X, X, X, X]),
    "ds read other":      ("GET", "/v0/datasources/secret", None, [200, X, X, X, X, X, X, X, X]),
    "ds append":          ("POST", "/v0/datasources?mode=append&name=events&format=ndjson",
                           b'{"id": 101, "user": "m"}', [200, X, 200, X, X, X, X, X, X]),
    "ds append other":    ("POST", "/v0/datasources?mode=append&name=secret&format=ndjson",
                           b'{"id": 101, "code": "m"}', [200, X, X, X, X, X, X, X, X]),
    "ds replace":         ("POST", "/v0/datasources?mode=replace&name=secret&format=ndjson"
                           "&replace_condition=id%3D555", b'{"id": 555, "code": "r"}',
                           [200, X, X, X, X, X, X, X, X]),
    "ds create":          ("POST", "/v0/datasources?name=made_{kind}&schema=x%20UInt8", None,
                           [200, X, X, X, X, X, X, X, X]),
    "ds truncate":        ("POST", "/v0/datasources/secret_missing/truncate", None,
                           [404, X, X, X, X, X, X, X, X]),
    "ds delete rows":     ("POST", "/v0/datasources/secret/delete?delete_condition=id%3D999", None,
                           [200, X, X, X, X, X, X, X, X]),
    "ds drop":            ("DELETE", "/v0/datasources/secret_missing", None, [404, X, X, X, X, X, X, X, X]),
    "tokens list":        ("GET", "/v0/tokens", None, [200, X, X, X, X, X, X, X, X]),
    "sql allowed":        ("GET", "/v0/sql?q=SELECT+count()+FROM+events", None, [200, 200, X, X, 200, X, X, X, X]),
    "sql quarantine":     ("GET", "/v0/sql?q=SELECT+count()+FROM+events_quarantine", None,
                           [200, 200, X, X, X, X, X, X, X]),
    "sql DESCRIBE other": ("GET", "/v0/sql?q=DESCRIBE+TABLE+secret", None, [200, X, X, X, X, X, X, X, X]),
    "sql other":          ("GET", "/v0/sql?q=SELECT+*+FROM+secret", None, [200, X, X, X, X, X, X, X, X]),
    "sql IN subquery":    ("GET", "/v0/sql?q=SELECT+count()+FROM+events+WHERE+id+IN+(SELECT+id+FROM+secret)",
                           None, [200, X, X, X, X, X, X, X, X]),
    "sql scalar subq":    ("GET", "/v0/sql?q=SELECT+(SELECT+max(code)+FROM+secret)", None,
                           [200, X, X, X, X, X, X, X, X]),
    "sql FROM subquery":  ("GET", "/v0/sql?q=SELECT+*+FROM+(SELECT+*+FROM+secret)", None,
                           [200, X, X, X, X, X, X, X, X]),
    "sql CTE":            ("GET", "/v0/sql?q=WITH+s+AS+(SELECT+*+FROM+secret)+SELECT+*+FROM+s", None,
                           [200, X, X, X, X, X, X, X, X]),
    "sql UNION":          ("GET", "/v0/sql?q=SELECT+id+FROM+events+UNION+ALL+SELECT+id+FROM+secret", None,
                           [200, X, X, X, X, X, X, X, X]),
    "sql JOIN":           ("GET", "/v0/sql?q=SELECT+count()+FROM+events+AS+e+JOIN+secret+AS+s+ON+e.id+%3D+s.id",
                           None, [200, X, X, X, X, X, X, X, X]),
    "sql system table":   ("GET", "/v0/sql?q=SELECT+*+FROM+system.parts", None, [200, X, X, X, X, X, X, X, X]),
    "sql write":          ("POST", "/v0/sql", b"INSERT INTO events VALUES (7, 'w')", [200, X, X, X, X, X, X, X, X]),
    "sql drop":           ("POST", "/v0/sql", b"DROP TABLE IF EXISTS nothing_here",
                           [200, X, X, X, X, X, X, X, X]),
    "pipe endpoint":      ("GET", "/v0/pipes/by_user.json", None, [200, X, X, 200, 200, X, X, X, X]),
    "pipe of pipe":       ("GET", "/v0/pipes/of_pipe.json", None, [200, X, X, 200, 200, X, X, X, X]),
    "pipe q= over _":     ("GET", "/v0/pipes/by_user.json?q=SELECT+c+FROM+_", None, [200, X, X, 200, 200, X, X, X, X]),
    "pipe q= other ds":   ("GET", "/v0/pipes/by_user.json?q=SELECT+count()+FROM+secret", None,
                           [200, X, X, X, X, X, X, X, X]),
    "pipe q= IN other":   ("GET", "/v0/pipes/by_user.json?q=SELECT+c+FROM+_+WHERE+c+IN+(SELECT+id+FROM+secret)",
                           None, [200, X, X, X, X, X, X, X, X]),
    "pipe q= CTE shadow": ("GET", "/v0/pipes/by_user.json?q=SELECT+count()+FROM+secret+WHERE+1+IN+"
                           "(WITH+secret+AS+(SELECT+1+AS+x)+SELECT+x+FROM+secret)", None,
                           [200, X, X, X, X, X, X, X, X]),
    "sql CTE shadow":     ("GET", "/v0/sql?q=SELECT+count()+FROM+secret+WHERE+1+IN+"
                           "(WITH+secret+AS+(SELECT+1+AS+x)+SELECT+x+FROM+secret)", None,
                           [200, X, X, X, X, X, X, X, X]),
    "sql pipe by name":   ("GET", "/v0/sql?q=SELECT+*+FROM+by_user", None, [200, X, X, 200, 200, X, X, X, X]),
    "sql pipeline=":      ("GET", "/v0/sql?q=SELECT+*+FROM+_&pipeline=by_user", None,
                           [200, X, X, 200, 200, X, X, X, X]),
    "sql pipe + other ds": ("GET", "/v0/sql?q=SELECT+*+FROM+by_user+WHERE+c+IN+(SELECT+id+FROM+secret)", None,
                            [200, X, X, X, X, X, X, X, X]),
    "pipe list":          ("GET", "/v0/pipes", None, [200, 200, 200, 200, 200, X, X, X, X]),
}


def _call(client, token, method, url, body):
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    return client.request(method, url, content=body, headers=headers)


@pytest.mark.parametrize("route", list(MATRIX))
@pytest.mark.parametrize("kind", KINDS)
def test_matrix(env, route, kind):
    client, tokens = env
    method, url, body, expected = MATRIX[route]
    want = expected[KINDS.index(kind)]
    r = _call(client, tokens[kind], method, url.replace("{kind}", kind), body)
    if want == "ok":            # admin on a feature still being built (JOIN): never refused by scope
        assert r.status_code != 403, r.text
        return
    assert r.status_code == want, (route, kind, r.status_code, r.text)
    if want == 403:
        body = r.json()
        assert set(body) == {"error", "documentation"}


def test_forbidden_message_names_the_scope(env):
    client, tokens = env
    r = _call(client, tokens["ds_read"], "GET", "/v0/sql?q=SELECT+*+FROM+secret", None)
    assert "DATASOURCES:READ:secret" in r.json()["error"]
    r = _call(client, tokens["ds_read"], "POST", "/v0/events?name=events", b"{}")
    assert "DATASOURCES:APPEND:events" in r.json()["error"]
    r = _call(client, tokens["ds_append"], "GET", "/v0/pipes/by_user.json", None)
    assert "PIPES:READ:by_user" in r.json()["error"]
    r = _call(client, tokens["expired"], "GET", "/v0/datasources", None)
    assert "expired" in r.json()["error"]
    r = _call(client, tokens["none"], "GET", "/v0/datasources", None)
    assert "Missing token" in r.json()["error"]


def test_jwt_filter_applies_to_every_read(env):
    client, tokens = env
    t = tokens["jwt"]
    # /v0/sql: only u1's rows (ids 1 and 3) are visible, whatever the query shape
    for q in ["SELECT count() FROM events", "SELECT count() FROM (SELECT * FROM events)",
              "WITH x AS (SELECT id FROM events) SELECT count() FROM x",
              "SELECT count() FROM events WHERE user != 'u1' OR 1",
              "SELECT count() FROM (SELECT id FROM events UNION ALL SELECT id FROM events WHERE user = 'u2')"]:
        r = client.get("/v0/sql", params={"q": q + " FORMAT JSON"}, headers={"Authorization": f"Bearer {t}"})
        assert r.status_code == 200, (q, r.text)
        assert int(r.json()["data"][0]["count()"]) == 2, q
    r = client.get("/v0/sql", params={"q": "SELECT DISTINCT user FROM events FORMAT JSON"},
                   headers={"Authorization": f"Bearer {t}"})
    assert r.json()["data"] == [{"user": "u1"}]


def test_jwt_fixed_params_override_request(env):
    client, tokens = env
    h = {"Authorization": f"Bearer {tokens['jwt']}"}
    admin = {"Authorization": f"Bearer {ADMIN}"}
    # the admin asking for u2 gets u2's count; the JWT asking for u2 gets u1's (fixed), filtered anyway
    assert client.get("/v0/pipes/by_user.json?user=u2", headers=admin).json()["data"][0]["c"] == 1
    assert client.get("/v0/pipes/by_user.json?user=u2", headers=h).json()["data"][0]["c"] == 2
    # no fixed params for of_pipe, but the filter still applies two pipes deep: 2 rows of u1 -> 20
    assert client.get("/v0/pipes/of_pipe.json", headers=h).json()["data"][0]["c10"] == 20


def test_pipe_token_reads_through_the_pipe_only(env):
    client, tokens = env
    h = {"Authorization": f"Bearer {tokens['pipe_read']}"}
    r = client.get("/v0/pipes/by_user.json", headers=h)
    assert r.status_code == 200
    assert client.get("/v0/sql?q=SELECT+count()+FROM+events", headers=h).status_code == 403


def test_static_token_with_a_filter(env):
    """A static token's DATASOURCES:READ:ds:<filter> scope (Tinybird's syntax) is a row policy too."""
    client, _ = env
    admin = {"Authorization": f"Bearer {ADMIN}"}
    r = client.post("/v0/tokens", params={"name": "only_u2", "scope": "DATASOURCES:READ:events:user = 'u2'"},
                    headers=admin)
    assert r.status_code == 200, r.text
    assert r.json()["scopes"] == [{"type": "DATASOURCES:READ", "resource": "events", "filter": "user = 'u2'"}]
    h = {"Authorization": f"Bearer {r.json()['token']}"}
    r = client.get("/v0/sql", params={"q": "SELECT id, user FROM events ORDER BY id FORMAT JSONCompact"}, headers=h)
    assert r.status_code == 200 and r.json()["data"] == [[2, "u2"]]
    r = client.get("/v0/sql", params={"q": "SELECT count() FROM (SELECT * FROM events) AS x, events AS y "
                                           "WHERE x.id = y.id FORMAT JSONCompact"}, headers=h)
    assert r.status_code == 200 and r.json()["data"] == [[1]]     # a JOIN reads both sides filtered


def test_show_tables_lists_only_readable_data_sources(env):
    client, tokens = env
    def show(token):
        r = client.get("/v0/sql", params={"q": "SHOW TABLES FORMAT JSONCompact"},
                       headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200, r.text
        return {row[0] for row in r.json()["data"]}
    assert {"events", "secret"} <= show(tokens["admin"])
    assert show(tokens["ds_read"]) == {"events", "events_quarantine"}
    assert show(tokens["jwt"]) == {"events"}                  # filtered scope: not the quarantine
