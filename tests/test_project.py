"""Projects: loading a folder into the service, refusing schema changes, `mergetree build`, dev reload."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from mergetree.server.app import create_app
from mergetree.server.project import ProjectError, Reloader, build_errors

REPO = Path(__file__).resolve().parent.parent
QUICKSTART = REPO / "examples" / "quickstart"
ADMIN = "admin-secret-long-enough-for-hs256-keys"
H = {"Authorization": f"Bearer {ADMIN}"}

DS = """
SCHEMA >
    `id` UInt32 `json:$.id`,
    `name` String `json:$.name`

ENGINE "MergeTree"
ENGINE_SORTING_KEY "id"
"""
PIPE = """
NODE n
SQL >
    SELECT id, name FROM things ORDER BY id
"""


def _write(root: Path, files: dict) -> Path:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text).lstrip("\n"))
    return root


def _cli(*argv) -> subprocess.CompletedProcess:
    """``mergetree ARGV`` in-process (the same main() the command runs): exit code, stdout, stderr."""
    import contextlib
    import io

    from mergetree.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return subprocess.CompletedProcess(argv, code, out.getvalue(), err.getvalue())


def _build(path) -> subprocess.CompletedProcess:
    return _cli("build", path)


def test_quickstart_builds_and_flat_layout_loads(tmp_path):
    assert build_errors(QUICKSTART) == []
    flat = _write(tmp_path / "flat", {"things.datasource": DS, "all_things.pipe": PIPE})
    app = create_app(tmp_path / "data", admin_token=ADMIN, project=flat)
    with TestClient(app) as c:
        assert c.post("/v0/events?name=things&wait=true", headers=H,
                      content=b'{"id": 2, "name": "b"}\n{"id": 1, "name": "a"}').status_code == 200
        r = c.get("/v0/pipes/all_things.json", headers=H)
        assert r.json()["data"] == [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}]
        info = c.get("/v0/datasources/things", headers=H).json()
        assert info["engine"]["sorting_key"] == "id"
        assert [c["jsonpath"] for c in info["schema"]["columns"]] == ["$.id", "$.name"]


def test_restart_keeps_data_and_a_schema_change_is_refused_naming_the_file_and_line(tmp_path):
    root = _write(tmp_path / "p", {"datasources/things.datasource": DS, "pipes/all_things.pipe": PIPE})
    data = tmp_path / "data"
    with TestClient(create_app(data, admin_token=ADMIN, project=root)) as c:
        c.post("/v0/events?name=things&wait=true", headers=H, content=b'{"id": 1, "name": "a"}')
    # same project again: nothing to do, the row is still there
    with TestClient(create_app(data, admin_token=ADMIN, project=root)) as c:
        assert c.get("/v0/pipes/all_things.json", headers=H).json()["rows"] == 1
    # a column changes type: refused, the message names the file and the column's line
    (root / "datasources/things.datasource").write_text(DS.replace("`name` String", "`name` Int64"))
    with pytest.raises(ProjectError) as e:
        create_app(data, admin_token=ADMIN, project=root)
    path = str(root / "datasources/things.datasource")
    assert str(e.value).startswith(f"{path}:4: Data Source 'things' exists with another definition: "
                                   f"column 'name' changes type from String to Int64")
    # a new column before the existing ones and a new sorting key are refused too; the data is untouched
    (root / "datasources/things.datasource").write_text(
        DS.replace("`id` UInt32 `json:$.id`,", "`x` Int8 `json:$.x`,\n    `id` UInt32 `json:$.id`,"))
    with pytest.raises(ProjectError, match=r":3: .*new column 'x' must go after the existing columns"):
        create_app(data, admin_token=ADMIN, project=root)
    (root / "datasources/things.datasource").write_text(DS.replace('"id"', '"id, name"'))
    with pytest.raises(ProjectError, match=r":7: .*ENGINE_SORTING_KEY changes from 'id' to 'id, name'"):
        create_app(data, admin_token=ADMIN, project=root)
    (root / "datasources/things.datasource").write_text(DS)
    with TestClient(create_app(data, admin_token=ADMIN, project=root)) as c:
        assert c.get("/v0/pipes/all_things.json", headers=H).json()["data"] == [{"id": 1, "name": "a"}]
    # a new JSONPath is not a schema change: it applies to the next events
    (root / "datasources/things.datasource").write_text(DS.replace("json:$.name", "json:$.user.name"))
    with TestClient(create_app(data, admin_token=ADMIN, project=root)) as c:
        c.post("/v0/events?name=things&wait=true", headers=H, content=b'{"id": 2, "user": {"name": "b"}}')
        assert c.get("/v0/pipes/all_things.json", headers=H).json()["data"] == [{"id": 1, "name": "a"},
                                                                               {"id": 2, "name": "b"}]


def test_datafile_errors_name_file_and_line(tmp_path):
    root = _write(tmp_path / "p", {"a.datasource": DS, "bad.pipe": """
        NODE n
        SQL >
            SELECT id FROM things
            WHERE id = = 1
        """})
    errors = build_errors(root)
    assert len(errors) == 1
    assert str(errors[0]).startswith(f"{root / 'bad.pipe'}:4")
    with pytest.raises(Exception) as e:
        create_app(tmp_path / "data", admin_token=ADMIN, project=root)
    assert f"{root / 'bad.pipe'}:4" in str(e.value)


def test_build_binds_node_sql_against_the_schemas(tmp_path):
    root = _write(tmp_path / "p", {
        "things.datasource": DS,
        "ok.pipe": """
            NODE a
            SQL >
                %
                SELECT id, name FROM things WHERE id > {{ Int32(min_id, 0) }}

            NODE b
            SQL >
                SELECT count() AS c FROM a
            """,
        "bad_column.pipe": """
            DESCRIPTION >
                a pipe

            NODE first
            SQL >
                SELECT id FROM things

            NODE second
            SQL >
                SELECT nam FROM first
            """,
        "bad_template.pipe": """
            NODE n
            SQL >
                %
                SELECT {{ Int32(x, }} FROM things
            """,
        "unknown_table.pipe": """
            NODE n
            SQL >
                SELECT * FROM nowhere
            """,
    })
    errors = {Path(e.filename).name: e for e in build_errors(root)}
    assert set(errors) == {"bad_column.pipe", "bad_template.pipe", "unknown_table.pipe"}
    assert errors["bad_column.pipe"].line == 10
    assert 'node "second"' in errors["bad_column.pipe"].message and "nam" in errors["bad_column.pipe"].message
    assert errors["unknown_table.pipe"].line == 3 and "nowhere" in errors["unknown_table.pipe"].message
    assert errors["bad_template.pipe"].line == 4

    proc = _build(root)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert any(line.startswith(f"{root / 'bad_column.pipe'}:10: ") for line in lines), proc.stderr
    assert lines[-1] == "build failed: 3 errors"
    ok = _build(QUICKSTART)
    assert ok.returncode == 0 and "build ok: 2 data sources, 3 pipes" in ok.stdout


def test_build_reports_a_bad_column_type_on_its_line(tmp_path):
    root = _write(tmp_path / "p", {"x.datasource": DS.replace("`name` String", "`name` Strin")})
    (e,) = build_errors(root)
    assert e.line == 3 and "column 'name'" in e.message and "Strin" in e.message


def test_build_reports_duplicates_and_missing_folder(tmp_path):
    proc = _build(REPO / "tests" / "datafiles" / "dup")
    assert proc.returncode == 1 and "duplicate name 'thing'" in proc.stderr
    proc = _build(tmp_path / "missing")
    assert proc.returncode == 1 and "project folder not found" in proc.stderr


def test_dev_reloader_picks_up_changed_and_new_pipes(tmp_path):
    root = _write(tmp_path / "p", {"things.datasource": DS, "all_things.pipe": PIPE})
    app = create_app(tmp_path / "data", admin_token=ADMIN, project=root)
    with TestClient(app) as c:
        svc = app.state.service
        c.post("/v0/events?name=things&wait=true", headers=H, content=b'{"id": 1, "name": "a"}\n{"id": 2}')
        reloader = Reloader(svc, root, interval=60)     # driven by check() here, not by its thread
        assert reloader.check() is False
        time.sleep(0.01)
        _write(root, {"all_things.pipe": PIPE.replace("ORDER BY id", "ORDER BY id DESC"),
                      "count_things.pipe": "NODE n\nSQL >\n    SELECT count() AS c FROM things\n"})
        os.utime(root / "all_things.pipe", ns=(time.time_ns(), time.time_ns() + 10**9))
        assert reloader.check() is True
        assert [d["id"] for d in c.get("/v0/pipes/all_things.json", headers=H).json()["data"]] == [2, 1]
        assert c.get("/v0/pipes/count_things.json", headers=H).json()["data"] == [{"c": 2}]
        # a new data source appears on reload
        _write(root, {"more.datasource": DS})
        os.utime(root / "more.datasource", ns=(time.time_ns(), time.time_ns() + 3 * 10**9))
        assert reloader.check() is True
        assert c.post("/v0/events?name=more&wait=true", headers=H, content=b'{"id": 7}').status_code == 200
        # a broken edit keeps the previous version serving
        (root / "count_things.pipe").write_text("NODE n\nSQL >\n    SELECT FROM FROM\n")
        os.utime(root / "count_things.pipe", ns=(time.time_ns(), time.time_ns() + 4 * 10**9))
        assert reloader.check() is False and "count_things.pipe:3" in reloader.last_error
        assert c.get("/v0/pipes/count_things.json", headers=H).json()["data"] == [{"c": 2}]


def test_serve_cli_refuses_a_broken_project(tmp_path):
    root = tmp_path / "p"
    shutil.copytree(QUICKSTART, root)
    (root / "pipes" / "oops.pipe").write_text("NODE n\nSQL >\n    %\n    SELECT {{ nope( }}\n")
    proc = _cli("serve", root, "--data-dir", tmp_path / "d", "--port", "0", "--admin-token", ADMIN)
    assert proc.returncode == 1
    assert f"{root / 'pipes' / 'oops.pipe'}:4" in proc.stderr


@pytest.mark.slow
def test_bench_api_runs_end_to_end(tmp_path):
    """bench/bench_api.py on a small table: builds the data, measures, prints both tables."""
    proc = subprocess.run([sys.executable, "-m", "bench.bench_api", "--rows", "20k", "--duration", "1",
                           "--clients", "2", "--keep", str(tmp_path / "d")],
                          capture_output=True, text=True, cwd=REPO, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "overhead" in proc.stdout and "p50 ms" in proc.stdout
