"""The vectorized value-to-text paths agree with the per-value type formatting."""

from __future__ import annotations

import numpy as np
import pytest

from mergetree import types as T
from mergetree.column import FixedColumn
from mergetree.formats.text import column_texts, float_texts


@pytest.mark.parametrize("bits", [32, 64])
def test_float_texts_equal_format_float(bits):
    rng = np.random.default_rng(bits)
    dtype = np.float32 if bits == 32 else np.float64
    values = np.concatenate([
        rng.normal(size=500) * 10.0 ** rng.integers(-12, 25, 500),
        [0.0, -0.0, np.nan, np.inf, -np.inf, 1.0, 1e15, 1e16, 1e21, 1e-4, 1e-5, 0.1, 123456.0, -2.5],
    ]).astype(dtype)
    assert float_texts(values, bits) == [T.format_float(float(v), bits) for v in values]


@pytest.mark.parametrize("type_name,values", [
    ("Date", np.array([0, 1, 19723, 65535], np.uint16)),
    ("Date32", np.array([-1, 0, 19723, 100000], np.int32)),
    ("DateTime", np.array([0, 1, 1704067200, 4294967295], np.uint32)),
])
def test_date_texts_equal_format_value(type_name, values):
    t = T.parse_type(type_name)
    col = FixedColumn(t, values)
    assert column_texts(col) == [t.format_value(v) for v in col.to_pylist()]


@pytest.mark.parametrize("type_name", ["Date", "DateTime", "Float64", "String", "Nullable(Int8)"])
def test_empty_columns(type_name):
    from mergetree.column import default_column

    assert column_texts(default_column(T.parse_type(type_name), 0)) == []
