"""Per-token rate limits (server/ratelimit.py): X-RateLimit-* headers, 429 + Retry-After."""

from __future__ import annotations

import time

import jwt
import pytest
from starlette.testclient import TestClient

from mergetree.server.app import create_app
from mergetree.server.auth import Principal
from mergetree.server.errors import ApiError
from mergetree.server.ratelimit import RateLimiter

ADMIN = "admin-secret-long-enough-for-hs256-keys-rl"
H = {"Authorization": f"Bearer {ADMIN}"}


class Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


def test_token_bucket_with_a_fake_clock():
    clock = Clock()
    rl = RateLimiter(2, clock=clock)
    who = Principal("t", [], key="k1")
    assert rl.check(who) == {"X-RateLimit-Limit": "2", "X-RateLimit-Remaining": "1", "X-RateLimit-Reset": "1"}
    assert rl.check(who)["X-RateLimit-Remaining"] == "0"
    with pytest.raises(ApiError) as e:
        rl.check(who)
    assert e.value.status == 429 and e.value.headers["Retry-After"] == "1"
    assert "2 requests per second" in e.value.message
    clock.t += 0.5                                   # half a second refills one request
    assert rl.check(who)["X-RateLimit-Remaining"] == "0"
    other = Principal("u", [], key="k2")             # buckets are per token
    assert rl.check(other)["X-RateLimit-Remaining"] == "1"
    clock.t += 10
    assert rl.check(who)["X-RateLimit-Remaining"] == "1"     # never more than one second of burst


def test_defaults_unlimited_admin_exempt_and_jwt_override(monkeypatch):
    monkeypatch.delenv("MERGETREE_RATE_LIMIT_RPS", raising=False)
    assert RateLimiter().check(Principal("t", [], key="k")) == {}        # default: unlimited
    admin = Principal("admin", [], key="a")
    admin.scopes = [type("S", (), {"type": "ADMIN"})()]
    assert RateLimiter(1).check(admin) == {}                             # the admin is not limited
    jwt_who = Principal("j", [], is_jwt=True, limits={"rps": 0.5}, key="j")
    rl = RateLimiter(100, clock=Clock())
    assert rl.check(jwt_who)["X-RateLimit-Limit"] == "0.5"               # the JWT's own limit wins
    with pytest.raises(ApiError) as e:
        rl.check(jwt_who)
    assert e.value.headers["Retry-After"] == "2"
    monkeypatch.setenv("MERGETREE_RATE_LIMIT_RPS", "7")
    assert RateLimiter().default_rps == 7


@pytest.fixture
def client(tmp_path):
    app = create_app(tmp_path / "data", admin_token=ADMIN, flush_interval=0.05)
    with TestClient(app, raise_server_exceptions=False) as c:
        assert c.post("/v0/datasources", params={"name": "ev", "schema": "id UInt32"}, headers=H).status_code == 200
        app.state.service.ratelimiter = RateLimiter(3)
        yield c


def test_http_429_with_headers(client):
    tok = client.post("/v0/tokens", params={"name": "r", "scope": "DATASOURCES:READ:ev"}, headers=H).json()["token"]
    h = {"Authorization": f"Bearer {tok}"}
    statuses = []
    for _ in range(5):
        r = client.get("/v0/sql", params={"q": "SELECT count() FROM ev"}, headers=h)
        statuses.append(r.status_code)
        assert r.headers["X-RateLimit-Limit"] == "3"
        assert "X-RateLimit-Remaining" in r.headers and "X-RateLimit-Reset" in r.headers
    assert statuses[:3] == [200, 200, 200] and 429 in statuses[3:], statuses
    r = client.get("/v0/sql", params={"q": "SELECT count() FROM ev"}, headers=h)
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    assert set(r.json()) == {"error", "documentation"} and "retry" in r.json()["error"]
    r = client.get("/v0/sql", params={"q": "SELECT nope FROM ev"}, headers={"Authorization": f"Bearer {ADMIN}"})
    tok2 = client.post("/v0/tokens", params={"name": "r2", "scope": "DATASOURCES:READ:ev"}, headers=H).json()["token"]
    r = client.get("/v0/sql", params={"q": "SELECT nope FROM ev"}, headers={"Authorization": f"Bearer {tok2}"})
    assert r.status_code == 400 and r.headers["X-RateLimit-Remaining"] == "2"     # on errors after auth too
    # the admin is not throttled by the server default; CORS exposes the headers to browsers
    assert all(client.get("/v0/datasources", headers=H).status_code == 200 for _ in range(6))
    pre = client.options("/v0/sql", headers={"Origin": "https://x.example", "Access-Control-Request-Method": "GET"})
    assert pre.status_code == 200
    r = client.get("/v0/health", headers={"Origin": "https://x.example"})
    assert "x-ratelimit-remaining" in r.headers.get("access-control-expose-headers", "").lower()


def test_jwt_limits_rps(client):
    token = jwt.encode({"name": "j", "exp": int(time.time()) + 60, "limits": {"rps": 1},
                        "scopes": [{"type": "DATASOURCES:APPEND", "resource": "ev"}]}, ADMIN, algorithm="HS256")
    h = {"Authorization": f"Bearer {token}"}
    first = client.post("/v0/events?name=ev", content=b'{"id": 1}', headers=h)
    second = client.post("/v0/events?name=ev", content=b'{"id": 2}', headers=h)
    assert first.status_code == 202 and first.headers["X-RateLimit-Limit"] == "1"
    assert second.status_code == 429 and second.headers["Retry-After"] == "1"


def test_tokens_update_and_refresh(client):
    """PUT /v0/tokens/NAME replaces scopes; POST /v0/tokens/NAME/refresh gives a new value at once."""
    client.app.state.service.ratelimiter = RateLimiter(1e9)          # not what this test is about
    t = client.post("/v0/tokens", params={"name": "t1", "scope": "DATASOURCES:APPEND:ev"}, headers=H).json()
    h = {"Authorization": f"Bearer {t['token']}"}
    assert client.get("/v0/datasources/ev", headers=h).status_code == 200        # APPEND may describe
    assert client.get("/v0/sql?q=SELECT+1+FROM+ev", headers=h).status_code == 403
    r = client.put("/v0/tokens/t1", params={"scope": "DATASOURCES:READ:ev", "description": "reader"}, headers=H)
    assert r.status_code == 200 and r.json()["scopes"] == [{"type": "DATASOURCES:READ", "resource": "ev"}]
    assert client.get("/v0/sql?q=SELECT+1+FROM+ev", headers=h).status_code == 200
    assert client.post("/v0/events?name=ev", content=b'{"id": 1}', headers=h).status_code == 403
    r = client.post("/v0/tokens/t1/refresh", headers=H)
    assert r.status_code == 200 and r.json()["token"] != t["token"]
    assert client.get("/v0/sql?q=SELECT+1+FROM+ev", headers=h).status_code == 403          # old value dead
    h2 = {"Authorization": f"Bearer {r.json()['token']}"}
    assert client.get("/v0/sql?q=SELECT+1+FROM+ev", headers=h2).status_code == 200
    assert client.put("/v0/tokens/admin%20token", params={"scope": "PIPES:READ:x"}, headers=H).status_code == 403
    assert client.post("/v0/tokens/admin%20token/refresh", headers=H).status_code == 403
    assert client.put("/v0/tokens/t1", params={"scope": "NOPE"}, headers=H).status_code == 400
    assert client.put("/v0/tokens/nope", headers=H).status_code == 404
    assert client.post("/v0/tokens/t1/refresh", headers=h2).status_code == 403               # not an admin


def test_jwt_with_admin_scope_is_refused_at_signing(client):
    r = client.post("/v0/tokens/?expiration_time=9999999999", content=b'{"scopes": [{"type": "ADMIN"}]}', headers=H)
    assert r.status_code == 400 and "ADMIN" in r.json()["error"]


def test_truncate_and_delete_accept_create_or_drop(client):
    client.app.state.service.ratelimiter = RateLimiter(1e9)
    for scope in ("DATASOURCES:CREATE", "DATASOURCES:DROP:ev"):
        tok = client.post("/v0/tokens", params={"name": scope, "scope": scope}, headers=H).json()["token"]
        h = {"Authorization": f"Bearer {tok}"}
        assert client.post("/v0/datasources/ev/truncate", headers=h).status_code == 200
        assert client.post("/v0/datasources/ev/delete", params={"delete_condition": "id = 1"}, headers=h).status_code == 200
    tok = client.post("/v0/tokens", params={"name": "other", "scope": "DATASOURCES:DROP:zz"}, headers=H).json()["token"]
    r = client.post("/v0/datasources/ev/truncate", headers={"Authorization": f"Bearer {tok}"})
    assert r.status_code == 403 and "DATASOURCES:DROP:ev" in r.json()["error"]


def test_fuzzed_credentials_are_403_never_500(client):
    """Whatever arrives as a credential (Bearer header or ?token=), the answer is a JSON 403."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    client.app.state.service.ratelimiter = RateLimiter(1e9)
    texts = st.one_of(st.text(min_size=1, max_size=60).filter(lambda s: s.strip() and s.isprintable()),
                      st.builds(lambda a, b, c: f"ey{a}.{b}.{c}", st.text("ABCxyz_-=09", max_size=20),
                                st.text("ABCxyz_-=09", max_size=20), st.text("ABCxyz_-=09", max_size=20)))

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(texts)
    def check(tok):
        try:
            r = client.get("/v0/datasources", headers={"Authorization": f"Bearer {tok}"})
        except UnicodeEncodeError:            # not sendable as a header: try the query string
            r = client.get("/v0/datasources", params={"token": tok})
        assert r.status_code == 403 and set(r.json()) == {"error", "documentation"}, (tok, r.text)

    check()
