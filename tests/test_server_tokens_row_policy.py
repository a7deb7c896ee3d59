"""Row policies (planner/row_policy.py): a token's datasource ``filter`` is ANDed into every read
of the table at any depth. Expected values are computed by hand from the six rows below."""

import pytest

import mergetree

ROWS = [(1, "u1", 10), (2, "u2", 20), (3, "u1", 30), (4, "u3", 40), (5, "u2", 50), (6, "u1", 60)]
POLICY = {"t": "user = 'u1'"}          # rows 1, 3, 6


@pytest.fixture(scope="module")
def db():
    d = mergetree.connect(None)
    # ReplacingMergeTree (ids unique, so it reads like a MergeTree): FROM t FINAL needs a merging engine
    d.sql("CREATE TABLE t (id UInt32, user String, v UInt64) ENGINE = ReplacingMergeTree ORDER BY id")
    d.sql("CREATE TABLE other (id UInt32) ENGINE = MergeTree ORDER BY id")
    d.insert("t", [{"id": i, "user": u, "v": v} for i, u, v in ROWS])
    d.insert("other", [{"id": i} for i in range(1, 7)])
    yield d
    d.close()


@pytest.mark.parametrize("query, expected", [
    ("SELECT count() FROM t", [(3,)]),                                        # not from part metadata
    ("SELECT id FROM t ORDER BY id", [(1,), (3,), (6,)]),
    ("SELECT max(id), min(id) FROM t", [(6, 1)]),                             # not from the primary index
    ("SELECT id FROM t ORDER BY id DESC LIMIT 1", [(6,)]),                    # read_in_order
    ("SELECT sum(v) FROM t WHERE id > 1", [(90,)]),
    ("SELECT id FROM t WHERE user = 'u2'", []),
    ("SELECT id FROM (SELECT * FROM t) WHERE id > 2 ORDER BY id", [(3,), (6,)]),
    ("SELECT id FROM (SELECT * FROM (SELECT id, user FROM t)) ORDER BY id", [(1,), (3,), (6,)]),
    ("WITH c AS (SELECT v FROM t) SELECT sum(v) FROM c", [(100,)]),
    ("WITH c AS (SELECT id FROM t WHERE id > 1) SELECT id FROM c ORDER BY id", [(3,), (6,)]),
    ("SELECT (SELECT max(v) FROM t)", [(60,)]),
    ("SELECT count() FROM other WHERE id IN (SELECT id FROM t)", [(3,)]),
    ("SELECT id FROM (SELECT id FROM t UNION ALL SELECT id FROM t) ORDER BY id", [(1,), (1,), (3,), (3,), (6,), (6,)]),
    ("SELECT count() FROM t AS x WHERE x.user != 'u1'", [(0,)]),
    ("SELECT id AS user FROM t WHERE user > 0 ORDER BY id", [(1,), (3,), (6,)]),  # alias cannot rebind it
    ("SELECT count() FROM t FINAL", [(3,)]),
    ("SELECT count() FROM t SETTINGS optimizer_disabled_rules = 'all'", [(3,)]),
    ("SELECT count() FROM other", [(6,)]),                                    # other tables untouched
])
def test_policy_filters_every_read(db, query, expected):
    assert db.sql(query, row_policies=POLICY).rows == expected


@pytest.mark.parametrize("query, expected", [
    # t filtered to ids 1, 3, 6; other (ids 1..6) filtered to id > 2
    ("SELECT t.id FROM t JOIN other ON t.id = other.id ORDER BY t.id", [(3,), (6,)]),
    ("SELECT o.id FROM other AS o LEFT JOIN t USING id WHERE t.id = 0 ORDER BY o.id", [(4,), (5,)]),
    ("SELECT count() FROM t AS x, t AS y", [(9,)]),
    ("SELECT count() FROM (SELECT id FROM t) AS x JOIN (SELECT id FROM other) AS y USING id", [(2,)]),
])
def test_policy_on_every_side_of_a_join(db, query, expected):
    assert db.sql(query, row_policies={**POLICY, "other": "id > 2"}).rows == expected


def test_without_policy_everything_is_visible(db):
    assert db.sql("SELECT count() FROM t").rows == [(6,)]
    assert db.sql("SELECT count() FROM t", row_policies={}).rows == [(6,)]


def test_policy_does_not_leak_to_the_next_statement(db):
    db.sql("SELECT 1", row_policies=POLICY)
    assert db.sql("SELECT count() FROM t").rows == [(6,)]


def test_policy_with_a_subquery_on_its_own_table(db):
    # the filter's own subquery reads the table unfiltered (no infinite recursion)
    pol = {"t": "v >= (SELECT max(v) FROM t) - 10"}
    assert db.sql("SELECT id FROM t ORDER BY id", row_policies=pol).rows == [(5,), (6,)]


def test_policies_on_two_tables(db):
    pol = {"t": "user = 'u2'", "other": "id > 4"}
    assert db.sql("SELECT count() FROM other WHERE id IN (SELECT id FROM t)", row_policies=pol).rows == [(1,)]


def test_nested_policies_only_narrow():
    from mergetree.planner.row_policy import applied, current

    with applied({"t": "a"}):
        with applied({"t": "b", "u": "c"}):
            assert current() == {"t": "(a) AND (b)", "u": "c"}
        assert current() == {"t": "a"}
    assert current() is None


def test_bad_filter_is_a_clear_error(db):
    from mergetree.errors import MergeTreeError

    with pytest.raises(MergeTreeError, match="nope"):
        db.sql("SELECT count() FROM t", row_policies={"t": "nope = 1"})
    with pytest.raises(MergeTreeError):
        db.sql("SELECT count() FROM t", row_policies={"t": "user"})         # String is not a filter


def test_explain_shows_the_filter_in_the_scan(db):
    plan = "\n".join(r[0] for r in db.sql("EXPLAIN SELECT id FROM t WHERE id > 1", row_policies=POLICY).rows)
    assert "equals(user, 'u1')" in plan and "ReadFromMergeTree t" in plan
