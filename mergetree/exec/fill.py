"""Fill (ORDER BY .. WITH FILL) and LimitWithTies (LIMIT n WITH TIES) operators.

Fill runs once per WITH FILL column, left to right, over the sorted block: groups are the runs of
equal values of the sort columns before it (so a second filled column is filled inside each value
of the first, the inserted rows of the first included). kernels/fill.fill_plan gives, per output
row, its input row or -1 for an inserted one; inserted rows take type defaults (NULL when Nullable)
except the filled column and the output columns holding the same expression. Values are handled in
the column's numeric key space (days of a Date, seconds of a DateTime); DESC negates values,
bounds and step. Calendar steps (INTERVAL n MONTH / QUARTER / YEAR) advance a Python cursor with
ClickHouse's addMonths (day clamped to the month's end) -- a loop over the output rows, meant for
the small results of aggregations.

INTERPOLATE (``v AS expr``): an inserted row takes ``expr`` over the row before it, evaluated in
rounds of equal distance from the last input row (a bare ``v`` repeats the last input value).
"""

from __future__ import annotations

import calendar
import datetime as _dt

import numpy as np

from sqlparse_ch.ast import expr as E

from mergetree import types as T
from mergetree.column import Block, Column, FixedColumn, NullableColumn, default_column
from mergetree.exec.aggregate import collect


def run_fill(node, ctx, children):
    (child,) = children
    block = collect(child, node.child.schema)
    if getattr(node, "reports_rows_before_limit", False) and ctx.rows_before_limit is None:
        ctx.rows_before_limit = block.num_rows
    interpolate = getattr(node, "interpolate", None)
    if interpolate:
        block = Block({**block.columns, _ROW: _row_numbers(block.num_rows)}, block.num_rows)
    for item in node.items:
        block = fill_column(block, item)
    if interpolate:
        block = _interpolate(block, interpolate)
    yield block


#: marks the input rows while filling (inserted rows get the default 0, input rows their number + 1)
_ROW = "__fill_row"


def _row_numbers(n: int) -> Column:
    return FixedColumn(T.Int64, np.arange(1, n + 1, dtype=np.int64))


def _interpolate(block: Block, items: list) -> Block:
    """INTERPOLATE: every inserted row takes ``expr`` evaluated over the row before it (which may
    be an inserted row too: run lengths give the order of evaluation); before the first input row
    the "row before" is a row of type defaults (as ClickHouse)."""
    from mergetree.exec.expression import evaluate
    from mergetree.exec.cast import cast_column as _cast

    n = block.num_rows
    inserted = block[_ROW].values == 0
    out = {k: v for k, v in block.columns.items() if k != _ROW}
    if not inserted.any():
        return Block(out, n)
    # position 0: a virtual row of defaults; block row i is position i + 1
    cols = {k: Column.concat([default_column(c.type, 1), c]) for k, c in out.items()}
    real = np.concatenate([[True], ~inserted])
    pos = np.arange(n + 1, dtype=np.int64)
    last_real = np.maximum.accumulate(np.where(real, pos, 0))
    depth = pos - last_real
    copies = [(t, e) for t, e in items if isinstance(e, E.Identifier) and e.name == t]
    others = [(t, e) for t, e in items if (t, e) not in copies]
    for target, _ in copies:            # `v AS v`: the last input row's value, repeated
        cols[target] = cols[target].take(last_real)
    for d in range(1, int(depth.max()) + 1 if others else 1):
        rows = np.flatnonzero(depth == d)
        prev = Block({k: c.take(rows - 1) for k, c in cols.items()}, len(rows))
        new = {}
        for target, expr in others:
            value = evaluate(expr, prev)
            if value.type != cols[target].type:
                value = _cast(value, cols[target].type)
            new[target] = value
        index = pos.copy()
        index[rows] = n + 1 + np.arange(len(rows), dtype=np.int64)
        for target, value in new.items():
            cols[target] = Column.concat([cols[target], value]).take(index)
    return Block({k: c.slice(1, n + 1) for k, c in cols.items()}, n)


def _group_starts(block: Block, prefix: list) -> np.ndarray:
    n = block.num_rows
    starts = np.zeros(n, np.bool_)
    if n:
        starts[0] = True
    if prefix and n > 1:
        from mergetree.kernels.groupby import group_rows

        ids = group_rows([block[c] for c in prefix])[0]
        starts[1:] = ids[1:] != ids[:-1]
    return starts


def _key_values(col: Column):
    """(inner column, numeric values, valid mask)."""
    if hasattr(col, "dictionary"):
        col = col.decode()
    if isinstance(col, NullableColumn):
        return col.values, col.values.values, ~col.nulls
    return col, col.values, np.ones(len(col), np.bool_)


def fill_column(block: Block, item) -> Block:
    from mergetree.kernels.fill import fill_plan

    if block.num_rows == 0:
        return _fill_empty(block, item)
    col = block[item.column]
    inner, values, valid = _key_values(col)
    starts = _group_starts(block, item.prefix)
    if isinstance(item.step, tuple):
        source, filled = _calendar_plan(inner, values, valid, starts, item)
    else:
        kind = values.dtype.kind
        work = values.astype(np.float64 if kind == "f" else np.int64)
        frm, to, step = item.from_, item.to, item.step
        if item.desc:
            work = -work
            frm = -frm if frm is not None else None
            to = -to if to is not None else None
            step = -step
        source, filled = fill_plan(work, valid, starts, frm, to, step)
        if item.desc:
            filled = -filled
        filled = filled.astype(values.dtype)
    inserted = source < 0
    k = int(inserted.sum())
    if k == 0:
        return block
    n = block.num_rows
    anchors = -1 - source[inserted]          # a row of the inserted row's group
    index = source.copy()
    index[inserted] = n + np.arange(k, dtype=np.int64)
    new_values = FixedColumn(inner.type, np.ascontiguousarray(filled[inserted], dtype=values.dtype))
    cols = {}
    for name, c in block.columns.items():
        if name in item.keep:               # the group's sort columns (and their output copies)
            add = c.take(anchors)
        elif name == item.column or name in item.mirrors:
            add = new_values
            if isinstance(c, NullableColumn):
                add = NullableColumn(c.type, new_values, np.zeros(k, np.bool_))
            elif hasattr(c, "dictionary"):
                c = c.decode()
            if add.type != c.type:     # a mirror of another type: keep defaults
                add = default_column(c.type, k)
        else:
            add = default_column(c.type, k)
        cols[name] = Column.concat([c, add]).take(index)
    return Block(cols, len(index))


def _fill_empty(block: Block, item) -> Block:
    """No rows: FROM .. TO still gives the filled rows (a ClickHouse quirk kept), one group."""
    if item.from_ is None or item.to is None or isinstance(item.step, tuple) or item.prefix:
        return block
    col = block[item.column]
    inner, values, _ = _key_values(col)
    out, cursor, sign = [], item.from_, (-1 if item.desc else 1)
    while (cursor < item.to if sign > 0 else cursor > item.to) and len(out) < 10_000_000:
        out.append(cursor)
        cursor = cursor + item.step
    if not out:
        return block
    k = len(out)
    filled = FixedColumn(inner.type, np.array(out, dtype=values.dtype))
    cols = {}
    for name, c in block.columns.items():
        if name == item.column or name in item.mirrors:
            cols[name] = NullableColumn(c.type, filled, np.zeros(k, np.bool_)) if isinstance(c, NullableColumn) \
                else filled if filled.type == c.type else default_column(c.type, k)
        else:
            cols[name] = default_column(c.type, k)
    return Block(cols, k)


# ---------------------------------------------------------------------------- calendar steps


def _add_months(d: _dt.date, months: int) -> _dt.date:
    m = d.month - 1 + months
    y, m = d.year + m // 12, m % 12 + 1
    return d.replace(year=y, month=m, day=min(d.day, calendar.monthrange(y, m)[1]))


def _calendar_plan(inner, values, valid, starts, item):
    """The cursor rule of kernels/fill.py with month steps (Date days or DateTime seconds)."""
    is_date = isinstance(inner.type, (T.DateType, T.Date32Type))
    scale = 10 ** inner.type.precision if isinstance(inner.type, T.DateTime64Type) else 1
    months = item.step[1]
    epoch = _dt.datetime(1970, 1, 1)

    def advance(v):
        if is_date:
            return (_add_months(_dt.date(1970, 1, 1) + _dt.timedelta(days=int(v)), months) - _dt.date(1970, 1, 1)).days
        secs, frac = divmod(int(v), scale)      # DateTime64: whole seconds and the sub-second ticks
        t = epoch + _dt.timedelta(seconds=secs)
        d = _add_months(t.date(), months)
        return int((_dt.datetime.combine(d, t.time()) - epoch).total_seconds()) * scale + frac

    sign = -1 if item.desc else 1
    less = (lambda a, b: a < b) if sign > 0 else (lambda a, b: a > b)
    src, out = [], []
    vals = values.tolist()
    cursor, started = None, False
    for r, v in enumerate(vals):
        if starts[r]:
            if r > 0 and item.to is not None and started:
                while less(cursor, item.to):
                    src.append(-r)
                    out.append(cursor)
                    cursor = advance(cursor)
            started = item.from_ is not None
            cursor = item.from_
        if valid[r]:
            if not started:
                cursor, started = v, True
            while less(cursor, v) and (item.to is None or less(cursor, item.to)):
                src.append(-1 - r)
                out.append(cursor)
                cursor = advance(cursor)
            if not less(v, cursor):
                cursor = advance(v)
        src.append(r)
        out.append(v)
    if vals and item.to is not None and started:
        while less(cursor, item.to):
            src.append(-len(vals))
            out.append(cursor)
            cursor = advance(cursor)
    return np.array(src, np.int64), np.array(out, dtype=values.dtype)


# ---------------------------------------------------------------------------- WITH TIES


def run_limit_ties(node, ctx, children):
    """The first `limit` rows after `offset`, plus the following rows equal to the last one in
    every ORDER BY column."""
    (child,) = children
    block = collect(child, node.child.schema)
    n = block.num_rows
    if ctx.rows_before_limit is None:
        ctx.rows_before_limit = n
    start = min(node.offset, n)
    end = n if node.limit is None else min(n, start + node.limit)
    if node.limit and end < n and end > start:
        from mergetree.kernels.groupby import group_rows

        ids = group_rows([block[c] for c in node.columns])[0]
        different = np.flatnonzero(ids[end:] != ids[end - 1])
        end = end + int(different[0]) if len(different) else n
    yield block.slice(start, end) if (start, end) != (0, n) else block
