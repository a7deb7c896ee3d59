"""Per-query execution context: settings, the statistics ClickHouse reports (rows_read,
bytes_read, elapsed), and the query's limits:

- ``max_execution_time`` (seconds, 0 = none): checked between blocks by every operator (the
  executor wraps each operator's output with `checked`) and between granule-range read tasks, so
  a query stops within one block's work of its deadline: ``TIMEOUT_EXCEEDED``.
- cancellation: ``db.sql(text, cancel=event)`` (a ``threading.Event``); setting the event stops
  the query at the next check with ``QUERY_WAS_CANCELLED``.
- ``max_memory_usage`` (bytes, 0 = none): the big allocations report themselves with `track`:
  blocks materialised by blocking operators (`aggregate.collect`: sort buffers, a join's build
  side, window and DISTINCT inputs, the result) and an aggregation's per-block keys and partial
  states. Their sum over the query (an upper bound of what it holds at once: nothing is
  released) past the limit raises ``MEMORY_LIMIT_EXCEEDED``, naming the operator.

One `QueryLimits` is shared by a statement and everything it runs (subqueries planned and run
by the planner create their own ExecutionContext and pick it up through a context variable).
`sql.execute` opens the scope with `query_scope(settings, cancel)`.
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from mergetree.errors import MergeTreeError


class MemoryLimitExceededError(MergeTreeError):
    """A query's tracked allocations exceed ``max_memory_usage``."""

    code = "MEMORY_LIMIT_EXCEEDED"


class TimeoutExceededError(MergeTreeError):
    """A query ran longer than ``max_execution_time``."""

    code = "TIMEOUT_EXCEEDED"


class QueryWasCancelledError(MergeTreeError):
    """The query's cancel handle was set (``cancel.set()``, a client that went away)."""

    code = "QUERY_WAS_CANCELLED"


def readable_size(n: float) -> str:
    """ClickHouse's formatReadableSize: 50331648 -> '48.00 MiB'."""
    units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
    i = 0
    while abs(n) >= 1024 and i < len(units) - 1:
        n /= 1024
        i += 1
    return f"{n:.2f} {units[i]}"


def _number(value, name: str) -> float:
    try:
        return float(value or 0)
    except (TypeError, ValueError):
        from mergetree.errors import BadArgumentsError

        raise BadArgumentsError(f"Setting {name} must be a number, got {value!r}") from None


class QueryLimits:
    """Deadline, cancel handle and memory accounting of one statement (thread-safe)."""

    def __init__(self, settings: dict | None = None, cancel: threading.Event | None = None):
        settings = settings or {}
        self.max_memory = int(_number(settings.get("max_memory_usage"), "max_memory_usage"))
        self.max_time = _number(settings.get("max_execution_time"), "max_execution_time")
        self.cancel = cancel
        self.started = time.perf_counter()
        self.memory = 0
        self.peak = 0
        self._lock = threading.Lock()
        #: id(expression AST) -> its bound form, for this statement (exec/expression.py `bind`): the
        #: planner, the key condition and the scan bind the same WHERE; bound once, ``now()`` is one value
        self.bound: dict = {}

    @property
    def active(self) -> bool:
        return bool(self.max_time or self.cancel is not None)

    def check(self) -> None:
        """Raise if the query was cancelled or ran past max_execution_time."""
        if self.cancel is not None and self.cancel.is_set():
            raise QueryWasCancelledError("Query was cancelled")
        if self.max_time:
            elapsed = time.perf_counter() - self.started
            if elapsed > self.max_time:
                raise TimeoutExceededError(f"Timeout exceeded: elapsed {elapsed * 1000:.3f} ms, "
                                           f"maximum: {self.max_time * 1000:.3f} ms")

    def track(self, nbytes: int, what: str) -> None:
        """Account `nbytes` more held by the query (by operator `what`)."""
        if nbytes <= 0:
            return
        with self._lock:
            would = self.memory + nbytes
            if self.max_memory and would > self.max_memory:
                raise MemoryLimitExceededError(
                    f"Query memory limit exceeded: would use {readable_size(would)} (attempt to allocate chunk "
                    f"of {readable_size(nbytes)} bytes), maximum: {readable_size(self.max_memory)}: "
                    f"while executing {what}. Raise max_memory_usage (SET max_memory_usage = ...) or "
                    f"make the query read less")
            self.memory = would
            self.peak = max(self.peak, would)

    def release(self, nbytes: int) -> None:
        with self._lock:
            self.memory = max(0, self.memory - nbytes)


_CURRENT: ContextVar[QueryLimits | None] = ContextVar("mergetree_query_limits", default=None)


def current_limits() -> QueryLimits | None:
    return _CURRENT.get()


@contextmanager
def query_scope(settings: dict | None = None, cancel: threading.Event | None = None):
    """The limits of one statement, visible to every ExecutionContext created inside. A scope
    nested in another (a statement run by a statement) shares the outer deadline, cancel handle
    and memory budget."""
    outer = _CURRENT.get()
    if outer is not None and cancel is None:
        yield outer
        return
    limits = QueryLimits(settings, cancel)
    token = _CURRENT.set(limits)
    try:
        limits.check()
        yield limits
    finally:
        _CURRENT.reset(token)


def check() -> None:
    """`QueryLimits.check` of the current statement (no-op outside one)."""
    limits = _CURRENT.get()
    if limits is not None:
        limits.check()


def track(nbytes: int, what: str) -> None:
    """`QueryLimits.track` of the current statement (no-op outside one)."""
    limits = _CURRENT.get()
    if limits is not None:
        limits.track(nbytes, what)


def block_nbytes(block) -> int:
    total = 0
    for col in block.columns.values():
        try:
            total += int(col.nbytes)
        except (NotImplementedError, AttributeError, TypeError):
            pass
    return total


def columns_nbytes(columns) -> int:
    total = 0
    for col in columns:
        try:
            total += int(col.nbytes)
        except (NotImplementedError, AttributeError, TypeError):
            pass
    return total


@dataclass
class ExecutionContext:
    settings: dict = field(default_factory=dict)
    rows_read: int = 0
    bytes_read: int = 0
    started: float = field(default_factory=time.perf_counter)
    #: rows before the outermost LIMIT (JSON's rows_before_limit_at_least)
    rows_before_limit: int | None = None
    #: deadline, cancel handle and memory accounting (the current statement's, else from settings)
    limits: QueryLimits | None = None

    def __post_init__(self):
        if self.limits is None:
            self.limits = _CURRENT.get() or QueryLimits(self.settings)

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def check(self) -> None:
        self.limits.check()

    def track(self, nbytes: int, what: str) -> None:
        self.limits.track(nbytes, what)

    def checked(self, blocks):
        """`blocks` with the deadline and cancel handle checked before each one is passed on
        (`blocks` itself when the statement has neither)."""
        limits = self.limits
        if not limits.active:
            return blocks
        return self._checked(blocks, limits)

    @staticmethod
    def _checked(blocks, limits):
        limits.check()
        for b in blocks:
            limits.check()
            yield b

    def statistics(self) -> dict:
        return {"elapsed": self.elapsed, "rows_read": self.rows_read, "bytes_read": self.bytes_read}
