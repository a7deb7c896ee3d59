"""The pipe API's cost: per-request overhead of the API layer, and endpoint latency under load.

1. Builds a data directory for the quickstart project (``examples/quickstart``) holding ``--rows``
   generated events (``bench.gen_events``, the 90 days before now, so that ``user_activity``'s
   window has data), inserted directly through the embedded API and merged.
2. **Overhead** (in-process, same data): for ``user_activity`` with a different ``user_id`` each
   time, the time of each step the API layer adds around the query: template render, parse
   (uncached: every request has a new literal), plan, and JSON encode of the result; next to the
   execution time of the query itself.
3. **Latency** (live server): ``mergetree serve`` in a separate process on 127.0.0.1, and 16
   concurrent clients here (threads with keep-alive connections) calling
   ``GET /v0/pipes/user_activity.json?user_id=...&days=30`` for ``--duration`` seconds;
   p50/p99/max latency and requests/s. One client alone gives the unloaded latency.

    python -m bench.bench_api                   # 1M rows
    python -m bench.bench_api --rows 10M        # the issue's target size
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
QUICKSTART = REPO / "examples" / "quickstart"
TOKEN = "bench-admin-token-long-enough-for-hs256"


def _rows(text: str) -> int:
    text = text.strip().upper()
    mult = {"K": 1_000, "M": 1_000_000}.get(text[-1:], 1)
    return int(float(text[:-1] if mult > 1 else text) * mult)


def build_data(data_dir: Path, rows: int, out=sys.stdout) -> list[str]:
    """Create the project's data sources, insert ``rows`` events; returns sample user ids."""
    import mergetree
    from bench.gen_events import events_block, generate_events
    from mergetree.server.app import Service
    from mergetree.server.project import apply_project, load

    svc = Service(data_dir, admin_token=TOKEN)
    try:
        apply_project(svc, load(QUICKSTART))
    finally:
        svc.close()
    db = mergetree.connect(data_dir / "tables")
    users: list[str] = []
    try:
        db.stop_merges()
        now = int(time.time())
        now -= now % 86400                      # gen_events anchors at a midnight (UTC): today's
        t0 = time.perf_counter()
        chunk = 1_000_000
        for i, start in enumerate(range(0, rows, chunk)):
            n = min(chunk, rows - start)
            cols = generate_events(n, seed=100 + i, anchor=now)
            if not users:
                u = cols["user_id"]
                users = [u[j] for j in range(0, min(n, 20_000), 20)]
            db.insert("events", events_block(cols))
        out.write(f"  inserted {rows:,} rows in {time.perf_counter() - t0:.1f} s\n")
    finally:
        db.close()
    return users


def optimize_all(data_dir: Path, out=sys.stdout) -> None:
    """OPTIMIZE FINAL every table (events and the materialized events_by_user): a merged steady state."""
    import mergetree

    db = mergetree.connect(data_dir / "tables")
    try:
        for name in db.tables():
            t0 = time.perf_counter()
            db.optimize(name, final=True)
            out.write(f"  OPTIMIZE TABLE {name} FINAL in {time.perf_counter() - t0:.1f} s: "
                      f"{db.table(name).count():,} rows in {len(db.table(name).parts())} parts\n")
    finally:
        db.close()


def _pct(xs, p):
    return float(np.percentile(np.asarray(xs), p)) if xs else float("nan")


def measure_overhead(data_dir: Path, users: list[str], n: int = 300) -> dict:
    """Per-request steps of the API layer, in-process, in ms (median over ``n`` calls)."""
    from mergetree.planner.planner import plan_select
    from mergetree.server.app import Service
    from mergetree.server.pipes import compile_pipe, encode, parse_sql
    from mergetree.server.project import apply_project, load
    from sqlparse_ch import parse
    from sqlparse_ch.template import render

    svc = Service(data_dir, admin_token=TOKEN)
    try:
        apply_project(svc, load(QUICKSTART))
        pipe = svc.pipes.get("user_activity")
        db = svc.engine.db
        steps: dict[str, list[float]] = {k: [] for k in ("render", "parse_plain", "parse", "compile", "plan",
                                                         "execute", "encode_json")}
        for i in range(n):
            params = {"user_id": users[i % len(users)] + ("" if i < len(users) else f"_{i}"), "days": "30"}
            t = time.perf_counter()
            texts = [render(node.sql, params).sql for node in pipe.nodes]
            steps["render"].append(time.perf_counter() - t)
            t = time.perf_counter()
            for text in texts:
                parse(text)
            steps["parse_plain"].append(time.perf_counter() - t)
            t = time.perf_counter()
            for text in texts:
                parse_sql(text)                                # what the service does
            steps["parse"].append(time.perf_counter() - t)
            t = time.perf_counter()
            options: dict = {}
            stmt = compile_pipe(svc.pipes, pipe, params, options=options)   # render + parse (cached) + inline
            steps["compile"].append(time.perf_counter() - t)
            settings = {"max_threads": options["max_threads"]} if options.get("max_threads") else None
            t = time.perf_counter()
            plan_select(db, stmt, {})
            steps["plan"].append(time.perf_counter() - t)
            t = time.perf_counter()
            result = svc.engine.run(stmt, None, settings)      # plans again, then executes
            steps["execute"].append(time.perf_counter() - t - steps["plan"][-1])
            t = time.perf_counter()
            encode(result, "json")
            steps["encode_json"].append(time.perf_counter() - t)
        med = {k: statistics.median(v) * 1000 for k, v in steps.items()}
        med["overhead"] = med["render"] + med["parse"] + med["plan"] + med["encode_json"]
        return med
    finally:
        svc.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(data_dir: Path, port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "mergetree.cli", "serve", str(QUICKSTART), "--data-dir", str(data_dir),
         "--port", str(port), "--admin-token", TOKEN, "--log-level", "warning"],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {proc.stderr.read().decode(errors='replace')[-2000:]}")
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/v0/health")
            if c.getresponse().status == 200:
                c.close()
                return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not start")


def load(port: int, users: list[str], clients: int, duration: float, warmup: float = 1.0) -> dict:
    """``clients`` threads, each with a keep-alive connection, calling user_activity for ``duration``."""
    lat: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    stop_at = [0.0]
    start = threading.Barrier(clients + 1)
    headers = {"Authorization": f"Bearer {TOKEN}"}

    def worker(k: int):
        rng = np.random.default_rng(k)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        start.wait()
        measure_from = time.perf_counter() + warmup
        while True:
            now = time.perf_counter()
            if now >= stop_at[0]:
                break
            user = users[int(rng.integers(len(users)))]
            t = time.perf_counter()
            try:
                conn.request("GET", f"/v0/pipes/user_activity.json?user_id={user}&days=30", headers=headers)
                r = conn.getresponse()
                r.read()
                ok = r.status == 200
            except (OSError, http.client.HTTPException):
                ok = False
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            took = time.perf_counter() - t
            if not ok:
                errors[k] += 1
            elif t >= measure_from:
                lat[k].append(took)
        conn.close()

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    stop_at[0] = time.perf_counter() + warmup + duration
    start.wait()
    for t in threads:
        t.join()
    all_lat = [x for xs in lat for x in xs]
    return {"clients": clients, "requests": len(all_lat), "errors": sum(errors),
            "rps": len(all_lat) / duration, "p50_ms": _pct(all_lat, 50) * 1000,
            "p99_ms": _pct(all_lat, 99) * 1000, "max_ms": max(all_lat, default=float("nan")) * 1000}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", default="1M", help="events in the table (default 1M; the issue's target: 10M)")
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--duration", type=float, default=10.0, help="seconds of load per run")
    ap.add_argument("--keep", default=None, help="build/keep the data directory here (reused when present)")
    args = ap.parse_args(argv)
    rows = _rows(args.rows)
    tmp = None
    if args.keep:
        data_dir = Path(args.keep)
    else:
        tmp = Path(tempfile.mkdtemp(prefix="mergetree-bench-api-"))
        data_dir = tmp / "data"
    out = sys.stdout
    out.write(f"bench_api: user_activity over {rows:,} rows, data {data_dir}\n")
    proc = None
    try:
        users_file = data_dir / "bench_users.txt"
        if users_file.exists():
            users = users_file.read_text().split()
        else:
            users = build_data(data_dir, rows)
            users_file.write_text("\n".join(users))
        optimize_all(data_dir)
        ov = measure_overhead(data_dir, users)
        out.write("\nper-request steps, in-process, median ms:\n")
        for k in ("render", "parse_plain", "parse", "compile", "plan", "execute", "encode_json", "overhead"):
            out.write(f"  {k:<12}{ov[k]:8.3f}\n")
        port = _free_port()
        proc = start_server(data_dir, port)
        one = load(port, users, 1, min(args.duration, 5.0))
        many = load(port, users, args.clients, args.duration)
        out.write("\nlive server (separate process), GET /v0/pipes/user_activity.json?user_id=..&days=30:\n")
        out.write(f"  {'clients':>8}{'requests':>10}{'errors':>8}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}\n")
        for r in (one, many):
            out.write(f"  {r['clients']:>8}{r['requests']:>10}{r['errors']:>8}{r['rps']:>9.1f}{r['p50_ms']:>9.1f}"
                      f"{r['p99_ms']:>9.1f}{r['max_ms']:>9.1f}\n")
        return 0
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
