"""A live ``mergetree serve`` on 127.0.0.1 (a subprocess on a free port) for the real-client tests.

The project is examples/quickstart (events data source; daily_active_users and user_activity
pipes; TOKEN "tracker" APPEND and "dashboard" READ). One server per session
(``live_server``), or per module (``own_live_server``) for tests that change the project.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = ROOT / "examples" / "quickstart"
ADMIN = "admin-token-for-the-real-client-tests-0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    def __init__(self, tmp: Path, project: Path | None = QUICKSTART, extra_env: dict | None = None):
        self.port = free_port()
        self.host = f"http://127.0.0.1:{self.port}"
        self.admin = ADMIN
        self.data_dir = tmp / "data"
        cmd = [sys.executable, "-m", "mergetree.cli", "serve", "--data-dir", str(self.data_dir),
               "--port", str(self.port), "--admin-token", ADMIN, "--flush-interval", "0.1", "--log-level", "warning"]
        if project is not None:
            cmd.insert(4, str(project))
        env = {**os.environ, "PYTHONPATH": str(ROOT), **(extra_env or {})}
        self.log = open(tmp / "server.log", "wb")
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mergetree serve exited: {(tmp / 'server.log').read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(self.host + "/v0/health", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.1)
        else:
            self.stop()
            raise RuntimeError("mergetree serve did not answer /v0/health within 60 s")
        self.tokens = {t["name"]: t["token"] for t in self.get_json("/v0/tokens")["tokens"]}

    def get_json(self, path: str, token: str | None = None):
        import json

        req = urllib.request.Request(self.host + path, headers={"Authorization": f"Bearer {token or ADMIN}"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """One server for the client tests that do not change its project (start-up is ~2 s)."""
    if not QUICKSTART.is_dir():
        pytest.skip("examples/quickstart is not there")
    server = LiveServer(tmp_path_factory.mktemp("live"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def own_live_server(tmp_path_factory):
    """A server of the module's own (for tests that push/deploy another project)."""
    if not QUICKSTART.is_dir():
        pytest.skip("examples/quickstart is not there")
    server = LiveServer(tmp_path_factory.mktemp("own"))
    yield server
    server.stop()


def node_available() -> bool:
    return shutil.which("node") is not None and shutil.which("npm") is not None
