"""Storage benchmark report: mergetree vs chDB's MergeTree on the same generated events.

    python -m bench.storage_report --rows 1M [--rows 10M] [--engines mergetree,chdb]
                                   [--workdir DIR] [--keep] [--json results.json] [--chdb-fsync]

For each row count the events (bench/gen_events.py, seed 42, unsorted) are generated once and
saved; then every engine runs three phases, each in a fresh subprocess so that peak memory
(VmHWM) is per phase and chDB gets its one data path per process:

* **insert**: inserts of pre-built column blocks of ``min(rows, 1M)`` rows into ``events``,
  background merges off.  Below 10M rows the merge input is a second table ``events_merge``
  loaded with ``rows/10``-row blocks (timed too: "small blocks"), so that every engine merges
  ~10 parts per partition.  mergetree gets ``mergetree.column.Block`` objects (after an untimed
  warm-up that compiles/loads the numba kernels); chDB gets the same rows as ClickHouse
  ``Native`` files (its own column layout) via ``INSERT ... SELECT * FROM file(..., Native)``.
* **merge**: ``OPTIMIZE TABLE <merge table> FINAL`` (rows/s over all rows), then bytes on disk
  of the active parts.  chDB merges in its insert process (a reopened table would start
  background merges by itself), so its merge RSS is the joint peak.
* **scan** (of the merged table): a full read of ``timestamp`` (numeric) and of ``properties``
  (String), best of 5.  mergetree: ``table.read(columns=[...])`` and ``DataPart.read`` per part;
  chDB: ``SELECT sum(toUInt32(timestamp))`` / ``sum(length(properties))`` with its default
  threads and with ``max_threads = 1``.  The sums are checked against the generator: a wrong
  answer is reported, not timed.

Rates are wall clock; CPU seconds of the process (all threads) are shown beside insert and merge
times because they are less disturbed by other load on the machine.  mergetree fsyncs every
part; ClickHouse does not by default (``--chdb-fsync`` turns on ``fsync_after_insert`` and
``fsync_part_directory`` for a durability-equivalent comparison).

Decoded bytes: 4 B/row for DateTime; String = data bytes + 8 B/row of offsets (both engines are
credited with the same byte count).  Ratios are mergetree / chDB: > 1 means mergetree is faster
for throughputs, and < 1 means mergetree is smaller for bytes and memory.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench import gen_events as ge

RESULT_PREFIX = "RESULT "
SCHEMA_SQL = ("event_id String, user_id String, event_type String, properties String, "
              "timestamp DateTime")
NATIVE_STRUCT = ("event_id String, user_id String, event_type String, properties String, "
                 "timestamp DateTime('UTC')")


def _maxrss_mb() -> float:
    """Peak RSS of this process image: VmHWM (ru_maxrss would carry the parent's peak, which
    Linux keeps across fork + exec)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def _rss_mb() -> float:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return float("nan")


def _dir_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file())


def _best_of(fn, repeat: int = 5):
    best, value = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - t0)
    return best, value


# ============================================================================== data preparation


def block_rows_for(rows: int) -> int:
    return max(1, min(1_000_000, rows // 10)) if rows < 10_000_000 else 1_000_000


def prepare_data(data_dir: Path, rows: int, seed: int, with_native: bool) -> dict:
    """Generate the events once; save columns as .npy (mergetree input) and, for chDB, one
    Native file per insert block (converted by chDB from NDJSON, in a subprocess)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    codes = ge.draw_codes(rows, seed)
    cols = ge.generate_events(rows, seed, codes=codes)
    gen_s = time.perf_counter() - t0
    for k in ge.COLUMNS[:4]:
        np.save(data_dir / f"{k}.offsets.npy", cols[k].offsets)
        np.save(data_dir / f"{k}.data.npy", cols[k].data)
    np.save(data_dir / "timestamp.npy", cols["timestamp"])
    expected = {
        "rows": rows,
        "sum_timestamp": int(cols["timestamp"].astype(np.int64).sum()),
        "sum_len_properties": int(cols["properties"].offsets[-1]),
        "uniq_users": int(len(np.unique(codes.user))),
        "decoded_bytes": {
            "timestamp": 4 * rows,
            "properties": int(cols["properties"].data.nbytes) + 8 * rows,
        },
        "input_bytes": int(sum(v.nbytes for v in cols.values())),
        "generate_s": gen_s,
    }
    block = block_rows_for(rows)
    expected["block_rows"] = block  # merge-input block size
    expected["insert_block_rows"] = max(1, min(rows, 1_000_000))
    if with_native:
        t0 = time.perf_counter()
        ndjson = []
        for i, a in enumerate(range(0, rows, block)):
            p = data_dir / f"block_{i:04d}.ndjson"
            ge.write_ndjson(p, codes=codes.slice(a, a + block))
            ndjson.append(str(p))
        r = _run_worker("chdb", "prep", data_dir, data_dir, block, extra=["--files", *ndjson])
        for p in ndjson:
            os.unlink(p)
        if "error" in r:
            expected["native_error"] = r["error"]
        expected["native_prep_s"] = time.perf_counter() - t0
    (data_dir / "expected.json").write_text(json.dumps(expected))
    return expected


def _load_columns(data_dir: Path) -> dict:
    out = {}
    for k in ge.COLUMNS[:4]:
        out[k] = ge.Strings(np.load(data_dir / f"{k}.offsets.npy"), np.load(data_dir / f"{k}.data.npy"))
    out["timestamp"] = np.load(data_dir / "timestamp.npy")
    return out


# ============================================================================== workers


def _warmup_rows(expected: dict) -> int:
    return max(2_000, min(100_000, expected.get("rows", 1_000_000) // 10))


def _mergetree_warmup(db_dir: Path, merge: bool, rows: int = 100_000) -> float:
    """Insert (and merge) 2 x rows/2 generated rows in a throwaway database so that numba's
    compile/cache-load cost (incl. size-dependent specialisations) is not in the timed phase;
    returns the seconds it took."""
    import mergetree

    t0 = time.perf_counter()
    d = db_dir.parent / (db_dir.name + ".warmup")
    shutil.rmtree(d, ignore_errors=True)
    db = mergetree.connect(str(d), background_merges=False)
    db.create_table("events", schema=SCHEMA_SQL, engine="MergeTree", order_by="timestamp, user_id",
                    partition_by="toYYYYMM(timestamp)")
    small = ge.events_block(ge.generate_events(rows, seed=1))
    db.insert("events", small.slice(0, rows // 2))
    db.insert("events", small.slice(rows // 2, rows))
    if merge:
        db.optimize("events", final=True)
    db.table("events").read(columns=["timestamp", "properties"])
    db.close()
    shutil.rmtree(d, ignore_errors=True)
    return time.perf_counter() - t0


def _mergetree_worker(phase: str, data_dir: Path, db_dir: Path, block_rows: int, expected: dict) -> dict:
    import mergetree

    res: dict = {"baseline_rss_mb": _rss_mb()}
    if phase == "insert":
        cols = _load_columns(data_dir)
        full = ge.events_block(cols)
        n = full.num_rows
        big = expected.get("insert_block_rows", block_rows)

        def split(size):
            return [full.slice(a, min(n, a + size)) for a in range(0, n, size)]

        loads = [("events", split(big), res)]
        if block_rows < big:
            res["small"] = {"block_rows": block_rows}
            loads.append(("events_merge", split(block_rows), res["small"]))
        del full, cols
        res["warmup_s"] = _mergetree_warmup(db_dir, merge=False, rows=_warmup_rows(expected))
        res["rss_before_mb"] = _rss_mb()
        if db_dir.exists():
            shutil.rmtree(db_dir)
        db = mergetree.connect(str(db_dir), background_merges=False)
        for table, blocks, out in loads:
            db.create_table(table, schema=SCHEMA_SQL, engine="MergeTree", order_by="timestamp, user_id",
                            partition_by="toYYYYMM(timestamp)")
            t0, c0 = time.perf_counter(), time.process_time()
            for b in blocks:
                db.insert(table, b)
            out["seconds"] = time.perf_counter() - t0
            out["cpu_s"] = time.process_time() - c0
            parts = db.table(table).parts()
            out["parts"] = len(parts)
            out["rows"] = sum(p["rows"] for p in parts)
            out["bytes_on_disk"] = sum(p["bytes_on_disk"] for p in parts)
            out["inserts"] = len(blocks)
        db.close()
    elif phase == "merge":
        res["warmup_s"] = _mergetree_warmup(db_dir, merge=True, rows=_warmup_rows(expected))
        db = mergetree.connect(str(db_dir), background_merges=False)
        table = res["table"] = "events_merge" if "events_merge" in db.tables() else "events"
        res["parts_before"] = len(db.table(table).parts())
        t0, c0 = time.perf_counter(), time.process_time()
        db.optimize(table, final=True)
        res["seconds"] = time.perf_counter() - t0
        res["cpu_s"] = time.process_time() - c0
        parts = db.table(table).parts()
        res["parts"] = len(parts)
        res["rows"] = sum(p["rows"] for p in parts)
        res["bytes_on_disk"] = sum(p["bytes_on_disk"] for p in parts)
        res["levels"] = sorted({p["level"] for p in parts})
        db.close()
        res["dir_bytes"] = _dir_bytes(db_dir / table)
    elif phase == "scan":
        db = mergetree.connect(str(db_dir), background_merges=False)
        table = res["table"] = "events_merge" if "events_merge" in db.tables() else "events"
        t = db.table(table)

        def read_ts():
            return int(t.read(columns=["timestamp"])["timestamp"].values.astype(np.int64).sum())

        def read_props():
            c = t.read(columns=["properties"])["properties"]
            return int(c.offsets[-1])

        res["timestamp_s"], res["sum_timestamp"] = _best_of(read_ts)
        res["properties_s"], res["sum_len_properties"] = _best_of(read_props)
        try:
            from mergetree.storage.part import DataPart
        except ImportError as e:
            res["part_read_error"] = f"mergetree.storage.part unavailable: {e}"
        else:
            paths = [p["path"] for p in t.parts()]
            parts = [DataPart.open(Path(p), verify=False) for p in paths]

            def part_ts():
                return int(sum(p.read(["timestamp"])["timestamp"].values.astype(np.int64).sum()
                               for p in parts))

            def part_props():
                return int(sum(int(p.read(["properties"])["properties"].offsets[-1]) for p in parts))

            res["part_timestamp_s"], res["part_sum_timestamp"] = _best_of(part_ts)
            res["part_properties_s"], res["part_sum_len_properties"] = _best_of(part_props)
        db.close()
    else:
        raise ValueError(f"unknown phase {phase!r}")
    return res


def _chdb_worker(phase: str, data_dir: Path, db_dir: Path, block_rows: int, expected: dict,
                 files: list[str]) -> dict:
    import chdb
    from chdb import session

    res: dict = {"chdb_version": getattr(chdb, "__version__", "?"),
                 "fsync": os.environ.get("MT_BENCH_CHDB_FSYNC") == "1"}
    if phase == "prep":
        for i, f in enumerate(files):
            out = data_dir / f"block_{i:04d}.native"
            chdb.query(
                f"INSERT INTO FUNCTION file('{out}', 'Native', \"{NATIVE_STRUCT}\") "
                f"SELECT * FROM file('{f}', JSONEachRow, \"{NATIVE_STRUCT}\") "
                f"SETTINGS engine_file_truncate_on_insert = 1")
        return res
    sess = session.Session(str(db_dir))
    res["baseline_rss_mb"] = _rss_mb()

    def q(sql: str) -> list[list[str]]:
        out = sess.query(sql, "TabSeparated").bytes().decode()
        return [line.split("\t") for line in out.splitlines()]

    def parts_stats(table):
        [[n, rows, nbytes]] = q("SELECT count(), sum(rows), sum(bytes_on_disk) FROM system.parts "
                                f"WHERE active AND database = currentDatabase() AND table = '{table}'")
        return int(n), int(rows), int(nbytes)

    def merge_table():
        return "events_merge" if q("EXISTS TABLE events_merge")[0][0] == "1" else "events"

    [[res["server_version"]]] = q("SELECT version()")
    if phase == "insert":
        natives = sorted(data_dir.glob("block_*.native"))
        if not natives:
            raise RuntimeError(f"no Native block files in {data_dir}")
        big = expected.get("insert_block_rows", block_rows)
        # 1M-row blocks into `events`: one INSERT per Native file, or one INSERT over all files when
        # they are smaller (ClickHouse squashes its input into blocks of max_insert_block_size rows)
        loads = [("events", [str(f) for f in natives] if block_rows >= big else
                  [str(data_dir / "block_*.native")], res)]
        if block_rows < big:
            res["small"] = {"block_rows": block_rows}
            loads.append(("events_merge", [str(f) for f in natives], res["small"]))
        for table, files, out in loads:
            q(f"DROP TABLE IF EXISTS {table} SYNC")
            q(f"CREATE TABLE {table} ({SCHEMA_SQL}) ENGINE = MergeTree "
              f"PARTITION BY toYYYYMM(timestamp) ORDER BY (timestamp, user_id)" + (
                  " SETTINGS fsync_after_insert = 1, fsync_part_directory = 1" if res["fsync"] else ""))
            q(f"SYSTEM STOP MERGES {table}")
            t0, c0 = time.perf_counter(), time.process_time()
            for f in files:
                q(f"INSERT INTO {table} SELECT * FROM file('{f}', Native)")
            out["seconds"] = time.perf_counter() - t0
            out["cpu_s"] = time.process_time() - c0
            out["parts"], out["rows"], out["bytes_on_disk"] = parts_stats(table)
            out["inserts"] = len(files)
        res["insert_maxrss_mb"] = _maxrss_mb()
        # merge in the same process: a reopened table would start background merges on its own
        table = merge_table()
        res["merge"] = m = {"table": table, "parts_before": parts_stats(table)[0]}
        q(f"SYSTEM START MERGES {table}")
        t0, c0 = time.perf_counter(), time.process_time()
        q(f"OPTIMIZE TABLE {table} FINAL")
        m["seconds"] = time.perf_counter() - t0
        m["cpu_s"] = time.process_time() - c0
        m["parts"], m["rows"], m["bytes_on_disk"] = parts_stats(table)
        [[lv]] = q(f"SELECT groupUniqArray(level) FROM system.parts WHERE active AND table = '{table}'")
        m["levels"] = lv
        m["maxrss_mb"] = _maxrss_mb()
    elif phase == "scan":
        def run(sql):
            return lambda: int(q(sql)[0][0])

        table = res["table"] = merge_table()
        [[res["max_threads"]]] = q("SELECT getSetting('max_threads')")
        # default threads, then one thread ("t1_"): mergetree's reads are single-threaded
        for prefix, extra in (("", ""), ("t1_", ", max_threads = 1")):
            res[prefix + "timestamp_s"], res[prefix + "sum_timestamp"] = _best_of(
                run(f"SELECT sum(toUInt32(timestamp)) FROM {table} SETTINGS max_threads = "
                    f"{res['max_threads'] if not prefix else 1}"))
            res[prefix + "properties_s"], res[prefix + "sum_len_properties"] = _best_of(
                run(f"SELECT sum(length(properties)) FROM {table} "  # without the setting only
                    f"SETTINGS optimize_functions_to_subcolumns = 0{extra}"))  # sizes are read
    else:
        raise ValueError(f"unknown phase {phase!r}")
    sess.close()
    return res


def worker_main(args) -> int:
    data_dir, db_dir = Path(args.data), Path(args.db)
    exp_path = data_dir / "expected.json"
    expected = json.loads(exp_path.read_text()) if exp_path.exists() else {}
    try:
        if args.worker == "mergetree":
            res = _mergetree_worker(args.phase, data_dir, db_dir, args.block_rows, expected)
        else:
            res = _chdb_worker(args.phase, data_dir, db_dir, args.block_rows, expected, args.files or [])
    except Exception as e:  # reported in the table, with the traceback on stderr
        import traceback

        traceback.print_exc()
        res = {"error": f"{type(e).__name__}: {e}"[:300]}
    res["maxrss_mb"] = res.get("maxrss_mb", _maxrss_mb())
    if "merge" in res:
        res["merge"].setdefault("maxrss_mb", res["maxrss_mb"])
    print(RESULT_PREFIX + json.dumps(res), flush=True)
    return 0


def _run_worker(engine: str, phase: str, data_dir: Path, db_dir: Path, block_rows: int,
                extra: list[str] | None = None, timeout: float = 3600) -> dict:
    cmd = [sys.executable, "-m", "bench.storage_report", "--worker", engine, "--phase", phase,
           "--data", str(data_dir), "--db", str(db_dir), "--block-rows", str(block_rows), *(extra or [])]
    root = Path(__file__).resolve().parent.parent
    env = dict(os.environ, PYTHONPATH=str(root) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    t0 = time.perf_counter()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=root, env=env)
    except subprocess.TimeoutExpired:
        return {"error": f"timeout after {timeout:.0f}s"}
    for line in reversed(p.stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            res = json.loads(line[len(RESULT_PREFIX):])
            res["wall_s"] = time.perf_counter() - t0
            if "error" in res:
                sys.stderr.write(f"[{engine} {phase}] {p.stderr[-3000:]}\n")
            return res
    return {"error": f"worker exited {p.returncode}: {p.stderr.strip()[-500:]}"}


# ============================================================================== orchestration


def run_rows(rows: int, engines: list[str], workdir: Path, seed: int, log) -> dict:
    data_dir = workdir / f"data_{rows}"
    log(f"== {rows:,} rows: generating into {data_dir}")
    exp = prepare_data(data_dir, rows, seed, with_native="chdb" in engines)
    log(f"   generated in {exp['generate_s']:.1f}s; block_rows={exp['block_rows']:,}")
    out = {"rows": rows, "expected": exp, "engines": {}}
    for eng in engines:
        db_dir = workdir / f"{eng}_{rows}"
        if db_dir.exists():
            shutil.rmtree(db_dir)
        r = out["engines"][eng] = {}
        log(f"   {eng}: insert")
        r["insert"] = _run_worker(eng, "insert", data_dir, db_dir, exp["block_rows"])
        if eng == "chdb":
            r["merge"] = r["insert"].pop("merge", {"error": r["insert"].get("error", "no merge result")})
            if "insert_maxrss_mb" in r["insert"]:
                r["insert"]["maxrss_mb"] = r["insert"].pop("insert_maxrss_mb")
        elif "error" not in r["insert"]:
            log(f"   {eng}: merge")
            r["merge"] = _run_worker(eng, "merge", data_dir, db_dir, exp["block_rows"])
        else:
            r["merge"] = {"error": "skipped (insert failed)"}
        if "error" not in r["insert"]:
            log(f"   {eng}: scan")
            r["scan"] = _run_worker(eng, "scan", data_dir, db_dir, exp["block_rows"])
        else:
            r["scan"] = {"error": "skipped (insert failed)"}
        for ph in ("insert", "merge", "scan"):
            if "error" in r[ph]:
                log(f"   {eng} {ph}: ERROR {r[ph]['error']}")
    return out


# ============================================================================== report


def _si(x: float, unit: str = "") -> str:
    for div, suf in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= div:
            return f"{x / div:.2f}{suf}{unit}"
    return f"{x:.3g}{unit}"


def _cpu(r: dict) -> str:
    return f" wall, {r['cpu_s']:.2f}s CPU" if "cpu_s" in r else ""


def _rows_check(r: dict, rows: int) -> str:
    return "" if r.get("rows") == rows else f" WRONG row count {r.get('rows')}"


def _rss_text(r: dict) -> str:
    base = r.get("baseline_rss_mb")
    extra = f" (process baseline {base:.0f})" if base else ""
    if r.get("rss_before_mb"):
        extra += f" (with input loaded {r['rss_before_mb']:.0f})"
    return f"{r['maxrss_mb']:.0f}{extra}"


def metrics(run: dict, eng: str) -> dict[str, tuple[float | None, str]]:
    """metric name -> (value, display text); value None when unavailable."""
    exp = run["expected"]
    r = run["engines"].get(eng, {})
    rows = exp["rows"]
    m: dict[str, tuple] = {}

    def err(ph):
        e = r.get(ph, {}).get("error")
        return f"n/a ({e})" if e else None

    ins = r.get("insert", {})
    if err("insert"):
        m["insert rows/s"] = (None, err("insert"))
    else:
        v = rows / ins["seconds"]
        m["insert rows/s"] = (v, f"{_si(v)} ({ins['seconds']:.2f}s{_cpu(ins)}, {ins.get('inserts', '?')} insert(s), "
                                 f"{ins['parts']} parts)" + _rows_check(ins, rows))
        if ins.get("cpu_s"):
            v = rows / ins["cpu_s"]
            m["insert rows per CPU-second"] = (v, _si(v))
        if "small" in ins:
            sm = ins["small"]
            v = rows / sm["seconds"]
            m["insert rows/s, small blocks"] = (
                v, f"{_si(v)} ({sm['seconds']:.2f}s{_cpu(sm)}, {sm['inserts']} x {sm['block_rows']:,} rows, "
                   f"{sm['parts']} parts)" + _rows_check(sm, rows))
        m["insert peak RSS MB"] = (ins["maxrss_mb"], _rss_text(ins))
    mg = r.get("merge", {})
    if err("merge"):
        m["OPTIMIZE FINAL rows/s"] = (None, err("merge"))
    else:
        v = rows / mg["seconds"]
        ok = mg["rows"] == rows
        m["OPTIMIZE FINAL rows/s"] = (
            v if ok else None,
            f"{_si(v)} ({mg['seconds']:.2f}s{_cpu(mg)}, {mg['parts_before']}->{mg['parts']} parts)"
            + ("" if ok else f" WRONG row count {mg['rows']}"))
        if mg.get("cpu_s") and ok:
            v = rows / mg["cpu_s"]
            m["OPTIMIZE FINAL rows per CPU-second"] = (v, _si(v))
        m["bytes on disk / row"] = (mg["bytes_on_disk"] / rows, f"{mg['bytes_on_disk'] / rows:.1f}")
        if eng == "chdb":  # merged in the insert process (see _chdb_worker): a joint peak
            m["merge peak RSS MB"] = (None, f"{mg['maxrss_mb']:.0f} (insert + merge process)")
        else:
            m["merge peak RSS MB"] = (mg["maxrss_mb"], _rss_text(mg))
    sc = r.get("scan", {})
    if err("scan"):
        m["scan timestamp rows/s"] = (None, err("scan"))
    else:
        for col, key, sumkey in (("timestamp", "timestamp_s", "sum_timestamp"),
                                 ("properties", "properties_s", "sum_len_properties")):
            for prefix, label in (("", ""), ("part_", " (DataPart.read)"), ("t1_", ", 1 thread")):
                if prefix == "t1_" and eng == "mergetree" and key in sc:  # mergetree reads: 1 thread
                    m[f"scan {col}{label} rows/s"] = (m[f"scan {col} rows/s"][0], "(as above)")
                    continue
                if prefix + key not in sc:
                    if prefix and sc.get("part_read_error"):
                        m[f"scan {col}{label} rows/s"] = (None, f"n/a ({sc['part_read_error']})")
                    continue
                s = sc[prefix + key]
                good = sc[prefix + sumkey] == exp[sumkey]
                v = rows / s
                gbs = exp["decoded_bytes"][col] / s / 1e9
                text = f"{_si(v)} ({gbs:.2f} GB/s)" if good else \
                    f"WRONG RESULT {sc[prefix + sumkey]} != {exp[sumkey]}"
                m[f"scan {col}{label} rows/s"] = (v if good else None, text)
        m["scan peak RSS MB"] = (sc["maxrss_mb"], _rss_text(sc))
    return m


METRIC_ORDER = [
    "insert rows/s", "insert rows per CPU-second", "insert rows/s, small blocks",
    "OPTIMIZE FINAL rows/s", "OPTIMIZE FINAL rows per CPU-second", "bytes on disk / row",
    "scan timestamp rows/s", "scan timestamp, 1 thread rows/s", "scan timestamp (DataPart.read) rows/s",
    "scan properties rows/s", "scan properties, 1 thread rows/s", "scan properties (DataPart.read) rows/s",
    "insert peak RSS MB", "merge peak RSS MB", "scan peak RSS MB",
]


def targets(run: dict) -> list[str]:
    """The storage targets of issue 2, checked against this run."""
    mt = metrics(run, "mergetree") if "mergetree" in run["engines"] else {}
    ch = metrics(run, "chdb") if "chdb" in run["engines"] else {}
    out = []

    def verdict(ok):
        return "met" if ok else "NOT met"

    ins = mt.get("insert rows/s", (None,))[0]
    if ins is not None:
        out.append(f"insert of pre-built columns >= 3M rows/s: {_si(ins)} rows/s, {verdict(ins >= 3e6)}")
    a, b = mt.get("bytes on disk / row", (None,))[0], ch.get("bytes on disk / row", (None,))[0]
    if a is not None and b:
        out.append(f"bytes on disk <= 0.8x chDB: {a / b:.2f}x, {verdict(a / b <= 0.8)}")
    sc = max((v for k, (v, _) in mt.items() if k.startswith("scan timestamp") and v), default=None)
    if sc is not None:
        out.append(f"decoded numeric scan >= 1G rows/s: best {_si(sc)} rows/s, {verdict(sc >= 1e9)}")
    return out


def markdown(results: list[dict], engines: list[str]) -> str:
    lines = []
    for run in results:
        exp = run["expected"]
        rows = exp["rows"]
        small = exp.get("insert_block_rows", exp["block_rows"]) > exp["block_rows"]
        lines.append(f"### {rows:,} rows (events, seed 42, {exp.get('insert_block_rows', 0):,}-row insert "
                     f"blocks; merge input {'in ' + format(exp['block_rows'], ',') + '-row blocks' if small else 'the same'}; "
                     f"input columns {exp['input_bytes'] / 2**20:.0f} MiB, generated in "
                     f"{exp['generate_s']:.1f}s)")
        lines.append("")
        fsync = run["engines"].get("chdb", {}).get("insert", {}).get("fsync")
        head = ["metric"] + [e + (" (fsync on)" if e == "chdb" and fsync else "") for e in engines]
        if "mergetree" in engines and "chdb" in engines:
            head.append("mergetree / chDB")
        lines.append("| " + " | ".join(head) + " |")
        lines.append("|" + "---|" * len(head))
        per = {e: metrics(run, e) for e in engines}
        names: list[str] = [k for k in METRIC_ORDER if any(k in per[e] for e in engines)]
        for e in engines:
            for k in per[e]:
                if k not in names:
                    names.append(k)
        for k in names:
            row = [k] + [per[e].get(k, (None, "n/a"))[1] for e in engines]
            if len(head) > len(engines) + 1:
                a = per["mergetree"].get(k, (None, ""))[0]
                b = per["chdb"].get(k, (None, ""))[0]
                row.append(f"{a / b:.2f}" if a is not None and b not in (None, 0) else "")
            lines.append("| " + " | ".join(row) + " |")
        lines.append("")
        t = targets(run)
        if t:
            lines.append("Targets (issue 2): " + "; ".join(t) + ".")
            lines.append("")
    lines.append("Ratios: for rows/s > 1 means mergetree is faster; for bytes and RSS < 1 means "
                 "mergetree uses less. mergetree fsyncs every part; chDB does so only with --chdb-fsync "
                 "(ClickHouse's default is no fsync). chDB scans use its default max_threads; RSS is each phase's "
                 "process peak (VmHWM), insert phases include the input data. Rates are wall-clock; "
                 "CPU seconds (all threads of the process) are less sensitive to other load.")
    return "\n".join(lines)


def machine_info() -> dict:
    info = {"python": sys.version.split()[0], "platform": platform.platform(), "cpus": os.cpu_count(),
            "numpy": np.__version__, "loadavg_end": [round(x, 2) for x in os.getloadavg()]}
    try:
        import chdb

        info["chdb"] = chdb.__version__
    except Exception:
        pass
    return info


def _footer(info: dict) -> str:
    return (f"_{info['platform']}, {info['cpus']} CPUs, Python {info['python']}, numpy {info['numpy']}"
            + (f", chDB {info['chdb']}" if "chdb" in info else "")
            + f"; total {info['total_s']:.0f}s; load average {info['loadavg_start'][0]} at start, "
            f"{info['loadavg_end'][0]} at end (other work on the machine skews timings)_")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.storage_report", description=__doc__.split("\n")[0])
    p.add_argument("--rows", type=ge.parse_rows, action="append", help="row count (repeatable), e.g. 1M")
    p.add_argument("--engines", default="mergetree,chdb")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--workdir", help="where data and databases go (default: a temp dir, removed)")
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    p.add_argument("--json", help="also write the raw results to this JSON file")
    p.add_argument("--from-json", help="only render the report of a results file written by --json")
    p.add_argument("--chdb-fsync", action="store_true",
                   help="chDB tables with fsync_after_insert=1, fsync_part_directory=1 (ClickHouse "
                        "does not fsync parts by default; mergetree always does)")
    # worker mode (internal)
    p.add_argument("--worker", choices=["mergetree", "chdb"], help=argparse.SUPPRESS)
    p.add_argument("--phase", help=argparse.SUPPRESS)
    p.add_argument("--data", help=argparse.SUPPRESS)
    p.add_argument("--db", help=argparse.SUPPRESS)
    p.add_argument("--block-rows", type=int, default=1_000_000, help=argparse.SUPPRESS)
    p.add_argument("--files", nargs="*", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        return worker_main(args)

    if args.from_json:
        saved = json.loads(Path(args.from_json).read_text())
        engines = [e for e in ("mergetree", "chdb") if any(e in r["engines"] for r in saved["results"])]
        print(markdown(saved["results"], engines))
        print("\n" + _footer(saved["machine"]))
        return 0
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    if "chdb" in engines:
        try:
            import chdb  # noqa: F401
        except ImportError:
            print("chDB is not installed: measuring mergetree alone", file=sys.stderr)
            engines.remove("chdb")
    rows_list = args.rows or [1_000_000]
    os.environ["MT_BENCH_CHDB_FSYNC"] = "1" if args.chdb_fsync else "0"  # read by the chDB workers
    workdir = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="mt-storage-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    results = []
    load_start = [round(x, 2) for x in os.getloadavg()]
    t0 = time.perf_counter()
    try:
        for rows in rows_list:
            results.append(run_rows(rows, engines, workdir, args.seed, log))
            if not args.keep:
                for d in workdir.iterdir():
                    if d.name.endswith(f"_{rows}"):
                        shutil.rmtree(d, ignore_errors=True)
    finally:
        if not args.keep and not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    info = machine_info()
    info["total_s"] = time.perf_counter() - t0
    info["loadavg_start"] = load_start
    print(markdown(results, engines))
    print("\n" + _footer(info))
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": info, "results": results}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
