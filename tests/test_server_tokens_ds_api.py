"""Data Sources API completeness: mode=replace (atomic, replace_condition), multipart file uploads
(CSV / NDJSON, gzip), and GET /v0/jobs/ID for imports. Expected rows are written out by hand."""

from __future__ import annotations

import gzip
import threading
import time

import pytest
from starlette.testclient import TestClient

from mergetree.server.app import create_app

ADMIN = "admin-secret-long-enough-for-hs256-keys-dsapi"
H = {"Authorization": f"Bearer {ADMIN}"}


@pytest.fixture
def client(tmp_path):
    app = create_app(tmp_path / "data", admin_token=ADMIN, flush_interval=0.05)
    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.post("/v0/datasources", params={"name": "ds", "schema": "id UInt32, p String",
                                              "engine_sorting_key": "id", "engine_partition_key": "p"}, headers=H)
        assert r.status_code == 200, r.text
        yield c


def rows(client, q="SELECT id, p FROM ds ORDER BY id"):
    r = client.get("/v0/sql", params={"q": q + " FORMAT JSONCompact"}, headers=H)
    assert r.status_code == 200, r.text
    return [tuple(x) for x in r.json()["data"]]


def append(client, body, fmt="ndjson", mode="append", **params):
    return client.post("/v0/datasources", params={"mode": mode, "name": "ds", "format": fmt, **params},
                       content=body, headers=H)


def test_replace_swaps_everything(client):
    assert append(client, b'{"id": 1, "p": "a"}\n{"id": 2, "p": "b"}').status_code == 200
    r = append(client, b'{"id": 10, "p": "c"}\n{"id": 11, "p": "a"}\n{"id": "bad", "p": "a"}', mode="replace")
    assert r.status_code == 200, r.text
    assert r.json()["successful_rows"] == 2 and r.json()["quarantine_rows"] == 1
    assert rows(client) == [(10, "c"), (11, "a")]
    assert rows(client, "SELECT count() FROM ds_quarantine") == [(1,)]


def test_replace_with_condition_replaces_only_matching_rows(client):
    append(client, b'{"id": 1, "p": "a"}\n{"id": 2, "p": "b"}\n{"id": 3, "p": "a"}')
    # new rows with p='a' replace the old p='a' rows; the new p='z' row is outside the condition: dropped
    r = append(client, b'{"id": 7, "p": "a"}\n{"id": 8, "p": "z"}', mode="replace", replace_condition="p = 'a'")
    assert r.status_code == 200, r.text
    assert r.json()["successful_rows"] == 1
    assert rows(client) == [(2, "b"), (7, "a")]


def test_replace_condition_errors(client):
    r = append(client, b'{"id": 7, "p": "a"}', mode="replace", replace_condition="p = = 'a'")
    assert r.status_code == 400 and "replace_condition" in r.json()["error"]
    r = append(client, b'{"id": 7, "p": "a"}', mode="append", replace_condition="p = 'a'")
    assert r.status_code == 400 and "mode=replace" in r.json()["error"]
    r = append(client, b'{"id": "x"}', mode="replace")            # would empty the data source
    assert r.status_code == 400 and "replace_truncate_when_empty" in r.json()["error"]
    assert append(client, b"", mode="replace").status_code == 200  # an empty body: truncate


def test_replace_is_atomic_for_readers(client):
    """Concurrent readers always see the old 100 rows or the new 100 rows, never 0 or a mix."""
    old = "\n".join(f'{{"id": {i}, "p": "p{i % 2}"}}' for i in range(100)).encode()
    new = "\n".join(f'{{"id": {1000 + i}, "p": "q{i % 3}"}}' for i in range(100)).encode()
    append(client, old)
    seen, stop = set(), threading.Event()

    def reader():
        while not stop.is_set():
            seen.add(rows(client, "SELECT count(), min(id) >= 1000 FROM ds")[0])

    t = threading.Thread(target=reader)
    t.start()
    try:
        for i in range(4):
            assert append(client, new if i % 2 == 0 else old, mode="replace").status_code == 200
    finally:
        stop.set()
        t.join()
    assert seen <= {(100, 0), (100, 1), (100, False), (100, True)}, seen


def _multipart(field, filename, data, content_type="application/octet-stream"):
    boundary = "----mtboundary7"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{filename}\"\r\n"
            f"Content-Type: {content_type}\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}", **H}


@pytest.mark.parametrize("field, filename, data, fmt", [
    ("csv", "x.csv", b"id,p\n1,a\n2,b\n", None),
    ("ndjson", "x.ndjson", b'{"id": 1, "p": "a"}\n{"id": 2, "p": "b"}\n', None),
    ("file", "x.ndjson.gz", gzip.compress(b'{"id": 1, "p": "a"}\n{"id": 2, "p": "b"}\n'), None),
    ("csv", "x.csv.gz", gzip.compress(b"1,a\n2,b\n"), None),
    ("file", "upload.bin", b'{"id": 1, "p": "a"}\n{"id": 2, "p": "b"}\n', "ndjson"),
])
def test_multipart_file_upload(client, field, filename, data, fmt):
    body, headers = _multipart(field, filename, data)
    params = {"mode": "append", "name": "ds", **({"format": fmt} if fmt else {})}
    r = client.post("/v0/datasources", params=params, content=body, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["successful_rows"] == 2
    assert rows(client) == [(1, "a"), (2, "b")]


def test_multipart_replace_and_bad_multipart(client):
    append(client, b'{"id": 5, "p": "a"}')
    body, headers = _multipart("csv", "r.csv", b"9,z\n")
    r = client.post("/v0/datasources", params={"mode": "replace", "name": "ds"}, content=body, headers=headers)
    assert r.status_code == 200, r.text
    assert rows(client) == [(9, "z")]
    r = client.post("/v0/datasources", params={"mode": "append", "name": "ds"}, content=b"garbage",
                    headers={"Content-Type": "multipart/form-data; boundary=nope", **H})
    assert r.status_code == 400 and set(r.json()) == {"error", "documentation"}


def test_gzip_raw_body_and_content_encoding(client):
    r = append(client, gzip.compress(b"1,a\n"), fmt="csv")
    assert r.status_code == 200, r.text
    r = client.post("/v0/datasources", params={"mode": "append", "name": "ds", "format": "csv"},
                    content=gzip.compress(b"2,b\n"), headers={"Content-Encoding": "gzip", **H})
    assert r.status_code == 200, r.text
    assert rows(client) == [(1, "a"), (2, "b")]


def test_jobs_of_imports_and_deletes(client):
    r = append(client, b'{"id": 1, "p": "a"}\n{"id": "x", "p": "a"}')
    import_id = r.json()["import_id"]
    job = client.get(f"/v0/jobs/{import_id}", headers=H).json()
    assert job["status"] == "done" and job["kind"] == "import" and job["id"] == import_id
    assert job["datasource"]["name"] == "ds" and job["statistics"]["row_count"] == 1
    assert job["quarantine_rows"] == 1
    r = client.post("/v0/datasources/ds/delete", params={"delete_condition": "id = 1"}, headers=H)
    job_id = r.json()["job_id"]
    deadline = time.time() + 30
    while True:
        job = client.get(f"/v0/jobs/{job_id}", headers=H).json()
        if job["status"] in ("done", "error") or time.time() > deadline:
            break
        time.sleep(0.02)
    assert job["status"] == "done" and job["rows_affected"] == 1
    ids = {j["id"] for j in client.get("/v0/jobs", headers=H).json()["jobs"]}
    assert {import_id, job_id} <= ids
    assert client.get("/v0/jobs/nope", headers=H).status_code == 404


def test_v1_append_and_replace_raw_bodies(client):
    """POST /v1/datasources/NAME/append|replace (tinybird 5.x): format from the parameter or Content-Type."""
    r = client.post("/v1/datasources/ds/append", content=b'{"id": 1, "p": "a"}\n',
                    headers={"Content-Type": "application/x-ndjson", **H})
    assert r.status_code == 200, r.text
    r = client.post("/v1/datasources/ds/append?format=csv", content=gzip.compress(b"2,b\n"),
                    headers={"Content-Type": "text/csv", **H})
    assert r.status_code == 200 and rows(client) == [(1, "a"), (2, "b")]
    r = client.post("/v1/datasources/ds/replace", content=b"3,c\n", headers={"Content-Type": "text/csv", **H})
    assert r.status_code == 200 and rows(client) == [(3, "c")]
    assert client.post("/v1/datasources/missing/append", content=b"1,a\n", headers=H).status_code == 404
