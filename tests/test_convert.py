"""Conversion of Python / JSON / text values with ClickHouse's input rules.

The central test runs every case of CASES through ``rows_to_block`` (as NDJSON) and through
chDB's ``format(JSONEachRow, ...)`` and compares the TSV text of the value (or that both fail).
The few places where mergetree is deliberately more lenient are listed in DEVIATIONS with the
value mergetree produces.
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
import zoneinfo

import numpy as np
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mergetree import types as T
from mergetree.column import Block, FixedColumn, column_from_values
from mergetree.convert import (days_from_civil, numpy_to_column, parse_ndjson, parse_text_value, rows_to_block,
                               text_to_column, values_to_column)
from mergetree.errors import ConversionError, SizesMismatchError

# (type, JSON value text): compared against chDB 26.9 JSONEachRow input (best_effort date parsing)
CASES = [
    ("UInt8", "300"), ("UInt8", "-1"), ("UInt8", '"300"'), ("UInt8", "1.7"), ("UInt8", '"1.7"'),
    ("UInt8", "false"), ("Int64", "9223372036854775808"), ("Int64", "-9223372036854775808"),
    ("UInt64", "18446744073709551615"), ("UInt64", "18446744073709551616"), ("Int32", '"abc"'),
    ("Int32", '""'), ("Int32", "true"), ("Int32", '"1e3"'), ("Int8", "-129"), ("Int8", "128"), ("Int32", '"+5"'),
    ("Int32", '"0x1F"'), ("Int32", "[1]"),
    ("Float64", '"nan"'), ("Float64", '"inf"'), ("Float64", '"-Infinity"'), ("Float64", '"1,5"'), ("Float64", '""'),
    ("Float64", '"1e400"'), ("Float64", '".5"'), ("Float64", "1e308"), ("Float64", "12"), ("Float64", '"-0"'),
    ("Float64", "1.0000000000000002"), ("Float32", "1e40"), ("Float32", "0.1"),
    ("Bool", "true"), ("Bool", "1"), ("Bool", "0"), ("Bool", "2"), ("Bool", "0.5"),
    ("String", "123"), ("String", "1.5"), ("String", "true"), ("String", "[1,2]"),
    ("String", '{"a":1,"b":[1,{"c":null}]}'), ("String", "null"), ("String", "-0.0"), ("String", "1e20"),
    ("String", r'"tab\there\nnewline\\ quote\u0027 é"'), ("Nullable(String)", "null"), ("Nullable(String)", r'"\\N"'),
    ("Date", '"2024-01-02"'), ("Date", "19000"), ("Date", '"19000"'), ("Date", '"2024-1-2"'), ("Date", '"1969-12-31"'),
    ("Date", '"2150-01-01"'), ("Date", '"2024-02-30"'), ("Date", '"20240102"'), ("Date", '""'), ("Date", '"2149-06-06"'),
    ("Date", "70000"), ("Date", "-1"), ("Date", "65536"), ("Date", "1.5"), ("Date", "true"),
    ("Date32", '"1900-01-01"'), ("Date32", '"2299-12-31"'), ("Date32", "-100"),
    ("DateTime", '"2024-01-02 03:04:05"'), ("DateTime", '"2024-01-02T03:04:05Z"'),
    ("DateTime", '"2024-01-02T03:04:05.123+02:00"'), ("DateTime", '"2024-01-02T03:04:05.999Z"'),
    ("DateTime", "1700000000"), ("DateTime", '"1700000000"'), ("DateTime", "1700000000.7"), ("DateTime", '"2024-01-02"'),
    ("DateTime", '"2024-01-02 03:04"'), ("DateTime", '"abc"'), ("DateTime", '""'), ("DateTime", '"1969-12-31 23:59:59"'),
    ("DateTime", '"2106-02-07 06:28:15"'), ("DateTime", '"2106-02-07 06:28:16"'), ("DateTime", '"2200-01-01 00:00:00"'),
    ("DateTime", "-1"), ("DateTime", "4294967296"), ("DateTime", '"2024-01-02 03:04:05 +0100"'),
    ("DateTime", '"2024-01-02T03:04:05+0530"'), ("DateTime", '"2024-01-02T03:04:05-08:00"'),
    ("DateTime", '"Tue, 02 Jan 2024 03:04:05 GMT"'), ("DateTime", '"2024-01-02 03:04:05.5"'),
    ("DateTime", '"2024-01-02T03:04:05"'), ("DateTime", "1e9"), ("DateTime", "true"),
    ("DateTime('Asia/Kolkata')", '"2024-01-02 03:04:05"'), ("DateTime('Asia/Kolkata')", '"2024-01-02T03:04:05Z"'),
    ("DateTime('America/New_York')", '"2024-07-04 12:00:00"'), ("DateTime('America/New_York')", "1700000000"),
    ("DateTime64(3)", '"2024-01-02 03:04:05.123456"'), ("DateTime64(3)", '"1700000000.5"'),
    ("DateTime64(3)", "1700000000.5"), ("DateTime64(3)", '"1899-12-31 00:00:00"'),
    ("DateTime64(3)", '"2024-01-02 03:04:05.1239"'), ("DateTime64(3)", "-1.5"),
    ("DateTime64(3)", '"1969-12-31 23:59:59.5"'), ("DateTime64(3)", '"2024-01-02T03:04:05.5Z"'),
    ("DateTime64(6, 'UTC')", '"2024-01-02 03:04:05.123456"'), ("DateTime64(0)", '"2024-01-02 03:04:05.9"'),
    ("DateTime64(9)", '"2024-01-02 03:04:05.123456789"'), ("DateTime64(3)", "1700000000"), ("DateTime64(3)", "true"),
    ("DateTime", '"2024"'), ("DateTime", '"202401"'), ("DateTime", '"20240102030405"'), ("DateTime", '"1700000000123"'),
    ("DateTime64(3)", '"1700000000123"'), ("DateTime64(6)", '"1700000000123456"'),
    ("DateTime64(9)", '"1700000000123456789"'), ("DateTime", '"2024010"'), ("DateTime", '"17000000001"'),
    ("DateTime", '"+1700000000"'), ("DateTime64(3)", "1700000000123"), ("DateTime64(3)", '"17000000001"'),
    ("DateTime64(6)", "-777650.0655400481"), ("DateTime64(3)", '"349.98"'), ("DateTime", '"0.0001"'),
    ("UInt64", '"-0"'), ("UInt64", "-0.0"), ("UInt8", '"-5"'),
    ("Decimal(9,2)", '"1.239"'), ("Decimal(9,2)", "1.239"), ("Decimal(9,2)", "1.005"), ("Decimal(9,2)", '"-1.235"'),
    ("Decimal(9,2)", "12345678"), ("Decimal(9,2)", "1234567.8"), ("Decimal(9,2)", '"1e2"'), ("Decimal(9,2)", '"abc"'),
    ("Decimal(9,2)", '""'), ("Decimal(9,2)", "-0.001"), ("Decimal(9,2)", "1e-10"), ("Decimal(9,2)", "true"),
    ("Decimal(18,4)", "0.1"), ("Decimal(18,4)", '"99999999999999.9999"'), ("Decimal(18,4)", '"-99999999999999.9999"'),
    ("Decimal(18,4)", '"100000000000000"'), ("Decimal(18,0)", "999999999999999999"),
    ("UUID", '"61f0c404-5cb3-11e7-907b-a6006ad3dba0"'), ("UUID", '"61f0c4045cb311e7907ba6006ad3dba0"'),
    ("UUID", '"{61f0c404-5cb3-11e7-907b-a6006ad3dba0}"'), ("UUID", '"xyz"'), ("UUID", '""'),
    ("UUID", '"61F0C404-5CB3-11E7-907B-A6006AD3DBA0"'),
    ("FixedString(3)", '"ab"'), ("FixedString(3)", '"abcd"'), ("FixedString(3)", '"abc"'),
    ("Array(UInt8)", "[1,2,3]"), ("Array(UInt8)", "null"), ("Array(UInt8)", '"[1,2]"'), ("Array(UInt8)", "[1,300]"),
    ("Array(Nullable(String))", '["a", null]'), ("Array(String)", '["a", null]'),
    ("Array(Array(Int8))", "[[1],[],[-1,2]]"), ("LowCardinality(String)", '"abc"'),
    ("LowCardinality(Nullable(String))", "null"), ("Nullable(UInt8)", '"abc"'), ("Nullable(UInt8)", '""'),
    ("Nullable(UInt8)", "null"), ("Nullable(DateTime)", "null"), ("Nullable(DateTime)", '"2024-01-02 03:04:05"'),
]

# Deliberately lenient: ClickHouse's JSON reader rejects these, mergetree keeps the date part.
DEVIATIONS = {
    ("Date", '"2024-01-02T03:04:05Z"'): "2024-01-02",
    ("Date32", '"2024-01-02 10:00:00"'): "2024-01-02",
}


def _tsv(text: str) -> str:
    return (text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\0", "\\0")
            .replace("'", "\\'"))


def ours(type_name: str, value: str) -> str:
    t = T.parse_type(type_name)
    try:
        col = rows_to_block([("x", t)], b'{"x": ' + value.encode() + b"}")["x"]
    except ConversionError:
        return "ERR"
    v = col[0]
    base = t.unwrap()
    if v is None:
        return "\\N"
    if isinstance(base, T.DateTime64Type):
        ticks = col.values.values[0] if hasattr(col, "nulls") else col.values[0]
        return base.format_ticks(int(ticks))
    text = t.format_value(v)
    return text if isinstance(base, T.ArrayType) else _tsv(text)


@pytest.fixture(scope="module")
def chdb_module():
    return pytest.importorskip("chdb")


@pytest.mark.parametrize("type_name,value", CASES + list(DEVIATIONS))
def test_json_input_matches_chdb(chdb_module, type_name, value):
    got = ours(type_name, value)
    if (type_name, value) in DEVIATIONS:
        assert got == DEVIATIONS[(type_name, value)]
        return
    sql = (f"SELECT * FROM format(JSONEachRow, $$x {type_name}$$, $${{\"x\": {value}}}$$) "
           "SETTINGS session_timezone = 'UTC'")
    try:
        expected = str(chdb_module.query(sql, "TabSeparated")).rstrip("\n")
    except Exception:  # noqa: BLE001 - any ClickHouse error means "must fail"
        expected = "ERR"
    assert got == expected


# --- hand-checked semantics --------------------------------------------------------------------

def test_integer_wraparound_and_quoted_numbers():
    col = values_to_column(T.UInt8, [300, "300", "+5", "", True, 255])
    assert col.to_pylist() == [44, 44, 5, 0, 1, 255]
    assert values_to_column(T.Int8, [-129, 128]).to_pylist() == [127, -128]
    assert values_to_column(T.UInt64, [2 ** 64 - 1, 2 ** 64]).to_pylist() == [2 ** 64 - 1, 0]
    assert values_to_column(T.Int32, [1.0, 2.0]).to_pylist() == [1, 2]  # lenient: integral floats


@pytest.mark.parametrize("text", [" 12", "12 ", "1_000", "\u0663", "0x1F", "1e3", "--1"])
def test_integer_text_is_strict(text):
    """ClickHouse reads only [+-]digits; Python's int() (and numpy's astype) would take most of these."""
    with pytest.raises(ConversionError):
        values_to_column(T.Int32, ["1", text])


@pytest.mark.parametrize("text", [" 1.5", "1_000.5", "\u0663", "1,5", "0x10"])
def test_float_text_is_strict(text):
    with pytest.raises(ConversionError):
        values_to_column(T.Float64, [text])


def test_huge_integers_into_floats_are_infinite():
    assert values_to_column(T.Float64, [10 ** 400, -(10 ** 400), 1]).to_pylist() == [float("inf"), float("-inf"), 1.0]


def test_decimal_scaling_truncates_toward_zero():
    t = T.Decimal(9, 2)
    col = values_to_column(t, ["1.239", 1.239, -1.235, "-0.001", 7, "1e2", decimal.Decimal("3.14159"), ""])
    assert col.values.tolist() == [123, 123, -123, 0, 700, 10000, 314, 0]
    assert [t.format_value(v) for v in col.to_pylist()] == ["1.23", "1.23", "-1.23", "0", "7", "100", "3.14", "0"]
    assert values_to_column(T.Decimal(18, 4), [0.1, "99999999999999.9999"]).values.tolist() == [1000,
                                                                                                  999999999999999999]
    with pytest.raises(ConversionError, match="too big"):
        values_to_column(T.Decimal(9, 2), [12345678], "price")


def test_datetime_formats():
    t = T.DateTime
    inputs = ["2024-01-02 03:04:05", "2024-01-02T03:04:05Z", "2024-01-02T05:04:05+02:00", "2024-01-02T03:04:05.999Z",
              "2024-01-02 04:04:05 +0100", 1704164645, "1704164645", 1704164645.9, dt.datetime(2024, 1, 2, 3, 4, 5),
              "Tue, 02 Jan 2024 03:04:05 GMT", "2024-01-01T19:04:05-08:00"]
    assert values_to_column(t, inputs).values.tolist() == [1704164645] * len(inputs)
    assert values_to_column(t, ["2024-01-02", "2024-01-02 03:04"]).values.tolist() == [1704153600, 1704164640]
    # saturation at the range ends (best_effort, as in chDB)
    assert values_to_column(t, ["1969-12-31 23:59:59", -5, "2200-01-01 00:00:00", 2 ** 40]).values.tolist() == [
        0, 0, 2 ** 32 - 1, 2 ** 32 - 1]


def test_datetime64_precision_and_fractions():
    t = T.DateTime64(3)
    col = values_to_column(t, ["2024-01-02 03:04:05.123456", "2024-01-02T03:04:05.5Z", "1700000000.5", -1.5,
                               "1899-12-31 00:00:00", dt.datetime(2024, 1, 2, 3, 4, 5, 678000)])
    assert col.values.tolist() == [1704164645123, 1704164645500, 1700000000500, -1500, -2209075200000,
                                   1704164645678]
    ns = values_to_column(T.DateTime64(9), ["2024-01-02 03:04:05.123456789"])
    assert ns.values.tolist() == [1704164645123456789]
    assert values_to_column(T.DateTime64(0), ["2024-01-02 03:04:05.9"]).values.tolist() == [1704164645]


def test_datetime_time_zone_columns():
    kolkata = T.DateTimeType("Asia/Kolkata")
    col = values_to_column(kolkata, ["2024-01-02 03:04:05", "2024-01-02T03:04:05Z", dt.datetime(2024, 1, 2, 3, 4, 5)])
    assert col.values.tolist() == [1704144845, 1704164645, 1704144845]
    ny = T.DateTimeType("America/New_York")
    # around the spring-forward and fall-back transitions, the fast path must agree with zoneinfo
    walls = ["2024-03-10 01:30:00", "2024-03-10 03:30:00", "2024-11-03 00:30:00", "2024-11-03 02:30:00",
             "2024-07-04 12:00:00"]
    expected = [int(dt.datetime.fromisoformat(w).replace(tzinfo=zoneinfo.ZoneInfo("America/New_York")).timestamp())
                for w in walls]
    assert values_to_column(ny, walls).values.tolist() == expected


def test_date_rules():
    col = values_to_column(T.Date, ["2024-01-02", 19000, "2024-1-2", "20240102", "2024-02-30", "1969-12-31",
                                    "2150-01-01", 70000])
    assert [d.isoformat() for d in col.to_pylist()] == ["2024-01-02", "2022-01-08", "2024-01-02", "2024-01-02",
                                                        "2024-03-01", "1970-01-01", "2149-06-06", "1982-03-23"]
    assert values_to_column(T.Date32, ["1900-01-01", "2299-12-31", -100]).to_pylist() == [
        dt.date(1900, 1, 1), dt.date(2299, 12, 31), dt.date(1969, 9, 23)]
    with pytest.raises(ConversionError):
        values_to_column(T.Date, ["19000"])


def test_bool_uuid_fixedstring_strings():
    assert values_to_column(T.Bool, [True, 0, 1, "true", "FALSE", "yes", "off"]).to_pylist() == [
        True, False, True, True, False, True, False]
    u = "61f0c404-5cb3-11e7-907b-a6006ad3dba0"
    assert values_to_column(T.UUID, [u, u.replace("-", "").upper(), uuid.UUID(u)]).to_pylist() == [uuid.UUID(u)] * 3
    assert values_to_column(T.FixedString(3), ["ab", b"xyz"]).to_pylist() == ["ab\0", "xyz"]
    assert values_to_column(T.String, [123, 1.5, True, [1, 2], {"a": 1}, b"\xff", None]).to_pylist() == [
        "123", "1.5", "true", "[1,2]", '{"a":1}', "\udcff", ""]


def test_nullable_and_arrays():
    assert values_to_column(T.Nullable(T.UInt8), [None, "", 3]).to_pylist() == [None, 0, 3]
    assert values_to_column(T.Array(T.Nullable(T.String)), [["a", None], None, []]).to_pylist() == [
        ["a", None], [], []]
    assert values_to_column(T.Array(T.String), [["a", None]]).to_pylist() == [["a", ""]]
    assert values_to_column(T.LowCardinality(T.String), ["a", None, "a"]).to_pylist() == ["a", "", "a"]


# --- errors ----------------------------------------------------------------------------------------

def test_error_names_column_row_and_value():
    rows = [{"timestamp": "2024-01-01 00:00:00"}] * 3 + [{"timestamp": "abc"}]
    with pytest.raises(ConversionError) as err:
        rows_to_block([("timestamp", T.DateTime)], rows)
    assert str(err.value) == "Cannot parse 'abc' as DateTime for column 'timestamp' at row 3"
    assert (err.value.column, err.value.row, err.value.value) == ("timestamp", 3, "abc")
    assert err.value.code == "CANNOT_PARSE_DATETIME"


@pytest.mark.parametrize("type_name,values,row,fragment", [
    ("UInt8", [1, 2, -1], 2, "Unsigned type must not contain '-'"),
    ("Int32", ["1", "x1"], 1, "Cannot parse 'x1' as Int32"),
    ("Float64", [1.0, "1,5"], 1, "Cannot parse '1,5' as Float64"),
    ("Bool", [True, 2], 1, "Invalid boolean value"),
    ("UUID", ["61f0c404-5cb3-11e7-907b-a6006ad3dba0", "nope"], 1, "Cannot parse 'nope' as UUID"),
    ("FixedString(2)", ["ab", "abc"], 1, "Too large value for FixedString(2)"),
    ("Array(UInt8)", [[1], [2, 3], [4, -5]], 2, "array element 1"),
    ("Array(UInt8)", [[1], 5], 1, "expected a JSON array"),
    ("Nullable(Date)", [None, "2024-13-01"], 1, "Cannot parse '2024-13-01' as Date"),
    ("Decimal(9, 2)", ["1", "1.2.3"], 1, "Cannot parse '1.2.3' as Decimal(9, 2)"),
    ("String", ["ok", "\ud800"], 1, "not encodable as UTF-8"),
    ("DateTime64(3)", ["2024-01-01", "2024-01-01 25:00:00"], 1, "as DateTime64(3)"),
])
def test_errors_per_type(type_name, values, row, fragment):
    with pytest.raises(ConversionError) as err:
        values_to_column(T.parse_type(type_name), values, "c")
    assert err.value.row == row and err.value.column == "c"
    assert fragment in str(err.value)
    assert f"for column 'c' at row {row}" in str(err.value)


def test_failed_conversion_leaves_input_untouched():
    rows = [{"a": 1, "b": "x"}, {"a": "bad", "b": "y"}]
    snapshot = orjson.dumps(rows)
    with pytest.raises(ConversionError):
        rows_to_block([("a", T.Int32), ("b", T.String)], rows)
    assert orjson.dumps(rows) == snapshot


# --- rows -> Block ---------------------------------------------------------------------------------

SCHEMA = [("id", T.UInt8), ("x", T.UInt32), ("y", T.Nullable(T.UInt32)), ("s", T.String)]


def _defaults():
    # like `x UInt32 DEFAULT id * 10, y Nullable(UInt32) DEFAULT id * 100, s String DEFAULT 'dflt'`
    return {
        "x": lambda b: column_from_values(T.UInt32, [v * 10 for v in b["id"].to_pylist()]),
        "y": lambda b: column_from_values(T.Nullable(T.UInt32), [v * 100 for v in b["id"].to_pylist()]),
        "s": lambda b: column_from_values(T.String, ["dflt"] * b.num_rows),
    }


def test_missing_null_and_unknown_fields_follow_clickhouse():
    rows = [{"id": 1}, {"id": 2, "x": None, "y": None, "s": None}, {"id": 3, "x": 7, "y": 8, "s": "z", "unknown": 5}]
    block = rows_to_block(SCHEMA, rows, defaults=_defaults())
    # chDB, same table and JSONEachRow input: 1 10 100 dflt / 2 20 \N dflt / 3 7 8 z
    assert block.to_pylist_rows() == [(1, 10, 100, "dflt"), (2, 20, None, "dflt"), (3, 7, 8, "z")]
    without = rows_to_block(SCHEMA, rows)
    assert without.to_pylist_rows() == [(1, 0, None, ""), (2, 0, None, ""), (3, 7, 8, "z")]
    assert block.names == ["id", "x", "y", "s"]


def test_defaults_see_earlier_columns_and_whole_missing_columns():
    seen = {}

    def x_default(b: Block):
        seen["names"] = b.names
        return column_from_values(T.UInt32, [v + 1 for v in b["id"].to_pylist()])
    block = rows_to_block([("id", T.UInt8), ("x", T.UInt32)], [{"id": 1}, {"id": 5}], defaults={"x": x_default})
    assert block["x"].to_pylist() == [2, 6] and seen["names"] == ["id"]


def test_ndjson_input():
    data = b'{"id": 1, "s": "a"}\n\n  \n{"id": "2", "s": "b", "extra": [1]}\r\n{"id": 3}\n'
    block = rows_to_block(SCHEMA, data)
    assert block.to_pylist_rows() == [(1, 0, None, "a"), (2, 0, None, "b"), (3, 0, None, "")]
    assert rows_to_block(SCHEMA, b'[{"id": 1}, {"id": 2}]')["id"].to_pylist() == [1, 2]
    assert rows_to_block(SCHEMA, b"").num_rows == 0
    assert rows_to_block(SCHEMA, '{"id": 9}').to_pylist_rows() == [(9, 0, None, "")]


def test_malformed_ndjson_names_the_line():
    with pytest.raises(ConversionError) as err:
        rows_to_block(SCHEMA, b'{"id": 1}\n\n{"id": 2,,}\n{"id": 3}\n')
    assert "line 3" in str(err.value)
    with pytest.raises(ConversionError, match="Expected a JSON object"):
        parse_ndjson(b'{"id": 1}\n[1, 2]\n')


def test_dict_of_columns_input():
    block = rows_to_block(SCHEMA, {"id": np.array([1, 2], np.int64), "s": ["a", "b"], "y": [None, 4]},
                          defaults=_defaults())
    assert block.to_pylist_rows() == [(1, 10, None, "a"), (2, 20, 4, "b")]
    with pytest.raises(SizesMismatchError):
        rows_to_block(SCHEMA, {"id": [1, 2], "s": ["a"]})


def test_dicts_and_ndjson_give_identical_blocks():
    rng = np.random.default_rng(3)
    rows = [{"event_id": f"e{i}", "user_id": f"user_{int(rng.integers(0, 50))}", "event_type": "click",
             "properties": {"k": int(rng.integers(0, 9))}, "timestamp": 1_700_000_000 + int(rng.integers(0, 10 ** 6))}
            for i in range(500)]
    schema = [("event_id", T.String), ("user_id", T.String), ("event_type", T.LowCardinality(T.String)),
              ("properties", T.String), ("timestamp", T.DateTime)]
    a = rows_to_block(schema, rows)
    b = rows_to_block(schema, b"\n".join(orjson.dumps(r) for r in rows))
    assert a.equals(b)
    assert a["properties"][0] == orjson.dumps(rows[0]["properties"]).decode()


# --- fast paths agree with the per-value parser ------------------------------------------------------

DATETIMES = st.datetimes(min_value=dt.datetime(1971, 1, 1), max_value=dt.datetime(2100, 1, 1))


@given(st.lists(DATETIMES, min_size=1, max_size=30), st.sampled_from(["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S",
                                                                      "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d",
                                                                      "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S.%fZ"]),
       st.sampled_from([None, "UTC", "Europe/Amsterdam", "America/New_York"]), st.sampled_from([0, 3, 6]))
@settings(max_examples=150, deadline=None)
def test_vectorised_datetime_parsing_matches_scalar(values, fmt, tz, precision):
    texts = [v.strftime(fmt) for v in values]
    t = T.DateTime64Type(precision, tz) if precision else T.DateTimeType(tz)
    fast = values_to_column(t, texts).values.tolist()
    # one odd value forces the per-value parser for the whole column: same results
    slow = values_to_column(t, texts + [b"2000-01-01 00:00:00"]).values.tolist()[:-1]
    assert fast == slow
    tzinfo = zoneinfo.ZoneInfo(tz) if tz else dt.timezone.utc
    for v, text, got in zip(values, texts, fast):
        if fmt in ("%Y-%m-%d",):
            v = v.replace(hour=0, minute=0, second=0, microsecond=0)
        if "%f" not in fmt:
            v = v.replace(microsecond=0)
        aware = v.replace(tzinfo=dt.timezone.utc) if text.endswith("Z") else v.replace(tzinfo=tzinfo)
        micros = int((aware - dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)) / dt.timedelta(microseconds=1))
        expected = micros // 10 ** (6 - precision)
        if (tz not in (None, "UTC") and not text.endswith("Z")
                and aware.utcoffset() != aware.replace(fold=1).utcoffset()):
            continue  # ambiguous/nonexistent wall time: either reading is acceptable
        assert got == expected, text


@given(st.lists(st.dates(min_value=dt.date(1970, 1, 1), max_value=dt.date(2149, 6, 6)), min_size=1, max_size=30))
@settings(max_examples=60, deadline=None)
def test_vectorised_date_parsing(values):
    texts = [v.isoformat() for v in values]
    assert values_to_column(T.Date, texts).to_pylist() == values
    assert values_to_column(T.Date32, texts).to_pylist() == values


@given(st.integers(-700_000, 800_000))
def test_days_from_civil_matches_python(days):
    d = dt.date(1970, 1, 1) + dt.timedelta(days=days)
    assert days_from_civil(d.year, d.month, d.day) == days
    arr = days_from_civil(np.array([d.year]), np.array([d.month]), np.array([d.day]))
    assert arr.tolist() == [days]


@given(st.lists(st.one_of(st.integers(-2 ** 70, 2 ** 70), st.text(max_size=4), st.floats(), st.booleans(), st.none()),
                max_size=20))
@settings(max_examples=200, deadline=None)
def test_int_conversion_fast_and_slow_paths_agree(values):
    """Whatever mix arrives, the result equals per-value conversion (or both raise)."""
    from mergetree.convert import _parse_int
    t = T.Int16

    def scalar(v):
        return 0 if v is None else _parse_int(t, v)
    try:
        expected = [scalar(v) for v in values]
    except ConversionError:
        with pytest.raises(ConversionError):
            values_to_column(t, values)
        return
    assert values_to_column(t, values).to_pylist() == expected


# --- text values (TSV/CSV) ---------------------------------------------------------------------------

def test_parse_text_value():
    assert parse_text_value("Nullable(Int32)", "\\N") is None
    assert parse_text_value("Int32", "-12") == -12
    assert parse_text_value("String", "\\N") == ""  # chDB TSV: \N into a non-Nullable column is the default
    assert parse_text_value("Int32", "\\N") == 0
    assert parse_text_value("Bool", "true") is True
    assert parse_text_value("Float64", "nan") != parse_text_value("Float64", "nan")
    assert parse_text_value("Date", "2024-01-02") == dt.date(2024, 1, 2)
    assert parse_text_value("DateTime", "2024-01-02 03:04:05") == dt.datetime(2024, 1, 2, 3, 4, 5)
    assert parse_text_value("Decimal(9, 3)", "1.5") == decimal.Decimal("1.5")
    assert parse_text_value("Array(UInt8)", "[1,2]") == [1, 2]
    assert parse_text_value("Array(String)", "['a','b\\'c']") == ["a", "b'c"]
    assert parse_text_value("Array(Nullable(String))", "['a',NULL]") == ["a", None]
    assert text_to_column(T.Nullable(T.String), ["a", "\\N"]).to_pylist() == ["a", None]
    with pytest.raises(ConversionError):
        parse_text_value("Array(UInt8)", "1,2")


def test_numpy_to_column_errors_name_column():
    with pytest.raises(ConversionError) as err:
        numpy_to_column(T.UInt8, np.array([1, -1]), "n")
    assert err.value.column == "n" and err.value.row == 1


# --- column -> text ----------------------------------------------------------------------------------

TEXT_TYPES = {
    "Int16": st.integers(-2 ** 15, 2 ** 15 - 1), "UInt64": st.integers(0, 2 ** 64 - 1),
    "Float64": st.floats(), "Float32": st.floats(width=32), "Bool": st.booleans(),
    "Date": st.dates(dt.date(1970, 1, 1), dt.date(2149, 6, 6)), "Date32": st.dates(dt.date(1900, 1, 1)),
    "DateTime('Europe/Amsterdam')": st.integers(0, 2 ** 32 - 1), "DateTime": st.integers(0, 2 ** 32 - 1),
    "DateTime64(3, 'America/New_York')": st.integers(-2 * 10 ** 12, 10 ** 13),
    "DateTime64(0)": st.integers(-2 * 10 ** 9, 10 ** 10),
    "Decimal(9, 3)": st.decimals(-999999, 999999, places=3, allow_nan=False),
    "UUID": st.uuids(), "String": st.text(max_size=5), "FixedString(2)": st.text("ab", min_size=2, max_size=2),
    "Nullable(Int8)": st.none() | st.integers(-128, 127), "LowCardinality(String)": st.sampled_from(["a", "b"]),
    "Array(Nullable(String))": st.lists(st.none() | st.sampled_from(["x", "y'"]), max_size=3),
}


@given(st.data())
@settings(max_examples=150, deadline=None)
def test_column_to_text_equals_format_value(data):
    from mergetree.convert import column_to_text
    name = data.draw(st.sampled_from(sorted(TEXT_TYPES)))
    t = T.parse_type(name)
    values = data.draw(st.lists(TEXT_TYPES[name], max_size=20))
    if isinstance(t, (T.DateTimeType, T.DateTime64Type)):  # drawn as raw seconds / ticks
        col = FixedColumn(t, np.array(values, dtype=t.dtype))
    else:
        col = values_to_column(t, values)
    expected = [None if v is None else t.format_value(v) for v in col.to_pylist()]
    if isinstance(t, T.DateTime64Type):  # to_pylist stops at microseconds; compare raw ticks text
        expected = [t.format_ticks(x) for x in col.values.tolist()]
    assert column_to_text(col) == expected


def test_column_to_text_matches_chdb():
    chdb = pytest.importorskip("chdb")
    from mergetree.convert import column_to_text
    seconds = [0, 1, 1710052200, 1710054000, 1730611800, 1730615400, 4294967295, 1704164645]
    cases = [
        ("DateTime('America/New_York')", seconds, "toDateTime(x, 'America/New_York')"),
        ("DateTime('Asia/Kolkata')", seconds, "toDateTime(x, 'Asia/Kolkata')"),
        ("DateTime64(3, 'Europe/Amsterdam')", [-1500, 0, 1704164645123, 1711846800999],
         "fromUnixTimestamp64Milli(toInt64(x), 'Europe/Amsterdam')"),
        ("Date", [0, 19000, 65535], "toDate(x)"),
        ("Date32", [-25567, 0, 120529], "toDate32(x)"),
        ("Decimal(9, 3)", [-1500, 7, 0, 123456789], "toDecimal32(x / 1000, 3)"),
    ]
    for type_name, raw, expr in cases:
        t = T.parse_type(type_name)
        ours = column_to_text(FixedColumn(t, np.array(raw, dtype=t.dtype)))
        sql = f"SELECT {expr} FROM (SELECT arrayJoin({raw}) AS x) SETTINGS session_timezone = 'UTC'"
        theirs = str(chdb.query(sql, "TSVRaw")).split("\n")[:-1]
        assert ours == theirs, type_name


@given(st.lists(st.datetimes(min_value=dt.datetime(1971, 1, 1), max_value=dt.datetime(2100, 1, 1)), min_size=1,
                max_size=20),
       st.sampled_from([None, "Asia/Kolkata", "America/New_York"]), st.sampled_from([0, 3, 9]))
@settings(max_examples=100, deadline=None)
def test_python_datetime_objects_fast_path_matches_scalar(values, tz, precision):
    t = T.DateTime64Type(precision, tz) if precision else T.DateTimeType(tz)
    fast = values_to_column(t, values).values.tolist()
    slow = values_to_column(t, values + ["2000-01-01"]).values.tolist()[:-1]  # mixed: per-value parser
    assert fast == slow
    dates = [v.date() for v in values]
    assert values_to_column(t, dates).values.tolist() == values_to_column(t, dates + ["2000-01-01"]).values.tolist()[:-1]


def test_datetime64_huge_unix_seconds_is_an_error_not_a_wrap():
    with pytest.raises(ConversionError, match="out of range"):
        values_to_column(T.DateTime64(9), [10 ** 11], "t")


def test_errors_survive_pickling():
    import pickle

    from mergetree.errors import CorruptedPartError
    err = ConversionError("c", 3, "abc", "Cannot parse 'abc' as DateTime", "CANNOT_PARSE_DATETIME")
    back = pickle.loads(pickle.dumps(err))
    assert (str(back), back.column, back.row, back.value, back.code) == (
        str(err), "c", 3, "abc", "CANNOT_PARSE_DATETIME")
    part = pickle.loads(pickle.dumps(CorruptedPartError("all_1_1_0", "x.bin", "checksum mismatch")))
    assert str(part) == "Corrupted data in part all_1_1_0, file x.bin: checksum mismatch"


@given(st.lists(st.one_of(st.floats(allow_nan=False).map(repr), st.integers(-10 ** 6, 10 ** 6).map(str),
                          st.sampled_from(["1e5", ".5", "-0", "+1.5", "1.", "1e", "e5", "1.5.2", "", "nan", "-inf",
                                           "1e400", "Infinity", "+-1", "1-2"])), min_size=1, max_size=15))
@settings(max_examples=200, deadline=None)
def test_float_text_fast_path_matches_scalar_parser(texts):
    from mergetree.convert import _parse_float
    try:
        expected = [_parse_float(T.Float64, x) for x in texts]
    except ConversionError:
        with pytest.raises(ConversionError):
            values_to_column(T.Float64, texts)
        return
    got = values_to_column(T.Float64, texts).values
    np.testing.assert_array_equal(got, np.array(expected))


@pytest.mark.parametrize("text,seconds,frac_ms", [
    ("2024", 1704067200, 0), ("202403", 1709251200, 0), ("20240302", 1709337600, 0),
    ("20240102030405", 1704164645, 0), ("170000000", 170000000, 0), ("1700000000", 1700000000, 0),
    ("1700000000123", 1700000000, 123), ("1700000000123456", 1700000000, 123),
    ("1700000000123456789", 1700000000, 123),
])
def test_digit_strings_follow_best_effort_lengths(text, seconds, frac_ms):
    """chDB: 4/6/8/14 digits are YYYY[MM[DD[hhmmss]]], 9-10 unix seconds, 13/16/19 unix ms/us/ns."""
    assert values_to_column(T.DateTime, [text]).values.tolist() == [seconds]
    assert values_to_column(T.DateTime64(3), [text]).values.tolist() == [seconds * 1000 + frac_ms]


@pytest.mark.parametrize("text", ["12", "2024010", "17000000001", "170000000012", "+1700000000", "-1"])
def test_digit_strings_of_other_lengths_are_errors(text):
    with pytest.raises(ConversionError):
        values_to_column(T.DateTime, [text])


def test_date32_far_days_saturate_in_python_and_text():
    from mergetree.convert import column_to_text
    col = values_to_column(T.Date32, [2 ** 31 - 1, -(2 ** 31)])
    assert col.to_pylist() == [dt.date(9999, 12, 31), dt.date(1, 1, 1)]
    assert column_to_text(col) == ["9999-12-31", "0001-01-01"]


def test_absurd_datetime64_values_saturate_in_python_and_text():
    from mergetree.convert import column_to_text
    for t in (T.DateTime64(3), T.DateTime64(3, "Asia/Kolkata")):
        col = values_to_column(t, [1700000000123, -10 ** 15])  # JSON numbers are seconds
        assert [d.year for d in col.to_pylist()] == [9999, 1]
        assert column_to_text(col)[0] == t.format_ticks(col.values[0]) == "9999-12-31 23:59:59.000"
    with pytest.raises(ConversionError, match="out of range"):
        values_to_column(T.DateTime64(9), [2 ** 62])


def _random_json_value(rng) -> str:
    import json
    k = rng.randrange(11)
    if k == 0:
        return str(rng.randint(-2 ** 63, 2 ** 63 - 1))
    if k == 1:
        return str(rng.randint(-1000, 1000))
    if k == 2:
        return repr(round(rng.uniform(-1e6, 1e6), rng.randint(0, 6)))
    if k == 3:
        return json.dumps(str(rng.randint(-10 ** 6, 10 ** 6)))
    if k == 4:
        return json.dumps(repr(round(rng.uniform(-1e3, 1e3), 3)))
    if k == 5:
        return rng.choice(["true", "false", "null", '""', '"abc"', "[]", "[1,2]", '{"a":1}'])
    if k == 6:
        return json.dumps(f"{rng.randint(1960, 2200)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}")
    if k == 7:
        return json.dumps(f"{rng.randint(1960, 2200)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} "
                          f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}")
    if k == 8:
        return json.dumps(f"{rng.randint(1970, 2100)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T"
                          f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}."
                          f"{rng.randint(0, 999999)}Z")
    if k == 9:
        return str(rng.randint(0, 2 ** 33))
    return json.dumps(rng.choice(["61f0c404-5cb3-11e7-907b-a6006ad3dba0", "abcd", "ab", "é", "-0", "+3", "inf",
                                  "NaN", "0.0001", "1700000000", "20240102"]))


FUZZ_TYPES = ["UInt8", "Int16", "UInt32", "Int64", "UInt64", "Float32", "Float64", "Bool", "String", "Date",
              "Date32", "DateTime", "DateTime64(3)", "DateTime64(6)", "Decimal(9, 2)", "Decimal(18, 6)", "UUID",
              "FixedString(4)", "Nullable(Int32)", "Array(Int32)", "Array(String)", "LowCardinality(String)",
              "DateTime('Asia/Tokyo')"]


def _documented_deviation(type_name: str, value: str) -> bool:
    """Inputs where mergetree is lenient on purpose (module docstring of mergetree.convert)."""
    t = T.parse_type(type_name).unwrap()
    is_float_literal = value[:1] in "-0123456789" and any(c in value for c in ".eE")
    if isinstance(t, T.IntType) and is_float_literal:
        return float(value).is_integer()  # integral floats are accepted into integers
    if isinstance(t, (T.DateType, T.Date32Type)):
        if isinstance(t, T.Date32Type) and value.lstrip("-").isdigit() and abs(int(value)) >= 2 ** 31:
            return True  # a day number beyond Int32 is an error, ClickHouse wraps it
        return value.startswith('"') and (" " in value or "T" in value)  # date part of a datetime
    return False


def test_random_json_values_match_chdb(chdb_module):
    """One chDB query per type (rows numbered, bad rows skipped with allow_errors): a row missing
    from chDB's output is an error there and must be an error here."""
    import random
    rng = random.Random(2026)
    by_type: dict[str, list[str]] = {}
    for _ in range(250):
        type_name, value = rng.choice(FUZZ_TYPES), _random_json_value(rng)
        if not _documented_deviation(type_name, value):
            by_type.setdefault(type_name, []).append(value)
    assert sum(map(len, by_type.values())) > 200
    for type_name, values in by_type.items():
        data = "\n".join(f'{{"i": {i}, "x": {v}}}' for i, v in enumerate(values))
        sql = (f"SELECT i, x FROM format(JSONEachRow, $$i UInt32, x {type_name}$$, $${data}$$) SETTINGS "
               "session_timezone = 'UTC', input_format_allow_errors_num = 1000000, "
               "input_format_allow_errors_ratio = 1")
        try:
            lines = str(chdb_module.query(sql, "TabSeparated")).split("\n")[:-1]
            expected = dict(line.split("\t", 1) for line in lines)
        except Exception:  # noqa: BLE001 - some errors are not skippable: ask value by value
            expected = {}
            for i, value in enumerate(values):
                one = (f"SELECT * FROM format(JSONEachRow, $$x {type_name}$$, $${{\"x\": {value}}}$$) "
                       "SETTINGS session_timezone = 'UTC'")
                try:
                    expected[str(i)] = str(chdb_module.query(one, "TabSeparated")).rstrip("\n")
                except Exception:  # noqa: BLE001
                    pass
        for i, value in enumerate(values):
            assert ours(type_name, value) == expected.get(str(i), "ERR"), (type_name, value)


TSV_CASES = [
    ("UInt8", "300"), ("UInt8", "-1"), ("Int32", "1.5"), ("Int32", "\\N"), ("Float64", "1,5"), ("Float64", "inf"),
    ("Bool", "true"), ("Bool", "yes"), ("Bool", "on"), ("Bool", "1"), ("Bool", "T"), ("Bool", "enable"),
    ("Bool", "2"), ("Date", "2024-01-02"), ("Date", "19000"), ("DateTime", "2024-01-02 03:04:05"),
    ("DateTime", "1700000000"), ("DateTime", "2024-01-02T03:04:05Z"), ("Decimal(9,2)", "1.239"),
    ("UUID", "61f0c404-5cb3-11e7-907b-a6006ad3dba0"), ("Nullable(Int32)", "\\N"), ("Nullable(String)", "\\N"),
    ("String", "\\N"), ("Array(UInt8)", "[1,2]"), ("Array(String)", "['a','b']"), ("Array(String)", "[a]"),
    ("FixedString(3)", "ab"), ("Array(Nullable(String))", "['a',NULL]"), ("Int64", "0x10"), ("Float32", "1e40"),
    ("LowCardinality(String)", "abc"), ("Array(String)", "['b\\'c','d']"),
]


@pytest.mark.parametrize("type_name,text", TSV_CASES)
def test_tsv_field_text_matches_chdb(chdb_module, type_name, text):
    from mergetree.convert import column_to_text
    sql = f"SELECT * FROM format(TSV, $$x {type_name}$$, $${text}$$) SETTINGS session_timezone = 'UTC'"
    try:
        expected = str(chdb_module.query(sql, "TSVRaw")).rstrip("\n")
    except Exception:  # noqa: BLE001
        expected = "ERR"
    try:
        value = column_to_text(text_to_column(T.parse_type(type_name), [text]))[0]
        got = "\\N" if value is None else value
    except ConversionError:
        got = "ERR"
    assert got == expected


@given(st.one_of(st.integers(0, 9).flatmap(lambda p: st.decimals(allow_nan=False, allow_infinity=False,
                                                                   places=p)).map(str),
                 st.floats(allow_nan=False, allow_infinity=False, min_value=-1e9, max_value=1e9),
                 st.sampled_from(["", ".5", "5.", "-.5", "+1.25", "1e3", "1.2.3", "abc", "-", "."])))
@settings(max_examples=300, deadline=None)
def test_decimal_fast_path_matches_decimal_module(value):
    """The plain-notation fast path equals exact Decimal arithmetic truncated toward zero."""
    t = T.Decimal(18, 4)
    text = repr(value) if isinstance(value, float) else value
    try:
        d = decimal.Decimal(text) if text else decimal.Decimal(0)
        ok = d.is_finite() and (text == "" or any(c.isdigit() for c in text)) and text not in ("-", ".")
    except decimal.InvalidOperation:
        ok = False
    if not ok or text.count(".") > 1:
        with pytest.raises(ConversionError):
            values_to_column(t, [value])
        return
    with decimal.localcontext() as ctx:
        ctx.prec = 80
        expected = int((d * 10 ** 4).to_integral_value(rounding=decimal.ROUND_DOWN))
    if abs(expected) > 10 ** 18 - 1:
        with pytest.raises(ConversionError):
            values_to_column(t, [value])
        return
    assert values_to_column(t, [value]).values.tolist() == [expected]


# --- partial conversion (quarantine) ---------------------------------------------------------------

def test_rows_to_block_partial_sets_bad_rows_aside():
    from mergetree.convert import rows_to_block_partial
    schema = [("id", T.UInt32), ("ts", T.DateTime), ("v", T.Nullable(T.Float64))]
    rows = [{"id": 1, "ts": "2024-01-01 00:00:00"}, {"id": "x", "ts": "2024-01-01 00:00:00"},
            {"id": 3, "ts": "nope"}, {"id": 4, "ts": 0, "v": "1.5"}, [1, 2], {"id": 6, "ts": 0, "v": "bad"}]
    block, rejected = rows_to_block_partial(schema, rows)
    assert block.to_pylist_rows() == [(1, dt.datetime(2024, 1, 1), None), (4, dt.datetime(1970, 1, 1), 1.5)]
    assert [(r.row, r.error.column) for r in rejected] == [(1, "id"), (2, "ts"), (4, None), (5, "v")]
    assert rejected[0].raw == rows[1] and "at row 1" in str(rejected[0].error)
    assert rejected[3].error.value == "bad"


def test_rows_to_block_partial_ndjson_and_many_errors():
    from mergetree.convert import rows_to_block_partial
    schema = [("id", T.UInt8)]
    lines = [b'{"id": %d}' % i if i % 3 else b'{"id": -1}' for i in range(60)]
    lines.insert(10, b'{"id": ')  # malformed line = row 10
    data = b"\n".join(lines[:5]) + b"\n\n" + b"\n".join(lines[5:])
    block, rejected = rows_to_block_partial(schema, data)
    expected_bad = sorted([i if i < 10 else i + 1 for i in range(60) if i % 3 == 0] + [10])
    assert [r.row for r in rejected] == expected_bad
    assert block["id"].to_pylist() == [i for i in range(60) if i % 3]
    assert "Malformed JSON" in str(next(r for r in rejected if r.row == 10).error)
    ok_block, none = rows_to_block_partial(schema, b'{"id": 1}\n{"id": 2}')
    assert ok_block["id"].to_pylist() == [1, 2] and none == []
