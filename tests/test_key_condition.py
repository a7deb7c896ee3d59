"""KeyCondition: granule and part pruning.

The central property: pruning never drops a matching row. Random sorted data is split into
granules, random conditions (atoms, AND/OR/NOT, monotonic functions of the key, conditions on a
column whose key is a function of it) are evaluated row by row with the expression evaluator, and
every matching row must lie in a selected mark range / a part the minmax and partition checks keep.
Plus effectiveness (a one-hour range over 90 days reads <= 2% of granules) and hand-computed cases.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mergetree import types as T
from mergetree.column import Block, column_from_numpy, column_from_values
from mergetree.exec.expression import evaluate
from mergetree.storage.key_condition import KeyCondition
from sqlparse_ch.ast.expr import (Between, BinaryOp, FunctionCall, Identifier, InList, Interval, IsNull, Literal,
                                  UnaryOp)

L, I = Literal, Identifier


def F(name, *args):
    return FunctionCall(name, tuple(args))


def B(op, a, b):
    return BinaryOp(op, a, b)


def AND(*xs):
    out = xs[0]
    for x in xs[1:]:
        out = B("AND", out, x)
    return out


BASE = 1706745600  # 2024-02-01 00:00:00 UTC
USERS = ["", "a", "ab", "abc", "b", "ba", "bb", "c", "\xff", "\xffa"]


def make_block(rng, n: int, tz: str | None, lc: bool = False) -> Block:
    ts = (BASE + rng.integers(-2 * 86400, 3 * 86400, n)).astype(np.uint32)
    return Block({
        "ts": column_from_numpy(T.DateTimeType(tz), ts),
        "user": column_from_values(T.LowCardinality(T.String) if lc else T.String,
                                   [USERS[i] for i in rng.integers(0, len(USERS), n)]),
        "n": column_from_numpy(T.Int16, rng.integers(-6, 6, n).astype(np.int16)),
    })


def sort_and_index(block: Block, keys: list, granule: int):
    """Sort by the key expressions; (sorted block, primary index, n_marks, granule starts)."""
    key_cols = [evaluate(k, block) for k in keys]
    order_keys = []
    for c in key_cols:
        k = c.order_key()
        order_keys.extend(k if isinstance(k, tuple) else (k,))
    perm = np.lexsort(order_keys[::-1])
    block = block.take(perm)
    key_cols = [c.take(perm) for c in key_cols]
    n = block.num_rows
    starts = np.arange(0, n, granule)
    index_rows = np.r_[starts, n - 1]
    index = Block({f"k{i}": c.take(index_rows) for i, c in enumerate(key_cols)})
    return block, index, len(starts), starts


def selected_rows(ranges, starts, n) -> np.ndarray:
    mask = np.zeros(n, np.bool_)
    bounds = np.r_[starts, n]
    for a, b in ranges:
        mask[bounds[a]:bounds[b]] = True
    return mask


def matches(cond, block) -> np.ndarray:
    vals = evaluate(cond, block).to_pylist()
    return np.array([v == 1 for v in vals], np.bool_)


LAYOUTS = [
    [I("ts")],
    [I("ts"), I("user")],
    [F("toDate", I("ts")), I("user")],
    [F("toStartOfHour", I("ts")), I("n")],
    [I("user"), I("n")],
    [I("n"), I("ts")],
    [F("intDiv", I("n"), L(4)), F("negate", I("n"))],
]


def _local_text(sec: int, tz: str | None, fmt: str) -> str:
    d = dt.datetime.fromtimestamp(sec, dt.timezone.utc)
    if tz:
        import zoneinfo

        d = d.astimezone(zoneinfo.ZoneInfo(tz))
    return d.strftime(fmt)


@st.composite
def conditions(draw, block: Block, tz, depth=3):
    ts_vals = block["ts"].values
    n = block.num_rows

    def ts_const():
        sec = int(ts_vals[draw(st.integers(0, n - 1))]) + draw(st.sampled_from([0, 0, 1, -1, 3600, -86400, 1800]))
        kind = draw(st.sampled_from(["text", "int", "date"]))
        if kind == "int":
            return L(sec)
        if kind == "date":
            return L(_local_text(sec, tz, "%Y-%m-%d"))
        return L(_local_text(sec, tz, "%Y-%m-%d %H:%M:%S"))

    def atom():
        kind = draw(st.sampled_from(["ts", "date", "hour", "user", "n", "in", "between", "prefix", "like",
                                     "unknown", "const", "isnull", "ndiv", "nchain", "nchain", "tschain",
                                     "tschain", "nraw", "nraw"]))
        op = draw(st.sampled_from(["=", "!=", "<", "<=", ">", ">="]))
        swap = draw(st.booleans())

        def cmp(lhs, rhs):
            return B(op, rhs, lhs) if swap else B(op, lhs, rhs)

        if kind == "ts":
            return cmp(I("ts"), ts_const())
        if kind == "date":  # a Date compares with date text only (ClickHouse: TYPE_MISMATCH otherwise)
            c = ts_const()
            return cmp(F("toDate", I("ts")), L(c.value[:10]) if isinstance(c.value, str)
                       else L(_local_text(c.value, tz, "%Y-%m-%d")))
        if kind == "hour":
            c = ts_const()
            return cmp(F("toStartOfHour", I("ts")), c if not isinstance(c.value, int) else F("toDateTime", c))
        if kind == "user":
            return cmp(I("user"), L(draw(st.sampled_from(USERS + ["aa", "bz", "\xff\xff"]))))
        if kind == "n":
            return cmp(draw(st.sampled_from([I("n"), B("+", I("n"), L(1)), UnaryOp("-", I("n")),
                                             B("*", I("n"), L(-2))])), L(draw(st.integers(-7, 7))))
        if kind == "nraw":
            return cmp(I("n"), L(draw(st.integers(-7, 7))))
        if kind == "nchain":  # decreasing and non-trivial monotonic chains over n
            e = draw(st.sampled_from([UnaryOp("-", I("n")), B("*", I("n"), L(-2)), UnaryOp("-", B("+", I("n"), L(1))),
                                      F("intDiv", I("n"), L(-2)), B("-", L(3), I("n")), F("toInt64", I("n")),
                                      # wraps around for n >= 5: monotonic only piecewise
                                      B("+", F("toInt64", I("n")), L(9223372036854775803))]))
            if isinstance(e, BinaryOp) and e.op == "+" and isinstance(e.right, Literal) and e.right.value > 2**62:
                return cmp(e, L(9223372036854775803 + draw(st.integers(-8, 4))))
            return cmp(e, L(draw(st.integers(-8, 8))))
        if kind == "tschain":
            c = ts_const()
            e, c = draw(st.sampled_from([
                (B("+", I("ts"), Interval(L(5), "HOUR")), F("toDateTime", c)),
                (B("-", I("ts"), Interval(L(1), "DAY")), F("toDateTime", c)),
                (F("toUnixTimestamp", I("ts")), F("toUnixTimestamp", F("toDateTime", c))),
                (UnaryOp("-", F("toUnixTimestamp", I("ts"))), UnaryOp("-", F("toUnixTimestamp", F("toDateTime", c)))),
                (F("toYYYYMMDD", I("ts")), F("toYYYYMMDD", F("toDateTime", c))),
                (F("toMonday", I("ts")), F("toMonday", F("toDateTime", c)))]))
            return cmp(e, c)
        if kind == "ndiv":
            return cmp(F("intDiv", I("n"), L(4)), L(draw(st.integers(-3, 3))))
        if kind == "in":
            target = draw(st.sampled_from(["user", "n", "ts"]))
            if target == "user":
                vals = tuple(L(v) for v in draw(st.lists(st.sampled_from(USERS), min_size=1, max_size=3)))
            elif target == "n":
                vals = tuple(L(v) for v in draw(st.lists(st.integers(-7, 7), min_size=1, max_size=3)))
            else:
                vals = tuple(ts_const() for _ in range(draw(st.integers(1, 3))))
                vals = tuple(v if not (isinstance(v.value, str) and len(v.value) == 10) else L(v.value + " 00:00:00")
                             for v in vals)
            return InList(I(target), vals, draw(st.booleans()))
        if kind == "between":
            lo, hi = ts_const(), ts_const()
            return Between(I("ts"), lo, hi, draw(st.booleans()))
        if kind == "prefix":
            return F("startsWith", I("user"), L(draw(st.sampled_from(["", "a", "ab", "b", "\xff", "c", "z"]))))
        if kind == "like":
            pat = draw(st.sampled_from(["a%", "ab%", "%b", "b_", "\xff%", "%", "a\\%%", "ba"]))
            return B(draw(st.sampled_from(["LIKE", "NOT LIKE"])), I("user"), L(pat))
        if kind == "isnull":
            return IsNull(I("user"), draw(st.booleans()))
        if kind == "const":
            return L(draw(st.sampled_from([0, 1])))
        return B("=", B("%", I("n"), L(3)), L(1))  # not monotonic: unknown

    def build(d):
        if d == 0 or draw(st.integers(0, 2)) == 0:
            return atom()
        kind = draw(st.sampled_from(["AND", "OR", "NOT"]))
        if kind == "NOT":
            return UnaryOp("NOT", build(d - 1))
        return B(kind, build(d - 1), build(d - 1))

    return build(depth)


SCHEMA_TZ = [None, "Asia/Kolkata", "America/New_York"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data())
def test_pruning_never_drops_a_matching_row(data):
    tz = data.draw(st.sampled_from(SCHEMA_TZ))
    keys = data.draw(st.sampled_from(LAYOUTS))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    n = data.draw(st.integers(1, 250))
    granule = data.draw(st.integers(1, 24))
    block = make_block(rng, n, tz, lc=data.draw(st.booleans()))
    block, index, n_marks, starts = sort_and_index(block, keys, granule)
    cond = data.draw(conditions(block, tz))
    want = matches(cond, block)

    kc = KeyCondition(cond, keys, block.schema)
    exclusion = kc.select_mark_ranges(index, n_marks, search="exclusion")
    vectorized = kc.select_mark_ranges(index, n_marks, search="vectorized")
    # the vectorized search evaluates exactly the leaves the exclusion search reaches
    if all(a.always for a in kc.atoms):
        assert exclusion == vectorized, (kc.describe(), exclusion, vectorized)
    for search in ("auto", "exclusion", "vectorized"):
        ranges = kc.select_mark_ranges(index, n_marks, search=search)
        assert all(0 <= a < b <= n_marks for a, b in ranges)
        assert all(r1[1] < r2[0] for r1, r2 in zip(ranges, ranges[1:]))  # sorted, coalesced
        got = selected_rows(ranges, starts, n)
        dropped = np.nonzero(want & ~got)[0]
        assert dropped.size == 0, (f"{search}: dropped rows {dropped[:5].tolist()} of {n}; rpn: {kc.describe()}; "
                                   f"ranges {ranges}")

    # minmax of the raw column and the partition value through toYYYYMM never drop a part with a match
    parts = evaluate(F("toYYYYMM", I("ts")), block).to_pylist()
    part_kc = KeyCondition(cond, [F("toYYYYMM", I("ts"))], block.schema)
    ts_kc = KeyCondition(cond, [I("ts")], block.schema)
    for value in set(parts):
        rows = np.array([p == value for p in parts])
        if not (want & rows).any():
            continue
        sub = block.filter(rows)
        assert part_kc.may_be_true_on_partition([F("toYYYYMM", I("ts"))], (value,))
        lo, hi = min(sub["ts"].to_pylist()), max(sub["ts"].to_pylist())
        assert ts_kc.may_be_true_in_hyperrectangle([(lo, hi)])


# --------------------------------------------------------------------------- effectiveness


def _events_index(keys_from_ts, rows=2_000_000, granule=8192):
    rng = np.random.default_rng(42)
    start = 1704067200  # 2024-01-01
    ts = np.sort(rng.integers(start, start + 90 * 86400, rows)).astype(np.uint32)
    idx = np.r_[np.arange(0, rows, granule), rows - 1]
    col = column_from_numpy(T.DateTime, ts[idx])
    block = Block({"timestamp": col})
    index = Block({f"k{i}": evaluate(k, block) for i, k in enumerate(keys_from_ts)})
    return index, len(idx) - 1


ONE_HOUR = AND(B(">=", I("timestamp"), L("2024-02-10 13:00:00")), B("<", I("timestamp"), L("2024-02-10 14:00:00")))
SCHEMA = {"timestamp": T.DateTime, "user_id": T.String}


@pytest.mark.parametrize("where", [
    ONE_HOUR,
    Between(I("timestamp"), L("2024-02-10 13:00:00"), L("2024-02-10 13:59:59"), False),
    B("=", F("toStartOfHour", I("timestamp")), L("2024-02-10 13:00:00")),
    UnaryOp("NOT", B("OR", B("<", I("timestamp"), L("2024-02-10 13:00:00")),
                     B(">=", I("timestamp"), L("2024-02-10 14:00:00")))),
])
def test_one_hour_range_reads_at_most_two_percent_of_granules(where):
    index, n_marks = _events_index([I("timestamp")])
    kc = KeyCondition(where, [I("timestamp"), I("user_id")], SCHEMA)
    for search in ("auto", "exclusion"):
        ranges = kc.select_mark_ranges(index, n_marks, search=search)
        selected = sum(b - a for a, b in ranges)
        assert 1 <= selected <= 0.02 * n_marks, (search, selected, n_marks)


def test_one_hour_range_with_a_date_key_reads_one_day():
    index, n_marks = _events_index([F("toDate", I("timestamp"))])
    kc = KeyCondition(ONE_HOUR, [F("toDate", I("timestamp")), I("user_id")], SCHEMA)
    selected = sum(b - a for a, b in kc.select_mark_ranges(index, n_marks))
    assert 1 <= selected <= 0.02 * n_marks  # one day of 90 (~1.1%) plus boundary granules


# --------------------------------------------------------------------------- hand-computed cases


def _index(**cols):
    return Block({k: column_from_values(t, v) for k, (t, v) in cols.items()})


def test_binary_search_on_sorted_first_key():
    # granule g holds keys in [10 g, 10 g + 9]; final mark 99
    index = _index(k=(T.UInt32, [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 99]))
    kc = KeyCondition(AND(B(">=", I("x"), L(25)), B("<", I("x"), L(41))), [I("x")], {"x": T.UInt32})
    assert kc.select_mark_ranges(index, 10) == [(2, 5)]  # granule 4 may start with 40
    assert kc.select_mark_ranges(index, 10, search="exclusion") == [(2, 5)]
    kc = KeyCondition(B(">", I("x"), L(99)), [I("x")], {"x": T.UInt32})
    assert kc.select_mark_ranges(index, 10) == []
    kc = KeyCondition(B("=", I("x"), L(40)), [I("x")], {"x": T.UInt32})
    assert kc.select_mark_ranges(index, 10) == [(3, 5)]  # 40 may end granule 3 or start granule 4


def test_second_key_prunes_where_the_first_is_constant():
    index = _index(a=(T.UInt8, [1, 1, 1, 2, 2, 3]), b=(T.String, ["a", "f", "m", "c", "x", "z"]))
    kc = KeyCondition(B("=", I("b"), L("d")), [I("a"), I("b")], {"a": T.UInt8, "b": T.String})
    # granules [1a..1f] [1f..1m] [1m..2c] [2c..2x] [2x..3z]: 'd' fits granule 0 and 3; granule 1 is
    # pruned (a = 1 and b in [f, m]); granules 2 and 4 are kept because a in the open interval (1, 2)
    # (resp. (2, 3)) is treated as possibly non-empty (no integer reasoning), which is conservative
    assert kc.select_mark_ranges(index, 5, search="exclusion") == [(0, 1), (2, 5)]


def test_or_of_days_and_not_in():
    index = _index(d=(T.Date, ["2024-01-01", "2024-01-05", "2024-01-10", "2024-01-15", "2024-01-20", "2024-01-25"]))
    schema = {"d": T.Date}
    kc = KeyCondition(B("OR", B("=", I("d"), L("2024-01-03")), B("=", I("d"), L("2024-01-22"))), [I("d")], schema)
    assert kc.select_mark_ranges(index, 5) == [(0, 1), (4, 5)]
    kc = KeyCondition(InList(I("d"), (L("2024-01-03"), L("2024-01-22")), False), [I("d")], schema)
    assert kc.select_mark_ranges(index, 5) == [(0, 1), (4, 5)]
    # NOT IN prunes only a granule whose whole range is one excluded value
    index = _index(d=(T.Date, ["2024-01-01", "2024-01-03", "2024-01-03", "2024-01-04"]))
    kc = KeyCondition(InList(I("d"), (L("2024-01-03"),), True), [I("d")], schema)
    assert kc.select_mark_ranges(index, 3) == [(0, 1), (2, 3)]


def test_date_key_against_datetime_constant():
    index = _index(d=(T.Date, ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"]))
    kc = KeyCondition(B(">", I("d"), F("toDateTime", L("2024-01-03 12:00:00"))), [I("d")], {"d": T.Date})
    # d > 2024-01-03 12:00 means d >= 2024-01-04: only the last granule [01-03, 01-04]
    assert kc.select_mark_ranges(index, 3) == [(2, 3)]


def test_condition_on_column_with_function_key_and_negation():
    # key toDate(ts); NOT (ts < X) must still prune through the relaxed atom toDate(ts) >= toDate(X)
    index = _index(k=(T.Date, ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"]))
    schema = {"ts": T.DateTime}
    kc = KeyCondition(UnaryOp("NOT", B("<", I("ts"), L("2024-01-04 10:00:00"))), [F("toDate", I("ts"))], schema)
    assert kc.select_mark_ranges(index, 4) == [(2, 4)]
    # the opposite direction: a condition on toDate(ts) with key ts
    index = _index(ts=(T.DateTime, ["2024-01-01 00:00:00", "2024-01-01 12:00:00", "2024-01-02 00:00:00",
                                     "2024-01-02 12:00:00", "2024-01-03 00:00:00"]))
    kc = KeyCondition(B("=", F("toDate", I("ts")), L("2024-01-02")), [I("ts")], schema)
    assert kc.select_mark_ranges(index, 4) == [(1, 4)]


def test_string_prefix_ranges():
    index = _index(s=(T.String, ["a", "abc", "abz", "b", "b\xff", "c"]))
    schema = {"s": T.String}
    kc = KeyCondition(F("startsWith", I("s"), L("ab")), [I("s")], schema)
    assert kc.select_mark_ranges(index, 5) == [(0, 3)]
    kc = KeyCondition(B("LIKE", I("s"), L("b%")), [I("s")], schema)
    assert kc.select_mark_ranges(index, 5) == [(2, 5)]
    kc = KeyCondition(B("LIKE", I("s"), L("%b")), [I("s")], schema)  # not a prefix: unknown
    assert kc.select_mark_ranges(index, 5) == [(0, 5)]


def test_partition_pruning_through_toYYYYMM_and_minmax():
    schema = {"ts": T.DateTimeType("America/New_York")}
    where = B(">=", I("ts"), L("2024-02-01 00:00:00"))
    kc = KeyCondition(where, [F("toYYYYMM", I("ts"))], schema)
    assert not kc.may_be_true_on_partition([F("toYYYYMM", I("ts"))], (202401,))
    assert kc.may_be_true_on_partition([F("toYYYYMM", I("ts"))], (202402,))
    assert not kc.may_be_true_on_minmax({"ts": (dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc),
                                                 dt.datetime(2024, 2, 1, 4, 59, 59, tzinfo=dt.timezone.utc))})
    assert kc.may_be_true_on_minmax({"ts": (dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc),
                                             dt.datetime(2024, 2, 1, 5, 0, 0, tzinfo=dt.timezone.utc))})


def test_may_be_true_in_range_lexicographic():
    kc = KeyCondition(B("=", I("b"), L(5)), [I("a"), I("b")], {"a": T.UInt8, "b": T.UInt8})
    assert not kc.may_be_true_in_range((1, 6), (1, 9))
    assert kc.may_be_true_in_range((1, 6), (2, 0))      # conservative: a in the open interval (1, 2)
    assert kc.may_be_true_in_range((1, 6), (3, 0))      # a = 2 allows any b
    assert kc.describe() == "key 1 equals 5"


def test_constant_conditions_and_unknowns():
    index = _index(x=(T.UInt8, [0, 10, 20]))
    schema = {"x": T.UInt8, "y": T.UInt8}
    assert KeyCondition(L(0), [I("x")], schema).select_mark_ranges(index, 2) == []
    assert KeyCondition(B("=", I("y"), L(1)), [I("x")], schema).select_mark_ranges(index, 2) == [(0, 2)]
    assert KeyCondition(B("AND", B("=", I("y"), L(1)), B("<", I("x"), L(5))), [I("x")],
                        schema).select_mark_ranges(index, 2) == [(0, 1)]
    assert KeyCondition(B("=", I("x"), L(None)), [I("x")], schema).select_mark_ranges(index, 2) == []


def test_wrapping_chain_is_not_trusted_across_the_wrap():
    # toInt64(n) + C wraps around between n = 4 and n = 5: granule [4, 5] must not be pruned
    index = _index(n=(T.Int64, [3, 4, 5, 6]))
    c = 9223372036854775803
    kc = KeyCondition(B("=", B("+", I("n"), L(c)), L(c + 4)), [I("n")], {"n": T.Int64})
    assert kc.select_mark_ranges(index, 3, search="exclusion") == [(0, 2)]


def test_decreasing_key_expression_flips_relaxed_atoms():
    # key -n sorted ascending means n descending; n < 0 implies -n > 0
    index = _index(k=(T.Int16, [-5, -2, 0, 3, 6]))
    kc = KeyCondition(B("<", I("n"), L(0)), [UnaryOp("-", I("n"))], {"n": T.Int8})
    assert kc.select_mark_ranges(index, 4) == [(1, 4)]


def test_low_cardinality_and_datetime64_keys():
    lc = T.LowCardinality(T.String)
    index = Block({"e": column_from_values(lc, ["buy", "buy", "click", "view", "view"]),
                   "t": column_from_values(T.DateTime64(3), ["2024-01-01 00:00:00.000", "2024-01-03 00:00:00.500",
                                                             "2024-01-01 00:00:00.000", "2024-01-01 00:00:00.000",
                                                             "2024-01-09 00:00:00.000"])})
    schema = {"e": lc, "t": T.DateTime64(3)}
    keys = [I("e"), I("t")]
    assert KeyCondition(B("=", I("e"), L("click")), keys, schema).select_mark_ranges(index, 4) == [(1, 3)]
    assert KeyCondition(InList(I("e"), (L("view"),), False), keys, schema).select_mark_ranges(index, 4) == [(2, 4)]
    assert KeyCondition(F("startsWith", I("e"), L("b")), keys, schema).select_mark_ranges(index, 4) == [(0, 2)]
    # e = 'buy' fixes the first key on granule 0, so the DateTime64 condition prunes it
    kc = KeyCondition(AND(B("=", I("e"), L("buy")), B(">", I("t"), L("2024-01-03 00:00:01"))), keys, schema)
    assert kc.select_mark_ranges(index, 4, search="exclusion") == [(1, 2)]
    kc = KeyCondition(B("=", F("toDate", I("t")), L("2024-01-05")), [I("t")], {"t": T.DateTime64(3)})
    assert kc.select_mark_ranges(Block({"t": index["t"]}), 4) == [(3, 4)]


def test_for_table_prunes_parts_and_granules():
    from types import SimpleNamespace

    schema = [("ts", T.DateTime), ("user_id", T.String)]
    meta = SimpleNamespace(primary_key_asts=[I("ts"), I("user_id")], schema=schema,
                           partition_key_asts=[F("toYYYYMM", I("ts"))], partition_columns=["ts"])
    where = AND(B(">=", I("ts"), L("2024-02-10 00:00:00")), B("<", I("ts"), L("2024-02-11 00:00:00")))
    kc = KeyCondition.for_table(meta, where)

    def part(month, lo, hi):
        return SimpleNamespace(partition_value=(month,), minmax={"ts": (lo, hi)})

    jan = part(202401, dt.datetime(2024, 1, 1), dt.datetime(2024, 1, 31, 23))
    feb = part(202402, dt.datetime(2024, 2, 1), dt.datetime(2024, 2, 29, 23))
    feb_early = part(202402, dt.datetime(2024, 2, 1), dt.datetime(2024, 2, 9, 23))
    assert [kc.may_match_part(p) for p in (jan, feb, feb_early)] == [False, True, False]
    index = Block({"ts": column_from_values(T.DateTime, ["2024-02-01 00:00:00", "2024-02-09 00:00:00",
                                                         "2024-02-10 12:00:00", "2024-02-20 00:00:00"]),
                   "user_id": column_from_values(T.String, ["a", "b", "c", "d"])})
    assert kc.select_mark_ranges(index, 3) == [(1, 3)]


def test_unanalysable_parts_are_unknown_not_errors():
    from sqlparse_ch.ast.expr import Case, Subquery

    index = _index(x=(T.UInt8, [0, 10, 20, 30]))
    schema = {"x": T.UInt8}
    prune = B("<", I("x"), L(5))
    for other in (InList(I("x"), Subquery(None), False), Case(None, ((B(">", I("x"), L(7)), L(1)),), L(0)),
                  B("=", I("no_such_column"), L(1)), F("no_such_function", I("x"))):
        assert KeyCondition(AND(prune, other), [I("x")], schema).select_mark_ranges(index, 3) == [(0, 1)]
        assert KeyCondition(B("OR", prune, other), [I("x")], schema).select_mark_ranges(index, 3) == [(0, 3)]
        assert KeyCondition(UnaryOp("NOT", other), [I("x")], schema).select_mark_ranges(index, 3) == [(0, 3)]


def test_datetime64_key_against_fractional_text():
    index = Block({"t": column_from_values(T.DateTime64(3), ["2024-01-01 00:00:00.100", "2024-01-01 00:00:00.400",
                                                             "2024-01-01 00:00:00.700", "2024-01-01 00:00:01.000"])})
    kc = KeyCondition(B(">", I("t"), L("2024-01-01 00:00:00.700")), [I("t")], {"t": T.DateTime64(3)})
    assert kc.select_mark_ranges(index, 3) == [(2, 3)]
    kc = KeyCondition(B("=", I("t"), L("2024-01-01 00:00:00.250")), [I("t")], {"t": T.DateTime64(3)})
    assert kc.select_mark_ranges(index, 3) == [(0, 1)]
