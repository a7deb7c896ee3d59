"""Events API load generator: run against a live `mergetree serve` from a separate process.

    python bench/bench_server_events.py --start                 # starts a server on a free port itself
    python bench/bench_server_events.py --port 7181 --token T   # against a running server
    python bench/bench_server_events.py --start --phases single --seconds 5   # one phase

After ``--warmup`` seconds of unmeasured batches (default 2: kernels loading, first parts),
reports rows/s for 1000-row NDJSON batches and requests/s for single events (keep-alive
http.client connections, one per thread), and, when the server's pid is known (``--start`` or
``--pid``), the server's CPU seconds per 1,000 rows / per request: on a loaded machine the
wall-clock rates say more about the neighbours than about the server. Numbers only; nothing is
asserted.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse


def body_for(start: int, rows: int) -> bytes:
    return "\n".join(json.dumps({"event_id": f"e{i}", "user_id": f"u{i % 1000}", "event_type": "click",
                                 "properties": '{"a":1}', "timestamp": "2026-11-27 10:00:00"})
                     for i in range(start, start + rows)).encode()


def cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU time of a process (all its threads), from /proc."""
    if pid is None:
        return None
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(port: int, token: str, threads: int, seconds: float, rows: int, wait: bool, pid: int | None = None) -> dict:
    bodies = [body_for(k * rows, rows) for k in range(16)]
    counts = [0] * threads
    latencies: list[list[float]] = [[] for _ in range(threads)]
    errors = [0] * threads
    stop = time.monotonic() + seconds
    path = "/v0/events?name=events" + ("&wait=true" if wait else "")

    def worker(k: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Authorization": f"Bearer {token}"}
        i = 0
        while time.monotonic() < stop:
            t0 = time.perf_counter()
            conn.request("POST", path, body=bodies[i % len(bodies)], headers=headers)
            r = conn.getresponse()
            r.read()
            latencies[k].append(time.perf_counter() - t0)
            if r.status in (200, 202):
                counts[k] += 1
            else:
                errors[k] += 1
            i += 1
        conn.close()

    cpu0 = cpu_seconds(pid)
    t0 = time.monotonic()
    ts = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    elapsed = time.monotonic() - t0
    time.sleep(1.5)                # the flush of the last rows belongs to this phase
    cpu1 = cpu_seconds(pid)
    lat = sorted(x for l in latencies for x in l)
    req = sum(counts)
    return {"rows_per_request": rows, "threads": threads, "wait": wait, "requests": req, "errors": sum(errors),
            "req_per_s": round(req / elapsed, 1), "rows_per_s": round(req * rows / elapsed),
            "p50_ms": round(lat[len(lat) // 2] * 1e3, 2) if lat else None,
            "p99_ms": round(lat[int(len(lat) * 0.99)] * 1e3, 2) if lat else None,
            "server_cpu_ms_per_request": round((cpu1 - cpu0) * 1e3 / max(req, 1), 3) if cpu0 is not None else None,
            "server_cpu_s_per_1M_rows": round((cpu1 - cpu0) * 1e6 / max(req * rows, 1), 2)
            if cpu0 is not None else None}


def start_server(data_dir: str, token: str) -> tuple[subprocess.Popen, int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "mergetree.cli", "serve", "--data-dir", data_dir,
                             "--port", str(port), "--admin-token", token, "--log-level", "warning"])
    for _ in range(600):
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            c.request("GET", "/v0/health")
            if c.getresponse().status == 200:
                return proc, port
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("server did not start")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int)
    ap.add_argument("--token", default="bench-admin")
    ap.add_argument("--pid", type=int, help="the server's pid (for its CPU time); --start knows it")
    ap.add_argument("--start", action="store_true", help="start a server on a free port in a temp data dir")
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--threads", type=int, default=4, help="client threads for 1000-row batches")
    ap.add_argument("--single-threads", type=int, default=32, help="client threads for single events")
    ap.add_argument("--warmup", type=float, default=2.0,
                    help="seconds of 1000-row batches sent first and not measured (JIT caches, first parts)")
    ap.add_argument("--phases", default="batch,single,wait",
                    help="comma-separated subset of batch (1000-row bodies), single (1 event), wait (wait=true)")
    args = ap.parse_args()
    proc = data_dir = None
    if args.start:
        data_dir = tempfile.mkdtemp(prefix="mt-bench-")
        proc, args.port = start_server(data_dir, args.token)
        args.pid = proc.pid
    try:
        conn = http.client.HTTPConnection("127.0.0.1", args.port)
        conn.request("POST", "/v0/datasources?" + urllib.parse.urlencode({
            "name": "events", "schema": "event_id String, user_id String, event_type String, properties String, "
                                        "timestamp DateTime",
            "engine_sorting_key": "timestamp, user_id", "engine_partition_key": "toYYYYMM(timestamp)"}),
            headers={"Authorization": f"Bearer {args.token}"})
        conn.getresponse().read()
        if args.warmup > 0:
            run(args.port, args.token, args.threads, args.warmup, 1000, False)
        phases = {"batch": (1000, args.threads, False), "single": (1, args.single_threads, False),
                  "wait": (1000, args.threads, True)}
        for phase in args.phases.split(","):
            rows, threads, wait = phases[phase.strip()]
            print(json.dumps(run(args.port, args.token, threads, args.seconds, rows, wait, args.pid)))
        conn = http.client.HTTPConnection("127.0.0.1", args.port)
        conn.request("GET", "/v0/sql?q=" + urllib.parse.quote("SELECT count() AS c FROM events FORMAT JSONEachRow"),
                     headers={"Authorization": f"Bearer {args.token}"})
        print("rows in table:", conn.getresponse().read().decode().strip())
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait()
        if data_dir is not None:
            import shutil

            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
