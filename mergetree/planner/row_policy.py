"""Row policies: a condition ANDed into every read of a table, at any depth of a query.

The HTTP service uses them for the ``filter`` of a ``DATASOURCES:READ`` scope (a JWT or a static
token): ``{"events": "user_id = 'u1'"}`` makes every scan of ``events`` (the top-level FROM, a
subquery, a CTE, an IN / scalar subquery, each side of a UNION or a JOIN, a pipe's nodes) read
only the matching rows, as ClickHouse's ``CREATE ROW POLICY ... USING cond`` does.

How: ``execute(..., row_policies=)`` (``mergetree/sql.py``) installs the mapping for the
duration of the statement (:func:`applied`, a context variable, so concurrent queries on other
threads are unaffected); ``Planner`` reads it (:func:`current`) and ``Planner._source`` calls
:func:`apply` on every ``ReadFromMergeTree`` it makes, which puts a ``Filter`` right on top of the
scan. The optimizer's ``push_filter_into_scan`` then moves it into the scan's ``where``
(primary-key and partition pruning still apply), ANDed before the query's own WHERE. No rule can
drop the filter: with every rule disabled the ``Filter`` node stays.

The condition is bound against the table's columns only (not the query's aliases), so a query
cannot change what it means by defining an alias with the same name as a column.
"""

from __future__ import annotations

import contextlib
import contextvars
from typing import Iterator, Mapping

_POLICIES: contextvars.ContextVar[Mapping[str, str] | None] = contextvars.ContextVar("mergetree_row_policies",
                                                                                     default=None)
#: tables whose policy is being bound right now (a policy's own subquery reads its table unfiltered)
_BINDING: contextvars.ContextVar[frozenset] = contextvars.ContextVar("mergetree_row_policy_binding",
                                                                     default=frozenset())


def current() -> Mapping[str, str] | None:
    """The row policies of the statement running on this thread (None: no policy)."""
    return _POLICIES.get()


@contextlib.contextmanager
def applied(policies: Mapping[str, str] | None) -> Iterator[None]:
    """Install ``{table: condition}`` for the statement run inside the ``with`` block.

    Policies nest: an inner call ANDs its conditions with the outer ones, never loosens them.
    """
    if not policies:
        yield
        return
    outer = _POLICIES.get() or {}
    merged = dict(outer)
    for table, cond in policies.items():
        merged[table] = f"({merged[table]}) AND ({cond})" if table in merged else cond
    token = _POLICIES.set(merged)
    try:
        yield
    finally:
        _POLICIES.reset(token)


def apply(planner, scan, table: str, policies: Mapping[str, str] | None):
    """``scan`` (a ReadFromMergeTree of ``table``) under a Filter of the table's policy, if any."""
    if not policies or table not in policies or table in _BINDING.get():
        return scan
    from sqlparse_ch import parse_expr

    from mergetree.errors import BadArgumentsError
    from mergetree.planner import logical as L
    from mergetree.planner.binder import SelectBinder
    from mergetree.planner.planner import _check_filter

    text = policies[table]
    try:
        cond = parse_expr(text)
    except ValueError as e:
        raise BadArgumentsError(f"Invalid row filter of table {table} '{text}': {e}") from None
    token = _BINDING.set(_BINDING.get() | {table})
    try:
        binder = SelectBinder(scan.schema, {table}, None,
                              run_subquery=lambda q: planner.run_subquery(q, {}))
        predicate = binder._no_aggregates(binder.expand(cond), "row filter")
        _check_filter(predicate, scan.types(), "row filter")
    finally:
        _BINDING.reset(token)
    return L.Filter(scan, predicate)
