"""Differential tests: random tables and generated queries (filters, group-bys on one and several
keys with every supported aggregate and combinator, HAVING, ORDER BY .. LIMIT, LIMIT BY,
DISTINCT) run in mergetree and in chDB on the same data; results must match (rows compared as
sorted TabSeparated lines when the query has no total order)."""

from __future__ import annotations

import json
import random
import tempfile

import pytest

chdb = pytest.importorskip("chdb")
from chdb import session  # noqa: E402

import mergetree  # noqa: E402
from mergetree.sql import execute  # noqa: E402

SCHEMA = ("k String, c LowCardinality(String), g UInt8, v Int32, u UInt64, f Float64, n Nullable(Int32), "
          "d Date, ts DateTime")
CREATE = f"CREATE TABLE r ({SCHEMA}) ENGINE = MergeTree ORDER BY (d, g) PARTITION BY toYYYYMM(d) " \
         "SETTINGS index_granularity = 64"


def _rows(seed: int, n: int) -> list[dict]:
    rng = random.Random(seed)
    words = ["", "a", "ab", "abc", "b", "β", "long string value", "x\ty"]
    out = []
    for _ in range(n):
        day = rng.randrange(0, 90)
        out.append({
            "k": rng.choice(words) + str(rng.randrange(5)),
            "c": rng.choice(["red", "green", "blue"]),
            "g": rng.randrange(0, 6),
            "v": rng.randrange(-1000, 1000),
            "u": rng.randrange(0, 2**40),
            "f": rng.choice([0.5, 1.25, -3.0, 2.5, 100.0]),
            "n": rng.choice([None, rng.randrange(-50, 50)]),
            "d": f"2024-{1 + day // 30:02d}-{1 + day % 28:02d}",
            "ts": f"2024-{1 + day // 30:02d}-{1 + day % 28:02d} {rng.randrange(24):02d}:{rng.randrange(60):02d}:00",
        })
    return out


AGGS = ["count()", "sum(v)", "avg(v)", "min(v)", "max(u)", "min(k)", "max(c)", "uniqExact(k)",
        "count(DISTINCT c)", "count(n)", "sum(n)", "avg(n)", "min(n)", "argMax(k, u)", "argMin(v, u)",
        "sumIf(v, g > 2)", "countIf(n IS NULL)", "avgIf(u, v < 0)", "sumOrNull(v)", "minOrDefault(v)",
        "sumDistinct(g)", "uniqExactIf(c, v > 0)", "min(d)", "max(ts)", "min(f)", "max(f)",
        "quantile(0.3)(v)", "median(u)", "quantiles(0.1, 0.9)(f)", "quantileExact(0.7)(v)", "uniq(k)",
        "median(n)", "quantileIf(0.9)(u, g > 1)",
        # issue #5 aggregates whose results do not depend on the order states are merged in
        "sumWithOverflow(v)", "groupArraySorted(3)(v)", "sumMap([g], [v])", "quantileTiming(0.5)(g)",
        "avgWeighted(v, g)", "uniqCombined(k)", "uniqHLL12(c)", "varPop(g)", "stddevSamp(g)",
        "covarSamp(g, g * 2)", "countArray([g, v])", "sumForEach([g, 1])",
        "arraySum(x -> x * 2, groupArray(g)) % 7", "length(groupUniqArray(c))"]
KEYS = ["k", "c", "g", "d", "toYYYYMM(d)", "n", "v % 7", "toStartOfDay(ts)", "lower(c)"]
FILTERS = ["", "WHERE g = 3", "WHERE d >= '2024-02-01'", "WHERE d BETWEEN '2024-01-10' AND '2024-02-10' AND g < 4",
           "WHERE k LIKE 'a%'", "WHERE n IS NOT NULL AND v > 0", "WHERE c IN ('red', 'blue')",
           "WHERE ts < '2024-01-15 00:00:00' OR u % 2 = 0", "WHERE v > 100000"]


def _queries(seed: int) -> list[tuple[str, bool]]:
    """(sql, ordered): ordered queries compare rows in order, the others as sorted lines."""
    rng = random.Random(seed)
    qs = []
    for _ in range(14):
        keys = rng.sample(KEYS, rng.randrange(0, 3))
        aggs = rng.sample(AGGS, rng.randrange(1, 5))
        where = rng.choice(FILTERS)
        sql = f"SELECT {', '.join(keys + aggs)} FROM r {where}"
        if keys:
            sql += f" GROUP BY {', '.join(keys)}"
            if rng.random() < 0.3:
                sql += " HAVING count() > 1"
        qs.append((sql, not keys))
    for _ in range(4):
        where = rng.choice(FILTERS)
        desc = rng.choice(["", " DESC"])
        qs.append((f"SELECT k, v, u FROM r {where} ORDER BY u{desc} LIMIT {rng.randrange(1, 30)}", True))
        qs.append((f"SELECT g, u FROM r {where} ORDER BY g, u{desc} LIMIT 2 BY g", True))
        qs.append((f"SELECT DISTINCT c, g FROM r {where} ORDER BY c, g", True))
        qs.append((f"SELECT n, v FROM r {where} ORDER BY n{desc} NULLS FIRST, v LIMIT 15", True))
    for _ in range(4):   # joins: self-joins on (k, g) (ANY picks an order-dependent row: not here), ASOF
        kind = rng.choice(JOIN_KINDS)
        if "SEMI" in kind or "ANTI" in kind:     # the other side's row is any matching one: read only ours
            side, other = ("a", "b") if "LEFT" in kind else ("b", "a")
            cond = rng.choice([f"{side}.v > 0", f"{side}.n IS NULL", "1"])
            cols = f"{side}.c, count(), sum({side}.v), uniqExact({side}.u)"
        else:
            cond = rng.choice(["a.v > 0", "b.n IS NULL", "a.d < '2024-02-01' AND b.c = 'red'", "1"])
            cols = "a.c, count(), sum(b.v), uniqExact(b.u)"
        qs.append((f"SELECT {cols} FROM r AS a {kind} JOIN r AS b ON a.k = b.k AND a.g = b.g WHERE {cond} "
                   "GROUP BY 1", False))
    qs.append(("SELECT k, g, c2 FROM r LEFT JOIN (SELECT k, count() AS c2 FROM r WHERE g = 3 GROUP BY k) AS b "
               "USING k", False))
    qs.append(("SELECT count(), sum(x.u % 1000), max(y.ts) FROM r AS x ASOF JOIN r AS y ON x.k = y.k AND x.ts > y.ts",
               True))
    return qs


JOIN_KINDS = ["INNER", "LEFT", "RIGHT", "FULL", "SEMI LEFT", "ANTI LEFT", "SEMI RIGHT", "ANTI RIGHT"]


@pytest.fixture(scope="module", params=[1, 2])
def engines(request):
    seed = request.param
    rows = _rows(seed, 3000)
    data = "\n".join(json.dumps(r, ensure_ascii=False) for r in rows)
    tmp = tempfile.TemporaryDirectory()
    ch = session.Session(tmp.name)
    ch.query(CREATE)
    ch.query(f"INSERT INTO r FORMAT JSONEachRow {data}")
    db = mergetree.connect(background_merges=False)
    execute(db, CREATE)
    # several inserts -> several parts, so the scan and key pruning see more than one part
    for i in range(0, len(rows), 1000):
        execute(db, "INSERT INTO r FORMAT JSONEachRow", data="\n".join(data.split("\n")[i:i + 1000]))
    yield seed, ch, db
    db.close()
    ch.close()
    tmp.cleanup()


def test_random_queries_match_chdb(engines):
    seed, ch, db = engines
    failures = []
    for sql, ordered in _queries(seed):
        expected = ch.query(sql, "TabSeparated").bytes().decode()
        got = execute(db, sql).format().decode()
        if not ordered:
            expected, got = sorted(expected.splitlines()), sorted(got.splitlines())
        if got != expected:
            failures.append(f"{sql}\n  chdb:      {str(expected)[:300]}\n  mergetree: {str(got)[:300]}")
    assert not failures, "\n".join(failures)


def test_types_match_chdb(engines):
    seed, ch, db = engines
    sql = f"SELECT {', '.join(AGGS)} FROM r"
    expected = ch.query(sql, "TSVWithNamesAndTypes").bytes().decode().splitlines()[1]
    got = execute(db, sql).format("TSVWithNamesAndTypes").decode().splitlines()[1]
    assert got == expected


PREDICATES = ["n > 0", "n = v % 50", "v > 0 AND n < 10", "n IS NULL OR g = 2", "NOT (n BETWEEN -10 AND 10)",
              "k LIKE 'a%' OR n > 20", "n IN (1, 2, 3, -5)", "if(n > 0, 1, NULL)", "nullIf(g, 3) > 1",
              "c = 'red' AND n != 7", "n % 3 = 1 OR NULL"]


@pytest.mark.parametrize("predicate", PREDICATES)
def test_ternary_logic_partitioning(engines, predicate):
    """count() = countIf(p) + countIf(NOT p) + countIf(p IS NULL), and the WHERE p count agrees with
    chDB, for predicates that are NULL on some rows."""
    seed, ch, db = engines
    total, yes, no, unknown = execute(
        db, f"SELECT count(), countIf({predicate}), countIf(NOT ({predicate})), countIf(({predicate}) IS NULL) "
            "FROM r").rows[0]
    assert total == yes + no + unknown
    where = execute(db, f"SELECT count() FROM r WHERE {predicate}").rows[0][0]
    assert where == yes
    expected = ch.query(f"SELECT count() FROM r WHERE {predicate}", "TabSeparated").bytes().decode().strip()
    assert str(where) == expected
