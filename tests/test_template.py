"""The `%` SQL template language (sqlparse_ch.template).

Expected strings come from Tinybird's own engine (tests/datafiles/template_cases.tinybird.json, observed
by running tinybird-cli 6.5.5's `render_sql_template`) or from TINYBIRD.md; where mergetree
deliberately differs (safety), the test says why.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

import sqlparse_ch
from sqlparse_ch.template import (ParamInfo, TemplateCustomError, TemplateError, TemplateNameError,
                                  TemplateParseError, TemplateUserError, UnclosedBlockError,
                                  is_template, render, render_template, template_parameters)
QUICKSTART = Path(__file__).parent / "datafiles" / "quickstart"
TINYBIRD_CASES = [
    (c["sql"], c["params"], c["test_mode"], c["kind"], c["expected"])
    for c in json.loads((Path(__file__).parent / "datafiles" / "template_cases.tinybird.json")
                        .read_text(encoding="utf-8"))["cases"]]


@pytest.mark.parametrize("sql,params,test_mode,kind,expected", TINYBIRD_CASES,
                         ids=[f"{i}:{c[0][:40]}" for i, c in enumerate(TINYBIRD_CASES)])
def test_same_output_as_tinybird(sql, params, test_mode, kind, expected):
    if kind == "ok":
        assert render_template("%" + sql, params, test_mode=test_mode) == expected
    else:
        with pytest.raises(TemplateError) as exc:
            render_template("%" + sql, params, test_mode=test_mode)
        assert str(exc.value) == expected


# -- TINYBIRD.md appendix, verbatim ------------------------------------------------------

def test_appendix_examples():
    assert render_template("%{{Int32(x)}}", {"x": "5"}) == "toInt32('5')"
    assert render_template("%{{Int(x,10)}}", {}) == "10"
    assert render_template("%{{Float64(x)}}", {"x": "1.5"}) == "toFloat64('1.5')"
    assert render_template("%{{x}}", {"x": "5"}) == "'5'"
    assert render_template("%{{String(x)}}", {"x": "it's \\ %"}) == "'it\\'s \\\\ \\%'"
    assert render_template("%{{columns(cols,'a,b',fn='sum')}}", {"cols": "x,y"}) == \
        "sum(`x`) as x,sum(`y`) as y"
    assert render_template("%{{column(x,'ts')}}", {"x": "a`b"}) == "`a\\`b`"
    assert render_template("%{{cache_ttl('5m')}}", {}) == "-- cache_ttl 5m\n"
    assert render_template("%{{max_threads(4)}}", {}) == "-- max_threads 4\n"


def test_execution_options_are_collected():
    r = render("%{{max_threads(4)}}{{cache_ttl('1h')}}{{activate('analyzer')}}SELECT 1", {})
    assert r.options == {"max_threads": 4, "cache_ttl": "1h", "activate": {"analyzer"}}
    assert r.sql == "-- max_threads 4\n-- cache_ttl 1h\n-- activate analyzer\nSELECT 1"


def test_error_and_custom_error_carry_status():
    with pytest.raises(TemplateUserError) as exc:
        render_template("%{% if not defined(x) %}{{ error('x is required', 403) }}{% end %}", {})
    assert str(exc.value) == "x is required" and exc.value.code == 403
    with pytest.raises(TemplateCustomError) as exc:
        render_template("%{{ custom_error({'error': 'nope', 'x': 1}, 422) }}", {})
    assert exc.value.payload == {"error": "nope", "x": 1} and exc.value.code == 422
    # in test mode (build checks) both are neutralised, as in Tinybird
    assert render_template("%{{ error('x') }}", {}, test_mode=True) == "-- {x} \n"


# -- deliberate differences from Tinybird ------------------------------------------------

def test_required_message_names_only_the_missing_parameters():
    # Tinybird lists every parameter without default even when it was given ('test and color');
    # we name the ones actually missing.
    sql = "%select {{String(test)}} {{String(category, 'shirts')}} {{ Int32(color)}}"
    with pytest.raises(TemplateError) as exc:
        render_template(sql, {"test": "a"})
    assert str(exc.value) == ("Template Syntax Error: Required parameter is not defined. Check the "
                              "parameters color. Please provide a value or set a default value in "
                              "the pipe code.")
    with pytest.raises(TemplateError) as exc:
        render_template(sql, {})
    assert "Check the parameters test and color." in str(exc.value)


def test_sql_unescape_never_removes_quote_escapes():
    # Tinybird's sql_unescape(x) with no characters strips every backslash, which turns an
    # escaped quote into a closing quote (an injection). We keep the escaping.
    assert render_template("%{{sql_unescape(String(x))}}", {"x": "a'b%"}) == "'a\\'b\\%'"
    assert render_template("%{{sql_unescape(String(x), '%')}}", {"x": "a'b%"}) == "'a\\'b%'"
    with pytest.raises(TemplateError, match="sql_unescape can only unescape"):
        render_template("%{{sql_unescape(String(x), \"'\")}}", {"x": "a'b"})


def test_dicts_are_not_written_as_python_repr():
    with pytest.raises(TemplateError, match="evaluated to a dict"):
        render_template("%select {{JSON(j, '{}')}}", {})


def test_comment_hints_cannot_break_out_of_the_comment_line():
    assert render_template("%{{max_threads(x)}}SELECT 1", {"x": "a\nDROP TABLE t"}) == \
        "-- max_threads: wrong argument a DROP TABLE t\nSELECT 1"


def test_strict_integer_text():
    # Tinybird's regex also accepts a trailing newline ('5\n'); we require the digits only
    with pytest.raises(TemplateError, match="Error validating"):
        render_template("%{{Int32(x)}}", {"x": "5\n"})


def test_table_accepts_only_plain_names():
    assert render_template("%select * from {{table(t)}}", {"t": "events"}) == "select * from events"
    assert render_template("%select * from {{table(t)}}", {"t": "db.events"}) == \
        "select * from db.events"
    with pytest.raises(TemplateError, match="Invalid table name"):
        render_template("%select * from {{table(t)}}", {"t": "events; drop table x"})


def test_columns_alias_is_quoted_when_not_a_plain_name():
    assert render_template("%{{columns(c, 'a', fn='sum')}}", {"c": "a b"}) == "sum(`a b`) as `a b`"
    with pytest.raises(TemplateError, match="Invalid function name"):
        render_template("%{{columns(c, 'a', fn=f)}}", {"c": "a", "f": "sum) from x --"})


def test_negative_number_after_minus_cannot_start_a_comment():
    assert render_template("%select 1-{{Int(x)}}", {"x": "-5"}) == "select 1- -5"
    assert render_template("%select {{Int(x)}}", {"x": "-5"}) == "select -5"


def test_lists_render_as_escaped_arrays():
    # Tinybird writes Python's repr (`["it's"]`, a double-quoted identifier to ClickHouse);
    # we keep its layout but write every item as an escaped literal
    assert render_template("%{{split_to_array(x)}}", {"x": "a,it's"}) == "['a', 'it\\'s']"
    assert render_template("%{{x}}", {"x": ["a", "b'"]}) == "['a', 'b\\'']"
    assert render_template("%{{ (x,) }}", {"x": "a"}) == "tuple('a')"


def test_array_parameters_iterate_by_item():
    # Tinybird converts Array-typed parameters before rendering, but depending on the order
    # of mentions a `{% for %}` may still walk the raw text character by character
    # ('1', ',', '2'); we always iterate the items
    sql = "%{% for v in ids %}{{v}};{% end %}{{Array(ids, 'Int32')}}"
    assert render_template(sql, {"ids": "1,2"}) == "1;2;[1,2]"
    assert render_template(sql, {"ids": ["1", "2"]}) == "1;2;[1,2]"
    with pytest.raises(TemplateError, match=r"Error validating \[1,x\]\[1\] \(x\) to type Int32"):
        render_template(sql, {"ids": "1,x"})


def test_unclosed_block_names_the_opening_line():
    with pytest.raises(UnclosedBlockError) as exc:
        render_template("%select 1\n{% if defined(x) %}\nand x\n\n", {})
    assert str(exc.value) == "Missing {% end %} block for if at line 2"


# -- syntax errors ---------------------------------------------------------------------

@pytest.mark.parametrize("sql,message", [
    ("select {% while x %}{% end %}", "while is not supported at <string>:1"),
    ("select {% try %}{% end %}", "try is not supported at <string>:1"),
    ("select\n\n{{ x", "Missing end expression }} at <string>:3"),
    ("select {% else %}", "else outside {'for', 'if'} block at <string>:1"),
    ("{% for x in y %}{% elif z %}{% end %}", "elif block cannot be attached to for block at <string>:1"),
])
def test_parse_errors(sql, message):
    with pytest.raises(TemplateParseError) as exc:
        render_template("%" + sql, {})
    assert str(exc.value) == message


def test_errors_carry_the_template_line():
    sql = "%\nSELECT *\nFROM t\nWHERE a = {{Int32(a)}}\n"
    with pytest.raises(TemplateError) as exc:
        render_template(sql, {"a": "x"})
    assert exc.value.line == 4
    with pytest.raises(TemplateError) as exc:
        render_template("%\nSELECT\n{{ a / 2 }}", {})
    assert exc.value.line == 3 and str(exc.value) == "Template Syntax Error: Invalid BinOp: Div()"


def test_format_and_q_are_reserved():
    with pytest.raises(TemplateNameError) as exc:
        render_template("%select 1\n{% if defined(q) %}{% end %}", {})
    assert str(exc.value) == '"q" can not be used as a variable name, line 2'


def test_reserved_names_give_warnings():
    assert render("%select {{String(pipeline, 'x')}}", {}).warnings == ("pipeline",)


# -- safety: no Python escapes -------------------------------------------------------------

@pytest.mark.parametrize("sql", [
    "{{ ().__class__ }}",
    "{{ x.__class__.__mro__ }}",
    "{% set y = x.__class__ %}",
    "{% set y = __import__('os') %}",
    "{% if __builtins__ %}{% end %}",
    "{{ getattr(x, 'y') }}",
    "{{ open('/etc/passwd') }}",
    "{% for c in [].__class__.__subclasses__() %}{% end %}",
    "{{ [c for c in 'ab'] }}",
    "{% set f = lambda: 1 %}",
    "{{ 'a' * 10 ** 9 }}",
    "{% set y = 2 ** 1000 %}",
    "{{ f'{x:>1000000000}' }}",
    "{{ x.format(1) }}",
    "{% set s = '%s' % x %}{{s}}",
    "{% set s = 'a' * 100000000 %}",
    "{% for i in range(100000000) %}{% end %}",
    "{% set s = x.replace('', x) %}",
])
def test_python_escapes_are_refused(sql):
    with pytest.raises(TemplateError):
        render_template("%" + sql, {"x": "y" * 5000})


@pytest.mark.parametrize("sql", [
    "{{" + "+".join(["1"] * 5000) + "}}",
    "{% if x %}" * 3000 + "{% end %}" * 3000,
    "{{ JSON(x) }}",
])
def test_deep_nesting_is_an_error_not_a_crash(sql):
    with pytest.raises(TemplateError):
        render_template("%" + sql, {"x": "[" * 100000 + "]" * 100000})


def test_tb_secret_binds_a_query_parameter():
    r = render("%SELECT {{tb_secret('api_key')}}", {}, secrets={"api_key": "s3cret"})
    assert r.sql == "SELECT {api_key: String}" and r.query_params == {"api_key": "s3cret"}
    assert render_template("%SELECT {{tb_secret('k', 'dflt')}}", {}) == "SELECT 'dflt'"
    with pytest.raises(TemplateError) as exc:
        render_template("%SELECT {{tb_secret('k')}}", {"k": "from the request"})
    assert str(exc.value) == ("Template Syntax Error: Cannot access secret 'k'. Check the secret "
                              "exists in the Workspace and the token has the required scope.")


def test_no_eval_exec_or_compile_in_the_template_engine():
    import re
    src = Path(sqlparse_ch.__file__).parent / "template"
    for path in src.glob("*.py"):
        code = path.read_text()
        assert not re.search(r"(?<![.\w])(eval|exec|compile|__import__)\s*\(", code), path


def test_template_and_datafiles_import_only_the_standard_library():
    import subprocess
    import sys
    code = ("import sys, sqlparse_ch.template, sqlparse_ch.datafiles; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'numpy', 'numba', 'mergetree'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).parent.parent)
    assert out.stdout.strip() == "[]"


def test_is_template():
    assert is_template("%\nSELECT 1") and is_template("  \n %SELECT")
    assert not is_template("SELECT '%'") and not is_template("")
    assert render_template("SELECT '{{x}}'", {"x": "1"}) == "SELECT '{{x}}'"


# -- parameters ------------------------------------------------------------------------

def test_template_parameters_metadata():
    sql = ("%SELECT {{String(user_id, required=True, description='the user', example='u1')}},"
           " {{Int32(days, 7)}}, {{Array(ids, 'Int32', '1,2')}}, {{DateTime(since, format='x')}},"
           " {{String(kind, 'a', enum=['a', 'b'])}}, {{Boolean(flag)}}"
           "{% if defined(extra) %}{{column(col, 'x')}}{% end %}"
           "{% for v in split_to_array(vals, '') %}{{v}}{% end %}{% set local = 1 %}{{local}}")
    params = {p.name: p for p in template_parameters(sql)}
    assert params["user_id"] == ParamInfo("user_id", "String", None, True, "the user", "u1",
                                          line=1)
    assert (params["days"].type, params["days"].default, params["days"].required) == ("Int32", 7, False)
    assert (params["ids"].type, params["ids"].default) == ("Array(Int32)", "1,2")
    assert params["since"].format == "x"
    assert params["kind"].enum == ["a", "b"]
    assert params["flag"].type == "Boolean"
    assert params["extra"].used_in == "function_call" and params["extra"].type == "String"
    assert params["col"].type == "String" and params["vals"].type == "String"
    assert "local" not in params and "v" not in params
    assert template_parameters("SELECT 1") == []


def test_typed_mention_wins_over_defined():
    params = template_parameters("%{% if defined(n) %}{{Int64(n, 5)}}{% end %}")
    assert [(p.name, p.type, p.default) for p in params] == [("n", "Int64", 5)]


# -- the quickstart pipes (issue 6) ------------------------------------------------------------

def _quickstart_sql(name: str) -> str:
    from sqlparse_ch.datafiles import read_datafile

    pipe = read_datafile(QUICKSTART / "pipes" / f"{name}.pipe")
    return pipe.endpoint_node.sql


def test_user_activity_renders_and_parses():
    sql = _quickstart_sql("user_activity")
    out = render_template(sql, {"user_id": "user_123", "days": "30"})
    assert "WHERE user_id = 'user_123'" in out
    assert "INTERVAL toInt32('30') DAY" in out
    sqlparse_ch.parse(out)
    assert "INTERVAL toInt32('7') DAY" in render_template(sql, {"user_id": "u"})
    params = template_parameters(sql)
    assert [(p.name, p.type, p.default, p.required) for p in params] == \
        [("user_id", "String", None, True), ("days", "Int32", 7, False)]
    assert params[0].description == "The user to look up" and params[0].example == "user_123"
    assert params[1].to_dict() == {"name": "days", "type": "Int32", "default": 7,
                                   "description": "How many days back", "required": False,
                                   "example": None, "enum": None, "format": None}


def test_user_activity_errors_name_the_parameter():
    sql = _quickstart_sql("user_activity")
    with pytest.raises(TemplateError) as exc:
        render_template(sql, {"days": "3"})
    assert str(exc.value) == ("Template Syntax Error: Required parameter is not defined. Check the "
                              "parameters user_id. Please provide a value or set a default value "
                              "in the pipe code.")
    with pytest.raises(TemplateError) as exc:
        render_template(sql, {"user_id": "u", "days": "week"})
    assert str(exc.value) == "Template Syntax Error: Error validating 'week' to type Int32"


def test_daily_active_users_is_plain_sql():
    sql = _quickstart_sql("daily_active_users")
    assert not is_template(sql)
    assert render_template(sql, {"anything": "x"}) == sql
    assert template_parameters(sql) == []


def test_multi_node_pipe_renders_as_tinybird():
    from sqlparse_ch.datafiles import read_datafile

    flat = Path(__file__).parent / "datafiles" / "flat"
    pipe = read_datafile(flat / "top_pages.pipe")
    expected = json.loads((flat / "top_pages.expected.json").read_text())["renders"]
    assert len(expected) == 10
    for case in expected:
        sql = pipe.node(case["node"]).sql
        got = render_template(sql, case["params"], test_mode=case["test_mode"])
        assert got == case["sql"], case
        sqlparse_ch.parse(got)


def test_test_mode_renders_every_quickstart_pipe():
    for name in ("user_activity", "daily_active_users"):
        sqlparse_ch.parse(render_template(_quickstart_sql(name), {}, test_mode=True))
