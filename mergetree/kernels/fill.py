"""ORDER BY .. WITH FILL: the rows to insert, by ClickHouse's cursor rule (FillingTransform).

Per group of rows (equal in the ORDER BY columns before the filled one), over the sorted values
in "ascending key space" (the caller negates values, bounds and step for DESC):

    cursor = FROM if given else the group's first value
    for each row with value v:       fill cursor, cursor + step, .. while cursor < v (and < TO)
                                     emit the row; if v >= cursor: cursor = v + step
    at the group end, with TO:       fill while cursor < TO

The cursor advances by repeated addition (so float fills match ClickHouse bit for bit).
``fill_plan`` returns (source: the input row of every output row, or ``-1 - anchor`` for an
inserted row, anchor being a row of its group; values: the filled value of every output row). NULL rows
(``valid`` False) pass through without moving the cursor.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(nogil=True, cache=True)
def _fill_pass(values, valid, group_start, has_from, frm, has_to, to, step, source, out_values, write):
    n = values.shape[0]
    k = 0
    cursor = values[0] * 0
    started = False
    for r in range(n):
        if group_start[r]:
            if r > 0 and has_to and started:
                while cursor < to:
                    if write:
                        source[k] = -r
                        out_values[k] = cursor
                    k += 1
                    cursor = cursor + step
            started = False
            if has_from:
                cursor = frm
                started = True
        if valid[r]:
            v = values[r]
            if not started:
                cursor = v
                started = True
            while cursor < v and (not has_to or cursor < to):
                if write:
                    source[k] = -1 - r
                    out_values[k] = cursor
                k += 1
                cursor = cursor + step
            if v >= cursor:
                cursor = v + step
        if write:
            source[k] = r
            out_values[k] = values[r]
        k += 1
    if n > 0 and has_to and started:
        while cursor < to:
            if write:
                source[k] = -n
                out_values[k] = cursor
            k += 1
            cursor = cursor + step
    return k


def fill_plan(values: np.ndarray, valid: np.ndarray, group_start: np.ndarray, frm, to, step):
    """(source int64, values) for the output rows; `frm` / `to` None when not given."""
    if len(values) == 0:
        return np.zeros(0, np.int64), values[:0].copy()
    dt = values.dtype.type
    has_from, has_to = frm is not None, to is not None
    f, t, s = dt(frm if has_from else 0), dt(to if has_to else 0), dt(step)
    dummy_src, dummy_val = np.zeros(1, np.int64), np.zeros(1, values.dtype)
    total = _fill_pass(values, valid, group_start, has_from, f, has_to, t, s, dummy_src, dummy_val, False)
    source = np.empty(total, np.int64)
    out = np.empty(total, values.dtype)
    _fill_pass(values, valid, group_start, has_from, f, has_to, t, s, source, out, True)
    return source, out
