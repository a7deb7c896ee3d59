"""PUT /v0/datasources/NAME with name=: a data source that pipes use is not renamed under them.

Tinybird's pipes name data sources in their nodes' SQL (and a materialized / copy node names its
target); a rename that left them naming the old name broke them silently (the next request failed
with an unknown table). The rename is refused with 409 naming the pipes, as Tinybird answers 409 to a
change that conflicts with existing resources (deleting a data source a materialized view uses);
a data source no pipe uses is renamed as before (tests/test_alter_server.py).
"""

from __future__ import annotations

import textwrap

from starlette.testclient import TestClient

from mergetree.server.app import create_app

ADMIN = "admin-secret-long-enough-for-hs256-keys"
H = {"Authorization": f"Bearer {ADMIN}"}
FORM = {**H, "Content-Type": "application/x-www-form-urlencoded"}

DS = """
SCHEMA >
    `id` UInt32 `json:$.id`

ENGINE "MergeTree"
ENGINE_SORTING_KEY "id"
"""
FILES = {
    "datasources/events.datasource": DS,
    "datasources/daily.datasource": DS,
    "datasources/lonely.datasource": DS,
    "datasources/eventsish.datasource": DS,
    "pipes/reader.pipe": """
        NODE first
        SQL >
            SELECT id FROM events

        NODE out
        SQL >
            SELECT count() AS n FROM first
        """,
    "pipes/to_daily.pipe": """
        NODE m
        SQL >
            SELECT id * 10 AS id FROM eventsish

        TYPE materialized
        DATASOURCE daily
        """,
}


def _client(tmp_path):
    root = tmp_path / "p"
    for rel, text in FILES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(textwrap.dedent(text).lstrip("\n"))
    return TestClient(create_app(tmp_path / "data", admin_token=ADMIN, project=root))


def test_renaming_a_data_source_that_pipes_use_is_refused_naming_them(tmp_path):
    with _client(tmp_path) as c:
        c.post("/v0/events?name=events&wait=true", headers=H, content=b'{"id": 1}\n{"id": 2}')
        r = c.put("/v0/datasources/events", headers=FORM, content=b"name=events2")
        assert r.status_code == 409, r.text
        body = r.json()
        assert "reader" in body["error"] and "to_daily" not in body["error"] and body.get("documentation")
        # nothing changed: the pipe still answers, the data source keeps its name
        assert c.get("/v0/pipes/reader.json", headers=H).json()["data"] == [{"n": 2}]
        assert c.get("/v0/datasources/events", headers=H).status_code == 200
        assert c.get("/v0/datasources/events2", headers=H).status_code == 404
        # a materialized view's source and its target are used by that pipe
        for ds in ("eventsish", "daily"):
            r = c.put(f"/v0/datasources/{ds}", headers=FORM, content=b"name=renamed")
            assert r.status_code == 409 and "to_daily" in r.json()["error"], r.text
        # a data source no pipe uses is renamed
        r = c.put("/v0/datasources/lonely", headers=FORM, content=b"name=alone")
        assert r.status_code == 200 and r.json()["name"] == "alone", r.text
        # a description alone is no rename: allowed on a used data source
        r = c.put("/v0/datasources/events", headers=FORM, content=b"description=raw%20events")
        assert r.status_code == 200 and r.json()["description"] == "raw events", r.text
