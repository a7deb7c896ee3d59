"""Materialized views (mergetree/views.py): triggers, chains, atomicity with the source, POPULATE
without double counting, persistence, DROP, and the property that GROUP BY over the raw table
equals -Merge GROUP BY over the view's target at every point (before/after merges, FINAL or not)."""

from __future__ import annotations

import os
import random
import threading
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mergetree
from mergetree.errors import MergeTreeError

RAW = "CREATE TABLE ev (ts DateTime, user String, page String, ms UInt32) ENGINE = MergeTree ORDER BY ts"
AGG = ("CREATE TABLE pages (day Date, page String, hits AggregateFunction(count), users AggregateFunction(uniq, String), "
       "total SimpleAggregateFunction(sum, UInt64), worst SimpleAggregateFunction(max, UInt32), "
       "p AggregateFunction(quantile(0.9), UInt32)) ENGINE = AggregatingMergeTree ORDER BY (day, page)")
MV = ("CREATE MATERIALIZED VIEW pages_mv TO pages AS SELECT toDate(ts) AS day, page, countState() AS hits, "
      "uniqState(user) AS users, sum(toUInt64(ms)) AS total, max(ms) AS worst, quantileState(0.9)(ms) AS p "
      "FROM ev GROUP BY day, page")
Q_VIEW = ("SELECT day, page, countMerge(hits), uniqMerge(users), sum(total), max(worst), quantileMerge(0.9)(p) "
          "FROM pages{final} GROUP BY day, page ORDER BY day, page")
Q_RAW = ("SELECT toDate(ts) AS day, page, count(), uniq(user), sum(toUInt64(ms)), max(ms), quantile(0.9)(ms) "
         "FROM ev GROUP BY day, page ORDER BY day, page")


def make_db(path=None):
    db = mergetree.connect(path, background_merges=False)
    for s in (RAW, AGG, MV):
        db.sql(s)
    return db


def rows(rng: random.Random, n: int) -> list[dict]:
    return [{"ts": 1700000000 + rng.randint(0, 4 * 86400), "user": f"u{rng.randint(0, 50)}",
             "page": rng.choice(["/", "/a", "/b", "/c"]), "ms": rng.randint(0, 2000)} for _ in range(n)]


def check(db):
    expected = db.sql(Q_RAW).rows
    assert db.sql(Q_VIEW.format(final="")).rows == expected
    assert db.sql(Q_VIEW.format(final=" FINAL")).rows == expected


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, 60), st.sampled_from(["none", "merge", "final"])), min_size=1, max_size=4),
       st.integers(0, 2**31))
def test_group_by_raw_equals_merge_over_view_at_every_point(batches, seed):
    rng = random.Random(seed)
    with make_db() as db:
        for n, action in batches:
            db.insert("ev", rows(rng, n))
            if action == "merge":
                db.table("pages").merge_once()
            elif action == "final":
                db.optimize("pages", final=True)
            check(db)


def test_chain_of_three_and_sql_insert_and_insert_select():
    with make_db() as db:
        db.sql("CREATE TABLE daily (day Date, hits AggregateFunction(count), users AggregateFunction(uniq, String)) "
               "ENGINE = AggregatingMergeTree ORDER BY day")
        db.sql("CREATE MATERIALIZED VIEW daily_mv TO daily AS SELECT day, countMergeState(hits) AS hits, "
               "uniqMergeState(users) AS users FROM pages GROUP BY day")
        db.sql("CREATE TABLE total (hits AggregateFunction(count)) ENGINE = AggregatingMergeTree ORDER BY tuple()")
        db.sql("CREATE MATERIALIZED VIEW total_mv TO total AS SELECT countMergeState(hits) AS hits FROM daily")
        rng = random.Random(5)
        db.insert("ev", rows(rng, 100))
        db.sql("INSERT INTO ev VALUES ('2023-11-15 10:00:00', 'zz', '/z', 5), ('2023-11-15 11:00:00', 'zz', '/z', 7)")
        db.sql("INSERT INTO ev SELECT ts, user, page, ms FROM ev WHERE page = '/z'")
        check(db)
        assert db.sql("SELECT day, countMerge(hits), uniqMerge(users) FROM daily GROUP BY day ORDER BY day").rows == \
            db.sql("SELECT toDate(ts) AS day, count(), uniq(user) FROM ev GROUP BY day ORDER BY day").rows
        assert db.sql("SELECT countMerge(hits) FROM total").rows == [(104,)]
        deps = dict(db.sql("SELECT name, engine FROM system.tables WHERE name LIKE '%_mv'").rows) \
            if _has_system_tables_views(db) else {}
        if deps:
            assert deps["daily_mv"] == "MaterializedView"


def _has_system_tables_views(db):
    try:
        return bool(db.sql("SELECT count() FROM system.tables WHERE engine = 'MaterializedView'").rows[0][0])
    except MergeTreeError:
        return False


def test_failing_view_fails_the_source_insert():
    with make_db() as db:
        db.sql("CREATE TABLE nums (x UInt8) ENGINE = MergeTree ORDER BY x")
        db.sql("CREATE MATERIALIZED VIEW bad_mv TO nums AS SELECT toUInt8(user) AS x FROM ev")
        with pytest.raises(MergeTreeError):
            db.insert("ev", [{"ts": 1700000000, "user": "not a number", "page": "/", "ms": 1}])
        assert db.sql("SELECT count() FROM ev").rows == [(0,)]
        assert db.sql("SELECT count() FROM pages").rows == [(0,)]
        assert not [p for t in ("ev", "pages", "nums") for p in os.listdir(db.table(t).path) if p.startswith("tmp")]
        db.insert("ev", [{"ts": 1700000000, "user": "7", "page": "/", "ms": 1}])
        assert db.sql("SELECT x FROM nums").rows == [(7,)]
        check(db)


class FakeOs:
    def __init__(self, rename):
        self.rename = rename

    def __getattr__(self, name):
        return getattr(os, name)


def test_failure_while_publishing_leaves_nothing(monkeypatch, tmp_path):
    db = make_db(tmp_path / "db")
    db.insert("ev", rows(random.Random(1), 20))
    import mergetree.views as views

    calls = {"n": 0}
    real_rename = os.rename

    def flaky(a, b):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("disk full (injected)")
        return real_rename(a, b)

    monkeypatch.setattr(views, "os", FakeOs(flaky))       # only the commit step's renames
    with pytest.raises(OSError, match="injected"):
        db.insert("ev", rows(random.Random(2), 20))
    monkeypatch.undo()
    assert calls["n"] == 3          # two publish renames, the first one undone
    assert db.sql("SELECT count() FROM ev").rows == [(20,)]
    check(db)
    db.close()
    db = mergetree.connect(tmp_path / "db", background_merges=False)
    assert db.sql("SELECT count() FROM ev").rows == [(20,)]
    check(db)
    db.close()


def test_commit_journal_is_rolled_forward(monkeypatch, tmp_path):
    """A crash after the journal is written (the commit point) but before the renames."""
    db = make_db(tmp_path / "db")
    import mergetree.views as views

    class Crash(BaseException):
        pass

    def crash(a, b):
        raise Crash()

    monkeypatch.setattr(views, "os", FakeOs(crash))
    monkeypatch.setattr(views.shutil, "rmtree", lambda *a, **k: None)    # a crash cleans nothing up
    real_unlink = views.Path.unlink
    monkeypatch.setattr(views.Path, "unlink", lambda self, *a: None)
    with pytest.raises(Crash):
        db.insert("ev", rows(random.Random(3), 30))
    monkeypatch.undo()
    journals = lambda: list((tmp_path / "db").glob("_commit_journal*.json"))  # noqa: E731
    assert len(journals()) == 1
    db._merger.shutdown()            # simulate the process dying: no close()
    db2 = mergetree.connect(tmp_path / "db", background_merges=False)
    assert journals() == []
    assert db2.sql("SELECT count() FROM ev").rows == [(30,)]
    check(db2)
    db2.close()
    del real_unlink


def test_populate_does_not_double_count_concurrent_inserts():
    with mergetree.connect(background_merges=False) as db:
        db.sql(RAW)
        db.sql(AGG)
        rng = random.Random(9)
        for _ in range(3):
            db.insert("ev", rows(rng, 200))
        stop = threading.Event()
        errors = []

        def writer():
            r = random.Random(10)
            try:
                for _ in range(8):
                    if stop.is_set():
                        break
                    db.insert("ev", rows(r, 10))
                    time.sleep(0.002)
            except Exception as e:      # pragma: no cover - reported below
                errors.append(e)

        t = threading.Thread(target=writer)
        t.start()
        try:
            db.sql(MV.replace("TO pages AS", "TO pages POPULATE AS"))
            for _ in range(5):
                db.insert("ev", rows(rng, 5))
        finally:
            stop.set()
            t.join()
        assert not errors
        check(db)
        # populate_view with truncate rebuilds the same content
        db.populate_view("pages_mv", truncate=True)
        check(db)


def test_views_persist_drop_and_source_truncate(tmp_path):
    db = make_db(tmp_path / "db")
    db.insert("ev", rows(random.Random(4), 50))
    db.close()
    db = mergetree.connect(tmp_path / "db", background_merges=False)
    assert db.views.names() == ["pages_mv"]
    db.insert("ev", rows(random.Random(5), 50))
    check(db)
    before = db.sql(Q_VIEW.format(final="")).rows
    db.truncate("ev")                          # does not touch the target (Tinybird's behaviour)
    db.sql("DELETE FROM pages WHERE 0")
    assert db.sql(Q_VIEW.format(final="")).rows == before
    with pytest.raises(MergeTreeError, match="pages_mv"):
        db.drop_table("pages")
    assert db.sql("SELECT count() FROM pages_mv").rows == db.sql("SELECT count() FROM pages").rows
    db.sql("DROP VIEW pages_mv")
    db.insert("ev", rows(random.Random(6), 10))
    assert db.sql(Q_VIEW.format(final="")).rows == before
    with pytest.raises(MergeTreeError):
        db.sql("DROP VIEW pages_mv")
    db.sql("DROP VIEW IF EXISTS pages_mv")
    db.drop_table("pages")
    db.close()
    db = mergetree.connect(tmp_path / "db", background_merges=False)
    assert db.views.names() == []
    db.close()


def test_joined_tables_do_not_trigger_and_errors():
    with make_db() as db:
        db.sql("CREATE TABLE names (page String, title String) ENGINE = MergeTree ORDER BY page")
        db.sql("CREATE TABLE titled (title String, n UInt64) ENGINE = MergeTree ORDER BY title")
        try:
            db.sql("CREATE MATERIALIZED VIEW t_mv TO titled AS SELECT title, count() AS n FROM ev "
                   "LEFT JOIN names USING (page) GROUP BY title")
        except MergeTreeError as e:      # JOIN support is H3's; only check the trigger rule when it exists
            pytest.skip(f"JOIN not supported here: {e}")
        db.insert("names", [{"page": "/", "title": "home"}])
        assert db.sql("SELECT count() FROM titled").rows == [(0,)]
        db.insert("ev", [{"ts": 1700000000, "user": "a", "page": "/", "ms": 1}])
        assert db.sql("SELECT title, n FROM titled").rows == [("home", 1)]


def test_create_view_errors():
    with make_db() as db:
        with pytest.raises(MergeTreeError, match="already exists"):
            db.sql(MV)
        db.sql(MV.replace("CREATE MATERIALIZED VIEW", "CREATE MATERIALIZED VIEW IF NOT EXISTS"))
        with pytest.raises(MergeTreeError, match="nope"):
            db.sql("CREATE MATERIALIZED VIEW v2 TO nope AS SELECT 1 FROM ev")
        with pytest.raises(MergeTreeError):
            db.sql("CREATE MATERIALIZED VIEW v3 TO pages AS SELECT page FROM missing_table")
        with pytest.raises(MergeTreeError, match="cycle"):
            db.sql("CREATE MATERIALIZED VIEW v4 TO ev AS SELECT toDateTime(day) AS ts FROM pages")
        with pytest.raises(MergeTreeError, match="TO"):
            db.sql("CREATE MATERIALIZED VIEW v5 AS SELECT page FROM ev")
        with pytest.raises(MergeTreeError):        # a bad inner ENGINE: neither the view nor its table stays
            db.sql("CREATE MATERIALIZED VIEW v6 ENGINE = MergeTree ORDER BY nope AS SELECT page FROM ev")
        assert db.views.names() == ["pages_mv"]
        assert sorted(db.tables()) == ["ev", "pages"]


def test_system_tables_and_explain_show_views():
    with make_db() as db:
        rows_ = dict((r[0], r[1:]) for r in db.sql(
            "SELECT name, engine, dependencies_table, target_table FROM system.tables ORDER BY name").rows)
        assert rows_["pages_mv"] == ("MaterializedView", [], "pages")
        assert rows_["ev"] == ("MergeTree", ["pages_mv"], "")
        assert "FROM ev" in db.sql("SELECT as_select FROM system.tables WHERE name = 'pages_mv'").rows[0][0]
        plan = "\n".join(r[0] for r in db.sql("EXPLAIN SELECT countMerge(hits) FROM pages_mv").rows)
        assert "ReadFromMergeTree pages (materialized view pages_mv)" in plan


def test_target_columns_the_view_does_not_produce_get_their_defaults():
    """As ClickHouse: columns are matched by name; the others get the target's DEFAULT (or the type's)."""
    with mergetree.connect(background_merges=False) as db:
        db.sql("CREATE TABLE s (k UInt8, v UInt32) ENGINE = MergeTree ORDER BY k")
        db.sql("CREATE TABLE t (k UInt8, v2 UInt64 DEFAULT k * 10, note String, total UInt64) "
               "ENGINE = MergeTree ORDER BY k")
        db.sql("CREATE MATERIALIZED VIEW mv TO t AS SELECT sum(v) AS total, k FROM s GROUP BY k")
        db.insert("s", {"k": [1, 2, 2], "v": [5, 6, 7]})
        assert db.sql("SELECT k, v2, note, total FROM t ORDER BY k").rows == [(1, 10, "", 5), (2, 20, "", 13)]
