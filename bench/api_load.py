"""A small HTTP/1.1 load generator for the API benchmarks, meant to run in its OWN process.

``python -m bench.api_load --port P --token T --clients 16 --duration 10 --users FILE`` opens
``clients`` keep-alive connections (one asyncio task each, raw HTTP/1.1 over asyncio streams, uvloop
when installed) and calls ``GET /v0/pipes/user_activity.json?user_id=..&days=30`` back to back on
each for ``duration`` seconds after ``warmup`` seconds; prints one JSON line: requests, errors,
req/s, p50/p99/max latency (ms) and the load generator's own CPU seconds. One process with one
thread keeps its CPU small (about 0.1 ms per request) so that on a 2-core machine it does not
starve the server it measures (16 Python threads with http.client did).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time

DEFAULT_PATH = "/v0/pipes/user_activity.json?user_id={user}&days=30"

async def _client(k: int, host: str, port: int, paths: list[bytes], token: str, stop: list, warmup_end: float,
                  lat: list, errors: list, answered: list, statuses: dict) -> None:
    rng = random.Random(k)
    head_tail = (f" HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
                 f"Connection: keep-alive\r\n\r\n").encode()
    reader = writer = None
    loop = asyncio.get_running_loop()
    while True:
        now = loop.time()
        if now >= stop[0]:
            break
        if writer is None:
            try:
                reader, writer = await asyncio.open_connection(host, port)
            except OSError:
                errors[0] += 1
                await asyncio.sleep(0.05)
                continue
        t = time.perf_counter()
        try:
            writer.write(b"GET " + paths[rng.randrange(len(paths))] + head_tail)
            status_line = await reader.readline()
            status = int(status_line.split(b" ", 2)[1])
            length, chunked, close = None, False, False
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b"\n", b""):
                    break
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"transfer-encoding" and b"chunked" in value.lower():
                    chunked = True
                elif name == b"connection" and b"close" in value.lower():
                    close = True
            if chunked:
                while True:
                    size = int((await reader.readline()).split(b";")[0], 16)
                    await reader.readexactly(size + 2)
                    if size == 0:
                        break
            elif length:
                await reader.readexactly(length)
        except (OSError, ValueError, IndexError, asyncio.IncompleteReadError):
            errors[0] += 1
            if writer is not None:
                writer.close()
            writer = None
            continue
        took = time.perf_counter() - t
        statuses[status] = statuses.get(status, 0) + 1
        if status != 200:
            errors[0] += 1
        else:
            answered[0] += 1
            if loop.time() >= warmup_end:
                lat.append(took)
        if close:
            writer.close()
            writer = None
    if writer is not None:
        writer.close()


async def run(host: str, port: int, token: str, users: list[str], clients: int, duration: float,
              warmup: float, path: str = DEFAULT_PATH) -> dict:
    paths = [path.format(user=u).encode() for u in users]
    loop = asyncio.get_running_loop()
    start = loop.time()
    stop = [start + warmup + duration]
    lat: list[float] = []
    errors = [0]
    answered = [0]
    statuses: dict = {}
    cpu0 = time.process_time()
    await asyncio.gather(*(_client(k, host, port, paths, token, stop, start + warmup, lat, errors, answered, statuses)
                           for k in range(clients)))
    cpu = time.process_time() - cpu0
    lat.sort()

    def pct(p):
        return lat[min(len(lat) - 1, int(len(lat) * p))] * 1000 if lat else float("nan")

    return {"clients": clients, "requests": len(lat), "errors": errors[0], "rps": len(lat) / duration,
            "p50_ms": pct(0.50), "p99_ms": pct(0.99), "max_ms": lat[-1] * 1000 if lat else float("nan"),
            "statuses": {str(k): v for k, v in statuses.items()}, "loadgen_cpu_s": cpu,
            "answered": answered[0]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--users", required=True, help="file of user ids, whitespace-separated")
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--duration", type=float, default=10.0)
    ap.add_argument("--warmup", type=float, default=1.0)
    ap.add_argument("--path", default=DEFAULT_PATH, help=f"request path, {{user}} = a user id (default {DEFAULT_PATH})")
    args = ap.parse_args(argv)
    users = open(args.users).read().split()
    try:
        import uvloop
        runner = uvloop.run
    except ImportError:
        runner = asyncio.run
    res = runner(run(args.host, args.port, args.token, users, args.clients, args.duration, args.warmup,
                          args.path))
    sys.stdout.write(json.dumps(res) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
