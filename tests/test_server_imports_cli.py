"""`mergetree append DS https://...` (the server imports the URL in a job, the CLI follows it) and
`mergetree append DS file.parquet`, against a live `mergetree serve` of the quickstart project."""

from __future__ import annotations

import functools
import http.server
import threading

import pytest

from mergetree.cli import main
from tests.clients.conftest import ADMIN, QUICKSTART, LiveServer


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    if not QUICKSTART.is_dir():
        pytest.skip("examples/quickstart is not there")
    server = LiveServer(tmp_path_factory.mktemp("imports_cli"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("served")
    (root / "ev.csv").write_text("event_id,user_id,event_type,timestamp\n"
                                 "u1,url_user,click,2026-11-20 10:00:00\nu2,url_user,click,not a date\n")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_append_url_and_parquet(srv, files, capsys, tmp_path):
    remote = ["--host", srv.host, "--token", ADMIN]
    code, out, _ = run(capsys, "append", "events", f"{files}/ev.csv", *remote)
    assert code == 0 and "1 rows appended to events" in out and "1 rows quarantined" in out, out
    code, _, err = run(capsys, "append", "events", f"{files}/missing.csv", *remote)
    assert code == 1 and f"import error: Could not download {files}/missing.csv: HTTP 404" in err
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    path = tmp_path / "ev.parquet"
    pq.write_table(pa.table({"event_id": ["p1", "p2"], "user_id": ["url_user"] * 2, "event_type": ["view"] * 2,
                             "timestamp": pa.array([1_763_632_800, 1_763_632_801], pa.timestamp("s"))}), path)
    code, out, _ = run(capsys, "append", "events", str(path), *remote)
    assert code == 0 and "2 rows appended to events" in out, out
    code, out, _ = run(capsys, "sql", "SELECT event_type, count(), min(timestamp) FROM events "
                                      "WHERE user_id = 'url_user' GROUP BY event_type ORDER BY event_type", *remote)
    assert code == 0 and out == "click\t1\t2026-11-20 10:00:00\nview\t2\t2025-11-20 10:00:00\n", out
