"""Array and tuple comparisons against an independent expectation: Python's own lexicographic
ordering of lists and tuples (for integers and strings without NULL/NaN it is ClickHouse's)."""

from __future__ import annotations

import tempfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mergetree

OPS = {"=": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
       ">": lambda a, b: a > b, "<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b}


@pytest.fixture(scope="module")
def db():
    with tempfile.TemporaryDirectory() as d:
        conn = mergetree.connect(d)
        yield conn
        conn.close()


def _arr(xs) -> str:
    return "[" + ", ".join(map(repr, xs)) + "]"


def _rows(db, sql):
    return db.sql(sql).format("TSV").decode().splitlines()


ints = st.lists(st.integers(-3, 3), max_size=4)
texts = st.lists(st.text(alphabet="ab", max_size=2), max_size=3)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(ints, ints), min_size=1, max_size=8))
def test_int_arrays_order_as_python_lists(db, pairs):
    # columns (not constants): arrayJoin over the pairs, every operator at once
    lits = ", ".join(f"({_arr(a)}, {_arr(b)})" for a, b in pairs)
    cols = ", ".join(f"toUInt8(p.1 {op} p.2)" for op in OPS)
    got = _rows(db, f"SELECT {cols} FROM (SELECT arrayJoin([{lits}]) AS p)")
    want = ["\t".join(str(int(f(a, b))) for f in OPS.values()) for a, b in pairs]
    assert got == want


@settings(max_examples=15, deadline=None)
@given(texts, texts)
def test_string_arrays_and_tuples_order_as_python(db, a, b):
    for op, f in OPS.items():
        assert _rows(db, f"SELECT {_arr(a)} {op} {_arr(b)}") == [str(int(f(a, b)))]
    if a and b:
        ta, tb = tuple(a[:2]) + ("x",) * (2 - len(a[:2])), tuple(b[:2]) + ("x",) * (2 - len(b[:2]))
        for op, f in OPS.items():
            assert _rows(db, f"SELECT ({ta[0]!r}, {ta[1]!r}) {op} ({tb[0]!r}, {tb[1]!r})") == [str(int(f(ta, tb)))]


def test_incomparable_types_name_both(db):
    with pytest.raises(mergetree.errors.MergeTreeError, match=r"Array\(String\), Array\(UInt8\)"):
        db.sql("SELECT ['a'] = [1]")
