"""python -m bench: run a suite on several engines, render a results file, compare two of them.

    python -m bench run --rows 1M --engines mergetree,chdb,duckdb --suite events [--repeat 5] [--threads N]
    python -m bench run --rows 1M --suite ingest        # bulk loads per format + Events API rows/s
    python -m bench run --rows 1M --suite api           # pipe endpoint latency through `mergetree serve`
    python -m bench report results/events-<stamp>.json
    python -m bench compare results/A.json results/B.json

`run` writes results/<suite>-<UTC stamp>.json plus .md and .html (inline SVG chart; .png too when
matplotlib is installed) and prints the markdown table.  Exit status 1 when any engine's answer was
a MISMATCH (unsupported queries are expected while the engine grows and do not fail the run).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from bench.gen_events import parse_rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)

    r = sub.add_parser("run", help="generate data, load every engine, time and cross-check a suite")
    r.add_argument("--rows", type=parse_rows, default=parse_rows("1M"), help="e.g. 20k, 1M, 10M")
    r.add_argument("--engines", default="mergetree,chdb,duckdb",
                   help="comma-separated: mergetree, chdb, duckdb (or module:Class)")
    r.add_argument("--suite", default="events",
                   help="events | clickbench (query suites), ingest (bulk file loads per engine + the Events "
                        "API against a live `mergetree serve`), api (pipe endpoints through the HTTP API)")
    r.add_argument("--seconds", type=float, default=5.0,
                   help="ingest/api suites: seconds of load per HTTP phase")
    r.add_argument("--repeat", type=int, default=5, help="timed runs after one warm-up")
    r.add_argument("--threads", type=int, default=None, help="max threads per engine")
    r.add_argument("--seed", type=int, default=42)
    r.add_argument("--query", action="append", default=[], help="only queries with this name prefix")
    r.add_argument("--budget", type=float, default=60.0,
                   help="seconds: a query whose warm-up is slower is timed once")
    r.add_argument("--timeout", type=float, default=300.0,
                   help="seconds per query execution: a slower query is reported as `timeout` (engines are "
                        "interrupted; a worker stuck past it is killed); 0 = none")
    r.add_argument("--data", type=Path, default=None,
                   help="use this Parquet file (with the suite dataset's columns, e.g. ClickBench's "
                        "hits.parquet for --suite clickbench) instead of generated data; --rows is ignored")
    r.add_argument("--out", type=Path, default=None, help="results directory (default results/)")
    r.add_argument("--data-dir", type=Path, default=None, help="generated data cache (default results/data)")
    r.add_argument("--work-dir", type=Path, default=None, help="engine stores (default: a temp dir)")
    r.add_argument("--keep-stores", action="store_true")
    r.add_argument("--in-process", action="store_true",
                   help="run engines in this process (no peak memory per engine, no cold start)")

    p = sub.add_parser("report", help="render a results file as markdown (+ .md/.html next to it)")
    p.add_argument("results", type=Path)

    c = sub.add_parser("compare", help="B/A ratios between two results files of one suite")
    c.add_argument("a", type=Path)
    c.add_argument("b", type=Path)
    c.add_argument("--threshold", type=float, default=1.10)

    args = ap.parse_args(argv)
    if args.cmd == "run":
        return _run(args)
    if args.cmd == "report":
        from bench.report import to_markdown, write_reports

        result = json.loads(args.results.read_text())
        files = write_reports(result, args.results)
        sys.stdout.write(to_markdown(result))
        print("\nwrote " + ", ".join(str(f) for f in files), file=sys.stderr)
        return 0
    from bench.compare import compare

    sys.stdout.write(compare(json.loads(args.a.read_text()), json.loads(args.b.read_text()),
                             args.threshold))
    return 0


def _run(args) -> int:
    from bench.report import to_markdown, write_reports
    from bench.runner import DEFAULT_RESULTS, RunConfig, run, write_results

    out_dir = args.out or DEFAULT_RESULTS
    cfg = RunConfig(
        rows=args.rows, engines=[e.strip() for e in args.engines.split(",") if e.strip()],
        suite=args.suite, repeat=args.repeat, threads=args.threads, seed=args.seed,
        isolate=not args.in_process, budget=args.budget, query_timeout=args.timeout or None,
        data_dir=args.data_dir or (out_dir / "data"), work_dir=args.work_dir,
        keep_stores=args.keep_stores, queries=args.query, data_file=args.data,
        log=lambda s: print(f"[{time.strftime('%H:%M:%S')}] {s}", file=sys.stderr, flush=True),
    )
    if args.suite == "ingest":
        from bench.ingest import run_ingest

        result = run_ingest(cfg, seconds=args.seconds)
    elif args.suite == "api":
        from bench.api_suite import run_api

        result = run_api(cfg, seconds=args.seconds)
    else:
        result = run(cfg)
    path = write_results(result, out_dir)
    files = write_reports(result, path)
    sys.stdout.write(to_markdown(result))
    print(f"\nwrote {path}, " + ", ".join(str(f) for f in files), file=sys.stderr)
    mismatches = [(e, q) for e, rec in result.get("engines", {}).items()
                  for q, r in rec["queries"].items() if r.get("check") in ("MISMATCH", "DISPUTED")]
    mismatches += [(r["engine"], r["name"]) for r in result.get("measurements", []) if r.get("status") == "MISMATCH"]
    if mismatches:
        print(f"MISMATCHES: {', '.join(f'{e}:{q}' for e, q in mismatches)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
