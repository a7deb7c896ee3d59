"""Mutations: lightweight deletes and rewriting DELETE/UPDATE, ordered with inserts by block number.

The table-level drivers (`run_mutation`, `lightweight_delete`, `finish_pending_mutations`) are
exercised against a minimal stand-in table that publishes parts the way MergeTreeTable does
(rename tmp -> name, the old part becomes outdated and is removed).
"""

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from mergetree.errors import BadArgumentsError
from mergetree.storage import merger, mutations
from mergetree.storage.mutations import Mutation, data_version, load_mutations, save_mutation
from mergetree.storage.part import DataPart
from mergetree.storage.part_info import PartInfo

from test_merger import make_meta, write

SPEC = {"k": "UInt32", "v": "Int64", "s": "String"}


class FakeEntry:
    def __init__(self, part):
        self.part = part


class FakeTable:
    """The surface of MergeTreeTable that mutations.py uses."""

    def __init__(self, path: Path, metadata):
        self.path = path
        self.metadata = metadata
        self._entries = {}
        self._seq = 0

    def add(self, part):
        self._entries[part.name] = FakeEntry(part)

    def active_parts(self):
        return [e.part for _, e in sorted(self._entries.items(), key=lambda kv: kv[1].part.info)]

    def _tmp_dir(self, kind):
        self._seq += 1
        return self.path / f"tmp_{kind}_{self._seq}"

    def _commit_merge(self, tmp, info, sources):
        final = self.path / info.name
        os.rename(tmp, final)
        for s in sources:
            del self._entries[s.part.name]
            shutil.rmtree(s.part.path)
        self._entries[info.name] = FakeEntry(DataPart.open(final))

    def cleanup_outdated(self):
        return []

    def rows(self):
        out = []
        for p in self.active_parts():
            b = p.read([n for n, _ in p.columns])
            m = mutations.read_row_mask(p)
            out.extend((b.filter(m) if m is not None else b).to_pylist_rows())
        return sorted(out)


@pytest.fixture
def table(tmp_path):
    meta = make_meta(SPEC, ["k"])
    t = FakeTable(tmp_path, meta)
    for block_number, rows in enumerate([[(1, 10, "a"), (2, 20, "b")], [(3, 30, "c"), (4, 40, "d")],
                                         [(5, 50, "e")]], start=1):
        t.add(write(tmp_path, meta, SPEC, rows, block_number))
    return t


def even_v(block):
    return block["v"].values % 20 == 0


def test_data_version_and_affects():
    assert data_version(PartInfo("all", 3, 7, 1)) == 3
    assert data_version(PartInfo("all", 3, 7, 1, 9)) == 9
    m = Mutation(version=8, kind="delete", predicate="1")
    assert m.affects(PartInfo("all", 3, 7, 1)) and not m.affects(PartInfo("all", 9, 9, 0))
    assert not m.affects(PartInfo("all", 1, 7, 1, 8))  # already mutated by it
    with pytest.raises(BadArgumentsError, match="Unknown mutation kind"):
        Mutation(version=1, kind="truncate", predicate="1")


def test_records_roundtrip(tmp_path):
    save_mutation(tmp_path, Mutation(version=12, kind="update", predicate="k = 1", assignments={"v": "v + 1"}))
    save_mutation(tmp_path, Mutation(version=4, kind="lightweight_delete", predicate="k = 2", is_done=True))
    ms = load_mutations(tmp_path)
    assert [(m.version, m.kind, m.is_done) for m in ms] == [(4, "lightweight_delete", True), (12, "update", False)]
    assert ms[1].assignments == {"v": "v + 1"}
    assert (tmp_path / "mutation_12.txt").exists()


def test_lightweight_delete_is_ordered_with_inserts_by_block_number(table, tmp_path):
    # the delete takes version 4; a part inserted afterwards (block 5) is not affected
    late = write(tmp_path, table.metadata, SPEC, [(6, 60, "late")], 5)
    table.add(late)
    deleted = mutations.lightweight_delete(table, table.active_parts(), even_v, 4)
    assert deleted == 2  # v=20 and v=40; v=60 is in block 5 > 4
    names = [p.name for p in table.active_parts()]
    assert names == ["all_1_1_0_4", "all_2_2_0_4", "all_3_3_0_4", "all_5_5_0"]
    assert table.rows() == [(1, 10, "a"), (3, 30, "c"), (5, 50, "e"), (6, 60, "late")]
    # part rows are unchanged (mask only), the record is persisted and done
    assert [p.rows for p in table.active_parts()] == [2, 2, 1, 1]
    assert load_mutations(tmp_path)[0].is_done
    # the next merge drops the masked rows physically
    res = merger.merge_parts(table.active_parts(), tmp_path / "tmp_merge", metadata=table.metadata, now=0)
    merged = DataPart.open(res.path)
    assert merged.rows == 4 and mutations.read_row_mask(merged) is None


def test_rewriting_delete_and_update(table, tmp_path):
    inode = os.stat(table.active_parts()[2].path / "v.bin").st_ino
    n = mutations.run_mutation(table, Mutation(version=4, kind="delete", predicate="v % 20 = 0"),
                               predicate=even_v)
    assert n == 2
    assert table.rows() == [(1, 10, "a"), (3, 30, "c"), (5, 50, "e")]
    assert all(mutations.read_row_mask(p) is None for p in table.active_parts())
    assert [p.rows for p in table.active_parts()] == [1, 1, 1]
    assert [p.name for p in table.active_parts()] == ["all_1_1_0_4", "all_2_2_0_4", "all_3_3_0_4"]
    # part 3 had no matching row: its new version is hard links of the old files
    assert os.stat(table.active_parts()[2].path / "v.bin").st_ino == inode

    upd = Mutation(version=6, kind="update", predicate="k >= 3", assignments={"v": "v * 2", "s": "'z'"})
    from mergetree.column import StringColumn

    def evaluate_fn(text, block):
        if text == "v * 2":
            from mergetree.column import FixedColumn
            return FixedColumn(block["v"].type, block["v"].values * 2)
        return StringColumn.from_bytes_list([b"z"] * block.num_rows)

    total = 0
    for p in table.active_parts():
        tmp = table._tmp_dir("mutate")
        _, changed = mutations.apply_mutation(p, upd, tmp, table.metadata,
                                              predicate=lambda b: b["k"].values >= 3, evaluate_fn=evaluate_fn)
        total += changed
        info = p.info
        table._commit_merge(tmp, PartInfo(info.partition_id, info.min_block, info.max_block, info.level, 6),
                            [table._entries[p.name]])
    assert total == 2
    assert table.rows() == [(1, 10, "a"), (3, 60, "z"), (5, 100, "z")]


def test_update_of_key_column_is_refused(table, tmp_path):
    p = table.active_parts()[0]
    with pytest.raises(BadArgumentsError, match="key column 'k'"):
        mutations.apply_mutation(p, Mutation(version=9, kind="update", predicate="1", assignments={"k": "1"}),
                                 tmp_path / "tmp_x", table.metadata, predicate=lambda b: np.ones(b.num_rows, bool),
                                 evaluate_fn=lambda t, b: b["k"])


def test_interrupted_mutation_is_finished_once_per_part(table, tmp_path, monkeypatch):
    # Simulate a crash after the first part was mutated: the record is not done.
    m = Mutation(version=4, kind="lightweight_delete", predicate="v >= 20")
    save_mutation(tmp_path, m)
    first = table.active_parts()[0]
    tmp = table._tmp_dir("mutate")
    mutations.lightweight_delete_part(first, lambda b: b["v"].values >= 20, tmp)
    table._commit_merge(tmp, PartInfo("all", 1, 1, 0, 4), [table._entries[first.name]])
    assert not load_mutations(tmp_path)[0].is_done

    calls = []
    real = mutations.lightweight_delete_part

    def spy(part, predicate, tmp_dir):
        calls.append(part.name)
        return real(part, lambda b: b["v"].values >= 20, tmp_dir)

    monkeypatch.setattr(mutations, "lightweight_delete_part", spy)
    assert mutations.finish_pending_mutations(table) == [4]
    assert calls == ["all_2_2_0", "all_3_3_0"]  # the already-mutated part is skipped
    assert table.rows() == [(1, 10, "a")]
    assert load_mutations(tmp_path)[0].is_done
    assert mutations.finish_pending_mutations(table) == []


# ---- through the embedded API (needs the SQL expression parser) --------------------------------

def _db(tmp_path):
    import sqlparse_ch

    if not hasattr(sqlparse_ch, "parse_expr"):
        pytest.skip("the SQL expression parser has not landed yet")
    import mergetree

    return mergetree.connect(tmp_path / "db", background_merges=False)


def test_api_delete_then_insert_then_update(tmp_path):
    db = _db(tmp_path)
    try:
        t = db.create_table("t", "k UInt32, v Int64, s String", order_by="k")
        db.insert("t", [{"k": 1, "v": 10, "s": "a"}, {"k": 2, "v": 20, "s": "b"}])
        db.insert("t", [{"k": 3, "v": 30, "s": "c"}])
        assert db.delete("t", "v >= 20") == 2
        db.insert("t", [{"k": 4, "v": 40, "s": "late"}])   # after the delete: not affected
        assert sorted(db.read("t").to_pylist_rows()) == [(1, 10, "a"), (4, 40, "late")]
        assert [p["name"] for p in t.parts()] == ["all_1_1_0_3", "all_2_2_0_3", "all_4_4_0"]
        assert db.alter_update("t", {"v": "v * 2", "s": "concat(s, '!')"}, "k >= 1") == 2
        assert sorted(db.read("t").to_pylist_rows()) == [(1, 20, "a!"), (4, 80, "late!")]
        assert db.alter_delete("t", "k = 4") == 1
        db.optimize("t", final=True)
        assert db.read("t").to_pylist_rows() == [(1, 20, "a!")]
        assert [p["rows"] for p in t.parts()] == [1]
    finally:
        db.close()


def test_api_mutations_survive_reopen(tmp_path):
    db = _db(tmp_path)
    db.create_table("t", "k UInt32, v Int64", order_by="k")
    db.insert("t", [{"k": i, "v": i} for i in range(10)])
    db.delete("t", "k % 2 = 1")
    db.close()
    import mergetree

    db = mergetree.connect(tmp_path / "db", background_merges=False)
    try:
        assert [r[0] for r in db.read("t").to_pylist_rows()] == [0, 2, 4, 6, 8]
        assert all(m.is_done for m in load_mutations(tmp_path / "db" / "t"))
    finally:
        db.close()


def test_lightweight_delete_given_an_ast_records_sql_text(table, tmp_path):
    import sqlparse_ch

    where = sqlparse_ch.parse_expr("v >= 30 AND s != 'zz'")
    assert mutations.lightweight_delete(table, table.active_parts(), where, 4) == 3
    record = load_mutations(tmp_path)[0]
    assert sqlparse_ch.parse_expr(record.predicate) == where  # re-parsable after a restart
    assert table.rows() == [(1, 10, "a"), (2, 20, "b")]


def test_api_lightweight_delete_on_replacing_matches_clickhouse(tmp_path):
    # Observed in chDB 26.9: deleting the newest version lets FINAL see the older one again, and
    # every part older than the delete gets the new mutation version (all_1_1_0_3, all_2_2_0_3).
    db = _db(tmp_path)
    try:
        t = db.create_table("r", "k UInt32, ver UInt32, v String", engine="ReplacingMergeTree(ver)",
                            order_by="k")
        db.insert("r", [{"k": 1, "ver": 1, "v": "old"}])
        db.insert("r", [{"k": 1, "ver": 2, "v": "new"}])
        db.delete("r", "v = 'new'")
        assert db.read("r", final=True).to_pylist_rows() == [(1, 1, "old")]
        assert [(p["name"], p["rows"]) for p in t.parts()] == [("all_1_1_0_3", 1), ("all_2_2_0_3", 1)]
        db.optimize("r", final=True)
        assert db.read("r").to_pylist_rows() == [(1, 1, "old")]
    finally:
        db.close()
