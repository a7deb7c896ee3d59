"""Concurrency against a live `mergetree serve` (issue #6): 8 clients ingesting through the Events API
and 8 querying (/v0/sql and the user_activity endpoint) at the same time: no errors, no lost or
duplicated rows, and every answer consistent with what was acknowledged (a reader never sees more
rows than were sent, nor fewer than were visible to it before). Short (2 s) in the default run; the
30-second version of the issue is marked slow."""

from __future__ import annotations

import http.client
import json
import threading
import time
import urllib.parse
from datetime import datetime, timezone

import pytest

from .conftest import ADMIN, LiveServer

WRITERS = READERS = 8
BATCH = 200


class Conn:
    """One keep-alive HTTP/1.1 connection per client thread."""

    def __init__(self, port: int):
        self.c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def call(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        self.c.request(method, path, body=body, headers={"Authorization": f"Bearer {ADMIN}"})
        r = self.c.getresponse()
        return r.status, r.read()


def _run(srv: LiveServer, seconds: float, tag: str) -> dict:
    stop = threading.Event()
    errors: list[str] = []
    sent = [0] * WRITERS                       # rows acknowledged (202) per writer
    reads = [0] * READERS
    ts = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")

    def writer(i: int):
        conn, n = Conn(srv.port), 0
        try:
            while not stop.is_set():
                body = "\n".join(json.dumps({"event_id": f"{tag}-{i}-{n + k}", "user_id": f"{tag}_{i}",
                                             "event_type": "conc", "timestamp": ts}) for k in range(BATCH))
                status, data = conn.call("POST", "/v0/events?name=events", body.encode())
                if status == 503:          # back-pressure (flushes behind): retry later, as real clients do
                    time.sleep(0.2)
                    continue
                if status != 202 or json.loads(data) != {"successful_rows": BATCH, "quarantined_rows": 0}:
                    errors.append(f"writer {i}: {status} {data[:200]!r}")
                    return
                n += BATCH
                sent[i] = n
        except Exception as e:  # noqa: BLE001
            errors.append(f"writer {i}: {e!r}")

    def reader(i: int):
        """Odd readers count all the test's rows with /v0/sql, even ones one writer's through the
        endpoint; a count never goes down and never exceeds what was sent (+ one batch in flight)."""
        conn, last, w = Conn(srv.port), 0, i % WRITERS
        sql = "/v0/sql?q=" + urllib.parse.quote(f"SELECT count() AS n FROM events WHERE user_id LIKE '{tag}\\_%' "
                                                f"FORMAT JSON")
        try:
            while not stop.is_set():
                if i % 2:
                    status, data = conn.call("GET", sql)
                    n = json.loads(data)["data"][0]["n"] if status == 200 else None
                    ceiling = sum(sent) + WRITERS * BATCH
                else:
                    status, data = conn.call("GET", f"/v0/pipes/user_activity.json?user_id={tag}_{w}&days=3650")
                    n = sum(r["events"] for r in json.loads(data)["data"]) if status == 200 else None
                    ceiling = sent[w] + BATCH
                if status != 200:
                    errors.append(f"reader {i}: {status} {data[:200]!r}")
                    return
                if n < last or n > ceiling:
                    errors.append(f"reader {i}: count went from {last} to {n} (ceiling {ceiling})")
                    return
                last = n
                reads[i] += 1
        except Exception as e:  # noqa: BLE001
            errors.append(f"reader {i}: {e!r}")

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(WRITERS)]
    threads += [threading.Thread(target=reader, args=(i,)) for i in range(READERS)]
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join(120)
    assert not errors, errors[:5]
    # every acknowledged row is there exactly once, once the flush interval has passed
    conn = Conn(srv.port)
    total = sum(sent)
    deadline = time.time() + 60
    q = "/v0/sql?q=" + urllib.parse.quote(f"SELECT count() AS n, uniqExact(event_id) AS u FROM events "
                                          f"WHERE user_id LIKE '{tag}\\_%' FORMAT JSON")
    while True:
        got = json.loads(conn.call("GET", q)[1])["data"][0]
        if got["n"] >= total or time.time() > deadline:
            break
        time.sleep(0.2)
    assert got == {"n": total, "u": total}
    for w in range(WRITERS):               # the endpoint agrees with what each writer sent
        status, data = conn.call("GET", f"/v0/pipes/user_activity.json?user_id={tag}_{w}&days=3650")
        assert status == 200
        assert sum(r["events"] for r in json.loads(data)["data"]) == sent[w]
    return {"rows": total, "reads": sum(reads)}


def test_8_writers_8_readers_short(live_server):
    stats = _run(live_server, 2.0, "cshort")
    assert stats["rows"] >= WRITERS * BATCH and stats["reads"] >= READERS


@pytest.mark.slow
def test_8_writers_8_readers_30s(live_server):
    stats = _run(live_server, 30.0, "clong")
    assert stats["rows"] > 0 and stats["reads"] > 0
