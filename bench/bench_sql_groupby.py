"""Single-query timing of the query engine against chDB on the generated events table.

    python -m bench.bench_sql_groupby --rows 1M [--repeat 5] [--threads 2] [--query "SELECT ..."]

Both engines get the same rows (bench/gen_events.py, seed 42) in a MergeTree table ordered by
(timestamp, user_id); each query runs once to warm up, then `repeat` times; the median and the
minimum are shown (the minimum is the better estimate on a shared, loaded machine).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

from bench.gen_events import EVENTS_SCHEMA, events_block, generate_events, write_ndjson

DEFAULT_QUERIES = [
    "SELECT event_type, count() FROM events GROUP BY event_type",
    "SELECT count() FROM events",
    "SELECT user_id, count() AS c FROM events GROUP BY user_id ORDER BY c DESC LIMIT 10",
    "SELECT toStartOfHour(timestamp) AS h, count() FROM events GROUP BY h ORDER BY h LIMIT 5",
    "SELECT event_type, uniqExact(user_id) FROM events GROUP BY event_type",
]


def _rows(text: str) -> int:
    text = text.strip().upper()
    mult = {"K": 1_000, "M": 1_000_000}.get(text[-1], 1)
    return int(float(text[:-1] if mult > 1 else text) * mult)


def _timings(fn, repeat: int) -> tuple[float, float]:
    """(median, min) seconds of `repeat` runs after one warm-up run."""
    fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", default="1M")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--query", action="append")
    ap.add_argument("--threads", type=int, default=2, help="mergetree max_threads")
    args = ap.parse_args()
    n = _rows(args.rows)
    queries = args.query or DEFAULT_QUERIES

    import chdb
    from chdb import session

    import mergetree
    from mergetree.sql import execute

    create = f"CREATE TABLE events ({EVENTS_SCHEMA}) ENGINE = MergeTree ORDER BY (timestamp, user_id)"
    with tempfile.TemporaryDirectory() as tmp:
        db = mergetree.connect(f"{tmp}/mt", background_merges=False)
        execute(db, create)
        db.insert("events", events_block(generate_events(n)))
        db.optimize("events", final=True)
        ch = session.Session(f"{tmp}/ch")
        ch.query(create)
        path = f"{tmp}/events.ndjson"
        write_ndjson(path, n)
        ch.query(f"INSERT INTO events SELECT * FROM file('{path}', JSONEachRow, '{EVENTS_SCHEMA}')")
        ch.query("OPTIMIZE TABLE events FINAL")
        print(f"rows={n} chdb={chdb.__version__}")
        settings = {"max_threads": args.threads}
        print(f"{'mergetree med/min s':>20} {'chdb med/min s':>16} {'ratio(min)':>10}  query")
        for q in queries:
            a = execute(db, q, settings=settings).format()
            b = ch.query(q, "TabSeparated").bytes()
            same = sorted(a.splitlines()) == sorted(b.splitlines())
            mt_med, mt_min = _timings(lambda: execute(db, q, settings=settings), args.repeat)
            ch_med, ch_min = _timings(lambda: ch.query(q, "TabSeparated"), args.repeat)
            print(f"{mt_med:9.4f}/{mt_min:.4f} {ch_med:8.4f}/{ch_min:.4f} {mt_min / ch_min:10.2f}  {q}"
                  f"{'' if same else '  (RESULTS DIFFER)'}")
        ch.close()
        db.close()


if __name__ == "__main__":
    main()
