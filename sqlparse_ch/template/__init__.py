"""Tinybird's `%` SQL template language: parse, inspect and render pipe SQL safely.

    >>> from sqlparse_ch.template import render_template
    >>> render_template("% SELECT * FROM t WHERE id = {{Int32(id, 1)}}", {"id": "5"})
    "SELECT * FROM t WHERE id = toInt32('5')"

Life of a render (`render`):
1. `is_template(sql)`: a template starts with `%` (first non-space character); the `%`
   is dropped.
2. `parse_template` (syntax.py, cached): the text becomes a tree of Text / Expr / If / For /
   Set nodes; each `{{ }}` body is parsed with the standard `ast` parser and checked
   against the whitelist (checks.py). `format` and `q` are refused as variable names.
3. `execute` (interpreter.py) walks the tree with the request parameters
   (`str` or `list[str]`; absent ones are None, or placeholders in test mode), calling only
   whitelisted functions (functions.py); every `{{ }}` value is written by `to_sql`
   (values.py) as an escaped literal or a validated identifier.
4. A missing required parameter is reported naming the parameters without value and
   default; every error is a `TemplateError` with Tinybird's message and the line.

Differences from Tinybird, all deliberate: no `eval` (the same whitelist applies to
`{% %}` statements, which additionally allow comparisons and `and`/`or`); `while`/`try`
are refused; `table()` accepts only plain names, `sql_unescape` only `%`, `"` and `` ` ``,
`columns(..., fn=)` quotes aliases that are not plain names; lists render as ClickHouse
arrays of escaped items; a negative number written right after `-` gets a space so that it
cannot start a `--` comment; the unclosed-block error names the line of the opening tag.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

from .errors import (TemplateCustomError, TemplateError, TemplateNameError, TemplateParseError,
                     TemplateUserError, UnclosedBlockError)
from .functions import REQUIRED_PARAM_NOT_DEFINED, RenderContext, RequiredParamError, array_values
from .interpreter import execute
from .params import ParamInfo, all_names, collect_parameters
from .syntax import Template, parse_template as _parse_template
from .values import quote_string

__all__ = ["render_template", "render", "template_parameters", "is_template", "parse_template",
           "strip_template_marker", "Rendered", "ParamInfo", "TemplateError", "TemplateParseError",
           "TemplateUserError", "TemplateCustomError", "TemplateNameError", "UnclosedBlockError",
           "quote_string", "RESERVED_PARAM_NAMES"]

DEFAULT_PARAM_NAMES = ("format", "q")
RESERVED_PARAM_NAMES = frozenset({
    "__tb__semver", "debug_source_tables", "debug", "explain", "finalize_aggregations",
    "output_format_json_quote_64bit_integers", "output_format_json_quote_denormals",
    "output_format_parquet_string_as_string", "pipeline", "playground", "q", "query_id",
    "release_replacements", "tag", "template_parameters", "token", "job_timestamp"})
JOB_TIMESTAMP = "job_timestamp"


@dataclass(frozen=True)
class Rendered:
    sql: str
    options: dict = field(default_factory=dict)      # max_threads, cache_ttl, activate, ...
    warnings: tuple = ()                              # reserved parameter names used
    query_params: dict = field(default_factory=dict)  # tb_secret values bound as {name: String}


def is_template(sql: str) -> bool:
    """True when the SQL is a template: its first non-space character is `%`."""
    return sql.lstrip()[:1] == "%"


def strip_template_marker(sql: str) -> str:
    s = sql.lstrip()
    return s[1:] if s[:1] == "%" else sql


@lru_cache(maxsize=1024)
def parse_template(text: str, name: str = "<string>") -> Template:
    """Parse (and cache) template text, without the leading `%`."""
    tpl = _parse_template(text, name)
    for var, line in all_names(tpl):
        if var in DEFAULT_PARAM_NAMES:
            raise TemplateNameError(f'"{var}" can not be used as a variable name, line {line}', line)
    return tpl


@lru_cache(maxsize=1024)
def _parameters(text: str) -> tuple[ParamInfo, ...]:
    return tuple(collect_parameters(parse_template(text)))


def template_parameters(sql_text: str) -> list[ParamInfo]:
    """The parameters a pipe's SQL uses (empty for non-template SQL)."""
    if not is_template(sql_text):
        return []
    return list(_parameters(strip_template_marker(sql_text)))


def render(sql_text: str, params: dict | None = None, *, test_mode: bool = False,
           secrets: dict | None = None, name: str = "<string>") -> Rendered:
    """Render a template (SQL without a leading `%` is returned unchanged)."""
    if not is_template(sql_text):
        return Rendered(sql_text)
    text = strip_template_marker(sql_text)
    tpl = parse_template(text, name)
    infos = _parameters(text)
    values = {k: v for k, v in (params or {}).items() if v is not None}
    for p in infos:
        if p.type.startswith("Array(") and p.name in values:
            items = array_values(values[p.name], p.type[6:-1])
            if items is not None:
                values[p.name] = items
    if any(p.name == JOB_TIMESTAMP for p in infos):
        values.setdefault(JOB_TIMESTAMP, datetime.now().strftime("%Y-%m-%d %H:%M:%S"))
    ctx = RenderContext(test_mode=test_mode, secrets=secrets)
    try:
        sql = execute(tpl, values, ctx)
    except RequiredParamError as e:
        missing = [p.name for p in infos
                   if p.default is None and p.used_in is None and p.name != JOB_TIMESTAMP
                   and values.get(p.name) is None]
        if not missing:
            raise
        raise TemplateError(
            f"{REQUIRED_PARAM_NOT_DEFINED}. Check the parameters {_join(missing)}. Please provide "
            "a value or set a default value in the pipe code.", e.line) from None
    warnings = tuple(sorted({p.name for p in infos if p.name in RESERVED_PARAM_NAMES}))
    return Rendered(sql, ctx.options, warnings, ctx.query_params)


def render_template(sql_text: str, params: dict | None = None, *, test_mode: bool = False) -> str:
    """Render pipe SQL with request parameters (`str` or `list[str]` values) to plain SQL."""
    return render(sql_text, params, test_mode=test_mode).sql


def _join(items: list[str]) -> str:
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " and " + items[-1]
