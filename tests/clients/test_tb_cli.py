"""Tinybird's own Forward CLI (``pip install tinybird``, 5.x), unmodified, against ``mergetree serve``.

``tb --local`` talks to ``http://$TB_LOCAL_HOST:$TB_LOCAL_PORT`` as it would to the tinybird-local
container: ``GET /tokens``, ``/v1/user/workspaces``, ``POST /v1/workspaces`` (a build workspace per
project folder, a fresh one per ``tb test run``), ``POST /v1/build`` (multipart datafiles), fixtures
through ``/v0/datasources/NAME`` + ``/v1/datasources/NAME/append`` + ``/v0/jobs/ID``, ``tb test run``
comparing ``/v0/pipes/P.ndjson`` byte for byte with ``tests/P.yaml``, ``/v0/sql``, ``/v1/deploy`` +
``/v1/deployments`` (auto-promoted, and a candidate promoted by ``tb deployment promote``), ``/v0/variables`` (``tb secret``, and the project's ``.env`` loaded by every command),
``POST /v0/pipes/P/copy`` (``tb copy run``). The project has endpoints (one reading a ``tb_secret``), a
materialized view, a copy pipe and a ``.connection`` (reported as not applied).

The CLI is installed once into a virtualenv of its own (never the project's: it pulls docker, boto3,
confluent-kafka, ...), cached at ``$MERGETREE_TB_CLI_VENV`` (default ``/tmp/mergetree-tb-cli-venv``).
Skipped with the reason when it cannot be installed. ``slow``: the first install takes a minute, and
the CLI itself polls jobs and deployments every 2-5 s (``pytest -m slow tests/clients/test_tb_cli.py``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.clients.conftest import LiveServer

pytestmark = pytest.mark.slow

VENV = Path(os.environ.get("MERGETREE_TB_CLI_VENV", "/tmp/mergetree-tb-cli-venv"))
TB = VENV / "bin" / "tb"

DATASOURCE = """DESCRIPTION >
    Events of the test project

SCHEMA >
    `user_id` String `json:$.user_id`,
    `n` Int32 `json:$.n`,
    `timestamp` DateTime `json:$.timestamp`

ENGINE "MergeTree"
ENGINE_SORTING_KEY "timestamp, user_id"
"""

PIPE = """NODE top
SQL >
    %
    SELECT user_id, sum(n) AS total
    FROM events
    WHERE n >= {{ Int32(min_n, 0) }}
    GROUP BY user_id
    ORDER BY total DESC, user_id
    LIMIT {{ Int32(limit, 10) }}

TYPE endpoint
"""

FIXTURE = """{"user_id":"a","n":1,"timestamp":"2024-01-01 00:00:00"}
{"user_id":"b","n":5,"timestamp":"2024-01-01 00:00:01"}
{"user_id":"a","n":3,"timestamp":"2024-01-01 00:00:02"}
"""

# expected results computed by hand from FIXTURE (b: 5, a: 1 + 3); the error text is Tinybird's
TESTS = """- name: top_users_default
  description: every user, the top first
  parameters: ''
  expected_result: |
    {"user_id":"b","total":5}
    {"user_id":"a","total":4}

- name: top_users_min_n
  description: only events with n >= 3
  parameters: min_n=3&limit=5
  expected_result: |
    {"user_id":"b","total":5}
    {"user_id":"a","total":3}

- name: top_users_bad_limit
  description: a limit that is not an Int32
  parameters: limit=abc
  expected_result: "Template Syntax Error: Error validating 'abc' to type Int32"
  expected_http_status: 400
"""


TOTALS = """SCHEMA >
    `user_id` String,
    `total` Int64

ENGINE "SummingMergeTree"
ENGINE_SORTING_KEY "user_id"
"""

TOTALS_MV = """NODE m
SQL >
    SELECT user_id, toInt64(n) AS total FROM events

TYPE materialized
DATASOURCE totals
"""

SNAP = """SCHEMA >
    `c` UInt64

ENGINE "MergeTree"
ENGINE_SORTING_KEY "c"
"""

SNAPSHOT = """NODE s
SQL >
    SELECT count() AS c FROM events

TYPE copy
TARGET_DATASOURCE snap
COPY_MODE append
"""


BY_SECRET = """NODE s
SQL >
    %
    SELECT user_id, sum(n) AS total FROM events WHERE user_id = {{ tb_secret('TEAM_USER') }} GROUP BY user_id

TYPE endpoint
"""


def _install() -> None:
    if TB.exists():
        return
    try:
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True, capture_output=True, timeout=300)
        r = subprocess.run([str(VENV / "bin" / "pip"), "install", "-q", "tinybird>=5,<6"], capture_output=True,
                           text=True, timeout=900)
    except (subprocess.SubprocessError, OSError) as e:
        pytest.skip(f"the tinybird CLI could not be installed into {VENV}: {e}")
    if r.returncode != 0 or not TB.exists():
        pytest.skip(f"the tinybird CLI could not be installed (pip install tinybird): {r.stderr.strip()[-500:]}")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    _install()
    s = LiveServer(tmp_path_factory.mktemp("tbcli"), project=None)
    yield s
    s.stop()


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("tbproject")
    for rel, text in {"datasources/events.datasource": DATASOURCE, "endpoints/top_users.pipe": PIPE,
                      "fixtures/events.ndjson": FIXTURE, "tests/top_users.yaml": TESTS,
                      "datasources/totals.datasource": TOTALS, "materializations/totals_mv.pipe": TOTALS_MV,
                      "datasources/snap.datasource": SNAP, "copies/snapshot.pipe": SNAPSHOT,
                      "connections/kafka.connection": "TYPE kafka\nKAFKA_BOOTSTRAP_SERVERS localhost:9092\n",
                      "endpoints/by_secret.pipe": BY_SECRET, ".env": "TEAM_USER=b\n"}.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def tb(server, project, *args, timeout=180) -> str:
    env = {**os.environ, "TB_LOCAL_HOST": "127.0.0.1", "TB_LOCAL_PORT": str(server.port), "CI": "1",
           "TB_CLI_TELEMETRY_OPTOUT": "1", "HOME": str(project.parent / "home")}
    for k in ("TB_TOKEN", "TB_HOST", "TB_USER_TOKEN"):
        env.pop(k, None)
    r = subprocess.run([str(TB), "--no-version-warning", "--local", *args], cwd=project, env=env,
                       capture_output=True, text=True, timeout=timeout)
    out = r.stdout + r.stderr
    assert r.returncode == 0, f"tb {' '.join(args)} exited {r.returncode}:\n{out}"
    return out


def build_workspace(server) -> dict:
    workspaces = server.get_json("/v1/user/workspaces?with_organization=true")["workspaces"]
    return next(w for w in workspaces if w["name"].startswith("Tinybird_Local_Build_"))


def test_tb_build_test_sql_append_deploy(server, project):
    out = tb(server, project, "build")
    assert "datasources/events.datasource created" in out and "endpoints/top_users.pipe created" in out, out
    assert "materializations/totals_mv.pipe created" in out and "copies/snapshot.pipe created" in out, out
    assert "kafka.connection' is not applied" in out, out                  # a warning, not a failure
    assert "Error" not in out, out
    ws = build_workspace(server)
    info = server.get_json("/v0/datasources/events", token=ws["token"])
    assert info["statistics"]["row_count"] == 3                             # the fixture, appended by the CLI
    totals = server.get_json("/v0/datasources/totals", token=ws["token"])
    assert totals["statistics"]["row_count"] >= 2                           # the view saw the fixture rows
    assert server.get_json("/v0/datasources")["datasources"] == []           # the served workspace is untouched

    out = tb(server, project, "test", "run")
    assert "✓ 1/1 passed" in out and out.count(" passed") >= 4, out           # 3 tests + the summary

    out = tb(server, project, "--output", "json", "sql",
             "SELECT user_id, sum(n) AS s FROM events GROUP BY user_id ORDER BY user_id")
    data = json.loads(out[out.index("{"):])
    assert data["data"] == [{"user_id": "a", "s": 4}, {"user_id": "b", "s": 5}]

    out = tb(server, project, "datasource", "append", "events", "--file", "fixtures/events.ndjson")
    assert "Rows appended" in out, out
    assert server.get_json("/v0/datasources/events", token=ws["token"])["statistics"]["row_count"] == 6

    out = tb(server, project, "endpoint", "data", "top_users", "--limit", "1")
    assert "b" in out and "10" in out, out                                   # b: 2 * 5 after the second append
    # .env secrets: the CLI stores them with /v0/variables; tb_secret() reads them
    assert [v["name"] for v in server.get_json("/v0/variables", token=ws["token"])["variables"]] == ["TEAM_USER"]
    data = server.get_json("/v0/pipes/by_secret.json", token=ws["token"])["data"]
    assert data == [{"user_id": "b", "total": 10}]

    (project / "endpoints" / "top_users.pipe").write_text(PIPE.replace("Int32(limit, 10)", "Int32(limit, 20)"))
    out = tb(server, project, "deploy", timeout=300)
    assert "is live" in out, out
    deployments = server.get_json("/v1/deployments", token=ws["token"])["deployments"]
    assert deployments[0]["live"] is True and deployments[0]["changed_pipe_names"] == ["top_users"]
    assert "Live" in tb(server, project, "deployment", "ls")
    # a candidate (no auto-promote) is applied only by `tb deployment promote`
    (project / "endpoints" / "top_users.pipe").write_text(PIPE.replace("Int32(limit, 10)", "Int32(limit, 1)"))
    assert "won't be auto-promoted" in tb(server, project, "deploy", "--no-auto", timeout=300)
    assert len(server.get_json("/v0/pipes/top_users.json", token=ws["token"])["data"]) == 2     # not yet
    assert "Deployment promoted" in tb(server, project, "deployment", "promote", timeout=300)
    assert len(server.get_json("/v0/pipes/top_users.json", token=ws["token"])["data"]) == 1

    tb(server, project, "secret", "set", "PG_PASSWORD", "hunter2")
    out = tb(server, project, "secret", "ls")
    assert "PG_PASSWORD" in out and "hunter2" not in out, out
    assert "top_users" in tb(server, project, "endpoint", "ls")

    out = tb(server, project, "copy", "run", "snapshot", "--wait")
    assert "Data copied to 'snap'" in out, out
    out = tb(server, project, "--output", "json", "sql", "SELECT c FROM snap")
    assert json.loads(out[out.index("{"):])["data"] == [{"c": 6}]
    out = tb(server, project, "--output", "json", "sql", "SELECT user_id, sum(total) AS t FROM totals GROUP BY user_id "
                                                          "ORDER BY user_id")
    assert json.loads(out[out.index("{"):])["data"] == [{"user_id": "a", "t": 8}, {"user_id": "b", "t": 10}]
