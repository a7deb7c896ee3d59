"""Per-column text of values as ClickHouse's text serialization writes them (before the
format-specific escaping): numbers, dates, Decimal, UUID, arrays in ``[1,2]`` / ``['a','b']`` form.

Columns are converted whole: integers through numpy's vectorized int -> str, everything else
through the type's ``format_value`` on the column's Python values. NULL is ``None``.
"""

from __future__ import annotations

import numpy as np

from mergetree import types as T
from mergetree.column import FixedColumn, LowCardinalityColumn, NullableColumn


def column_texts(col) -> list:
    """Text of every value (str), None for NULL."""
    if isinstance(col, LowCardinalityColumn):
        texts = column_texts(col.dictionary)
        return [texts[c] for c in col.codes.tolist()]
    if isinstance(col, NullableColumn):
        inner = column_texts(col.values)
        if col.nulls.any():
            for i in np.flatnonzero(col.nulls).tolist():
                inner[i] = None
        return inner
    t = col.type
    if isinstance(col, FixedColumn) and isinstance(t, T.IntType):
        return col.values.astype(str).tolist()
    if isinstance(t, T.StringType):
        return col.to_pylist()
    if getattr(t, "kind", None) == "nothing":
        return [None] * len(col)
    fmt = t.format_value
    return [fmt(v) for v in col.to_pylist()]


def is_quoted_type(t) -> bool:
    """Types whose values are strings in JSON / quoted in CSV."""
    t = t.unwrap() if hasattr(t, "unwrap") else t
    return isinstance(t, (T.StringType, T.FixedStringType, T.DateType, T.Date32Type, T.DateTimeType,
                          T.DateTime64Type, T.UUIDType))
