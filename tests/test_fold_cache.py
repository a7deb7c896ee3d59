"""Constant folding of pure functions is remembered by the arguments' exact types and values
(exec/expression._FOLDED): a remembered fold must equal the fold computed afresh, for any values."""
import pytest
from hypothesis import given, settings, strategies as st

from mergetree.exec import expression as X
from mergetree.exec.expression import bind
from mergetree.errors import MergeTreeError
from sqlparse_ch import parse_expr


def _fresh_and_cached(text: str):
    e = parse_expr(text)
    X._FOLDED.clear()
    fresh = bind(e, {})                     # computes and remembers
    cached = bind(parse_expr(text), {})    # from the memo
    return fresh, cached


def _same(a, b):
    assert type(a) is type(b)
    assert a.type == b.type
    assert a.value.value == b.value.value
    assert a.value.type == b.value.type


@settings(max_examples=60, deadline=None)
@given(fn=st.sampled_from(["toInt8", "toInt32", "toUInt16", "toUInt64", "toInt64"]),
       text=st.one_of(st.integers(-2**63, 2**64 - 1).map(str), st.text("0123456789-+ ", max_size=6)))
def test_conversion_fold_equals_fresh(fn, text):
    sql = f"{fn}('{text}')"
    try:
        fresh, cached = _fresh_and_cached(sql)
    except MergeTreeError:
        with pytest.raises(MergeTreeError):     # an error is never remembered as a value
            bind(parse_expr(sql), {})
        return
    _same(fresh, cached)


@settings(max_examples=60, deadline=None)
@given(secs=st.integers(0, 2**32 - 1), n=st.integers(-500, 500),
       unit=st.sampled_from(["SECOND", "HOUR", "DAY", "WEEK", "MONTH", "QUARTER", "YEAR"]),
       tz=st.sampled_from(["", ", 'UTC'", ", 'Europe/Madrid'", ", 'America/New_York'"]),
       op=st.sampled_from(["+", "-"]))
def test_interval_fold_equals_fresh(secs, n, unit, tz, op):
    sql = f"toDateTime({secs}{tz}) {op} INTERVAL toInt32('{n}') {unit}"
    fresh, cached = _fresh_and_cached(sql)
    _same(fresh, cached)


def test_distinct_values_and_types_do_not_share_a_fold():
    X._FOLDED.clear()
    assert bind(parse_expr("toInt32('30')"), {}).pyvalue == 30
    assert bind(parse_expr("toInt32('31')"), {}).pyvalue == 31
    assert bind(parse_expr("toUInt8('256')"), {}).pyvalue == 0
    assert bind(parse_expr("toUInt16('256')"), {}).pyvalue == 256
    a = bind(parse_expr("toDateTime(1700000000, 'UTC') - INTERVAL 1 DAY"), {})
    b = bind(parse_expr("toDateTime(1700000000, 'Asia/Tokyo') - INTERVAL 1 DAY"), {})
    assert a.type != b.type
    # now() is never remembered: it is folded per statement
    assert "now" not in X._PURE_FOLDS
