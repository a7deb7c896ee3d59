"""Pretty, PrettyCompact, PrettySpace, Vertical, Markdown, CSVWithNamesAndTypes: the same bytes as
chDB (ClickHouse 26.x) for the same query, including the footer at 50+ rows, the 1000-row cut,
multi-line values, wide characters and the large-number tip; Parquet decodes to the same values
as chDB's Parquet; to_arrow()/to_pandas()."""

from __future__ import annotations

import io

import pytest

chdb = pytest.importorskip("chdb")

import mergetree  # noqa: E402
from mergetree.sql import execute  # noqa: E402

QUERIES = [
    "SELECT 1 AS a, -2 AS b, 1.5 AS c, 'x|y\"z' AS s, NULL AS n, true AS bo, nan AS f, -inf AS g",
    "SELECT toDate('2020-01-02') AS d, toDateTime('2020-01-02 03:04:05') AS ts, toFloat32(0.1) AS f32",
    "SELECT number, toString(number) AS s, number / 3 AS q, nullIf(number, 1) AS nn FROM numbers(4)",
    "SELECT number FROM numbers(10) WHERE number > 100",
    "SELECT 'a,b' AS x, 'line\nbreak\nthree' AS z, 7 AS n",
    "SELECT '日本語' AS j, 'héllo' AS h, [1, 2] AS arr, ['a', 'b'] AS sa",
    "SELECT number * 10000000 AS big FROM numbers(3)",
    "SELECT 123456789012 AS x",
    "SELECT -12345678 AS x, 1 AS y",
    "SELECT 1000000 AS x",
    "SELECT 1500000.5 AS x",
    "SELECT number AS n, toString(number) AS s FROM numbers(49)",
    "SELECT number AS n, toString(number) AS s FROM numbers(50)",
    "SELECT number AS n, 'ab' AS s FROM numbers(1005)",
    "SELECT toNullable(5000000) AS x",
    "SELECT number AS abcdefghijklmnopqrstuvwxyz0123456789, number > 1 AS flag FROM numbers(3)",
]
FORMATS = ["Pretty", "PrettyCompact", "PrettySpace", "Vertical", "Markdown", "CSVWithNamesAndTypes"]
ALIASES = ["PrettyNoEscapes", "PrettyCompactMonoBlock", "PrettySpaceNoEscapesMonoBlock", "Null"]


@pytest.fixture(scope="module")
def db():
    with mergetree.connect(background_merges=False) as d:
        yield d


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("query", QUERIES)
def test_same_bytes_as_chdb(db, query, fmt):
    expected = chdb.query(query, fmt).bytes()
    got = execute(db, query).format(fmt)
    assert got.decode() == expected.decode()


@pytest.mark.parametrize("fmt", ALIASES)
def test_format_aliases_same_bytes_as_chdb(db, fmt):
    query = "SELECT number AS n, toString(number) AS s, 1234567 AS big FROM numbers(3)"
    assert execute(db, query).format(fmt).decode() == chdb.query(query, fmt).bytes().decode()


ROW_QUERIES = [
    r"SELECT number AS n, toString(number) AS s, if(number=1, NULL, number/3) AS f, [number, 1] AS a, "
    r"'q\'t\\x' AS e, toDate('2024-01-01') AS d, nan AS x, ['a', NULL] AS na FROM numbers(2)",
    "SELECT toDateTime('2024-01-02 03:04:05') AS ts, 'tab\tnl\n' AS t, -1.5 AS g, true AS b, NULL AS z",
    "SELECT number FROM numbers(0)",
]


@pytest.mark.parametrize("fmt", ["JSONCompactEachRow", "JSONCompactEachRowWithNames",
                                 "JSONCompactEachRowWithNamesAndTypes", "Values"])
@pytest.mark.parametrize("query", ROW_QUERIES)
def test_row_formats_same_bytes_as_chdb(db, query, fmt):
    assert execute(db, query).format(fmt).decode() == chdb.query(query, fmt).bytes().decode()


PARQUET_QUERIES = [
    "SELECT number AS n, toString(number) AS s, number / 3 AS f, nullIf(number, 1) AS nn, "
    "toInt8(number) - 3 AS i8, toFloat32(number) AS f32 FROM numbers(5)",
    "SELECT toDate('2020-01-02') + number AS d, [number, number + 1] AS a, number % 2 = 0 AS b FROM numbers(3)",
]


@pytest.mark.parametrize("query", PARQUET_QUERIES)
def test_parquet_decodes_like_chdb(db, query):
    pq = pytest.importorskip("pyarrow.parquet")
    expected = pq.read_table(io.BytesIO(chdb.query(query, "Parquet").bytes()))
    got = pq.read_table(io.BytesIO(execute(db, query).format("Parquet")))
    assert got.column_names == expected.column_names
    assert got.to_pylist() == expected.to_pylist()
    for a, b in zip(got.schema, expected.schema):
        assert a.type == b.type, a.name


def test_parquet_datetime_round_trips(db):
    pq = pytest.importorskip("pyarrow.parquet")
    query = "SELECT toDateTime('2024-03-04 05:06:07') AS dt"
    got = pq.read_table(io.BytesIO(execute(db, query).format("Parquet"))).to_pylist()
    expected = pq.read_table(io.BytesIO(chdb.query(query, "Parquet").bytes())).to_pylist()
    assert got == expected


def test_to_arrow_types_and_values(db):
    pa = pytest.importorskip("pyarrow")
    db.sql("CREATE TABLE IF NOT EXISTS arrow_t (id UInt32, u UUID, dec Decimal(9, 2), s LowCardinality(String), "
           "ns Nullable(String), ts DateTime) ENGINE = MergeTree ORDER BY id")
    db.sql("INSERT INTO arrow_t VALUES (1, '00000000-0000-0000-0000-000000000001', 1.5, 'x', NULL, "
           "'2024-01-01 00:00:01'), (2, '00000000-0000-0000-0000-000000000002', -2.25, 'y', 'z', "
           "'2024-01-01 00:00:02')")
    t = db.sql("SELECT * FROM arrow_t ORDER BY id").to_arrow()
    assert t.schema.field("id").type == pa.uint32()
    assert t.schema.field("dec").type == pa.decimal128(9, 2)
    assert t.schema.field("ts").type == pa.timestamp("s", tz="UTC")
    rows = t.to_pylist()
    assert [str(r["u"]) for r in rows] == ["00000000-0000-0000-0000-000000000001",
                                           "00000000-0000-0000-0000-000000000002"]
    assert [str(r["dec"]) for r in rows] == ["1.50", "-2.25"]
    assert [r["s"] for r in rows] == ["x", "y"] and [r["ns"] for r in rows] == [None, "z"]


def test_to_pandas(db):
    pytest.importorskip("pandas")
    df = db.sql("SELECT number AS n, toString(number) AS s, nullIf(number, 1) AS nn FROM numbers(3)").to_pandas()
    assert list(df.columns) == ["n", "s", "nn"]
    assert df["n"].tolist() == [0, 1, 2] and df["s"].tolist() == ["0", "1", "2"]
    assert df["nn"].isna().tolist() == [False, True, False]


def test_missing_pyarrow_is_a_clear_import_error(db, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "pyarrow" or name.startswith("pyarrow."):
            raise ImportError("No module named 'pyarrow'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    import importlib

    monkeypatch.setattr(importlib, "import_module", lambda name, *a: fake_import(name))
    res = db.sql("SELECT 1 AS x")
    with pytest.raises(ImportError, match="pip install pyarrow"):
        res.to_arrow()
    with pytest.raises(ImportError, match="pip install pyarrow"):
        res.format("Parquet")
