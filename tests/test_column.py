"""Columns and blocks: layouts, round trips of every type, take/filter/slice/concat against Python
lists (hypothesis), ClickHouse ordering (against a Python reference and chDB), Block API."""

from __future__ import annotations

import datetime as dt
import decimal
import functools
import math
import uuid

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mergetree import types as T
from mergetree.column import (ArrayColumn, Block, Column, FixedColumn, LowCardinalityColumn, NullableColumn,
                              StringColumn, column_from_numpy, column_from_values, default_column, empty_column)
from mergetree.errors import SizesMismatchError, TypeMismatchError, UnknownColumnError
from mergetree.kernels.sort import sort_permutation

UTC = dt.timezone.utc


def same(a, b) -> bool:
    """Equality where NaN equals NaN (recursively through lists)."""
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return type(a) is type(b) and a == b


# --- physical layouts --------------------------------------------------------------------------

def test_string_layout():
    c = column_from_values(T.String, ["ab", "", "é"])
    assert isinstance(c, StringColumn)
    assert c.offsets.dtype == np.int64 and c.offsets.tolist() == [0, 2, 2, 4]
    assert c.data.dtype == np.uint8 and c.data.tobytes() == b"ab\xc3\xa9"
    assert c.nbytes == 4 * 8 + 4


def test_fixed_layouts():
    u = uuid.UUID("61f0c404-5cb3-11e7-907b-a6006ad3dba0")
    c = column_from_values(T.UUID, [u])
    assert c.values.dtype == np.uint64 and c.values.shape == (1, 2)
    assert c.values[0].tolist() == [0x61F0C4045CB311E7, 0x907BA6006AD3DBA0]
    f = column_from_values(T.FixedString(3), ["ab"])
    assert f.values.dtype == np.uint8 and f.values.tolist() == [[97, 98, 0]]
    assert column_from_values(T.Bool, [True, False]).values.tolist() == [1, 0]
    assert column_from_values(T.Date, [dt.date(1970, 1, 2)]).values.dtype == np.uint16
    d = column_from_values(T.Decimal(9, 2), [decimal.Decimal("1.25")])
    assert d.values.dtype == np.int32 and d.values.tolist() == [125]
    assert column_from_values(T.Decimal(12, 3), ["1"]).values.dtype == np.int64
    t = column_from_values(T.DateTime64(3), [dt.datetime(1970, 1, 1, 0, 0, 1, 500000)])
    assert t.values.tolist() == [1500]


def test_nullable_array_lowcardinality_layouts():
    n = column_from_values(T.Nullable(T.Int32), [1, None, 3])
    assert isinstance(n, NullableColumn) and n.nulls.tolist() == [False, True, False]
    assert n.values.values.tolist() == [1, 0, 3]  # the type default under NULL
    a = column_from_values(T.Array(T.UInt8), [[1, 2], [], [3]])
    assert isinstance(a, ArrayColumn) and a.offsets.tolist() == [0, 2, 2, 3]
    assert a.values.values.tolist() == [1, 2, 3]
    lc = column_from_values(T.LowCardinality(T.String), ["x", "y", "x", "x"])
    assert isinstance(lc, LowCardinalityColumn)
    assert lc.dictionary.to_pylist() == ["x", "y"] and lc.codes.dtype == np.uint8
    assert lc.codes.tolist() == [0, 1, 0, 0]
    many = column_from_values(T.LowCardinality(T.String), [str(i) for i in range(300)])
    assert many.codes.dtype == np.uint16


# --- round trips of every type with edge values ------------------------------------------------

ROUND_TRIP = [
    ("UInt8", [0, 255, 7]), ("UInt16", [0, 65535]), ("UInt32", [0, 2 ** 32 - 1]), ("UInt64", [0, 2 ** 64 - 1]),
    ("Int8", [-128, 127, 0]), ("Int16", [-32768, 32767]), ("Int32", [-2 ** 31, 2 ** 31 - 1]),
    ("Int64", [-2 ** 63, 2 ** 63 - 1, 0]),
    ("Float64", [0.0, -0.0, 1.5, float("inf"), float("-inf"), float("nan"), 5e-324, 1.7976931348623157e308]),
    ("Float32", [0.5, float("inf"), float("-inf"), float("nan"), 3.4028234663852886e38]),
    ("Bool", [True, False]),
    ("String", ["", "abc", "héllo wörld", "日本語", "emoji 🎉", "tab\tnew\nline", "nul\0byte", "\udcff"]),
    ("FixedString(4)", ["abcd", "\0\0\0\0", "é\0\0"]),
    ("Date", [dt.date(1970, 1, 1), dt.date(2149, 6, 6), dt.date(2024, 2, 29)]),
    ("Date32", [dt.date(1900, 1, 1), dt.date(2299, 12, 31), dt.date(1969, 12, 31)]),
    ("DateTime", [dt.datetime(1970, 1, 1), dt.datetime(2106, 2, 7, 6, 28, 15), dt.datetime(2024, 3, 31, 2, 30)]),
    ("DateTime('UTC')", [dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)]),
    ("DateTime64(3)", [dt.datetime(1900, 1, 1), dt.datetime(2299, 12, 31, 23, 59, 59, 999000),
                       dt.datetime(1969, 12, 31, 23, 59, 59, 500000)]),
    ("DateTime64(6)", [dt.datetime(2024, 1, 2, 3, 4, 5, 123456)]),
    ("DateTime64(0)", [dt.datetime(2024, 1, 2, 3, 4, 5)]),
    ("UUID", [uuid.UUID(int=0), uuid.UUID(int=2 ** 128 - 1), uuid.UUID("61f0c404-5cb3-11e7-907b-a6006ad3dba0")]),
    ("Decimal(9, 2)", [decimal.Decimal("0"), decimal.Decimal("9999999.99"), decimal.Decimal("-9999999.99"),
                       decimal.Decimal("0.01")]),
    ("Decimal(18, 18)", [decimal.Decimal("0.999999999999999999"), decimal.Decimal("-0.000000000000000001")]),
    ("Decimal(18, 0)", [decimal.Decimal(10 ** 18 - 1), decimal.Decimal(-(10 ** 18 - 1))]),
    ("Nullable(String)", ["a", None, ""]),
    ("Nullable(Float64)", [None, float("nan"), 1.0]),
    ("Nullable(DateTime64(3, 'UTC'))", [None, dt.datetime(2024, 1, 2, 3, 4, 5, 123000, tzinfo=UTC)]),
    ("Array(UInt32)", [[1, 2, 3], [], [0]]),
    ("Array(Nullable(String))", [["a", None], [], [None]]),
    ("Array(Array(String))", [[["a"], []], [], [[""]]]),
    ("LowCardinality(String)", ["x", "", "x", "日本"]),
    ("LowCardinality(Nullable(String))", ["x", None, "x"]),
]


@pytest.mark.parametrize("type_name,values", ROUND_TRIP, ids=[r[0] for r in ROUND_TRIP])
def test_round_trip(type_name, values):
    t = T.parse_type(type_name)
    col = column_from_values(t, values)
    assert col.type == t and len(col) == len(values)
    assert same(col.to_pylist(), values)
    # through take/concat/slice too
    twice = Column.concat([col, col.take(np.arange(len(values))[::-1])])
    assert same(twice.to_pylist(), values + values[::-1])
    assert same(twice.slice(len(values), 2 * len(values)).to_pylist(), values[::-1])
    assert col.equals(column_from_values(t, values))


def test_tz_datetime_round_trip_is_aware_in_column_zone():
    t = T.DateTimeType("Asia/Kolkata")
    col = column_from_values(t, [dt.datetime(2024, 1, 2, 3, 4, 5)])  # naive = wall clock in the zone
    (value,) = col.to_pylist()
    assert value.utcoffset() == dt.timedelta(hours=5, minutes=30)
    assert value.replace(tzinfo=None) == dt.datetime(2024, 1, 2, 3, 4, 5)
    assert col.values.tolist() == [1704144845]  # chDB: toUnixTimestamp of that wall time in Kolkata
    assert t.format_value(value) == "2024-01-02 03:04:05"


def test_datetime64_nanoseconds_truncate_to_python_micros():
    col = FixedColumn(T.DateTime64(9), np.array([1_704_164_645_123_456_789], np.int64))
    assert col.to_pylist() == [dt.datetime(2024, 1, 2, 3, 4, 5, 123456)]
    neg = FixedColumn(T.DateTime64(9), np.array([-1], np.int64))
    assert neg.to_pylist() == [dt.datetime(1969, 12, 31, 23, 59, 59, 999999)]


def test_default_column_every_type():
    for type_name, _ in ROUND_TRIP:
        t = T.parse_type(type_name)
        col = default_column(t, 3)
        assert len(col) == 3 and col.type == t
        assert same(col.to_pylist(), [t.default] * 3)
        assert len(empty_column(t)) == 0 and empty_column(t).to_pylist() == []


def test_column_from_numpy():
    assert column_from_numpy(T.Int16, np.array([1, -2])).values.dtype == np.int16
    ts = np.array(["2024-01-02T03:04:05", "1970-01-01T00:00:00"], dtype="datetime64[s]")
    assert column_from_numpy(T.DateTime, ts).values.tolist() == [1704164645, 0]
    assert column_from_numpy(T.DateTime64(3), ts).values.tolist() == [1704164645000, 0]
    assert column_from_numpy(T.Date, ts.astype("datetime64[D]")).to_pylist() == [dt.date(2024, 1, 2),
                                                                                dt.date(1970, 1, 1)]
    assert column_from_numpy(T.String, np.array(["a", "bé"])).to_pylist() == ["a", "bé"]
    assert column_from_numpy("Nullable(Int32)", np.array([1.0, np.nan])).to_pylist() == [1, None]
    assert column_from_numpy(T.Float32, np.arange(3)).to_pylist() == [0.0, 1.0, 2.0]
    assert column_from_numpy(T.Bool, np.array([True, False])).to_pylist() == [True, False]


# --- constructors validate layouts -------------------------------------------------------------

def test_constructor_validation():
    with pytest.raises(TypeMismatchError):
        FixedColumn(T.UInt8, np.array([1, 2], np.int64))
    with pytest.raises(TypeMismatchError):
        FixedColumn(T.UUID, np.zeros(3, np.uint64))
    with pytest.raises(TypeMismatchError):
        FixedColumn(T.String, np.zeros(3, np.uint8))
    with pytest.raises(TypeMismatchError):
        StringColumn(T.String, np.array([0, 5], np.int64), np.zeros(3, np.uint8))
    with pytest.raises(TypeMismatchError):
        StringColumn(T.String, np.array([1, 3], np.int64), np.zeros(3, np.uint8))
    with pytest.raises(TypeMismatchError):
        NullableColumn(T.Nullable(T.Int8), column_from_values(T.Int16, [1]), np.array([False]))
    with pytest.raises(TypeMismatchError):
        NullableColumn(T.Nullable(T.Int8), column_from_values(T.Int8, [1]), np.array([False, True]))
    with pytest.raises(TypeMismatchError):
        ArrayColumn(T.Array(T.Int8), np.array([0, 2], np.int64), column_from_values(T.Int8, [1]))
    with pytest.raises(TypeMismatchError):
        LowCardinalityColumn(T.LowCardinality(T.String), column_from_values(T.String, ["a"]), np.zeros(2, np.int64))
    with pytest.raises(TypeMismatchError):
        Column.concat([column_from_values(T.Int8, [1]), column_from_values(T.Int16, [1])])
    with pytest.raises(TypeError):
        column_from_values(T.Int8, [1]) == column_from_values(T.Int8, [1])  # noqa: B015
    with pytest.raises(SizesMismatchError):
        column_from_values(T.Int8, [1, 2]).filter(np.array([True]))


# --- hypothesis: take / filter / slice / concat against Python lists ---------------------------

def _dt_strategy(lo, hi, micro_step=None):
    base = st.datetimes(min_value=lo, max_value=hi)
    if micro_step is None:
        return base.map(lambda d: d.replace(microsecond=0))
    return base.map(lambda d: d.replace(microsecond=d.microsecond - d.microsecond % micro_step))


TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=8)
STRATEGIES = {
    "Int8": st.integers(-128, 127),
    "UInt64": st.integers(0, 2 ** 64 - 1),
    "Float64": st.floats(allow_nan=True, allow_infinity=True),
    "Float32": st.floats(width=32, allow_nan=True),
    "Bool": st.booleans(),
    "String": TEXT,
    "FixedString(3)": st.text(alphabet="ab\0", min_size=3, max_size=3),
    "Date": st.dates(dt.date(1970, 1, 1), dt.date(2149, 6, 6)),
    "Date32": st.dates(dt.date(1900, 1, 1), dt.date(2299, 12, 31)),
    "DateTime": _dt_strategy(dt.datetime(1970, 1, 1), dt.datetime(2106, 2, 7, 6, 28, 15)),
    "DateTime64(3)": _dt_strategy(dt.datetime(1900, 1, 1), dt.datetime(2299, 12, 31), 1000),
    "Decimal(9, 2)": st.decimals(min_value=-9999999, max_value=9999999, places=2, allow_nan=False),
    "UUID": st.uuids(),
    "Nullable(Int32)": st.none() | st.integers(-2 ** 31, 2 ** 31 - 1),
    "Nullable(Float64)": st.none() | st.floats(allow_nan=True),
    "Nullable(String)": st.none() | TEXT,
    "Array(Int16)": st.lists(st.integers(-5, 5), max_size=4),
    "Array(Nullable(String))": st.lists(st.none() | st.sampled_from(["", "a", "b", "ab"]), max_size=4),
    "Array(Array(UInt8))": st.lists(st.lists(st.integers(0, 3), max_size=3), max_size=3),
    "LowCardinality(String)": st.sampled_from(["", "x", "y", "xy", "é"]),
    "LowCardinality(Nullable(String))": st.none() | st.sampled_from(["x", "y"]),
    "Array(LowCardinality(String))": st.lists(st.sampled_from(["p", "q", ""]), max_size=3),
    "Nullable(UUID)": st.none() | st.uuids(),
    "Nullable(FixedString(2))": st.none() | st.text(alphabet="a\0", min_size=2, max_size=2),
    "Array(Nullable(Float64))": st.lists(st.none() | st.floats(), max_size=3),
    "Nullable(Decimal(18, 4))": st.none() | st.decimals(min_value=-10 ** 10, max_value=10 ** 10, places=4,
                                                        allow_nan=False),
}


def _normalise(t: T.DataType, v):
    """What to_pylist returns for an input value (Float32 rounding)."""
    if v is None:
        return None
    if isinstance(t, (T.NullableType, T.LowCardinalityType)):
        return _normalise(t.inner, v)
    if isinstance(t, T.ArrayType):
        return [_normalise(t.inner, x) for x in v]
    if t == T.Float32:
        return float(np.float32(v))
    return v


@st.composite
def typed_values(draw):
    name = draw(st.sampled_from(sorted(STRATEGIES)))
    values = draw(st.lists(STRATEGIES[name], max_size=25))
    return T.parse_type(name), values


@given(typed_values(), st.data())
@settings(max_examples=300, deadline=None)
def test_take_filter_slice_concat_match_python(tv, data):
    t, values = tv
    col = column_from_values(t, values)
    expected = [_normalise(t, v) for v in values]
    assert same(col.to_pylist(), expected)
    n = len(values)
    idx = data.draw(st.lists(st.integers(0, max(n - 1, 0)), max_size=30)) if n else []
    assert same(col.take(np.array(idx, np.int64)).to_pylist(), [expected[i] for i in idx])
    mask = data.draw(st.lists(st.booleans(), min_size=n, max_size=n))
    assert same(col.filter(np.array(mask, bool)).to_pylist(), [v for v, m in zip(expected, mask) if m])
    a = data.draw(st.integers(0, n))
    b = data.draw(st.integers(a, n))
    assert same(col.slice(a, b).to_pylist(), expected[a:b])
    parts = [col.slice(0, a), col.slice(a, b), col.slice(b, n)]
    assert same(Column.concat(parts).to_pylist(), expected)
    assert Column.concat(parts).equals(col)
    assert same([col[i] for i in range(n)], expected)


# --- ordering --------------------------------------------------------------------------------

def _ref_key(t: T.DataType, v):
    """(special, base): special 0 = value, 1 = NaN, 2 = NULL; base comparable within special 0."""
    if v is None:
        return (2, 0)
    if isinstance(t, (T.NullableType, T.LowCardinalityType)):
        return _ref_key(t.inner, v)
    if isinstance(t, T.FloatType):
        return (1, 0) if math.isnan(v) else (0, v + 0.0)
    if isinstance(t, T.StringType):
        return (0, v.encode("utf-8", "surrogateescape"))
    if isinstance(t, T.FixedStringType):
        return (0, v.encode("utf-8", "surrogateescape"))
    if isinstance(t, T.UUIDType):
        return (0, (v.int & (2 ** 64 - 1), v.int >> 64))  # ClickHouse: low half first
    if isinstance(t, T.ArrayType):
        return (0, [_ref_key(t.inner, x) for x in v])
    return (0, v)


def _ref_order(t, values, descending):
    keys = [_ref_key(t, v) for v in values]

    def cmp(i, j):
        (si, bi), (sj, bj) = keys[i], keys[j]
        if si != sj:
            return -1 if si < sj else 1  # NaN and NULL last in both directions
        if bi == bj:
            return 0
        less = bi < bj
        return (1 if less else -1) if descending else (-1 if less else 1)
    return sorted(range(len(values)), key=functools.cmp_to_key(cmp))


@given(typed_values(), st.booleans())
@settings(max_examples=300, deadline=None)
def test_order_key_matches_clickhouse_order(tv, descending):
    t, values = tv
    if t == T.Float32:
        values = [float(np.float32(v)) for v in values]
    col = column_from_values(t, values)
    order = sort_permutation([col.order_key(descending)])
    assert order.tolist() == _ref_order(t, values, descending)
    # equal values <=> equal keys (ranks)
    ranks = col.dense_ranks()
    keys = [_ref_key(t, v) for v in values]
    for i in range(len(values)):
        for j in range(i + 1, min(len(values), i + 5)):
            assert (ranks[i] == ranks[j]) == (keys[i] == keys[j])


def test_order_matches_chdb_for_tricky_values():
    chdb = pytest.importorskip("chdb")
    floats = [1.0, float("nan"), float("-inf"), float("inf"), -0.0, 0.0, None, -1.5]
    col = column_from_values(T.Nullable(T.Float64), floats)
    for direction, desc in (("ASC", False), ("DESC", True)):
        ours = [T.Nullable(T.Float64).format_value(col[i]) for i in sort_permutation([col.order_key(desc)])]
        sql = ("SELECT x FROM (SELECT arrayJoin([1, nan, -inf, inf, -0., 0., NULL, -1.5]) AS x) "
               f"ORDER BY x {direction}")
        theirs = str(chdb.query(sql, "TabSeparated")).split("\n")[:-1]
        assert ours == theirs
    uuids = ["00000000-0000-0001-0000-000000000000", "00000000-0000-0000-ffff-ffffffffffff",
             "ffffffff-0000-0000-0000-000000000000", "00000001-0000-0000-0000-000000000000",
             "00000000-0000-0000-0000-000000000001"]
    col = column_from_values(T.UUID, uuids)
    ours = [str(col[i]) for i in sort_permutation([col.order_key()])]
    literal = ",".join(f"'{u}'" for u in uuids)
    theirs = str(chdb.query(f"SELECT toUUID(arrayJoin([{literal}])) AS u ORDER BY u", "TabSeparated")).split()
    assert ours == theirs
    arrays = [[1, 2], [1], [], [2], [1, None], [None]]
    col = column_from_values(T.Array(T.Nullable(T.UInt8)), arrays)
    ours = [T.Array(T.Nullable(T.UInt8)).format_value(col[i]) for i in sort_permutation([col.order_key()])]
    theirs = str(chdb.query("SELECT x FROM (SELECT arrayJoin([[1,2],[1],[],[2],[1,NULL],[NULL]]) AS x) ORDER BY x",
                            "TabSeparated")).split()
    assert ours == theirs


def test_lowcardinality_concat_unifies_dictionaries():
    a = column_from_values(T.LowCardinality(T.String), ["x", "y"])
    b = column_from_values(T.LowCardinality(T.String), ["z", "x", "x"])
    c = Column.concat([a, b])
    assert c.to_pylist() == ["x", "y", "z", "x", "x"]
    assert sorted(c.dictionary.to_pylist()) == ["x", "y", "z"]
    assert c.order_key().tolist() == [0, 1, 2, 0, 0]
    assert c.decode().equals(column_from_values(T.String, ["x", "y", "z", "x", "x"]))


def test_equals_ignores_values_under_null():
    t = T.Nullable(T.Int32)
    a = NullableColumn(t, column_from_values(T.Int32, [1, 5]), np.array([False, True]))
    b = NullableColumn(t, column_from_values(T.Int32, [1, 9]), np.array([False, True]))
    assert a.equals(b) and not a.equals(column_from_values(t, [1, 5]))
    assert column_from_values(T.Float64, [float("nan")]).equals(column_from_values(T.Float64, [float("nan")]))
    assert not column_from_values(T.Int32, [1]).equals(column_from_values(T.Int64, [1]))


# --- Block ----------------------------------------------------------------------------------------

def make_block():
    return Block({
        "id": column_from_values(T.UInt32, [3, 1, 2]),
        "name": column_from_values(T.String, ["c", "a", "b"]),
        "tags": column_from_values(T.Array(T.String), [["x"], [], ["y", "z"]]),
    })


def test_take_accepts_negative_indices_and_rejects_out_of_range():
    for t, values in [(T.String, ["a", "bb", "ccc"]), (T.Int32, [1, 2, 3]), (T.Array(T.String), [["a"], [], ["b"]]),
                      (T.Nullable(T.String), ["a", None, "c"]), (T.LowCardinality(T.String), ["a", "b", "a"])]:
        col = column_from_values(t, values)
        assert col.take(np.array([-1, 0, -3])).to_pylist() == [values[-1], values[0], values[-3]]
        with pytest.raises(IndexError):
            col.take(np.array([3]))


def test_block_basics():
    b = make_block()
    assert b.num_rows == 3 and len(b) == 3 and b.names == ["id", "name", "tags"]
    assert b.schema == [("id", T.UInt32), ("name", T.String), ("tags", T.Array(T.String))]
    assert b["name"].to_pylist() == ["c", "a", "b"] and "id" in b and "zz" not in b
    assert b.to_pylist_rows() == [(3, "c", ["x"]), (1, "a", []), (2, "b", ["y", "z"])]
    assert b.to_dicts()[1] == {"id": 1, "name": "a", "tags": []}
    assert b.take([1, 2]).to_pylist_rows() == [(1, "a", []), (2, "b", ["y", "z"])]
    assert b.filter(np.array([True, False, True])).to_pylist_rows() == [(3, "c", ["x"]), (2, "b", ["y", "z"])]
    assert b.slice(1, 10).num_rows == 2
    assert Block.concat([b, b.slice(0, 1)]).to_pylist_rows()[-1] == (3, "c", ["x"])
    assert b.select(["name"]).names == ["name"]
    assert b.with_column("x", column_from_values(T.UInt8, [1, 2, 3])).names == ["id", "name", "tags", "x"]
    assert b.sort_permutation(["id"]).tolist() == [1, 2, 0]
    assert b.sort_permutation(["name"], [True]).tolist() == [0, 2, 1]
    assert b.nbytes == sum(c.nbytes for _, c in b)
    assert b.equals(make_block()) and not b.equals(b.slice(0, 2))
    assert b.to_pydict()["id"] == [3, 1, 2]


def test_block_errors():
    with pytest.raises(SizesMismatchError):
        Block({"a": column_from_values(T.UInt8, [1]), "b": column_from_values(T.UInt8, [1, 2])})
    with pytest.raises(UnknownColumnError) as err:
        make_block()["nope"]
    assert "nope" in str(err.value)
    with pytest.raises(TypeMismatchError):
        Block.concat([make_block(), make_block().select(["id"])])
    assert Block({}, num_rows=4).num_rows == 4 and Block.concat([]).num_rows == 0


def test_blocks_pickle():
    import pickle
    b = Block({"a": column_from_values("Nullable(String)", ["x", None]),
               "l": column_from_values("LowCardinality(String)", ["p", "q"]),
               "arr": column_from_values("Array(UInt8)", [[1], []]),
               "t": column_from_values("DateTime64(3, 'UTC')", [0, 1500])})
    back = pickle.loads(pickle.dumps(b))
    assert back.equals(b) and back.schema == b.schema
