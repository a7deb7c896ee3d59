"""The executor's fixed per-query work: expressions bound once per statement and per operator.

Expectations are hand-derived (types from ClickHouse's rules, values computed by hand)."""

from __future__ import annotations

import numpy as np
import pytest

from mergetree import types as T
from mergetree.column import Block, FixedColumn, StringColumn, column_from_values
from mergetree.errors import MergeTreeError
from mergetree.exec.context import query_scope
from mergetree.exec.expression import BColumn, bind, execute
from sqlparse_ch import parse_expr


def test_same_ast_is_bound_once_per_statement():
    e = parse_expr("a + 1 > 2 AND b = 'x'")
    schema = {"a": T.UInt8, "b": T.String}
    with query_scope():
        first = bind(e, schema)
        assert bind(e, dict(schema)) is first              # equal schema, another dict: same bound tree
        assert bind(e, {**schema, "c": T.Int64}) is first   # an unrelated column does not matter
    with query_scope():
        assert bind(e, schema) is not first                 # a new statement binds again
    assert bind(e, schema) is not bind(e, schema)           # outside a statement: no cache


def test_cached_binding_checks_the_columns_it_resolved():
    e = parse_expr("a + 1")
    with query_scope():
        assert bind(e, {"a": T.UInt8}).type == T.UInt16     # UInt8 + UInt8 -> UInt16
        assert bind(e, {"a": T.Int32}).type == T.Int64      # Int32 + UInt8 -> Int64
        assert bind(e, {"a": T.UInt8}).type == T.UInt16
        with pytest.raises(MergeTreeError):
            bind(e, {"b": T.UInt8})                          # a is gone: still an error


def test_qualified_name_resolution_is_rechecked():
    e = parse_expr("t.a + 0")
    with query_scope():
        b1 = bind(e, {"a": T.UInt8})                        # falls back to the bare name
        b2 = bind(e, {"t.a": T.Int16, "a": T.UInt8})        # now the qualified column wins
    assert b1.args[0].name == "a" and b2.args[0].name == "t.a"
    assert b2.type == T.Int32                                # Int16 + UInt8 -> Int32


def test_lambda_bodies_are_not_cached_across_schemas():
    e = parse_expr("arrayMap(x -> x + k, arr)")
    block8 = Block({"arr": _array([1, 2]), "k": FixedColumn(T.UInt8, np.array([10], np.uint8))})
    with query_scope():
        b1 = bind(e, {"arr": T.Array(T.UInt8), "k": T.UInt8})
        b2 = bind(e, {"arr": T.Array(T.UInt8), "k": T.Int64})
        assert b1 is not b2
        assert str(b1.type) == "Array(UInt16)" and str(b2.type) == "Array(Int64)"
        assert execute(b1, block8).to_pylist() == [[11, 12]]


def test_now_is_one_value_per_statement():
    e = parse_expr("now()")
    with query_scope():
        a = bind(e, {})
        b = bind(e, {})
    assert a is b


def _array(values):
    return column_from_values("Array(UInt8)", [values])


def test_expression_and_project_are_bound_once_per_operator(monkeypatch):
    """A subquery's Expression/Project chain under a GROUP BY runs per block inside the scan: the
    operators' expressions are bound once per query, not once per block (part)."""
    import mergetree
    import mergetree.exec.expression as X

    db = mergetree.connect()
    db.stop_merges()
    for name, parts in (("one", 1), ("four", 4)):
        db.create_table(name, "k UInt8, v UInt32", order_by="k")
        rows = [(i, 10 * i + j) for i in range(4) for j in range(2)]     # k 0..3, v 10k + {0, 1}
        for p in range(parts):
            chunk = rows[p::parts]
            db.insert(name, {"k": [k for k, _ in chunk], "v": [v for _, v in chunk]})
    calls = []
    real = X._Binder.bind
    monkeypatch.setattr(X._Binder, "bind", lambda self, e: (calls.append(e), real(self, e))[1])
    counts = {}
    for name in ("one", "four", "one", "four"):       # the second round: table-level caches are warm
        calls.clear()
        r = db.sql(f"SELECT k, count() AS c, sum(v) AS s FROM (SELECT k, v + 1 AS v FROM {name} WHERE v < 100) "
                   "GROUP BY k ORDER BY k")
        assert r.rows == [(0, 2, 3), (1, 2, 23), (2, 2, 43), (3, 2, 63)]
        counts[name] = len(calls)
    with db.table("four").snapshot() as snap:
        assert len(snap.parts) == 4
    assert counts["four"] == counts["one"]                   # no growth with the parts read
    db.close()


def test_string_ranks_by_hand():
    """StringColumn.dense_ranks orders bytes as memcmp does: "" < "ab" < "b" < "\xff"."""
    from mergetree.column import StringColumn

    col = StringColumn(T.String, np.array([0, 1, 1, 3, 4], np.int64), np.frombuffer(b"bab\xff", np.uint8).copy())
    assert col.dense_ranks().tolist() == [2, 0, 1, 3]


def test_group_by_with_parts_that_match_nothing():
    """Blocks with no rows left after WHERE give no groups; the others' groups are merged as usual."""
    import mergetree

    db = mergetree.connect()
    db.stop_merges()
    db.create_table("e", "u String, k String, v UInt32", order_by="u")
    db.insert("e", {"u": ["a", "a", "b"], "k": ["x", "y", "x"], "v": [1, 2, 3]})
    db.insert("e", {"u": ["b", "c"], "k": ["y", "y"], "v": [4, 5]})
    db.insert("e", {"u": ["a"], "k": ["y"], "v": [6]})
    q = "SELECT k, count() AS c, max(v) AS m FROM (SELECT k, v FROM e WHERE u = '{}') GROUP BY k ORDER BY c DESC, k"
    assert db.sql(q.format("a")).rows == [("y", 2, 6), ("x", 1, 1)]
    assert db.sql(q.format("c")).rows == [("y", 1, 5)]
    assert db.sql(q.format("zz")).rows == []
    assert db.sql("SELECT count() AS c, max(v) FROM e WHERE u = 'zz'").rows == [(0, 0)]
    db.close()



def test_small_string_comparisons_kernel_and_twins_agree_with_bytes_order(monkeypatch):
    """A comparison of a few String rows runs the numba kernel once numba is loaded (the numpy
    twins cost ~30 us of padded matrices): both paths give Python's bytes order (memcmp, a prefix
    first), for a constant on either side and for two columns."""
    import random

    import mergetree.functions.comparison as C
    from mergetree.functions import values as V

    ops = {"equals": lambda x, y: x == y, "notEquals": lambda x, y: x != y, "less": lambda x, y: x < y,
           "greater": lambda x, y: x > y, "lessOrEquals": lambda x, y: x <= y,
           "greaterOrEquals": lambda x, y: x >= y}

    def col(vals):
        offsets = np.zeros(len(vals) + 1, np.int64)
        np.cumsum([len(v) for v in vals], out=offsets[1:])
        return StringColumn(T.String, offsets, np.frombuffer(b"".join(vals), np.uint8).copy())

    rng = random.Random(11)
    pieces = [b"", b"a", b"ab", b"\x00", b"\xff"]
    gen = lambda: b"".join(rng.choice(pieces) for _ in range(rng.randint(0, 3)))  # noqa: E731
    for _ in range(200):
        n = rng.randint(0, 20)
        xs, ys, c = [gen() for _ in range(n)], [gen() for _ in range(n)], gen()
        const = V.ConstColumn(col([c]), n)
        for name, op in ops.items():
            for ready in (True, False):
                monkeypatch.setattr(C, "_kernel_ready", lambda: ready)
                assert C.compare_strings(name, col(xs), const).tolist() == [op(x, c) for x in xs]
                assert C.compare_strings(name, const, col(xs)).tolist() == [op(c, x) for x in xs]
                assert C.compare_strings(name, col(xs), col(ys)).tolist() == [op(x, y) for x, y in zip(xs, ys)]


def test_pure_resolutions_are_reused_by_argument_types():
    """Comparisons and AND/OR resolve the same way for the same argument types: the PreparedCall is
    shared, while now() (reads the clock when resolved) is never cached."""
    from mergetree.functions import registry as R

    s = {"a": T.UInt8, "b": T.Int64, "s": T.String}
    b1 = bind(parse_expr("a < 3 AND s = 'x'"), s)
    b2 = bind(parse_expr("a < 7 AND s = 'y'"), s)
    assert b1.call is b2.call and b1.args[0].call is b2.args[0].call          # and(UInt8, UInt8), less(UInt8, UInt8)
    assert bind(parse_expr("b < 3"), s).call is not b1.args[0].call           # less(Int64, UInt8): its own
    assert ("now", ()) not in R._PREPARED
    block = Block({"a": FixedColumn(T.UInt8, np.array([1, 5, 9], np.uint8)),
                   "s": column_from_values("String", ["x", "y", "x"]),
                   "b": FixedColumn(T.Int64, np.array([0, 0, 0], np.int64))})
    assert execute(b1, block).values.tolist() == [1, 0, 0]
    assert execute(b2, block).values.tolist() == [0, 1, 0]


# --------------------------------------------------------------------------- bind memos (exec/expression.py)


from mergetree.exec import expression as X  # noqa: E402


@pytest.mark.parametrize("text", ["toInt32('30')", "toInt32('-5')", "toUInt8('300')", "toInt64(7)", "toUInt16(70000)",
                                  "toInt32('abc')", "toInt8(-1)", "addDays(toDate('2024-01-31'), 1)",
                                  "subtractHours(toDateTime('2024-03-31 03:00:00'), 5)", "toInt32('')"])
def test_literal_fold_memo_gives_the_fold(text):
    """A pure fold over literals is remembered by the literals' types and values: the remembered
    constant is the one binding computes (type and value), and a failing fold fails every time."""
    X._FOLDED_LITERALS.clear()
    X._FOLDED.clear()
    outcomes = []
    for _ in range(3):
        try:
            b = X.bind(parse_expr(text), {})
            outcomes.append((str(b.type), b.pyvalue))
        except MergeTreeError as e:
            outcomes.append((type(e).__name__, str(e)))
    assert outcomes[0] == outcomes[1] == outcomes[2]


def test_literal_fold_memo_keys_on_the_literal_type():
    assert X.bind(parse_expr("toInt32(1)"), {}).pyvalue == 1
    assert X._literal_fold_key("toInt32", parse_expr("toInt32(true)").args) is None or \
        X._literal_fold_key("toInt32", parse_expr("toInt32(true)").args) != X._literal_fold_key(
            "toInt32", parse_expr("toInt32(1)").args)
    assert X._literal_fold_key("toInt32", parse_expr("toInt32('1')").args) != X._literal_fold_key(
        "toInt32", parse_expr("toInt32(1)").args)


def test_now_follows_the_clock_functions_datetime_reads(monkeypatch):
    from mergetree.functions import datetime as dt

    X.bind(parse_expr("now()"), {})            # remembered for the current second

    class Fake:
        @staticmethod
        def time():
            return 1_000_000_000.5

    monkeypatch.setattr(dt, "_time", Fake)
    b = X.bind(parse_expr("now()"), {})
    assert str(b.pyvalue) == "2001-09-09 01:46:40"
    b2 = X.bind(parse_expr("NOW()"), {})
    assert str(b2.pyvalue) == "2001-09-09 01:46:40" and str(b2.type) == str(b.type) == "DateTime"
