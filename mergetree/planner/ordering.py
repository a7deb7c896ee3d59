"""ORDER BY .. WITH FILL, LIMIT .. WITH TIES and DISTINCT ON in the binder and the planner.

- `distinct_on(binder, q, items, limit_by)`: ``DISTINCT ON (a, b)`` is ``LIMIT 1 BY a, b`` (ClickHouse).
- `plan_fill(plan, b)`: a Fill node after the Sort (exec/fill.py). FROM / TO are cast to the column
  type; STEP is a number (days for Date, seconds for DateTime) or an INTERVAL (calendar units for
  MONTH / QUARTER / YEAR); its sign must match the direction (INVALID_WITH_FILL_EXPRESSION). The
  output columns equal to the filled ORDER BY expression get the filled values too.
- `plan_limit(plan, b)`: Limit, or LimitWithTies (no top-N rewrite) for ``LIMIT n WITH TIES``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlparse_ch.ast import expr as E

from mergetree import types as T
from mergetree.errors import MergeTreeError, NotImplementedSQLError


class InvalidWithFillExpressionError(MergeTreeError):
    code = "INVALID_WITH_FILL_EXPRESSION"


def distinct_on(binder, q, items, limit_by):
    if limit_by is not None:
        raise NotImplementedSQLError("DISTINCT ON together with LIMIT BY is not supported")
    return (1, 0, [binder.expand(binder._positional(x, items, "DISTINCT ON")) for x in q.distinct_on])


class FillItems(list):
    """[(order index, WithFill)], plus the INTERPOLATE clause (`interpolate`, as parsed)."""

    interpolate = None


def fill_items(q) -> list:
    out = FillItems((i, o.with_fill) for i, o in enumerate(q.order_by) if o.with_fill is not None)
    out.interpolate = q.interpolate
    return out


def interpolate_without_fill(q) -> bool:
    return q.interpolate is not None and not any(o.with_fill is not None for o in q.order_by)


def _interpolations(b, fill_outputs: set) -> list:
    """INTERPOLATE items -> [(target column, expression over output columns)]: ``v AS expr`` gives
    an inserted row `expr` of the row before it; a bare INTERPOLATE repeats every other output."""
    from mergetree.errors import UnknownIdentifierError
    from mergetree.planner.rewrite import transform

    spec = getattr(b.fill, "interpolate", None)
    if spec is None:
        return []
    by_name = {}
    for j, (name, _) in enumerate(b.outputs):
        by_name.setdefault(name, f"__out{j}")
    if spec == ():
        return [(col, E.Identifier(col)) for name, col in by_name.items() if col not in fill_outputs]

    def rename(node):
        if isinstance(node, E.Identifier):
            if node.name not in by_name:
                raise UnknownIdentifierError(node.name)
            return E.Identifier(by_name[node.name])
        return None

    out = []
    for item in spec:
        name, expr = (item.name, item.expr) if isinstance(item, E.Alias) else (item.name, item)
        if name not in by_name:
            raise UnknownIdentifierError(name)
        out.append((by_name[name], transform(expr, rename)))
    return out


@dataclass(eq=False)
class FillItem:
    column: str                 # the sort column (__ord{i})
    desc: bool
    from_: Any                  # value in the column's key space (days, seconds, number) or None
    to: Any
    step: Any                   # number, or ("month", n) for calendar steps
    mirrors: list               # output columns holding the same expression
    prefix: list                # sort columns before this one (the fill runs within their groups)
    keep: list                  # columns an inserted row copies from its group (prefix + their mirrors)

    def describe(self) -> str:
        parts = [f"{self.column}{' DESC' if self.desc else ''}"]
        for name, v in (("FROM", self.from_), ("TO", self.to), ("STEP", self.step)):
            if v is not None:
                parts.append(f"{name} {v}")
        return " ".join(parts)


_CALENDAR = {"MONTH": 1, "QUARTER": 3, "YEAR": 12}
_SECONDS = {"SECOND": 1, "MINUTE": 60, "HOUR": 3600, "DAY": 86400, "WEEK": 7 * 86400}


def _key_value(expr, t):
    """A constant cast to column type `t`, in the column's numeric key space."""
    from mergetree.column import Block
    from mergetree.exec.expression import evaluate, evaluate_constant
    from mergetree.functions import values as V

    inner = V.strip(t)
    if isinstance(inner, T.IntType) and not inner.signed:
        v, _ = evaluate_constant(expr)
        if isinstance(v, (int, float)) and not isinstance(v, bool) and v < 0:
            raise InvalidWithFillExpressionError(f"WITH FILL bound values cannot be negative for unsigned type {inner}")
    try:
        col = evaluate(E.Cast(expr, inner.name), Block({}, 1))
    except MergeTreeError as err:
        raise InvalidWithFillExpressionError(f"WITH FILL bound {_text(expr)} is not a constant of type {inner}: "
                                             f"{err}") from None
    v = col.values[0]
    return v.item() if hasattr(v, "item") else v


def _text(e) -> str:
    from mergetree.planner.naming import column_name

    return column_name(e)


def _step(wf, t, desc: bool):
    from mergetree.exec.expression import evaluate_constant
    from mergetree.functions import values as V

    inner = V.strip(t)
    step = wf.step
    if step is None:
        return -1 if desc else 1
    if isinstance(step, E.Interval):
        n, _ = evaluate_constant(step.value)
        unit = step.unit.upper()
        if isinstance(inner, T.DateType) or isinstance(inner, T.Date32Type):
            if unit in ("DAY", "WEEK"):
                value = n * (7 if unit == "WEEK" else 1)
            elif unit in _CALENDAR:
                value = ("month", n * _CALENDAR[unit])
            else:
                raise InvalidWithFillExpressionError(f"WITH FILL STEP INTERVAL {unit} is not valid for {t}")
        elif isinstance(inner, T.DateTime64Type):
            scale = 10 ** inner.precision
            subsecond = {"MILLISECOND": 3, "MICROSECOND": 6, "NANOSECOND": 9}
            if unit in _SECONDS:
                value = n * _SECONDS[unit] * scale
            elif unit in subsecond and subsecond[unit] <= inner.precision:
                value = n * 10 ** (inner.precision - subsecond[unit])
            elif unit in _CALENDAR:
                value = ("month", n * _CALENDAR[unit])
            else:
                raise InvalidWithFillExpressionError(f"WITH FILL STEP INTERVAL {unit} is not supported for {t}")
        elif isinstance(inner, T.DateTimeType):
            if unit in _SECONDS:
                value = n * _SECONDS[unit]
            elif unit in _CALENDAR:
                value = ("month", n * _CALENDAR[unit])
            else:
                raise InvalidWithFillExpressionError(f"WITH FILL STEP INTERVAL {unit} is not valid for {t}")
        else:
            raise InvalidWithFillExpressionError(f"WITH FILL STEP INTERVAL needs a Date or DateTime column, got {t}")
    else:
        value, _ = evaluate_constant(step)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InvalidWithFillExpressionError(f"WITH FILL STEP must be a number or an INTERVAL, got {_text(step)}")
        if isinstance(inner, T.DateTime64Type):     # a number of seconds, in ticks
            value = int(round(value * 10 ** inner.precision))
    n = value[1] if isinstance(value, tuple) else value
    if n == 0:
        raise InvalidWithFillExpressionError("WITH FILL STEP value cannot be zero")
    if n < 0 and not desc:
        raise InvalidWithFillExpressionError("WITH FILL STEP value cannot be negative for sorting in ascending "
                                             "direction")
    if n > 0 and desc:
        raise InvalidWithFillExpressionError("WITH FILL STEP value cannot be positive for sorting in descending "
                                             "direction")
    return value


def plan_fill(plan, b):
    from mergetree.functions import values as V
    from mergetree.planner import logical as L

    types = plan.types()
    items = []
    for i, wf in b.fill:
        column = f"__ord{i}"
        t = types[column]
        inner = V.strip(t)
        if not isinstance(inner, (T.IntType, T.FloatType, T.DateType, T.Date32Type, T.DateTimeType,
                                  T.DateTime64Type)):
            raise InvalidWithFillExpressionError(f"WITH FILL can be used only with numeric, Date or DateTime "
                                                 f"columns, got {t}")
        desc = b.order[i][1]
        frm = _key_value(wf.from_, t) if wf.from_ is not None else None
        to = _key_value(wf.to, t) if wf.to is not None else None
        expr = b.order[i][0]
        mirrors = [f"__out{j}" for j, (_, e) in enumerate(b.outputs) if e == expr]
        prefix = [f"__ord{j}" for j in range(i)]
        keep = prefix + [f"__out{j}" for j, (_, e) in enumerate(b.outputs)
                         if any(e == b.order[p][0] for p in range(i)) and f"__out{j}" not in mirrors]
        items.append(FillItem(column, desc, frm, to, _step(wf, t, desc), mirrors, prefix, keep))
    node = L.Fill(plan, items)
    node.interpolate = _interpolations(b, {m for it in items for m in it.mirrors})
    return node


def plan_limit(plan, b):
    from mergetree.planner import logical as L

    if isinstance(plan, L.Fill):     # rows_before_limit counts the rows before the filling (ClickHouse)
        plan.reports_rows_before_limit = True

    if b.with_ties and b.order:
        return L.LimitWithTies(plan, b.limit, b.offset, [f"__ord{i}" for i in range(len(b.order))])
    return L.Limit(plan, b.limit, b.offset)
