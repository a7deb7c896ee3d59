"""A part corrupted on disk after it was loaded, read through SQL (the exec/scan.py path, not the
storage read API): the query fails with CORRUPTED_DATA naming the part and the file, the part moves
to ``detached/broken_<name>`` like the storage read path does (storage/select.py), and later queries
are answered from the remaining parts (expected sums computed by hand). Over HTTP the error is the
JSON error shape with that message (a 500, as ClickHouse answers CHECKSUM_DOESNT_MATCH), never a
traceback."""

from __future__ import annotations

import os

import pytest

import mergetree
from mergetree.errors import CorruptedPartError


def _corrupt(part_dir, column: str) -> None:
    f = part_dir / f"{column}.bin"
    data = bytearray(f.read_bytes())
    data[len(data) // 2] ^= 0xFF
    f.write_bytes(bytes(data))


def _fill(db):
    db.sql("CREATE TABLE t (k UInt64, s String) ENGINE = MergeTree ORDER BY k")
    db.insert("t", {"k": list(range(1000)), "s": [f"v{i}" for i in range(1000)]})
    db.insert("t", {"k": list(range(1000, 2000)), "s": [f"w{i}" for i in range(1000)]})
    return sorted(p["name"] for p in db.table("t").parts())


@pytest.mark.parametrize("query, column", [
    ("SELECT sum(k) FROM t", "k"),
    ("SELECT sum(length(s)) FROM t WHERE k % 2 = 0", "s"),          # PREWHERE path: s read second
    ("SELECT min(k) FROM t WHERE s != ''", "k"),
])
def test_select_over_a_corrupt_part_detaches_it(tmp_path, query, column):
    db = mergetree.connect(str(tmp_path / "db"), background_merges=False)
    try:
        first, second = _fill(db)
        _corrupt(db.table("t").path / first, column)
        with pytest.raises(CorruptedPartError) as err:
            db.sql(query)
        assert err.value.code == "CORRUPTED_DATA"
        assert err.value.part == first and err.value.file.startswith(column), err.value
        assert f"part {first}" in str(err.value)
        assert os.listdir(db.table("t").path / "detached") == [f"broken_{first}"]
        assert [p["name"] for p in db.table("t").parts()] == [second]
        # 1000 + ... + 1999 = 1499500; the rows of the healthy part are still served
        assert db.sql("SELECT count(), sum(k), min(k) FROM t").rows == [(1000, 1499500, 1000)]
    finally:
        db.close()


def test_min_from_index_path_detaches_too(tmp_path):
    """min(k) over a part with deleted rows reads the column (exec/scan._read_key_bounds)."""
    db = mergetree.connect(str(tmp_path / "db"), background_merges=False)
    try:
        first, _ = _fill(db)
        db.delete("t", "k = 5")
        part = [p["name"] for p in db.table("t").parts() if p["name"].startswith(first.rsplit("_", 1)[0])][0]
        _corrupt(db.table("t").path / part, "k")
        with pytest.raises(CorruptedPartError, match=f"part {part}, file k"):
            db.sql("SELECT min(k) FROM t")
        assert db.sql("SELECT min(k), count() FROM t").rows == [(1000, 1000)]
    finally:
        db.close()


def test_http_answers_the_named_error(tmp_path):
    from starlette.testclient import TestClient

    from mergetree.server.app import create_app

    admin = "admin-secret-long-enough-for-hs256-keys"
    headers = {"Authorization": f"Bearer {admin}"}
    app = create_app(tmp_path / "data", admin_token=admin, flush_interval=0.05)
    with TestClient(app, raise_server_exceptions=False) as client:
        r = client.post("/v0/datasources", params={"name": "t", "schema": "k UInt64, s String",
                                                   "engine_sorting_key": "k"}, headers=headers)
        assert r.status_code == 200, r.text
        body = "\n".join(f'{{"k": {i}, "s": "x"}}' for i in range(1000)).encode()
        r = client.post("/v0/events", params={"name": "t", "wait": "true"}, content=body, headers=headers)
        assert r.status_code == 200, r.text      # one part (a single part is never merged away)
        r = client.get("/v0/sql", params={"q": "SELECT name FROM system.parts WHERE table = 't' AND active "
                                                "ORDER BY name FORMAT JSON"}, headers=headers)
        parts = [row["name"] for row in r.json()["data"]]
        assert len(parts) == 1, parts
        root = tmp_path / "data"
        part_dir = next(p for p in root.rglob(parts[0]) if p.is_dir() and p.parent.name == "t")
        _corrupt(part_dir, "k")
        r = client.get("/v0/sql", params={"q": "SELECT sum(k) FROM t"}, headers=headers)
        assert r.status_code == 500, r.text
        err = r.json()
        assert set(err) >= {"error", "documentation"}
        assert f"part {parts[0]}, file k" in err["error"] and "CORRUPTED_DATA" in err["error"], err
        assert "Traceback" not in r.text and str(root) not in r.text
        r = client.get("/v0/sql", params={"q": "SELECT count(), sum(k) FROM t FORMAT JSON"}, headers=headers)
        assert r.status_code == 200, r.text
        assert list(r.json()["data"][0].values()) in ([0, "0"], [0, 0])     # the broken part is detached
