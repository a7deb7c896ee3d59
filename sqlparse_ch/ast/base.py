"""Base pieces shared by every AST node: the source span and the node base class."""
from __future__ import annotations

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
