"""KeyCondition's leaf cache (`_leaf_cached`): a condition built from remembered leaves is the
condition built afresh: the same RPN, atoms and selected granules, for random conditions over random
data, whatever other conditions filled the cache before."""
from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mergetree.storage import key_condition as K
from mergetree.storage.key_condition import KeyCondition
from tests.test_key_condition import (LAYOUTS, SCHEMA_TZ, F, I, conditions, make_block, sort_and_index)


def _uncached(cond, keys, schema):
    orig = KeyCondition._leaf_cached
    KeyCondition._leaf_cached = lambda self, b, negate: self._leaf(b, negate)
    try:
        return KeyCondition(cond, keys, schema)
    finally:
        KeyCondition._leaf_cached = orig


def _same(a: KeyCondition, b: KeyCondition, index, n_marks):
    assert a.describe() == b.describe()
    assert [x.text for x in a.atoms] == [x.text for x in b.atoms]
    assert [(x.key, x.intervals, x.relaxed, x.value_type) for x in a.atoms] == \
        [(x.key, x.intervals, x.relaxed, x.value_type) for x in b.atoms]
    for search in ("auto", "exclusion", "vectorized"):
        assert a.select_mark_ranges(index, n_marks, search=search) == \
            b.select_mark_ranges(index, n_marks, search=search)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data())
def test_cached_leaves_give_the_fresh_condition(data):
    tz = data.draw(st.sampled_from(SCHEMA_TZ))
    keys = data.draw(st.sampled_from(LAYOUTS))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    n = data.draw(st.integers(1, 120))
    granule = data.draw(st.integers(1, 16))
    block = make_block(rng, n, tz, lc=data.draw(st.booleans()))
    block, index, n_marks, starts = sort_and_index(block, keys, granule)
    # other conditions first (shared leaves, other key layouts), then the one under test twice
    for _ in range(data.draw(st.integers(0, 3))):
        KeyCondition(data.draw(conditions(block, tz)), data.draw(st.sampled_from(LAYOUTS)), block.schema)
    cond = data.draw(conditions(block, tz))
    fresh = _uncached(cond, keys, block.schema)
    warm1 = KeyCondition(cond, keys, block.schema)
    warm2 = KeyCondition(cond, keys, block.schema)
    _same(fresh, warm1, index, n_marks)
    _same(fresh, warm2, index, n_marks)
    # a derived condition (partition key through toYYYYMM) as well
    pk = [F("toYYYYMM", I("ts"))]
    assert _uncached(cond, pk, block.schema).describe() == KeyCondition(cond, pk, block.schema).describe()


def test_leaves_are_shared_between_conditions_of_the_same_keys():
    from sqlparse_ch import parse_expr
    from mergetree import types as T

    schema = {"user_id": T.String, "timestamp": T.DateTime}
    keys = [I("user_id"), I("timestamp")]
    K._LEAVES.clear()
    a = KeyCondition(parse_expr("user_id = 'u1' AND timestamp >= toDateTime(1700000000)"), keys, schema)
    b = KeyCondition(parse_expr("user_id = 'u2' AND timestamp >= toDateTime(1700000000)"), keys, schema)
    assert a.atoms[1] is b.atoms[1]                       # the timestamp leaf: built once
    assert a.atoms[0].intervals != b.atoms[0].intervals   # the users differ
    assert b.describe() == _uncached(parse_expr("user_id = 'u2' AND timestamp >= toDateTime(1700000000)"),
                                     keys, schema).describe()


def test_part_match_memo_equals_the_uncached_check(tmp_path):
    """may_match_part remembers its answer per (derived conditions, part): the same answers as the
    uncached check, for conditions sharing and not sharing derived conditions."""
    import datetime as dt

    import mergetree
    from mergetree.exec.expression import bind

    db = mergetree.connect(str(tmp_path / "db"))
    try:
        db.create_table("t", [("u", "String"), ("ts", "DateTime")], order_by=["u", "ts"],
                        partition_by="toYYYYMM(ts)")
        base = dt.datetime(2024, 1, 1)
        for month in range(4):
            db.insert("t", [{"u": f"u{i % 7}", "ts": base + dt.timedelta(days=31 * month, hours=i)}
                            for i in range(50)])
        table = db.table("t")
        with table.snapshot() as snap:
            parts = list(snap.parts)
        assert len(parts) >= 4
        from sqlparse_ch import parse_expr

        wheres = ["ts >= toDateTime('2024-02-15 00:00:00')", "u = 'u1' AND ts >= toDateTime('2024-02-15 00:00:00')",
                  "u = 'u2' AND ts >= toDateTime('2024-02-15 00:00:00')", "ts < toDateTime('2024-02-01 00:00:00')",
                  "u = 'u3'", "toYYYYMM(ts) = 202403", "NOT (ts >= toDateTime('2024-03-01 00:00:00'))"]
        pruned = 0
        for _ in range(2):
            for w in wheres:
                ast = parse_expr(w)
                kc = KeyCondition.for_table(table.metadata, ast, bound_where=bind(ast, dict(table.metadata.schema)))
                got = [kc.may_match_part(p) for p in parts]
                want = [kc._may_match_part_uncached(p) for p in parts]
                assert got == want, w
                assert [kc.may_match_part(p) for p in parts] == want
                pruned += want.count(False)
        assert pruned > 0           # the parts' months do prune
    finally:
        db.close()
