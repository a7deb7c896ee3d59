"""The expression whitelist: which Python expression forms a template may contain.

Two levels, as in Tinybird:

- `{{ expr }}` bodies (`check_expression`): calls of whitelisted functions, method calls
  `.split/.get/.join/.replace`, int/float/str/None constants, names, unary `-`/`not`,
  binary `+ - *`, subscripts and slices, dict/list/tuple/set literals, f-strings and
  `a if c else b`. Anything else is refused with Tinybird's text (`Invalid BinOp: Div()`,
  `Invalid expression type: Compare(...)`, `Invalid function name: eval`, ...).
- `{% if %}` / `{% elif %}` / `{% for %}` / `{% set %}` expressions
  (`check_statement_expression`) additionally allow comparisons (`== != < <= > >= in
  not in is is not`), `and`/`or`, `/ // %`, unary `+` and a few more pure builtins and
  string methods. Lambdas, comprehensions, attribute reads, `**`, walrus, starred
  arguments and dunder names are refused at both levels.

Only the node types listed here can reach the interpreter, which handles exactly these.
"""
from __future__ import annotations

import ast

from .errors import TemplateError

# functions callable from {{ }} (TINYBIRD.md C.1)
EXPRESSION_FUNCTIONS = frozenset("""
Boolean DateTime DateTime64 Date Float32 Float64 Int8 Int16 Int32 Int64 Int128 Int256
UInt8 UInt16 UInt32 UInt64 UInt128 UInt256 String Array symbol cache_ttl error custom_error
backend_hint activate disable sql_unescape max_threads tb_secret tb_var Int table TABLE len
list min max Integer int float JSON defined column columns day_diff date_diff_in_seconds
date_diff_in_minutes date_diff_in_hours date_diff_in_days split_to_array enumerate_with_last
sql_and
""".split())
# extra pure helpers usable in {% %} statements (Tinybird exposes Python builtins there)
STATEMENT_FUNCTIONS = EXPRESSION_FUNCTIONS | frozenset(
    "bool str sum sorted range enumerate abs round zip reversed any all Symbol Column".split())
EXPRESSION_METHODS = frozenset({"split", "get", "join", "replace"})
STATEMENT_METHODS = EXPRESSION_METHODS | frozenset(
    {"strip", "lstrip", "rstrip", "lower", "upper", "startswith", "endswith", "keys", "values",
     "items", "count", "index", "rsplit"})

_EXPR_BINOPS = (ast.Add, ast.Sub, ast.Mult)
_STMT_BINOPS = _EXPR_BINOPS + (ast.Div, ast.FloorDiv, ast.Mod)


def _dump(node) -> str:
    return ast.dump(node)


def check_expression(node: ast.AST, line: int) -> None:
    """Validate a `{{ }}` body; raise TemplateError with Tinybird's message."""
    _check(node, line, statement=False)


def check_statement_expression(node: ast.AST, line: int) -> None:
    _check(node, line, statement=True)


def check_target(node: ast.AST, line: int) -> None:
    """`for` / `set` targets: a name or a (nested) tuple of names."""
    if isinstance(node, ast.Name):
        if node.id.startswith("__"):
            raise TemplateError(f"Invalid name: {node.id}", line)
        return
    if isinstance(node, (ast.Tuple, ast.List)):
        for elt in node.elts:
            check_target(elt, line)
        return
    raise TemplateError(f"Invalid assignment target: {_dump(node)}", line)


def _check(node: ast.AST, line: int, statement: bool) -> None:
    functions = STATEMENT_FUNCTIONS if statement else EXPRESSION_FUNCTIONS
    methods = STATEMENT_METHODS if statement else EXPRESSION_METHODS
    binops = _STMT_BINOPS if statement else _EXPR_BINOPS
    rec = lambda n: _check(n, line, statement)  # noqa: E731

    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Name):
            if func.id not in functions:
                if statement:
                    raise TemplateError(f"'{func.id}' is not a valid function, line {line}", line)
                raise TemplateError(f"Invalid function name: {func.id}", line)
        elif isinstance(func, ast.Attribute):
            if func.attr not in methods:
                raise TemplateError(f"Invalid method name: {func.attr}", line)
            rec(func.value)
        else:
            raise TemplateError(f"Invalid function: {_dump(node)}", line)
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise TemplateError(f"Invalid expression type: {_dump(arg)}", line)
            rec(arg)
        for kw in node.keywords:
            if kw.arg is None:
                raise TemplateError(f"Invalid expression type: {_dump(kw)}", line)
            rec(kw.value)
    elif isinstance(node, ast.Constant):
        if node.value is None or isinstance(node.value, (int, float, str)):
            return
        raise TemplateError(f"Invalid Constant: {_dump(node)}", line)
    elif isinstance(node, ast.Name):
        if node.id.startswith("__"):
            raise TemplateError(f"Invalid name: {node.id}", line)
    elif isinstance(node, ast.UnaryOp):
        ok = (ast.USub, ast.Not, ast.UAdd) if statement else (ast.USub, ast.Not)
        if not isinstance(node.op, ok):
            raise TemplateError(f"Invalid UnaryOp: {_dump(node.op)}", line)
        rec(node.operand)
    elif isinstance(node, ast.BinOp):
        if not isinstance(node.op, binops):
            raise TemplateError(f"Invalid BinOp: {_dump(node.op)}", line)
        rec(node.left)
        rec(node.right)
    elif isinstance(node, ast.Subscript):
        rec(node.value)
        if isinstance(node.slice, ast.Slice):
            for part in (node.slice.lower, node.slice.upper, node.slice.step):
                if part is not None:
                    rec(part)
        else:
            rec(node.slice)
    elif isinstance(node, ast.Dict):
        for key in node.keys:
            if key is None:
                raise TemplateError(f"Invalid expression type: {_dump(node)}", line)
            rec(key)
        for value in node.values:
            rec(value)
    elif isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        for elt in node.elts:
            if isinstance(elt, ast.Starred):
                raise TemplateError(f"Invalid expression type: {_dump(elt)}", line)
            rec(elt)
    elif isinstance(node, ast.JoinedStr):
        for value in node.values:
            rec(value)
    elif isinstance(node, ast.FormattedValue):
        if node.format_spec is not None:
            raise TemplateError(f"Invalid expression type: {_dump(node)}", line)
        rec(node.value)
    elif isinstance(node, ast.IfExp):
        rec(node.test)
        rec(node.body)
        rec(node.orelse)
    elif statement and isinstance(node, ast.Compare):
        rec(node.left)
        for comp in node.comparators:
            rec(comp)
    elif statement and isinstance(node, ast.BoolOp):
        for value in node.values:
            rec(value)
    else:
        raise TemplateError(f"Invalid expression type: {_dump(node)}", line)
