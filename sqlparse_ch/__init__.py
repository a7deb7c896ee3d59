"""sqlparse_ch: ClickHouse SQL text -> typed AST -> canonical SQL.

    >>> from sqlparse_ch import parse, parse_expr, format_sql
    >>> format_sql(parse_expr("a+1 >= 2 AND NOT b"))
    'a + 1 >= 2 AND NOT b'

Public API: parse, parse_many, parse_expr, format_sql, dump, ParseError, and the AST
node classes in `sqlparse_ch.ast`.
"""
from . import ast
from .errors import ParseError
from .parser import parse, parse_expr, parse_many
from .printer import format_sql
from .dump import dump

__all__ = ["parse", "parse_many", "parse_expr", "format_sql", "dump", "ParseError", "ast"]
