"""Generic helpers over the sqlparse_ch expression AST (frozen dataclasses).

These run for every node of every query's AST, several times while binding and planning, so the
per-node work is a dict lookup by type: `_kind` classifies a value's type once (node / tuple /
leaf) and `_field_names` lists a node class's fields once (without ``span``)."""

from __future__ import annotations

import dataclasses
from typing import Callable

from sqlparse_ch.ast import expr as E


_FIELD_NAMES: dict = {}
#: type -> 1 (an AST node: a dataclass instance), 2 (a tuple: its items are walked), 0 (a leaf)
_KINDS: dict = {}
_SUBQUERY = E.Subquery


def _kind(t) -> int:
    k = _KINDS.get(t)
    if k is None:
        # a node = dataclasses.is_dataclass(x) and not isinstance(x, type), decided once per type
        k = _KINDS[t] = 1 if hasattr(t, "__dataclass_fields__") else 2 if issubclass(t, tuple) else 0
    return k


def _is_node(x) -> bool:
    return _kind(type(x)) == 1


def _field_names(cls) -> tuple:
    """The node class's field names except ``span`` (cached per class)."""
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in dataclasses.fields(cls) if f.name != "span")
    return names


def _add_items(items, out: list) -> None:
    kinds = _KINDS
    for y in items:
        k = kinds.get(type(y))
        if k is None:
            k = _kind(type(y))
        if k == 1:
            out.append(y)
        elif k == 2:
            _add_items(y, out)


def children(e) -> list:
    """The direct sub-expressions of a node (in tuples too, e.g. function args, CASE branches)."""
    cls = type(e)
    if cls is _SUBQUERY:
        return []
    out: list = []
    kinds = _KINDS
    names = _FIELD_NAMES.get(cls)
    if names is None:
        if _kind(cls) != 1:
            return out
        names = _field_names(cls)
    for name in names:
        x = getattr(e, name)
        k = kinds.get(type(x))
        if k is None:
            k = _kind(type(x))
        if k == 1:
            out.append(x)
        elif k == 2:
            _add_items(x, out)
    return out


def transform(e, fn: Callable):
    """Bottom-up unless `fn` returns a node for `e` itself: ``fn(node) -> replacement or None``;
    None means "keep the node and transform its children". A node none of whose children changed
    is returned as is (the same object)."""
    cls = type(e)
    k = _KINDS.get(cls)
    if k is None:
        k = _kind(cls)
    if k != 1:
        return e
    replaced = fn(e)
    if replaced is not None:
        return replaced
    if cls is _SUBQUERY:
        return e
    changes = None
    kinds = _KINDS
    for name in _FIELD_NAMES.get(cls) or _field_names(cls):
        v = getattr(e, name)
        vk = kinds.get(type(v))
        if vk is None:
            vk = _kind(type(v))
        if vk == 0:
            continue
        nv = transform(v, fn) if vk == 1 else _transform_tuple(v, fn)
        if nv is not v:
            if changes is None:
                changes = {}
            changes[name] = nv
    return dataclasses.replace(e, **changes) if changes else e


def _transform_tuple(v, fn):
    items = None
    kinds = _KINDS
    for i, x in enumerate(v):
        k = kinds.get(type(x))
        if k is None:
            k = _kind(type(x))
        if k == 0:
            continue
        nx = transform(x, fn) if k == 1 else _transform_tuple(x, fn)
        if nx is not x:
            if items is None:
                items = list(v)
            items[i] = nx
    return v if items is None else tuple(items)


def walk(e):
    """Pre-order iterator over a node and all its sub-expressions (not into subqueries)."""
    stack = [e]
    pop, extend = stack.pop, stack.extend
    kinds, field_names = _KINDS, _FIELD_NAMES
    while stack:
        node = pop()
        yield node
        cls = type(node)
        if cls is _SUBQUERY:
            continue
        names = field_names.get(cls)
        if names is None:
            if _kind(cls) != 1:
                continue
            names = _field_names(cls)
        kids = []
        for name in names:          # = children(node), inlined: this runs for every node
            x = getattr(node, name)
            k = kinds.get(type(x))
            if k is None:
                k = _kind(type(x))
            if k == 1:
                kids.append(x)
            elif k == 2:
                _add_items(x, kids)
        if kids:
            kids.reverse()
            extend(kids)


def has_call(e, name: str) -> bool:
    """Whether ``e`` calls the function ``name`` (not inside subqueries): ``any(walk(e))`` without
    the generator and the child lists."""
    stack = [e]
    pop, push = stack.pop, stack.append
    kinds, field_names = _KINDS, _FIELD_NAMES
    call = E.FunctionCall
    while stack:
        node = pop()
        cls = type(node)
        k = kinds.get(cls)
        if k is None:
            k = _kind(cls)
        if k == 2:
            for x in node:
                push(x)
            continue
        if k != 1 or cls is _SUBQUERY:
            continue
        if isinstance(node, call) and node.name == name:
            return True
        for f in field_names.get(cls) or _field_names(cls):
            x = getattr(node, f)
            if x is not None and (kinds.get(type(x)) or _kind(type(x))) != 0:
                push(x)
    return False


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
