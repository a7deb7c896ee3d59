"""ParseError: positions, expected words, friendly messages, and the grammar's health
(strict LALR build, every rule has an AST builder)."""
from __future__ import annotations

import pytest

from sqlparse_ch import ParseError, parse, parse_expr, parse_many


def error_of(text, fn=parse) -> ParseError:
    with pytest.raises(ParseError) as info:
        fn(text)
    return info.value


def test_unexpected_token_position_and_expected_words():
    e = error_of("SELECT a, b\nFROM t\nWHERE x = 1 FORM")
    assert (e.line, e.column, e.token) == (3, 13, "FORM")
    assert "FORMAT" in e.expected and "GROUP" in e.expected and "ORDER" in e.expected
    text = str(e)
    assert text.startswith("Syntax error at line 3, column 13: unexpected 'FORM', expected ")
    assert text.endswith("  3 | WHERE x = 1 FORM\n    |             ^")


@pytest.mark.parametrize("text, column, word, keyword", [
    ("SELECT a FORM t", 10, "FORM", "FROM"),        # FORM read as an alias; error at `t`
    ("SELECT a FROM t WHRE x = 1", 17, "WHRE", "WHERE"),
    ("SELECT a FROM t\nWHERE x = 1 ODER BY a", 13, "ODER", "ORDER"),
    ("SELECT a FROM t GROUP BY a LIMT 1", 28, "LIMT", "LIMIT"),
])
def test_misspelled_keyword_points_at_the_word(text, column, word, keyword):
    e = error_of(text)
    assert (e.column, e.token) == (column, word)
    assert e.message.startswith(f"unexpected {word!r}, expected {keyword}, ")
    assert e.message.endswith(f"(did you mean {keyword}?)")


@pytest.mark.parametrize("text, line, column, before", [
    ("SELECT a, FROM t", 1, 9, "FROM"),
    ("SELECT a,\n  b,\nFROM t", 2, 4, "FROM"),
    ("SELECT f(a, ) FROM t", 1, 11, "')'"),
    ("SELECT a, b, WHERE", 1, 12, "WHERE"),
])
def test_trailing_comma(text, line, column, before):
    e = error_of(text)
    assert (e.line, e.column) == (line, column)
    assert e.message == f"trailing comma before {before}: remove the ',' or add another item"


@pytest.mark.parametrize("text, column", [
    ("SELECT a FROM WHERE x = 1", 15),
    ("SELECT a FROM ORDER BY a", 15),
    ("SELECT * FROM t JOIN ON t.a = 1", 22),
])
def test_missing_from_subject(text, column):
    e = error_of(text)
    assert e.column == column
    assert e.message.startswith("missing table after ")


@pytest.mark.parametrize("text, line, column, message", [
    ("SELECT (a + 1 FROM t", 1, 8, "unbalanced parentheses: '(' is never closed (missing ')')"),
    ("SELECT f(a, g(b) FROM t", 1, 9, "unbalanced parentheses: '(' is never closed (missing ')')"),
    ("SELECT a + 1) FROM t", 1, 13, "unbalanced parentheses: ')' has no matching '('"),
    ("SELECT [1, 2 FROM t", 1, 8, "unbalanced parentheses: '[' is never closed (missing ']')"),
    ("SELECT count(\n", 1, 13, "unbalanced parentheses: '(' is never closed (missing ')')"),
])
def test_unbalanced_parentheses(text, line, column, message):
    e = error_of(text)
    assert (e.line, e.column, e.message) == (line, column, message)


def test_parenthesis_inside_string_does_not_count():
    e = error_of("SELECT ')' FORM t")
    assert e.message.startswith("unexpected 'FORM'") and "unbalanced" not in e.message


@pytest.mark.parametrize("text, line, column, message", [
    ("SELECT 'abc FROM t", 1, 8, "unterminated string literal: missing closing '"),
    ("SELECT a\nFROM t WHERE b = 'x", 2, 18, "unterminated string literal: missing closing '"),
    ("SELECT `abc FROM t", 1, 8, "unterminated quoted identifier: missing closing `"),
    ("SELECT 1 /* open", 1, 10, "unterminated comment: missing */"),
])
def test_unterminated(text, line, column, message):
    e = error_of(text)
    assert (e.line, e.column, e.message) == (line, column, message)


def test_unexpected_character():
    e = error_of("SELECT a $ b")
    assert (e.line, e.column, e.token) == (1, 10, "$")
    assert e.message.startswith("unexpected character '$'")


def test_end_of_input():
    e = error_of("SELECT a FROM t WHERE")
    assert e.message.startswith("unexpected end of input, expected ")
    assert (e.line, e.column) == (1, 22)
    e = error_of("SELECT a FROM")
    assert e.message.startswith("missing table after FROM")
    assert (e.line, e.column) == (1, 14)


@pytest.mark.parametrize("text, column", [
    ("SELECT FROM t", 8), ("SELECT DISTINCT FROM t", 17), ("SELECT", 7)])
def test_missing_select_list(text, column):
    e = error_of(text)
    assert e.column == column
    assert e.message.startswith("missing select list after ")


def test_transform_errors_have_positions():
    e = error_of("SELECT 1 + 2 -> 3")
    assert e.message.startswith("lambda parameters must be names")
    assert (e.line, e.column) == (1, 8)
    e = error_of("SELECT INTERVAL '1 fortnight'")
    assert e.message == "unknown interval unit 'fortnight'"
    e = error_of("WITH a + 1 AS (SELECT 1) SELECT 1")
    assert "plain name" in e.message


def test_errors_in_parse_many_and_parse_expr():
    e = error_of("SELECT 1;\nSELECT 2 +;\n", parse_many)
    assert (e.line, e.column) == (2, 11)
    e = error_of("a +", parse_expr)
    assert e.message.startswith("unexpected end of input")


@pytest.mark.parametrize("text", [
    "", ";", "(((((", ")))", "SELECT " + "(" * 300 + "1" + ")" * 300, "\x00", "SELECT '\\",
    "INSERT INTO t FORMAT", "SELECT {x:}", "SELECT 1 1", "CREATE TABLE", "SELECT * EXCEPT",
])
def test_only_parse_error_escapes(text):
    try:
        parse(text)
    except ParseError as e:
        assert e.line >= 1 and e.column >= 1
        assert str(e).startswith("Syntax error at line ")


# ---- grammar health ----

def test_grammar_builds_strict_without_conflicts():
    pytest.importorskip("interegular")
    from sqlparse_ch.parser import build_parser
    parser = build_parser(strict=True, cache=False)  # raises on any shift/reduce or regex collision
    assert parser.options.strict


def test_every_rule_has_an_ast_builder():
    from sqlparse_ch.parser import get_parser
    from sqlparse_ch.transform_stmt import AstBuilder
    missing = set()
    for rule in get_parser().rules:
        name = rule.alias or rule.origin.name
        name = str(name)
        if name.startswith("_"):
            continue
        if not (rule.options.expand1 and rule.alias is None) and not hasattr(AstBuilder, name):
            missing.add(name)
    assert not missing


def test_parser_snapshot_round_trip(tmp_path, monkeypatch):
    """The pickled parser snapshot (fast warm start) parses exactly like a fresh build."""
    from sqlparse_ch import parser as P

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert P._load_snapshot() is None  # nothing cached yet in this directory
    fresh = P.build_parser()
    P._save_snapshot(fresh)
    loaded = P._load_snapshot()
    assert loaded is not None
    text = "SELECT a, count() FROM t WHERE x IN (1, 2) GROUP BY a ORDER BY a DESC LIMIT 3"
    assert loaded.parse(text, start="stmt_single") == fresh.parse(text, start="stmt_single")
    (tmp_path / "sqlparse_ch").joinpath(P._snapshot_path().rsplit("/", 1)[1]).write_bytes(b"junk")
    assert P._load_snapshot() is None  # a corrupt snapshot means a rebuild, not a crash
