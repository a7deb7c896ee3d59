"""Real Node.js clients, unmodified, against a live `mergetree serve` (issue #6 part 5): the plain
``fetch`` code of the quickstart (only the host changed) and ``@chronark/zod-bird`` (typed ingest and
typed pipe, with zod validating our responses). tests/clients/node/package.json pins the packages;
``npm install`` runs into tests/clients/node/node_modules (git-ignored) when it is missing. Skipped,
with the reason, only when node/npm are missing or the install fails."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import ADMIN, node_available

NODE_DIR = Path(__file__).parent / "node"


@pytest.fixture(scope="module")
def node_modules():
    if not node_available():
        pytest.skip("node and npm are not installed")
    if not (NODE_DIR / "node_modules" / "@chronark" / "zod-bird").is_dir():
        try:
            subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--no-package-lock"], cwd=NODE_DIR,
                           check=True, capture_output=True, timeout=180)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as e:
            out = getattr(e, "stderr", b"") or b""
            pytest.skip(f"npm install of @chronark/zod-bird failed: {out.decode(errors='replace')[-300:]}")
    return NODE_DIR


def test_fetch_and_zod_bird(live_server, node_modules):
    env = {**os.environ, "MT_HOST": live_server.host, "MT_TOKEN": ADMIN,
           "MT_TRACKER": live_server.tokens["tracker"], "MT_DASHBOARD": live_server.tokens["dashboard"]}
    proc = subprocess.run([shutil.which("node"), "clients.mjs"], cwd=node_modules, env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])

    # plain fetch: the quickstart code works with only the host changed
    assert out["fetch_ingest"] == {"status": 200, "body": {"successful_rows": 1, "quarantined_rows": 0}}
    pipe = out["fetch_pipe"]
    assert pipe["status"] == 200
    assert pipe["body"]["data"][0]["event_type"] == "signup" and pipe["body"]["data"][0]["events"] >= 1
    assert set(pipe["body"]) >= {"meta", "data", "rows", "statistics"}
    assert out["fetch_missing_param"]["status"] == 400 and "user_id" in out["fetch_missing_param"]["body"]["error"]
    assert out["fetch_no_token"]["status"] == 403

    # zod-bird: its zod schemas accept our responses
    assert out["zod_ingest_one"] == {"successful_rows": 1, "quarantined_rows": 0}
    assert out["zod_ingest_many"] == {"successful_rows": 2, "quarantined_rows": 0}
    rows = {r["event_type"]: r["events"] for r in out["zod_pipe"]["data"]}
    assert rows == {"click": 2, "view": 1}
    assert [m["name"] for m in out["zod_pipe"]["meta"]] == ["event_type", "events", "last_seen"]
    assert out["zod_dau"] and all(r["active_users"] >= 1 for r in out["zod_dau"])
    assert out["zod_forbidden"] == "Unauthorized"      # the APPEND token cannot read the pipe (403)
