"""Injection fuzzer for templates (issue 6): a hostile parameter value can never change the
statement's structure.

For every parameter of a template that uses every parameter type, hypothesis draws hostile
strings (quotes, backslashes, backticks, comment starters, control characters, template
syntax, unicode) and lists of them; each render must either raise TemplateError or parse
(with sqlparse_ch.parse) to an AST of the same shape as the render with a benign value.
"Shape" is the tree of node types and operators with literal values and identifier names
erased. Parameters whose value legitimately decides a count of items (`columns`, `Array`,
list values) are compared with a benign value of the same item count.
"""
from __future__ import annotations

import dataclasses
import json

from hypothesis import HealthCheck, given, settings, strategies as st

import sqlparse_ch
from sqlparse_ch.ast import expr as E
from sqlparse_ch.template import TemplateError, render_template

TEMPLATE = """%
SELECT {{columns(cols, 'a,b')}}, {{column(c, 'a')}}, {{symbol(sym)}}
FROM t
WHERE s = {{String(s, 'x')}}
  AND raw = {{raw}}
  AND i8 = {{Int8(i8, 1)}} AND u64 = {{UInt64(u64, 1)}} AND i256 = {{Int256(i256, 1)}}
  AND n = 1-{{Int(n, 1)}} AND f32 = {{Float32(f32, 1)}} AND f64 = {{Float64(f64, 1)}}
  AND d = {{Date(d, '2024-01-01')}} AND dt = {{DateTime(dt, '2024-01-01 00:00:00')}}
  AND dt64 = {{DateTime64(dt64, '2024-01-01 00:00:00.000')}}
  AND b = {{Boolean(b)}}
  AND ints = ({{Int16(i16, 1)}}, {{Int32(i32, 1)}}, {{Int64(i64, 1)}}, {{Int128(i128, 1)}},
              {{UInt8(u8, 1)}}, {{UInt16(u16, 1)}}, {{UInt32(u32, 1)}}, {{UInt128(u128, 1)}},
              {{UInt256(u256, 1)}}, {{Integer(ig, 1)}})
  AND x IN {{Array(arr, 'String', 'a')}} AND y IN {{Array(ints, 'Int32', '1')}}
  AND z IN {{Array(floats, 'Float64', '1')}}
  AND l LIKE {{sql_unescape(String(lk, 'a%'), '%')}}
  AND {{sql_and(p=String(p, 'q'), r__in=Array(r, 'Int32', '1'))}}
  {% if defined(k) %} AND k = {{k}} {% end %}
  {% for v in split_to_array(vs, 'a') %} AND v = {{v}} {% end %}
ORDER BY {{column(ob, 'a')}}
LIMIT {{Int(lim, 10)}}
"""
BENIGN = {"cols": "a,b", "c": "a", "sym": "a", "s": "x", "raw": "x", "i8": "1", "u64": "1",
          "i256": "1", "n": "1", "f32": "1", "f64": "1", "d": "2024-01-01",
          "dt": "2024-01-01 00:00:00", "dt64": "2024-01-01 00:00:00.000", "b": "1", "arr": "a",
          "ints": "1", "floats": "1", "lk": "a%", "p": "q", "r": "1", "k": "x", "vs": "a",
          "ob": "a", "lim": "10", **{k: "1" for k in ("i16", "i32", "i64", "i128", "u8", "u16",
                                                      "u32", "u128", "u256", "ig")}}
# parameters whose value is a comma list: the benign value has as many items as the hostile
COUNTED = {"cols", "arr", "ints", "floats", "r", "vs"}


def shape(node):
    """The AST with identifier names and literal values erased."""
    if isinstance(node, (E.Literal,)):
        return "Literal"
    if isinstance(node, E.Identifier):
        return "Identifier"
    if isinstance(node, (list, tuple)):
        return tuple(shape(x) for x in node)
    if dataclasses.is_dataclass(node):
        return (type(node).__name__,) + tuple(
            (f.name, shape(getattr(node, f.name))) for f in dataclasses.fields(node)
            if f.name != "span")
    return node


def benign_for(name: str, value) -> dict:
    params = dict(BENIGN)
    if isinstance(value, list):
        items = len(value)
        params[name] = [BENIGN[name].split(",")[0]] * items if items else BENIGN[name]
    elif name in COUNTED:
        sep_items = len(value.split(","))
        params[name] = ",".join([BENIGN[name].split(",")[0]] * sep_items)
    return params


NASTY = ["'", "\\", "\\'", "`", '"', "--", "/*", "*/", "\n", "\r", "\t", "\x00", "\x1a", "%",
         "{{", "}}", "{%", "%}", ";", ",", ")", "(", " OR 1=1", "' OR '1'='1", "\\\\'", "'--",
         "1; DROP TABLE t", "$$", "é", "\u2028", "\U0001F600", "0x1", "1e400", "nan", "-", ".",
         "2024-01-01 00:00:00' OR 1=1 --", "a.b", "a..b", "..", "``", "json.a"]
hostile_text = st.lists(st.one_of(st.sampled_from(NASTY), st.text(max_size=6)), max_size=8).map("".join)
# values that pass (or nearly pass) the type validators, with hostile tails
PREFIXES = ["2024-01-01", "2024-01-01 00:00:00", "2024-01-01T00:00:00.123", "01.02.2024 1:2:3",
            "1", "-1", "+7", "1.5", " 2.5 ", "nan", "-inf", "1e5", "\u0663", "0,1", "true", "false"]
edgy_text = st.one_of(
    st.builds(lambda p, h: p + h, st.sampled_from(PREFIXES), st.one_of(st.just(""), hostile_text)),
    st.integers(min_value=-2 ** 260, max_value=2 ** 260).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr))
hostile_text = st.one_of(hostile_text, edgy_text)
hostile_value = st.one_of(hostile_text, st.lists(hostile_text, min_size=1, max_size=3))
names = st.sampled_from(sorted(BENIGN))


def render_or_none(params):
    try:
        return render_template(TEMPLATE, params)
    except TemplateError:
        return None


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=names, value=hostile_value)
def test_hostile_values_keep_the_statement_shape(name, value):
    params = dict(BENIGN)
    params[name] = value
    rendered = render_or_none(params)
    if rendered is None:
        return
    expected = render_template(TEMPLATE, benign_for(name, value))
    got = sqlparse_ch.parse(rendered)
    assert shape(got) == shape(sqlparse_ch.parse(expected)), rendered


@settings(max_examples=150, deadline=None)
@given(values=st.fixed_dictionaries({}, optional={n: hostile_text for n in BENIGN if n not in COUNTED}))
def test_many_hostile_values_at_once(values):
    params = dict(BENIGN)
    params.update(values)
    rendered = render_or_none(params)
    if rendered is None:
        return
    assert shape(sqlparse_ch.parse(rendered)) == shape(sqlparse_ch.parse(render_template(TEMPLATE, BENIGN)))


def test_benign_render_parses():
    sqlparse_ch.parse(render_template(TEMPLATE, BENIGN))


def test_shape_detects_a_structure_change():
    # the comparison itself must be able to fail: an OR smuggled in changes the shape
    a = sqlparse_ch.parse("SELECT a FROM t WHERE s = 'x'")
    b = sqlparse_ch.parse("SELECT a FROM t WHERE s = 'x' OR 1 = 1")
    c = sqlparse_ch.parse("SELECT b FROM t WHERE s = 'y'")
    assert shape(a) != shape(b) and shape(a) == shape(c)


FRAGMENTS = ["{{", "}}", "{%", "%}", "{#", "#}", "{{!", "{%!", "{", "}", " if ", " elif ", " else ",
             " end ", " for ", " in ", " set ", "=", " x ", " y ", "(", ")", "[", "]", ",", "'", '"',
             "\n", "Int32(x)", "String(y, 'a')", "defined(x)", "split_to_array(x)", " break ",
             " continue ", " while ", " import ", "error('e')", "column(x, 'a')", "1", "-", "*",
             "/", "**", " and ", " not ", ":", ".split", ".get", "__class__", "lambda", "%",
             "whitespace", " comment ", "Array(x, 'Int8')", "JSON(j)", " == ", " > "]


@settings(max_examples=300, deadline=None)
@given(parts=st.lists(st.sampled_from(FRAGMENTS), max_size=25),
       x=st.one_of(st.none(), hostile_text), test_mode=st.booleans())
def test_any_template_text_renders_or_raises_template_error(parts, x, test_mode):
    params = {} if x is None else {"x": x, "y": x, "j": x}
    try:
        sql = render_template("%" + "".join(parts), params, test_mode=test_mode)
    except TemplateError:
        return
    assert isinstance(sql, str)


JSON_TEMPLATE = "%SELECT {% for kv in JSON(j, '[]') %}{{kv}}, {% end %}1 FROM t"
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), hostile_text),
    lambda inner: st.lists(inner, max_size=3), max_leaves=8)


def _node_types(node, out):
    if isinstance(node, (list, tuple)):
        for x in node:
            _node_types(x, out)
    elif dataclasses.is_dataclass(node):
        out.add(type(node).__name__)
        for f in dataclasses.fields(node):
            if f.name != "span":
                _node_types(getattr(node, f.name), out)
    return out


@settings(max_examples=200, deadline=None)
@given(value=st.one_of(st.lists(json_values, max_size=4).map(json.dumps), hostile_text))
def test_json_values_only_ever_become_literals(value):
    try:
        rendered = render_template(JSON_TEMPLATE, {"j": value})
    except TemplateError:
        return
    items = sqlparse_ch.parse(rendered).select
    assert _node_types(items, set()) <= {"Literal", "ArrayLiteral", "UnaryOp"}, rendered
