"""Errors carry ClickHouse's error names, say what was wrong and where (line/column from the AST),
and leave the database usable."""

from __future__ import annotations

import pytest

import mergetree
from mergetree.errors import MergeTreeError
from mergetree.sql import execute


@pytest.fixture(scope="module")
def db():
    with mergetree.connect(background_merges=False) as d:
        execute(d, "CREATE TABLE t (user_id String, n UInt32, ts DateTime) ENGINE = MergeTree ORDER BY ts")
        execute(d, "INSERT INTO t VALUES ('a', 1, '2024-01-01 00:00:00'), ('b', 2, '2024-01-02 00:00:00')")
        yield d


CASES = [
    ("SELECT usr_id FROM t", "UNKNOWN_IDENTIFIER", "Unknown identifier 'usr_id' (did you mean 'user_id'?) (line 1, column 8)"),
    ("SELECT n FROM t WHERE\n  tss > 1", "UNKNOWN_IDENTIFIER", "'tss' (did you mean 'ts'?) (line 2, column 3)"),
    ("SELECT x.n FROM t", "UNKNOWN_IDENTIFIER", "Unknown identifier 'x.n'"),
    ("SELECT toDat(ts) FROM t", "UNKNOWN_FUNCTION", "Unknown function toDat (did you mean toDate?) (line 1, column 8)"),
    ("SELECT cnt() FROM t", "UNKNOWN_FUNCTION", "Unknown function cnt"),
    ("SELECT sumIff(n, 1) FROM t", "UNKNOWN_FUNCTION", "did you mean sumIf?"),
    ("SELECT user_id, count() FROM t GROUP BY n", "NOT_AN_AGGREGATE",
     "Column 'user_id' is not under aggregate function and not in GROUP BY keys (line 1, column 8)"),
    ("SELECT n, sum(n) FROM t", "NOT_AN_AGGREGATE", "Column 'n'"),
    ("SELECT count() FROM t ORDER BY n", "NOT_AN_AGGREGATE", "Column 'n'"),
    ("SELECT sum(user_id) FROM t", "ILLEGAL_TYPE_OF_ARGUMENT", "Illegal type String of argument for aggregate function sum"),
    ("SELECT n + user_id FROM t", "ILLEGAL_TYPE_OF_ARGUMENT", "Illegal type"),
    ("SELECT n FROM t WHERE sum(n) > 1", "ILLEGAL_AGGREGATION", "Aggregate function sum(n) is found in WHERE"),
    ("SELECT sum(count()) FROM t", "ILLEGAL_AGGREGATION", "count()"),
    ("SELECT n FROM t GROUP BY 5", "ILLEGAL_TYPE_OF_ARGUMENT", "Positional argument 5 of GROUP BY is out of bounds"),
    ("SELECT * FROM nope", "UNKNOWN_TABLE", "Table nope does not exist"),
    ("SELECT * FROM numbers(1, 2, 3)", "ILLEGAL_TYPE_OF_ARGUMENT", "numbers takes 1 or 2 arguments"),
    ("SELECT count() FROM t WHERE user_id", "ILLEGAL_TYPE_OF_COLUMN_FOR_FILTER", "Invalid type for filter in WHERE: String"),
    ("SELECT n FROM t GROUP BY n HAVING any(user_id)", "ILLEGAL_TYPE_OF_COLUMN_FOR_FILTER",
     "Invalid type for filter in HAVING: String"),
    ("SELECT intDiv(n, 0) FROM t", "ILLEGAL_DIVISION", "Division by zero"),
]


@pytest.mark.parametrize("sql,code,message", CASES, ids=[c[1] + ":" + c[0][:30] for c in CASES])
def test_error_name_and_message(db, sql, code, message):
    with pytest.raises(MergeTreeError) as info:
        execute(db, sql)
    assert info.value.code == code
    assert message in str(info.value)
    # the database is still usable afterwards
    assert execute(db, "SELECT count() FROM t").rows == [(2,)]


def test_unknown_output_format_is_named(db):
    with pytest.raises(MergeTreeError) as info:
        execute(db, "SELECT 1 FORMAT Jsn").format()
    assert info.value.code == "UNKNOWN_FORMAT"


def test_parse_errors_come_from_the_parser(db):
    from sqlparse_ch import ParseError

    with pytest.raises(ParseError):
        execute(db, "SELEC 1")
