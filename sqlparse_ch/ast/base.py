"""Base pieces shared by every AST node: the source span and the node base class."""
from __future__ import annotations

import dataclasses
from typing import NamedTuple


class Span(NamedTuple):
    """Where a node came from in the source text.

    `start`/`end` are character offsets (end exclusive), `line`/`column` are 1-based and
    point at `start`. The end of a node whose last source token is a closing bracket or
    keyword that the grammar filters out (e.g. `)` of a call) stops at its last kept
    token; statement spans from `parse_many` are exact.
    """

    start: int
    end: int
    line: int
    column: int

    def merge(self, other: "Span | None") -> "Span":
        if other is None:
            return self
        if other.start < self.start:
            return Span(other.start, max(self.end, other.end), other.line, other.column)
        return Span(self.start, max(self.end, other.end), self.line, self.column)


class Node:
    """Marker base class for every AST node (all are frozen slots dataclasses)."""

    __slots__ = ()


_FIELD_NAMES: dict = {}


def field_names(cls) -> tuple:
    """The field names of AST node class ``cls``, in order (``dataclasses.fields`` once per class)."""
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names


_POSITIONAL: dict = {}


def replaced(node, **changes):
    """``dataclasses.replace(node, **changes)``, calling the class positionally (half the cost) when
    every field is an __init__ argument and there is no __post_init__ (all AST nodes)."""
    cls = type(node)
    ok = _POSITIONAL.get(cls)
    if ok is None:
        ok = _POSITIONAL[cls] = all(f.init for f in dataclasses.fields(cls)) and not hasattr(cls, "__post_init__")
    if not ok:
        return dataclasses.replace(node, **changes)
    return cls(*[changes[n] if n in changes else getattr(node, n) for n in field_names(cls)])
