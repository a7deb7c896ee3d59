"""The pipe API's cost: per-request overhead of the API layer, and endpoint latency under load.

1. Builds a data directory for the quickstart project (``examples/quickstart``) holding ``--rows``
   generated events (``bench.gen_events``, the 90 days before now, so that ``user_activity``'s
   window has data), inserted directly through the embedded API and merged.
2. **Overhead** (in-process, same data): for ``user_activity`` with a different ``user_id`` each
   time, the time of each step the API layer adds around the query: template render, parse
   (uncached: every request has a new literal), plan, and JSON encode of the result; next to the
   execution time of the query itself.
3. **Latency** (live server): ``mergetree serve`` in a separate process on 127.0.0.1, and a load
   generator in a third process (``bench/api_load.py``: one asyncio thread, raw HTTP/1.1 keep-alive
   connections, ~0.1 ms CPU per request, so it does not starve the server on a 2-core machine as
   16 ``http.client`` threads in this process did) calling
   ``GET /v0/pipes/user_activity.json?user_id=...&days=30`` from each of ``--clients`` (default 1,
   then 16) connections for ``--duration`` seconds: p50/p99/max latency, requests/s, and the
   server's CPU milliseconds per request (its process and children, from /proc) with the cores it
   used: on a shared machine the CPU per request is the stable number, latency follows from it
   (16 closed-loop clients: p50 ~ 16 x CPU per request / cores the server gets).

    python -m bench.bench_api                   # 1M rows
    python -m bench.bench_api --rows 10M        # the issue's target size
    python -m bench.bench_api --rows 10M --keep DIR --no-overhead --no-optimize --serve-arg=--query-threads=2
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
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


def start_server(data_dir: Path, port: int, extra: list[str] = ()) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "mergetree.cli", "serve", str(QUICKSTART), "--data-dir", str(data_dir),
         "--port", str(port), "--admin-token", TOKEN, "--log-level", "warning", *extra],
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


def cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU seconds of a process (all its threads), from /proc (None elsewhere)."""
    if pid is None:
        return None
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_pids(pid: int) -> list[int]:
    """The server process and its children (``serve --workers N`` query workers), from /proc."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        kids: list[str] = []
        try:
            for task in os.listdir(f"/proc/{p}/task"):          # children of any of its threads
                kids += open(f"/proc/{p}/task/{task}/children").read().split()
        except OSError:
            pass
        todo += [int(k) for k in kids]
    return out


def load(port: int, users: list[str], clients: int, duration: float, warmup: float = 1.0,
         pid: int | None = None) -> dict:
    """``clients`` keep-alive connections calling user_activity for ``duration`` seconds, from a load
    generator in its own process (``bench/api_load.py``: one asyncio thread); with ``pid``, the
    server's CPU (its process and children) per request over the run."""
    fd, users_file = tempfile.mkstemp(prefix="bench-api-users-", suffix=".txt")
    with os.fdopen(fd, "w") as f:
        f.write("\n".join(users))
    try:
        pids = server_pids(pid) if pid is not None else []
        cpu0 = [cpu_seconds(p) or 0.0 for p in pids]
        t0 = time.monotonic()
        out = subprocess.run([sys.executable, "-m", "bench.api_load", "--port", str(port), "--token", TOKEN,
                              "--users", users_file, "--clients", str(clients), "--duration", str(duration),
                              "--warmup", str(warmup)], cwd=REPO, capture_output=True, text=True, check=True)
        wall = time.monotonic() - t0
        cpu1 = [cpu_seconds(p) or 0.0 for p in pids]
    finally:
        os.unlink(users_file)
    res = json.loads(out.stdout.strip().splitlines()[-1])
    if pids:
        # the whole run (warmup included) over every request answered in it
        res["server_cpu_ms"] = (sum(cpu1) - sum(cpu0)) * 1000 / max(res["answered"], 1)
        res["server_cpu_util"] = (sum(cpu1) - sum(cpu0)) / wall
        # the server process alone (with --workers: HTTP, pins, hand-off; the rest is its workers')
        res["primary_cpu_ms"] = (cpu1[0] - cpu0[0]) * 1000 / max(res["answered"], 1)
    res["loadgen_cpu_ms"] = res["loadgen_cpu_s"] * 1000 / max(res["answered"], 1)
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", default="1M", help="events in the table (default 1M; the issue's target: 10M)")
    ap.add_argument("--clients", default="1,16", help="comma-separated concurrent clients per run (default 1,16)")
    ap.add_argument("--duration", type=float, default=10.0, help="seconds of load per run")
    ap.add_argument("--keep", default=None, help="build/keep the data directory here (reused when present)")
    ap.add_argument("--no-overhead", action="store_true", help="skip the in-process per-step timing")
    ap.add_argument("--no-optimize", action="store_true", help="skip OPTIMIZE FINAL (the data is merged already)")
    ap.add_argument("--serve-arg", action="append", default=[],
                    help="extra option for `mergetree serve` (repeatable), e.g. --serve-arg=--workers=2")
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
        if not args.no_optimize:
            optimize_all(data_dir)
        if not args.no_overhead:
            ov = measure_overhead(data_dir, users)
            out.write("\nper-request steps, in-process, median ms:\n")
            for k in ("render", "parse_plain", "parse", "compile", "plan", "execute", "encode_json", "overhead"):
                out.write(f"  {k:<12}{ov[k]:8.3f}\n")
        port = _free_port()
        proc = start_server(data_dir, port, args.serve_arg)
        runs = [load(port, users, int(c), min(args.duration, 5.0) if int(c) == 1 else args.duration, pid=proc.pid)
                for c in args.clients.split(",")]
        out.write(f"\nlive server (separate process{', ' + ' '.join(args.serve_arg) if args.serve_arg else ''}), "
                  f"GET /v0/pipes/user_activity.json?user_id=..&days=30; load generator: bench/api_load.py in its "
                  f"own process\n")
        out.write(f"  {'clients':>8}{'requests':>10}{'errors':>8}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}"
                  f"{'srv CPU ms/req':>16}{'of it main proc':>17}{'srv cores':>11}{'loadgen ms/req':>16}\n")
        for r in runs:
            out.write(f"  {r['clients']:>8}{r['requests']:>10}{r['errors']:>8}{r['rps']:>9.1f}{r['p50_ms']:>9.1f}"
                      f"{r['p99_ms']:>9.1f}{r['max_ms']:>9.1f}{r.get('server_cpu_ms', float('nan')):>16.2f}"
                      f"{r.get('primary_cpu_ms', float('nan')):>17.2f}"
                      f"{r.get('server_cpu_util', float('nan')):>11.2f}{r['loadgen_cpu_ms']:>16.2f}\n")
        out.write(f"  machine: {os.cpu_count()} cores, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}\n")
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
