"""``python -m bench run --suite ingest``: how fast data gets in.

1. **Bulk file load**, per engine and per file format (the same generated events, seeded, as
   Parquet, NDJSON and CSV with a header): a fresh ``events`` table, then
   - mergetree: Parquet through the embedded API (one Block per row group, as the query suites load),
     NDJSON / CSV through ``INSERT INTO events FORMAT JSONEachRow / CSVWithNames`` with the file's
     bytes in chunks of about ``CHUNK_BYTES`` (what `mergetree sql` and the HTTP API do);
   - chDB: ``INSERT INTO events SELECT * FROM file(path, Parquet|JSONEachRow|CSVWithNames)``;
   - DuckDB: ``INSERT INTO events SELECT * FROM read_parquet|read_json|read_csv(path)``;
   timed from the statement to the committed data, reported as rows/s (and MB/s of the file).
2. **Events API** (mergetree only): ``mergetree serve`` in a separate process on 127.0.0.1, the
   ``events`` data source created through the Data Sources API, then for ``seconds`` each: NDJSON
   batches of 1,000 rows from ``threads`` keep-alive clients, and single-event requests (batches of
   1) from ``single_threads`` clients; rows/s, requests/s, p50/p99 latency. The server's row count
   afterwards must equal what was acknowledged (reported, and a mismatch is flagged).

Results are "measurements" (engine, name, value, unit); bench/report.py renders them as a table and
a bar chart.
"""

from __future__ import annotations

import datetime as _dt
import http.client
import json
import os
import shutil
import tempfile
import time
import urllib.parse
from pathlib import Path

CHUNK_BYTES = 16 << 20
FORMATS = ("Parquet", "NDJSON", "CSV")
TOKEN = "bench-ingest-admin-token-long-enough-for-hs256"


def prepare_files(rows: int, seed: int, data_dir: Path) -> dict[str, Path]:
    """The events as Parquet, NDJSON and CSV (cached in data_dir)."""
    from bench.gen_events import draw_codes, write_csv, write_ndjson, write_parquet

    data_dir.mkdir(parents=True, exist_ok=True)
    paths = {"Parquet": data_dir / f"events_{rows}_s{seed}.parquet",
             "NDJSON": data_dir / f"events_{rows}_s{seed}.ndjson",
             "CSV": data_dir / f"events_{rows}_s{seed}.csv"}
    writers = {"Parquet": write_parquet, "NDJSON": write_ndjson, "CSV": write_csv}
    codes = None
    for fmt, path in paths.items():
        if path.exists():
            continue
        if codes is None:
            codes = draw_codes(rows, seed)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        writers[fmt](tmp, codes=codes)
        os.replace(tmp, path)
    return paths


def _chunks(path: Path, skip_header: bool):
    """The file's bytes in pieces of about CHUNK_BYTES ending at a newline (header dropped)."""
    with open(path, "rb") as f:
        header = f.readline() if skip_header else b""
        rest = b""
        while True:
            block = f.read(CHUNK_BYTES)
            if not block:
                if rest:
                    yield header, rest
                return
            block = rest + block
            cut = block.rfind(b"\n") + 1
            rest = block[cut:]
            if cut:
                yield header, block[:cut]


def _load_mergetree(store: Path, fmt: str, path: Path, dataset) -> int:
    import mergetree
    from bench.engines import parquet_blocks

    db = mergetree.connect(str(store), background_merges=False)
    try:
        db.sql(f"CREATE TABLE events ({dataset.schema}) ENGINE = MergeTree ORDER BY ({dataset.order_by})")
        if fmt == "Parquet":
            for block in parquet_blocks(path, dataset):
                db.insert("events", block)
        else:                       # NDJSON
            for _, chunk in _chunks(path, skip_header=False):
                db.sql("INSERT INTO events FORMAT JSONEachRow", data=chunk)
        return db.sql("SELECT count() FROM events").rows[0][0]
    finally:
        db.close()


def _load_mergetree_csv_chunks(path: Path):
    """CSV chunks each starting with the header line (CSVWithNames per INSERT)."""
    with open(path, "rb") as f:
        header = f.readline()
    for i, (_, chunk) in enumerate(_chunks(path, skip_header=False)):
        yield chunk if i == 0 else header + chunk


def _load_chdb(session, fmt: str, path: Path, dataset) -> int:
    session.query("DROP TABLE IF EXISTS events")
    session.query(f"CREATE TABLE events ({dataset.schema}) ENGINE = MergeTree ORDER BY ({dataset.order_by})")
    name = {"Parquet": "Parquet", "NDJSON": "JSONEachRow", "CSV": "CSVWithNames"}[fmt]
    session.query(f"INSERT INTO events SELECT * FROM file('{path}', {name}, '{dataset.schema}')")
    return int(session.query("SELECT count() FROM events", "CSV").bytes().decode().strip())


def _load_duckdb(con, fmt: str, path: Path, dataset) -> int:
    con.execute("DROP TABLE IF EXISTS events")
    cols = ", ".join(f"{n} {'TIMESTAMP' if t.startswith('DateTime') else 'VARCHAR'}" for n, t in dataset.columns())
    con.execute(f"CREATE TABLE events ({cols})")
    reader = {"Parquet": f"read_parquet('{path}')",
              "NDJSON": f"read_json('{path}', format='newline_delimited', columns={{"
                        + ", ".join(f"'{n}': '{'TIMESTAMP' if t.startswith('DateTime') else 'VARCHAR'}'"
                                    for n, t in dataset.columns()) + "})",
              "CSV": f"read_csv('{path}', header=true, columns={{"
                     + ", ".join(f"'{n}': '{'TIMESTAMP' if t.startswith('DateTime') else 'VARCHAR'}'"
                                 for n, t in dataset.columns()) + "})"}[fmt]
    con.execute(f"INSERT INTO events SELECT * FROM {reader}")
    return con.execute("SELECT count(*) FROM events").fetchone()[0]


def bulk_load(engines: list[str], files: dict[str, Path], rows: int, work: Path, say) -> list[dict]:
    from bench.datasets import get

    dataset = get("events")
    out = []
    if "mergetree" in engines:          # numba caches and lazy imports are not ingest time
        from bench.engines import MergeTreeEngine

        warm = MergeTreeEngine(work / "_warmup")
        warm.warm_up()
        warm.close()
    for e in engines:
        for fmt in FORMATS:
            path = files[fmt]
            rec = {"engine": e, "name": f"bulk load {fmt}", "unit": "rows/s", "file_bytes": path.stat().st_size}
            store = work / f"{e}_{fmt}"
            shutil.rmtree(store, ignore_errors=True)
            store.mkdir(parents=True)
            try:
                t = time.perf_counter()
                if e == "mergetree":
                    if fmt == "CSV":
                        n = _load_mergetree_csv(store, path, dataset)
                    else:
                        n = _load_mergetree(store, fmt, path, dataset)
                elif e == "chdb":
                    n = _load_chdb(_chdb_session(work), fmt, path, dataset)
                elif e == "duckdb":
                    import duckdb

                    con = duckdb.connect(str(store / "db.duckdb"))
                    try:
                        con.execute("SET TimeZone = 'UTC'")
                        n = _load_duckdb(con, fmt, path, dataset)
                    finally:
                        con.close()
                else:
                    continue
                secs = time.perf_counter() - t
                rec.update(seconds=secs, value=rows / secs, mb_per_s=path.stat().st_size / secs / 1e6, rows=n,
                           status="ok" if n == rows else "MISMATCH",
                           detail=None if n == rows else f"{n} rows loaded, expected {rows}")
            except Exception as ex:  # noqa: BLE001 - reported, not raised
                rec.update(status="error", detail=f"{type(ex).__name__}: {str(ex).splitlines()[0][:200]}")
            say(f"{e}: {rec['name']}: " + (f"{rec['value']:,.0f} rows/s" if rec.get("value") else rec["detail"]))
            out.append(rec)
            shutil.rmtree(store, ignore_errors=True)
    _close_chdb()
    return out


def _load_mergetree_csv(store: Path, path: Path, dataset) -> int:
    import mergetree

    db = mergetree.connect(str(store), background_merges=False)
    try:
        db.sql(f"CREATE TABLE events ({dataset.schema}) ENGINE = MergeTree ORDER BY ({dataset.order_by})")
        for chunk in _load_mergetree_csv_chunks(path):
            db.sql("INSERT INTO events FORMAT CSVWithNames", data=chunk)
        return db.sql("SELECT count() FROM events").rows[0][0]
    finally:
        db.close()


_CHDB: list = []


def _chdb_session(work: Path):
    if not _CHDB:
        from chdb import session

        _CHDB.append(session.Session(str(work / "chdb")))
        _CHDB[0].query("SET session_timezone = 'UTC'")
    return _CHDB[0]


def _close_chdb():
    while _CHDB:
        _CHDB.pop().close()


# --------------------------------------------------------------------------- Events API


def events_api(seconds: float, threads: int, single_threads: int, say) -> list[dict]:
    from bench.bench_server_events import run as load_run
    from bench.bench_server_events import start_server

    data = Path(tempfile.mkdtemp(prefix="bench-ingest-serve-"))
    proc = None
    out = []
    try:
        proc, port = start_server(str(data), TOKEN)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.request("POST", "/v0/datasources?" + urllib.parse.urlencode({
            "name": "events", "schema": "event_id String, user_id String, event_type String, properties String, "
                                        "timestamp DateTime",
            "engine_sorting_key": "timestamp, user_id"}), headers={"Authorization": f"Bearer {TOKEN}"})
        r = conn.getresponse()
        body = r.read()
        if r.status >= 300:
            raise RuntimeError(f"creating the data source: HTTP {r.status} {body[:200]!r}")
        acked = 0
        for rows, n_threads, label in ((1000, threads, "Events API, batches of 1,000 rows"),
                                       (1, single_threads, "Events API, batches of 1 row")):
            res = load_run(port, TOKEN, n_threads, seconds, rows, False)
            acked += res["requests"] * rows
            rec = {"engine": "mergetree", "name": label, "unit": "rows/s", "value": res["rows_per_s"],
                   "req_per_s": res["req_per_s"], "p50_ms": res["p50_ms"], "p99_ms": res["p99_ms"],
                   "threads": n_threads, "seconds": seconds, "requests": res["requests"],
                   "errors": res["errors"], "status": "ok" if not res["errors"] else "error",
                   "detail": f"{res['errors']} failed requests" if res["errors"] else None}
            say(f"mergetree: {label}: {rec['value']:,.0f} rows/s, {rec['req_per_s']:,.0f} req/s, "
                f"p50 {rec['p50_ms']} ms, p99 {rec['p99_ms']} ms")
            out.append(rec)
        # everything acknowledged is readable (the WAL is flushed into parts in the background)
        deadline = time.monotonic() + 60
        count = -1
        conn.close()            # the load phases took long enough for the server to drop it
        while time.monotonic() < deadline:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            try:
                c.request("GET", "/v0/sql?q=" + urllib.parse.quote("SELECT count() AS c FROM events FORMAT JSON"),
                          headers={"Authorization": f"Bearer {TOKEN}"})
                r = c.getresponse()
                text = r.read()
                if r.status == 200:
                    count = json.loads(text)["data"][0]["c"]
                    if int(count) >= acked:
                        break
            except (OSError, http.client.HTTPException):
                pass
            finally:
                c.close()
            time.sleep(0.5)
        for rec in out:
            rec["acknowledged_rows_total"] = acked
            rec["rows_in_table"] = int(count)
            if int(count) != acked:
                rec["status"] = "MISMATCH"
                rec["detail"] = f"{count} rows in the table, {acked} acknowledged"
    except Exception as ex:  # noqa: BLE001 - reported
        out.append({"engine": "mergetree", "name": "Events API", "unit": "rows/s", "status": "error",
                    "detail": f"{type(ex).__name__}: {str(ex).splitlines()[0][:200] if str(ex) else ''}"})
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except Exception:  # noqa: BLE001
                proc.kill()
        shutil.rmtree(data, ignore_errors=True)
    return out


def run_ingest(cfg, *, seconds: float = 5.0, threads: int = 4, single_threads: int = 8) -> dict:
    """The ingest suite for `cfg` (bench.runner.RunConfig): a results dict with `measurements`."""
    from bench.engines import available
    from bench.runner import machine_info, package_versions

    say = cfg.log or (lambda s: None)
    started = _dt.datetime.now(_dt.timezone.utc)
    engines, skipped = available(cfg.engines)
    for e, why in skipped.items():
        say(f"skipping {e}: {why}")
    say(f"generating {cfg.rows:,} events as Parquet, NDJSON, CSV ...")
    files = prepare_files(cfg.rows, cfg.seed, Path(cfg.data_dir))
    work = Path(cfg.work_dir) if cfg.work_dir else Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    try:
        measurements = bulk_load(engines, files, cfg.rows, work, say)
    finally:
        if not cfg.work_dir:
            shutil.rmtree(work, ignore_errors=True)
    if "mergetree" in engines:
        measurements += events_api(seconds, threads, single_threads, say)
    return {
        "format": "mergetree-bench/1", "suite": "ingest", "dataset": "events",
        "started": started.isoformat(timespec="seconds"),
        "finished": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "rows": cfg.rows, "seed": cfg.seed, "repeat": 1, "threads": cfg.threads,
        "data": {fmt: {"path": str(p), "bytes": p.stat().st_size} for fmt, p in files.items()},
        "machine": machine_info(), "packages": package_versions(), "skipped_engines": skipped,
        "measurements": measurements,
    }
