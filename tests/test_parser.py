"""Unit tests for sqlparse_ch: one test per construct, expectations written by hand from
ClickHouse's documented operator precedence and syntax (checked against chDB's
formatQuery where noted)."""
from __future__ import annotations

import math

import pytest

from sqlparse_ch import ParseError, parse, parse_expr, parse_many
from sqlparse_ch.ast import (
    Alias, ArrayElement, ArrayJoin, ArrayLiteral, Between, BinaryOp, Case, Cast, CTE,
    ColumnsMatcher, ColumnDef, CreateTable, CreateView, FunctionCall, Identifier, InList, Insert,
    Interval, IsNull, Join, Lambda, Literal, QueryParameter, Select, Span, Star,
    Subquery, TableName, Tuple, TupleElement, UnaryOp, WindowSpec,
)

a, b, c, x = (Identifier(n) for n in "abcx")


def lit(v):
    return Literal(v)


# ---- precedence (ClickHouse docs "Operators"; chDB formatQuery agrees) ----

@pytest.mark.parametrize("text, expected", [
    ("1 + 2 * 3", BinaryOp("+", lit(1), BinaryOp("*", lit(2), lit(3)))),
    ("(1 + 2) * 3", BinaryOp("*", BinaryOp("+", lit(1), lit(2)), lit(3))),
    ("1 - 2 - 3", BinaryOp("-", BinaryOp("-", lit(1), lit(2)), lit(3))),
    ("NOT a = b", UnaryOp("NOT", BinaryOp("=", a, b))),
    ("a AND b OR c", BinaryOp("OR", BinaryOp("AND", a, b), c)),
    ("a OR b AND c", BinaryOp("OR", a, BinaryOp("AND", b, c))),
    ("-x::Int8", UnaryOp("-", Cast(x, "Int8"))),
    ("a IN (1) = 0", BinaryOp("=", InList(a, (lit(1),)), lit(0))),
    ("a = b IS NULL", IsNull(BinaryOp("=", a, b))),
    ("a IS NULL = 1", BinaryOp("=", IsNull(a), lit(1))),
    ("NOT a IS NULL", UnaryOp("NOT", IsNull(a))),
    ("a BETWEEN 1 AND 2 = 1", Between(a, lit(1), BinaryOp("=", lit(2), lit(1)))),
    ("NOT a BETWEEN 1 AND 2", UnaryOp("NOT", Between(a, lit(1), lit(2)))),
    ("a BETWEEN 1 AND 2 AND b", BinaryOp("AND", Between(a, lit(1), lit(2)), b)),
    ("a NOT LIKE b = c", BinaryOp("=", BinaryOp("NOT LIKE", a, b), c)),
    ("a || b + c", BinaryOp("||", a, BinaryOp("+", b, c))),
    ("a * b % c DIV 2 MOD 3", BinaryOp("MOD", BinaryOp("DIV", BinaryOp("%", BinaryOp("*", a, b), c), lit(2)), lit(3))),
    ("a == b", BinaryOp("=", a, b)),
    ("a <> b", BinaryOp("!=", a, b)),
    ("a ? b : c", FunctionCall("if", (a, b, c))),
    ("a ? b : c ? 1 : 2", FunctionCall("if", (a, b, FunctionCall("if", (c, lit(1), lit(2)))))),
    ("x -> x + 1", Lambda(("x",), BinaryOp("+", x, lit(1)))),
    ("x -> a ? 1 : 2", Lambda(("x",), FunctionCall("if", (a, lit(1), lit(2))))),
    ("-a.1", UnaryOp("-", TupleElement(a, 1))),
    ("- - 1", UnaryOp("-", lit(-1))),
    ("-(-2)", UnaryOp("-", lit(-2))),
    ("-(1)", UnaryOp("-", lit(1))),
    ("- 1", lit(-1)),
    ("-a * b", BinaryOp("*", UnaryOp("-", a), b)),
])
def test_precedence(text, expected):
    assert parse_expr(text) == expected


# ---- literals ----

@pytest.mark.parametrize("text, value", [
    ("42", 42), ("0x1F", 31), ("0b101", 5), ("1.5", 1.5), ("1e3", 1000.0), (".5", 0.5),
    ("1.", 1.0), ("2.5e-3", 0.0025), ("-7", -7), ("-1.5", -1.5), ("NULL", None), ("null", None),
    ("true", True), ("FALSE", False), ("'a''b'", "a'b"), (r"'a\'b'", "a'b"), (r"'\n\t\\'", "\n\t\\"),
    (r"'\x41\e'", "A\x1b"), (r"'\d'", "\\d"), ("'multi\nline'", "multi\nline"),
])
def test_literals(text, value):
    node = parse_expr(text)
    assert node == Literal(value)
    assert type(node.value) is type(value)


def test_inf_nan():
    assert parse_expr("inf").value == math.inf
    assert parse_expr("-inf").value == -math.inf
    assert math.isnan(parse_expr("nan").value)
    assert parse_expr("NaN") == parse_expr("nan")  # nan-aware literal equality


def test_literal_equality_is_typed():
    assert Literal(1) != Literal(True)
    assert Literal(1) != Literal(1.0)


# ---- names ----

@pytest.mark.parametrize("text, expected", [
    ("`weird name`", Identifier("weird name")),
    ('"dq"', Identifier("dq")),
    ("`a``b`", Identifier("a`b")),
    ("t.c", Identifier("c", "t")),
    ("db.t.c", Identifier("c", "t", "db")),
    ("t.date", Identifier("date", "t")),
    ("CamelCase", Identifier("CamelCase")),
])
def test_identifiers(text, expected):
    assert parse_expr(text) == expected


NAME_LIKE = ["date", "timestamp", "key", "value", "type", "name", "data", "format", "events",
             "table", "database", "first", "last", "day", "year", "id", "comment", "offset",
             "end", "settings", "final", "sample", "status", "default", "left", "view"]


@pytest.mark.parametrize("name", NAME_LIKE)
def test_keywords_usable_as_column_names(name):
    q = parse(f"SELECT {name}, {name} + 1 AS y FROM events WHERE {name} = 1 "
              f"GROUP BY {name} ORDER BY {name} DESC")
    assert q.select[0] == Identifier(name)
    assert q.where == BinaryOp("=", Identifier(name), lit(1))
    assert q.group_by == (Identifier(name),)
    assert q.order_by[0].expr == Identifier(name) and q.order_by[0].desc
    ct = parse(f"CREATE TABLE t ({name} String, x UInt8) ENGINE = MergeTree ORDER BY {name}")
    assert ct.columns[0] == ColumnDef(name, "String")


def test_reserved_keyword_needs_backquotes():
    assert parse("SELECT `from` FROM t").select == (Identifier("from"),)
    assert parse("SELECT 1 AS from").select == (Alias(lit(1), "from"),)
    with pytest.raises(ParseError):
        parse("SELECT from FROM t")


# ---- expression forms ----

def test_function_forms():
    assert parse_expr("count()") == FunctionCall("count")
    assert parse_expr("count(*)") == FunctionCall("count", (Star(),))
    assert parse_expr("count(DISTINCT x)") == FunctionCall("count", (x,), distinct=True)
    assert parse_expr("quantiles(0.5, 0.9)(x)") == FunctionCall("quantiles", (x,), (lit(0.5), lit(0.9)))
    assert parse_expr("sumIf(x, a > 1)").name == "sumIf"
    assert parse_expr("f(x AS y)") == FunctionCall("f", (Alias(x, "y"),))
    over = parse_expr("row_number() OVER (PARTITION BY a ORDER BY b DESC ROWS BETWEEN "
                      "UNBOUNDED PRECEDING AND CURRENT ROW)").over
    assert isinstance(over, WindowSpec) and over.partition_by == (a,)
    assert over.frame.unit == "ROWS" and over.frame.start.kind == "UNBOUNDED PRECEDING"
    assert parse_expr("sum(x) OVER w").over == "w"


def test_special_syntax_normalised_like_clickhouse():
    assert parse_expr("CAST(x AS Nullable(String))") == Cast(x, "Nullable(String)")
    assert parse_expr("x::Array(UInt8)") == Cast(x, "Array(UInt8)")
    assert parse_expr("CAST(x, 'String')") == FunctionCall("CAST", (x, lit("String")))
    assert parse_expr("EXTRACT(YEAR FROM x)") == FunctionCall("toYear", (x,))
    assert parse_expr("SUBSTRING(x FROM 2 FOR 3)") == FunctionCall("substring", (x, lit(2), lit(3)))
    assert parse_expr("TRIM(LEADING 'x' FROM a)") == FunctionCall("trimLeft", (a, lit("x")))
    assert parse_expr("DATE '2024-01-01'") == FunctionCall("toDate", (lit("2024-01-01"),))
    assert parse_expr("TIMESTAMP '2024-01-01 00:00:00'") == FunctionCall(
        "toDateTime", (lit("2024-01-01 00:00:00"),))
    assert parse_expr("extract(x, 'a+')") == FunctionCall("extract", (x, lit("a+")))


@pytest.mark.parametrize("text, expected", [
    ("INTERVAL 1 DAY", Interval(lit(1), "DAY")),
    ("INTERVAL '2 hours'", Interval(lit(2), "HOUR")),
    ("INTERVAL '3' month", Interval(lit(3), "MONTH")),
    ("INTERVAL x MINUTE", Interval(x, "MINUTE")),
    ("INTERVAL -1 WEEK", Interval(lit(-1), "WEEK")),
])
def test_interval(text, expected):
    assert parse_expr(text) == expected


def test_in_forms():
    assert parse_expr("x IN (1, 2)") == InList(x, (lit(1), lit(2)))
    assert parse_expr("x NOT IN ()") == InList(x, (), negated=True)
    assert parse_expr("x GLOBAL NOT IN (1)") == InList(x, (lit(1),), True, True)
    sub = parse_expr("x IN (SELECT 1)")
    assert isinstance(sub.values, Subquery) and isinstance(sub.values.query, Select)
    assert parse_expr("x IN t").values == Identifier("t")
    assert parse_expr("(a, b) IN ((1, 2), (3, 4))").values == (
        Tuple((lit(1), lit(2))), Tuple((lit(3), lit(4))))


def test_case_tuple_array_access_params():
    assert parse_expr("CASE WHEN a THEN 1 ELSE 2 END") == Case(None, ((a, lit(1)),), lit(2))
    assert parse_expr("CASE x WHEN 1 THEN 'a' END") == Case(x, ((lit(1), lit("a")),), None)
    assert parse_expr("(1, 'a')") == Tuple((lit(1), lit("a")))
    assert parse_expr("(1,)") == Tuple((lit(1),))
    assert parse_expr("()") == Tuple(())
    assert parse_expr("(1)") == lit(1)
    assert parse_expr("[1, 2,]") == ArrayLiteral((lit(1), lit(2)))
    assert parse_expr("arr[1][2]") == ArrayElement(ArrayElement(Identifier("arr"), lit(1)), lit(2))
    assert parse_expr("m['k']") == ArrayElement(Identifier("m"), lit("k"))
    assert parse_expr("t.1.2") == TupleElement(TupleElement(Identifier("t"), 1), 2)
    assert parse_expr("{p:Array(String)}") == QueryParameter("p", "Array(String)")
    assert parse_expr("(x, y) -> x + y") == Lambda(("x", "y"), BinaryOp("+", x, Identifier("y")))
    assert parse_expr("COLUMNS('^a')") == ColumnsMatcher("^a")
    assert parse_expr("* EXCEPT (a, b)") == Star(None, ("a", "b"))
    assert parse_expr("t.* EXCEPT c") == Star("t", ("c",))
    assert parse_expr("EXISTS (SELECT 1)").name == "exists"


def test_lambda_needs_names():
    with pytest.raises(ParseError, match="lambda parameters"):
        parse_expr("1 -> 2")


def test_spans():
    e = parse_expr("a +\n  bb")
    assert e.left.span == Span(0, 1, 1, 1)
    assert e.right.span == Span(6, 8, 2, 3)
    assert e.span.start == 0 and e.span.end == 8


# ---- SELECT ----

def test_select_clauses():
    q = parse("""WITH 1 AS one, cte AS (SELECT 1 AS v)
        SELECT DISTINCT a, count() AS c FROM db.t AS x FINAL SAMPLE 0.1
        ARRAY JOIN arr AS el
        ANY LEFT JOIN u ON x.id = u.id
        PREWHERE a > 0 WHERE b < 1 GROUP BY a WITH ROLLUP WITH TOTALS HAVING c > 1
        WINDOW w AS (ORDER BY a) QUALIFY c > 0 ORDER BY c DESC NULLS LAST
        LIMIT 1 BY a LIMIT 10 OFFSET 5 SETTINGS max_threads = 2 FORMAT JSON""")
    assert q.with_ == (Alias(lit(1), "one"), CTE("cte", parse("SELECT 1 AS v")))
    assert q.distinct and q.from_.alias == "x" and q.from_.final
    assert q.from_.source == TableName("t", "db") and q.from_.sample.ratio == lit(0.1)
    assert q.array_join == ArrayJoin((Alias(Identifier("arr"), "el"),))
    assert q.joins == (Join("LEFT", q.joins[0].table, "ANY", on=BinaryOp(
        "=", Identifier("id", "x"), Identifier("id", "u"))),)
    assert (q.group_by, q.group_by_modifier, q.with_totals) == ((a,), "ROLLUP", True)
    assert q.prewhere == BinaryOp(">", a, lit(0)) and q.qualify is not None
    assert q.order_by[0].desc and q.order_by[0].nulls == "LAST"
    assert q.limit_by.by == (a,) and q.limit_by.limit == lit(1)
    assert (q.limit, q.offset) == (lit(10), lit(5))
    assert q.settings[0].name == "max_threads" and q.format == "JSON"
    assert q.window[0].name == "w"


def test_limit_forms_normalise():
    assert parse("SELECT 1 LIMIT 5, 10") == parse("SELECT 1 LIMIT 10 OFFSET 5")
    q = parse("SELECT a FROM t ORDER BY a OFFSET 5 ROWS FETCH FIRST 3 ROWS ONLY")
    assert (q.limit, q.offset, q.with_ties) == (lit(3), lit(5), False)


def test_group_by_variants():
    assert parse("SELECT 1 GROUP BY ROLLUP(a, b)") == parse("SELECT 1 GROUP BY a, b WITH ROLLUP")
    sets = parse("SELECT 1 GROUP BY GROUPING SETS ((a, b), a, ())")
    assert sets.group_by == (Tuple((a, b)), Tuple((a,)), Tuple(()))
    assert parse("SELECT 1 GROUP BY ALL").group_by_modifier == "ALL"


def test_joins():
    q = parse("SELECT 1 FROM a, b INNER JOIN c USING (k) CROSS JOIN d LEFT ARRAY JOIN arr")
    assert [j.kind if isinstance(j, Join) else "ARRAY" for j in q.joins] == [
        "COMMA", "INNER", "CROSS", "ARRAY"]
    assert q.joins[1].using == ("k",)
    assert parse("SELECT 1 FROM a LEFT OUTER JOIN b ON 1").joins[0].kind == "LEFT"
    assert parse("SELECT 1 FROM a SEMI LEFT JOIN b ON 1").joins[0].strictness == "SEMI"


def test_set_operations_precedence():
    q = parse("SELECT 1 UNION ALL SELECT 2 INTERSECT SELECT 3")
    assert q.op == "UNION ALL" and q.right.op == "INTERSECT"
    q = parse("(SELECT 1 UNION ALL SELECT 2) INTERSECT SELECT 3")
    assert q.op == "INTERSECT" and q.left.op == "UNION ALL"
    q = parse("SELECT 1 UNION SELECT 2 EXCEPT SELECT 3 FORMAT CSV")
    assert q.op == "EXCEPT" and q.left.op == "UNION" and q.format == "CSV"
    assert parse("(SELECT 1)") == parse("SELECT 1")
    assert parse("SELECT * FROM (SELECT 1) AS s").from_.source == Subquery(parse("SELECT 1"))


def test_table_functions_and_params():
    q = parse("SELECT * FROM numbers(1, 10) AS n")
    assert q.from_.source == FunctionCall("numbers", (lit(1), lit(10))) and q.from_.alias == "n"
    q = parse("SELECT {x:UInt8} FROM {tbl:Identifier}")
    assert q.from_.source == QueryParameter("tbl", "Identifier")


def test_comments_everywhere():
    q = parse("SELECT a -- one\n, /* two */ b # three\nFROM t")
    assert q.select == (a, b)


# ---- DDL / DML ----

def test_create_table():
    q = parse("""CREATE TABLE IF NOT EXISTS db.events (
        ts DateTime('UTC') CODEC(Delta, ZSTD(1)),
        d Date DEFAULT toDate(ts) COMMENT 'day',
        v Nullable(Decimal(10, 2)),
        e Enum8('a' = 1, 'b' = -2),
        n Tuple(a String, b Array(UInt8)),
        x DOUBLE PRECISION,
        INDEX ix v TYPE minmax GRANULARITY 4
    ) ENGINE = ReplacingMergeTree(ver) PARTITION BY toYYYYMM(ts) ORDER BY (ts, d)
      TTL ts + INTERVAL 1 DAY SETTINGS index_granularity = 8192""")
    assert isinstance(q, CreateTable) and q.if_not_exists and q.name == TableName("events", "db")
    types = [col.type_name for col in q.columns]
    assert types == ["DateTime('UTC')", "Date", "Nullable(Decimal(10, 2))",
                     "Enum8('a' = 1, 'b' = -2)", "Tuple(a String, b Array(UInt8))",
                     "DOUBLE PRECISION"]
    assert q.columns[0].codec == (Identifier("Delta"), FunctionCall("ZSTD", (lit(1),)))
    assert q.columns[1].default_kind == "DEFAULT" and q.columns[1].comment == "day"
    assert q.indexes[0].granularity == 4
    s = q.storage
    assert s.engine.name == "ReplacingMergeTree" and s.engine.args == (Identifier("ver"),)
    assert s.order_by == Tuple((Identifier("ts"), Identifier("d")))
    assert s.ttl[0].expr == BinaryOp("+", Identifier("ts"), Interval(lit(1), "DAY"))
    assert s.settings[0].value == lit(8192)


def test_create_as_and_views():
    assert parse("CREATE TABLE t2 AS t ENGINE = Memory").as_table == TableName("t")
    assert isinstance(parse("CREATE TABLE t ENGINE = Memory AS SELECT 1").as_select, Select)
    v = parse("CREATE MATERIALIZED VIEW mv TO agg AS SELECT a FROM t")
    assert isinstance(v, CreateView) and v.materialized and v.to_table == TableName("agg")


def test_insert_forms():
    q = parse("INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y')")
    assert q == Insert(TableName("t"), ("a", "b"), ((lit(1), lit("x")), (lit(2), lit("y"))))
    assert isinstance(parse("INSERT INTO t SELECT * FROM u").query, Select)
    q = parse('INSERT INTO t FORMAT JSONEachRow\n{"a": 1}\n{"a": "x;y"}\n')
    assert (q.format, q.data) == ("JSONEachRow", '{"a": 1}\n{"a": "x;y"}\n')
    q = parse("insert into t format CSV 1,2")
    assert (q.format, q.data) == ("CSV", "1,2")


def test_alter_and_friends():
    q = parse("ALTER TABLE t DELETE WHERE a = 1, UPDATE b = 2, c = 3 WHERE d, "
              "ADD COLUMN IF NOT EXISTS z UInt8 AFTER a, DROP PARTITION ID '2024', "
              "MODIFY SETTING x = 1, y = 2")
    kinds = [type(cmd).__name__ for cmd in q.commands]
    assert kinds == ["AlterDelete", "AlterUpdate", "AddColumn", "DropPartition", "ModifySetting"]
    assert q.commands[1].assignments == (("b", lit(2)), ("c", lit(3)))
    assert len(q.commands[4].settings) == 2
    assert parse("OPTIMIZE TABLE t PARTITION 202401 FINAL DEDUPLICATE").final
    assert parse("DELETE FROM t WHERE x = 1").where == BinaryOp("=", x, lit(1))
    assert parse("SYSTEM STOP MERGES db.t").action == "STOP MERGES"
    assert parse("EXPLAIN indexes = 1 SELECT 1").settings[0].name == "indexes"
    assert parse("SHOW TABLES FROM db LIKE 'a%'").like == "a%"


# ---- multi-statement ----

def test_parse_many_keeps_spans():
    text = "SELECT 1;\n  SELECT 2 -- two\n;; INSERT INTO t VALUES (1)"
    stmts = parse_many(text)
    assert len(stmts) == 3
    assert [text[s.span.start:s.span.end] for s in stmts] == [
        "SELECT 1", "SELECT 2", "INSERT INTO t VALUES (1)"]
    assert (stmts[1].span.line, stmts[1].span.column) == (2, 3)
    assert parse_many("") == []


def test_parse_accepts_trailing_semicolon():
    assert parse("SELECT 1;") == parse("SELECT 1")
    with pytest.raises(ParseError):
        parse("SELECT 1; SELECT 2")


# ---- less common statements and clauses ----

def test_global_joins_and_global_in():
    q = parse("SELECT * FROM d AS e GLOBAL ANY LEFT JOIN u ON e.a GLOBAL IN (1) "
              "GLOBAL JOIN v USING x")
    first, second = q.joins
    assert (first.global_, first.strictness, first.kind) == (True, "ANY", "LEFT")
    assert first.on == InList(Identifier("a", "e"), (lit(1),), global_=True)
    assert (second.global_, second.kind, second.using) == (True, "INNER", ("x",))


@pytest.mark.parametrize("text", [
    "CREATE TABLE t ON CLUSTER c (a Int8) ENGINE = Memory",
    "DROP TABLE t ON CLUSTER c", "ALTER TABLE t ON CLUSTER c DELETE WHERE 1",
    "TRUNCATE TABLE t ON CLUSTER c", "OPTIMIZE TABLE t ON CLUSTER c FINAL",
    "RENAME TABLE a TO b ON CLUSTER c", "DELETE FROM t ON CLUSTER c WHERE 1",
])
def test_on_cluster(text):
    assert parse(text).cluster == "c"


def test_interpolate_and_order_by_all():
    q = parse("SELECT n, v FROM t ORDER BY n WITH FILL INTERPOLATE (v AS v + 1, w)")
    assert q.interpolate == (Alias(BinaryOp("+", Identifier("v"), lit(1)), "v"), Identifier("w"))
    assert parse("SELECT n FROM t ORDER BY n WITH FILL INTERPOLATE").interpolate == ()
    q = parse("SELECT a FROM t ORDER BY ALL DESC")
    assert len(q.order_by) == 1 and q.order_by[0].expr == Star() and q.order_by[0].desc


def test_misc_statements():
    k = parse("KILL QUERY WHERE query_id = 'x' SYNC")
    assert (k.kind, k.mode) == ("QUERY", "SYNC")
    assert parse("CHECK TABLE db.t").name == TableName("t", "db")
    d = parse("DETACH TABLE IF EXISTS t PERMANENTLY")
    assert (d.action, d.kind, d.if_exists, d.permanently) == ("DETACH", "TABLE", True, True)
    assert parse("SYSTEM DROP MARK CACHE").action == "DROP MARK CACHE"
    ins = parse("INSERT INTO FUNCTION file('a.csv') VALUES (1)")
    assert ins.table == FunctionCall("file", (lit("a.csv"),)) and ins.values == ((lit(1),),)
    alter = parse("ALTER TABLE t ATTACH PARTITION 1 FROM u, CLEAR COLUMN v IN PARTITION 2, "
                  "COMMENT COLUMN v 'x'")
    assert [type(c).__name__ for c in alter.commands] == [
        "AttachPartition", "ClearColumn", "CommentColumn"]


def test_words_are_lexed_whole():
    assert parse_expr("INTERVAL 3 DAYS") == Interval(lit(3), "DAY")
    assert parse("SELECT 1 FROMAGE").select == (Alias(lit(1), "FROMAGE"),)


def test_fast_loop_matches_lark_loop():
    """fastlalr drives lark's table faster; it must build exactly the same trees."""
    from sqlparse_ch.parser import build_parser, get_parser
    import sqlparse_ch.fastlalr as fastlalr

    fast = get_parser()
    plain = build_parser()
    assert type(fast.parser.parser.parser) is fastlalr.FastParser
    assert type(plain.parser.parser.parser) is not fastlalr.FastParser
    texts = [
        "SELECT a + b * -c, f(x)(y) OVER (PARTITION BY d), [1, 2][1], t.1 FROM t "
        "WHERE NOT a IN (1, 2) AND b BETWEEN 1 AND 2 OR c IS NULL ORDER BY a DESC LIMIT 3",
        "WITH x AS (SELECT 1) SELECT * FROM x UNION ALL SELECT 2 INTERSECT SELECT 3",
        "CREATE TABLE t (a UInt8 DEFAULT 1, INDEX i a TYPE minmax) ENGINE = MergeTree ORDER BY a",
    ]
    for text in texts:
        assert fast.parse(text, start="stmt_single") == plain.parse(text, start="stmt_single")


def test_edge_syntax():
    q = parse("SELECT end, limit, offset FROM t")
    assert q.select == (Identifier("end"), Identifier("limit"), Identifier("offset"))
    u = parse("ALTER TABLE t UPDATE v = 0 IN PARTITION 202401 WHERE v < 0").commands[0]
    assert u.partition.expr == lit(202401) and u.assignments == (("v", lit(0)),)
    assert parse("ALTER TABLE t DELETE IN PARTITION 1 WHERE x").commands[0].partition.expr == lit(1)
    assert parse_expr("x IN partitions") == InList(x, Identifier("partitions"))
    assert parse_expr("count() FILTER (WHERE a > 0)") == FunctionCall(
        "countIf", (BinaryOp(">", a, lit(0)),))
    assert parse_expr("$$it's$$") == lit("it's")
    ttl = parse("CREATE TABLE t (d DateTime, k String, v UInt64) ENGINE = MergeTree ORDER BY k "
                "TTL d + INTERVAL 1 DAY DELETE, d + INTERVAL 1 MONTH GROUP BY k SET v = sum(v)")
    rollup = ttl.storage.ttl[1]
    assert rollup.action == "GROUP BY"
    assert rollup.target == ((Identifier("k"),), (("v", FunctionCall("sum", (Identifier("v"),))),))
    q = parse("SELECT 1 FORMAT JSON SETTINGS max_threads = 1")
    assert q.format == "JSON" and q.settings[0].name == "max_threads"


SPAN_STATEMENTS = [
    "WITH 1 AS one SELECT a, count() OVER (PARTITION BY b ROWS BETWEEN UNBOUNDED PRECEDING AND "
    "CURRENT ROW), [], (), (1, 2), (SELECT 1), x IN (1) FROM t ARRAY JOIN arr "
    "WHERE a BETWEEN 1 AND 2 GROUP BY a ORDER BY a LIMIT 1 BY a SETTINGS s = 1",
    "CREATE TABLE t (a UInt8 DEFAULT 1, INDEX i a TYPE minmax) ENGINE = MergeTree "
    "PARTITION BY a ORDER BY a TTL a + INTERVAL 1 DAY",
    "ALTER TABLE t UPDATE a = 1 WHERE b, DROP PARTITION ID 'x'",
]


@pytest.mark.parametrize("text", SPAN_STATEMENTS)
def test_every_node_has_a_span_inside_the_text(text):
    import dataclasses

    from sqlparse_ch.ast import Node

    def walk(node):
        if isinstance(node, Node):
            assert node.span is not None, type(node).__name__
            assert 0 <= node.span.start < node.span.end <= len(text)
            for f in dataclasses.fields(node):
                walk(getattr(node, f.name))
        elif isinstance(node, tuple):
            for item in node:
                walk(item)

    walk(parse(text))


def test_alter_projection_partition_moves_and_functions():
    cmds = parse("ALTER TABLE t ADD PROJECTION p (SELECT a, count() GROUP BY a), "
                 "MATERIALIZE PROJECTION p, FREEZE, MOVE PARTITION 1 TO TABLE t2, "
                 "REPLACE PARTITION 2 FROM t3, MODIFY COLUMN v REMOVE DEFAULT").commands
    assert [type(c).__name__ for c in cmds] == [
        "AddProjection", "MaterializeProjection", "Freeze", "MovePartition",
        "ReplacePartition", "ModifyColumnRemove"]
    assert cmds[3].to_table == TableName("t2") and cmds[5].what == "DEFAULT"
    f = parse("CREATE FUNCTION lin AS (x, k) -> k * x")
    assert f.name == "lin" and f.body == Lambda(("x", "k"), BinaryOp("*", Identifier("k"), x))
    assert parse("DROP FUNCTION IF EXISTS lin").if_exists


def test_digit_separators_and_literal_casts():
    assert parse_expr("1_000_000") == lit(1000000)
    assert parse_expr("0.3::Decimal(38, 30)") == Cast(lit("0.3"), "Decimal(38, 30)")
    assert parse_expr("(0.3)::Float32") == Cast(lit(0.3), "Float32")
    assert parse_expr("x::Int8") == Cast(x, "Int8")
    assert parse_expr("-1::UInt8") == Cast(lit("-1"), "UInt8")  # ClickHouse: CAST('-1', ..)
    assert parse_expr("-x::Int8") == UnaryOp("-", Cast(x, "Int8"))
    assert parse_expr("-CAST('1' AS UInt8)") == UnaryOp("-", Cast(lit("1"), "UInt8"))


def test_from_source_must_be_a_table_function_or_subquery():
    with pytest.raises(ParseError, match="expected a table, table function or subquery"):
        parse("SELECT 1 FROM (f(1) AS a)")
    with pytest.raises(ParseError, match="expected a table, table function or subquery"):
        parse("SELECT 1 FROM (1 + 2)")
