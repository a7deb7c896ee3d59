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
    if len(col) == 0:
        return []
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
    if isinstance(col, FixedColumn) and isinstance(t, T.FloatType):
        return float_texts(col.values, t.bits)
    if isinstance(col, FixedColumn) and isinstance(t, (T.DateType, T.Date32Type)):
        return col.values.astype(np.int64).astype("datetime64[D]").astype(str).tolist()
    if isinstance(col, FixedColumn) and isinstance(t, T.DateTimeType) and getattr(t, "timezone", None) in (None, "UTC"):
        # 'YYYY-MM-DDThh:mm:ss' (always 19 characters for DateTime's range); the T becomes a space in place
        u = col.values.astype(np.int64).astype("datetime64[s]").astype("U19")
        chars = u.view(np.uint32).reshape(len(u), 19).copy()
        chars[:, 10] = ord(" ")
        return chars.view("U19").ravel().tolist()
    if isinstance(t, T.StringType):
        return col.to_pylist()
    if getattr(t, "kind", None) == "nothing":
        return [None] * len(col)
    fmt = t.format_value
    return [fmt(v) for v in col.to_pylist()]


def float_texts(values: np.ndarray, bits: int) -> list:
    """ClickHouse's float text (types.format_float) for a whole array: numpy's shortest repr,
    with ``.0`` dropped; values numpy writes in exponent form, zeros and non-finite values go
    through format_float one by one."""
    out = [t[:-2] if t.endswith(".0") else t for t in values.astype(str).tolist()]
    with np.errstate(invalid="ignore"):
        special = ~np.isfinite(values) | (values == 0) | (np.abs(values) >= 1e15) | (np.abs(values) < 1e-4)
    special |= np.fromiter(("e" in t for t in out), bool, len(out))
    for i in np.flatnonzero(special).tolist():
        out[i] = T.format_float(float(values[i]), bits)
    return out


def is_quoted_type(t) -> bool:
    """Types whose values are strings in JSON / quoted in CSV."""
    t = t.unwrap() if hasattr(t, "unwrap") else t
    return isinstance(t, (T.StringType, T.FixedStringType, T.DateType, T.Date32Type, T.DateTimeType,
                          T.DateTime64Type, T.UUIDType))
