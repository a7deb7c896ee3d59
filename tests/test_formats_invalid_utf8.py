"""Strings holding invalid UTF-8 are written like ClickHouse writes them, never an encoding crash.

Row formats (TSV, CSV, JSONEachRow, Values...) copy the raw bytes; the whole-document JSON formats
(JSON, JSONCompact, JSONStrings) replace each invalid sequence with U+FFFD. The expectation is chDB's
output for the same query.
"""

import re

import pytest

import mergetree

chdb = pytest.importorskip("chdb")

FORMATS = ["TabSeparated", "TSVRaw", "CSV", "CSVWithNames", "JSON", "JSONCompact", "JSONStrings",
           "JSONEachRow", "JSONCompactEachRow", "Values", "Markdown", "Vertical"]
VALUES = ["FF41E2", "C3", "E282", "41F09F", "C328", "41"]
_STATS = re.compile(rb'"statistics".*', re.S)


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    d = mergetree.connect(tmp_path_factory.mktemp("utf8"))
    yield d
    d.close()


@pytest.mark.parametrize("fmt", FORMATS)
def test_invalid_utf8_matches_clickhouse(db, fmt):
    for hexed in VALUES:
        q = f"SELECT unhex('{hexed}') AS s, 'ok' AS t"
        ours = db.sql(f"{q} FORMAT {fmt}").format()
        theirs = chdb.query(q, fmt).bytes()
        assert _STATS.sub(b"", ours) == _STATS.sub(b"", theirs), (hexed, ours, theirs)
