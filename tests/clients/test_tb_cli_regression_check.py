"""Tinybird's Classic CLI regression check (``tb push --force`` without ``--no-check``) over mergetree.

The check reads the pipe's recent requests from ``tinybird.pipe_stats_rt`` (url, parameters, method,
error, start_datetime: server/service_ds.py), replays each against the current and the new version of the
pipe and refuses the push when the answers differ. Expectations are hand-made: a change that keeps every
answer passes; a change of a parameter's default that changes the logged request's answer is refused.
"""

from __future__ import annotations

import json
import os
import subprocess
import urllib.request

import pytest

from tests.clients.conftest import LiveServer
from tests.clients.test_tb_cli_classic import DATASOURCE, PIPE, TB, _install

pytestmark = pytest.mark.slow


def test_tb_push_force_checks_against_logged_requests(tmp_path):
    _install()
    project = tmp_path / "project"
    for rel, text in {"datasources/clicks.datasource": DATASOURCE, "pipes/clicks_by_user.pipe": PIPE,
                      "clicks.ndjson": '{"user_id":"a","n":1}\n{"user_id":"b","n":5}\n{"user_id":"a","n":3}\n'}.items():
        (project / rel).parent.mkdir(parents=True, exist_ok=True)
        (project / rel).write_text(text)
    server = LiveServer(tmp_path, project=None)
    env = {**os.environ, "TB_HOST": server.host, "TB_TOKEN": server.admin, "HOME": str(tmp_path / "home"),
           "TB_CLI_TELEMETRY_OPTOUT": "1", "CI": "1"}

    def tb(*args, ok: bool = True) -> str:
        r = subprocess.run([str(TB), "--no-version-warning", *args], cwd=project, env=env, capture_output=True,
                           text=True, timeout=180)
        out = r.stdout + r.stderr
        assert (r.returncode == 0) == ok, f"tb {' '.join(args)} exited {r.returncode}:\n{out}"
        return out

    def endpoint(query: str = "") -> list:
        url = f"{server.host}/v0/pipes/clicks_by_user.json?token={server.admin}{query}"
        with urllib.request.urlopen(url, timeout=10) as r:
            return json.loads(r.read())["data"]

    try:
        tb("auth", "--host", server.host, "--token", server.admin)
        tb("push", "--push-deps")
        tb("datasource", "append", "clicks", "clicks.ndjson")
        assert endpoint() == [{"user_id": "a", "total": 4}, {"user_id": "b", "total": 5}]
        assert endpoint("&min_n=2") == [{"user_id": "a", "total": 3}, {"user_id": "b", "total": 5}]
        # the two requests are in tinybird.pipe_stats_rt within a second (the recorder's interval)
        import time

        deadline = time.time() + 10
        while time.time() < deadline:
            out = tb("sql", "SELECT count() AS c FROM tinybird.pipe_stats_rt WHERE pipe_name = 'clicks_by_user'",
                     "--format", "json")
            if json.loads(out[out.index("{"):])["data"] == [{"c": 2}]:
                break
            time.sleep(0.3)
        else:
            raise AssertionError(f"the requests were not logged: {out}")
        # same answers (another alias of the node's aggregate): the check replays both requests and passes
        pipe_same = PIPE.replace("sum(n) AS total", "toInt64(sum(n)) AS total")
        (project / "pipes" / "clicks_by_user.pipe").write_text(pipe_same)
        out = tb("push", "pipes/clicks_by_user.pipe", "--force")
        assert endpoint() == [{"user_id": "a", "total": 4}, {"user_id": "b", "total": 5}]
        # a new default for min_n changes the answer of the logged request without parameters: refused
        (project / "pipes" / "clicks_by_user.pipe").write_text(pipe_same.replace("Int32(min_n, 0)", "Int32(min_n, 2)"))
        out = tb("push", "pipes/clicks_by_user.pipe", "--force", ok=False)
        assert "Invalid results" in out, out
        assert endpoint() == [{"user_id": "a", "total": 4}, {"user_id": "b", "total": 5}]      # unchanged
    finally:
        server.stop()
