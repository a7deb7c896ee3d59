"""Result -> Apache Arrow table (``res.to_arrow()``, FORMAT Parquet) and pandas DataFrame
(``res.to_pandas()``). pyarrow and pandas are optional extras; without them these raise an
ImportError that says what to install.

Types, following ClickHouse's Arrow/Parquet output: (U)Int8..64 -> (u)int8..64, Float32/64 ->
float/double, Bool -> bool, String -> string (utf8; ``binary`` when a value is not valid UTF-8),
FixedString(N) -> fixed_size_binary(N), Date/Date32 -> date32, DateTime -> timestamp[s, tz],
DateTime64(p) -> timestamp[ms/us/ns, tz], Decimal(P, S) -> decimal128(P, S), UUID -> uuid,
Nullable(T) -> T with nulls, Array(T) -> list<T>, LowCardinality(T) -> dictionary<int, T>.
Numeric, String and Array columns are converted without Python objects per value (buffers are
handed to Arrow); the other types go through the column's Python values.
"""

from __future__ import annotations

import numpy as np

from mergetree import types as T


def require_pyarrow(what: str, module: str = "pyarrow"):
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise ImportError(f"{what} needs pyarrow, which is not installed: pip install pyarrow "
                          f"(or pip install \"mergetree[bench]\")") from None


def arrow_type(t):
    pa = require_pyarrow("to_arrow()")
    if isinstance(t, T.NullableType):
        return arrow_type(t.inner)
    if isinstance(t, T.LowCardinalityType):
        return pa.dictionary(pa.int32(), arrow_type(t.inner))
    if isinstance(t, T.BoolType):
        return pa.bool_()
    if isinstance(t, T.IntType):
        if t.bits > 64:
            return pa.fixed_size_binary(t.bits // 8)
        return pa.from_numpy_dtype(t.dtype)
    if isinstance(t, T.FloatType):
        return pa.float32() if t.bits == 32 else pa.float64()
    if isinstance(t, T.StringType):
        return pa.string()
    if isinstance(t, T.FixedStringType):
        return pa.binary(t.length)
    if isinstance(t, (T.DateType, T.Date32Type)):
        return pa.date32()
    if isinstance(t, T.DateTimeType):
        return pa.timestamp("s", tz=t.timezone or "UTC")
    if isinstance(t, T.DateTime64Type):
        unit = "ms" if t.precision <= 3 else "us" if t.precision <= 6 else "ns"
        return pa.timestamp(unit, tz=t.timezone or "UTC")
    if isinstance(t, T.DecimalType):
        return pa.decimal128(t.precision, t.scale)
    if isinstance(t, T.UUIDType):
        return pa.uuid() if hasattr(pa, "uuid") else pa.binary(16)
    if isinstance(t, T.ArrayType):
        return pa.list_(pa.field("element", arrow_type(t.inner), nullable=isinstance(t.inner, T.NullableType)))
    return pa.string()


def _nulls(col):
    return getattr(col, "nulls", None)


def to_arrow_array(col):
    """One mergetree Column as a pyarrow Array."""
    pa = require_pyarrow("to_arrow()")
    from mergetree.column import ArrayColumn, FixedColumn, LowCardinalityColumn, NullableColumn, StringColumn

    t = col.type
    if isinstance(col, NullableColumn):
        inner = to_arrow_array(col.values)
        if not col.nulls.any():
            return inner
        import pyarrow.compute as pc

        return pc.if_else(pa.array(col.nulls.astype(bool)), pa.scalar(None, inner.type), inner)
    if isinstance(col, LowCardinalityColumn):
        return pa.DictionaryArray.from_arrays(pa.array(col.codes.astype(np.int32)), to_arrow_array(col.dictionary))
    if isinstance(col, StringColumn):
        offsets = col.offsets
        if offsets[-1] < 2 ** 31:
            buffers = [None, pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(col.data)]
            arr = pa.Array.from_buffers(pa.binary(), len(col), buffers)
            try:
                return arr.cast(pa.string())
            except pa.ArrowInvalid:
                return arr          # not valid UTF-8: binary, as ClickHouse's String is bytes
        return pa.array(col.to_pybytes(), pa.large_binary())
    if isinstance(col, ArrayColumn):
        values = to_arrow_array(col.values)
        return pa.ListArray.from_arrays(pa.array(col.offsets.astype(np.int32)), values)
    if isinstance(col, FixedColumn):
        if isinstance(t, T.BoolType):
            return pa.array(col.values.astype(bool))
        if isinstance(t, (T.IntType, T.FloatType)) and getattr(t, "bits", 0) <= 64:
            return pa.array(col.values)
        if isinstance(t, (T.DateType, T.Date32Type)):
            return pa.array(col.values.astype(np.int32), pa.date32())
        if isinstance(t, T.DateTimeType):
            return pa.array(col.values.astype(np.int64), pa.int64()).cast(arrow_type(t))
        if isinstance(t, T.DateTime64Type):
            target = arrow_type(t)
            unit_scale = {"ms": 3, "us": 6, "ns": 9}[target.unit]
            ticks = col.values.astype(np.int64) * (10 ** (unit_scale - t.precision))
            return pa.array(ticks, pa.int64()).cast(target)
    values = col.to_pylist()
    target = arrow_type(t)
    if isinstance(t, T.UUIDType) and hasattr(pa, "uuid"):
        storage = pa.array([None if v is None else v.bytes for v in values], pa.binary(16))
        return pa.ExtensionArray.from_storage(target, storage)
    if isinstance(t, T.IntType) and t.bits > 64:
        n = t.bits // 8
        return pa.array([None if v is None else int(v).to_bytes(n, "little", signed=t.signed) for v in values],
                        target)
    return pa.array(values, target)


def to_arrow(result):
    """The result as a pyarrow.Table (column names as in the result; duplicates kept)."""
    pa = require_pyarrow("Result.to_arrow()")
    arrays = [to_arrow_array(c) for c in result.column_data]
    if not arrays:
        return pa.table({})
    fields = []
    for i, ((name, t), arr) in enumerate(zip(result.schema, arrays)):
        if isinstance(t, T.ArrayType):       # element nullability as ClickHouse declares it
            arrays[i] = arr = arr.cast(arrow_type(t))
        fields.append(pa.field(name, arr.type, nullable=isinstance(t, T.NullableType) or (
            isinstance(t, T.LowCardinalityType) and isinstance(t.inner, T.NullableType))))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def to_pandas(result):
    """The result as a pandas.DataFrame (through Arrow when pyarrow is installed)."""
    try:
        import pandas as pd
    except ImportError:
        raise ImportError("Result.to_pandas() needs pandas, which is not installed: pip install pandas") from None
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return pd.DataFrame.from_records(result.rows, columns=result.names)
    return to_arrow(result).to_pandas()
