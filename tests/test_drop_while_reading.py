"""DROP TABLE while a query reads the table.

ClickHouse (Atomic databases, the default): DROP TABLE returns at once, a running SELECT keeps the
table's data until it finishes (the data is removed once no query holds it), and a table created
again with the same name is a new table. Here: a query that has pinned its parts finishes with
them; one that had not yet pinned them fails with UNKNOWN_TABLE naming the table; releasing the old
pins never touches the files of a table created again under the same name (the DROP analogue of
b86a9f2 for EXCHANGE / RENAME).

Deterministic: the reading query is stopped inside its first part read by an Event (a wrapper
around exec/scan._read_task), the DROP / CREATE / INSERT happen while it waits, then it resumes.
"""

from __future__ import annotations

import threading

import pytest

import mergetree
from mergetree.exec import scan


@pytest.fixture
def db(tmp_path):
    d = mergetree.connect(tmp_path / "db", background_merges=False)
    yield d
    d.close()


class _Paused:
    """Stops the first scan read task until ``resume`` is set; ``reading`` says it got there."""

    def __init__(self, monkeypatch, table: str = "t"):
        self.reading, self.resume = threading.Event(), threading.Event()
        real = scan._read_task
        first = [True]
        lock = threading.Lock()

        def read_task(part, *args, **kwargs):
            if part.path.parent.name != table:      # another table's read (a background one): let it go
                return real(part, *args, **kwargs)
            with lock:
                stop, first[0] = first[0], False
            if stop:
                self.reading.set()
                assert self.resume.wait(30), "test did not resume the reader"
            return real(part, *args, **kwargs)

        monkeypatch.setattr(scan, "_read_task", read_task)


def _run(fn):
    out = {}

    def target():
        try:
            out["value"] = fn()
        except Exception as e:     # noqa: BLE001 - the test inspects it
            out["error"] = e

    t = threading.Thread(target=target)
    t.start()
    return t, out


def _fill(db, values):
    db.sql("CREATE TABLE t (k UInt32, s String) ENGINE = MergeTree ORDER BY k")
    for v in values:                       # one part each: all_1_1_0, all_2_2_0, ...
        db.insert("t", [{"k": v, "s": f"v{v}"}])


@pytest.mark.parametrize("merge_first", [False, True])
def test_a_running_query_finishes_with_its_parts_and_never_touches_the_new_table(db, monkeypatch, merge_first):
    _fill(db, [1, 2, 3])
    paused = _Paused(monkeypatch)
    reader, out = _run(lambda: db.sql("SELECT sum(k), count(), max(s) FROM t").rows)
    assert paused.reading.wait(30)
    if merge_first:                        # the pinned parts become outdated (merged) but stay pinned
        db.optimize("t", final=True)
    db.drop_table("t")
    # a new table under the same name, whose parts get the very same names all_1_1_0 .. all_3_3_0
    db.sql("CREATE TABLE t (k UInt32, s String) ENGINE = MergeTree ORDER BY k")
    for v in (10, 20, 30):
        db.insert("t", [{"k": v, "s": f"w{v}"}])
    paused.resume.set()
    reader.join(30)
    assert not reader.is_alive()
    assert out.get("error") is None, repr(out.get("error"))
    assert out["value"] == [(6, 3, "v3")]                 # the dropped table's rows, read to the end
    # the new table is whole: no part removed or detached by the old reader's release
    assert db.sql("SELECT sum(k), count(), max(s) FROM t").rows == [(60, 3, "w30")]
    assert sorted(p.name for p in db.table("t").active_parts()) == ["all_1_1_0", "all_2_2_0", "all_3_3_0"]
    assert not (db.path / "t" / "detached").exists() or not any((db.path / "t" / "detached").iterdir())
    # nothing of the dropped table is left behind once the reader is done
    assert [p.name for p in db.path.iterdir() if p.name.startswith(".dropped_")] == []


def test_a_query_planned_before_the_drop_but_not_yet_reading_fails_clearly(db):
    _fill(db, [1, 2])
    table = db.table("t")
    db.drop_table("t")
    with pytest.raises(mergetree.errors.UnknownTableError, match="Table t was dropped"):
        table.snapshot()
    with pytest.raises(mergetree.errors.UnknownTableError, match="Table t was dropped"):
        table.read()


def test_drop_then_reopen_leaves_nothing_behind(db, tmp_path):
    _fill(db, [1])
    snap = db.table("t").snapshot()
    db.drop_table("t")
    assert [p.read(["k"])["k"].to_pylist() for p in snap.parts] == [[1]]   # the pinned part is still readable
    db.close()                                                            # the pin outlives the database
    again = mergetree.connect(tmp_path / "db", background_merges=False)
    try:
        assert again.tables() == []
        assert [p.name for p in again.path.iterdir() if p.name.startswith(".dropped_")] == []
    finally:
        again.close()
    snap.release()


def test_a_running_query_reads_its_own_table_across_an_exchange(db, monkeypatch):
    _fill(db, [1, 2])
    db.sql("CREATE TABLE u (k UInt32, s String) ENGINE = MergeTree ORDER BY k")
    for v in (10, 20):                     # the same part names as t's
        db.insert("u", [{"k": v, "s": f"w{v}"}])
    paused = _Paused(monkeypatch)
    reader, out = _run(lambda: db.sql("SELECT sum(k), count(), max(s) FROM t").rows)
    assert paused.reading.wait(30)
    db.exchange_tables("t", "u")
    paused.resume.set()
    reader.join(30)
    assert out.get("error") is None, repr(out.get("error"))
    assert out["value"] == [(3, 2, "v2")]                 # what t held when the query started
    assert db.sql("SELECT sum(k) FROM t").rows == [(30,)]
    assert db.sql("SELECT sum(k) FROM u").rows == [(3,)]
    assert [p.name for p in db.path.iterdir() if p.name.startswith(".dropped_")] == []


def test_the_service_answers_a_pipe_request_that_was_reading_a_dropped_data_source(tmp_path, monkeypatch):
    """DELETE /v0/datasources/NAME and a new data source of that name while an endpoint request
    reads it: the request answers from the rows it started with; the new data source is whole."""
    import textwrap

    from starlette.testclient import TestClient

    from mergetree.server.app import create_app

    admin = "admin-secret-long-enough-for-hs256-keys"
    h = {"Authorization": f"Bearer {admin}"}
    root = tmp_path / "p"
    (root / "pipes").mkdir(parents=True)
    (root / "pipes/totals.pipe").write_text(textwrap.dedent("""
        NODE n
        SQL >
            SELECT count() AS n, sum(id) AS s FROM things
        """).lstrip("\n"))
    schema = "`id` UInt32 `json:$.id`"
    with TestClient(create_app(tmp_path / "data", admin_token=admin, project=root)) as c:
        def create_and_fill(ids):
            r = c.post("/v0/datasources", params={"name": "things", "schema": schema, "engine_sorting_key": "id"},
                       headers=h)
            assert r.status_code == 200, r.text
            for i in ids:                  # one part each, the same part names every time
                r = c.post("/v0/events?name=things&wait=true", headers=h, content=f'{{"id": {i}}}'.encode())
                assert r.status_code in (200, 202), r.text

        create_and_fill([1, 2, 3])
        paused = _Paused(monkeypatch, "things")
        reader, out = _run(lambda: c.get("/v0/pipes/totals.json", headers=h))
        assert paused.reading.wait(30)
        assert c.delete("/v0/datasources/things", headers=h).status_code == 204
        create_and_fill([10, 20, 30])
        paused.resume.set()
        reader.join(30)
        assert out.get("error") is None, repr(out.get("error"))
        assert out["value"].status_code == 200, out["value"].text
        assert out["value"].json()["data"] == [{"n": 3, "s": 6}]
        assert c.get("/v0/pipes/totals.json", headers=h).json()["data"] == [{"n": 3, "s": 60}]
