"""Output formats are byte-compatible with ClickHouse: the same query in chDB and in mergetree
gives the same bytes (JSON/JSONCompact compared without the statistics block, whose elapsed time
and read counters differ by engine)."""

from __future__ import annotations

import re

import pytest

chdb = pytest.importorskip("chdb")

import mergetree  # noqa: E402
from mergetree.errors import UnknownFormatError  # noqa: E402
from mergetree.sql import execute  # noqa: E402

QUERIES = [
    "SELECT 1 AS a, -2 AS b, 1.5 AS c, 'x\\ty\"\\'z\\\\/' AS s, NULL AS n, true AS bo, nan AS f, -inf AS g",
    "SELECT toDate('2020-01-02') AS d, toDateTime('2020-01-02 03:04:05') AS ts, toFloat32(0.1) AS f32, 1e20 AS big",
    "SELECT number, toString(number) AS s, number / 3 AS q, nullIf(number, 1) AS nn FROM numbers(4)",
    "SELECT number % 2 AS k, count() AS c, sum(number) FROM numbers(10) GROUP BY k ORDER BY k",
    "SELECT number FROM numbers(10) WHERE number > 100",
    "SELECT 'a,b' AS x, 'q\"q' AS y, 'line\nbreak' AS z",
    "SELECT number, toString(number * 1000) AS s, number / 3 AS f, nullIf(number, 1) AS n FROM numbers(12)",
]
FORMATS = ["TabSeparated", "TSVWithNames", "TabSeparatedWithNamesAndTypes", "CSV", "CSVWithNames", "JSONEachRow",
           "JSON", "JSONCompact", "JSONStrings", "TSVRaw", "PrettyCompact"]


def _strip_statistics(data: bytes) -> bytes:
    return re.sub(rb'\t"statistics":\n\t\{[^}]*\}\n', b"", data)


@pytest.fixture(scope="module")
def db():
    with mergetree.connect(background_merges=False) as d:
        yield d


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("query", QUERIES)
def test_same_bytes_as_chdb(db, query, fmt):
    expected = chdb.query(query, fmt).bytes()
    got = execute(db, query).format(fmt)
    if fmt == "PrettyCompact" and "\\t" in query:
        pytest.skip("PrettyCompact: a tab's display width depends on its column on the line")
    if fmt.startswith("JSON") and fmt != "JSONEachRow":
        expected, got = _strip_statistics(expected), _strip_statistics(got)
    assert got.decode() == expected.decode()


def test_json_with_limit_reports_rows_before_limit(db):
    text = execute(db, "SELECT number FROM numbers(10) ORDER BY number DESC LIMIT 3").format("JSON").decode()
    assert '"rows": 3,' in text
    assert '"rows_before_limit_at_least": 10,' in text
    assert '"rows_read": 10,' in text and '"bytes_read": 80' in text


def test_format_clause_is_the_default(db):
    res = execute(db, "SELECT 1 AS x FORMAT JSONEachRow")
    assert res.format() == b'{"x":1}\n'
    assert res.format("CSV") == b"1\n"


def test_unknown_format(db):
    with pytest.raises(UnknownFormatError, match="JSONEachRow"):
        execute(db, "SELECT 1").format("JSONEachRows")
