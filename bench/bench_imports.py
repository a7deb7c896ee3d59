"""Data Sources API url= imports: rows/s of one import job per format (CSV, NDJSON, Parquet, gzip CSV).

    python -m bench.bench_imports --rows 200000

Files are generated into a temporary directory and served by a local http.server on 127.0.0.1; the
service runs in-process (starlette TestClient) and each import is timed from the POST to the job's
``done``, with the process CPU time over the same span (the machine is shared: CPU/row is the
steadier number).
"""

from __future__ import annotations

import argparse
import functools
import gzip
import http.server
import io
import json
import resource
import tempfile
import threading
import time
from pathlib import Path

SCHEMA = "`id` UInt64, `user_id` String, `event` String, `ts` DateTime, `value` Float64"


def make_files(root: Path, n: int) -> dict[str, bytes]:
    ids = range(n)
    csv_text = "".join(f"{i},user_{i % 1000},click,2026-01-{1 + i % 28:02d} 10:00:00,{i * 0.5}\n" for i in ids)
    ndjson = "".join(json.dumps({"id": i, "user_id": f"user_{i % 1000}", "event": "click",
                                 "ts": f"2026-01-{1 + i % 28:02d} 10:00:00", "value": i * 0.5}) + "\n" for i in ids)
    files = {"events.csv": csv_text.encode(), "events.ndjson": ndjson.encode(),
             "events.csv.gz": gzip.compress(csv_text.encode(), 1)}
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq

        import datetime as dt
        table = pa.table({"id": pa.array(list(ids), pa.uint64()), "user_id": [f"user_{i % 1000}" for i in ids],
                          "event": ["click"] * n,
                          "ts": pa.array([dt.datetime(2026, 1, 1 + i % 28, 10) for i in ids], pa.timestamp("s")),
                          "value": [i * 0.5 for i in ids]})
        buf = io.BytesIO()
        pq.write_table(table, buf)
        files["events.parquet"] = buf.getvalue()
    except ImportError:
        pass
    for name, data in files.items():
        (root / name).write_bytes(data)
    return files


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=200_000)
    args = ap.parse_args()
    from starlette.testclient import TestClient

    from mergetree.server.app import create_app

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "files").mkdir()
        files = make_files(root / "files", args.rows)
        handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root / "files"))
        handler.log_message = lambda *a: None
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_address[1]}"
        app = create_app(root / "data", admin_token="t", flush_interval=3600)
        h = {"Authorization": "Bearer t"}
        print(f"{'file':<16}{'bytes':>12}{'rows':>10}{'wall s':>9}{'rows/s':>12}{'CPU us/row':>12}{'max RSS MB':>12}")
        with TestClient(app) as c:
            # warm-up (numba kernels, imports): a small CSV and NDJSON import into a scratch data source
            c.post("/v0/datasources", params={"name": "warmup", "schema": SCHEMA, "engine_sorting_key": "ts, id"},
                   headers=h).raise_for_status()
            for name in ("events.csv", "events.ndjson"):
                head = files[name][:files[name].index(b"\n", 100_000) + 1]
                c.post(f"/v0/datasources?mode=append&name=warmup&format={name.split('.')[1]}", content=head,
                       headers=h).raise_for_status()
            for name in files:
                ds = name.replace(".", "_")
                c.post("/v0/datasources", params={"name": ds, "schema": SCHEMA, "engine_sorting_key": "ts, id"},
                       headers=h).raise_for_status()
                t0, c0 = time.perf_counter(), time.process_time()
                job = c.post("/v0/datasources", params={"mode": "append", "name": ds, "url": f"{base}/{name}"},
                             headers=h).json()
                while job["status"] not in ("done", "error"):
                    time.sleep(0.01)
                    job = c.get(f"/v0/jobs/{job['id']}", headers=h).json()
                wall, cpu = time.perf_counter() - t0, time.process_time() - c0
                rows = job.get("statistics", {}).get("row_count", 0)
                if job["status"] != "done" or rows != args.rows:
                    print(f"{name}: {job['status']} {job.get('error')} rows={rows}")
                    continue
                rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                print(f"{name:<16}{len(files[name]):>12}{rows:>10}{wall:>9.2f}{rows / wall:>12,.0f}"
                      f"{cpu / rows * 1e6:>12.2f}{rss:>12.0f}")
        server.shutdown()
        server.server_close()


if __name__ == "__main__":
    main()
