"""Which parameters a template uses, with their types and metadata (for pipe `params` and
OpenAPI), following Tinybird's discovery rules (TINYBIRD.md C.4, last paragraph):

- `T(x, default, required=..., description=..., example=..., enum=..., format=...)` for a
  parameter type T declares `x` with type T (the default may be the 2nd positional
  argument; for `Array(x, 'Int32', default)` the 3rd, and the type is `Array(Int32)`).
  `Int(x)` / `Integer(x)` declare an `Int32`.
- `defined(x)`, `column(x)`, `columns(x)`, `split_to_array(x)`, `day_diff(x, ...)`, ...
  mention `x` as a `String` used only inside a function (not required for rendering).
- any other bare name is a `String` parameter without default.
- names bound by `{% set %}` and `{% for %}` are template locals, not parameters.
- the type found in a `{{ }}` expression wins over one found in a `{% %}` statement; the
  first typed mention wins over later ones.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass

from .functions import PARAMETER_TYPES
from .syntax import Expr, For, If, Set, Template

_CUSTOM_FUNCTIONS = {"defined", "column", "columns", "day_diff", "date_diff_in_seconds",
                     "date_diff_in_minutes", "date_diff_in_hours", "date_diff_in_days",
                     "split_to_array", "enumerate_with_last", "sql_and"}
_META = ("required", "description", "example", "enum", "format")


@dataclass(frozen=True)
class ParamInfo:
    name: str
    type: str = "String"
    default: object = None
    required: bool = False
    description: str | None = None
    example: object = None
    enum: object = None
    format: str | None = None
    used_in: str | None = None     # 'function_call' when only seen in defined()/column()/...
    line: int | None = None

    def to_dict(self) -> dict:
        """Tinybird's pipe `params` entry: name, type, default, description, required,
        example, enum, format."""
        return {"name": self.name, "type": self.type, "default": self.default,
                "description": self.description, "required": self.required,
                "example": self.example, "enum": self.enum, "format": self.format}


def _literal(node):
    """A metadata argument's value (Tinybird's node_to_value, simplified)."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_literal(e) for e in node.elts]
    if isinstance(node, ast.UnaryOp) and isinstance(node.operand, ast.Constant) \
            and isinstance(node.operand.value, (int, float)):
        return -node.operand.value if isinstance(node.op, ast.USub) else node.operand.value
    if isinstance(node, ast.BinOp):
        return _literal(node.left) or _literal(node.right)
    return None


def _default(node):
    """Defaults are literal values; a name there is not a value."""
    if isinstance(node, ast.Name):
        return None
    value = _literal(node)
    if isinstance(value, int) and not isinstance(value, bool) and value > 9007199254740991:
        return str(value)
    return value


class _Collector:
    def __init__(self, local_names: set[str]):
        self.found: dict[str, ParamInfo] = {}
        self.typed: set[str] = set()
        self.locals = local_names

    def add(self, info: ParamInfo, typed: bool):
        if info.name in self.locals:
            return
        if info.name not in self.found or typed and info.name not in self.typed:
            self.found[info.name] = info
        if typed:
            self.typed.add(info.name)

    def walk(self, tree: ast.AST, line: int):
        for node, parent in _walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                self._call(node, line)
            elif isinstance(node, ast.Name) and not isinstance(parent, ast.Call):
                self.add(ParamInfo(node.id, line=line), typed=False)

    def _call(self, node: ast.Call, line: int):
        func = node.func.id
        if not node.args or not isinstance(node.args[0], ast.Name):
            return
        name = node.args[0].id
        kwargs = {kw.arg: kw.value for kw in node.keywords if kw.arg}
        meta = {k: _literal(kwargs[k]) for k in _META if k in kwargs}
        if func in _CUSTOM_FUNCTIONS:
            self.add(ParamInfo(name, used_in="function_call", line=line), typed=False)
            return
        if func == "Array":
            elem = _literal(node.args[1]) if len(node.args) > 1 else None
            if "default" in kwargs:
                default = _default(kwargs["default"])
            else:
                default = _default(node.args[2]) if len(node.args) > 2 else None
                default = default or None
            type_ = f"Array({elem})" if isinstance(elem, str) else "Array(String)"
        elif func in PARAMETER_TYPES or func in ("Int", "Integer", "bool"):
            type_ = {"Int": "Int32", "Integer": "Int32", "bool": "Boolean"}.get(func, func)
            if "default" in kwargs:
                default = _default(kwargs["default"])
            else:
                default = _default(node.args[1]) if len(node.args) > 1 else None
        else:
            self.add(ParamInfo(name, line=line), typed=False)
            return
        self.add(ParamInfo(name, type_, default, required=bool(meta.get("required")),
                           description=_str_or_none(meta.get("description")),
                           example=meta.get("example"), enum=meta.get("enum"),
                           format=_str_or_none(meta.get("format")), line=line), typed=True)


def _str_or_none(v):
    return None if v is None else str(v)


def _walk(tree: ast.AST):
    """Breadth-first (source order) walk yielding (node, parent)."""
    queue = [(tree, None)]
    i = 0
    while i < len(queue):
        node, parent = queue[i]
        i += 1
        yield node, parent
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.keyword):
                queue.append((child.value, child))
            elif isinstance(node, ast.Call) and child is node.func:
                continue
            else:
                queue.append((child, node))


def local_names(template: Template) -> set[str]:
    names: set[str] = set()

    def targets(t):
        if isinstance(t, ast.Name):
            names.add(t.id)
        elif isinstance(t, (ast.Tuple, ast.List)):
            for e in t.elts:
                targets(e)

    def visit(chunks):
        for c in chunks:
            if isinstance(c, Set):
                targets(c.targets)
            elif isinstance(c, For):
                targets(c.target)
                visit(c.body)
                visit(c.else_body or ())
            elif isinstance(c, If):
                for _cond, _src, _line, body in c.branches:
                    visit(body)
                visit(c.else_body or ())
    visit(template.body)
    return names


def collect_parameters(template: Template) -> list[ParamInfo]:
    col = _Collector(local_names(template))
    statements: list[tuple[ast.AST, int]] = []

    def visit(chunks):
        for c in chunks:
            if isinstance(c, Expr):
                col.walk(c.tree, c.line)
            elif isinstance(c, If):
                for cond, _src, line, body in c.branches:
                    visit(body)
                    statements.append((cond, line))
                visit(c.else_body or ())
            elif isinstance(c, For):
                visit(c.body)
                visit(c.else_body or ())
                statements.append((c.iterable, c.line))
            elif isinstance(c, Set):
                statements.append((c.value, c.line))
    visit(template.body)
    for tree, line in statements:
        col.walk(tree, line)
    return list(col.found.values())


def all_names(template: Template):
    """Every (name, line) read anywhere in the template (for reserved-name checks)."""
    out = []

    def add_tree(tree, line):
        for node in ast.walk(tree):
            if isinstance(node, ast.Name):
                out.append((node.id, line))

    def visit(chunks):
        for c in chunks:
            if isinstance(c, Expr):
                add_tree(c.tree, c.line)
            elif isinstance(c, If):
                for cond, _src, line, body in c.branches:
                    add_tree(cond, line)
                    visit(body)
                visit(c.else_body or ())
            elif isinstance(c, For):
                add_tree(c.iterable, c.line)
                add_tree(c.target, c.line)
                visit(c.body)
                visit(c.else_body or ())
            elif isinstance(c, Set):
                add_tree(c.value, c.line)
                add_tree(c.targets, c.line)
    visit(template.body)
    return out
