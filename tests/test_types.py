"""Data types: parse_type (ClickHouse names + SQL aliases), errors, defaults and text formatting."""

from __future__ import annotations

import datetime as dt
import decimal
import random
import uuid

import numpy as np
import pytest

from mergetree import types as T
from mergetree.errors import TypeDefinitionError, UnknownTypeError

CANONICAL = [
    "UInt8", "UInt16", "UInt32", "UInt64", "Int8", "Int16", "Int32", "Int64", "Float32", "Float64",
    "Bool", "String", "FixedString(4)", "LowCardinality(String)", "LowCardinality(Nullable(String))",
    "Date", "Date32", "DateTime", "DateTime('UTC')", "DateTime('Europe/Amsterdam')", "DateTime64(3)",
    "DateTime64(9, 'Asia/Kolkata')", "DateTime64(0)", "UUID", "Decimal(9, 2)", "Decimal(18, 18)",
    "Decimal(1, 0)", "Nullable(Int32)", "Nullable(DateTime64(6, 'UTC'))", "Array(UInt32)",
    "Array(Nullable(String))", "Array(Array(String))",
]


@pytest.mark.parametrize("name", CANONICAL)
def test_canonical_names_round_trip(name):
    t = T.parse_type(name)
    assert str(t) == name and t.name == name and repr(t) == name
    assert T.parse_type(str(t)) == t


# Expected canonical names per alias: from ClickHouse's system.data_type_families (alias_to)
# and toTypeName(CAST(... AS alias)) run in chDB 26.9.
ALIASES = {
    "BIGINT": "Int64", "bigint": "Int64", "BIGINT(20)": "Int64", "BIGINT UNSIGNED": "UInt64",
    "INT": "Int32", "int": "Int32", "INT(11)": "Int32", "INTEGER": "Int32", "INT UNSIGNED": "UInt32",
    "INTEGER SIGNED": "Int32", "MEDIUMINT": "Int32", "SMALLINT": "Int16", "SMALLINT UNSIGNED": "UInt16",
    "TINYINT": "Int8", "TINYINT UNSIGNED": "UInt8", "INT1": "Int8", "BYTE": "Int8", "YEAR": "UInt16",
    "SIGNED": "Int64", "UNSIGNED": "UInt64", "BIT": "UInt64", "SET": "UInt64",
    "VARCHAR": "String", "VARCHAR(255)": "String", "varchar(10)": "String", "TEXT": "String",
    "CHAR": "String", "CHAR(3)": "String", "CHARACTER VARYING": "String", "NATIONAL CHARACTER VARYING(5)": "String",
    "NVARCHAR": "String", "BLOB": "String", "LONGTEXT": "String", "BYTEA": "String", "CLOB": "String",
    "BINARY(4)": "FixedString(4)",
    "TIMESTAMP": "DateTime", "timestamp": "DateTime", "TIMESTAMP(3)": "DateTime64(3)", "DateTime(3)": "DateTime64(3)",
    "datetime": "DateTime", "DATETIME32": "DateTime", "DateTime64": "DateTime64(3)",
    "date": "Date", "DATE32": "Date32",
    "DOUBLE": "Float64", "DOUBLE PRECISION": "Float64", "DOUBLE(10)": "Float64", "FLOAT": "Float32",
    "FLOAT(24)": "Float32", "REAL": "Float32", "SINGLE": "Float32",
    "BOOLEAN": "Bool", "boolean": "Bool", "bool": "Bool", "BOOL": "Bool",
    "Decimal": "Decimal(10, 0)", "DECIMAL(5)": "Decimal(5, 0)", "NUMERIC(10,2)": "Decimal(10, 2)",
    "DEC(4, 1)": "Decimal(4, 1)", "Decimal32(2)": "Decimal(9, 2)", "decimal64(3)": "Decimal(18, 3)",
    "Nullable( UInt8 )": "Nullable(UInt8)", "Array(BIGINT)": "Array(Int64)",
    "Nullable(TIMESTAMP)": "Nullable(DateTime)", "Int32 ": "Int32",
}


@pytest.mark.parametrize("alias,expected", sorted(ALIASES.items()))
def test_sql_aliases(alias, expected):
    assert str(T.parse_type(alias)) == expected


def test_aliases_compare_equal_to_singletons():
    assert T.parse_type("BIGINT") == T.Int64
    assert T.parse_type("Nullable(String)") == T.Nullable(T.String)
    assert T.parse_type("DateTime64(3, 'UTC')") == T.DateTime64(3, "UTC")
    assert T.parse_type("Decimal64(4)") == T.Decimal(18, 4)
    assert hash(T.parse_type("Array(String)")) == hash(T.Array(T.String))


def test_agrees_with_chdb_type_names():
    chdb = pytest.importorskip("chdb")
    names = [n for n in list(ALIASES) + CANONICAL if n != "Int32 "]
    literals = [n.replace("\\", "\\\\").replace("'", "\\'") for n in names]
    sql = "SELECT " + ", ".join(f"toTypeName(defaultValueOfTypeName('{lit}'))" for lit in literals)
    got = str(chdb.query(sql, "TSVRaw")).rstrip("\n").split("\t")
    assert got == [str(T.parse_type(n)) for n in names]


@pytest.mark.parametrize("text,fragments", [
    ("Strng", ["Unknown data type family: Strng", "position 0", "String"]),
    ("string", ["Unknown data type family: string", "String"]),  # String is case-sensitive
    ("uint8", ["Unknown data type family: uint8", "UInt8"]),
    ("Nullable(Strng)", ["Unknown data type family: Strng", "position 9"]),
    ("Array(UInt8", ["position 11", "expected )"]),
    ("Int128", ["Int128", "not supported"]),
    ("Enum8", ["Enum8", "not supported"]),
    ("UInt8 UInt8", ["unexpected 'UInt8'"]),
])
def test_unknown_types_name_the_type_and_position(text, fragments):
    with pytest.raises(UnknownTypeError) as err:
        T.parse_type(text)
    for f in fragments:
        assert f in str(err.value)
    assert err.value.code == "UNKNOWN_TYPE"


@pytest.mark.parametrize("text,fragment", [
    ("FixedString(0)", "positive integer"),
    ("BINARY", "exactly one argument"),
    ("Nullable(Array(UInt8))", "cannot be inside Nullable"),
    ("Nullable(Nullable(UInt8))", "cannot be inside Nullable"),
    ("Nullable(LowCardinality(String))", "cannot be inside Nullable"),
    ("DateTime64(10)", "Scale 10"),
    ("Decimal(0, 0)", "between 1 and 76"),
    ("Decimal(5, 6)", "scales larger than precision"),
    ("Decimal(20, 2)", "up to 18"),
    ("DateTime('Mars/Olympus')", "Invalid time zone"),
    ("Array(UInt8, UInt8)", "exactly one type argument"),
])
def test_bad_type_arguments(text, fragment):
    with pytest.raises(TypeDefinitionError) as err:
        T.parse_type(text)
    assert fragment in str(err.value)


def test_physical_dtypes():
    assert T.UInt16.dtype == np.uint16 and T.Int64.dtype == np.int64 and T.Float32.dtype == np.float32
    assert T.Bool.dtype == np.uint8 and T.Date.dtype == np.uint16 and T.Date32.dtype == np.int32
    assert T.DateTime.dtype == np.uint32 and T.DateTime64(3).dtype == np.int64
    assert T.Decimal(9, 2).dtype == np.int32 and T.Decimal(10, 2).dtype == np.int64
    assert T.UUID.dtype == np.uint64 and T.UUID.value_shape == (2,)
    assert T.FixedString(5).value_shape == (5,)
    assert T.String.dtype is None and not T.String.is_fixed
    assert T.IntType(8, True).min_value == -128 and T.UInt64.max_value == 2 ** 64 - 1


def test_defaults():
    assert T.UInt8.default == 0 and T.Float64.default == 0.0 and T.Bool.default is False
    assert T.String.default == "" and T.FixedString(2).default == "\0\0"
    assert T.Date.default == dt.date(1970, 1, 1) and T.Date32.default == dt.date(1970, 1, 1)
    assert T.DateTime.default == dt.datetime(1970, 1, 1)
    kolkata = T.DateTimeType("Asia/Kolkata").default
    assert kolkata.utcoffset() == dt.timedelta(hours=5, minutes=30) and kolkata.hour == 5
    assert T.UUID.default == uuid.UUID(int=0) and T.Decimal(9, 2).default == 0
    assert T.Nullable(T.UInt8).default is None and T.Array(T.UInt8).default == []
    assert T.LowCardinality(T.String).default == ""


# --- text formatting -------------------------------------------------------------------------

@pytest.mark.parametrize("value,text", [
    (1e16, "10000000000000000"), (1e15, "1000000000000000"), (123456789012345680000.0, "123456789012345680000"),
    (1e21, "1e21"), (1e22, "1e22"), (1e-5, "0.00001"), (1e-4, "0.0001"), (1e-7, "1e-7"),
    (0.1 + 0.2, "0.30000000000000004"), (-0.0, "-0"), (0.0, "0"), (1.5e300, "1.5e300"), (5e-324, "5e-324"),
    (1.0, "1"), (-2.5, "-2.5"), (float("inf"), "inf"), (float("-inf"), "-inf"), (float("nan"), "nan"),
    (1.2345e-7, "1.2345e-7"), (-1.5e21, "-1.5e21"),
])
def test_format_float64_as_clickhouse(value, text):  # expectations printed by chDB 26.9
    assert T.Float64.format_value(value) == text


@pytest.mark.parametrize("value,text", [
    (0.1, "0.1"), (1e10, "10000000000"), (16777217.0, "16777216"), (1e-7, "1e-7"), (3.4e38, "3.4e38"),
])
def test_format_float32_as_clickhouse(value, text):
    assert T.Float32.format_value(value) == text


def test_format_float_random_against_chdb():
    chdb = pytest.importorskip("chdb")
    rng = random.Random(5)
    values = [rng.uniform(-1, 1) * 10 ** rng.randint(-12, 25) for _ in range(300)]
    values += [float(rng.randint(-10 ** 6, 10 ** 6)) for _ in range(50)]
    literal = ",".join(f"toFloat64('{v!r}')" for v in values)
    out = str(chdb.query(f"SELECT arrayJoin([{literal}])", "TabSeparated")).split()
    assert out == [T.format_float(v) for v in values]


@pytest.mark.parametrize("value,text", [
    ("1.50", "1.5"), ("2.00", "2"), ("-0.050", "-0.05"), ("0.00", "0"), ("-12.340", "-12.34"), ("100", "100"),
    ("1E+2", "100"), ("-0", "0"),
])
def test_format_decimal_without_trailing_zeros(value, text):
    assert T.Decimal(18, 4).format_value(decimal.Decimal(value)) == text


def test_format_dates_and_times():
    assert T.Date.format_value(dt.date(2149, 6, 6)) == "2149-06-06"
    assert T.Date32.format_value(dt.date(1900, 1, 1)) == "1900-01-01"
    assert T.DateTime.format_value(dt.datetime(2106, 2, 7, 6, 28, 15)) == "2106-02-07 06:28:15"
    # naive values are UTC; a typed zone converts (chDB: toDateTime(0, 'Asia/Kolkata') = 05:30:00)
    assert T.DateTimeType("Asia/Kolkata").format_value(dt.datetime(1970, 1, 1)) == "1970-01-01 05:30:00"
    aware = dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    assert T.DateTimeType("Europe/Amsterdam").format_value(aware) == "2024-01-02 04:04:05"
    assert T.DateTime64(3).format_value(dt.datetime(2024, 1, 2, 3, 4, 5, 100000)) == "2024-01-02 03:04:05.100"
    assert T.DateTime64(0).format_value(dt.datetime(2024, 1, 2, 3, 4, 5)) == "2024-01-02 03:04:05"
    assert T.DateTime64(9).format_value(dt.datetime(2024, 1, 2, 3, 4, 5, 123456)) == "2024-01-02 03:04:05.123456000"
    assert T.DateTime64(9).format_ticks(1704164645123456789) == "2024-01-02 03:04:05.123456789"
    assert T.DateTime64(3).format_ticks(-1500) == "1969-12-31 23:59:58.500"


def test_format_other_types():
    assert T.Bool.format_value(True) == "true" and T.Bool.format_value(False) == "false"
    u = uuid.UUID("61f0c404-5cb3-11e7-907b-a6006ad3dba0")
    assert T.UUID.format_value(u) == "61f0c404-5cb3-11e7-907b-a6006ad3dba0"
    assert T.Nullable(T.Int32).format_value(None) == "\\N"
    assert T.Array(T.String).format_value(["a", "b'c", None]) == "['a','b\\'c',NULL]"
    assert T.Array(T.UInt8).format_value([1, 2]) == "[1,2]"
    assert T.Array(T.Float64).format_value([1.0, float("nan")]) == "[1,nan]"
    assert T.Array(T.Date).format_value([dt.date(2024, 1, 2)]) == "['2024-01-02']"
    assert T.Int64.format_value(-(2 ** 63)) == "-9223372036854775808"


def test_unwrap_and_flags():
    t = T.parse_type("LowCardinality(Nullable(String))")
    assert t.unwrap() == T.String and t.is_nullable
    assert T.parse_type("Nullable(Decimal(9, 2))").unwrap() == T.Decimal(9, 2)
    assert T.Float64.is_numeric and not T.String.is_numeric


def test_array_text_escapes_match_chdb():
    chdb = pytest.importorskip("chdb")
    values = ["a\tb", "c\nd", "e\0f", "g\\h", "i'j", "k\rl", "m\bn", "o\fp", "é", ""]
    literal = ", ".join("'" + v.translate(str.maketrans({"\\": "\\\\", "'": "\\'", "\t": "\\t", "\n": "\\n",
                                                         "\0": "\\0", "\r": "\\r", "\b": "\\b", "\f": "\\f"})) + "'"
                        for v in values)
    expected = str(chdb.query(f"SELECT [{literal}]", "TSVRaw")).rstrip("\n")
    assert T.Array(T.String).format_value(values) == expected
    nested = str(chdb.query("SELECT [[toDate('2024-01-02')], []], [toFixedString('a', 2)], [NULL, 1.5]",
                            "TSVRaw")).rstrip("\n").split("\t")
    assert T.Array(T.Array(T.Date)).format_value([[dt.date(2024, 1, 2)], []]) == nested[0]
    assert T.Array(T.FixedString(2)).format_value(["a\0"]) == nested[1]
    assert T.Array(T.Nullable(T.Float64)).format_value([None, 1.5]) == nested[2]
