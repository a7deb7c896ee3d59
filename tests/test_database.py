"""Database (the embedded API) and TableMetadata; the merge property test.

The property test drives random sequences of inserts, background merge steps and OPTIMIZEs and
compares the table with a plain Python list of the inserted rows.
"""

from __future__ import annotations

import json
import os
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mergetree
import mergetree.errors
from mergetree.errors import (BadArgumentsError, MergeTreeError, TableAlreadyExistsError, UnknownColumnError,
                              UnknownTableError)
from mergetree.storage.metadata import TableMetadata, parse_column_def, parse_engine, parse_key
from mergetree.types import parse_type

# ---------------------------------------------------------------------------- metadata


def test_parse_key_forms():
    assert parse_key("timestamp, user_id") == ["timestamp", "user_id"]
    assert parse_key("(timestamp, user_id)") == ["timestamp", "user_id"]
    assert parse_key("(toDate(ts), intDiv(x, 10))") == ["toDate(ts)", "intDiv(x, 10)"]
    assert parse_key("toYYYYMM(ts)") == ["toYYYYMM(ts)"]
    assert parse_key("(a)") == ["a"]
    assert parse_key("tuple()") == [] and parse_key(None) == [] and parse_key("") == []
    assert parse_key(["a", "b"]) == ["a", "b"]


def test_parse_column_def_with_default_and_codec():
    c = parse_column_def("ts DateTime('UTC') DEFAULT now() CODEC(Delta, ZSTD(3))")
    assert (c.name, str(c.type), c.default_kind, c.default, c.codec) == \
        ("ts", "DateTime('UTC')", "DEFAULT", "now()", "Delta, ZSTD(3)")
    c = parse_column_def("`odd name` Decimal(10, 2)")
    assert (c.name, str(c.type), c.default) == ("odd name", "Decimal(10, 2)", None)
    c = parse_column_def("s LowCardinality(String) MATERIALIZED upper(x)")
    assert (str(c.type), c.default_kind, c.default) == ("LowCardinality(String)", "MATERIALIZED", "upper(x)")


def test_parse_engine():
    assert parse_engine("MergeTree") == ("MergeTree", [])
    assert parse_engine("MergeTree()") == ("MergeTree", [])
    assert parse_engine("ReplacingMergeTree(ver, is_deleted)") == ("ReplacingMergeTree", ["ver", "is_deleted"])
    with pytest.raises(BadArgumentsError):
        parse_engine("Log")


def test_metadata_json_round_trip(tmp_path):
    m = TableMetadata.create("events", schema="id UInt64, ts DateTime CODEC(Delta, LZ4), v Nullable(String)",
                             engine="ReplacingMergeTree(id)", order_by="(toDate(ts), id)",
                             partition_by="toYYYYMM(ts)", primary_key="toDate(ts)", ttl="ts + INTERVAL 1 DAY",
                             settings={"index_granularity": 128})
    m.save(tmp_path)
    saved = json.loads((tmp_path / "metadata.json").read_text())
    assert saved["order_by"] == ["toDate(ts)", "id"] and saved["primary_key"] == ["toDate(ts)"]
    assert saved["settings"] == {"index_granularity": 128}          # only non-defaults are stored
    assert saved["columns"][1] == {"name": "ts", "type": "DateTime", "codec": "Delta, LZ4"}
    back = TableMetadata.load(tmp_path)
    assert back.to_json() == m.to_json()
    assert back.schema == [("id", parse_type("UInt64")), ("ts", parse_type("DateTime")),
                           ("v", parse_type("Nullable(String)"))]
    assert back.partition_columns == ["ts"] and back.settings["index_granularity"] == 128
    assert not list(tmp_path.glob("*.tmp"))


@pytest.mark.parametrize("kwargs, error, text", [
    (dict(schema="a UInt8", order_by="b"), UnknownColumnError, "'b'"),
    (dict(schema="a UInt8", order_by="a", partition_by="toYYYYMM(zz)"), UnknownColumnError, "'zz'"),
    (dict(schema="a UInt8, b UInt8", order_by="a, b", primary_key="b"), BadArgumentsError, "prefix"),
    (dict(schema="a UInt8", order_by="a", settings={"index_granularityy": 3}), BadArgumentsError,
     "index_granularityy"),
    (dict(schema="a UInt8, a String", order_by="a"), BadArgumentsError, "twice"),
    (dict(schema="a UInt8", order_by="a", engine="CollapsingMergeTree(a)"), BadArgumentsError, "Int8"),
    (dict(schema="ts DateTime", order_by="toDat(ts)"), MergeTreeError, "toDat"),
    (dict(schema="x Float64", order_by="x", partition_by="x"), BadArgumentsError, "Floating point"),
])
def test_create_table_rejects_bad_definitions(tmp_path, kwargs, error, text):
    db = mergetree.connect(tmp_path, background_merges=False)
    try:
        with pytest.raises(error) as e:
            db.create_table("t", **kwargs)
        assert text in str(e.value)
        assert db.tables() == [] and not (tmp_path / "t").exists()
    finally:
        db.close()


# ---------------------------------------------------------------------------- database


def test_temporary_database_is_removed_on_close():
    db = mergetree.connect()
    path = db.path
    db.create_table("t", schema="k UInt8", order_by="k")
    db.insert("t", {"k": [1]})
    assert path.is_dir()
    db.close()
    assert not path.exists()


def test_tables_create_drop_and_errors(tmp_path):
    with mergetree.connect(tmp_path / "x", background_merges=False) as db:
        assert (tmp_path / "x").is_dir()
        db.create_table("b", schema="k UInt8", order_by="k")
        db.create_table("a", schema="k UInt8", order_by="k")
        assert db.tables() == ["a", "b"]
        with pytest.raises(TableAlreadyExistsError):
            db.create_table("a", schema="k UInt8", order_by="k")
        assert db.create_table("a", schema="k UInt8", order_by="k", if_not_exists=True) is db.table("a")
        with pytest.raises(UnknownTableError) as e:
            db.table("c")
        assert "c" in str(e.value) and e.value.code == "UNKNOWN_TABLE"
        with pytest.raises(BadArgumentsError):
            db.create_table("bad name", schema="k UInt8", order_by="k")
        db.insert("b", {"k": [1, 2]})
        db.drop_table("b")
        assert db.tables() == ["a"] and not (tmp_path / "x" / "b").exists()
        db.drop_table("b", if_exists=True)
        with pytest.raises(UnknownTableError):
            db.insert("b", {"k": [1]})


def test_reopen_sees_every_committed_row_and_definition(tmp_path):
    db = mergetree.connect(tmp_path)
    db.create_table("e", schema="id UInt32, name String, score Float64", order_by="id",
                    settings={"index_granularity": 3})
    db.insert("e", [{"id": i, "name": f"n{i}", "score": i / 2} for i in range(10)])
    db.insert("e", [{"id": 100, "name": "last", "score": -1.5}])
    db.close()
    db = mergetree.connect(tmp_path)
    try:
        t = db.table("e")
        assert t.metadata.settings["index_granularity"] == 3
        rows = sorted(t.read().to_pylist_rows())
        assert rows == sorted([(i, f"n{i}", i / 2) for i in range(10)] + [(100, "last", -1.5)])
        assert db.read("e", columns=["name"], where="id = 100")["name"].to_pylist() == ["last"]
    finally:
        db.close()


def test_alter_update_and_delete_are_rewriting_mutations(tmp_path):
    with mergetree.connect(tmp_path, background_merges=False) as db:
        t = db.create_table("t", schema="k UInt32, v String", order_by="k")
        db.insert("t", {"k": [1, 2, 3], "v": ["a", "b", "c"]})
        db.alter_update("t", {"v": "'z'"}, "k >= 2")
        assert sorted(t.read().to_pylist_rows()) == [(1, "a"), (2, "z"), (3, "z")]
        db.alter_delete("t", "k = 1")
        assert sorted(t.read().to_pylist_rows()) == [(2, "z"), (3, "z")]
        assert t.parts()[0]["rows"] == 2                 # rewritten, not masked
        with pytest.raises(BadArgumentsError):
            db.alter_update("t", {"k": "0"}, "1 = 1")     # key columns cannot be updated


# ---------------------------------------------------------------------------- property test

KEYS = st.tuples(st.integers(0, 2), st.integers(0, 20), st.text("ab", max_size=2))
OPS = st.lists(
    st.one_of(
        st.tuples(st.just("insert"), st.lists(KEYS, min_size=1, max_size=25)),
        st.tuples(st.just("merge"), st.none()),
        st.tuples(st.just("optimize"), st.sampled_from([None, 0, 1, 2])),
        st.tuples(st.just("optimize_nonfinal"), st.none()),
    ),
    min_size=1, max_size=12)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_any_sequence_of_inserts_and_merges_keeps_the_multiset(tmp_path_factory, ops):
    path = tmp_path_factory.mktemp("prop")
    db = mergetree.connect(path, background_merges=False)
    try:
        t = db.create_table("t", schema="p UInt8, k UInt32, s String", order_by="k, s", partition_by="p",
                            settings={"index_granularity": 4})
        expected: list[tuple] = []
        for op, arg in ops:
            if op == "insert":
                db.insert("t", {"p": [r[0] for r in arg], "k": [r[1] for r in arg], "s": [r[2] for r in arg]})
                expected += arg
            elif op == "merge":
                t.merge_once()
            elif op == "optimize":
                if arg is None or arg in {r[0] for r in expected}:
                    t.optimize(final=True, partition=arg)
            else:
                t.optimize(final=False)
        assert Counter(t.read().to_pylist_rows()) == Counter(expected)
        # every part is sorted by the key and holds one partition
        for part in t.active_parts():
            rows = part.read(["p", "k", "s"]).to_pylist_rows()
            assert [(k, s) for _, k, s in rows] == sorted((k, s) for _, k, s in rows)
            assert len({p for p, _, _ in rows}) <= 1
        # block ranges of active parts never overlap inside a partition
        infos = sorted((p["partition_id"], p["min_block"], p["max_block"]) for p in t.parts())
        assert all(a[0] != b[0] or a[2] < b[1] for a, b in zip(infos, infos[1:]))
        # reopening gives the same content, and no leftovers
        db.close()
        db = mergetree.connect(path, background_merges=False)
        assert Counter(db.table("t").read().to_pylist_rows()) == Counter(expected)
        assert not [d for d in os.listdir(path / "t") if d.startswith(("tmp_", "delete_tmp_"))]
    finally:
        db.close()


def test_corrupted_metadata_names_the_file(tmp_path):
    with mergetree.connect(tmp_path, background_merges=False) as db:
        db.create_table("t", schema="k UInt8", order_by="k")
    (tmp_path / "t" / "metadata.json").write_text("{not json")
    with pytest.raises(mergetree.errors.MergeTreeError) as e:
        mergetree.connect(tmp_path, background_merges=False)
    assert "metadata.json" in str(e.value) and "/t/" in str(e.value)
