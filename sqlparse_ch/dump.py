"""A stable, readable AST dump for golden files.

One node per line: the class name followed by its scalar fields (`name='a'`), then
its child nodes indented under `field:` labels. Fields equal to their default and
spans are omitted, so the dump changes only when the tree does.

    >>> print(dump(parse_expr("a + 1")))
    BinaryOp op='+'
      left: Identifier name='a'
      right: Literal value=1
"""
from __future__ import annotations

import dataclasses

from .ast.base import Node


def _is_tree(value) -> bool:
    if isinstance(value, Node):
        return True
    if isinstance(value, tuple):
        return any(_is_tree(v) for v in value)
    return False


def _scalar(value) -> str:
    if isinstance(value, float) and value != value:
        return "nan"
    if isinstance(value, tuple):
        return "(" + ", ".join(_scalar(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    return repr(value)


def _dump(node, indent: str, out: list[str], label: str) -> None:
    if isinstance(node, tuple):
        out.append(f"{indent}{label}")
        for item in node:
            if isinstance(item, tuple) and not _is_tree(item):
                out.append(f"{indent}  - {_scalar(item)}")
            elif isinstance(item, tuple):
                _dump(item, indent + "  ", out, "- (tuple)")
            elif isinstance(item, Node):
                _dump(item, indent + "  ", out, "- ")
            else:
                out.append(f"{indent}  - {_scalar(item)}")
        return
    scalars = []
    children = []
    for f in dataclasses.fields(node):
        if f.name == "span":
            continue
        value = getattr(node, f.name)
        default = f.default if f.default is not dataclasses.MISSING else dataclasses.MISSING
        if default is not dataclasses.MISSING and value == default and type(value) is type(default):
            continue
        if _is_tree(value):
            children.append((f.name, value))
        else:
            scalars.append(f"{f.name}={_scalar(value)}")
    head = type(node).__name__ + ("" if not scalars else " " + " ".join(scalars))
    out.append(f"{indent}{label}{head}")
    for name, value in children:
        if isinstance(value, tuple):
            _dump(value, indent + "  ", out, f"{name}:")
        else:
            _dump(value, indent + "  ", out, f"{name}: ")


def dump(node) -> str:
    """Readable multi-line dump of an AST node (or a list of statements)."""
    out: list[str] = []
    if isinstance(node, list):
        for stmt in node:
            _dump(stmt, "", out, "")
        return "\n".join(out)
    _dump(node, "", out, "")
    return "\n".join(out)
