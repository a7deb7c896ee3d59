"""Tinybird's Classic CLI (``pip install tinybird-cli``, 6.x), unmodified, against ``mergetree serve``.

``tb push`` creates data sources (``POST /v0/datasources``) and pipes (``POST /v0/pipes`` with a JSON
body, ``.../nodes/ID/endpoint``) after checking node SQL through ``/v0/sql_tables`` (its fallback when the
native clickhouse-toolset cannot be imported); ``tb datasource append`` posts a multipart file; ``tb sql``
calls ``/v0/sql``; ``tb pipe rm`` calls ``DELETE /v0/pipes/NAME``. Host and token come from
``TB_HOST`` / ``TB_TOKEN``. A materialized pipe is checked first through a temporary ``NAME__checker``
pipe and ``GET /v0/pipes/NAME__checker/nodes/N/analysis``; a copy pipe's node is set by pipe id with
``PUT /v0/pipes/t_NAME/nodes/ID/copy``; ``tb pipe copy run`` posts ``/v0/pipes/NAME/copy``. Replacing a pipe needs ``push --force --no-check``: the regression check reads
Tinybird's ``tinybird.pipe_stats_rt`` service data source, which mergetree does not have.

Installed once into its own virtualenv (``$MERGETREE_TB_CLASSIC_VENV``, default
``/tmp/mergetree-tb-classic-venv``); skipped with the reason when it cannot be installed; ``slow``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.clients.conftest import LiveServer

pytestmark = pytest.mark.slow

VENV = Path(os.environ.get("MERGETREE_TB_CLASSIC_VENV", "/tmp/mergetree-tb-classic-venv"))
TB = VENV / "bin" / "tb"

DATASOURCE = """SCHEMA >
    `user_id` String `json:$.user_id`,
    `n` Int32 `json:$.n`

ENGINE "MergeTree"
ENGINE_SORTING_KEY "user_id"
"""

PIPE = """NODE agg
SQL >
    %
    SELECT user_id, sum(n) AS total FROM clicks
    WHERE n >= {{ Int32(min_n, 0) }}
    GROUP BY user_id ORDER BY user_id

TYPE endpoint
"""


TOTALS = """SCHEMA >
    `user_id` String,
    `total` Int64

ENGINE "SummingMergeTree"
ENGINE_SORTING_KEY "user_id"
"""

TOTALS_MV = """NODE m
SQL >
    SELECT user_id, toInt64(n) AS total FROM clicks

TYPE materialized
DATASOURCE click_totals
"""

COPY = """NODE c
SQL >
    SELECT user_id, toInt64(sum(n)) AS total FROM clicks GROUP BY user_id

TYPE copy
TARGET_DATASOURCE click_totals
COPY_SCHEDULE @on-demand
"""


def _install() -> None:
    if TB.exists():
        return
    try:
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True, capture_output=True, timeout=300)
        r = subprocess.run([str(VENV / "bin" / "pip"), "install", "-q", "tinybird-cli>=6,<7"], capture_output=True,
                           text=True, timeout=900)
    except (subprocess.SubprocessError, OSError) as e:
        pytest.skip(f"tinybird-cli could not be installed into {VENV}: {e}")
    if r.returncode != 0 or not TB.exists():
        pytest.skip(f"tinybird-cli could not be installed (pip install tinybird-cli): {r.stderr.strip()[-500:]}")


def test_classic_tb_push_append_sql_rm(tmp_path):
    _install()
    project = tmp_path / "project"
    for rel, text in {"datasources/clicks.datasource": DATASOURCE, "pipes/clicks_by_user.pipe": PIPE,
                      "datasources/click_totals.datasource": TOTALS, "pipes/click_totals_mv.pipe": TOTALS_MV,
                      "pipes/click_copy.pipe": COPY,
                      "clicks.ndjson": '{"user_id":"a","n":1}\n{"user_id":"b","n":5}\n{"user_id":"a","n":3}\n'}.items():
        (project / rel).parent.mkdir(parents=True, exist_ok=True)
        (project / rel).write_text(text)
    server = LiveServer(tmp_path, project=None)
    env = {**os.environ, "TB_HOST": server.host, "TB_TOKEN": server.admin, "HOME": str(tmp_path / "home"),
           "TB_CLI_TELEMETRY_OPTOUT": "1", "CI": "1"}

    def tb(*args) -> str:
        r = subprocess.run([str(TB), "--no-version-warning", *args], cwd=project, env=env, capture_output=True,
                           text=True, timeout=180)
        out = r.stdout + r.stderr
        assert r.returncode == 0, f"tb {' '.join(args)} exited {r.returncode}:\n{out}"
        return out

    def endpoint(query: str = "") -> list:
        url = f"{server.host}/v0/pipes/clicks_by_user.json?token={server.admin}{query}"
        with urllib.request.urlopen(url, timeout=10) as r:
            return json.loads(r.read())["data"]

    try:
        out = tb("auth", "--host", server.host, "--token", server.admin)      # GET /v0/workspace
        assert "Auth successful" in out and "not an admin token" not in out, out
        out = tb("workspace", "current")                                     # GET /v0/user/workspaces/
        assert "mergetree" in out and "True" in out, out
        out = tb("push", "--push-deps")       # the materialized pipe is checked first (.../nodes/m/analysis)
        assert "'clicks' created" in out and "'clicks_by_user' created" in out, out
        assert "'click_totals_mv' created" in out and "'click_copy' created" in out, out
        assert "Data appended" in tb("datasource", "append", "clicks", "clicks.ndjson")
        assert "|       3 |" in tb("sql", "SELECT count() FROM clicks")
        # hand-computed from the three rows: a = 1 + 3, b = 5
        assert endpoint() == [{"user_id": "a", "total": 4}, {"user_id": "b", "total": 5}]
        assert endpoint("&min_n=2") == [{"user_id": "a", "total": 3}, {"user_id": "b", "total": 5}]
        def totals() -> list:
            out = tb("sql", "SELECT user_id, sum(total) AS t FROM click_totals GROUP BY user_id ORDER BY user_id",
                     "--format", "json")
            return json.loads(out[out.index("{"):])["data"]

        assert totals() == [{"user_id": "a", "t": 4}, {"user_id": "b", "t": 5}]       # the view's rows
        assert "Data copied to 'click_totals'" in tb("pipe", "copy", "run", "click_copy", "--wait", "--yes")
        assert totals() == [{"user_id": "a", "t": 8}, {"user_id": "b", "t": 10}]      # + the copy's
        (project / "pipes" / "clicks_by_user.pipe").write_text(PIPE.replace("Int32(min_n, 0)", "Int32(min_n, 2)"))
        tb("push", "pipes/clicks_by_user.pipe", "--force", "--no-check")
        assert endpoint() == [{"user_id": "a", "total": 3}, {"user_id": "b", "total": 5}]
        assert "clicks_by_user" in tb("pipe", "ls")
        assert "deleted" in tb("pipe", "rm", "clicks_by_user", "--yes")
        with pytest.raises(urllib.error.HTTPError) as e:
            endpoint()
        assert e.value.code == 404
    finally:
        server.stop()
