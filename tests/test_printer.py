"""Printer tests: canonical text for known inputs, parse/print round trip, fixed point,
and a hypothesis test over random expression ASTs: parse_expr(format_sql(e)) == e."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sqlparse_ch import dump, format_sql, parse, parse_expr
from sqlparse_ch.ast import (
    ArrayElement, ArrayLiteral, Between, BinaryOp, Case, Cast, FunctionCall, Identifier, InList,
    Interval, IsNull, Lambda, Literal, Tuple, TupleElement, UnaryOp,
)
from sqlparse_ch.parser import NAME_KEYWORDS


@pytest.mark.parametrize("text, canonical", [
    ("a+1>=2 and not b", "a + 1 >= 2 AND NOT b"),
    ("(a or b) and c", "(a OR b) AND c"),
    ("a - (b - c)", "a - (b - c)"),
    ("(a - b) - c", "a - b - c"),
    ("-(x::Int8)", "-CAST(x AS Int8)"),
    ("(-1)::Int8", "CAST(-1 AS Int8)"),
    ("0.3::Decimal(38, 30)", "CAST('0.3' AS Decimal(38, 30))"),  # ClickHouse casts the text
    ("1_000::UInt16 + 1_000", "CAST('1000' AS UInt16) + 1000"),
    ("a == 1 or a <> 2", "a = 1 OR a != 2"),
    ("x in (1)", "x IN (1)"),
    ("(a, b) in ((1, 2))", "(a, b) IN ((1, 2))"),
    ("`select`", "`select`"),
    ("`key` + date", "key + date"),
    ("'it''s'", r"'it\'s'"),
    ("a ? b : c", "if(a, b, c)"),
    ("interval '1 day'", "INTERVAL 1 DAY"),
    ("x -> x * 2", "x -> x * 2"),
    ("f(x as y)", "f(x AS y)"),
    ("(1 as one) + one", "(1 AS one) + one"),
    ("a is not null", "a IS NOT NULL"),
    ("(a = b) is null", "a = b IS NULL"),
    ("not (a between 1 and 2)", "NOT a BETWEEN 1 AND 2"),
    ("a between (1 and 2) and 3", "a BETWEEN (1 AND 2) AND 3"),
    ("(1).1", "(1).1"),
    ("- - x", "-(-x)"),
    # NULL-safe comparison: ClickHouse's EXPLAIN SYNTAX prints these calls too
    ("a <=> b", "isNotDistinctFrom(a, b)"),
    ("a is not distinct from b + 1", "isNotDistinctFrom(a, b + 1)"),
    ("not a is distinct from null", "NOT isDistinctFrom(a, NULL)"),
    ("a <= b", "a <= b"),
    # RESPECT NULLS picks the _respect_nulls variant; IGNORE NULLS is the default
    ("first_value(x) respect nulls over w", "first_value_respect_nulls(x) OVER w"),
    ("anyLast(x) RESPECT NULLS", "anyLast_respect_nulls(x)"),
    ("last_value(x) ignore nulls", "last_value(x)"),
])
def test_canonical_expressions(text, canonical):
    assert format_sql(parse_expr(text)) == canonical
    assert parse_expr(canonical) == parse_expr(text)


STATEMENTS = [
    "SELECT a, count() AS c FROM db.t AS x FINAL WHERE a > 1 GROUP BY a ORDER BY c DESC LIMIT 10",
    "WITH cte AS (SELECT 1 AS v), 2 AS two SELECT v * two FROM cte",
    "SELECT DISTINCT ON (a) a FROM t ARRAY JOIN arr AS e LEFT JOIN u USING (id) PREWHERE 1",
    "SELECT a FROM t GROUP BY GROUPING SETS ((a), (a, b), ()) WITH TOTALS",
    "SELECT k, count() FROM t GROUP BY a % 3 AS k, b HAVING k > 0",
    "SELECT count() ignore, x respect FROM t",  # without NULLS they are aliases
    "SELECT 1 UNION ALL (SELECT 2 UNION DISTINCT SELECT 3) INTERSECT SELECT 4",
    "SELECT rank() OVER (PARTITION BY a ORDER BY b ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) FROM t",
    "SELECT n FROM t ORDER BY n WITH FILL FROM 1 TO 5 STEP 1 LIMIT 1 BY n LIMIT 3 WITH TIES",
    "SELECT * EXCEPT (a) REPLACE (b + 1 AS b) FROM t SETTINGS max_threads = 1 FORMAT CSV",
    "SELECT x FROM t WHERE x GLOBAL NOT IN (SELECT y FROM u) AND EXISTS (SELECT 1)",
    "CREATE TABLE t (a UInt8 DEFAULT 1 CODEC(ZSTD(3)), b String ALIAS toString(a), "
    "INDEX i a TYPE set(10) GRANULARITY 2) ENGINE = MergeTree PARTITION BY a ORDER BY (a, b) "
    "TTL d + INTERVAL 1 DAY DELETE SETTINGS index_granularity = 128",
    "CREATE MATERIALIZED VIEW IF NOT EXISTS mv TO t2 AS SELECT a FROM t",
    "INSERT INTO t (a, b) VALUES (1, 'x'), (-2, NULL)",
    "INSERT INTO t FORMAT JSONEachRow\n{\"a\": 1}",
    "ALTER TABLE t UPDATE a = 1 WHERE b, DROP COLUMN c, MODIFY TTL d + INTERVAL 2 DAY",
    "OPTIMIZE TABLE t PARTITION ID '2024' FINAL",
    "SHOW CREATE TABLE db.t", "DESCRIBE TABLE t", "EXISTS TABLE t", "SET a = 1, b = 'x'",
    "EXPLAIN SYNTAX SELECT 1", "SYSTEM START MERGES t", "RENAME TABLE a TO b",
    "DROP TABLE IF EXISTS t SYNC", "TRUNCATE TABLE t", "USE db", "EXCHANGE TABLES a AND b",
]


@pytest.mark.parametrize("text", STATEMENTS)
def test_statement_round_trip_and_fixed_point(text):
    ast = parse(text)
    printed = format_sql(ast)
    assert parse(printed) == ast
    assert format_sql(parse(printed)) == printed


def test_select_prints_one_clause_per_line():
    assert format_sql(parse("select a from t where b order by a limit 1")) == (
        "SELECT a\nFROM t\nWHERE b\nORDER BY a\nLIMIT 1")


KEYWORD_NAME_TEMPLATES = [
    "SELECT {n}, t.{n}, f({n}), [{n}], {n}[1] FROM {n} AS x WHERE {n} IN ({n}) AND {n} IS NULL",
    "SELECT count() FROM t GROUP BY {n} WITH TOTALS ORDER BY {n} DESC LIMIT 1 BY {n}",
    "CREATE TABLE t ({n} String, x UInt8) ENGINE = MergeTree ORDER BY {n}",
    "INSERT INTO t ({n}) VALUES (1)",
    "ALTER TABLE t DROP COLUMN {n}, ADD COLUMN {n} UInt8 AFTER {n}",
    "SELECT 1 AS {n}",
]


@pytest.mark.parametrize("kw", sorted(NAME_KEYWORDS))
def test_keyword_names_print_bare_and_round_trip(kw):
    for name in (kw.lower(), kw.capitalize()):
        for template in KEYWORD_NAME_TEMPLATES:
            ast = parse(template.format(n=name))
            printed = format_sql(ast)
            assert "`" not in printed
            assert parse(printed) == ast


def test_reserved_names_are_backquoted():
    assert format_sql(parse_expr("`from` + `where`")) == "`from` + `where`"
    assert format_sql(parse("SELECT `select` FROM `order`")) == "SELECT `select`\nFROM `order`"


def test_dump_is_stable_and_readable():
    assert dump(parse_expr("a + 1")) == (
        "BinaryOp op='+'\n  left: Identifier name='a'\n  right: Literal value=1")


# ---- hypothesis: random ASTs in the parser's canonical form ----

names = st.sampled_from(["a", "b", "key", "date", "value", "from", "weird name", "x1", "Type"])
plain_names = st.sampled_from(["a", "b", "c", "x", "y"])
numbers = st.one_of(
    st.integers(min_value=-10**12, max_value=10**12),
    st.floats(allow_nan=True, allow_infinity=True, width=64).filter(lambda f: f == f or True),
)
literals = st.one_of(
    numbers.map(Literal),
    st.text(max_size=8).map(Literal),
    st.sampled_from([None, True, False]).map(Literal),
)
columns = st.builds(Identifier, names, st.one_of(st.none(), plain_names))
types = st.sampled_from(["Int8", "String", "Nullable(String)", "Array(UInt8)", "DateTime('UTC')",
                         "Decimal(10, 2)"])
units = st.sampled_from(["SECOND", "MINUTE", "HOUR", "DAY", "WEEK", "MONTH", "YEAR"])
binary_ops = st.sampled_from(["+", "-", "*", "/", "%", "||", "=", "!=", "<", "<=", ">", ">=",
                              "AND", "OR", "LIKE", "NOT LIKE", "ILIKE", "DIV", "MOD"])
func_names = st.sampled_from(["f", "sum", "if", "toDate", "left", "count"])


def _not_numeric_literal(e):
    return not (type(e) is Literal and type(e.value) in (int, float))


def extend(children):
    return st.one_of(
        st.builds(BinaryOp, binary_ops, children, children),
        st.builds(UnaryOp, st.just("NOT"), children),
        st.builds(UnaryOp, st.just("-"), children.filter(_not_numeric_literal)),
        st.builds(InList, children, st.lists(children, min_size=1, max_size=3).map(tuple),
                  st.booleans(), st.booleans()),
        st.builds(Between, children, children, children, st.booleans()),
        st.builds(IsNull, children, st.booleans()),
        st.lists(children, max_size=3).map(lambda xs: Tuple(tuple(xs))),
        st.lists(children, max_size=3).map(lambda xs: ArrayLiteral(tuple(xs))),
        st.builds(lambda n, args, params, d: FunctionCall(n, args, params, d and bool(args)),
                  func_names, st.lists(children, max_size=3).map(tuple),
                  st.lists(children, max_size=2).map(tuple), st.booleans()),
        st.builds(Cast, children, types),
        st.builds(Case, st.one_of(st.none(), children),
                  st.lists(st.tuples(children, children), min_size=1, max_size=2).map(tuple),
                  st.one_of(st.none(), children)),
        st.builds(Interval, st.integers(min_value=0, max_value=1000).map(Literal), units),
        st.builds(ArrayElement, children, children),
        st.builds(TupleElement, children, st.integers(min_value=1, max_value=9)),
        st.builds(Lambda, st.lists(plain_names, min_size=1, max_size=2, unique=True).map(tuple),
                  children),
    )


expressions = st.recursive(st.one_of(literals, columns), extend, max_leaves=12)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expressions)
def test_random_expressions_round_trip(e):
    text = format_sql(e)
    back = parse_expr(text)
    assert back == e, text
    assert format_sql(back) == text


def test_long_operator_chains_print_without_recursion_limits():
    text = ("SELECT " + " + ".join(f"c{i}" for i in range(3000)) + " FROM t WHERE "
            + " AND ".join(f"x{i} = {i}" for i in range(2000)))
    printed = format_sql(parse(text))
    assert printed.startswith("SELECT c0 + c1 + c2") and printed.endswith("x1999 = 1999")
    assert format_sql(parse(printed)) == printed
