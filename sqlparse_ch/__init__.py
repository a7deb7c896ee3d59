"""sqlparse_ch: ClickHouse SQL text -> typed AST -> canonical SQL.

    >>> from sqlparse_ch import parse, parse_expr, format_sql
    >>> format_sql(parse_expr("a+1 >= 2 and not b"))
    'a + 1 >= 2 AND NOT b'

Public API
    parse(text) -> statement node (one statement, trailing `;` allowed)
    parse_many(text) -> list of statements, each `span` covering its exact source text
    parse_expr(text) -> expression node (`expr AS alias` allowed)
    format_sql(node) -> canonical SQL; parse(format_sql(ast)) == ast, output is a fixed point
    dump(node) -> stable multi-line dump for golden files
    ParseError -> .line .column .token .expected .message; str() adds a caret snippet

What the AST looks like (sqlparse_ch/ast/{expr,query,ddl}.py): frozen slots dataclasses,
`span` excluded from equality, tuples for repeated fields. Surface syntax ClickHouse
itself rewrites is normalised the same way: `a ? b : c` -> if(a, b, c); `DATE 'x'` ->
toDate('x'); `EXTRACT(YEAR FROM d)` -> toYear(d); `f(x) FILTER (WHERE c)` -> fIf(x, c);
`LIMIT m, n` -> limit=n, offset=m; `GROUP BY ROLLUP(a)` == `GROUP BY a WITH ROLLUP`;
`-<number>` is a negative Literal. Aliases are `Alias(expr, name)` nodes wherever they
are written (select list, WITH, function arguments, nested parentheses).

Names: keywords are case-insensitive and most are usable as names (`SELECT key, type,
format, date, timestamp, limit, offset FROM events`). Clause/operator words (SELECT FROM
WHERE GROUP ORDER BY AS AND OR NOT IN IS ...; `parser.HARD_KEYWORDS`) are reserved and
need backquotes as names; the printer backquotes exactly those that need it.

Speed: grammar in grammar/*.lark, lark LALR + contextual lexer, built strict; the built
parser is snapshotted in ~/.cache/sqlparse_ch (XDG_CACHE_HOME) for a fast warm start, and
`fastlalr` drives lark's parse table with a tighter loop.
"""
import gc as _gc

_gc_was_enabled = _gc.isenabled()
_gc.disable()  # creating ~80 dataclasses allocates many objects; skip GC passes meanwhile
try:
    from . import ast
    from .dump import dump
    from .errors import ParseError
    from .parser import parse, parse_expr, parse_many
    from .printer import format_sql
finally:
    if _gc_was_enabled:
        _gc.enable()

# Tinybird datafiles and templates, imported on first use so `import sqlparse_ch` stays lean.
_LAZY = {
    "parse_datasource": "datafiles", "parse_pipe": "datafiles", "load_project": "datafiles",
    "check_project": "datafiles", "DatafileError": "datafiles",
    "render_template": "template", "render": "template", "template_parameters": "template",
    "is_template": "template", "TemplateError": "template",
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["parse", "parse_many", "parse_expr", "format_sql", "dump", "ParseError", "ast", *_LAZY]
