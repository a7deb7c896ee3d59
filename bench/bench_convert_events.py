"""Events API conversion cost: CPU time per row of 1,000-row and 1-row NDJSON batches.

Run: ``PYTHONPATH=. python bench/bench_convert_events.py [--baseline REV] [--rounds N]``

Times ``rows_to_block_partial(schema, ndjson_bytes)``, the function the Events API runs for each
request body (server/events.py -> Engine.convert -> mergetree/convert.py), on the quickstart
events schema (event_id, user_id, event_type, properties String, timestamp DateTime). With
``--baseline REV`` the same batches also go through ``mergetree/convert.py`` as of git revision
REV (loaded from ``git show``), interleaved round by round with the working tree's version, so a
before/after comparison shares the machine's load. Reports the best round (process CPU time).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import tempfile
import time

import orjson

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_convert import SCHEMA, make_events  # noqa: E402

from mergetree import convert as current  # noqa: E402


def load_revision(rev: str):
    """mergetree/convert.py as of git revision ``rev``, imported as a separate module."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    source = subprocess.run(["git", "show", f"{rev}:mergetree/convert.py"], cwd=root, check=True,
                            capture_output=True).stdout
    with tempfile.NamedTemporaryFile("wb", suffix=".py", delete=False) as f:
        f.write(source)
    spec = importlib.util.spec_from_file_location("mergetree._convert_baseline", f.name)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    os.unlink(f.name)
    return module


def cpu_per_call(fn, body: bytes, calls: int) -> float:
    c0 = time.process_time()
    for _ in range(calls):
        fn(SCHEMA, body)
    return (time.process_time() - c0) / calls


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--baseline", help="git revision of mergetree/convert.py to compare against")
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    rows = make_events(1000)
    batch = b"\n".join(orjson.dumps(r) for r in rows)
    single = orjson.dumps(rows[0])
    versions = [("current", current.rows_to_block_partial)]
    if args.baseline:
        versions.insert(0, (f"baseline {args.baseline}", load_revision(args.baseline).rows_to_block_partial))
    cases = [("1,000-row NDJSON batch", batch, 1000, 100), ("1-row NDJSON batch", single, 1, 3000)]
    best = {}
    for label, fn in versions:  # warm up, and check both versions produce the same block
        for _, body, _, _ in cases:
            block, rejected = fn(SCHEMA, body)
            ref, _ = current.rows_to_block_partial(SCHEMA, body)
            assert not rejected and block.num_rows == ref.num_rows
            for name, _ in SCHEMA:
                assert block[name].to_pylist() == ref[name].to_pylist(), (label, name)
    for _ in range(args.rounds):
        for case, body, n, calls in cases:
            for label, fn in versions:
                t = cpu_per_call(fn, body, calls)
                best[case, label] = min(best.get((case, label), float("inf")), t / n)
    print(f"CPU time per row, best of {args.rounds} rounds (rows_to_block_partial on NDJSON bytes)")
    for case, _, n, _ in cases:
        for label, _ in versions:
            per_row = best[case, label]
            print(f"  {case:24s} {label:22s} {per_row * 1e6:8.2f} us/row  {1 / per_row / 1e3:8.1f} k rows/s/core")
        if args.baseline:
            ratio = best[case, versions[0][0]] / best[case, "current"]
            print(f"  {case:24s} speed-up {ratio:.2f}x")


if __name__ == "__main__":
    main()
