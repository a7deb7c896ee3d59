"""ORDER BY a, b LIMIT k: the top-N operator keeps only the rows whose first key can be among the
first k (ties included) before ranking the later keys. Checked against chDB (the same data and
query), with many ties at the cut-off, OFFSET, DESC and string second keys; and group_rows skips
constant keys without changing the numbering."""

from __future__ import annotations

import numpy as np
import pytest

import mergetree
from mergetree import types as T
from mergetree.column import FixedColumn, StringColumn
from mergetree.kernels.groupby import group_rows

chdb = pytest.importorskip("chdb")

ROWS = "SELECT number AS id, number % 7 AS c, concat('u', toString((number * 7919) % 1000)) AS s FROM numbers(5000)"
QUERIES = [
    "SELECT c, s, id FROM ({rows}) ORDER BY c DESC, s LIMIT 10",
    "SELECT c, s, id FROM ({rows}) ORDER BY c, s DESC, id LIMIT 25 OFFSET 5",
    "SELECT c, s FROM ({rows}) ORDER BY c DESC, s DESC LIMIT 3",
    "SELECT s, count() AS n FROM ({rows}) GROUP BY s ORDER BY n DESC, s LIMIT 10",
    "SELECT id % 3 AS k, s FROM ({rows}) ORDER BY k, s, id LIMIT 40",
]


@pytest.mark.parametrize("query", QUERIES)
def test_topn_matches_chdb(query):
    sql = query.format(rows=ROWS)
    expected = chdb.query(sql, "TabSeparated").bytes().decode()
    with mergetree.connect(background_merges=False) as db:
        assert db.sql(sql).format().decode() == expected


def test_group_rows_constant_key_keeps_numbering():
    rng = np.random.default_rng(3)
    words = [f"w{x}".encode() for x in rng.integers(0, 50, 2000).tolist()]
    s = StringColumn.from_bytes_list(words)
    zeros = FixedColumn(T.Int64, np.zeros(2000, np.int64))
    ids, g, first = group_rows([s])
    for cols in ([zeros, s], [s, zeros], [zeros, s, zeros]):
        ids2, g2, first2 = group_rows(cols)
        assert g2 == g and (ids2 == ids).all() and (first2 == first).all()
    # the reference numbering: first appearance
    seen = {}
    expect = [seen.setdefault(w, len(seen)) for w in words]
    assert ids.tolist() == expect
