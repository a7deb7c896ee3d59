"""``python -m bench run --suite api``: the pipe endpoints through the HTTP API, reusing H1's
bench/bench_api.py (which also runs standalone: ``python -m bench.bench_api``).

1. A data directory for the quickstart project (examples/quickstart) with ``--rows`` generated
   events, merged (`bench_api.build_data`).
2. In-process, per request of ``user_activity`` with a new ``user_id``: the API layer's steps
   (template render, parse, plan, JSON encode) next to the query's execution, median ms
   (`bench_api.measure_overhead`).
3. ``mergetree serve`` in a separate process; ``GET /v0/pipes/user_activity.json?user_id=..&days=30``
   from 1 client and from ``clients`` concurrent keep-alive clients for ``seconds`` each (a load
   generator in its own process, bench/api_load.py): requests/s, p50/p99/max latency, errors and the
   server's CPU ms per request (`bench_api.load`).

mergetree only (chDB and DuckDB have no Tinybird API); results are "measurements" like the
ingest suite's.
"""

from __future__ import annotations

import datetime as _dt
import shutil
import subprocess
import tempfile
from pathlib import Path


def run_api(cfg, *, seconds: float = 5.0, clients: int = 16) -> dict:
    from bench import bench_api
    from bench.runner import machine_info, package_versions

    say = cfg.log or (lambda s: None)
    started = _dt.datetime.now(_dt.timezone.utc)
    tmp = Path(tempfile.mkdtemp(prefix="bench-api-"))
    measurements: list[dict] = []
    proc = None
    try:
        say(f"building the quickstart project's data: {cfg.rows:,} events ...")
        users = bench_api.build_data(tmp / "data", cfg.rows, out=_Log(say))
        ov = bench_api.measure_overhead(tmp / "data", users, n=100)
        for step in ("render", "parse", "plan", "execute", "encode_json", "overhead"):
            measurements.append({"engine": "mergetree", "name": f"user_activity in-process: {step}",
                                 "unit": "ms", "value": ov[step], "status": "ok"})
        say("in-process steps (median ms): " + ", ".join(f"{k} {ov[k]:.3f}" for k in
                                                         ("render", "parse", "plan", "execute", "encode_json")))
        port = bench_api._free_port()
        proc = bench_api.start_server(tmp / "data", port)
        for n in (1, clients):
            r = bench_api.load(port, users, n, seconds, pid=proc.pid)
            measurements.append({
                "engine": "mergetree", "name": f"GET user_activity.json, {n} client{'s' if n > 1 else ''}",
                "unit": "req/s", "value": r["rps"], "p50_ms": r["p50_ms"], "p99_ms": r["p99_ms"],
                "threads": n, "seconds": seconds, "requests": r["requests"], "errors": r["errors"],
                "server_cpu_ms_per_request": r.get("server_cpu_ms"),
                "status": "ok" if not r["errors"] else "error",
                "detail": f"{r['errors']} failed requests" if r["errors"] else None})
            say(f"{n} clients: {r['rps']:.1f} req/s, p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms, "
                f"{r['errors']} errors, server CPU {r.get('server_cpu_ms', float('nan')):.2f} ms/request")
    except Exception as ex:  # noqa: BLE001 - reported
        measurements.append({"engine": "mergetree", "name": "api suite", "status": "error",
                             "detail": f"{type(ex).__name__}: {str(ex).splitlines()[0][:200] if str(ex) else ''}"})
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(tmp, ignore_errors=True)
    return {
        "format": "mergetree-bench/1", "suite": "api", "dataset": "events",
        "started": started.isoformat(timespec="seconds"),
        "finished": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "rows": cfg.rows, "seed": cfg.seed, "repeat": 1, "threads": cfg.threads,
        "machine": machine_info(), "packages": package_versions(), "skipped_engines": {},
        "measurements": measurements,
    }


class _Log:
    """A file-like `out` for bench_api that forwards lines to the runner's log."""

    def __init__(self, say):
        self.say = say

    def write(self, text: str) -> None:
        if text.strip():
            self.say(text.strip())

    def flush(self) -> None:
        pass
