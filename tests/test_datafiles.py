"""Datafiles (sqlparse_ch.datafiles): Tinybird's line rules, .datasource and .pipe keywords,
errors with file:line(:column), and project loading. Expected values follow TINYBIRD.md B."""
from __future__ import annotations

from pathlib import Path

import pytest

import sqlparse_ch
from sqlparse_ch.datafiles import (Column, DatafileError, Index, Token, check_pipe, check_project,
                                   load_project, parse_datasource, parse_pipe, read_datafile)
from sqlparse_ch.template import render_template

FIXTURES = Path(__file__).parent / "datafiles"


def ds(text: str, **kw):
    return parse_datasource(text, name="t", filename="t.datasource", **kw)


def pipe(text: str, **kw):
    return parse_pipe(text, name="p", filename="p.pipe", **kw)


def error_of(fn, text: str) -> DatafileError:
    with pytest.raises(DatafileError) as exc:
        fn(text)
    return exc.value


SIMPLE_SCHEMA = "SCHEMA >\n    `a` String,\n    `ts` DateTime\n"

# -- line rules ------------------------------------------------------------------------------


def test_quoted_arguments_are_unquoted_and_keywords_case_insensitive():
    a = ds(SIMPLE_SCHEMA + 'ENGINE "MergeTree"\nENGINE_SORTING_KEY "ts, a"\n')
    b = ds(SIMPLE_SCHEMA.replace("SCHEMA", "schema") + "engine mergetree\nengine_sorting_key ts, a\n")
    assert a.engine == b.engine == "MergeTree"
    assert a.sorting_key == b.sorting_key == "ts, a"


def test_comments_and_blank_lines():
    d = ds("# leading comment\n\n" + SIMPLE_SCHEMA + "\n   # indented comment\n"
           "ENGINE_SORTING_KEY ts # trailing comment\n")
    assert d.sorting_key == "ts"


def test_block_ends_at_next_unindented_keyword_only():
    p = pipe("NODE n\nSQL >\n    SELECT type,\n    description\n  TYPE\n    FROM t\nTYPE endpoint\n")
    node = p.nodes[0]
    assert node.sql == "  SELECT type,\n  description\nTYPE\n  FROM t"
    assert node.type == "endpoint"


def test_unindented_from_stays_in_the_sql_block():
    p = pipe("NODE n\nSQL >\n    SELECT 1\nFROM t\n    WHERE 1\n")
    assert p.nodes[0].sql == "    SELECT 1\nFROM t\n    WHERE 1"


def test_blank_and_comment_lines_are_dropped_inside_blocks_sql_comments_kept():
    p = pipe("NODE n\nSQL >\n    SELECT 1\n\n    # dropped\n    -- kept\n    FROM t\n")
    assert p.nodes[0].sql == "SELECT 1\n-- kept\nFROM t"
    assert p.nodes[0].sql_lines == (3, 6, 7)


def test_sql_is_dedented_template_sql_keeps_indentation():
    p = pipe("NODE a\nSQL >\n        SELECT 1\n          FROM t\n\nNODE b\nSQL >\n    %\n"
             "    SELECT {{Int32(x, 1)}}\n        FROM t\n")
    assert p.nodes[0].sql == "SELECT 1\n  FROM t"
    assert p.nodes[1].sql == "%\n    SELECT {{Int32(x, 1)}}\n        FROM t"


def test_tabs_indent_blocks():
    p = pipe("NODE n\nSQL >\n\tSELECT 1\n\tFROM t\nTYPE endpoint\n")
    assert p.nodes[0].sql == "SELECT 1\nFROM t"


def test_unknown_keyword_has_tinybirds_text_and_line():
    e = error_of(ds, SIMPLE_SCHEMA + "ENGINE MergeTree\nFOO bar\n")
    assert (e.message, e.filename, e.line) == ("FOO is not a valid option", "t.datasource", 5)
    assert str(e) == "t.datasource:5: FOO is not a valid option"


def test_keywords_of_the_other_file_kind_end_blocks_and_are_refused():
    e = error_of(ds, "DESCRIPTION >\n    text\nNODE x\n" + SIMPLE_SCHEMA)
    assert (e.message, e.line) == ("NODE is not a valid option", 3)
    e = error_of(pipe, "NODE n\nSQL >\n    SELECT 1\nSCHEMA >\n    a String\n")
    assert (e.message, e.line) == ("SCHEMA is not a valid option", 4)


def test_bare_settings_is_rejected():
    e = error_of(ds, SIMPLE_SCHEMA + "SETTINGS index_granularity = 8192\n")
    assert e.message == ("SETTINGS option is not allowed, use ENGINE_SETTINGS instead. See "
                         "https://www.tinybird.co/docs/cli/datafiles#data-source for more information.")
    assert e.line == 4


def test_multiline_rules():
    assert error_of(ds, SIMPLE_SCHEMA + "ENGINE >\n    MergeTree\n").message == \
        "ENGINE does not support multiline arguments"
    e = error_of(pipe, "NODE n\nSQL SELECT 1\n")
    assert e.line == 2 and e.message.startswith("SQL must be multiline")
    e = error_of(pipe, "NODE n\nSQL > SELECT 1\n")
    assert (e.line, e.column) == (2, 7)


# -- .datasource -----------------------------------------------------------------------------

FULL_SCHEMA = """DESCRIPTION >
    Events with **markdown**
    on two lines

SCHEMA >
    `event_id` String `json:$.event_id`, -- the id
    `user.id` String `json:$.user.id` DEFAULT 'anon',
    `n` Nullable(Int32) `json:$.n` DEFAULT NULL,
    `price` Decimal(10, 2) DEFAULT 0 CODEC(ZSTD(1)) `json:$.price`,
    `tags` Array(String) `json:$.tags[:]`,
    `raw` String `json:$`,
    `day` Date MATERIALIZED toDate(ts),
    ts DateTime64(3, 'UTC') `json:$.ts` CODEC(Delta, LZ4),
    INDEX ignored_here ts TYPE minmax GRANULARITY 1
"""


def test_schema_columns():
    d = ds(FULL_SCHEMA)
    assert d.description == "Events with **markdown**\non two lines"
    assert d.columns == (
        Column("event_id", "String", "$.event_id"),
        Column("user.id", "String", "$.user.id", "'anon'", "DEFAULT"),
        Column("n", "Nullable(Int32)", "$.n"),                 # DEFAULT NULL dropped on Nullable
        Column("price", "Decimal(10, 2)", "$.price", "0", "DEFAULT", "ZSTD(1)"),
        Column("tags", "Array(String)", "$.tags[:]"),
        Column("raw", "String", "$"),
        Column("day", "Date", None, "toDate(ts)", "MATERIALIZED"),
        Column("ts", "DateTime64(3, 'UTC')", "$.ts", codec="Delta, LZ4"),
    )
    assert d.columns[1].default_value == "DEFAULT 'anon'"
    assert d.columns[2].nullable
    assert d.engine == "MergeTree" and d.sorting_key is None and d.sorting_key_or_default == "tuple()"


@pytest.mark.parametrize("column,message,col", [
    # texts lead with Tinybird's (tinybird-cli 6.5.5 sql.parse_table_structure)
    ("`a` String NULL", "NULL column syntax not supported (column 'a'): use Nullable(T)", 16),
    ("`a` String NOT NULL", "NOT NULL column syntax not supported (column 'a'): use Nullable(T)", 16),
    ("`a` String ALIAS b", "ALIAS not supported (column 'a')", 16),
    ("`a` String TTL now()", "column TTL not supported (column 'a')", 16),
    ("`a` String CODEC(LZ4) MATERIALIZED 'x'", "Unexpected MATERIALIZED after CODEC (column 'a')", 27),
    ("`a` String CODEC(LZ4) DEFAULT 'x'", "Unexpected DEFAULT after CODEC (column 'a')", 27),
    ("`a` String DEFAULT 1 MATERIALIZED 2", "Unexpected MATERIALIZED after DEFAULT (column 'a')", 26),
    ("`a` String DEFAULT 'x' `json:$.a`",
     "Unexpected JSONPATH after DEFAULT (column 'a'): the jsonpath follows the type or the CODEC", 28),
    ("`a` `json:$.a`", "column 'a' has no type", 8),
    ("`a` String `json:a`", "column 'a': jsonpath 'a' must start with $", 16),
])
def test_schema_errors_name_line_and_column(column, message, col):
    e = error_of(ds, f"DESCRIPTION x\nSCHEMA >\n    `ok` String,\n    {column}\n")
    assert e.message == f"error parsing schema: {message}"
    assert (e.line, e.column) == (4, col)


def test_schema_duplicate_column_and_stray_comma():
    assert "duplicate column 'a'" in error_of(ds, "SCHEMA >\n    a String,\n    a Int8\n").message
    assert "stray comma" in error_of(ds, "SCHEMA >\n    a String,,\n    b Int8\n").message
    e = error_of(ds, "SCHEMA >\n    a String,\n    b Int8,\n")    # Tinybird rejects it too
    assert e.message.startswith("error parsing schema: Syntax error: expecting a column name")


def test_schema_is_required():
    assert error_of(ds, "ENGINE MergeTree\n").message.startswith("SCHEMA is missing")


def test_every_engine_key():
    d = ds(SIMPLE_SCHEMA + """ENGINE ReplacingMergeTree
ENGINE_PARTITION_KEY toYYYYMM(ts)
ENGINE_SORTING_KEY a, ts
ENGINE_PRIMARY_KEY a
ENGINE_SAMPLING_KEY a
ENGINE_TTL ts + toIntervalDay(30)
ENGINE_SETTINGS index_granularity = 1024, min_bytes_for_wide_part = 0
ENGINE_VER ts
""")
    assert (d.engine, d.partition_key, d.sorting_key, d.primary_key, d.sampling_key, d.ttl,
            d.settings, d.ver) == (
        "ReplacingMergeTree", "toYYYYMM(ts)", "a, ts", "a", "a", "ts + toIntervalDay(30)",
        "index_granularity = 1024, min_bytes_for_wide_part = 0", "ts")
    assert d.engine_full == "ReplacingMergeTree(ts)"
    assert d.to_create_sql() == (
        "CREATE TABLE `t` (`a` String, `ts` DateTime) ENGINE = ReplacingMergeTree(ts) "
        "PARTITION BY (toYYYYMM(ts)) ORDER BY (a, ts) PRIMARY KEY (a) SAMPLE BY (a) "
        "TTL ts + toIntervalDay(30) SETTINGS index_granularity = 1024, min_bytes_for_wide_part = 0")
    sqlparse_ch.parse(d.to_create_sql())


def test_classic_bare_key_aliases():
    d = ds(SIMPLE_SCHEMA + "SORTING_KEY ts\nPARTITION_KEY toDate(ts)\nPRIMARY_KEY ts\n"
           "SAMPLING_KEY ts\nTTL ts + INTERVAL 1 DAY\n")
    assert (d.sorting_key, d.partition_key, d.primary_key, d.sampling_key, d.ttl) == \
        ("ts", "toDate(ts)", "ts", "ts", "ts + INTERVAL 1 DAY")


def test_engine_parameters():
    schema = "SCHEMA >\n    a String,\n    v UInt64,\n    del UInt8,\n    sign Int8\n"
    d = ds(schema + "ENGINE replacingmergetree\nENGINE_SORTING_KEY a\nENGINE_VER v\n"
                    "ENGINE_IS_DELETED del\n")
    assert (d.engine, d.engine_full) == ("ReplacingMergeTree", "ReplacingMergeTree(v, del)")
    d = ds(schema + "ENGINE CollapsingMergeTree\nENGINE_SORTING_KEY a\nENGINE_SIGN sign\n")
    assert d.engine_full == "CollapsingMergeTree(sign)"
    d = ds(schema + "ENGINE VersionedCollapsingMergeTree\nENGINE_SORTING_KEY a\n"
                    "ENGINE_SIGN sign\nENGINE_VERSION v\n")
    assert d.engine_full == "VersionedCollapsingMergeTree(sign, v)"
    d = ds(schema + "ENGINE SummingMergeTree\nENGINE_SORTING_KEY a\nENGINE_COLUMNS (v)\n")
    assert d.engine_full == "SummingMergeTree((v))"
    assert ds(schema + "ENGINE Null\n").to_create_sql().endswith("ENGINE = Null()")


@pytest.mark.parametrize("tail,message,line", [
    ("ENGINE ReplacingMergeTree\n", "SORTING_KEY must be defined for the ReplacingMergeTree engine", 4),
    ("ENGINE CollapsingMergeTree\nENGINE_SORTING_KEY tuple()\nENGINE_SIGN a\n",
     "SORTING_KEY must be defined for the CollapsingMergeTree engine", 4),
    ("ENGINE CollapsingMergeTree\nENGINE_SORTING_KEY a\n",
     "ENGINE_SIGN is required by the CollapsingMergeTree engine", 4),
    ("ENGINE ReplacingMergeTree\nENGINE_SORTING_KEY a\nENGINE_VER nope\n",
     "ENGINE_VER 'nope' is not a column of the SCHEMA", 6),
    ("ENGINE MergeTree\nENGINE_VER ts\n", "ENGINE_VER is not a parameter of the MergeTree engine", 5),
    ("ENGINE ReplacingMergeTree\nENGINE_SORTING_KEY a\nENGINE_IS_DELETED ts\n",
     "ENGINE_IS_DELETED needs ENGINE_VER", 6),
    ("ENGINE Log\n", "unknown ENGINE 'Log': expected one of MergeTree, ReplacingMergeTree, "
     "SummingMergeTree, AggregatingMergeTree, CollapsingMergeTree, VersionedCollapsingMergeTree, Null", 4),
])
def test_engine_errors(tail, message, line):
    e = error_of(ds, SIMPLE_SCHEMA + tail)
    assert (e.message, e.line) == (message, line)


@pytest.mark.parametrize("tail,message,line", [
    ("ENGINE_SORTING_KEY a, nope\n", "ENGINE_SORTING_KEY uses 'nope', which is not a column of the SCHEMA", 4),
    ("ENGINE_PARTITION_KEY toYYYYMM(day)\n",
     "ENGINE_PARTITION_KEY uses 'day', which is not a column of the SCHEMA", 4),
    ("ENGINE_SORTING_KEY ts, n\n", "ENGINE_SORTING_KEY cannot use the Nullable(Int8) column 'n'", 4),
    ("ENGINE_SORTING_KEY ts\nENGINE_PRIMARY_KEY n\n",
     "ENGINE_PRIMARY_KEY cannot use the Nullable(Int8) column 'n'", 5),
    ("ENGINE_SORTING_KEY (a, ts\n", "ENGINE_SORTING_KEY '(a, ts' is not a valid expression: "
     "unbalanced parentheses: '(' is never closed (missing ')')", 4),
])
def test_key_expressions_are_checked_against_the_schema(tail, message, line):
    schema = "SCHEMA >\n    a String,\n    ts DateTime, n Nullable(Int8)\n"
    e = error_of(ds, schema + tail)
    assert (e.message, e.line) == (message, line)
    ok = ds(schema + "ENGINE_SORTING_KEY (a, toDate(ts))\nENGINE_PARTITION_KEY toYYYYMM(ts)\n")
    assert ok.sorting_key == "(a, toDate(ts))"
    assert ds(schema + "ENGINE_SORTING_KEY n\nENGINE_SETTINGS allow_nullable_key = 1\n").sorting_key == "n"


def test_indexes():
    d = ds(SIMPLE_SCHEMA + "INDEXES >\n    INDEX idx_a a TYPE bloom_filter(0.01) GRANULARITY 4,\n"
           "    idx_m (lower(a), ts) TYPE minmax\n")
    assert d.indexes == (Index("idx_a", "a", "bloom_filter(0.01)", 4),
                         Index("idx_m", "(lower(a), ts)", "minmax", None))
    assert "INDEX idx_a a TYPE bloom_filter(0.01) GRANULARITY 4" in d.to_create_sql()
    e = error_of(ds, SIMPLE_SCHEMA + "INDEXES >\n    idx_a a GRANULARITY 4\n")
    assert e.line == 5 and e.message == ("error parsing indexes: invalid INDEX format. Usage: "
                                         "`name expr TYPE type_full GRANULARITY granularity`")


def test_tokens_and_other_keywords():
    d = ds('TOKEN "tracker" APPEND\nTOKEN reader read\n' + SIMPLE_SCHEMA +
           'TAGS "team=web,billing"\nVERSION 2\nSHARED_WITH >\n    ws_a, ws_b\n    ws_c\n'
           "FORWARD_QUERY >\n    SELECT a, ts\n    FROM t\nKAFKA_TOPIC events\nBACKFILL skip\n")
    assert d.tokens == (Token("tracker", "APPEND"), Token("reader", "READ"))
    assert d.tokens[0].scope("DATASOURCES", d.name) == "DATASOURCES:APPEND:t"
    assert (d.tags, d.version, d.shared_with) == ("team=web,billing", 2, ("ws_a", "ws_b", "ws_c"))
    assert d.forward_query == "SELECT a, ts\nFROM t"
    assert d.extra == {"kafka_topic": "events", "backfill": "skip"}


def test_token_errors():
    assert error_of(ds, "TOKEN only_name\n" + SIMPLE_SCHEMA).message == (
        'TOKEN gets two params, token name and permissions e.g TOKEN "read api token" READ')
    e = error_of(pipe, 'TOKEN t APPEND\nNODE n\nSQL >\n    SELECT 1\n')
    assert e.line == 1 and "TOKEN permission must be READ in a pipe file" in e.message
    e = error_of(ds, "TOKEN t WRITE\n" + SIMPLE_SCHEMA)
    assert "must be READ or APPEND" in e.message


def test_version_must_be_a_positive_integer():
    assert error_of(ds, SIMPLE_SCHEMA + "VERSION x\n").message == \
        "version must be a positive integer e.g VERSION 2"


def test_env_substitution_is_opt_in():
    text = SIMPLE_SCHEMA + "ENGINE_TTL ts + toIntervalDay($DAYS)\n"
    assert ds(text).ttl == "ts + toIntervalDay($DAYS)"
    assert ds(text, env={"DAYS": "30"}).ttl == "ts + toIntervalDay(30)"


def test_include(tmp_path):
    (tmp_path / "schema.incl").write_text("SCHEMA >\n    `a` String,\n    `$COL` Int32\n")
    path = tmp_path / "x.datasource"
    path.write_text('INCLUDE "schema.incl" "COL=b"\nENGINE_SORTING_KEY a\n')
    d = read_datafile(path)
    assert [c.name for c in d.columns] == ["a", "b"] and d.sorting_key == "a"
    path.write_text('INCLUDE "missing.incl"\n')
    with pytest.raises(DatafileError, match="included file 'missing.incl' not found"):
        read_datafile(path)


# -- .pipe ------------------------------------------------------------------------------------

PIPE = """DESCRIPTION >
    Pipe description

TOKEN "dashboard" READ

NODE first
DESCRIPTION >
    Node description
SQL >
    SELECT * FROM events

NODE second
SQL >
    %
    SELECT * FROM first
    WHERE 1 {% if defined(day) %} AND toDate(ts) = {{Date(day)}} {% end %}
TYPE Endpoint
"""


def test_pipe_nodes_and_descriptions():
    p = pipe(PIPE)
    assert p.description == "Pipe description"
    assert p.tokens == (Token("dashboard", "READ"),)
    assert [n.name for n in p.nodes] == ["first", "second"]
    assert p.nodes[0].description == "Node description" and p.nodes[0].type is None
    assert p.nodes[1].type == "endpoint" and p.nodes[1].is_template
    assert p.endpoint_node is p.nodes[1] and p.kind == "endpoint"
    assert p.nodes[0].line == 6 and p.nodes[1].sql_lines == (14, 15, 16)
    rendered = render_template(p.nodes[1].sql, {"day": "2024-01-02"})
    assert "AND toDate(ts) = '2024-01-02'" in rendered


def test_materialized_and_copy_nodes():
    p = pipe("NODE mv\nSQL >\n    SELECT 1 AS x\nTYPE MATERIALIZED\nDATASOURCE target_ds\n"
             "ENGINE AggregatingMergeTree\n")
    assert (p.nodes[0].type, p.nodes[0].datasource, p.kind) == ("materialized", "target_ds", "materialized")
    assert p.nodes[0].extra == {"engine": "AggregatingMergeTree"}
    p = pipe("NODE c\nSQL >\n    SELECT 1 AS x\nTYPE copy\nTARGET_DATASOURCE snap\n"
             "COPY_SCHEDULE 0 * * * *\nCOPY_MODE Replace\n")
    n = p.nodes[0]
    assert (n.type, n.target_datasource, n.copy_schedule, n.copy_mode) == \
        ("copy", "snap", "0 * * * *", "replace")
    assert pipe("NODE c\nSQL >\n    SELECT 1\nTYPE copy\nTARGET_DATASOURCE s\nMODE append\n"
                ).nodes[0].copy_mode == "append"


@pytest.mark.parametrize("text,message,line", [
    ("NODE\n", "Missing node name for pipe creation after the NODE label", 1),
    ("SQL >\n    SELECT 1\n", "SQL must be called after a NODE command", 1),
    ("TYPE endpoint\nNODE n\nSQL >\n    SELECT 1\n", "TYPE must be called after a NODE command", 1),
    ("NODE n\nTYPE endpoint\n", 'error parsing node "n" from pipe "p": Empty query', 1),
    ("NODE n\nSQL >\n    %\n", 'error parsing node "n" from pipe "p": Empty query', 2),
    ("NODE p\nSQL >\n    SELECT 1\n", "node 'p' has the same name as the pipe; use another node name", 1),
    ("NODE a\nSQL >\n    SELECT 1\nNODE a\nSQL >\n    SELECT 2\n",
     "duplicate node 'a' (first at line 1)", 4),
    ("NODE a\nSQL >\n    SELECT 1\nTYPE api\n",
     "TYPE must be one of endpoint|materialized|copy|sink|stream|standard, got 'api'", 4),
    ("NODE a\nSQL >\n    SELECT 1\nTYPE materialized\n",
     "Missing datasource name for pipe creation after the DATASOURCE label: node 'a' is "
     "materialized and needs 'DATASOURCE target'", 4),
    ("NODE a\nSQL >\n    SELECT 1\nTYPE copy\n",
     "node 'a' is a copy node and needs 'TARGET_DATASOURCE target'", 4),
    ("NODE a\nSQL >\n    SELECT 1\nTYPE copy\nTARGET_DATASOURCE s\nCOPY_MODE upsert\n",
     "COPY_MODE must be append or replace, got 'upsert'", 6),
    ("NODE a\nSQL >\n    SELECT 1\nTYPE endpoint\nNODE b\nSQL >\n    SELECT 2\nTYPE copy\n"
     "TARGET_DATASOURCE s\n", "a pipe can have only one node with a TYPE other than standard: "
     "'a' is endpoint and 'b' is copy", 8),
    ("DESCRIPTION only\n", "a pipe needs at least one NODE with its SQL", 1),
    ("NODE bad-name\nSQL >\n    SELECT 1\n",
     "invalid node name 'bad-name': use letters, digits and _ (not starting with a digit)", 1),
])
def test_pipe_errors(text, message, line):
    e = error_of(pipe, text)
    assert (e.message, e.line) == (message, line)


def test_template_errors_point_at_the_file_line():
    text = ("NODE n\nSQL >\n    %\n    SELECT *\n\n    # dropped comment\n    FROM t\n"
            "    WHERE a = {{ a / 2 }}\n")
    e = error_of(pipe, text)
    assert e.line == 8
    assert e.message == ('error parsing node "n" from pipe "p": Template Syntax Error: '
                         'Invalid BinOp: Div()')
    e = error_of(pipe, "NODE n\nSQL >\n    %\n    SELECT {% if defined(x) %} 1\n")
    assert e.line == 4 and "Missing {% end %} block for if at line 2" in e.message


def test_template_syntax_needs_the_percent_marker():
    e = error_of(pipe, "NODE n\nSQL >\n    SELECT 1\n    WHERE a = {{ Int32(a) }}\n")
    assert e.line == 4
    assert e.message.endswith("In order to make a query dynamic, it is necessary to start the "
                              "query with a % character.")
    assert pipe("NODE n\nSQL >\n    SELECT {{x}}\n", check_templates=False).nodes[0].sql == "SELECT {{x}}"


# -- projects ---------------------------------------------------------------------------------

def test_quickstart_project_layout():
    proj = load_project(FIXTURES / "quickstart")
    assert sorted(proj.datasources) == ["events"]
    assert sorted(proj.pipes) == ["daily_active_users", "user_activity"]
    events = proj.datasources["events"]
    assert [(c.name, c.type, c.jsonpath) for c in events.columns] == [
        ("event_id", "String", "$.event_id"), ("user_id", "String", "$.user_id"),
        ("event_type", "LowCardinality(String)", "$.event_type"),
        ("properties", "String", "$.properties"), ("timestamp", "DateTime", "$.timestamp")]
    assert events.columns[3].default == "'{}'"
    assert (events.engine, events.sorting_key, events.partition_key) == \
        ("MergeTree", "timestamp, user_id", "toYYYYMM(timestamp)")
    assert events.tokens == (Token("tracker", "APPEND"), Token("dashboard", "READ"))
    for p in proj.pipes.values():
        assert p.endpoint_node is not None and p.tokens == (Token("dashboard", "READ"),)
    sqlparse_ch.parse(events.to_create_sql())


def test_pipe_parameters_merge_over_nodes():
    p = pipe("NODE a\nSQL >\n    %\n    SELECT * FROM t WHERE 1 {% if defined(day) %} AND d = "
             "{{Date(day)}} {% end %}{% if defined(q2) %}1{% end %}\n"
             "NODE b\nSQL >\n    %\n    SELECT * FROM a LIMIT {{Int32(limit, 10)}} "
             "{% if defined(q2) %}{{UInt8(q2, 3)}}{% end %}\nTYPE endpoint\n")
    got = [(x.name, x.type, x.default) for x in p.parameters()]
    assert got == [("day", "Date", None), ("q2", "UInt8", 3), ("limit", "Int32", 10)]
    assert [x.name for x in p.parameters(upto="a")] == ["day", "q2"]
    proj = load_project(FIXTURES / "quickstart")
    assert [(x.name, x.type, x.default, x.required)
            for x in proj.pipes["user_activity"].parameters()] == \
        [("user_id", "String", None, True), ("days", "Int32", 7, False)]


def test_flat_project_layout():
    proj = load_project(FIXTURES / "flat")
    assert sorted(proj.datasources) == ["analytics_events", "analytics_sessions_mv"]
    assert list(proj.pipes) == ["analytics_sessions", "top_pages"]
    mv = proj.pipes["analytics_sessions"].nodes[0]
    assert (mv.type, mv.datasource) == ("materialized", "analytics_sessions_mv")
    assert proj.datasources["analytics_events"].ttl == "timestamp + toIntervalDay(60)"
    assert proj.datasources["analytics_sessions_mv"].engine == "AggregatingMergeTree"


def test_duplicate_names_across_files():
    with pytest.raises(DatafileError) as exc:
        load_project(FIXTURES / "dup")
    assert "duplicate name 'thing': also defined by" in str(exc.value)
    assert str(exc.value).startswith(str(FIXTURES / "dup" / "b" / "thing.pipe"))


def test_hidden_folders_are_skipped_and_errors_name_the_file(tmp_path):
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "x.datasource").write_text("garbage\n")
    (tmp_path / "ok.datasource").write_text(SIMPLE_SCHEMA)
    assert list(load_project(tmp_path).datasources) == ["ok"]
    # inside a SQL block an unknown word is SQL text (Tinybird's rule)...
    (tmp_path / "bad.pipe").write_text("NODE n\nSQL >\n    SELECT 1\nWHATEVER x\n")
    assert load_project(tmp_path).pipes["bad"].nodes[0].sql == "    SELECT 1\nWHATEVER x"
    # ...outside a block it is an error naming the file and line
    (tmp_path / "bad.pipe").write_text("NODE n\nWHATEVER x\nSQL >\n    SELECT 1\n")
    with pytest.raises(DatafileError) as exc:
        load_project(tmp_path)
    assert str(exc.value) == f"{tmp_path / 'bad.pipe'}:2: WHATEVER is not a valid option"


def test_invalid_file_names():
    with pytest.raises(DatafileError, match="invalid data source name 'my-events'"):
        parse_datasource(SIMPLE_SCHEMA, filename="dir/my-events.datasource")


# -- build checks (render in test mode + parse) ---------------------------------------------

@pytest.mark.parametrize("text,message,line,column", [
    ("NODE n\nSQL >\n    SELECT a\n    FROM t\n    WHERE a = = 1\n",
     'error parsing node "n" from pipe "p": unexpected \'=\'', 5, 15),
    ("NODE n\nSQL >\n    %\n    {% if defined(x) %}SELECT 1{% end %}\n",
     'error parsing node "n" from pipe "p": Template renders to an empty query without parameters',
     3, None),
    ("NODE n\nSQL >\n    %\n    SELECT 1\n    WHERE {{ Int32(x) / 2 }}\n",
     'error parsing node "n" from pipe "p": Template Syntax Error: Invalid BinOp: Div()', 5, None),
    ("NODE n\nSQL >\n    %\n    SELECT {{ column(c) }}\n",
     'error parsing node "n" from pipe "p": Template Syntax Error: Missing column() default value',
     4, None),
])
def test_check_pipe_renders_and_parses_every_node(text, message, line, column):
    with pytest.raises(DatafileError) as exc:
        check_pipe(parse_pipe(text, name="p", filename="p.pipe", check_templates=False))
    assert exc.value.message.startswith(message)
    assert (exc.value.filename, exc.value.line, exc.value.column) == ("p.pipe", line, column)


def test_check_project_accepts_the_fixture_projects():
    check_project(load_project(FIXTURES / "quickstart"))
    check_project(load_project(FIXTURES / "flat"))
