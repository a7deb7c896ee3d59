"""Tinybird's CLIs evolve a data source against ``mergetree serve`` (slow; the Forward CLI test, at the
end, deploys with ``tb --local deploy`` from the venv of test_tb_cli.py).

Tinybird's Classic CLI (unmodified, the venv of test_tb_cli_classic.py) evolves a data source against
``mergetree serve``: ``tb push --force`` of an unchanged datafile alters nothing (the CLI compares
``sql_schema`` and takes "There were no operations to perform" as no change); with a new column it
shows the planned operation (``POST /v0/datasources/NAME/alter?dry=true``), then applies it; the rows
stored before read the new column's DEFAULT; removing a column is refused with the column named."""

from __future__ import annotations

import json
import os
import subprocess
import urllib.parse
import urllib.request

import pytest

from tests.clients.conftest import LiveServer
from tests.clients.test_tb_cli_classic import TB, _install

pytestmark = pytest.mark.slow

DATASOURCE = """SCHEMA >
    `user_id` String `json:$.user_id`,
    `n` Int32 `json:$.n`

ENGINE "MergeTree"
ENGINE_SORTING_KEY "user_id"
"""


def test_classic_tb_push_force_adds_a_column(tmp_path):
    _install()
    project = tmp_path / "project"
    (project / "datasources").mkdir(parents=True)
    ds = project / "datasources" / "clicks.datasource"
    ds.write_text(DATASOURCE)
    server = LiveServer(tmp_path, project=None)
    env = {**os.environ, "TB_HOST": server.host, "TB_TOKEN": server.admin, "HOME": str(tmp_path / "home"),
           "TB_CLI_TELEMETRY_OPTOUT": "1", "CI": "1"}

    def tb(*args, ok=True) -> str:
        r = subprocess.run([str(TB), "--no-version-warning", *args], cwd=project, env=env, capture_output=True,
                           text=True, timeout=180)
        out = r.stdout + r.stderr
        assert (r.returncode == 0) == ok, f"tb {' '.join(args)} exited {r.returncode}:\n{out}"
        return out

    def sql(q: str) -> list:
        url = f"{server.host}/v0/sql?" + urllib.parse.urlencode({"q": q + " FORMAT JSON", "token": server.admin})
        with urllib.request.urlopen(url, timeout=10) as r:
            return json.loads(r.read())["data"]

    try:
        tb("push", "datasources/clicks.datasource")
        req = urllib.request.Request(f"{server.host}/v0/events?name=clicks&wait=true", method="POST",
                                     data=b'{"user_id": "a", "n": 2}',
                                     headers={"Authorization": f"Bearer {server.admin}"})
        urllib.request.urlopen(req, timeout=30).read()
        out = tb("push", "datasources/clicks.datasource", "--force", "--yes")
        assert "ADD COLUMN" not in out
        ds.write_text(DATASOURCE.replace("`n` Int32 `json:$.n`",
                                         "`n` Int32 `json:$.n`,\n    `m` Int64 `json:$.m` DEFAULT n * 10"))
        out = tb("push", "datasources/clicks.datasource", "--force", "--yes")
        assert "ADD COLUMN `m` Int64 DEFAULT n * 10" in out, out
        assert sql("SELECT user_id, n, toInt32(m) AS m FROM clicks") == [{"user_id": "a", "n": 2, "m": 20}]
        # tb pull writes the evolved datafile back (GET /v0/datasources/clicks.datasource)
        (project / "pulled").mkdir()
        tb("pull", "--folder", "pulled", "--force")
        pulled = next((project / "pulled").rglob("clicks.datasource")).read_text()
        assert "`m` Int64 `json:$.m` DEFAULT n * 10" in pulled, pulled
        ds.write_text(DATASOURCE.replace("`n` Int32 `json:$.n`", "`m` Int64 `json:$.m`"))
        out = tb("push", "datasources/clicks.datasource", "--force", "--yes", ok=False)
        assert "'n'" in out, out
        assert [c for c in sql("SELECT * FROM clicks")[0]] == ["user_id", "n", "m"]
    finally:
        server.stop()


def test_forward_tb_deploy_adds_a_column_and_refuses_a_removal(tmp_path):
    """Tinybird's Forward CLI (``tb --local deploy``, the venv of test_tb_cli.py): a deployment whose
    datafile adds a column is applied in place (metadata-only), one that removes a column fails with
    the file and the column named, and the live data source is unchanged."""
    from tests.clients import test_tb_cli as fwd

    fwd._install()
    project = tmp_path / "fproject"
    ds = project / "datasources" / "clicks.datasource"
    ds.parent.mkdir(parents=True)
    ds.write_text(DATASOURCE)
    server = LiveServer(tmp_path, project=None)
    try:
        out = fwd.tb(server, project, "deploy", timeout=300)
        assert "is live" in out, out
        ws = fwd.build_workspace(server)
        req = urllib.request.Request(f"{server.host}/v0/events?name=clicks&wait=true", method="POST",
                                     data=b'{"user_id": "a", "n": 2}', headers={"Authorization": f"Bearer {ws['token']}"})
        urllib.request.urlopen(req, timeout=30).read()
        ds.write_text(DATASOURCE.replace("`n` Int32 `json:$.n`",
                                         "`n` Int32 `json:$.n`,\n    `m` Int64 `json:$.m` DEFAULT n * 10"))
        out = fwd.tb(server, project, "deploy", timeout=300)
        assert "is live" in out, out
        out = fwd.tb(server, project, "--output", "json", "sql", "SELECT user_id, n, toInt32(m) AS m FROM clicks")
        assert json.loads(out[out.index("{"):])["data"] == [{"user_id": "a", "n": 2, "m": 20}]
        ds.write_text(DATASOURCE.replace("`n` Int32 `json:$.n`", "`m` Int64 `json:$.m`"))
        env = {**os.environ, "TB_LOCAL_HOST": "127.0.0.1", "TB_LOCAL_PORT": str(server.port), "CI": "1",
               "TB_CLI_TELEMETRY_OPTOUT": "1", "HOME": str(project.parent / "home")}
        r = subprocess.run([str(fwd.TB), "--no-version-warning", "--local", "deploy"], cwd=project, env=env,
                           capture_output=True, text=True, timeout=300)
        out = r.stdout + r.stderr
        assert r.returncode != 0 and "clicks.datasource" in out and "'n'" in out, out
        info = server.get_json("/v0/datasources/clicks", token=ws["token"])
        assert [c["name"] for c in info["schema"]["columns"]] == ["user_id", "n", "m"]
    finally:
        server.stop()
