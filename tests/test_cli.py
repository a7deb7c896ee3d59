"""The `mergetree` command: help stays import-light, and the README's demo runs end to end."""

import io
import subprocess
import sys

from mergetree.cli import main


def test_help_does_not_import_numba_or_build_the_parser():
    code = (
        "import sys; from mergetree.cli import build_parser; build_parser().format_help(); "
        "print('numba' in sys.modules, 'lark' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_demo_runs_and_reports_each_step(tmp_path):
    """The service end to end: events through the Events API, both quickstart endpoints over HTTP."""
    import re
    import threading

    from mergetree.demo import run_demo

    before = set(threading.enumerate())
    buf = io.StringIO()
    assert run_demo(rows=3_000, data_dir=str(tmp_path / "data"), out=buf) == 0
    text = buf.getvalue()
    assert "endpoints daily_active_users, user_activity published" in text
    assert "sent 3,000 events in 1 NDJSON requests" in text and "0 quarantined" in text
    assert re.search(r"GET /v0/pipes/daily_active_users.json: 3[01] rows", text), text   # today + 30 days back
    assert "GET /v0/pipes/user_activity.json?user_id=user_123&days=30" in text
    assert "curl -H \"Authorization: Bearer $TOKEN\"" in text
    leftover = [t for t in threading.enumerate() if t not in before and t.is_alive()
                and not t.name.startswith(("mergetree-encode", "mergetree-decode", "mv-part-writer", "events-convert"))]  # process-wide pools
    assert not leftover, leftover


def test_demo_rows_survive_in_the_kept_data_dir(tmp_path):
    import mergetree
    from mergetree.demo import run_demo

    run_demo(rows=2_000, data_dir=str(tmp_path), out=io.StringIO())
    db = mergetree.connect(str(tmp_path / "tables"))
    try:
        assert db.table("events").count() == 2_000
    finally:
        db.close()


def test_unknown_command_exits_nonzero():
    proc = subprocess.run([sys.executable, "-m", "mergetree.cli", "nope"], capture_output=True, text=True)
    assert proc.returncode != 0
    assert "invalid choice" in proc.stderr


def test_no_command_prints_help(capsys):
    assert main([]) == 0
    assert "demo" in capsys.readouterr().out


def _run_sql(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "mergetree.cli", "sql", *args], input=stdin,
                          capture_output=True, text=True)


def test_sql_runs_statements_in_order_with_tsv_output(tmp_path):
    d = str(tmp_path / "d")
    proc = _run_sql("--data-dir", d,
                    "CREATE TABLE t (a UInt32, s String) ENGINE = MergeTree ORDER BY a; "
                    "INSERT INTO t VALUES (2, 'y'), (1, 'x'); SELECT s, a * 2 AS d FROM t ORDER BY a")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "x\t2\ny\t4\n"
    # the data persists in the directory; a FORMAT clause wins over the default
    proc = _run_sql("--data-dir", d, "SELECT count() FROM t FORMAT JSONEachRow")
    assert proc.stdout == '{"count()":2}\n'


def test_sql_reads_stdin_and_binds_params():
    proc = _run_sql("--param", "x=4", stdin="SELECT {x:UInt8} + 1")
    assert (proc.returncode, proc.stdout) == (0, "5\n")


def test_sql_errors_are_clickhouse_style_with_nonzero_exit(tmp_path):
    proc = _run_sql("SELEC 1")
    assert proc.returncode != 0
    assert proc.stderr.startswith("Code: 62. DB::Exception: Syntax error at line 1, column 1")
    assert "(SYNTAX_ERROR)" in proc.stderr.splitlines()[0]
    proc = _run_sql("SELECT nope FROM numbers(1)")
    assert proc.returncode != 0
    assert "Unknown identifier 'nope'" in proc.stderr and "(UNKNOWN_IDENTIFIER)" in proc.stderr
