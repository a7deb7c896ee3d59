"""MATERIALIZED columns: left out of `*`, always computed on insert, shown by DESCRIBE and the
data source description.

Expectations from ClickHouse's documentation (a MATERIALIZED column "is not substituted when using
an asterisk in a SELECT query", "cannot be specified for INSERT", its value is always calculated)
and chDB 26.9 runs (`SELECT *` over `a, m MATERIALIZED a * 2, d` returns `a, d`; JSONEachRow skips a
given `m`: input_format_skip_unknown_fields = 1). SQL behaviour is covered by golden 00551.
"""

from __future__ import annotations

import textwrap

import orjson
import pytest
from starlette.testclient import TestClient

import mergetree
from mergetree.errors import IllegalColumnError, UnknownColumnError
from mergetree.server.app import create_app


@pytest.fixture
def db(tmp_path):
    d = mergetree.connect(tmp_path / "db")
    d.sql("CREATE TABLE t (a UInt32, m UInt32 MATERIALIZED a * 2, d UInt32 DEFAULT 7) "
          "ENGINE = MergeTree ORDER BY a")
    yield d
    d.close()


def test_python_inserts_compute_materialized_columns_whatever_the_rows_say(db):
    db.insert("t", [{"a": 1, "m": 100}])                 # list of dicts
    db.insert("t", {"a": [2], "m": [200], "d": [5]})      # dict of columns
    db.insert("t", b'{"a": 3, "m": 300}\n')               # NDJSON
    res = db.sql("SELECT *, m FROM t ORDER BY a")
    assert [n for n, _ in res.columns] == ["a", "d", "m"]
    assert res.rows == [(1, 7, 2), (2, 5, 4), (3, 7, 6)]


def test_sql_insert_rules(db):
    with pytest.raises(IllegalColumnError, match="Cannot insert column m, because it is MATERIALIZED"):
        db.sql("INSERT INTO t (a, m) VALUES (1, 2)")
    with pytest.raises(UnknownColumnError, match="No such column zz in table t"):
        db.sql("INSERT INTO t (a, zz) VALUES (1, 2)")
    db.sql("INSERT INTO t VALUES (1, 3)")               # positional: the columns but m
    db.sql("INSERT INTO t (a) SELECT 4")                # d from its DEFAULT, m computed
    assert db.sql("SELECT a, m, d FROM t ORDER BY a").rows == [(1, 2, 3), (4, 8, 7)]


def test_replace_computes_materialized_columns(db):
    db.replace("t", [{"a": 5, "m": 1}])
    assert db.sql("SELECT a, m, d FROM t").rows == [(5, 10, 7)]


DS = """
SCHEMA >
    `id` UInt32 `json:$.id`,
    `twice` UInt32 MATERIALIZED id * 2,
    `name` String `json:$.name`

ENGINE "MergeTree"
ENGINE_SORTING_KEY "id"
"""
PIPE_STAR = """
NODE n
SQL >
    SELECT * FROM things ORDER BY id
"""
PIPE_NAMED = """
NODE first
SQL >
    SELECT *, twice FROM things

NODE n
SQL >
    SELECT * FROM first ORDER BY id
"""
ADMIN = "admin-secret-long-enough-for-hs256-keys"
H = {"Authorization": f"Bearer {ADMIN}"}


def test_service_pipes_star_and_datasource_schema(tmp_path):
    root = tmp_path / "p"
    for rel, text in {"datasources/things.datasource": DS, "pipes/star.pipe": PIPE_STAR,
                      "pipes/named.pipe": PIPE_NAMED}.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(textwrap.dedent(text).lstrip("\n"))
    with TestClient(create_app(tmp_path / "data", admin_token=ADMIN, project=root)) as c:
        r = c.post("/v0/events?name=things&wait=true", headers=H,
                   content=b'{"id": 1, "name": "a", "twice": 99}\n{"id": 2, "name": "b"}')
        assert r.status_code in (200, 202), r.text
        star = c.get("/v0/pipes/star.json", headers=H).json()
        assert [m["name"] for m in star["meta"]] == ["id", "name"]
        assert star["data"] == [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}]
        named = c.get("/v0/pipes/named.json", headers=H).json()
        assert named["data"] == [{"id": 1, "name": "a", "twice": 2}, {"id": 2, "name": "b", "twice": 4}]
        info = c.get("/v0/datasources/things", headers=H).json()
        cols = {x["name"]: x["default_value"] for x in info["schema"]["columns"]}
        assert list(cols) == ["id", "twice", "name"]           # the description lists every column
        assert cols["twice"].startswith("MATERIALIZED")
        r = c.get("/v0/sql", params={"q": "SELECT * FROM things ORDER BY id FORMAT JSONEachRow"}, headers=H)
        assert [orjson.loads(x) for x in r.content.splitlines()] == [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}]
        # a CSV record's fields are the columns but the MATERIALIZED one (chDB: INSERT FORMAT CSV `3,c`)
        r = c.post("/v0/datasources", params={"mode": "append", "name": "things", "format": "csv"}, headers=H,
                   files={"csv": ("x.csv", b"3,c\n")})
        assert r.status_code == 200, r.text
        r = c.get("/v0/sql", params={"q": "SELECT *, twice FROM things WHERE id = 3 FORMAT JSONEachRow"}, headers=H)
        assert orjson.loads(r.content) == {"id": 3, "name": "c", "twice": 6}
