"""Data Sources API imports: url= jobs (local http.server), Parquet, CSV dialects, job cancel/filters.

Expected rows and messages are written out by hand from the small files each test builds."""

from __future__ import annotations

import gzip
import http.server
import io
import socket
import threading
import time

import orjson
import pytest
from starlette.testclient import TestClient

from mergetree.server.app import create_app

ADMIN = "adm"
H = {"Authorization": f"Bearer {ADMIN}"}


# --------------------------------------------------------------------------- fixtures


class _Files(http.server.BaseHTTPRequestHandler):
    files: dict = {}
    gate = threading.Event()

    def do_GET(self):  # noqa: N802 - http.server's name
        path = self.path.split("?")[0]
        if path.startswith("/redirect/"):       # /redirect/<url-quoted target>
            from urllib.parse import unquote

            self.send_response(302)
            self.send_header("Location", unquote(path[len("/redirect/"):]))
            self.end_headers()
            return
        if path.startswith("/slow/"):           # headers, one chunk, then waits for the gate
            self.send_response(200)
            self.send_header("Content-Type", "text/csv")
            self.end_headers()
            self.wfile.write(b"1,a\n")
            self.wfile.flush()
            self.gate.wait(10)
            return
        body = self.files.get(path)
        if body is None:
            self.send_error(404, "Not Found")
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def files():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Files)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    yield base, _Files.files
    _Files.gate.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def client(tmp_path):
    app = create_app(tmp_path / "d", admin_token=ADMIN, flush_interval=3600)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def create(client, name="ds", schema="`id` UInt32, `name` String", **extra):
    r = client.post("/v0/datasources", params={"name": name, "schema": schema, "engine_sorting_key": "id", **extra},
                    headers=H)
    assert r.status_code == 200, r.text


def rows(client, q):
    r = client.get("/v0/sql", params={"q": f"{q} FORMAT JSONEachRow"}, headers=H)
    assert r.status_code == 200, r.text
    return [orjson.loads(x) for x in r.content.splitlines()]


def wait_job(client, job_id, until=("done", "error", "cancelled"), timeout=20.0):
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(f"/v0/jobs/{job_id}", headers=H).json()
        if job["status"] in until or time.monotonic() > deadline:
            return job
        time.sleep(0.02)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def parquet_bytes(table) -> bytes:
    import pyarrow.parquet as pq

    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue()


# --------------------------------------------------------------------------- url= imports


def test_url_append_csv_runs_as_a_job_with_quarantine(client, files):
    base, store = files
    store["/a.csv"] = b"id,name\n1,one\nx,bad\n3,three\n"
    create(client)
    r = client.post("/v0/datasources", params={"mode": "append", "name": "ds", "url": f"{base}/a.csv"}, headers=H)
    assert r.status_code == 200, r.text
    job = r.json()
    assert job["id"] == job["job_id"] == job["import_id"]
    assert job["kind"] == "import" and job["status"] in ("waiting", "working", "done")
    assert job["job_url"] == f"http://testserver/v0/jobs/{job['id']}"
    assert job["datasource"]["name"] == "ds" and job["url"] == f"{base}/a.csv" and job["mode"] == "append"
    assert "error" not in job and job["job"]["id"] == job["id"]     # the tb CLI fails on any "error" key here
    done = wait_job(client, job["id"])
    assert done["status"] == "done", done
    assert done["statistics"] == {"bytes": len(store["/a.csv"]), "row_count": 2}
    assert done["quarantine_rows"] == 1 and done["invalid_lines"] == 0
    assert done["errors"] == [] and "row 2" in done["quarantine_errors"][0] and "'x'" in done["quarantine_errors"][0]
    assert done["block_log"] == [{"block_id": 0, "status": "done"}]         # what tinybird-cli's progress reads
    assert done["blocks"][0]["process_return"][0]["lines"] == 2
    assert rows(client, "SELECT id, name FROM ds ORDER BY id") == [{"id": 1, "name": "one"}, {"id": 3, "name": "three"}]
    q = rows(client, "SELECT id, name, c__import_id FROM ds_quarantine")
    assert q == [{"id": "x", "name": "bad", "c__import_id": job["id"]}]
    svc = client.app.state.service                          # tinybird.datasources_ops_log has the import
    if getattr(svc, "service_ds", None) is not None:
        svc.service_ds.flush()
        assert rows(client, "SELECT event_type, rows, rows_quarantine, job_id, result FROM tinybird.datasources_ops_log "
                            "WHERE datasource_name = 'ds' AND event_type = 'append'") == [
            {"event_type": "append", "rows": 2, "rows_quarantine": 1, "job_id": job["id"], "result": "ok"}]


def test_url_ndjson_gzip_replace_and_v1_append(client, files):
    base, store = files
    store["/e.ndjson.gz"] = gzip.compress(b'{"id": 5, "name": "five"}\n{"id": 6, "name": "six"}\n')
    store["/more"] = b'{"id": 7, "name": "seven"}\n'               # no extension: sniffed as NDJSON
    create(client)
    client.post("/v0/datasources?mode=append&name=ds&format=csv", content=b"1,old\n", headers=H)
    r = client.post("/v0/datasources", params={"mode": "replace", "name": "ds", "url": f"{base}/e.ndjson.gz"},
                    headers=H)
    assert wait_job(client, r.json()["id"])["status"] == "done"
    assert rows(client, "SELECT id FROM ds ORDER BY id") == [{"id": 5}, {"id": 6}]
    r = client.post(f"/v1/datasources/ds/append?url={base}/more", headers=H)
    job = wait_job(client, r.json()["id"])
    assert job["status"] == "done" and job["format"] == "ndjson"
    assert rows(client, "SELECT id FROM ds ORDER BY id") == [{"id": 5}, {"id": 6}, {"id": 7}]


def test_url_create_without_schema_guesses_it(client, files):
    base, store = files
    store["/new.ndjson"] = (b'{"id": 1, "user": {"name": "a"}, "ts": "2024-01-02 03:04:05", "tags": ["x", "y"]}\n'
                            b'{"id": 300, "user": {"name": "b"}, "ts": "2024-01-03 00:00:00", "tags": []}\n')
    r = client.post("/v0/datasources", params={"mode": "create", "name": "guessed", "url": f"{base}/new.ndjson"},
                    headers=H)
    assert r.status_code == 200, r.text
    assert wait_job(client, r.json()["id"])["status"] == "done"
    ds = client.get("/v0/datasources/guessed", headers=H).json()
    assert [(c["name"], c["type"], c["jsonpath"]) for c in ds["schema"]["columns"]] == [
        ("id", "Int64", "$.id"), ("user_name", "String", "$.user.name"), ("ts", "DateTime", "$.ts"),
        ("tags", "Array(String)", "$.tags")]
    assert rows(client, "SELECT id, user_name, toString(ts) AS t, tags FROM guessed ORDER BY id") == [
        {"id": 1, "user_name": "a", "t": "2024-01-02 03:04:05", "tags": ["x", "y"]},
        {"id": 300, "user_name": "b", "t": "2024-01-03 00:00:00", "tags": []}]
    # mode=create&url= on an existing data source is a conflict, answered before any job
    r = client.post("/v0/datasources", params={"mode": "create", "name": "guessed", "url": f"{base}/new.ndjson"},
                    headers=H)
    assert r.status_code == 409


def test_url_create_from_csv_sniffs_delimiter_and_matches_sanitized_header(client, files):
    base, store = files
    store["/visits.csv"] = b"Visit Count;City Name\r\n3;Madrid\r\n;Paris\r\n"
    r = client.post("/v0/datasources", params={"name": "visits", "url": f"{base}/visits.csv"}, headers=H)
    assert wait_job(client, r.json()["id"])["status"] == "done"
    ds = client.get("/v0/datasources/visits", headers=H).json()
    assert [(c["name"], c["type"]) for c in ds["schema"]["columns"]] == [
        ("Visit_Count", "Nullable(Int64)"), ("City_Name", "String")]
    assert rows(client, "SELECT * FROM visits ORDER BY City_Name") == [
        {"Visit_Count": 3, "City_Name": "Madrid"}, {"Visit_Count": None, "City_Name": "Paris"}]
    # appending the same file again: the header is recognised, the delimiter sniffed again
    r = client.post("/v0/datasources", params={"mode": "append", "name": "visits", "url": f"{base}/visits.csv"},
                    headers=H)
    job = wait_job(client, r.json()["id"])
    assert job["statistics"]["row_count"] == 2 and job["quarantine_rows"] == 0


def test_create_from_an_uploaded_file_with_or_without_schema(client):
    r = client.post("/v0/datasources?name=stocks", files={"csv": ("s.csv", b"sym,price\nA,1.5\nB,2\n")}, headers=H)
    assert r.status_code == 200 and r.json()["successful_rows"] == 2, r.text
    cols = r.json()["datasource"]["schema"]["columns"]
    assert [(c["name"], c["type"]) for c in cols] == [("sym", "String"), ("price", "Float64")]
    r = client.post("/v0/datasources", params={"name": "ev", "schema": "`id` UInt8 `json:$.id`", "format": "ndjson"},
                    content=b'{"id": 1}\n{"id": "x"}\n', headers=H)
    assert r.status_code == 200 and r.json()["successful_rows"] == 1 and r.json()["quarantine_rows"] == 1, r.text
    assert rows(client, "SELECT * FROM stocks ORDER BY sym") == [{"sym": "A", "price": 1.5}, {"sym": "B", "price": 2}]
    r = client.post("/v0/datasources?name=stocks", files={"csv": ("s.csv", b"x\n")}, headers=H)
    assert r.status_code == 409


def test_url_failures_end_the_job_with_a_clear_error(client, files):
    base, store = files
    store["/bad.parquet"] = b"PAR1 this is not parquet"
    create(client)

    def job_for(url, **params):
        r = client.post("/v0/datasources", params={"mode": "append", "name": "ds", "url": url, **params}, headers=H)
        assert r.status_code == 200, r.text
        return wait_job(client, r.json()["id"])

    missing = job_for(f"{base}/missing.csv")
    assert missing["status"] == "error" and missing["error"] == f"Could not download {base}/missing.csv: HTTP 404 Not Found"
    refused = job_for(f"http://127.0.0.1:{free_port()}/x.csv")
    assert refused["status"] == "error" and "Connection refused" in refused["error"]
    from urllib.parse import quote

    moved = job_for(f"{base}/redirect/{quote(base + '/a.csv', safe='')}", format="csv")
    assert moved["status"] == "done", moved                                # an http redirect is followed
    assert job_for(f"{base}/redirect/{quote('ftp://127.0.0.1/x.csv', safe='')}")["error"] == (
        f"Could not download {base}/redirect/{quote('ftp://127.0.0.1/x.csv', safe='')}: redirected to "
        f"'ftp://127.0.0.1/x.csv', which is not an http(s) URL")
    bad = job_for(f"{base}/bad.parquet")
    assert bad["status"] == "error" and bad["error"].startswith("Invalid Parquet file")
    assert rows(client, "SELECT count() AS c FROM ds") == [{"c": 2}]              # from the redirected a.csv
    # checked before any job: 4xx with the one error shape
    for params, status, text in [({"url": "file:///etc/passwd"}, 400, "only absolute http:// and https://"),
                                 ({"url": f"{base}/a.csv", "format": "xml"}, 400, "Unsupported format 'xml'"),
                                 ({"url": f"{base}/a.csv", "name": "nope"}, 404, "Data Source 'nope' not found"),
                                 ({"url": f"{base}/a.csv", "dialect_delimiter": ";;"}, 400, "dialect_delimiter")]:
        r = client.post("/v0/datasources", params={"mode": "append", "name": "ds", **params}, headers=H)
        assert r.status_code == status and text in r.json()["error"], r.text


def test_url_import_size_limit(client, files):
    base, store = files
    store["/big.csv"] = b"1,a\n" * 1000
    create(client)
    client.app.state.service.max_import_bytes = 100
    r = client.post("/v0/datasources", params={"mode": "append", "name": "ds", "url": f"{base}/big.csv"}, headers=H)
    job = wait_job(client, r.json()["id"])
    assert job["status"] == "error" and job["error"] == (f"The file at {base}/big.csv is 4000 bytes, more than the "
                                                         f"import limit of 100 bytes")


def test_cancel_waiting_and_working_jobs_and_list_filters(client, files):
    base, _ = files
    _Files.gate.clear()
    create(client)
    ids = []
    for _ in range(3):                  # two import workers: the third job waits
        r = client.post("/v0/datasources", params={"mode": "append", "name": "ds", "url": f"{base}/slow/x.csv"},
                        headers=H)
        ids.append(r.json()["id"])
    wait_job(client, ids[0], until=("working",))
    wait_job(client, ids[1], until=("working",))
    deadline = time.monotonic() + 10             # progress: the first 4 bytes ("1,a\n") have arrived
    while client.get(f"/v0/jobs/{ids[1]}", headers=H).json().get("progress", {}).get("bytes_downloaded") != 4:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert client.get(f"/v0/jobs/{ids[2]}", headers=H).json()["status"] == "waiting"
    r = client.post(f"/v0/jobs/{ids[2]}/cancel", headers=H)
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    r = client.post(f"/v0/jobs/{ids[0]}/cancel", headers=H)
    assert r.status_code == 200 and r.json()["status"] == "cancelling"
    # the blocked download is broken off at once (the file server is still holding the response)
    assert wait_job(client, ids[0], timeout=5)["status"] == "cancelled"
    assert client.get(f"/v0/jobs/{ids[1]}", headers=H).json()["status"] == "working"
    _Files.gate.set()
    assert wait_job(client, ids[1])["status"] == "done"
    assert wait_job(client, ids[2])["status"] == "cancelled"       # never started
    assert rows(client, "SELECT id, name FROM ds") == [{"id": 1, "name": "a"}]     # only job 2 imported
    r = client.post(f"/v0/jobs/{ids[1]}/cancel", headers=H)
    assert r.status_code == 400 and "its status is 'done'" in r.json()["error"]
    assert client.post("/v0/jobs/nope/cancel", headers=H).status_code == 404
    listed = client.get("/v0/jobs", params={"kind": "import", "status": "cancelled"}, headers=H).json()["jobs"]
    assert sorted(j["id"] for j in listed) == sorted([ids[0], ids[2]])
    assert client.get("/v0/jobs", params={"kind": "delete_data"}, headers=H).json()["jobs"] == []
    assert len(client.get("/v0/jobs", params={"created_after": "2000-01-01"}, headers=H).json()["jobs"]) == 3
    assert client.get("/v0/jobs", params={"created_before": "2000-01-01T00:00:00Z"}, headers=H).json()["jobs"] == []
    assert client.get("/v0/jobs", params={"created_after": "yesterday"}, headers=H).status_code == 400


# --------------------------------------------------------------------------- Parquet


def test_parquet_body_multipart_and_v1_with_quarantine(client):
    pa = pytest.importorskip("pyarrow")
    import datetime as dt

    create(client, schema="`id` UInt32, `name` String, `ts` DateTime, `score` Nullable(Float64), `n` Int8")
    table = pa.table({"id": pa.array([1, 2, 3], pa.int64()), "name": ["a", "b", "c"],
                      "ts": pa.array([dt.datetime(2024, 1, 2, 3, 4, 5)] * 3, pa.timestamp("ms")),
                      "score": [1.5, None, 2.0], "n": ["1", "x", "3"],
                      "unused": ["x", "y", "z"]})
    data = parquet_bytes(table)
    r = client.post("/v1/datasources/ds/append", content=data,
                    headers={**H, "Content-Type": "application/vnd.apache.parquet"})
    assert r.status_code == 200, r.text
    assert r.json()["successful_rows"] == 2 and r.json()["quarantine_rows"] == 1     # 'x' is not an Int8
    assert rows(client, "SELECT id, name, toString(ts) AS ts, score, n FROM ds ORDER BY id") == [
        {"id": 1, "name": "a", "ts": "2024-01-02 03:04:05", "score": 1.5, "n": 1},
        {"id": 3, "name": "c", "ts": "2024-01-02 03:04:05", "score": 2.0, "n": 3}]
    q = rows(client, "SELECT id, n, ts FROM ds_quarantine")
    assert q == [{"id": "2", "n": "x", "ts": "2024-01-02 03:04:05"}]
    r = client.post("/v0/datasources?mode=append&name=ds", files={"parquet": ("f.parquet", data)}, headers=H)
    assert r.status_code == 200 and r.json()["successful_rows"] == 2, r.text
    r = client.post("/v0/datasources?mode=append&name=ds&format=parquet", content=gzip.compress(data), headers=H)
    assert r.status_code == 200 and r.json()["successful_rows"] == 2, r.text
    r = client.post("/v0/datasources?mode=append&name=ds&format=parquet", content=b"PAR1 nope", headers=H)
    assert r.status_code == 400 and r.json()["error"].startswith("Invalid Parquet file")
    assert rows(client, "SELECT count() AS c FROM ds") == [{"c": 6}]


def test_parquet_struct_fields_through_jsonpaths(client):
    pa = pytest.importorskip("pyarrow")
    create(client, name="nested", schema="`id` UInt32 `json:$.id`, `user_name` String `json:$.user.name`, "
                                         "`age` Nullable(Int32) `json:$.user.age`, `city` String `json:$.user.city`")
    table = pa.table({"id": [1, 2, 3], "user": pa.array([{"name": "ann", "age": 30}, None, {"name": "cid", "age": None}],
                                                       pa.struct([("name", pa.string()), ("age", pa.int64())]))})
    r = client.post("/v1/datasources/nested/append", content=parquet_bytes(table),
                    headers={**H, "Content-Type": "application/vnd.apache.parquet"})
    assert r.status_code == 200 and r.json()["successful_rows"] == 3, r.text
    # a NULL struct gives NULL fields (String's default ''), a key the struct lacks reads as NULL
    assert rows(client, "SELECT id, user_name, age, city FROM nested ORDER BY id") == [
        {"id": 1, "user_name": "ann", "age": 30, "city": ""}, {"id": 2, "user_name": "", "age": None, "city": ""},
        {"id": 3, "user_name": "cid", "age": None, "city": ""}]


def test_url_create_from_parquet(client, files):
    pa = pytest.importorskip("pyarrow")
    base, store = files
    store["/t.parquet"] = parquet_bytes(pa.table({"k": ["a", "b"], "v": pa.array([1.5, None], pa.float32()),
                                                  "d": pa.array([19000, 19001], pa.date32())}))
    r = client.post("/v0/datasources", params={"name": "pqurl", "url": f"{base}/t.parquet"}, headers=H)
    job = wait_job(client, r.json()["id"])
    assert job["status"] == "done" and job["statistics"]["row_count"] == 2, job
    cols = client.get("/v0/datasources/pqurl", headers=H).json()["schema"]["columns"]
    assert [(c["name"], c["type"]) for c in cols] == [("k", "String"), ("v", "Nullable(Float32)"), ("d", "Date32")]
    assert rows(client, "SELECT k, v, toString(d) AS d FROM pqurl ORDER BY k") == [   # 19000 days = 2022-01-08
        {"k": "a", "v": 1.5, "d": "2022-01-08"}, {"k": "b", "v": None, "d": "2022-01-09"}]


def test_parquet_without_pyarrow_is_a_400_naming_the_extra(client, monkeypatch):
    import sys

    create(client)
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    r = client.post("/v0/datasources?mode=append&name=ds&format=parquet", content=b"PAR1", headers=H)
    assert r.status_code == 400
    assert "pip install 'mergetree[parquet]'" in r.json()["error"] and "pyarrow" in r.json()["error"]


# --------------------------------------------------------------------------- CSV dialects


def test_csv_dialect_delimiter_escapechar_new_line_and_header_by_name(client):
    create(client, schema="`id` UInt32, `name` String, `note` String DEFAULT 'none'")
    body = b"name|id\nab\\|c|1\nd|2\n"                                  # header reordered, escaped delimiter
    r = client.post("/v0/datasources", params={"mode": "append", "name": "ds", "format": "csv",
                                               "dialect_delimiter": "|", "dialect_escapechar": "\\"},
                    content=body, headers=H)
    assert r.status_code == 200 and r.json()["successful_rows"] == 2, r.text
    body = b"3;x;n3#4;y;n4#"                                               # no header, custom new_line
    r = client.post("/v0/datasources", params={"mode": "append", "name": "ds", "format": "csv",
                                               "dialect_delimiter": ";", "dialect_new_line": "#"},
                    content=body, headers=H)
    assert r.status_code == 200 and r.json()["successful_rows"] == 2, r.text
    body = b"5\tz\t\n"                                                    # \t written as text; empty -> DEFAULT
    r = client.post("/v0/datasources", params={"mode": "append", "name": "ds", "format": "csv",
                                               "dialect_delimiter": "\\t"}, content=body, headers=H)
    assert r.status_code == 200 and r.json()["successful_rows"] == 1, r.text
    assert rows(client, "SELECT id, name, note FROM ds ORDER BY id") == [
        {"id": 1, "name": "ab|c", "note": "none"}, {"id": 2, "name": "d", "note": "none"},
        {"id": 3, "name": "x", "note": "n3"}, {"id": 4, "name": "y", "note": "n4"},
        {"id": 5, "name": "z", "note": "none"}]
    r = client.post("/v0/datasources", params={"mode": "append", "name": "ds", "dialect_escapechar": "ab"},
                    content=b"1,a,b\n", headers=H)
    assert r.status_code == 400 and "Invalid dialect_escapechar 'ab': expected one character" in r.json()["error"]


@pytest.mark.parametrize("chunk", [8, 25, 1 << 20])
def test_csv_split_fast_and_csv_module_paths_agree(monkeypatch, chunk):
    """Small chunks send the quoted record, the short record and CRLF through both paths."""
    from mergetree.server import imports

    monkeypatch.setattr(imports, "CSV_CHUNK_CHARS", chunk)
    body = (b"\xef\xbb\xbfb,a\r\n1,x\r\n\r\n2,\r\n3\r\n4,y\n5,\\N\n6,\"q,\nq\"\n7,z\n")
    got_rows, got_bad = {}, {}
    for batch in imports.csv_batches(io.BytesIO(body), ["a", "b"], imports.CsvDialect()):
        numbers = batch.numbers or list(range(batch.first, batch.first + batch.n))
        for number, row in zip(numbers, batch.as_rows()):
            got_rows[number] = row
        for r in batch.bad or []:
            got_bad[r.row] = str(r.error)
    # header b,a (by name, BOM dropped); the blank line is no record; '' and \N are NULL
    assert got_rows == {0: {"b": "1", "a": "x"}, 1: {"b": "2", "a": None}, 3: {"b": "4", "a": "y"},
                        4: {"b": "5", "a": None}, 5: {"b": "6", "a": "q,\nq"}, 6: {"b": "7", "a": "z"}}
    assert got_bad == {2: "Expected 2 fields (b, a), got 1 at row 2"}


# --------------------------------------------------------------------------- /v0/analyze


def test_analyze_ndjson_shape_types_and_paths(client):
    body = (b'{"id": 1, "user": {"name": "a", "age": 40000}, "tags": [1, 2], "ts": "2024-01-02 03:04:05.123",'
            b' "price": 1.5, "ok": true}\n'
            b'{"id": 2, "user": {"name": "b", "age": 7}, "tags": [], "ts": "2024-01-03T00:00:00Z", "ok": false}\n'
            b'not json\n')
    r = client.post("/v0/analyze", content=body, headers=H)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["analysis"]["columns"] == [
        {"path": "$.id", "recommended_type": "Int64", "present_pct": 1, "name": "id"},
        {"path": "$.user.name", "recommended_type": "String", "present_pct": 1, "name": "user_name"},
        {"path": "$.user.age", "recommended_type": "Int64", "present_pct": 1, "name": "user_age"},
        {"path": "$.tags[:]", "recommended_type": "Array(Int64)", "present_pct": 1, "name": "tags"},
        {"path": "$.ts", "recommended_type": "DateTime64(3)", "present_pct": 1, "name": "ts"},
        {"path": "$.price", "recommended_type": "Nullable(Float64)", "present_pct": 0.5, "name": "price"},
        {"path": "$.ok", "recommended_type": "Bool", "present_pct": 1, "name": "ok"}]
    assert out["analysis"]["schema"] == (
        "id Int64 `json:$.id`, user_name String `json:$.user.name`, user_age Int64 `json:$.user.age`, "
        "tags Array(Int64) `json:$.tags[:]`, ts DateTime64(3) `json:$.ts`, price Nullable(Float64) `json:$.price`, "
        "ok Bool `json:$.ok`")
    preview = out["preview"]
    assert preview["meta"][0] == {"name": "id", "type": "Int64"} and preview["rows"] == 2
    assert preview["data"][1] == {"id": 2, "user_name": "b", "user_age": 7, "tags": [],
                                  "ts": "2024-01-03 00:00:00", "price": None, "ok": False}
    assert set(preview["statistics"]) == {"elapsed", "rows_read", "bytes_read"}
    assert "dialect" not in out
    # the suggested schema creates a data source that takes the same file with nothing quarantined
    r = client.post("/v0/datasources", params={"name": "from_analyze", "schema": out["analysis"]["schema"]},
                    headers=H)
    assert r.status_code == 200, r.text
    r = client.post("/v0/datasources?mode=append&name=from_analyze&format=ndjson", content=body, headers=H)
    assert r.json()["successful_rows"] == 2 and r.json()["quarantine_rows"] == 1 and r.json()["invalid_lines"] == 1
    assert rows(client, "SELECT id, user_age, tags, price FROM from_analyze ORDER BY id") == [
        {"id": 1, "user_age": 40000, "tags": [1, 2], "price": 1.5}, {"id": 2, "user_age": 7, "tags": [], "price": None}]


def test_analyze_csv_dialect_header_and_nullables(client, files):
    base, store = files
    store["/c.csv"] = b"day;city;visits;rate\n2024-01-01;Madrid;10;0.5\n2024-01-02;;3000000000;\n"
    r = client.post(f"/v0/analyze?url={base}/c.csv", headers=H)
    assert r.status_code == 200, r.text
    out = r.json()
    assert [(c["name"], c["recommended_type"], c["present_pct"]) for c in out["analysis"]["columns"]] == [
        ("day", "Date", 1), ("city", "Nullable(String)", 0.5), ("visits", "Int64", 1),
        ("rate", "Nullable(Float64)", 0.5)]
    assert out["analysis"]["schema"] == "day Date, city Nullable(String), visits Int64, rate Nullable(Float64)"
    assert out["dialect"] == {"delimiter": ";", "new_line": "\n", "escapechar": None, "has_header": True}
    assert out["preview"]["data"][1] == {"day": "2024-01-02", "city": None, "visits": 3000000000, "rate": None}
    # only text columns: the first record is a header when its names do not come back as values
    r = client.post("/v0/analyze", content=b"name,city\nalice,paris\nbob,rome\n", headers=H)
    assert r.json()["analysis"]["schema"] == "name String, city String" and r.json()["dialect"]["has_header"]
    r = client.post("/v0/analyze", content=b"x,y\nx,z\n", headers=H)
    assert r.json()["analysis"]["schema"] == "column_00 String, column_01 String"
    # no header: columns by position
    r = client.post("/v0/analyze", content=b"1,a\n2,b\n", headers=H)
    out = r.json()
    assert out["analysis"]["schema"] == "column_00 Int64, column_01 String"
    assert out["dialect"]["has_header"] is False


def test_analyze_parquet_and_errors(client, files):
    pa = pytest.importorskip("pyarrow")
    table = pa.table({"a": pa.array([1, None], pa.int64()), "s": ["x", "y"],
                      "t": pa.array([0, 1], pa.timestamp("us")), "l": [[1.5], []],
                      "u": pa.array([{"n": "p", "k": 1}, None], pa.struct([("n", pa.string()), ("k", pa.int32())]))})
    data = parquet_bytes(table)
    r = client.post("/v0/analyze", files={"file": ("t.parquet", data)}, headers=H)
    assert r.status_code == 200, r.text
    schema = r.json()["analysis"]["schema"]
    assert schema == ("a Nullable(Int64) `json:$.a`, s String `json:$.s`, t DateTime64(6) `json:$.t`, "
                      "l Array(Float64) `json:$.l`, u_n Nullable(String) `json:$.u.n`, u_k Nullable(Int32) `json:$.u.k`")
    assert r.json()["preview"]["data"][1] == {"a": None, "s": "y", "t": "1970-01-01 00:00:00.000001", "l": [],
                                              "u_n": None, "u_k": None}
    # the schema it suggests takes the same file
    assert client.post("/v0/datasources", params={"name": "pq", "schema": schema}, headers=H).status_code == 200
    r = client.post("/v0/datasources?mode=append&name=pq&format=parquet", content=data, headers=H)
    assert r.json()["successful_rows"] == 2 and r.json()["quarantine_rows"] == 0, r.text
    assert rows(client, "SELECT a, u_n, u_k FROM pq ORDER BY s") == [{"a": 1, "u_n": "p", "u_k": 1},
                                                                  {"a": None, "u_n": None, "u_k": None}]
    base, _ = files
    for kwargs, status, text in [
            ({"content": b""}, 400, "Nothing to analyze"),
            ({"params": {"url": f"{base}/missing.ndjson"}}, 400, "HTTP 404 Not Found"),
            ({"params": {"url": "ftp://x/y"}}, 400, "only absolute http:// and https://"),
            ({"content": b"[1, 2"}, 400, "Invalid JSON array"),
            ({"content": b"PAR1xx", "params": {"format": "parquet"}}, 400, "Invalid Parquet file")]:
        r = client.post("/v0/analyze", headers=H, **kwargs)
        assert r.status_code == status and text in r.json()["error"], (kwargs, r.text)


def test_scopes_for_imports_analyze_and_cancel(client, files):
    base, store = files
    store["/s.csv"] = b"1,a\n"
    create(client)
    r = client.post("/v0/tokens", params={"name": "appender", "scope": "DATASOURCES:APPEND:ds"}, headers=H)
    tok = {"Authorization": f"Bearer {r.json()['token']}"}
    r = client.post("/v0/datasources", params={"mode": "append", "name": "ds", "url": f"{base}/s.csv"}, headers=tok)
    assert r.status_code == 200 and wait_job(client, r.json()["id"])["status"] == "done"
    r = client.post("/v0/datasources", params={"mode": "replace", "name": "ds", "url": f"{base}/s.csv"}, headers=tok)
    assert r.status_code == 403 and "DATASOURCES:CREATE" in r.json()["error"]
    assert client.post("/v0/analyze", content=b"1,a\n", headers=tok).status_code == 403
    assert client.post("/v0/jobs/x/cancel", headers=tok).status_code == 403


def test_datafile_with_whole_array_jsonpath_ingests(tmp_path):
    """`json:$.tags[:]` as /v0/analyze (and Tinybird) write it, in a served project's .datasource."""
    project = tmp_path / "p"
    project.mkdir()
    (project / "ev.datasource").write_text(
        "SCHEMA >\n    `id` Int16 `json:$.id`,\n    `tags` Array(String) `json:$.tags[:]`\n\n"
        'ENGINE "MergeTree"\nENGINE_SORTING_KEY "id"\n')
    app = create_app(tmp_path / "d", admin_token=ADMIN, flush_interval=3600, project=project)
    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.post("/v0/events?name=ev&wait=true", content=b'{"id": 1, "tags": ["a", "b"]}\n{"id": 2}', headers=H)
        assert r.status_code == 200 and r.json() == {"successful_rows": 2, "quarantined_rows": 0}, r.text
        assert rows(c, "SELECT id, tags FROM ev ORDER BY id") == [{"id": 1, "tags": ["a", "b"]}, {"id": 2, "tags": []}]


NASTY = [b"", b"\x00\x01\x02", b"\xff" * 100, b"[", b"{", b"PAR1", b"\x1f\x8b", b"\x1f\x8b\x08\x00p",
         b'"unterminated\n1,2', b"a,b\n" + b"x" * 200_000, b'{"a": {"b": {"c": [[1],[2]]}}}', b'{"a": [{"b":1}]}',
         b'{"a": 1}\n{"a": "x"}', b'{"a": 1e400}', b'{"a": 99999999999999999999999}', b'{"": 1, "1x": 2, "a b": 3}',
         b"\n\n\n", b"a;b;c\n1;2\n", b'{"a": null}', b'{"a": []}', bytes(range(256))]


def test_bad_files_are_4xx_never_500(client):
    create(client, schema="`a` String, `b` Int32", engine_sorting_key="b")
    requests = [("/v0/analyze", {}), ("/v0/analyze", {"format": "csv", "dialect_delimiter": ";"}),
                ("/v0/datasources", {"mode": "append", "name": "ds"}),
                ("/v0/datasources", {"mode": "append", "name": "ds", "format": "parquet"}),
                ("/v0/datasources", {"mode": "replace", "name": "ds", "format": "ndjson"})]
    for i, body in enumerate(NASTY):
        create_new = [("/v0/datasources", {"name": f"new_{i}"})] if i % 3 == 0 else []     # creating costs fsyncs
        for path, params in requests + create_new:
            r = client.post(path, params=params, content=body, headers=H)
            assert r.status_code < 500, (path, params, body[:40], r.text)
            assert r.status_code < 400 or isinstance(r.json()["error"], str)


def test_analyze_then_create_takes_the_same_ndjson_property(client):
    """Any NDJSON sample: the schema /v0/analyze suggests creates a data source into which the same
    body appends every row, none quarantined (hypothesis-generated documents)."""
    import json

    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    scalars = st.one_of(st.none(), st.booleans(), st.integers(-2 ** 70, 2 ** 70),
                        st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=8),
                        st.sampled_from(["2024-01-02", "2024-01-02 03:04:05", "2024-01-02T03:04:05.123Z"]))
    values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                           st.dictionaries(st.sampled_from(["x", "y z", "é"]), inner,
                                                                           max_size=2)), max_leaves=4)
    docs = st.lists(st.dictionaries(st.sampled_from(["a", "b", "c-d", "1e", "it's"]), values, min_size=1, max_size=4),
                    min_size=1, max_size=6)
    counter = iter(range(10 ** 6))

    @settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
    @given(docs)
    def check(sample):
        body = "\n".join(json.dumps(d) for d in sample).encode()          # json: ints beyond 64 bits too
        r = client.post("/v0/analyze", content=body, headers=H)
        assert r.status_code == 200, r.text
        name = f"prop_{next(counter)}"
        r = client.post("/v0/datasources", params={"name": name, "schema": r.json()["analysis"]["schema"]}, headers=H)
        assert r.status_code == 200, r.text
        r = client.post(f"/v0/datasources?mode=append&name={name}&format=ndjson", content=body, headers=H)
        assert r.status_code == 200, r.text
        assert (r.json()["successful_rows"], r.json()["quarantine_rows"]) == (len(sample), 0), (sample, r.json())

    check()


def test_analyze_then_create_takes_the_same_csv_property(client):
    """The same property for CSV: header or not, any delimiter the sniffer knows, quoted fields."""
    import csv as csv_module

    from hypothesis import HealthCheck, assume, given, settings
    from hypothesis import strategies as st

    field = st.one_of(st.just(""), st.integers(-10 ** 12, 10 ** 12).map(str), st.floats(allow_nan=False).map(repr),
                      st.sampled_from(["true", "false", "2024-01-02", "2024-01-02 03:04:05", "\\N", "a,b", 'q"q']),
                      st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00\r"), max_size=6))
    tables = st.integers(1, 4).flatmap(lambda w: st.tuples(
        st.lists(st.lists(field, min_size=w, max_size=w), min_size=1, max_size=6),
        st.one_of(st.none(), st.lists(st.sampled_from(["id", "name", "Visit Count", "x", "y"]), min_size=w,
                                      max_size=w, unique=True)),
        st.sampled_from([",", ";", "\t", "|"])))
    counter = iter(range(10 ** 6))

    @settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
    @given(tables)
    def check(table):
        records, header, delimiter = table
        assume(all(any(f != "" for f in r) for r in records))     # a record of one empty field is a blank line
        buf = io.StringIO()
        writer = csv_module.writer(buf, delimiter=delimiter, lineterminator="\n")
        if header:
            writer.writerow(header)
        writer.writerows(records)
        body = buf.getvalue().encode()
        params = {"dialect_delimiter": delimiter, "format": "csv"}
        r = client.post("/v0/analyze", params=params, content=body, headers=H)
        assert r.status_code == 200, r.text
        has_header = r.json()["dialect"]["has_header"]
        name = f"csvprop_{next(counter)}"
        r = client.post("/v0/datasources", params={"name": name, "schema": r.json()["analysis"]["schema"]}, headers=H)
        assert r.status_code == 200, r.text
        r = client.post("/v0/datasources", params={"mode": "append", "name": name, **params},
                        content=body, headers=H)
        assert r.status_code == 200, r.text
        # the import skips the first record exactly when the analysis took it for the header
        expected = len(records) + (header is not None) - has_header
        assert (r.json()["successful_rows"], r.json()["quarantine_rows"]) == (expected, 0), (table, r.json())

    check()


def test_temp_files_of_a_crashed_import_are_removed(tmp_path):
    import os

    from mergetree.server import imports

    class Svc:
        data_dir = tmp_path

    first = imports.temp_path(Svc)
    old = first.parent / "import_left_by_a_crash"
    old.write_bytes(b"x")
    os.utime(old, (0, 0))
    second = imports.temp_path(Svc)
    assert not old.exists() and first.exists() and second.exists() and first != second


def test_ndjson_with_jsonpaths_picked_by_column_equals_engine_convert(client):
    """NDJSON imports into a data source with nested JSONPaths pick values column by column; the
    rows must be exactly what Engine.convert (row by row) makes of the same lines."""
    import json

    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from mergetree.server import imports

    create(client, name="paths", schema="`id` Int64 `json:$.id`, `name` String `json:$.user.name` DEFAULT 'anon', "
                                        "`first` Nullable(String) `json:$.tags[0]`, `tags` Array(String) "
                                        "`json:$.tags[:]`, `deep` Nullable(Int64) `json:$.a.b.c`")
    svc = client.app.state.service
    paths = imports._nested_paths(svc.engine, "paths", [c for c, _ in svc.engine.schema("paths")])
    assert paths is not None
    leaf = st.one_of(st.none(), st.integers(-5, 5), st.text(max_size=3))
    docs = st.lists(st.fixed_dictionaries({"id": st.integers(0, 9)}, optional={
        "user": st.one_of(leaf, st.fixed_dictionaries({}, optional={"name": leaf})),
        "tags": st.one_of(leaf, st.lists(st.text(max_size=2), max_size=3)),
        "a": st.one_of(leaf, st.fixed_dictionaries({}, optional={"b": st.one_of(leaf, st.fixed_dictionaries(
            {}, optional={"c": st.one_of(st.none(), st.integers(-9, 9))}))}))}), min_size=1, max_size=6)

    def as_lists(block):
        return {n: block[n].to_pylist() for n in block.names} if block.num_rows else {}

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(docs)
    def check(sample):
        body = "\n".join(json.dumps(d) for d in sample).encode() + b"\n"
        want_block, want_bad = svc.engine.convert("paths", body)
        got_block, got_bad = imports._convert(svc.engine, "paths", imports._picked(imports.Batch(0, ndjson=body), paths))
        assert as_lists(got_block) == as_lists(want_block)
        assert [r.row for r in got_bad] == [r.row for r in want_bad]

    check()
