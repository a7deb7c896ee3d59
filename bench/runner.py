"""The benchmark runner: same data into every engine, time the suite, cross-check the answers.

    python -m bench run --rows 1M --engines mergetree,chdb,duckdb --suite events [--repeat 5]

1. ``prepare_data`` generates the events table once (seeded, bench/gen_events.py) as Parquet,
   cached under ``results/data/``; every engine loads that same file.
2. For each engine, ``run_engine`` runs in a fresh subprocess (``python -m bench.runner --worker
   job.json out.json``): load (timed: rows/s), OPTIMIZE FINAL (timed separately), bytes on disk,
   then each query once to warm up and ``repeat`` times (median/min/max).  A query that raises is
   recorded as ``unsupported: <error>`` or ``error: <error>`` (the adapter classifies it) and not
   timed.  The worker reports its peak memory (VmHWM from /proc/self/status).
3. ``cold_start`` spawns one more process per engine that reopens the store and runs
   ``SELECT count() FROM events``: process start to first result.
4. ``cross_check`` compares every engine's rows with the reference engine's (chDB when present,
   it *is* ClickHouse): sorted unless the query is marked ``-- ordered``, floats within 1e-6
   relative, approximate aggregates within the query's ``-- approx:`` bound.  A disagreement is a
   MISMATCH and the report shows it instead of a time.
5. ``write_results`` writes ``results/<timestamp>.json`` with machine info and package versions.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import json
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUITES_DIR = Path(__file__).resolve().parent / "suites"
DEFAULT_RESULTS = ROOT / "results"
MAX_KEPT_ROWS = 10_000          # rows of one answer kept in the results file for cross-checking
FLOAT_REL = 1e-6                # float tolerance for exact aggregates (summation order differs)
COLD_START_QUERY = "SELECT count() FROM {table}"


# --------------------------------------------------------------------------- suites


@dataclass
class Query:
    name: str
    sql: dict[str, str]                 # dialect -> text ('clickhouse' always present)
    what: str = ""
    ordered: bool = False
    approx: float = 0.0
    dataset: str = "events"

    def text(self, dialect: str) -> str:
        return self.sql.get(dialect) or self.sql["clickhouse"]


_NAME_RE = re.compile(r"^--\s*name:\s*(\S+)\s*$")


def _parse_suite_file(path: Path) -> list[dict]:
    """Split a suite file into [{name, sql, what, ordered, approx}] (see bench/suites/events.sql)."""
    out: list[dict] = []
    cur: dict | None = None
    dataset = "events"
    for lineno, line in enumerate(path.read_text().splitlines(), 1):
        if cur is None and line.strip().startswith("-- dataset:"):
            dataset = line.split(":", 1)[1].strip()
        m = _NAME_RE.match(line.strip())
        if m:
            cur = {"name": m.group(1), "sql": [], "what": "", "ordered": False, "approx": 0.0,
                   "where": f"{path.name}:{lineno}", "dataset": dataset}
            out.append(cur)
            continue
        if cur is None:
            continue
        s = line.strip()
        if s.startswith("--") and not cur["sql"]:
            body = s[2:].strip()
            if body.startswith("what:"):
                cur["what"] = body[5:].strip()
            elif body == "ordered":
                cur["ordered"] = True
            elif body.startswith("approx:"):
                cur["approx"] = float(body[7:])
            continue
        if s.startswith("--") or (not s and not cur["sql"]):
            continue
        cur["sql"].append(line)
    for q in out:
        text = "\n".join(q["sql"]).strip()
        if not text.endswith(";"):
            raise ValueError(f"suite {q['where']}: query {q['name']} does not end with ';'")
        q["sql"] = text[:-1].strip()
    return out


def load_suite(name: str, suites_dir: Path = SUITES_DIR) -> list[Query]:
    """Queries of `suites/<name>.sql` with per-dialect overrides from `suites/<name>.<dialect>.sql`."""
    base = suites_dir / f"{name}.sql"
    if not base.exists():
        known = sorted(p.stem for p in suites_dir.glob("*.sql") if "." not in p.stem)
        raise ValueError(f"unknown suite {name!r}; known suites: {', '.join(known)}")
    queries = []
    for q in _parse_suite_file(base):
        queries.append(Query(q["name"], {"clickhouse": q["sql"]}, q["what"], q["ordered"], q["approx"],
                             q["dataset"]))
    by_name = {q.name: q for q in queries}
    if len(by_name) != len(queries):
        raise ValueError(f"suite {base.name}: duplicate query names")
    for override in sorted(suites_dir.glob(f"{name}.*.sql")):
        dialect = override.name[len(name) + 1 : -len(".sql")]
        for q in _parse_suite_file(override):
            if q["name"] not in by_name:
                raise ValueError(f"{override.name}: query {q['name']} is not in {base.name}")
            by_name[q["name"]].sql[dialect] = q["sql"]
    return queries


# --------------------------------------------------------------------------- values


def normalize_value(v):
    """One result cell as a JSON-able value comparable across engines."""
    if v is None or isinstance(v, str):
        return v
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return v
    if isinstance(v, decimal.Decimal):
        return float(v)
    if isinstance(v, _dt.datetime):
        if v.tzinfo is not None:
            v = v.astimezone(_dt.timezone.utc).replace(tzinfo=None)
        return v.strftime("%Y-%m-%d %H:%M:%S") + (f".{v.microsecond:06d}" if v.microsecond else "")
    if isinstance(v, _dt.date):
        return v.isoformat()
    if isinstance(v, (list, tuple)):
        return [normalize_value(x) for x in v]
    if isinstance(v, uuid.UUID):
        return str(v)
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    if hasattr(v, "item"):          # numpy scalar
        return normalize_value(v.item())
    return str(v)


def normalize_rows(rows) -> list[list]:
    return [[normalize_value(v) for v in r] for r in rows]


def _as_number(v):
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return v
    if isinstance(v, str):
        try:
            return float(v)
        except ValueError:
            return None
    return None


def cells_equal(a, b, rel: float) -> bool:
    if isinstance(a, list) or isinstance(b, list):
        return (isinstance(a, list) and isinstance(b, list) and len(a) == len(b)
                and all(cells_equal(x, y, rel) for x, y in zip(a, b)))
    if a == b:
        return True
    x, y = _as_number(a), _as_number(b)
    if x is None or y is None:
        return False
    return abs(x - y) <= max(1e-9, rel * max(abs(x), abs(y)))


def _sort_key(row):
    def cell(v):
        if v is None:
            return (0, "")
        if isinstance(v, (int, float)):
            return (1, f"{v:.6g}")
        if isinstance(v, list):
            return (2, json.dumps(v))
        return (3, v)

    return tuple(cell(v) for v in row)


def compare_rows(ref: list[list], got: list[list], *, ordered: bool, approx: float) -> str | None:
    """None when the answers agree, else a one-line description of the first difference."""
    if len(ref) != len(got):
        return f"{len(got)} rows, expected {len(ref)}"
    if not ordered:
        ref, got = sorted(ref, key=_sort_key), sorted(got, key=_sort_key)
    rel = max(FLOAT_REL, approx)
    for i, (r, g) in enumerate(zip(ref, got)):
        if len(r) != len(g):
            return f"row {i}: {len(g)} columns, expected {len(r)}"
        for j, (x, y) in enumerate(zip(r, g)):
            if not cells_equal(x, y, rel):
                return f"row {i} column {j}: {_short(y)}, expected {_short(x)}" + \
                       (f" (tolerance {rel:g})" if approx else "")
    return None


def _short(v, n: int = 60) -> str:
    s = json.dumps(v)
    return s if len(s) <= n else s[: n - 3] + "..."


# --------------------------------------------------------------------------- data


def prepare_data(rows: int, seed: int, data_dir: Path, dataset: str = "events") -> tuple[Path, float]:
    """The dataset's Parquet file for (rows, seed), generated once; returns (path, seconds spent)."""
    from bench.datasets import get

    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / f"{dataset}_{rows}_s{seed}.parquet"
    if path.exists():
        return path, 0.0
    t = time.perf_counter()
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    get(dataset).write_parquet(tmp, rows, seed)
    os.replace(tmp, path)
    return path, time.perf_counter() - t


# --------------------------------------------------------------------------- one engine


def _peak_rss() -> int | None:
    """VmHWM of this process in bytes (Linux), else None."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def dir_bytes(path: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for f in files:
            try:
                total += os.lstat(os.path.join(root, f)).st_size
            except OSError:
                pass
    return total


def _first_line(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__


class QueryTimeout(Exception):
    """A query ran past the runner's per-query timeout (reported as `timeout`, not timed)."""


def _is_timeout_error(exc: BaseException) -> bool:
    text = f"{getattr(exc, 'code', '')} {exc}"
    return "TIMEOUT_EXCEEDED" in text or "QUERY_WAS_CANCELLED" in text or "INTERRUPT" in text.upper()


def query_with_timeout(adapter, sql: str, timeout: float | None):
    """adapter.query(sql), interrupted after `timeout` seconds (adapter.interrupt from a timer
    thread; engines that cannot be interrupted got set_query_timeout): QueryTimeout then."""
    if not timeout:
        return adapter.query(sql)
    import threading

    fired = threading.Event()

    def fire():
        fired.set()
        adapter.interrupt()

    timer = threading.Timer(timeout, fire)
    timer.daemon = True
    timer.start()
    try:
        return adapter.query(sql)
    except Exception as e:  # noqa: BLE001 - re-raised, classified
        if fired.is_set() or _is_timeout_error(e):
            raise QueryTimeout(f"over the {timeout:g}s per-query timeout") from e
        raise
    finally:
        timer.cancel()


def _progress(job: dict, **state) -> None:
    """The worker's progress file: which query runs since when (the parent kills a hung worker)."""
    path = job.get("progress")
    if path:
        tmp = f"{path}.tmp"
        Path(tmp).write_text(json.dumps({**state, "at": time.time()}))
        os.replace(tmp, path)


def run_engine(job: dict) -> dict:
    """Load + time the suite in this process.  `job`: engine, store, parquet, rows, queries
    [{name, sql}], repeat, threads, budget (seconds: a slower warm-up skips the repeats),
    query_timeout (seconds per query execution: over it the query is `timeout`, not timed)."""
    from bench.datasets import get
    from bench.engines import EngineAdapter, resolve

    cls = resolve(job["engine"])
    dataset = get(job.get("dataset", "events"))
    store = Path(job["store"])
    store.mkdir(parents=True, exist_ok=True)
    out: dict = {"engine": job["engine"], "version": None, "queries": {}}
    try:
        out["version"] = cls.version()
    except Exception as e:  # noqa: BLE001 - a version probe must not kill the run
        out["version"] = f"unknown ({_first_line(e)})"
    try:
        t = time.perf_counter()
        adapter = cls(store, threads=job.get("threads"))
        out["open_s"] = time.perf_counter() - t
        t = time.perf_counter()
        adapter.warm_up()
        out["warmup_s"] = time.perf_counter() - t
        t = time.perf_counter()
        adapter.load(Path(job["parquet"]), dataset)
        load_s = time.perf_counter() - t
        if type(adapter).optimize is not EngineAdapter.optimize:
            t = time.perf_counter()
            adapter.optimize(dataset)
            out["optimize_s"] = time.perf_counter() - t
    except Exception as e:  # noqa: BLE001 - reported, not raised
        out["load_error"] = _first_line(e)
        out["peak_rss_bytes"] = _peak_rss()
        return out
    out["ingest"] = {"seconds": load_s, "rows_per_s": job["rows"] / load_s if load_s > 0 else None}
    out["store_bytes"] = dir_bytes(store)
    try:
        out["bytes_on_disk"] = adapter.table_bytes(dataset)
        out["parts"] = adapter.table_parts(dataset)
    except Exception as e:  # noqa: BLE001 - a size probe must not kill the run
        out["bytes_on_disk_error"] = _first_line(e)
    if out.get("bytes_on_disk") is None:
        out["bytes_on_disk"] = out["store_bytes"]
    budget = float(job.get("budget", 60.0))
    qt = job.get("query_timeout") or None
    if qt:
        try:
            adapter.set_query_timeout(qt)
        except Exception:  # noqa: BLE001 - the timer thread and the parent's watchdog remain
            pass
    for q in job["queries"]:
        rec: dict = {}
        try:
            _progress(job, running=q["name"])
            t = time.perf_counter()
            rows = query_with_timeout(adapter, q["sql"], qt)
            first = time.perf_counter() - t
            times = []
            if first <= budget:
                for _ in range(int(job.get("repeat", 5))):
                    _progress(job, running=q["name"])
                    t = time.perf_counter()
                    query_with_timeout(adapter, q["sql"], qt)
                    times.append(time.perf_counter() - t)
            else:
                times = [first]
                rec["note"] = f"warm-up took {first:.1f}s > budget {budget:g}s: timed once"
            norm = normalize_rows(rows)
            rec.update(status="ok", times=times, median=statistics.median(times), min=min(times),
                       max=max(times), n_rows=len(norm), rows=norm[:MAX_KEPT_ROWS],
                       truncated=len(norm) > MAX_KEPT_ROWS)
        except QueryTimeout as e:
            rec.update(status="timeout", error=str(e))
        except Exception as e:  # noqa: BLE001 - every failure is a reported outcome
            rec.update(status=cls.classify_error(e), error=_first_line(e))
        out["queries"][q["name"]] = rec
        if job.get("partial"):       # what the parent keeps if it has to kill a hung worker
            tmp = job["partial"] + ".tmp"
            Path(tmp).write_text(json.dumps(out))
            os.replace(tmp, job["partial"])
    _progress(job, running=None)
    adapter.close()
    out["peak_rss_bytes"] = _peak_rss()
    return out


#: seconds a query may run past its per-query timeout before the parent kills the worker
HUNG_GRACE = 30.0


def _run_engine_subprocess(job: dict, timeout: float) -> dict:
    """run_engine in a fresh process.  A worker stuck in one query (an engine that did not stop
    at its timeout) is killed after query_timeout + HUNG_GRACE: the queries done so far are kept,
    that query is `timeout`, the ones after it are `error: not run`."""
    with tempfile.TemporaryDirectory(prefix="bench-job-") as tmp:
        jpath, opath = Path(tmp) / "job.json", Path(tmp) / "out.json"
        progress, partial = Path(tmp) / "progress.json", Path(tmp) / "partial.json"
        job = {**job, "progress": str(progress), "partial": str(partial)}
        jpath.write_text(json.dumps(job))
        cmd = [sys.executable, "-m", "bench.runner", "--worker", str(jpath), str(opath)]
        errf = open(Path(tmp) / "stderr.txt", "w+")
        p = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=errf, text=True)
        started = time.monotonic()
        qt = job.get("query_timeout") or None
        hung = None
        while p.poll() is None:
            time.sleep(0.2)
            if time.monotonic() - started > timeout:
                hung = ("", f"worker timed out after {timeout:g}s")
            elif qt and progress.exists():
                try:
                    state = json.loads(progress.read_text())
                except (OSError, ValueError):
                    state = {}
                if state.get("running") and time.time() - state["at"] > qt + HUNG_GRACE:
                    hung = (state["running"], f"still running {qt + HUNG_GRACE:g}s after it started "
                                               f"(per-query timeout {qt:g}s): worker killed")
            if hung:
                p.kill()
                p.wait()
                break
        errf.seek(0)
        stderr = errf.read()
        errf.close()
        if hung:
            out = json.loads(partial.read_text()) if partial.exists() else \
                {"engine": job["engine"], "queries": {}}
            name, why = hung
            if not name and not out["queries"]:
                out["load_error"] = why
                return out
            for q in job["queries"]:
                if q["name"] in out["queries"]:
                    continue
                out["queries"][q["name"]] = {"status": "timeout", "error": why} if q["name"] == name or \
                    not name else {"status": "error", "error": "not run: the worker was killed (timeout)"}
                if not name:
                    name = q["name"]
            return out
        if p.returncode != 0 or not opath.exists():
            tail = stderr.strip().splitlines()[-3:]
            return {"engine": job["engine"], "queries": {},
                    "load_error": f"worker exited with {p.returncode}: {' | '.join(tail)}"}
        return json.loads(opath.read_text())


def cold_start(engine: str, store: Path, threads: int | None, table: str = "events",
               timeout: float = 300) -> dict:
    """Seconds from spawning a fresh process to its first result (reopening the loaded store)."""
    cmd = [sys.executable, "-m", "bench.runner", "--coldstart", engine, str(store), str(threads or 0),
           table]
    t = time.perf_counter()
    p = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    elapsed = time.perf_counter() - t
    try:
        _, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        return {"error": f"timed out after {timeout:g}s"}
    if not line.startswith("RESULT "):
        return {"error": (err.strip().splitlines() or ["no output"])[-1][:300]}
    return {"seconds": elapsed, "result": json.loads(line[7:])}


def _coldstart_main(engine: str, store: str, threads: str, table: str) -> int:
    from bench.engines import resolve

    adapter = resolve(engine)(Path(store), threads=int(threads) or None)
    rows = normalize_rows(adapter.query(COLD_START_QUERY.format(table=table)))
    sys.stdout.write("RESULT " + json.dumps(rows) + "\n")
    sys.stdout.flush()
    adapter.close()
    return 0


# --------------------------------------------------------------------------- the run


def cross_check(queries: list[Query], engines: dict[str, dict], reference: str | None = None) -> dict:
    """Per query: reference engine and a verdict per engine: OK / MISMATCH / UNCHECKED / its failure.
    Fills engines[e]['queries'][q]['check'] and returns {query: {'reference': name or None}}."""
    names = list(engines)
    order = ([reference] if reference else []) + ["chdb"] + names
    out = {}
    for q in queries:
        recs = {e: engines[e]["queries"].get(q.name, {"status": "error", "error": "not run"})
                for e in names}
        for e in names:
            engines[e]["queries"].setdefault(q.name, recs[e])
        ref = next((e for e in order if e in recs and recs[e].get("status") == "ok"), None)
        out[q.name] = {"reference": ref}
        for e, rec in recs.items():
            if rec.get("status") != "ok":
                rec["check"] = rec.get("status", "error").upper()
            elif ref == e:
                continue                      # decided below, once the others are compared
            elif rec.get("truncated") or recs[ref].get("truncated"):
                rec["check"] = "UNCHECKED"
                rec["check_detail"] = "answer too large to keep"
            else:
                diff = compare_rows(recs[ref]["rows"], rec["rows"], ordered=q.ordered, approx=q.approx)
                rec["check"] = "OK" if diff is None else "MISMATCH"
                if diff:
                    rec["check_detail"] = f"vs {ref}: {diff}"
        # the reference itself is OK only if at least one other engine agrees with it
        if ref is not None:
            others = [e for e in names if e != ref and recs[e].get("status") == "ok"]
            if not others:
                recs[ref]["check"] = "UNCHECKED"
            elif any(recs[e]["check"] == "OK" for e in others):
                recs[ref]["check"] = "OK"
            elif all(recs[e]["check"] == "MISMATCH" for e in others):
                recs[ref]["check"] = "DISPUTED"
                recs[ref]["check_detail"] = "no other engine agrees"
            else:
                recs[ref]["check"] = "UNCHECKED"
    return out


def machine_info() -> dict:
    info = {"platform": platform.platform(), "python": platform.python_version(),
            "cpu_count": os.cpu_count(), "cpu_model": None, "load_average": None,
            "memory_bytes": None}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu_model"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        info["load_average"] = list(os.getloadavg())
    except OSError:
        pass
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                info["memory_bytes"] = int(line.split()[1]) * 1024
    except OSError:
        pass
    return info


def package_versions() -> dict:
    from importlib import metadata

    out = {}
    for pkg in ("numpy", "numba", "pyarrow", "chdb", "duckdb", "lark", "matplotlib"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = None
    return out


@dataclass
class RunConfig:
    rows: int
    engines: list[str]
    suite: str = "events"
    repeat: int = 5
    threads: int | None = None
    seed: int = 42
    isolate: bool = True            # each engine in its own subprocess (+ cold start)
    budget: float = 60.0            # a query whose warm-up is slower is timed once
    query_timeout: float | None = 300.0   # seconds per query execution; over it: `timeout`
    timeout: float = 7200.0         # per engine worker
    data_dir: Path = DEFAULT_RESULTS / "data"
    work_dir: Path | None = None    # engine stores (default: a temporary directory)
    keep_stores: bool = False
    queries: list[str] = field(default_factory=list)   # run only these (names or prefixes)
    cold_start_engines: list[str] | None = None        # default: every engine (isolated runs)
    data_file: Path | None = None   # a user's Parquet file (e.g. ClickBench's hits.parquet) instead
    log: object = None              # callable(str) for progress lines


def run(cfg: RunConfig) -> dict:
    from bench.datasets import get as get_dataset
    from bench.engines import available

    say = cfg.log or (lambda s: None)
    queries = load_suite(cfg.suite)
    if cfg.queries:
        queries = [q for q in queries if any(q.name.startswith(p) for p in cfg.queries)]
    engines, skipped = available(cfg.engines)
    for e, why in skipped.items():
        say(f"skipping {e}: {why}")
    started = _dt.datetime.now(_dt.timezone.utc)
    dataset = queries[0].dataset if queries else "events"
    if any(q.dataset != dataset for q in queries):
        raise ValueError(f"suite {cfg.suite}: queries on more than one dataset")
    if not cfg.data_file:
        say(f"generating {cfg.rows:,} rows of {dataset} (seed {cfg.seed}) ...")
    if cfg.data_file:
        import pyarrow.parquet as pq

        parquet, gen_s = Path(cfg.data_file).resolve(), 0.0
        cfg.rows = pq.ParquetFile(str(parquet)).metadata.num_rows
        say(f"using {parquet} ({cfg.rows:,} rows) instead of generated data")
    else:
        parquet, gen_s = prepare_data(cfg.rows, cfg.seed, Path(cfg.data_dir), dataset)
    table = get_dataset(dataset).table
    results: dict[str, dict] = {}
    work = Path(cfg.work_dir) if cfg.work_dir else Path(tempfile.mkdtemp(prefix="bench-stores-"))
    try:
        for e in engines:
            store = work / e.replace(":", "_").replace(".", "_")
            shutil.rmtree(store, ignore_errors=True)
            cls_dialect = _dialect(e)
            job = {"engine": e, "store": str(store), "parquet": str(parquet), "rows": cfg.rows,
                   "dataset": dataset,
                   "repeat": cfg.repeat, "threads": cfg.threads, "budget": cfg.budget,
                   "query_timeout": cfg.query_timeout,
                   "queries": [{"name": q.name, "sql": q.text(cls_dialect)} for q in queries]}
            say(f"{e}: load + {len(queries)} queries x (1 + {cfg.repeat}) ...")
            t = time.perf_counter()
            rec = _run_engine_subprocess(job, cfg.timeout) if cfg.isolate else run_engine(job)
            rec["wall_s"] = time.perf_counter() - t
            rec["isolated"] = cfg.isolate
            if cfg.isolate and "load_error" not in rec and (
                    cfg.cold_start_engines is None or e in cfg.cold_start_engines):
                rec["cold_start"] = cold_start(e, store, cfg.threads, table)
            results[e] = rec
            if "load_error" in rec:
                say(f"{e}: LOAD FAILED: {rec['load_error']}")
            else:
                say(f"{e}: done in {rec['wall_s']:.1f}s")
            if not cfg.keep_stores:
                shutil.rmtree(store, ignore_errors=True)
    finally:
        if not cfg.work_dir and not cfg.keep_stores:
            shutil.rmtree(work, ignore_errors=True)
    checks = cross_check(queries, results)
    return {
        "format": "mergetree-bench/1",
        "started": started.isoformat(timespec="seconds"),
        "finished": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "suite": cfg.suite, "dataset": dataset,
        "rows": cfg.rows, "seed": cfg.seed, "repeat": cfg.repeat, "threads": cfg.threads,
        "query_timeout": cfg.query_timeout,
        "data": {"path": str(parquet), "bytes": parquet.stat().st_size, "generate_s": gen_s,
                 "generated": not cfg.data_file},
        "machine": machine_info(),
        "packages": package_versions(),
        "skipped_engines": skipped,
        "queries": [{"name": q.name, "what": q.what, "ordered": q.ordered, "approx": q.approx,
                     "sql": q.sql, "reference": checks[q.name]["reference"]} for q in queries],
        "engines": results,
    }


def _dialect(engine: str) -> str:
    from bench.engines import resolve

    return getattr(resolve(engine), "dialect", "clickhouse")


def write_results(result: dict, results_dir: Path = DEFAULT_RESULTS) -> Path:
    results_dir.mkdir(parents=True, exist_ok=True)
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    path = results_dir / f"{result['suite']}-{stamp}.json"
    path.write_text(json.dumps(result, indent=1))
    return path


def _worker_main(job_path: str, out_path: str) -> int:
    job = json.loads(Path(job_path).read_text())
    out = run_engine(job)
    Path(out_path).write_text(json.dumps(out))
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--worker":
        sys.exit(_worker_main(sys.argv[2], sys.argv[3]))
    if len(sys.argv) == 6 and sys.argv[1] == "--coldstart":
        sys.exit(_coldstart_main(*sys.argv[2:]))
    sys.exit("usage: python -m bench.runner --worker job.json out.json | "
             "--coldstart ENGINE STORE THREADS TABLE   (use `python -m bench run` instead)")
