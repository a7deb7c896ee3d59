"""Aggregate states (-State/-Merge/-MergeState/-SimpleState, finalizeAggregation, initializeAggregation),
AggregatingMergeTree and SummingMergeTree over AggregateFunction columns: differential against chDB
(the same statements in both engines, many small inserts with merges in between), plus our own
invariants (uniqMerge over many parts == uniq over the raw rows; states survive a reopen)."""

from __future__ import annotations

import json
import random
import subprocess
import sys

import pytest

import mergetree

chdb = pytest.importorskip("chdb")

_ORACLE = r"""
import json, sys
from chdb.session import Session
s = Session()
out = []
for sql in json.load(sys.stdin):
    out.append(str(s.query(sql, "TabSeparated")))
json.dump(out, sys.stdout)
"""


def start_chdb(statements: list[str]):
    """The chDB oracle runs in a subprocess (a path Session and chdb.query do not mix), started
    first so it works while our engine runs the same statements."""
    proc = subprocess.Popen([sys.executable, "-c", _ORACLE], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    proc.stdin.write(json.dumps(statements))
    proc.stdin.close()
    return proc


def finish_chdb(proc) -> list[str]:
    out = proc.stdout.read()
    err = proc.stderr.read()
    if proc.wait(timeout=300) != 0:
        raise RuntimeError(f"chDB oracle failed: {err[-2000:]}")
    return json.loads(out)


def run_ours(db, statements: list[str]) -> list[str]:
    out = []
    for sql in statements:
        res = db.sql(sql)
        out.append(res.format("TabSeparated").decode() if sql.lstrip().upper().startswith("SELECT") else "")
    return out


def both(statements: list[str]) -> tuple[list[str], list[str]]:
    """(ours, chDB) outputs of the SELECTs among `statements`."""
    proc = start_chdb(statements)
    try:
        with mergetree.connect(background_merges=False) as db:
            ours = run_ours(db, statements)
    finally:
        theirs = finish_chdb(proc)
    sel = [i for i, s in enumerate(statements) if s.lstrip().upper().startswith("SELECT")]
    return [ours[i] for i in sel], [theirs[i] for i in sel]


def values(rows) -> str:
    def lit(v):
        if v is None:
            return "NULL"
        if isinstance(v, str):
            return "'" + v + "'"
        return repr(v)
    return ", ".join("(" + ", ".join(lit(v) for v in r) + ")" for r in rows)


SOURCE = "CREATE TABLE src (k UInt8, v Int32, f Float64, s String, n Nullable(UInt16)) ENGINE = MergeTree ORDER BY k"

# every aggregate with a state whose result does not depend on the order rows meet
STATES = [
    ("c", "AggregateFunction(count)", "countState()", "countMerge(c)", "count()"),
    ("sv", "AggregateFunction(sum, Int32)", "sumState(v)", "sumMerge(sv)", "sum(v)"),
    ("sf", "AggregateFunction(sum, Float64)", "sumState(f)", "round(sumMerge(sf), 6)", "round(sum(f), 6)"),
    ("av", "AggregateFunction(avg, Int32)", "avgState(v)", "round(avgMerge(av), 9)", "round(avg(v), 9)"),
    ("mi", "AggregateFunction(min, String)", "minState(s)", "minMerge(mi)", "min(s)"),
    ("ma", "AggregateFunction(max, Float64)", "maxState(f)", "maxMerge(ma)", "max(f)"),
    ("amn", "AggregateFunction(argMin, String, Float64)", "argMinState(s, f)", "argMinMerge(amn)", "argMin(s, f)"),
    ("amx", "AggregateFunction(argMax, Int32, Float64)", "argMaxState(v, f)", "argMaxMerge(amx)", "argMax(v, f)"),
    ("ue", "AggregateFunction(uniqExact, String)", "uniqExactState(s)", "uniqExactMerge(ue)", "uniqExact(s)"),
    ("u", "AggregateFunction(uniq, Int32)", "uniqState(v)", "uniqMerge(u)", "uniq(v)"),
    ("q", "AggregateFunction(quantile(0.5), Int32)", "quantileState(0.5)(v)", "quantileMerge(0.5)(q)",
     "quantile(0.5)(v)"),
    ("qs", "AggregateFunction(quantiles(0.1, 0.9), Float64)", "quantilesState(0.1, 0.9)(f)",
     "arrayMap(x -> round(x, 6), quantilesMerge(0.1, 0.9)(qs))", "arrayMap(x -> round(x, 6), quantiles(0.1, 0.9)(f))"),
    ("ga", "AggregateFunction(groupArray, String)", "groupArrayState(s)", "arraySort(groupArrayMerge(ga))",
     "arraySort(groupArray(s))"),
    ("si", "AggregateFunction(sumIf, Int32, UInt8)", "sumIfState(v, v > 0)", "sumIfMerge(si)", "sumIf(v, v > 0)"),
    ("ci", "AggregateFunction(countIf, UInt8)", "countIfState(f > 0.5)", "countIfMerge(ci)", "countIf(f > 0.5)"),
    ("sn", "AggregateFunction(sum, Nullable(UInt16))", "sumState(n)", "sumMerge(sn)", "sum(n)"),
    ("mn", "AggregateFunction(max, Nullable(UInt16))", "maxState(n)", "maxMerge(mn)", "max(n)"),
]


def _random_rows(rng: random.Random, n: int, used_f: set) -> list:
    rows = []
    for _ in range(n):
        f = rng.random()
        while f in used_f:           # distinct f: argMin/argMax have no ties
            f = rng.random()
        used_f.add(f)
        rows.append((rng.randint(0, 4), rng.randint(-1000, 1000), round(f, 12), rng.choice("abcdefghij") * rng.randint(1, 3),
                     None if rng.random() < 0.3 else rng.randint(0, 500)))
    return rows


def _mv_statements(rng: random.Random, blocks: int = 8) -> tuple[list[str], list[str]]:
    target = ", ".join(f"{name} {t}" for name, t, *_ in STATES)
    select = ", ".join(f"{st} AS {name}" for name, _, st, *_ in STATES)
    stmts = [SOURCE,
             f"CREATE TABLE tgt (k UInt8, {target}) ENGINE = AggregatingMergeTree ORDER BY k",
             f"CREATE MATERIALIZED VIEW mv TO tgt AS SELECT k, {select} FROM src GROUP BY k"]
    used: set = set()
    for i in range(blocks):
        stmts.append(f"INSERT INTO src VALUES {values(_random_rows(rng, rng.randint(1, 40), used))}")
        if i == blocks // 2:
            stmts.append("OPTIMIZE TABLE tgt")
    merged = ", ".join(m for *_, m, _ in STATES)
    raw = ", ".join(r for *_, r in STATES)
    queries = [f"SELECT k, {merged} FROM tgt GROUP BY k ORDER BY k",
               f"SELECT {merged} FROM tgt",
               f"SELECT k, {raw} FROM src GROUP BY k ORDER BY k"]
    return stmts, queries


@pytest.mark.parametrize("seed", [1, pytest.param(2, marks=pytest.mark.slow), pytest.param(3, marks=pytest.mark.slow)])
def test_view_states_match_chdb_and_raw(seed):
    rng = random.Random(seed)
    stmts, queries = _mv_statements(rng)
    final_q = queries[0].replace("FROM tgt", "FROM tgt FINAL")
    stmts = stmts + queries + ["OPTIMIZE TABLE tgt FINAL", queries[0], final_q]
    ours, theirs = both(stmts)
    assert ours == theirs
    # and our own -Merge over the target equals the aggregate over the raw rows (columns aligned)
    assert ours[0] == ours[2]


def test_state_type_names_match_chdb():
    exprs = ["sumState(number)", "quantilesState(0.5, 0.9)(number)", "uniqIfState(number, number > 1)",
             "avgState(toUInt8(number))", "countState()", "groupArrayState(3)(number)",
             "argMaxState(toString(number), number)"]
    sql = "SELECT " + ", ".join(f"toTypeName({e})" for e in exprs) + " FROM numbers(3)"
    sql2 = ("SELECT toTypeName(sumMergeState(x)), toTypeName(finalizeAggregation(any(x))) FROM "
            "(SELECT number, sumState(number) AS x FROM numbers(3) GROUP BY number)")
    sql3 = "SELECT toTypeName(initializeAggregation('uniqState', number)) FROM numbers(1)"
    ours, theirs = both([sql, sql2, sql3])
    assert ours == theirs


def test_merge_state_finalize_initialize_match_chdb():
    stmts = [
        "SELECT finalizeAggregation(s), finalizeAggregation(u) FROM (SELECT number % 3 AS g, sumState(number) AS s, "
        "uniqState(number % 5) AS u FROM numbers(20) GROUP BY g) ORDER BY 1",
        "SELECT sumMerge(s2), uniqMerge(u2) FROM (SELECT sumMergeState(s) AS s2, uniqMergeState(u) AS u2 FROM "
        "(SELECT number % 3 AS g, sumState(number) AS s, uniqState(number % 5) AS u FROM numbers(20) GROUP BY g))",
        "SELECT finalizeAggregation(initializeAggregation('sumState', number)), "
        "finalizeAggregation(initializeAggregation('maxState', toString(number))) FROM numbers(4)",
        "SELECT sumSimpleState(number), maxSimpleState(number) FROM numbers(10)",
    ]
    ours, theirs = both(stmts)
    assert ours == theirs


def test_simple_aggregate_function_columns_match_chdb():
    rng = random.Random(7)
    stmts = ["CREATE TABLE t (k UInt8, s SimpleAggregateFunction(sum, UInt64), lo SimpleAggregateFunction(min, Int32), "
             "hi SimpleAggregateFunction(max, Float64), a SimpleAggregateFunction(anyLast, String), "
             "c AggregateFunction(count)) ENGINE = AggregatingMergeTree ORDER BY k"]
    for i in range(8):
        rows = [(rng.randint(0, 3), rng.randint(0, 100), rng.randint(-50, 50), rng.random(), "x" + str(i))
                for _ in range(rng.randint(1, 6))]
        stmts.append(f"INSERT INTO t (k, s, lo, hi, a) VALUES {values(rows)}")
    q = "SELECT k, sum(s), min(lo), max(hi) FROM t GROUP BY k ORDER BY k"
    stmts += [q, "SELECT k, s, lo, hi, a FROM t FINAL ORDER BY k", "OPTIMIZE TABLE t FINAL",
              "SELECT k, s, lo, hi, a, toTypeName(c) FROM t ORDER BY k", "SELECT count() FROM t", q]
    ours, theirs = both(stmts)
    assert ours == theirs


def test_summing_merge_tree_merges_state_columns_like_chdb():
    stmts = ["CREATE TABLE t (k UInt8, x UInt64, u AggregateFunction(uniq, UInt64)) ENGINE = SummingMergeTree ORDER BY k"]
    for i in range(5):
        stmts.append(f"INSERT INTO t SELECT number % 3, 1, uniqState(number + {i * 7}) FROM numbers(10) GROUP BY number % 3")
    stmts += ["OPTIMIZE TABLE t FINAL", "SELECT k, x, finalizeAggregation(u) FROM t ORDER BY k"]
    ours, theirs = both(stmts)
    assert ours == theirs


def test_uniq_merge_equals_raw_uniq_and_states_survive_reopen(tmp_path):
    rng = random.Random(3)
    db = mergetree.connect(tmp_path / "db", background_merges=False)
    db.sql("CREATE TABLE ev (d UInt8, user String, x Float64) ENGINE = MergeTree ORDER BY d")
    db.sql("CREATE TABLE daily (d UInt8, users AggregateFunction(uniq, String), p AggregateFunction(quantile, Float64), "
           "n AggregateFunction(count)) ENGINE = AggregatingMergeTree ORDER BY d")
    db.sql("CREATE MATERIALIZED VIEW dmv TO daily AS SELECT d, uniqState(user) AS users, quantileState(x) AS p, "
           "countState() AS n FROM ev GROUP BY d")
    for i in range(30):
        db.insert("ev", [{"d": rng.randint(0, 6), "user": f"u{rng.randint(0, 3000)}", "x": rng.random()}
                         for _ in range(rng.randint(50, 300))])
        if i % 10 == 9:
            db.optimize("daily", final=False)
    q_view = "SELECT d, uniqMerge(users), quantileMerge(p), countMerge(n) FROM daily GROUP BY d ORDER BY d"
    q_raw = "SELECT d, uniq(user), quantile(x), count() FROM ev GROUP BY d ORDER BY d"
    expected = db.sql(q_raw).rows
    assert db.sql(q_view).rows == expected
    db.close()
    db = mergetree.connect(tmp_path / "db", background_merges=False)
    assert db.views.names() == ["dmv"]
    assert db.sql(q_view).rows == expected
    db.optimize("daily", final=True)
    assert len(db.table("daily").parts()) == 1
    assert db.sql(q_view).rows == expected
    assert db.sql("SELECT count() FROM daily").rows == [(7,)]
    db.insert("ev", [{"d": 1, "user": "new-user", "x": 0.5}])          # the view still triggers
    assert db.sql(q_view).rows == db.sql(q_raw).rows
    db.close()


def test_state_errors():
    with mergetree.connect(background_merges=False) as db:
        db.sql("CREATE TABLE t (k UInt8, s AggregateFunction(sum, UInt64)) ENGINE = AggregatingMergeTree ORDER BY k")
        with pytest.raises(Exception, match="AggregateFunction\\(sum, UInt64\\)"):
            db.sql("SELECT uniqMerge(s) FROM t")
        with pytest.raises(Exception, match="finalizeAggregation"):
            db.sql("SELECT finalizeAggregation(k) FROM t")
        db.sql("INSERT INTO t SELECT 1, sumState(toUInt64(5))")
        assert db.sql("SELECT k, finalizeAggregation(s), toTypeName(s) FROM t").rows == [(1, 5, "AggregateFunction(sum, UInt64)")]
        with pytest.raises(Exception):
            db.sql("CREATE TABLE bad (k UInt8, s AggregateFunction(nosuchfn, UInt64)) ENGINE = AggregatingMergeTree ORDER BY k")


def test_state_kernels_match_numpy_twins():
    import numpy as np

    from mergetree.kernels.states import (combine_hashes, counting_order, counting_order_numpy, distinct_pairs,
                                          distinct_pairs_numpy, mixed_groups, mixed_groups_numpy)

    rng = np.random.default_rng(5)
    for n, groups, values in [(0, 1, 1), (1, 1, 1), (1000, 7, 50), (5000, 300, 20000), (3000, 3000, 10)]:
        gids = rng.integers(0, groups, n)
        hashes = rng.integers(0, values, n).astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        want = distinct_pairs_numpy(gids, hashes)
        # the first occurrence of each pair is kept, whichever kernel runs
        assert np.array_equal(distinct_pairs(gids, hashes), want)
        assert np.array_equal(distinct_pairs(gids, hashes, groups), want)
        src = rng.integers(0, 3, n).astype(np.uint64) * (rng.random(n) < 0.5)
        assert np.array_equal(mixed_groups(gids, src, groups), mixed_groups_numpy(gids, src, groups))
        order, offsets = counting_order(gids, groups)
        want_order, want_offsets = counting_order_numpy(gids, groups)
        assert np.array_equal(order, want_order) and np.array_equal(offsets, want_offsets)
    a = np.arange(10, dtype=np.uint64)
    assert len(set(combine_hashes(a, a[::-1]).tolist())) == 10


def test_uniq_merge_state_over_mixed_and_single_sources():
    with mergetree.connect(background_merges=False) as db:
        db.sql("CREATE TABLE s (g UInt8, u AggregateFunction(uniq, String)) ENGINE = AggregatingMergeTree ORDER BY g")
        for i in range(4):
            db.sql(f"INSERT INTO s SELECT number % 3, uniqState(toString(intDiv(number, 2) + {i * 3})) "
                   f"FROM numbers(30) GROUP BY number % 3")
        raw = [(g, len({str(n // 2 + i * 3) for i in range(4) for n in range(30) if n % 3 == g})) for g in range(3)]
        q = "SELECT g, uniqMerge(u) FROM s GROUP BY g ORDER BY g"
        assert db.sql(q).rows == raw
        assert db.sql("SELECT g, finalizeAggregation(uniqMergeState(u)) FROM s GROUP BY g ORDER BY g").rows == raw
        assert db.sql("SELECT uniqMerge(u) FROM s").rows == [(len({str(n // 2 + i * 3) for i in range(4)
                                                                    for n in range(30)}),)]
        db.optimize("s", final=True)
        assert db.sql("SELECT count() FROM s").rows == [(3,)]
        assert db.sql(q).rows == raw


# f(args) for every aggregate whose result does not depend on the order rows meet
ORDER_FREE = ["any(b)", "argMax(s, y)", "argMin(s, y)", "avg(x)", "avgWeighted(x, y)", "corr(x, y)", "count()",
              "covarPop(x, y)", "covarSamp(x, y)", "entropy(s)", "groupArraySorted(5)(x)", "max(s)",
              "maxMap([x], [y])", "median(y)", "min(y)", "minMap([x], [y])", "quantile(0.3)(x)",
              "quantileExact(0.3)(x)", "quantileTDigest(0.5)(y)", "quantileTiming(0.5)(x)", "quantiles(0.1, 0.9)(y)",
              "quantilesTDigest(0.5)(y)", "quantilesTiming(0.5)(x)", "stddevPop(y)", "stddevSamp(y)", "sum(x)",
              "sumWithOverflow(x)", "topKWeighted(3)(s, x)", "uniq(s)", "uniqCombined(s)", "uniqCombined64(s)",
              "uniqExact(s, x)", "uniqHLL12(x)", "uniqTheta(s)", "varPop(y)", "varSamp(y)", "sumIf(x, x > 0)",
              "uniqIf(s, x > 0)", "sumDistinct(x)", "sumArray(a)", "sumForEach(a)", "avgOrNull(x)",
              "arraySort(groupArray(x))", "arraySort(groupUniqArray(s))", "arraySort(groupArrayArray(a))",
              "arraySort(groupUniqArrayArray(a))"]


def _state_queries(f: str) -> tuple[str, str, str]:
    wrap = ""
    if f.startswith("arraySort("):
        wrap, f = "arraySort", f[len("arraySort("):-1]
    name = f[:f.index("(")]
    rest = f[len(name):]
    params, args = (rest[:rest.index(")(") + 1], rest[rest.index(")(") + 1:]) if ")(" in rest else ("", rest)
    w = (lambda e: f"{wrap}({e})") if wrap else (lambda e: e)
    parts = f"(SELECT g, b, {name}State{params}{args} AS st FROM t GROUP BY g, b)"
    return (f"SELECT g, {w(f'{name}Merge{params}(st)')} FROM {parts} GROUP BY g ORDER BY g",
            f"SELECT g, {w(f)} FROM t GROUP BY g ORDER BY g",
            f"SELECT g, {w('finalizeAggregation(st)')} FROM (SELECT g, {name}MergeState{params}(st) AS st FROM {parts} "
            f"GROUP BY g) ORDER BY g")


def test_every_aggregate_state_merges_to_the_aggregate():
    """fMerge over states of many groups (and fMergeState + finalizeAggregation) == f over the rows."""
    rng = random.Random(11)
    with mergetree.connect(background_merges=False) as db:
        db.sql("CREATE TABLE t (g UInt8, b UInt8, x Int32, y Float64, s String, a Array(UInt8)) ENGINE = MergeTree ORDER BY g")
        for _ in range(5):
            db.insert("t", [{"g": rng.randint(0, 3), "b": rng.randint(0, 5), "x": rng.randint(-50, 50),
                             "y": round(rng.random() * 100, 3), "s": rng.choice("abcdef"),
                             "a": [rng.randint(0, 3) for _ in range(rng.randint(0, 3))]} for _ in range(60)])
        db.sql("OPTIMIZE TABLE t FINAL")

        def norm(rows):
            return [tuple(round(v, 4) if isinstance(v, float) else
                          [round(e, 4) if isinstance(e, float) else e for e in v] if isinstance(v, list) else
                          tuple([round(e, 4) if isinstance(e, float) else e for e in x] for x in v)
                          if isinstance(v, tuple) else v for v in r) for r in rows]

        failures = []
        for f in ORDER_FREE:
            merged, raw, merge_state = _state_queries(f)
            try:
                a, b, c = norm(db.sql(merged).rows), norm(db.sql(raw).rows), norm(db.sql(merge_state).rows)
            except Exception as e:  # noqa: BLE001 - collected below
                failures.append(f"{f}: {type(e).__name__}: {e}")
                continue
            if not a == b == c:
                failures.append(f"{f}: merge {a[:2]} raw {b[:2]} mergeState {c[:2]}")
        assert not failures, "\n".join(failures)


def test_low_cardinality_sources_give_plain_state_types():
    """As ClickHouse: uniqState(LowCardinality(String)) is AggregateFunction(uniq, String)."""
    with mergetree.connect(background_merges=False) as db:
        db.sql("CREATE TABLE s (k UInt8, c LowCardinality(String)) ENGINE = MergeTree ORDER BY k")
        db.sql("CREATE TABLE t (k UInt8, u AggregateFunction(uniq, String), m AggregateFunction(max, String), "
               "e AggregateFunction(uniqExact, String), mx SimpleAggregateFunction(max, String)) "
               "ENGINE = AggregatingMergeTree ORDER BY k")
        db.sql("CREATE MATERIALIZED VIEW v TO t AS SELECT k, uniqState(c) AS u, maxState(c) AS m, "
               "uniqExactState(c) AS e, max(c) AS mx FROM s GROUP BY k")
        db.insert("s", {"k": [1, 1, 2], "c": ["a", "b", "a"]})
        db.insert("s", {"k": [1, 2], "c": ["c", "a"]})
        assert db.sql("SELECT k, uniqMerge(u), maxMerge(m), uniqExactMerge(e), max(mx) FROM t GROUP BY k "
                      "ORDER BY k").rows == [(1, 3, "c", 3, "c"), (2, 1, "a", 1, "a")]
        assert db.sql("SELECT toTypeName(uniqState(c)) FROM s").rows == [("AggregateFunction(uniq, String)",)]
