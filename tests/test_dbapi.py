"""PEP 249 interface (mergetree.dbapi): module globals, connection/cursor protocol, parameters
(pyformat, positional %s, ClickHouse {name:Type}), description, fetch*, and the exception
hierarchy mapping mergetree's ClickHouse error codes."""

from __future__ import annotations

import datetime as dt
import decimal

import pytest

import mergetree.dbapi as dbapi


@pytest.fixture()
def conn():
    c = dbapi.connect(background_merges=False)
    yield c
    c.close()


@pytest.fixture()
def cur(conn):
    cur = conn.cursor()
    cur.execute("CREATE TABLE t (id UInt32, name String, ts DateTime, x Nullable(Float64)) "
                "ENGINE = MergeTree ORDER BY id")
    cur.executemany("INSERT INTO t VALUES (%(id)s, %(name)s, %(ts)s, %(x)s)", [
        {"id": 1, "name": "it's\\a\ttab", "ts": dt.datetime(2024, 1, 2, 3, 4, 5), "x": None},
        {"id": 2, "name": "b", "ts": dt.datetime(2024, 1, 3), "x": 1.5},
        {"id": 3, "name": "c", "ts": dt.datetime(2024, 1, 4), "x": -2.0},
    ])
    return cur


def test_module_globals():
    assert dbapi.apilevel == "2.0"
    assert dbapi.threadsafety == 1
    assert dbapi.paramstyle == "pyformat"
    for name in ("Warning", "Error", "InterfaceError", "DatabaseError", "DataError", "OperationalError",
                 "IntegrityError", "InternalError", "ProgrammingError", "NotSupportedError"):
        assert hasattr(dbapi, name) and hasattr(dbapi.Connection, name)
    assert issubclass(dbapi.ProgrammingError, dbapi.DatabaseError) and issubclass(dbapi.DatabaseError, dbapi.Error)
    assert issubclass(dbapi.DataError, dbapi.DatabaseError) and issubclass(dbapi.InterfaceError, dbapi.Error)


def test_description_rowcount_and_fetch(cur):
    cur.execute("SELECT id, name, x FROM t ORDER BY id")
    assert [d[0] for d in cur.description] == ["id", "name", "x"]
    assert [d[1] for d in cur.description] == ["UInt32", "String", "Nullable(Float64)"]
    assert [d[6] for d in cur.description] == [False, False, True]
    assert all(len(d) == 7 for d in cur.description)
    assert cur.description[0][1] == dbapi.NUMBER and cur.description[1][1] == dbapi.STRING
    assert cur.description[2][1] == dbapi.NUMBER and cur.description[1][1] != dbapi.NUMBER
    assert cur.rowcount == 3
    assert cur.fetchone() == (1, "it's\\a\ttab", None)      # the escaped literal round-trips
    cur.arraysize = 2
    assert cur.fetchmany() == [(2, "b", 1.5), (3, "c", -2.0)]
    assert cur.fetchone() is None
    assert cur.fetchall() == [] and cur.fetchmany(5) == []


def test_iteration_and_types(cur):
    cur.execute("SELECT ts, toDate(ts) AS d FROM t ORDER BY id")
    rows = list(cur)
    assert rows[0] == (dt.datetime(2024, 1, 2, 3, 4, 5), dt.date(2024, 1, 2))
    assert cur.description[0][1] == dbapi.DATETIME


def test_pyformat_positional_and_clickhouse_params(cur):
    cur.execute("SELECT id FROM t WHERE name = %(n)s", {"n": "b"})
    assert cur.fetchall() == [(2,)]
    cur.execute("SELECT id FROM t WHERE id IN %s AND x > %s ORDER BY id", [(1, 2, 3), -5])
    assert cur.fetchall() == [(2,), (3,)]
    cur.execute("SELECT count() FROM t WHERE id >= {m:UInt32}", {"m": 2})
    assert cur.fetchone() == (2,)
    cur.execute("SELECT %(d)s AS d, %(s)s AS s, %(b)s AS b, %(n)s AS n, %(dec)s AS dec, '100%%' AS p",
                {"d": dt.date(2020, 5, 6), "s": "x'y", "b": True, "n": None, "dec": decimal.Decimal("1.25")})
    assert cur.fetchone() == (dt.date(2020, 5, 6), "x'y", True, None, 1.25, "100%")


def test_parameter_errors(cur):
    with pytest.raises(dbapi.ProgrammingError, match="no value for parameter"):
        cur.execute("SELECT %(a)s", {"b": 1})
    with pytest.raises(dbapi.ProgrammingError, match="2 parameters"):
        cur.execute("SELECT %s", [1, 2])
    with pytest.raises(dbapi.InterfaceError, match="object"):
        cur.execute("SELECT %s", [object()])


@pytest.mark.parametrize("sql, cls, code", [
    ("SELEC 1", dbapi.ProgrammingError, "SYNTAX_ERROR"),
    ("SELECT * FROM missing", dbapi.ProgrammingError, "UNKNOWN_TABLE"),
    ("SELECT nosuch FROM t", dbapi.ProgrammingError, "UNKNOWN_IDENTIFIER"),
    ("SELECT intDiv(1, 0)", dbapi.DataError, "ILLEGAL_DIVISION"),
    ("SELECT toDate('garbage')", dbapi.DataError, None),
])
def test_errors_map_to_pep249_classes(cur, sql, cls, code):
    with pytest.raises(cls) as info:
        cur.execute(sql)
    if code:
        assert info.value.code == code and code in str(info.value)
    assert info.value.__cause__ is not None
    cur.execute("SELECT count() FROM t")          # still usable afterwards
    assert cur.fetchone() == (3,)


def test_no_result_set_and_closed_objects(conn):
    cur = conn.cursor()
    with pytest.raises(dbapi.ProgrammingError, match="no result set"):
        cur.fetchone()
    cur.execute("CREATE TABLE u (a UInt8) ENGINE = MergeTree ORDER BY a")
    assert cur.description is None and cur.rowcount == -1
    conn.commit()
    with pytest.raises(dbapi.NotSupportedError):
        conn.rollback()
    cur.close()
    with pytest.raises(dbapi.InterfaceError):
        cur.execute("SELECT 1")
    conn.close()
    assert conn.closed
    with pytest.raises(dbapi.InterfaceError):
        conn.cursor()


def test_connect_to_a_directory_persists(tmp_path):
    with dbapi.connect(tmp_path / "db", background_merges=False) as c:
        c.cursor().execute("CREATE TABLE k (a UInt8) ENGINE = MergeTree ORDER BY a")
        c.cursor().execute("INSERT INTO k VALUES (%s)", [7])
    with dbapi.connect(tmp_path / "db", background_merges=False) as c:
        cur = c.cursor()
        cur.execute("SELECT a FROM k")
        assert cur.fetchall() == [(7,)]


def test_limits_and_cancel_are_operational_errors(cur):
    import threading

    with pytest.raises(dbapi.OperationalError) as info:
        cur.execute("SELECT name FROM t ORDER BY name SETTINGS max_memory_usage = 10")
    assert info.value.code == "MEMORY_LIMIT_EXCEEDED"
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(dbapi.OperationalError) as info:
        cur.execute("SELECT 1", cancel=cancel)
    assert info.value.code == "QUERY_WAS_CANCELLED"
    cur.execute("SELECT count() FROM t")
    assert cur.fetchone() == (3,)


def test_executemany_insert_is_one_batch(conn):
    cur = conn.cursor()
    cur.execute("CREATE TABLE b (id UInt32, s String) ENGINE = MergeTree ORDER BY id")
    cur.executemany("INSERT INTO b (id, s) VALUES (%s, %s)", [(i, f"v'{i}") for i in range(2000)])
    assert cur.rowcount == 2000
    assert len(conn.database.table("b").parts()) == 1          # one insert, not 2000
    cur.execute("SELECT count(), sum(id), max(s) FROM b")
    assert cur.fetchone() == (2000, 1999 * 2000 // 2, "v'999")
    cur.executemany("INSERT INTO b VALUES (%(id)s, %(s)s);", [{"id": 5000, "s": "x"}, {"id": 5001, "s": "y"}])
    assert cur.rowcount == 2
    cur.execute("SELECT count() FROM b WHERE id >= 5000")
    assert cur.fetchone() == (2,)
