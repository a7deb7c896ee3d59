"""Materialized views on the events dataset: endpoints read from views vs the raw table, and the
ingest rate through a source with two views vs none.

    python -m bench.bench_views [--rows 1M] [--block 100k] [--repeat 5] [--ingest-rounds 3]   # 10M: --rows 10M

Views (ClickHouse SQL, as a user would write them):

* ``daily_users``: ``toDate(timestamp) AS day, uniqState(user_id), countState()`` -> the DAU endpoint
  ``SELECT day, uniqMerge(users), countMerge(events) FROM daily_users GROUP BY day ORDER BY day``;
* ``page_hits``: ``JSONExtractString(properties, 'page') AS page, countState()`` per day -> the
  top-pages endpoint ``SELECT page, countMerge(hits) AS h FROM page_hits GROUP BY page ORDER BY h
  DESC LIMIT 10``;

each compared with the same endpoint over ``events`` (uniq / count over the raw rows). Ingest:
the same blocks inserted into a fresh ``events`` without views and with both views (each insert
commits the source and both targets together, see mergetree/views.py); rows/s of each.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

RAW = ("CREATE TABLE {name} (event_id String, user_id String, event_type String, properties String, "
       "timestamp DateTime) ENGINE = MergeTree PARTITION BY toYYYYMM(timestamp) ORDER BY (timestamp, user_id) "
       "SETTINGS parts_to_delay_insert = 1000000, parts_to_throw_insert = 1000000")
VIEWS = [
    "CREATE TABLE daily_users{s} (day Date, users AggregateFunction(uniq, String), events AggregateFunction(count)) "
    "ENGINE = AggregatingMergeTree ORDER BY day",
    "CREATE MATERIALIZED VIEW daily_users_mv{s} TO daily_users{s} AS SELECT toDate(timestamp) AS day, "
    "uniqState(user_id) AS users, countState() AS events FROM {name} GROUP BY day",
    "CREATE TABLE page_hits{s} (day Date, page String, hits AggregateFunction(count)) ENGINE = AggregatingMergeTree "
    "ORDER BY (day, page)",
    "CREATE MATERIALIZED VIEW page_hits_mv{s} TO page_hits{s} AS SELECT toDate(timestamp) AS day, "
    "JSONExtractString(properties, 'page') AS page, countState() AS hits FROM {name} GROUP BY day, page",
]
QUERIES = {
    "dau": ("SELECT day, uniqMerge(users) AS u, countMerge(events) AS n FROM daily_users GROUP BY day ORDER BY day",
            "SELECT toDate(timestamp) AS day, uniq(user_id) AS u, count() AS n FROM events GROUP BY day ORDER BY day"),
    "top_pages": ("SELECT page, countMerge(hits) AS h FROM page_hits GROUP BY page ORDER BY h DESC, page LIMIT 10",
                  "SELECT JSONExtractString(properties, 'page') AS page, count() AS h FROM events GROUP BY page "
                  "ORDER BY h DESC, page LIMIT 10"),
}


def _rows(text: str) -> int:
    text = text.strip().upper()
    mult = {"K": 1_000, "M": 1_000_000}.get(text[-1:], 1)
    return int(float(text[:-1] if text[-1:] in "KM" else text) * mult)


def _latency(db, sql: str, repeat: int) -> float:
    db.sql(sql)                                     # warm (JIT, caches)
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        db.sql(sql)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", default="1M")
    ap.add_argument("--block", default="100k", help="rows per insert")
    ap.add_argument("--repeat", type=int, default=5, help="runs per query latency (median)")
    ap.add_argument("--ingest-rounds", type=int, default=3, help="ingest runs per variant (best)")
    ap.add_argument("--dir", default=None)
    args = ap.parse_args(argv)

    import numpy as np

    import mergetree
    from bench.gen_events import events_block, generate_events
    from mergetree.column import Block

    n, bs = _rows(args.rows), _rows(args.block)
    full = events_block(generate_events(n, 42))
    blocks = [full.slice(a, min(a + bs, n)) for a in range(0, n, bs)]
    blocks = [Block({k: c.take(np.arange(len(c), dtype=np.int64)) for k, c in b.columns.items()}) for b in blocks]
    root = Path(args.dir or tempfile.mkdtemp(prefix="mt_views_"))
    db = mergetree.connect(root / "db", background_merges=False)
    try:
        # warm up the JIT on a small table with views
        db.sql(RAW.format(name="warm"))
        for v in VIEWS:
            db.sql(v.format(name="warm", s="_warm"))
        db.insert("warm", blocks[0].slice(0, min(20_000, blocks[0].num_rows)))

        def ingest(name: str) -> float:
            t = time.perf_counter()
            for b in blocks:
                db.insert(name, b)
            return n / (time.perf_counter() - t)

        plain, with_views = [], []
        for r in range(args.ingest_rounds):         # alternate, best of each (the machine may be shared)
            db.sql(RAW.format(name=f"plain{r}"))
            plain.append(ingest(f"plain{r}"))
            db.drop_table(f"plain{r}")
            name, s = ("events", "") if r == args.ingest_rounds - 1 else (f"events{r}", f"_{r}")
            db.sql(RAW.format(name=name))
            for v in VIEWS:
                db.sql(v.format(name=name, s=s))
            with_views.append(ingest(name))
        plain, with_views = max(plain), max(with_views)
        print(f"ingest {n:,} rows in {len(blocks)} blocks of {bs:,} (best of {args.ingest_rounds}): no views "
              f"{plain:,.0f} rows/s, two views {with_views:,.0f} rows/s ({with_views / plain:.0%})", flush=True)

        for t in ("daily_users", "page_hits"):
            db.optimize(t, final=True)                  # the background merges' steady state
        db.optimize("events", final=True)
        for name, (view_sql, raw_sql) in QUERIES.items():
            assert db.sql(view_sql).rows == db.sql(raw_sql).rows, f"{name}: view and raw results differ"
            v = _latency(db, view_sql, args.repeat)
            r = _latency(db, raw_sql, args.repeat)
            print(f"{name:10s} view {v * 1000:8.2f} ms   raw {r * 1000:9.2f} ms   {r / v:6.1f}x faster", flush=True)
        print(f"target rows: daily_users {db.sql('SELECT count() FROM daily_users').rows[0][0]}, "
              f"page_hits {db.sql('SELECT count() FROM page_hits').rows[0][0]}")
    finally:
        db.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
