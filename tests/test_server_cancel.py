"""GET /v0/sql: a client that disconnects cancels its query (QUERY_WAS_CANCELLED at the next block)
instead of leaving it running in the thread pool. Driven at the ASGI level, where a disconnect can
be sent while the query runs."""

from __future__ import annotations

import asyncio
import time
import urllib.parse

from mergetree.server.app import create_app

ADMIN = "admin-secret-long-enough-for-hs256-keys"
SLOW = "SELECT count() FROM numbers(100000000000) WHERE sipHash64(number) = 1"


def _scope(query: str) -> dict:
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
            "path": "/v0/sql", "raw_path": b"/v0/sql", "root_path": "",
            "query_string": urllib.parse.urlencode({"q": query}).encode(),
            "headers": [(b"authorization", f"Bearer {ADMIN}".encode()), (b"host", b"test")],
            "client": ("127.0.0.1", 1), "server": ("test", 80)}


def test_disconnect_cancels_the_query(tmp_path):
    app = create_app(tmp_path / "data", admin_token=ADMIN, flush_interval=0.05)
    sent = []

    async def main():
        lifespan_q: asyncio.Queue = asyncio.Queue()
        await lifespan_q.put({"type": "lifespan.startup"})

        async def l_send(msg):
            sent.append(msg)

        life = asyncio.ensure_future(app({"type": "lifespan", "asgi": {"version": "3.0"}}, lifespan_q.get, l_send))
        while not any(m["type"].startswith("lifespan.startup") for m in sent):
            await asyncio.sleep(0.01)
        messages = [{"type": "http.request", "body": b"", "more_body": False}]
        started = time.monotonic()

        async def receive():                      # like uvicorn's: a disconnect, once it happened, is
            if messages:                          # returned at once; until then receive() blocks
                return messages.pop(0)
            while time.monotonic() - started < 0.5:   # the client goes away while the query runs
                await asyncio.sleep(0.02)
            return {"type": "http.disconnect"}

        async def send(msg):
            sent.append(msg)

        await asyncio.wait_for(app(_scope(SLOW), receive, send), timeout=60)
        took = time.monotonic() - started
        await lifespan_q.put({"type": "lifespan.shutdown"})
        await asyncio.wait_for(life, timeout=30)
        return took

    took = asyncio.run(main())
    assert took < 30
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    assert b"QUERY_WAS_CANCELLED" in body, body
