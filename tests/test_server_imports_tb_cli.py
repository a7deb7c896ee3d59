"""Tinybird's Forward CLI (``tinybird`` 5.x, unmodified) importing through mergetree serve:
``tb datasource append --url`` / ``replace`` (url= jobs polled on /v0/jobs/ID), ``tb datasource append
--file`` of a Parquet file (/v1/datasources/NAME/append with application/vnd.apache.parquet) and
``tb datasource analyze`` (/v0/analyze with the file's first 1 MiB as the body). Expected rows by hand.

slow: the CLI is installed once into its own virtualenv (tests/clients/test_tb_cli.py) and polls jobs
every 2 s."""

from __future__ import annotations

import functools
import http.server
import threading

import pytest

from tests.clients.test_tb_cli import build_workspace, project, server, tb  # noqa: F401 - fixtures

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("files")
    (root / "more.ndjson").write_text('{"user_id":"c","n":7,"timestamp":"2024-01-02 00:00:00"}\n'
                                      '{"user_id":"c","n":"bad","timestamp":"2024-01-02 00:00:01"}\n')
    (root / "only.csv").write_text("user_id,n,timestamp\nz,1,2024-02-01 00:00:00\n")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a: None
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def test_tb_datasource_append_replace_url_parquet_and_analyze(server, project, files):  # noqa: F811
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    tb(server, project, "build")
    ws = build_workspace(server)

    def count():
        return server.get_json("/v0/datasources/events", token=ws["token"])["statistics"]["row_count"]

    assert count() == 3                                                   # the project's fixture
    out = tb(server, project, "datasource", "append", "events", "--url", f"{files}/more.ndjson")
    assert "Error" not in out, out
    assert count() == 4                                                   # the bad row is quarantined
    table = pa.table({"user_id": ["p", "q"], "n": pa.array([1, 2], pa.int64()),
                      "timestamp": pa.array([0, 1], pa.timestamp("s"))})
    pq.write_table(table, project / "two.parquet")
    out = tb(server, project, "datasource", "append", "events", "--file", "two.parquet")
    assert "Error" not in out, out
    assert count() == 6
    out = tb(server, project, "datasource", "replace", "events", f"{files}/only.csv")
    assert "Error" not in out, out
    assert count() == 1
    (project / "sample.ndjson").write_text('{"a": 1, "b": {"c": "x"}, "d": [1.5]}\n{"a": 2, "b": {"c": "y"}}\n')
    out = tb(server, project, "datasource", "analyze", "sample.ndjson")
    assert "a Int64 `json:$.a`, b_c String `json:$.b.c`, d Array(Float64) `json:$.d[:]`" in out, out


def test_classic_tb_datasource_append_url_analyze_and_generate(tmp_path, files):
    """The Classic CLI (tinybird-cli 6.x): ``tb datasource append DS URL`` polls the url= job with
    wait_for_job, ``tb datasource analyze`` prints the analysis, ``tb datasource generate URL`` writes
    a .datasource from /v0/analyze that ``tb push`` then creates."""
    import os
    import subprocess

    from tests.clients.conftest import LiveServer
    from tests.clients.test_tb_cli_classic import DATASOURCE, TB, _install

    _install()
    project = tmp_path / "project"
    (project / "datasources").mkdir(parents=True)
    (project / "datasources" / "clicks.datasource").write_text(DATASOURCE)
    (project / "more.ndjson").write_text('{"user_id":"a","n":1}\n')
    srv = LiveServer(tmp_path, project=None)
    env = {**os.environ, "TB_HOST": srv.host, "TB_TOKEN": srv.admin, "HOME": str(tmp_path / "home"),
           "TB_CLI_TELEMETRY_OPTOUT": "1", "CI": "1"}

    def run(*args) -> str:
        r = subprocess.run([str(TB), "--no-version-warning", *args], cwd=project, env=env, capture_output=True,
                           text=True, timeout=180)
        out = r.stdout + r.stderr
        assert r.returncode == 0, f"tb {' '.join(args)} exited {r.returncode}:\n{out}"
        return out

    try:
        run("push", "datasources/clicks.datasource")
        out = run("datasource", "append", "clicks", f"{files}/more.ndjson")
        assert "Error" not in out, out
        assert srv.get_json("/v0/datasources/clicks")["statistics"]["row_count"] == 1   # n="bad" is quarantined
        out = run("datasource", "analyze", "more.ndjson")
        assert "user_id String `json:$.user_id`, n Int64 `json:$.n`" in out, out
        out = run("datasource", "generate", f"{files}/only.csv")
        text = (project / "datasources" / "only.datasource").read_text()
        assert "user_id String" in text and "n Int64" in text and "timestamp DateTime" in text, (out, text)
        run("push", "datasources/only.datasource")
        out = run("datasource", "append", "only", f"{files}/only.csv")
        assert srv.get_json("/v0/datasources/only")["statistics"]["row_count"] == 1
        assert srv.get_json("/v0/datasources/only")["schema"]["columns"][1]["type"] == "Int64"
    finally:
        srv.stop()
