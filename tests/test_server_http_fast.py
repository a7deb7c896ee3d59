"""The HTTP fast path (app._App): the hot read routes answer exactly as through Starlette's stack.

Every request is sent twice, once down the fast path and once with it switched off (the full
Starlette stack: ServerErrorMiddleware, CORSMiddleware, ExceptionMiddleware, router), and the two
answers must be equal: status, every header in order (x-request-id and the rate-limit counters
aside, which differ per request by design), and the body (the JSON statistics' elapsed aside).
"""

from __future__ import annotations

import re
import textwrap

import orjson
import pytest
from starlette.exceptions import HTTPException
from starlette.testclient import TestClient

from mergetree.server import service_ds
from mergetree.server.app import create_app
from mergetree.server.ratelimit import RateLimiter

ADMIN = "admin-secret-long-enough-for-hs256-keys-fast"
H = {"Authorization": f"Bearer {ADMIN}"}

PIPES = {
    "by_k": """
        TOKEN "reader" READ

        NODE n
        SQL >
            %
            SELECT k, sum(v) AS total FROM t
            WHERE v >= {{ Int32(min_v, 0) }} {% if defined(key) %} AND k = {{ String(key) }} {% end %}
            GROUP BY k ORDER BY k

        TYPE endpoint
    """,
    "needs": """
        NODE n
        SQL >
            %
            SELECT {{ Int32(x, required=True) }} AS x
    """,
    "one": """
        NODE n
        SQL >
            SELECT 1 AS one
    """,
    "mv": """
        NODE m
        SQL >
            SELECT k, v FROM t

        TYPE materialized
        DATASOURCE t_copy
    """,
}


class Clock:
    t = 1000.0

    def __call__(self):
        return self.t


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    root = tmp_path_factory.mktemp("proj")
    (root / "datasources").mkdir()
    (root / "pipes").mkdir()
    (root / "datasources" / "t.datasource").write_text(
        'SCHEMA >\n    `k` String `json:$.k`,\n    `v` Int32 `json:$.v`\n\nENGINE "MergeTree"\nENGINE_SORTING_KEY "k"\n')
    (root / "datasources" / "t_copy.datasource").write_text(
        'SCHEMA >\n    `k` String,\n    `v` Int32\n\nENGINE "MergeTree"\nENGINE_SORTING_KEY "k"\n')
    for name, text in PIPES.items():
        (root / "pipes" / f"{name}.pipe").write_text(textwrap.dedent(text))
    app = create_app(tmp_path_factory.mktemp("data"), admin_token=ADMIN, flush_interval=0.05, project=root)
    with TestClient(app, raise_server_exceptions=False) as c:
        rows = [{"k": "a", "v": 1}, {"k": "a", "v": 2}, {"k": "b", "v": 3}]
        r = c.post("/v0/events?name=t&wait=true", content=b"\n".join(orjson.dumps(x) for x in rows), headers=H)
        assert r.status_code == 200, r.text
        reader = c.get("/v0/tokens/reader", headers=H).json()["token"]
        yield app, c, reader


def _answer(app, client, fast: bool, method, url, **kw):
    saved = app._fast
    if not fast:
        app._fast = False                      # the Starlette stack
    try:
        r = client.request(method, url, **kw)
    finally:
        app._fast = saved
    skip = {"x-request-id", "x-ratelimit-remaining", "x-ratelimit-reset"}
    if b'"elapsed": ' in r.content:              # its digits vary: the length is checked here instead
        assert r.headers["content-length"] == str(len(r.content))
        skip.add("content-length")
    if method == "HEAD":                         # (no body to check it against)
        skip.add("content-length")
    headers = [(k, "*" if k in skip else v) for k, v in r.headers.multi_items()]
    body = re.sub(rb'"elapsed": [0-9.e-]+', b'"elapsed": *', r.content)
    return r.status_code, headers, body


def same(env, method, url, **kw):
    app, client, _ = env
    app.state.service.ratelimiter._buckets.clear()
    slow = _answer(app, client, False, method, url, **kw)
    app.state.service.ratelimiter._buckets.clear()
    fast = _answer(app, client, True, method, url, **kw)
    assert fast == slow
    return fast


@pytest.mark.parametrize("origin", [None, {"Origin": "https://app.example"},
                                    {"Origin": "https://app.example", "Cookie": "a=1"}])
@pytest.mark.parametrize("method,url,body", [
    ("GET", "/v0/pipes/by_k.json", None),
    ("GET", "/v0/pipes/by_k.json?min_v=2&key=a", None),
    ("GET", "/v0/pipes/by_k.csv?min_v=2", None),
    ("GET", "/v0/pipes/by_k.ndjson", None),
    ("GET", "/v0/pipes/by_k.JSON", None),
    ("GET", "/v0/pipes/one.json", None),
    ("GET", "/v0/pipes/one.x.json", None),                # name with a dot: name=one.x, fmt=json (404)
    ("GET", "/v0/pipes/by_k.json?q=SELECT+count()+AS+c+FROM+_", None),
    ("POST", "/v0/pipes/by_k.json", b'{"min_v": 2}'),
    ("POST", "/v0/pipes/by_k.json", b"not json"),         # 400 Invalid JSON body
    ("GET", "/v0/pipes/nope.json", None),                 # 404 unknown pipe
    ("GET", "/v0/pipes/by_k.xml", None),                  # 400 unsupported format
    ("GET", "/v0/pipes/needs.json", None),                # 400 missing required parameter
    ("GET", "/v0/pipes/mv.json", None),                   # 404 not an endpoint
    ("GET", "/v0/pipes/by_k.json?q=SELECT+nope+FROM+_", None),   # 400 engine error
    ("GET", "/v0/sql?q=SELECT+1", None),
    ("GET", "/v0/sql?q=SELECT+k,+v+FROM+t+ORDER+BY+v+FORMAT+CSV", None),
    ("GET", "/v0/sql?q=SELECT+*+FROM+missing_table", None),      # 404 unknown table
    ("GET", "/v0/sql?q=SELEC+1", None),                   # 400 syntax error
    ("GET", "/v0/sql", None),                             # 400 no q
    ("POST", "/v0/sql", b"SELECT 2 AS two"),
    ("HEAD", "/v0/pipes/by_k.json", None),
])
def test_fast_path_answers_as_starlette(env, method, url, body, origin):
    app = env[0]
    headers = {**H, **(origin or {})}
    status, _, _ = same(env, method, url, content=body, headers=headers)
    assert app._fast_routes[(method, url.split("?")[0])] is not None      # it was the fast path
    assert status < 500


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic x"}])
def test_authentication_errors(env, headers):
    assert same(env, "GET", "/v0/pipes/by_k.json", headers=headers)[0] == 403
    assert same(env, "GET", "/v0/sql?q=SELECT+1", headers={**headers, "Origin": "https://o.example"})[0] == 403


def test_scoped_token_and_rate_limit_headers(env):
    app, _, reader = env
    h = {"Authorization": f"Bearer {reader}", "Origin": "https://o.example"}
    svc = app.state.service
    saved = svc.ratelimiter
    svc.ratelimiter = RateLimiter(1, clock=Clock())
    try:
        assert same(env, "GET", "/v0/pipes/by_k.json", headers=h)[0] == 200
        status, headers, _ = same(env, "GET", "/v0/pipes/needs.json", headers=h)
        assert status == 403 and ("x-ratelimit-limit", "1") in headers
        # a 429: the bucket of one request emptied by a first call (frozen clock)
        for fast in (False, True):
            svc.ratelimiter._buckets.clear()
            first = _answer(app, env[1], fast, "GET", "/v0/pipes/by_k.json", headers=h)
            second = _answer(app, env[1], fast, "GET", "/v0/pipes/by_k.json", headers=h)
            assert first[0] == 200 and second[0] == 429
            if fast:
                assert (first, second) == answers
            answers = (first, second)
        assert ("retry-after", "1") in answers[1][1]
    finally:
        svc.ratelimiter = saved


def test_other_routes_take_the_starlette_path(env):
    app, client, _ = env
    for url in ("/v0/pipes/openapi.json", "/v0/pipes", "/v0/health", "/v0/pipes/by_k"):
        assert client.get(url, headers=H).status_code == 200
        assert app._fast_routes[("GET", url)] is None
    # a preflight is CORSMiddleware's
    r = client.options("/v0/pipes/by_k.json", headers={"Origin": "https://o.example",
                                                       "Access-Control-Request-Method": "GET"})
    assert r.status_code == 200 and r.headers["access-control-max-age"] == "86400"
    # a method the route does not have: 405 as before
    assert same(env, "DELETE", "/v0/sql", headers=H)[0] == 405


@pytest.mark.parametrize("exc,status", [(RuntimeError("boom"), 500), (HTTPException(418, "teapot"), 418)])
def test_an_exception_escaping_the_view_is_answered_as_starlette(env, monkeypatch, exc, status):
    def fail(*a, **k):
        raise exc

    monkeypatch.setattr(service_ds, "record_pipe_request", fail)
    got = same(env, "GET", "/v0/pipes/by_k.json", headers={**H, "Origin": "https://o.example"})
    assert got[0] == status
    if status == 500:
        assert got[2] == b"Internal Server Error" and not any(k.startswith("access-control") for k, _ in got[1])


# --------------------------------------------------------------------------- remembered principals


def _fresh(store, value):
    """The Principal of a static token built from the stored token now (the uncached path)."""
    from mergetree.server.auth import Principal, _scope_from_json

    t = store._by_value[value]
    return Principal(t["name"], [_scope_from_json(s) for s in t["scopes"]], limits=t.get("limits") or None,
                     key=value)


def test_remembered_principals_follow_every_token_change(tmp_path):
    from mergetree.server.auth import TokenStore
    from mergetree.server.errors import ApiError

    store = TokenStore(tmp_path / "tokens.json", ADMIN)
    admin = store.authenticate(ADMIN)
    assert admin.is_admin and store.authenticate(ADMIN) is admin          # remembered
    v = store.create("r", ["PIPES:READ:a"])["token"]
    assert store.authenticate(v) == _fresh(store, v)
    for change in (lambda: store.update("r", ["PIPES:READ:b", "DATASOURCES:READ:t:x = 1"]),
                   lambda: store.add_scopes("r", ["PIPES:READ:c"]),
                   lambda: store.update("r", None, "new description", "r2")):
        before = store.authenticate(v)
        change()
        after = store.authenticate(v)
        assert after == _fresh(store, v) and after != before
    assert store.authenticate(v).name == "r2"
    assert {str(s) for s in store.authenticate(v).scopes} == {"PIPES:READ:b", "DATASOURCES:READ:t", "PIPES:READ:c"}
    new = store.refresh("r2")["token"]
    with pytest.raises(ApiError, match="Invalid token"):
        store.authenticate(v)                       # the old value stops working at once
    assert store.authenticate(new) == _fresh(store, new)
    store.delete("r2")
    with pytest.raises(ApiError, match="Invalid token"):
        store.authenticate(new)


def test_remembered_jwt_still_expires(tmp_path):
    import time as _time

    import jwt

    from mergetree.server import auth
    from mergetree.server.errors import ApiError

    store = auth.TokenStore(tmp_path / "tokens.json", ADMIN)
    exp = int(_time.time()) + 1
    token = jwt.encode({"name": "j", "exp": exp, "scopes": [{"type": "PIPES:READ", "resource": "p"}]}, ADMIN,
                       algorithm="HS256")
    who = store.authenticate(token)
    assert who.is_jwt and who.key == token and store.authenticate(token) is who
    _time.sleep(max(0.0, exp - _time.time()) + 0.05)
    with pytest.raises(ApiError, match="expired"):
        store.authenticate(token)


# --------------------------------------------------------------------------- the query pool


def test_query_pool_results_errors_order_and_shutdown():
    import asyncio
    import threading

    from mergetree.server.http import QueryPool

    pool = QueryPool(1, "t-pool")
    names, order = [], []
    gate = threading.Event()

    def work(i):
        names.append(threading.current_thread().name)
        if i == 0:
            gate.wait(10)
        order.append(i)
        return i * 10

    def fail():
        raise ValueError("bad")

    async def main():
        first = pool.run(work, (0,), {})
        rest = [pool.run(work, (i,), {}) for i in (1, 2)]
        skipped = pool.run(work, (99,), {})
        skipped.cancel()                            # cancelled before it started: never runs
        gate.set()
        assert await first == 0 and [await f for f in rest] == [10, 20]
        with pytest.raises(ValueError, match="bad"):
            await pool.run(fail, (), {})
        assert (await asyncio.wrap_future(pool.submit(work, 3))) == 30
    asyncio.run(main())
    assert order == [0, 1, 2, 3] and set(names) == {"t-pool_0"}
    gate.clear()
    queued = pool.submit(work, 4)
    pool.shutdown(wait=True)                        # queued work still runs
    assert queued.result(5) == 40
    with pytest.raises(RuntimeError):
        pool.submit(work, 5)


def test_fast_path_only_stands_in_for_the_stack_it_knows():
    from starlette.middleware import Middleware
    from starlette.middleware.cors import CORSMiddleware
    from starlette.routing import Route

    from mergetree.server import app as app_mod

    routes = [Route("/x", lambda r: None)]
    plain = dict(routes=routes, middleware=[Middleware(CORSMiddleware, **app_mod.CORS)],
                 exception_handlers={HTTPException: app_mod._http_error})
    assert app_mod._App(**plain)._fast_setup()
    for other in ({**plain, "exception_handlers": {HTTPException: app_mod._http_error, ValueError: print}},
                  {**plain, "exception_handlers": {HTTPException: app_mod._http_error, 500: print}},
                  {**plain, "middleware": [Middleware(CORSMiddleware, allow_origins=["https://a.example"])]},
                  {**plain, "middleware": plain["middleware"] * 2},
                  {**plain, "debug": True}):
        assert app_mod._App(**other)._fast_setup() is False
