"""Window functions in the binder and the planner (ClickHouse 26.x semantics).

Binder hooks (planner/binder.py calls them):
- `resolve_named_windows`: ``OVER w`` / ``OVER (w ROWS ..)`` -> the WINDOW clause's spec.
- `check_no_windows`: no window function in WHERE / PREWHERE / GROUP BY / HAVING (ILLEGAL_AGGREGATION).
- `extract_windows`: every ``f(..) OVER (..)`` of SELECT / ORDER BY / QUALIFY becomes a column
  ``__win{i}``; the calls are kept in ``BoundSelect.windows``.

Planner hook `plan_windows`: Expression (arguments, partition and order keys) -> Window (one group
per distinct PARTITION BY + ORDER BY: one sort each) -> Filter (QUALIFY). Windows run after
GROUP BY / HAVING, so ``sum(count()) OVER ()`` works. The frame defaults to ClickHouse's
``RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW`` (all rows are peers without ORDER BY).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from sqlparse_ch.ast import expr as E

from mergetree import types as T
from mergetree.errors import BadArgumentsError, IllegalAggregationError, NotImplementedSQLError, NumberOfArgumentsError
from mergetree.planner.rewrite import transform, walk

#: window-only functions (case-insensitive), -> canonical name
WINDOW_FUNCTIONS = {n.lower(): n for n in (
    "row_number", "rank", "dense_rank", "percent_rank", "cume_dist", "ntile", "lag", "lead",
    "lagInFrame", "leadInFrame", "nth_value", "first_value_respect_nulls", "last_value_respect_nulls")}
#: functions that ignore the frame
FRAMELESS = {"row_number", "rank", "dense_rank", "percent_rank", "cume_dist", "ntile", "lag", "lead"}
#: standard names that are aggregates in ClickHouse (first_value skips NULLs like any)
AGGREGATE_ALIASES = {"first_value": "any", "last_value": "anyLast"}

DEFAULT_FRAME = E.WindowFrame("RANGE", E.FrameBound("UNBOUNDED PRECEDING"), E.FrameBound("CURRENT ROW"))


def _at(node) -> str:
    from mergetree.planner.binder import at

    return at(node)


# ---------------------------------------------------------------------------- naming


def window_text(over) -> str:
    """ClickHouse's spelling of an OVER clause in a column name (``OVER (ORDER BY x ASC)``)."""
    from mergetree.planner.naming import column_name

    if isinstance(over, str):
        return over
    parts = []
    if over.base:
        parts.append(over.base)
    if over.partition_by:
        parts.append("PARTITION BY " + ", ".join(column_name(p) for p in over.partition_by))
    if over.order_by:
        items = []
        for o in over.order_by:
            text = f"{column_name(o.expr)} {'DESC' if o.desc else 'ASC'}"
            if o.nulls:
                text += f" NULLS {o.nulls}"
            items.append(text)
        parts.append("ORDER BY " + ", ".join(items))
    if over.frame is not None:
        parts.append(frame_text(over.frame))
    return "(" + " ".join(parts) + ")"


def _bound_text(b) -> str:
    from mergetree.planner.naming import column_name

    if b.offset is not None:
        return f"{column_name(b.offset)} {b.kind}"
    return b.kind


def frame_text(f) -> str:
    end = f.end if f.end is not None else E.FrameBound("CURRENT ROW")
    return f"{f.unit} BETWEEN {_bound_text(f.start)} AND {_bound_text(end)}"


# ---------------------------------------------------------------------------- binder hooks


def is_window_call(node) -> bool:
    return isinstance(node, E.FunctionCall) and node.over is not None


def resolve_named_windows(q, outputs: list, order: list, qualify):
    """Replace window names by the specs of the WINDOW clause (a spec may extend a named one)."""
    named = {}
    for w in q.window:
        named[w.name] = _merge_base(w.spec, named, w)

    def fn(node):
        if is_window_call(node):
            spec = node.over
            if isinstance(spec, str):
                if spec not in named:
                    raise BadArgumentsError(f"Window '{spec}' does not exist{_at(node)}")
                spec = named[spec]
            elif spec.base is not None:
                spec = _merge_base(spec, named, node)
            args = tuple(transform(a, fn) for a in node.args)
            return dataclasses.replace(node, args=args, over=spec)
        return None

    outputs = [(n, transform(e, fn)) for n, e in outputs]
    order = [(transform(e, fn), d, nf) for e, d, nf in order]
    qualify = transform(qualify, fn) if qualify is not None else None
    return outputs, order, qualify


def _merge_base(spec, named: dict, node):
    if spec.base is None:
        return spec
    if spec.base not in named:
        raise BadArgumentsError(f"Window '{spec.base}' does not exist{_at(node)}")
    base = named[spec.base]
    if spec.partition_by:
        raise BadArgumentsError(f"Derived window '{spec.base}' cannot have PARTITION BY{_at(node)}")
    if base.frame is not None:
        raise BadArgumentsError(f"Window '{spec.base}' with a frame cannot be extended{_at(node)}")
    return E.WindowSpec(None, base.partition_by, spec.order_by or base.order_by, spec.frame, span=spec.span)


def check_no_windows(exprs: list, where: str) -> None:
    from mergetree.planner.naming import column_name

    for e in exprs:
        if e is None:
            continue
        for node in walk(e):
            if is_window_call(node):
                raise IllegalAggregationError(
                    f"Window function {column_name(node)} is found in {where} "
                    f"in query{_at(node)}")


def extract_windows(b):
    """Move the window calls of outputs / order / qualify into ``b.windows`` (``__win{i}``)."""
    calls: dict = {}

    def fn(node):
        if is_window_call(node):
            for a in node.args + node.params:
                check_no_windows([a], "argument of window function")
            check_no_windows(list(node.over.partition_by) + [o.expr for o in node.over.order_by],
                             "window definition")
            if node not in calls:
                calls[node] = f"__win{len(calls)}"
            return E.Identifier(calls[node], span=node.span)
        return None

    b.outputs = [(n, transform(e, fn)) for n, e in b.outputs]
    b.order = [(transform(e, fn), d, nf) for e, d, nf in b.order]
    if b.qualify is not None:
        b.qualify = transform(b.qualify, fn)
    b.windows = list(calls)
    return b


# ---------------------------------------------------------------------------- plan


@dataclass(eq=False)
class Frame:
    """A normalized frame: unit 'ROWS' | 'RANGE'; kinds as FrameBound.kind; numeric offsets."""

    unit: str
    start: str
    start_offset: Any
    end: str
    end_offset: Any

    def key(self):
        return (self.unit, self.start, self.start_offset, self.end, self.end_offset)

    def __str__(self):
        def b(kind, off):
            return f"{off} {kind}" if off is not None else kind
        return f"{self.unit} BETWEEN {b(self.start, self.start_offset)} AND {b(self.end, self.end_offset)}"


@dataclass(eq=False)
class WindowCall:
    output: str
    name: str                  # canonical window function name, or "aggregate"
    function: Any              # AggregateFunction for aggregates
    args: list                 # input column names
    params: tuple              # constants (offsets, n)
    type: Any
    frame: Frame
    text: str


@dataclass(eq=False)
class WindowGroup:
    """Calls sharing PARTITION BY and ORDER BY: one sort."""

    partition: list            # column names
    order: list                # [logical.SortItem]
    calls: list = field(default_factory=list)

    def describe(self) -> str:
        from mergetree.planner.logical import _sort_text

        calls = ", ".join(f"{c.output} := {c.text} {c.frame}" for c in self.calls)
        return f"partition=[{', '.join(self.partition)}] order=[{_sort_text(self.order)}] calls=[{calls}]"


def _const(e, what: str):
    from mergetree.exec.expression import evaluate_constant

    try:
        return evaluate_constant(e)
    except Exception:
        raise BadArgumentsError(f"{what} must be a constant expression, got {_name(e)}{_at(e)}") from None


def _name(e) -> str:
    from mergetree.planner.naming import column_name

    return column_name(e)


def _offset(b, what: str):
    if b.offset is None:
        return None
    if isinstance(b.offset, E.Interval):
        raise BadArgumentsError(f"Window frame {what} OFFSET expression must be constant with numeric type. "
                                f"Actual: {_name(b.offset)}{_at(b.offset)}")
    v, _ = _const(b.offset, what)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
        raise BadArgumentsError(f"Window frame {what} offset must be a non-negative number, got {_name(b.offset)}"
                                f"{_at(b.offset)}")
    if isinstance(v, int) and v >= 2**31 - 1:
        raise BadArgumentsError(f"Frame {what} offset must be a nonnegative 32-bit integer, '{v}' given"
                                f"{_at(b.offset)}")
    return v


def _frame(spec, node, order_types: list) -> Frame:
    f = spec.frame or DEFAULT_FRAME
    end = f.end if f.end is not None else E.FrameBound("CURRENT ROW")
    start_off, end_off = _offset(f.start, "start"), _offset(end, "end")
    if f.start.kind == "UNBOUNDED FOLLOWING":
        raise BadArgumentsError(f"Frame start cannot be UNBOUNDED FOLLOWING{_at(node)}")
    if end.kind == "UNBOUNDED PRECEDING":
        raise BadArgumentsError(f"Frame end cannot be UNBOUNDED PRECEDING{_at(node)}")
    if isinstance(start_off, float) or isinstance(end_off, float):
        which = "start" if isinstance(start_off, float) else "end"
        raise BadArgumentsError(f"Frame {which} offset for '{f.unit}' frame must be a nonnegative integer, "
                                f"'{start_off if which == 'start' else end_off}' given{_at(node)}")

    def position(kind, off):
        return {"UNBOUNDED PRECEDING": (0, 0), "PRECEDING": (1, -(off or 0)), "CURRENT ROW": (1, 0),
                "FOLLOWING": (1, off or 0), "UNBOUNDED FOLLOWING": (2, 0)}[kind]

    if position(f.start.kind, start_off) > position(end.kind, end_off):
        raise BadArgumentsError(f"Window frame '{frame_text(f)}' is invalid{_at(node)}")
    if f.unit == "ROWS":
        pass
    elif start_off is not None or end_off is not None:
        if len(order_types) != 1:
            raise BadArgumentsError(f"The RANGE OFFSET window frame requires exactly one ORDER BY column, "
                                    f"{len(order_types)} given{_at(node)}")
        from mergetree.functions import values as V

        t = V.strip(order_types[0])
        if not isinstance(t, (T.IntType, T.FloatType, T.DateType, T.Date32Type, T.DateTimeType)):
            raise NotImplementedSQLError(f"The RANGE OFFSET frame for '{order_types[0]}' ORDER BY column is not "
                                    f"supported{_at(node)}")
        if isinstance(t, T.IntType):
            import numpy as np

            top = np.iinfo(t.dtype).max
            for off in (start_off, end_off):
                if off is not None and off > top:
                    from mergetree.errors import ArgumentOutOfBoundError

                    raise ArgumentOutOfBoundError(f"Cannot convert value '{off}': it cannot be represented as "
                                                  f"{t}{_at(node)}")
    return Frame(f.unit, f.start.kind, start_off, end.kind, end_off)


def plan_windows(planner, plan, b):
    """Expression(window inputs) -> Window -> Filter(QUALIFY) over `plan`."""
    from mergetree.planner import logical as L
    from mergetree.planner.naming import column_name

    types = plan.types()
    exprs: list = []
    named: dict = {}

    def column(e) -> str:
        if isinstance(e, E.Identifier) and e.table is None and e.name in types:
            return e.name
        if e not in named:
            named[e] = f"__wx{len(named)}"
            exprs.append((named[e], e))
        return named[e]

    pending = []
    for i, node in enumerate(b.windows):
        spec = node.over
        partition = [column(p) for p in spec.partition_by]
        order = [L.SortItem(column(o.expr), o.desc, o.nulls == "FIRST") for o in spec.order_by]
        pending.append((i, node, partition, order))
    arg_cols = {i: [column(a) for a in _value_args(node)] for i, node, _, _ in pending}
    if exprs:
        plan = planner._expression(plan, exprs)
    types = plan.types()

    groups: dict = {}
    for i, node, partition, order in pending:
        order_types = [types[o.column] for o in order]
        name = node.name
        canon = WINDOW_FUNCTIONS.get(name.lower())
        frame = _frame(node.over, node, order_types)
        text = column_name(node)
        args = arg_cols[i]
        arg_types = [types[a] for a in args]
        if canon is not None:
            call = _window_function(canon, node, args, arg_types, frame, order, text)
        else:
            call = _aggregate_call(node, args, arg_types, frame, text)
        call.output = f"__win{i}"
        key = (tuple(partition), tuple((o.column, o.desc, o.nulls_first) for o in order))
        if key not in groups:
            groups[key] = WindowGroup(partition, order)
        groups[key].calls.append(call)
    plan = L.Window(plan, list(groups.values()))
    if b.qualify is not None:
        from mergetree.planner.planner import _check_filter

        _check_filter(b.qualify, plan.types(), "QUALIFY")
        plan = L.Filter(plan, b.qualify)
    return plan


def plan_qualify(plan, b):
    """QUALIFY without window functions: a filter after HAVING."""
    from mergetree.planner import logical as L
    from mergetree.planner.planner import _check_filter

    _check_filter(b.qualify, plan.types(), "QUALIFY")
    return L.Filter(plan, b.qualify)


def _value_args(node) -> list:
    """The arguments evaluated as columns (constant offsets / n stay in params)."""
    canon = WINDOW_FUNCTIONS.get(node.name.lower())
    if canon in ("lag", "lead", "lagInFrame", "leadInFrame"):
        # value, [offset], [default]: default may be an expression
        args = list(node.args)
        return [args[0]] + (args[2:3] if len(args) > 2 else []) if args else []
    if canon in ("nth_value", "first_value_respect_nulls", "last_value_respect_nulls"):
        return list(node.args[:1])
    if canon is not None:
        return []
    return list(node.args)


def _window_function(canon, node, args, arg_types, frame, order, text) -> WindowCall:
    from mergetree.functions import values as V

    n_args = len(node.args)
    expected = {"row_number": (0, 0), "rank": (0, 0), "dense_rank": (0, 0), "percent_rank": (0, 0),
                "cume_dist": (0, 0), "ntile": (1, 1), "lag": (1, 3), "lead": (1, 3), "lagInFrame": (1, 3),
                "leadInFrame": (1, 3), "nth_value": (2, 2), "first_value_respect_nulls": (1, 1),
                "last_value_respect_nulls": (1, 1)}[canon]
    if not expected[0] <= n_args <= expected[1]:
        raise NumberOfArgumentsError(f"Number of arguments for window function {canon} doesn't match: passed "
                                     f"{n_args}, should be {expected[0]}"
                                     + (f" to {expected[1]}" if expected[1] != expected[0] else "") + _at(node))
    if canon in ("lag", "lead") and node.over.frame is not None:
        raise BadArgumentsError(f"Window function '{canon}' does not expect window frame to be explicitly "
                                f"specified. In expression {text}{_at(node)}")
    params: tuple = ()
    f = node.over.frame
    if canon in ("ntile", "percent_rank", "cume_dist") and f is not None and not (
            f.start.kind == "UNBOUNDED PRECEDING" and f.end is not None and f.end.kind == "UNBOUNDED FOLLOWING"
            and (canon == "ntile" or f.unit == "RANGE")):
        raise BadArgumentsError(f"Unsupported window frame type for function '{canon}'{_at(node)}")
    if canon == "ntile":
        v, _ = _const(node.args[0], "Argument of 'ntile'")
        if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
            raise BadArgumentsError(f"Argument of 'ntile' function must be greater than zero{_at(node)}")
        if not order:
            raise BadArgumentsError(f"Unsupported window frame type for function 'ntile'{_at(node)}")
        params = (v,)
        return WindowCall("", canon, None, [], params, T.UInt64, frame, text)
    if canon in ("row_number", "rank", "dense_rank"):
        return WindowCall("", canon, None, [], (), T.UInt64, frame, text)
    if canon in ("percent_rank", "cume_dist"):
        return WindowCall("", canon, None, [], (), T.Float64, frame, text)
    value_type = arg_types[0]
    if canon in ("first_value_respect_nulls", "last_value_respect_nulls"):   # NULL values are values
        return WindowCall("", canon, None, args[:1], (), value_type, frame, text)
    if canon == "nth_value":
        v, _ = _const(node.args[1], "Offset of nth_value")
        if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
            raise BadArgumentsError(f"Offset of nth_value must be a positive integer, got {_name(node.args[1])}"
                                    f"{_at(node)}")
        return WindowCall("", canon, None, args[:1], (v,), value_type, frame, text)
    offset = 1
    if n_args >= 2:
        offset, _ = _const(node.args[1], f"The offset for function {canon}")
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0 or \
                (canon in ("lagInFrame", "leadInFrame") and offset == 0):
            raise BadArgumentsError(f"The offset for function {canon} must be in (0, 9223372036854775807], "
                                    f"{_name(node.args[1])} given{_at(node)}")
    if n_args == 3:
        from mergetree.planner.planner import _common_type

        default_type = arg_types[1]
        try:
            common = _common_type(V.strip_lc(value_type), V.strip_lc(default_type))
        except Exception:
            common = None
        if common is None or V.strip_lc(common) != V.strip_lc(value_type):
            raise BadArgumentsError(f"The supertype '{common}' for the argument type '{value_type}' and the default "
                                    f"value type '{default_type}' is not the same as the argument type{_at(node)}")
    return WindowCall("", canon, None, args, (offset,), value_type, frame, text)


def _aggregate_call(node, args, arg_types, frame, text) -> WindowCall:
    from mergetree.functions.aggregate import get_aggregate
    from mergetree.planner.binder import with_position

    name = AGGREGATE_ALIASES.get(node.name.lower(), node.name)
    if node.distinct:
        name = "uniqExact" if name.lower() == "count" else name + "Distinct"
    params = tuple(p.value if isinstance(p, E.Literal) else p for p in node.params)
    try:
        fn = get_aggregate(name, arg_types, params)
    except Exception as err:
        raise with_position(err, node)
    return WindowCall("", "aggregate", fn, args, params, fn.type, frame, text)
