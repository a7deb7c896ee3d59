"""The shortcuts in convert.py (all-keys transpose, single-length DateTime text, scalar path for
a few values) give the same blocks and errors as the general paths.

Expected values are hand-computed unix seconds (2024-01-02 03:04:05 UTC = 1704164645) and the
ClickHouse rules of the module docstring (missing key / null -> DEFAULT or type default).
"""

from __future__ import annotations

import numpy as np
import pytest

from mergetree import types as T
from mergetree.column import FixedColumn
from mergetree.convert import rows_to_block, rows_to_block_partial, values_to_column
from mergetree.errors import ConversionError

SCHEMA = [("id", T.String), ("ts", T.DateTime)]
TS = 1704164645  # 2024-01-02 03:04:05 UTC


@pytest.mark.parametrize("n", [1, 2, 4, 5, 1000])
def test_datetime_text_batches_of_any_size(n):
    rows = [{"id": str(i), "ts": "2024-01-02 03:04:05"} for i in range(n)]
    block = rows_to_block(SCHEMA, rows)
    assert block["ts"].values.tolist() == [TS] * n
    assert block["id"].to_pylist() == [str(i) for i in range(n)]


@pytest.mark.parametrize("n", [1, 3, 50])
def test_datetime_rollover_saturation_and_zones_whatever_the_batch_size(n):
    values = ["2024-02-30 00:00:00", "1960-01-01 00:00:00", "2024-01-02T03:04:05Z"] * n
    col = values_to_column(T.DateTime, values[:max(n, 3)])
    # Feb 30 rolls over to Mar 1 (ClickHouse), before 1970 saturates at 0
    assert col.values.tolist()[:3] == [1709251200, 0, TS]
    tokyo = values_to_column(T.parse_type("DateTime('Asia/Tokyo')"), ["2024-01-02 12:04:05"] * n)
    assert tokyo.values.tolist() == [TS] * n


@pytest.mark.parametrize("n", [1, 3, 20])
def test_datetime_error_names_row_for_any_batch_size(n):
    values = ["2024-01-02 03:04:05"] * n + ["2024-13-02 03:04:05"]
    with pytest.raises(ConversionError) as info:
        rows_to_block(SCHEMA, [{"id": "x", "ts": v} for v in values])
    assert info.value.column == "ts" and info.value.row == n and "2024-13-02" in str(info.value)


def test_mixed_widths_still_parse():
    col = values_to_column(T.DateTime, ["2024-01-02 03:04:05", "2024-01-02", "2024-01-02T03:04:05Z"] * 3)
    assert col.values.tolist() == [TS, TS - 3 * 3600 - 4 * 60 - 5, TS] * 3


def test_missing_key_falls_back_to_defaults():
    def ts_default(block):
        return FixedColumn(T.DateTime, np.full(block.num_rows, 7, np.uint32))

    rows = [{"id": "a", "ts": "2024-01-02 03:04:05"}, {"id": "b"}, {"id": "c", "ts": None}]
    block = rows_to_block(SCHEMA, rows, defaults={"ts": ts_default})
    assert block["ts"].values.tolist() == [TS, 7, 7]
    # every key present, a null -> the DEFAULT expression too; none at all -> type default
    block = rows_to_block(SCHEMA, [{"id": "a", "ts": None}, {"id": None, "ts": 5}], defaults={"ts": ts_default})
    assert block["ts"].values.tolist() == [7, 5] and block["id"].to_pylist() == ["a", ""]
    block = rows_to_block(SCHEMA, [{"id": "a"}])
    assert block["ts"].values.tolist() == [0]


def test_nullable_column_keeps_null_with_a_default_when_key_present():
    schema = [("id", T.String), ("n", T.parse_type("Nullable(Int32)"))]
    block = rows_to_block(schema, [{"id": "a", "n": None}, {"id": "b", "n": 3}],
                          defaults={"n": lambda b: values_to_column(schema[1][1], [9] * b.num_rows)})
    assert block["n"].to_pylist() == [None, 3]


def test_single_ndjson_row_partial():
    block, rejected = rows_to_block_partial(SCHEMA, b'{"id":"e1","ts":"2024-01-02 03:04:05","extra":1}')
    assert rejected == [] and block["ts"].values.tolist() == [TS] and block["id"].to_pylist() == ["e1"]
    block, rejected = rows_to_block_partial(SCHEMA, b'{"id":"e1","ts":"not a time"}')
    assert block.num_rows == 0 and len(rejected) == 1
    assert rejected[0].error.column == "ts" and rejected[0].error.row == 0


@pytest.mark.parametrize("values, offsets, data", [
    (["é", ""], [0, 2, 2], b"\xc3\xa9"),           # UTF-8 byte offsets
    ([], [0], b""),
    (["a\udcff"], [0, 2], b"a\xff"),               # surrogate-escaped raw byte round-trips
    ([1, "x"], [0, 1, 2], b"1x"),                  # non-strings stored as their JSON text
    (["x"] * 5, [0, 1, 2, 3, 4, 5], b"xxxxx"),
])
def test_small_and_large_string_batches(values, offsets, data):
    col = values_to_column(T.String, values)
    assert col.offsets.tolist() == offsets and bytes(col.data) == data


def test_unencodable_string_names_row():
    with pytest.raises(ConversionError) as info:
        values_to_column(T.String, ["ok", "\ud800"], "s")
    assert info.value.column == "s" and info.value.row == 1


@pytest.mark.parametrize("values", [
    ["2024-01-02 03:04:0", "02024-01-02 03:04:05"],      # lengths differ, total matches: no misalignment
    ["2024-01-02 03:04:05", "2024-01-02 03:04:0\x00"],   # a NUL inside a value
])
def test_uniform_matrix_rejects_unequal_or_nul_values(values):
    from mergetree.convert import _uniform_text_matrix

    assert _uniform_text_matrix(values * 3) is None
    with pytest.raises(ConversionError):
        values_to_column(T.DateTime, values * 3)
