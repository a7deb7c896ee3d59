"""ALTER TABLE ... COLUMN on the storage: metadata-only changes over parts written under older schemas.

Expected values are hand-computed from ClickHouse's rules (checked with chDB in the golden files
00500/00501): a part written before ADD COLUMN reads the column's DEFAULT over its own rows, a
merge writes the column, a crash before the metadata rename leaves the old schema.
"""

from __future__ import annotations

import json
import os

import pytest

import mergetree
from mergetree.errors import (AlterOfColumnIsForbiddenError, BadArgumentsError, DuplicateColumnError,
                              IllegalColumnError, NotFoundColumnInBlockError)


@pytest.fixture
def db(tmp_path):
    d = mergetree.connect(tmp_path / "db", background_merges=False)
    yield d
    d.close()


def _rows(db, sql):
    return db.sql(sql).rows


def _events(db):
    db.create_table("e", "id UInt32, user String, ts DateTime", order_by="id",
                    partition_by="toYYYYMM(ts)")
    db.insert("e", [{"id": 1, "user": "u1", "ts": "2024-01-05 00:00:00"},
                    {"id": 2, "user": "u2", "ts": "2024-02-05 00:00:00"}])
    db.insert("e", [{"id": 3, "user": "u3", "ts": "2024-01-06 00:00:00"}])


def test_add_column_old_parts_read_default_over_their_rows(db):
    _events(db)
    v0 = db.table("e").metadata.version
    assert db.alter_add_column("e", "score UInt64 DEFAULT id * 10")
    assert db.table("e").metadata.version == v0 + 1
    db.insert("e", [{"id": 4, "user": "u4", "ts": "2024-01-07 00:00:00", "score": 7}])
    assert _rows(db, "SELECT id, score FROM e ORDER BY id") == [(1, 10), (2, 20), (3, 30), (4, 7)]
    # the WHERE sees the computed values of old parts too
    assert _rows(db, "SELECT id FROM e WHERE score >= 20 ORDER BY id") == [(2,), (3,)]
    # storage read API
    assert db.read("e", ["score"], where="id = 2")["score"].to_pylist() == [20]
    # a changed DEFAULT changes what old parts read (ClickHouse: not materialized until a merge)
    db.alter_modify_column("e", "score DEFAULT id * 100")
    assert _rows(db, "SELECT id, score FROM e ORDER BY id") == [(1, 100), (2, 200), (3, 300), (4, 7)]


def test_merge_across_schema_versions_materializes_the_column(db):
    _events(db)
    db.alter_add_column("e", "n UInt16")               # no DEFAULT: type default
    db.insert("e", [{"id": 5, "user": "u5", "ts": "2024-01-08 00:00:00", "n": 9}])
    db.alter_add_column("e", "d String DEFAULT concat(user, '!')", after="id")
    db.insert("e", [{"id": 6, "user": "u6", "ts": "2024-01-09 00:00:00", "n": 1, "d": "x"}])
    before = _rows(db, "SELECT * FROM e ORDER BY id")
    assert before == [(1, "u1!", "u1", _ts("2024-01-05"), 0), (2, "u2!", "u2", _ts("2024-02-05"), 0),
                      (3, "u3!", "u3", _ts("2024-01-06"), 0), (5, "u5!", "u5", _ts("2024-01-08"), 9),
                      (6, "x", "u6", _ts("2024-01-09"), 1)]
    db.optimize("e", final=True)
    parts = db.table("e").parts()
    assert [p["partition_id"] for p in parts] == ["202401", "202402"]
    for p in db.table("e").active_parts():            # merged parts store every column: no patch left
        assert [n for n, _ in p.columns] == ["id", "d", "user", "ts", "n"]
        assert p.schema_patch is None
    assert _rows(db, "SELECT * FROM e ORDER BY id") == before
    # the DEFAULT no longer applies to merged rows: they were written
    db.alter_modify_column("e", "d DEFAULT 'changed'")
    assert _rows(db, "SELECT d FROM e ORDER BY id") == [("u1!",), ("u2!",), ("u3!",), ("u5!",), ("x",)]


def _ts(day):
    import datetime

    return datetime.datetime.fromisoformat(day)


def test_reopen_after_alter_and_after_crash_before_rename(db, tmp_path):
    _events(db)
    db.alter_add_column("e", "score UInt64 DEFAULT id + 1")
    db.alter_rename_column("e", "user", "who")
    db.close()
    db2 = mergetree.connect(tmp_path / "db", background_merges=False)
    try:
        assert _rows(db2, "SELECT id, who, score FROM e ORDER BY id") == [(1, "u1", 2), (2, "u2", 3), (3, "u3", 4)]
        # crash-like: the next ALTER wrote metadata.json.tmp but died before the rename
        meta = tmp_path / "db" / "e" / "metadata.json"
        doc = json.loads(meta.read_text())
        doc["columns"].append({"name": "half", "type": "UInt8"})
        (meta.parent / "metadata.json.tmp").write_text(json.dumps(doc))
    finally:
        db2.close()
    db3 = mergetree.connect(tmp_path / "db", background_merges=False)
    try:
        assert db3.table("e").metadata.column_names == ["id", "who", "ts", "score"]
        assert _rows(db3, "SELECT count(), sum(score) FROM e") == [(3, 9)]
        db3.alter_add_column("e", "half UInt8 DEFAULT 1")     # the leftover tmp is simply overwritten
        assert _rows(db3, "SELECT sum(half) FROM e") == [(3,)]
    finally:
        db3.close()


def test_drop_then_add_same_name_never_reads_old_data(db):
    _events(db)
    db.alter_drop_column("e", "user")
    assert _rows(db, "SELECT * FROM e ORDER BY id")[0] == (1, _ts("2024-01-05"))
    db.alter_add_column("e", "user UInt8 DEFAULT 3")
    assert _rows(db, "SELECT id, user FROM e ORDER BY id") == [(1, 3), (2, 3), (3, 3)]
    db.optimize("e", final=True)
    assert _rows(db, "SELECT id, user FROM e ORDER BY id") == [(1, 3), (2, 3), (3, 3)]


def test_rename_then_reuse_old_name(db):
    _events(db)
    db.alter_rename_column("e", "user", "login")
    db.insert("e", [{"id": 4, "login": "u4", "ts": "2024-01-07 00:00:00"}])
    db.alter_add_column("e", "user String DEFAULT 'new'")
    assert _rows(db, "SELECT id, login, user FROM e ORDER BY id") == [
        (1, "u1", "new"), (2, "u2", "new"), (3, "u3", "new"), (4, "u4", "new")]


def test_modify_type_widening_is_cast_on_read_and_merged(db):
    db.create_table("w", "k UInt32, v UInt8, f Float32", order_by="k")
    db.insert("w", [{"k": 1, "v": 255, "f": 1.5}])
    db.alter_modify_column("w", "v UInt64")
    db.alter_modify_column("w", "f Float64")
    db.insert("w", [{"k": 2, "v": 2 ** 40, "f": 0.25}])
    assert _rows(db, "SELECT k, v, f, toTypeName(v) FROM w ORDER BY k") == [(1, 255, 1.5, "UInt64"),
                                                                           (2, 2 ** 40, 0.25, "UInt64")]
    db.optimize("w", final=True)
    assert _rows(db, "SELECT sum(v) FROM w") == [(255 + 2 ** 40,)]
    with pytest.raises(BadArgumentsError, match="from UInt64 to UInt8"):
        db.alter_modify_column("w", "v UInt8")            # narrowing would lose data: refused
    with pytest.raises(AlterOfColumnIsForbiddenError):
        db.alter_modify_column("w", "k UInt64")           # key column
    db.alter_modify_column("w", "v Nullable(UInt64)")
    assert _rows(db, "SELECT toTypeName(v), v FROM w ORDER BY k") == [("Nullable(UInt64)", 255),
                                                                      ("Nullable(UInt64)", 2 ** 40)]


def test_errors_name_the_column(db):
    _events(db)
    with pytest.raises(DuplicateColumnError, match="`user`"):
        db.alter_add_column("e", "user String")
    assert not db.alter_add_column("e", "user String", if_not_exists=True)
    with pytest.raises(NotFoundColumnInBlockError, match="`nope`"):
        db.alter_drop_column("e", "nope")
    with pytest.raises(AlterOfColumnIsForbiddenError, match="ts"):
        db.alter_drop_column("e", "ts")                   # partition key
    db.alter_add_column("e", "u2 String DEFAULT upper(user)")
    with pytest.raises(IllegalColumnError, match="`u2` depends"):
        db.alter_drop_column("e", "user")
    assert db.table("e").metadata.column_names == ["id", "user", "ts", "u2"]


def test_mutations_and_deletes_on_old_parts(db):
    _events(db)
    db.alter_add_column("e", "score UInt64 DEFAULT id * 10")
    db.delete("e", "score = 20")                          # lightweight delete on a computed column
    assert _rows(db, "SELECT id FROM e ORDER BY id") == [(1,), (3,)]
    db.alter_update("e", {"score": "score + 1"}, "id = 3")
    assert _rows(db, "SELECT id, score FROM e ORDER BY id") == [(1, 10), (3, 31)]


def test_materialized_view_keeps_working_after_add_column(db):
    _events(db)
    db.create_table("per_user", "user String, c UInt64", engine="SummingMergeTree", order_by="user")
    db.create_materialized_view("mv", "per_user", "SELECT user, count() AS c FROM e GROUP BY user")
    db.alter_add_column("e", "extra String DEFAULT 'x'")
    db.insert("e", [{"id": 7, "user": "u1", "ts": "2024-01-10 00:00:00"}])
    assert _rows(db, "SELECT user, sum(c) FROM per_user GROUP BY user ORDER BY user") == [("u1", 1)]
    assert _rows(db, "SELECT extra, count() FROM e GROUP BY extra") == [("x", 4)]
    # a row policy on the new column filters old and new parts alike
    assert db.sql("SELECT id FROM e ORDER BY id", row_policies={"e": "extra = 'x' AND id > 2"}).rows == [(3,), (7,)]
    # the view's target gets a column: the view's rows get its DEFAULT
    db.alter_add_column("per_user", "src String DEFAULT 'mv'")
    db.insert("e", [{"id": 8, "user": "u2", "ts": "2024-01-10 00:00:00"}])
    assert _rows(db, "SELECT user, c, src FROM per_user ORDER BY user") == [("u1", 1, "mv"), ("u2", 1, "mv")]
    # a column the view reads cannot go away under it (the next insert would fail)
    with pytest.raises(BadArgumentsError, match="materialized view mv uses it"):
        db.alter_drop_column("e", "user")
    with pytest.raises(BadArgumentsError, match="materialized view mv uses it"):
        db.alter_rename_column("e", "user", "who")
    db.alter_drop_column("e", "extra")                    # one it does not read can


def test_metadata_json_is_versioned_and_keeps_comments(db, tmp_path):
    _events(db)
    db.alter_comment_column("e", "user", "who did it")
    doc = json.loads((tmp_path / "db" / "e" / "metadata.json").read_text())
    assert doc["version"] == 1
    assert [c.get("comment") for c in doc["columns"]] == [None, "who did it", None]
    assert not os.path.exists(tmp_path / "db" / "e" / "metadata.json.tmp")
    assert _rows(db, "DESCRIBE e")[1][:5] == ("user", "String", "", "", "who did it")


def test_exchange_tables_swaps_contents_and_survives_a_crash_midway(tmp_path):
    from mergetree.database import _EXCHANGE_JOURNAL, _EXCHANGE_TMP

    path = tmp_path / "x"
    db = mergetree.connect(path, background_merges=False)
    db.create_table("a", "k UInt32, s String", order_by="k")
    db.create_table("b", "k UInt32, s String", order_by="k")
    db.create_table("c", "k UInt32, s String, extra UInt8", order_by="k")
    db.insert("a", [{"k": 1, "s": "from a"}])
    db.insert("b", [{"k": 2, "s": "from b"}, {"k": 3, "s": "from b"}])
    db.exchange_tables("a", "b")
    assert _rows(db, "SELECT k, s FROM a ORDER BY k") == [(2, "from b"), (3, "from b")]
    assert _rows(db, "SELECT k, s FROM b ORDER BY k") == [(1, "from a")]
    db.insert("a", [{"k": 4, "s": "new"}])                 # the swapped tables take inserts and merges
    db.optimize("a", final=True)
    assert _rows(db, "SELECT count() FROM a") == [(3,)]
    with pytest.raises(BadArgumentsError, match="columns differ"):
        db.exchange_tables("a", "c", same_columns=True)
    db.close()
    # a crash after the first rename of a second exchange: a -> tmp done, b -> a and tmp -> b not
    (path / _EXCHANGE_JOURNAL).write_text(json.dumps({"a": "a", "b": "b"}))
    os.rename(path / "a", path / _EXCHANGE_TMP)
    db = mergetree.connect(path, background_merges=False)
    try:
        assert _rows(db, "SELECT k FROM a ORDER BY k") == [(1,)]
        assert _rows(db, "SELECT k FROM b ORDER BY k") == [(2,), (3,), (4,)]
        assert db.table("a").metadata.name == "a" and db.table("b").metadata.name == "b"
        assert not (path / _EXCHANGE_JOURNAL).exists()
    finally:
        db.close()


def test_rename_table(db):
    _events(db)
    db.rename_table("e", "events2")
    assert db.tables() == ["events2"]
    assert _rows(db, "SELECT count() FROM events2") == [(3,)]
    db.create_table("e", "x UInt8", order_by="x")         # the old name is free again
    with pytest.raises(mergetree.errors.TableAlreadyExistsError):
        db.rename_table("e", "events2")


def test_alter_while_inserting_and_querying_loses_nothing(db):
    """Writers and readers run while columns are added: every insert succeeds, every row is there."""
    import threading

    db.create_table("c", "id UInt64, v UInt32", order_by="id")
    errors, stop = [], threading.Event()

    def writer(w):
        for i in range(20):
            try:
                db.insert("c", [{"id": w * 1000 + i, "v": i}])
            except Exception as e:  # noqa: BLE001
                errors.append(e)

    def reader():
        while not stop.wait(0.01):
            try:
                db.sql("SELECT count(), sum(v) FROM c").rows
            except Exception as e:  # noqa: BLE001
                errors.append(e)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(3)] + [threading.Thread(target=reader)]
    for t in threads:
        t.start()
    for k in range(4):
        db.alter_add_column("c", f"x{k} UInt64 DEFAULT id + {k}")
    for t in threads[:3]:
        t.join()
    stop.set()
    threads[3].join()
    assert errors == []
    assert _rows(db, "SELECT count(), sum(v), countIf(x3 = id + 3) FROM c") == [(60, 3 * sum(range(20)), 60)]
    db.optimize("c", final=True)
    assert _rows(db, "SELECT count(), countIf(x0 = id) FROM c") == [(60, 60)]


def test_one_alter_with_several_commands_is_all_or_nothing(db):
    _events(db)
    with pytest.raises(NotFoundColumnInBlockError):
        db.sql("ALTER TABLE e ADD COLUMN x UInt8 DEFAULT 1, DROP COLUMN nope")
    assert db.table("e").metadata.column_names == ["id", "user", "ts"]
    v = db.table("e").metadata.version
    # DROP user and ADD user in one statement: the old Strings are never read as the new UInt8
    db.sql("ALTER TABLE e DROP COLUMN user, ADD COLUMN user UInt8 DEFAULT 3, ADD COLUMN x UInt8 DEFAULT id")
    assert _rows(db, "SELECT id, user, x FROM e ORDER BY id") == [(1, 3, 1), (2, 3, 2), (3, 3, 3)]
    assert db.table("e").metadata.version > v
    # swapping two names through a third
    db.sql("ALTER TABLE e RENAME COLUMN user TO tmp, RENAME COLUMN x TO user, RENAME COLUMN tmp TO x")
    assert _rows(db, "SELECT id, user, x FROM e ORDER BY id") == [(1, 1, 3), (2, 2, 3), (3, 3, 3)]
    db.optimize("e", final=True)
    assert _rows(db, "SELECT id, user, x FROM e ORDER BY id") == [(1, 1, 3), (2, 2, 3), (3, 3, 3)]


def test_a_reader_pinning_parts_across_an_exchange_never_deletes_the_other_tables_parts(db):
    """A snapshot taken before EXCHANGE pins a part the table then merged away; releasing it after the
    exchange must not remove the same-named part of the other table, now in that directory."""
    db.create_table("a", "k UInt32", order_by="k")
    db.create_table("b", "k UInt32", order_by="k")
    for i in range(2):
        db.insert("a", [{"k": i}])
        db.insert("b", [{"k": 10 + i}])
    snap = db.table("a").snapshot()            # pins all_1_1_0 and all_2_2_0 of a
    db.optimize("a", final=True)               # ... which are now outdated but still pinned
    db.exchange_tables("a", "b")               # b's all_1_1_0 / all_2_2_0 now live in directory a
    snap.release()
    assert _rows(db, "SELECT k FROM a ORDER BY k") == [(10,), (11,)]
    assert _rows(db, "SELECT k FROM b ORDER BY k") == [(0,), (1,)]


def test_modify_and_remove_ttl_in_sql_apply_at_the_next_merge(db):
    db.create_table("tt", "k UInt32, ts DateTime", order_by="k")
    db.insert("tt", [{"k": 1, "ts": "2000-01-01 00:00:00"}, {"k": 2, "ts": "2100-01-01 00:00:00"}])
    db.sql("ALTER TABLE tt MODIFY TTL ts + INTERVAL 1 DAY")
    assert "ts" in db.table("tt").metadata.ttl and db.table("tt").metadata.version == 1
    db.optimize("tt", final=True)                   # the merge drops the expired row
    assert _rows(db, "SELECT k FROM tt") == [(2,)]
    db.sql("ALTER TABLE tt REMOVE TTL")
    assert db.table("tt").metadata.ttl is None
    with pytest.raises(mergetree.errors.UnknownColumnError):
        db.sql("ALTER TABLE tt MODIFY TTL nope + INTERVAL 1 DAY")
