"""``mergetree warmup``: compile the numba kernels into their on-disk cache (``cache=True`` writes
``__pycache__/*.nbi/.nbc`` next to each kernel module, or under ``NUMBA_CACHE_DIR``), so that the
first query of a fresh process loads machine code instead of compiling it.

numba compiles a kernel per argument-type signature on its first call, so warming up means calling
each kernel with the types queries pass it. Rather than listing signatures by hand (they follow the
column types), `warm_up` runs a representative workload through the real engine on a scratch
database: a table with the common column types (integers, floats, String, LowCardinality,
Nullable, Date/DateTime, Array), inserted in several parts and merged (codecs, sort, merge
kernels), then queries exercising filters, GROUP BY on each key type, aggregates, sorting and
top-N, LIMIT BY, DISTINCT, string, hash, date, JSON, URL and array functions, joins and window
functions; then a sweep calls every registered scalar function once with the first argument list it
accepts (`SWEEP_ARGS`). Afterwards every kernel module is imported and its numba dispatchers are
listed with the signatures they now have compiled (loaded from the cache or compiled now); kernels
that a module jits lazily into a dict (like.py, search.py) are listed once they have been used.
"""

from __future__ import annotations

import importlib
import pkgutil
import time

SCHEMA = ("id UInt64, u8 UInt8, u16 UInt16, u32 UInt32, i32 Int32, i64 Int64, f32 Float32, f64 Float64, "
          "s String, lc LowCardinality(String), ns Nullable(String), ni Nullable(Int64), d Date, "
          "ts DateTime, arr Array(String), props String, url String")

QUERIES = [
    # filters and key conditions
    "SELECT count() FROM w WHERE id > 100 AND ts >= '2025-01-01 00:00:00'",
    "SELECT count() FROM w WHERE s = 'user_7' OR lc IN ('a', 'b') OR s LIKE '%3%' OR s ILIKE 'USER%'",
    "SELECT count() FROM w WHERE match(s, '^user_[0-9]+$') AND position(s, '_') > 0 AND startsWith(s, 'u')",
    "SELECT count() FROM w WHERE ni IS NULL OR ns IS NOT NULL OR f64 BETWEEN 1 AND 2",
    "SELECT count() FROM w PREWHERE u8 = 3 WHERE s != ''",
    # group by on each key type, aggregates
    "SELECT u8, count(), sum(f64), avg(i32), min(ts), max(d), any(s), anyLast(s) FROM w GROUP BY u8",
    "SELECT u16, sum(u32), uniq(s), uniqExact(s), argMax(s, ts), argMin(id, f32) FROM w GROUP BY u16",
    "SELECT u32, i64, count() FROM w GROUP BY u32, i64",
    "SELECT s, count(), countIf(u8 > 2), sumIf(f64, u8 = 1) FROM w GROUP BY s",
    "SELECT lc, ns, count() FROM w GROUP BY lc, ns",
    "SELECT ni, count() FROM w GROUP BY ni",
    "SELECT d, uniqExact(id), quantile(0.5)(f64), quantiles(0.5, 0.9)(f32), median(i32) FROM w GROUP BY d",
    "SELECT toStartOfHour(ts) AS h, groupArray(u8), count(DISTINCT s) FROM w GROUP BY h",
    "SELECT f64, count() FROM w GROUP BY f64",
    "SELECT count(), sum(u8), sum(i64), sum(f32), avg(f64), uniq(id), uniqExact(i32) FROM w",
    # sorting, top-N, LIMIT BY, DISTINCT
    "SELECT id, s FROM w ORDER BY s, id DESC LIMIT 10",
    "SELECT * FROM w ORDER BY ts DESC, f64 LIMIT 5",
    "SELECT s, f64 FROM w ORDER BY f64 DESC NULLS FIRST, s",
    "SELECT ns, ni FROM w ORDER BY ns, ni DESC LIMIT 100",
    "SELECT u8, s FROM w ORDER BY u8, s LIMIT 2 BY u8",
    "SELECT DISTINCT lc, u8 FROM w",
    "SELECT DISTINCT s FROM w",
    "SELECT arrayJoin(arr) AS x, count() FROM w GROUP BY x",
    # joins, windows, subqueries
    "SELECT a.u8, count() FROM w AS a INNER JOIN (SELECT u8, max(id) AS m FROM w GROUP BY u8) AS b "
    "ON a.u8 = b.u8 GROUP BY a.u8",
    "SELECT a.s, b.c FROM w AS a LEFT JOIN (SELECT s, count() AS c FROM w GROUP BY s) AS b USING (s) LIMIT 10",
    "SELECT id, row_number() OVER (PARTITION BY u8 ORDER BY ts), sum(f64) OVER (PARTITION BY lc ORDER BY id "
    "ROWS BETWEEN 2 PRECEDING AND CURRENT ROW), lag(s) OVER (ORDER BY id) FROM w",
    "SELECT count() FROM w WHERE s IN (SELECT s FROM w WHERE u8 = 1)",
    "SELECT u8, c FROM (SELECT u8, count() AS c FROM w GROUP BY u8) WHERE c > 1 ORDER BY c DESC",
]


#: scalar expressions, one query each (a function not implemented yet skips only itself)
EXPRESSIONS = [
    # strings
    "lower(s)", "upper(s)", "length(s)", "concat(s, '-', lc)", "substring(s, 2, 3)", "replaceAll(s, '_', '-')",
    "trim(s)", "empty(s)", "notEmpty(s)", "reverse(s)", "splitByChar('_', s)", "endsWith(s, '1')",
    "replaceRegexpAll(s, '[0-9]', 'x')", "extract(s, '[0-9]+')", "match(s, '^user_[0-9]+$')", "position(s, '_')",
    "like(s, '%1%')", "lowerUTF8(s)", "leftPad(s, 12, '*')", "format('{}-{}', s, lc)", "toString(id)",
    # conversions, arithmetic, conditionals
    "toInt64OrZero(s)", "toFloat64OrNull(s)", "toUInt32(u8) + 1", "intDiv(id, 3)", "id % 7", "u8 * u16 - i32",
    "f64 / (u8 + 1)", "round(f64, 2)", "floor(f64)", "ceil(f32)", "abs(i32)", "greatest(u8, u16)", "least(i32, i64)",
    "if(u8 > 1, s, lc)", "multiIf(u8 = 0, 'a', u8 = 1, 'b', 'c')", "coalesce(ns, s)", "ifNull(ni, 0)",
    "nullIf(u8, 0)", "CAST(u16 AS String)", "toDecimal64(f64, 2)", "sqrt(f64)", "exp(f32)", "log(f64 + 1)",
    # hashes
    "sipHash64(s)", "cityHash64(s)", "xxHash64(s)", "murmurHash3_64(s)", "halfMD5(s)", "cityHash64(id)",
    "sipHash64(id, s)", "farmFingerprint64(s)", "xxh3(s)",
    # dates
    "toDate(ts)", "toYYYYMM(ts)", "toYYYYMMDD(d)", "toYear(ts)", "toMonth(d)", "toDayOfMonth(ts)", "toDayOfWeek(d)",
    "toHour(ts)", "toStartOfDay(ts)", "toStartOfWeek(d)", "toStartOfMonth(ts)", "toMonday(d)", "toStartOfMinute(ts)",
    "toStartOfFiveMinutes(ts)", "toStartOfFifteenMinutes(ts)", "toStartOfHour(ts)",
    "toStartOfInterval(ts, INTERVAL 10 MINUTE)", "dateDiff('day', d, toDate(ts))", "date_trunc('month', ts)",
    "addDays(d, 1)", "subtractHours(ts, 2)", "formatDateTime(ts, '%Y-%m-%d %H')", "toUnixTimestamp(ts)",
    "parseDateTimeBestEffort(toString(ts))", "ts + INTERVAL 1 DAY", "toDateTime(toString(ts))", "toDate(toString(d))",
    # JSON, URL, arrays
    "JSONExtractString(props, 'page')", "JSONExtractFloat(props, 'amount')", "JSONExtractInt(props, 'n')",
    "JSONExtractBool(props, 'b')", "JSONExtractRaw(props, 'page')", "JSONHas(props, 'plan')",
    "JSONExtractUInt(props, 'n')", "visitParamExtractString(props, 'page')",
    "domain(url)", "path(url)", "protocol(url)", "queryString(url)", "extractURLParameter(url, 'q')",
    "cutQueryString(url)", "domainWithoutWWW(url)", "topLevelDomain(url)",
    "length(arr)", "has(arr, 'a')", "arr[1]", "arrayMap(x -> length(x), arr)", "arrayFilter(x -> x != '', arr)",
    "arraySort(arr)", "arrayDistinct(arr)", "range(u8 % 5)", "arrayStringConcat(arr, ',')", "indexOf(arr, 'a')",
]


#: argument lists the sweep tries, in order, for every registered scalar function
SWEEP_ARGS = ["s", "url", "props", "ts", "d", "f64", "i64", "u8", "arr", "ns", "ni", "s, s", "s, 'a'", "props, 'page'",
              "ts, 'UTC'", "i64, 3", "f64, 2", "s, 2", "s, 1, 2", "arr, 1", "url, 'q'", "u8, u16"]


def sweep_functions(db, budget_s: float = 60.0) -> tuple[int, int]:
    """Call every registered scalar function with the first argument list it accepts (numba kernels
    compile per argument types on their first call); (functions run, functions tried)."""
    from mergetree.functions.registry import function_names

    deadline = time.perf_counter() + budget_s
    ran = tried = 0
    for name in function_names():
        if time.perf_counter() > deadline:
            break
        if name.lower() in ("sleep", "sleepeachrow", "throwif", "arrayjoin", "rand", "rand64", "randconstant"):
            continue
        tried += 1
        for args in SWEEP_ARGS:
            try:
                db.sql(f"SELECT {name}({args}) FROM w").format("TabSeparated")
                ran += 1
                break
            except Exception:  # noqa: BLE001 - wrong argument types: try the next list
                continue
    return ran, tried


def kernel_modules() -> list[str]:
    import mergetree.kernels as pkg

    return sorted(m.name for m in pkgutil.iter_modules(pkg.__path__) if not m.name.startswith("_"))


def dispatchers(module) -> list:
    from numba.core.dispatcher import Dispatcher

    out = [(name, obj) for name, obj in sorted(vars(module).items())
           if isinstance(obj, Dispatcher) and getattr(obj, "__module__", None) == module.__name__]
    for holder in vars(module).values():        # kernels jitted lazily into a dict (like.py, search.py)
        if isinstance(holder, dict):
            out += [(name, obj) for name, obj in sorted(holder.items()) if isinstance(obj, Dispatcher)]
    return out


def _table_rows(n: int, seed: int):
    import numpy as np

    rng = np.random.default_rng(seed)
    users = rng.integers(0, 200, n)
    pages = ["home", "cart", "search", "item"]
    return {
        "id": np.arange(n, dtype=np.uint64) + seed * n,
        "u8": rng.integers(0, 6, n).astype(np.uint8).tolist(),
        "u16": rng.integers(0, 300, n).tolist(),
        "u32": rng.integers(0, 50, n).tolist(),
        "i32": rng.integers(-100, 100, n).tolist(),
        "i64": rng.integers(-(10 ** 12), 10 ** 12, n).tolist(),
        "f32": rng.random(n).tolist(),
        "f64": (rng.random(n) * 100).round(3).tolist(),
        "s": [f"user_{u}" for u in users.tolist()],
        "lc": [["a", "b", "c"][u % 3] for u in users.tolist()],
        "ns": [None if u % 4 == 0 else f"n{u % 10}" for u in users.tolist()],
        "ni": [None if u % 5 == 0 else u for u in users.tolist()],
        "d": [f"2025-01-{1 + u % 28:02d}" for u in users.tolist()],
        "ts": (1735689600 + rng.integers(0, 86400 * 30, n)).tolist(),
        "arr": [["a", f"x{u % 7}"][: 1 + u % 2] for u in users.tolist()],
        "props": [f'{{"page":"{pages[u % 4]}","amount":{u / 7:.2f},"n":{u},"b":true,"plan":"p"}}'
                  for u in users.tolist()],
        "url": [f"https://shop{u % 3}.example.com/p/{u}?q=x{u}&r=1" for u in users.tolist()],
    }


def warm_up(out=None, rows: int = 5000, sweep_budget: float = 120.0) -> dict:
    """Run the workload; returns {'seconds', 'modules': {module: [(kernel, [signatures])]}, 'failed': [...]}."""
    import mergetree

    started = time.perf_counter()
    failed = []
    with mergetree.connect(background_merges=False) as db:
        db.sql(f"CREATE TABLE w ({SCHEMA}) ENGINE = MergeTree ORDER BY (ts, s) PARTITION BY toYYYYMM(d)")
        for part in range(3):
            db.insert("w", _table_rows(rows, part))
        db.sql("OPTIMIZE TABLE w FINAL")
        db.sql("DELETE FROM w WHERE id % 97 = 0")
        for q in QUERIES + [f"SELECT {e} FROM w" for e in EXPRESSIONS]:
            try:
                db.sql(q).format("TabSeparated")
            except Exception as e:     # noqa: BLE001 - a function not implemented yet (or a bug): keep going
                failed.append((q, f"{type(e).__name__}: {str(e).splitlines()[0][:120]}"))
        swept = sweep_functions(db, budget_s=sweep_budget) if sweep_budget else (0, 0)
    modules = {}
    for name in kernel_modules():
        module = importlib.import_module(f"mergetree.kernels.{name}")
        modules[name] = [(k, [str(s) for s in d.signatures]) for k, d in dispatchers(module)]
    seconds = time.perf_counter() - started
    if out is not None:
        total = sum(len(v) for v in modules.values())
        compiled = sum(1 for v in modules.values() for _, sigs in v if sigs)
        sigs = sum(len(s) for v in modules.values() for _, s in v)
        for name, kernels in modules.items():
            done = [k for k, s in kernels if s]
            print(f"  {name:<18} {len(done):>3}/{len(kernels):<3} kernels compiled  "
                  f"({sum(len(s) for _, s in kernels)} signatures)", file=out)
        if failed:
            print(f"  skipped {len(failed)} queries (functions not implemented yet): "
                  + ", ".join(q[7:60].split(" FROM w")[0] for q, _ in failed), file=out)
        print(f"warmup: {compiled}/{total} kernels, {sigs} signatures compiled or loaded from the numba cache "
              f"in {seconds:.1f} s ({len(QUERIES) + len(EXPRESSIONS) - len(failed)}/{len(QUERIES) + len(EXPRESSIONS)} "
              f"workload queries ran; {swept[0]}/{swept[1]} scalar functions called)", file=out)
    return {"seconds": seconds, "modules": modules, "failed": failed, "swept": swept}
