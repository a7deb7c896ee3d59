"""Generic helpers over the sqlparse_ch expression AST (frozen dataclasses)."""

from __future__ import annotations

import dataclasses
from typing import Callable

from sqlparse_ch.ast import expr as E


_FIELD_NAMES: dict = {}


def _is_node(x) -> bool:
    # = dataclasses.is_dataclass(x) and not isinstance(x, type), without its per-call overhead
    return hasattr(type(x), "__dataclass_fields__")


def _field_names(cls) -> tuple:
    """The node class's field names except ``span`` (cached per class: this runs for every node
    of every query's AST, several times while binding and planning)."""
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in dataclasses.fields(cls) if f.name != "span")
    return names


def children(e) -> list:
    """The direct sub-expressions of a node (in tuples too, e.g. function args, CASE branches)."""
    out = []

    def add(x):
        if _is_node(x):
            out.append(x)
        elif isinstance(x, tuple):
            for y in x:
                add(y)

    if isinstance(e, E.Subquery):
        return out
    for name in _field_names(type(e)):
        add(getattr(e, name))
    return out


def transform(e, fn: Callable):
    """Bottom-up unless `fn` returns a node for `e` itself: ``fn(node) -> replacement or None``;
    None means "keep the node and transform its children"."""
    if not _is_node(e):
        return e
    replaced = fn(e)
    if replaced is not None:
        return replaced
    if isinstance(e, E.Subquery):
        return e
    changes = {}
    for name in _field_names(type(e)):
        v = getattr(e, name)
        nv = _transform_value(v, fn)
        if nv is not v:
            changes[name] = nv
    return dataclasses.replace(e, **changes) if changes else e


def _transform_value(v, fn):
    if _is_node(v):
        return transform(v, fn)
    if isinstance(v, tuple):
        items = tuple(_transform_value(x, fn) for x in v)
        return items if any(a is not b for a, b in zip(items, v)) else v
    return v


def walk(e):
    """Pre-order iterator over a node and all its sub-expressions (not into subqueries)."""
    stack = [e]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(children(node)))


def identifiers(e) -> set[str]:
    """Names of the columns `e` reads (a lambda's parameters are not columns)."""
    out = set()
    stack = [(e, frozenset())]
    while stack:
        node, scope = stack.pop()
        if isinstance(node, E.Identifier):
            if not (node.table is None and node.name in scope):
                out.add(node.name)
            continue
        if isinstance(node, E.Lambda):
            scope = scope | set(node.params)
        stack.extend((c, scope) for c in children(node))
    return out


def and_all(preds: list):
    preds = [p for p in preds if p is not None]
    if not preds:
        return None
    out = preds[0]
    for p in preds[1:]:
        out = E.BinaryOp("AND", out, p)
    return out
