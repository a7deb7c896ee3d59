"""The engine side of Tinybird's write pipes: ``TYPE materialized`` nodes and copy pipes.

Everything here works on a :class:`mergetree.database.Database` and a ``compile_node(pipe, node,
params) -> statement AST`` callable (the server passes ``server.pipes.compile_pipe``, which inlines
earlier nodes and other pipes as subqueries, so a view whose SELECT reads another pipe triggers on
that pipe's data source, as in Tinybird).

* :func:`apply_pipe_views` (embedded use; the server's ``project.ensure_materialized_views`` does the
  same through SQL): every ``TYPE materialized`` node with ``DATASOURCE target`` becomes a
  materialized view named like its pipe (``views.py``: an insert trigger); re-applying creates new
  ones, replaces changed ones and drops the pipe views that left the pipes. :func:`populate_node`
  backfills one.
* :func:`run_copy`: a copy node's SELECT (with parameters; template defaults apply) inserted into
  ``TARGET_DATASOURCE``: ``COPY_MODE append`` inserts (the target's own views trigger), ``replace``
  swaps the target's whole content atomically (``MergeTreeTable.replace_contents``).
* :class:`CopySchedule` / :func:`next_run`: ``COPY_SCHEDULE`` as 5-field cron (``*/15 * * * *``,
  ranges, lists, steps; UTC, as Tinybird) or ``@on-demand`` / ``@hourly`` / ``@daily`` ...
"""

from __future__ import annotations

import datetime as dt
import logging
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Callable

from mergetree.errors import BadArgumentsError, MergeTreeError, UnknownTableError

log = logging.getLogger("mergetree.copy")

PIPE_VIEW_KIND = "pipe"


def view_name(pipe: str, node: str) -> str:
    """The materialized view a ``TYPE materialized`` node becomes: named like its pipe (a pipe has
    one materialized node, as in Tinybird; ``server/project.py`` creates it that way)."""
    return pipe


def _type(node) -> str:
    return (node.type or "").lower()


def materialized_nodes(pipes) -> list[tuple]:
    return [(p, n) for p in _pipes(pipes) for n in p.nodes if _type(n) == "materialized"]


def copy_node(pipe):
    """The ``TYPE copy`` node of a pipe, or None."""
    return next((n for n in pipe.nodes if _type(n) == "copy"), None)


def _pipes(pipes) -> list:
    if hasattr(pipes, "snapshot"):
        pipes = pipes.snapshot()
    return list(pipes.values()) if isinstance(pipes, dict) else list(pipes)


# --------------------------------------------------------------------------- materialized nodes


def apply_pipe_views(db, pipes, compile_node: Callable) -> dict:
    """Make the database's pipe views match the pipes' ``TYPE materialized`` nodes."""
    from sqlparse_ch import format_sql

    wanted, errors = {}, {}
    for pipe, node in materialized_nodes(pipes):
        name = view_name(pipe.name, node.name)
        try:
            if not node.datasource:
                raise BadArgumentsError(f"node '{node.name}' of pipe '{pipe.name}' is TYPE materialized "
                                        f"but has no DATASOURCE")
            wanted[name] = (node.datasource, format_sql(compile_node(pipe, node, {})))
        except Exception as e:  # noqa: BLE001 - one bad pipe does not stop the others
            errors[name] = str(e)
    report = {"created": [], "replaced": [], "unchanged": [], "dropped": [], "errors": {}}
    for v in db.views.all():
        if v.kind == PIPE_VIEW_KIND and v.name not in wanted and v.name not in errors:
            db.views.drop(v.name, if_exists=True)
            report["dropped"].append(v.name)
    for name, (target, sql) in wanted.items():
        old = db.views.get(name) if name in db.views else None
        if old is not None and (old.target, old.query) == (target, sql):
            report["unchanged"].append(name)
            continue
        try:
            db.views.create(name, target, sql, or_replace=True, kind=PIPE_VIEW_KIND)
        except MergeTreeError as e:
            errors[name] = str(e)
            continue
        report["replaced" if old is not None else "created"].append(name)
    report["errors"] = errors
    for name, err in errors.items():
        log.warning("materialized node %s not applied: %s", name, err)
    return report


def populate_node(db, pipe: str, node: str, truncate: bool = False) -> int:
    """``POST /v0/pipes/P/nodes/N/population``: backfill the node's view; source rows read."""
    name = view_name(pipe, node)
    if name not in db.views:
        raise UnknownTableError(f"Node '{node}' of pipe '{pipe}' is not a materialized node")
    return db.populate_view(name, truncate=truncate)


# --------------------------------------------------------------------------- copy pipes


def fit_block(db, target: str, result, what: str):
    """A query Result as a block of table `target` (columns matched by name, cast; missing ones
    get the type default), as materialized views do."""
    from mergetree.column import Block, default_column
    from mergetree.exec.cast import cast_column as _cast

    table = db.table(target)
    produced = {n: c for (n, _), c in zip(result.schema, result.column_data)}
    n = len(result.column_data[0]) if result.column_data else 0
    if produced and not set(produced) & {c for c, _ in table.metadata.schema}:
        raise BadArgumentsError(f"{what}: the query returns none of the columns of {target} "
                                f"({', '.join(produced)})")
    return Block({c: _cast(produced[c], t) if c in produced else default_column(t, n)
                  for c, t in table.metadata.schema}, n)


def run_copy(db, pipe, compile_node: Callable, params: dict | None = None, *, mode: str | None = None,
             lock=None) -> dict:
    """Run a copy pipe once; ``{"rows", "mode", "target"}``. ``lock`` (e.g. the server's write lock)
    is held only around the write."""
    from mergetree.sql import execute

    node = copy_node(pipe)
    if node is None:
        raise BadArgumentsError(f"Pipe '{pipe.name}' is not a copy pipe (no TYPE copy node)")
    target = node.target_datasource
    if not target:
        raise BadArgumentsError(f"Copy node '{node.name}' of pipe '{pipe.name}' has no TARGET_DATASOURCE")
    mode = (mode or node.copy_mode or "append").lower()
    if mode not in ("append", "replace"):
        raise BadArgumentsError(f"COPY_MODE must be append or replace, got '{mode}'")
    result = execute(db, compile_node(pipe, node, dict(params or {})))
    block = fit_block(db, target, result, f"copy pipe {pipe.name}")
    with lock or nullcontext():
        if mode == "append":
            db.insert(target, block)
        else:
            db.replace(target, block)      # crash-atomic, cascades to the target's views
    return {"rows": block.num_rows, "mode": mode, "target": target}


# --------------------------------------------------------------------------- schedules

_ALIASES = {"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
            "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *"}
_RANGES = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 6)]


def parse_cron(expr: str) -> list[set[int]] | None:
    """The allowed values of minute, hour, day of month, month, day of week; None = on demand."""
    text = (expr or "").strip()
    if not text or text.lower() in ("@on-demand", "@on_demand", "on-demand"):
        return None
    text = _ALIASES.get(text.lower(), text)
    fields = text.split()
    if len(fields) != 5:
        raise BadArgumentsError(f"COPY_SCHEDULE '{expr}' must be a cron expression with 5 fields "
                                f"(minute hour day-of-month month day-of-week) or @on-demand")
    out = []
    for field, (lo, hi) in zip(fields, _RANGES):
        allowed: set[int] = set()
        for item in field.split(","):
            rng, _, step = item.partition("/")
            try:
                step_n = int(step) if step else 1
                if rng == "*":
                    a, b = lo, hi
                elif "-" in rng:
                    a, b = (int(x) for x in rng.split("-", 1))
                else:
                    a = b = int(rng)
                    if step:
                        b = hi
            except ValueError:
                raise BadArgumentsError(f"COPY_SCHEDULE '{expr}': cannot read '{item}'") from None
            if hi == 6 and b == 7:          # Sunday as 7
                b = 6 if a <= 6 else 0
                allowed.add(0)
            if a < lo or b > hi or a > b or step_n <= 0:
                raise BadArgumentsError(f"COPY_SCHEDULE '{expr}': '{item}' is out of range {lo}-{hi}")
            allowed.update(range(a, b + 1, step_n))
        out.append(allowed)
    return out


def next_run(expr: str, after: dt.datetime) -> dt.datetime | None:
    """The first minute strictly after `after` (UTC) matching the cron expression."""
    spec = parse_cron(expr)
    if spec is None:
        return None
    minutes, hours, days, months, weekdays = spec
    dom_any, dow_any = len(days) == 31, len(weekdays) == 7
    t = after.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
    limit = t + dt.timedelta(days=366 * 5)
    while t < limit:
        if t.month not in months:
            t = (t.replace(day=1, hour=0, minute=0) + dt.timedelta(days=32)).replace(day=1)
            continue
        dom_ok, dow_ok = t.day in days, (t.isoweekday() % 7) in weekdays
        day_ok = (dom_ok and dow_ok) if (dom_any or dow_any) else (dom_ok or dow_ok)   # cron's OR rule
        if not day_ok:
            t = t.replace(hour=0, minute=0) + dt.timedelta(days=1)
            continue
        if t.hour not in hours:
            t = t.replace(minute=0) + dt.timedelta(hours=1)
            continue
        if t.minute not in minutes:
            t += dt.timedelta(minutes=1)
            continue
        return t
    return None


@dataclass
class CopySchedule:
    """When each scheduled copy pipe runs next (``due(now)`` returns the pipes to run now)."""

    def __post_init__(self):
        self._next: dict[tuple[str, str], dt.datetime | None] = {}

    def due(self, pipes, now: dt.datetime) -> list:
        out, seen = [], set()
        for pipe in _pipes(pipes):
            node = copy_node(pipe)
            if node is None or not node.copy_schedule:
                continue
            key = (pipe.name, node.copy_schedule)
            seen.add(key)
            if key not in self._next:
                self._next[key] = next_run(node.copy_schedule, now)
            when = self._next[key]
            if when is not None and when <= now:
                out.append(pipe)
                self._next[key] = next_run(node.copy_schedule, now)
        for key in set(self._next) - seen:
            del self._next[key]
        return out
