"""`mergetree demo`: the README's main job, the service end to end in a few seconds.

1. copies the quickstart project (`examples/quickstart`: an `events` data source and the pipes
   `daily_active_users` and `user_activity`) into a temporary folder;
2. starts the Tinybird-compatible service in-process (uvicorn on 127.0.0.1, a free port, in a
   thread), which creates the data source and publishes the pipes;
3. sends generated product events through the Events API (`POST /v0/events?name=events`, NDJSON
   batches), exactly as a tracker would;
4. calls both endpoints over HTTP and prints their results, with the curl commands to try;
5. stops the server and exits (no thread left behind).
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import TextIO

import numpy as np

EVENT_TYPES = ["page_view", "click", "signup", "purchase", "logout", "search", "share", "error"]
EVENT_WEIGHTS = [0.45, 0.25, 0.05, 0.04, 0.06, 0.08, 0.04, 0.03]
DAYS = 45
DEMO_USER = "user_123"


def quickstart_dir() -> Path:
    """The quickstart project: `examples/quickstart` of the repository (editable installs)."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "examples" / "quickstart", here / "examples" / "quickstart"):
        if (candidate / "pipes").is_dir():
            return candidate
    raise FileNotFoundError("examples/quickstart not found: run mergetree demo from an editable install "
                            "(pip install -e .) of the repository")


def generate_ndjson(n: int, seed: int, now: int, batch: int = 5_000) -> list[bytes]:
    """`n` events over the last 45 days before `now` (unix seconds), as NDJSON batches.

    Users follow a Zipf law; `user_123` is one of the busiest. Vectorised: the lines are built
    with numpy string operations, not a per-row loop.
    """
    rng = np.random.default_rng(seed)
    users = rng.zipf(1.3, n) % 5_000
    users[rng.random(n) < 0.01] = 123
    types = rng.choice(len(EVENT_TYPES), size=n, p=EVENT_WEIGHTS)
    ts = now - rng.integers(60, DAYS * 86400, size=n)
    ids = rng.integers(0, 2**63, size=n)
    pages = (users % 97).astype(str)
    when = np.datetime_as_string(ts.astype("datetime64[s]"), unit="s")
    when = np.char.replace(when, "T", " ")
    props = np.where(types == 3, np.char.add('{\\"amount\\":', rng.integers(1, 500, size=n).astype(str)),
                     np.char.add('{\\"page\\":\\"/p/', pages))
    props = np.char.add(props, np.where(types == 3, "}", '\\"}'))
    line = np.char.add('{"event_id":"', np.char.mod("%016x", ids))
    line = np.char.add(line, '","user_id":"user_')
    line = np.char.add(line, users.astype(str))
    line = np.char.add(line, '","event_type":"')
    line = np.char.add(line, np.array(EVENT_TYPES)[types])
    line = np.char.add(line, '","properties":"')
    line = np.char.add(line, props)
    line = np.char.add(line, '","timestamp":"')
    line = np.char.add(line, when)
    line = np.char.add(line, '"}')
    return ["\n".join(line[i:i + batch].tolist()).encode() for i in range(0, n, batch)]


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _request(url: str, token: str, body: bytes | None = None) -> tuple[int, bytes]:
    req = urllib.request.Request(url, data=body, method="POST" if body is not None else "GET",
                                 headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


class _Server:
    """uvicorn in a thread, stopped by `stop()` (the app's lifespan closes the service)."""

    def __init__(self, app, port: int):
        import uvicorn

        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                                    access_log=False, lifespan="on"))
        self.server.install_signal_handlers = lambda: None      # not the main thread
        self.thread = threading.Thread(target=self.server.run, name="mergetree-demo-server", daemon=True)

    def start(self, timeout: float = 30.0) -> None:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the demo server did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


def _table(rows: list[dict], out: TextIO, limit: int = 10) -> None:
    if not rows:
        out.write("  (no rows)\n")
        return
    cols = list(rows[0])
    widths = [max(len(c), *(len(str(r[c])) for r in rows[:limit])) for c in cols]
    out.write("  " + "  ".join(c.ljust(w) for c, w in zip(cols, widths)) + "\n")
    for r in rows[:limit]:
        out.write("  " + "  ".join(str(r[c]).ljust(w) for c, w in zip(cols, widths)) + "\n")
    if len(rows) > limit:
        out.write(f"  ... {len(rows) - limit} more rows\n")


def run_demo(rows: int = 50_000, data_dir: str | None = None, out: TextIO | None = None) -> int:
    import sys

    import orjson

    from mergetree.server.app import create_app
    from mergetree.server.pipes import is_endpoint

    out = out or sys.stdout
    tmp = Path(tempfile.mkdtemp(prefix="mergetree-demo-"))
    server = None
    try:
        project = tmp / "quickstart"
        shutil.copytree(quickstart_dir(), project)
        data = Path(data_dir) if data_dir else tmp / "data"
        token = "demo-" + secrets.token_urlsafe(16)
        out.write(f"mergetree demo\n  project  {project} (a copy of examples/quickstart)\n  data     {data}\n\n")

        t0 = time.perf_counter()
        app = create_app(data, admin_token=token, flush_interval=0.2, project=project)
        port = _free_port()
        server = _Server(app, port)
        server.start()
        host = f"http://127.0.0.1:{port}"
        svc = app.state.service
        pipes = svc.pipes.snapshot()
        endpoints = [n for n in sorted(pipes) if is_endpoint(pipes[n])]
        views = [n for n in sorted(pipes) if not is_endpoint(pipes[n])]
        out.write(f"1. started the service on {host} in {time.perf_counter() - t0:.2f} s: data sources "
                  f"{', '.join(svc.engine.datasource_names())} created, materialized pipe {', '.join(views)}, "
                  f"endpoints {', '.join(endpoints)} published\n\n")

        now = int(time.time())
        batches = generate_ndjson(rows, seed=7, now=now)
        t0 = time.perf_counter()
        ok = quarantined = 0
        for i, body in enumerate(batches):
            wait = "&wait=true" if i == len(batches) - 1 else ""
            status, reply = _request(f"{host}/v0/events?name=events{wait}", token, body)
            if status not in (200, 202):
                out.write(f"   Events API answered {status}: {reply[:300].decode(errors='replace')}\n")
                return 1
            r = orjson.loads(reply)
            ok += r["successful_rows"]
            quarantined += r["quarantined_rows"]
        took = time.perf_counter() - t0
        out.write(f"2. sent {ok:,} events in {len(batches)} NDJSON requests to POST /v0/events?name=events in "
                  f"{took:.2f} s ({ok / took:,.0f} rows/s; {quarantined} quarantined)\n\n")

        calls = [("daily_active_users", {}), ("user_activity", {"user_id": DEMO_USER, "days": "30"})]
        for n, (pipe, params) in enumerate(calls, 3):
            url = f"{host}/v0/pipes/{pipe}.json" + (f"?{urllib.parse.urlencode(params)}" if params else "")
            t0 = time.perf_counter()
            status, reply = _request(url, token)
            ms = (time.perf_counter() - t0) * 1000
            if status != 200:
                out.write(f"   {pipe} answered {status}: {reply[:300].decode(errors='replace')}\n")
                return 1
            res = orjson.loads(reply)
            out.write(f"{n}. GET /v0/pipes/{pipe}.json{url[len(host) + len(pipe) + 15:]}: {res['rows']} rows "
                      f"in {ms:.1f} ms ({res['statistics']['rows_read']:,} rows read)\n")
            _table(res["data"][-7:] if pipe == "daily_active_users" else res["data"], out)
            out.write("\n")

        out.write("Try it yourself (in another terminal):\n"
                  "  export TOKEN=my-admin-token    # any secret; the server uses it as its admin token\n"
                  "  mergetree serve examples/quickstart --admin-token $TOKEN\n"
                  "  curl -X POST -H \"Authorization: Bearer $TOKEN\" \"http://127.0.0.1:7181/v0/events?name=events\" \\\n"
                  "       -d '{\"event_id\":\"e1\",\"user_id\":\"user_123\",\"event_type\":\"click\","
                  "\"properties\":\"{}\",\"timestamp\":\"" + time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
                  + "\"}'\n"
                  "  curl -H \"Authorization: Bearer $TOKEN\" "
                  "\"http://127.0.0.1:7181/v0/pipes/user_activity.json?user_id=user_123&days=30\"\n"
                  "  curl -H \"Authorization: Bearer $TOKEN\" \"http://127.0.0.1:7181/v0/pipes/daily_active_users.csv\"\n"
                  "  curl -H \"Authorization: Bearer $TOKEN\" \"http://127.0.0.1:7181/v0/pipes/openapi.json\"\n")
        return 0
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
