"""The `mergetree` commands that talk to a running server (mergetree/client.py): push / deploy,
sql --host, append (NDJSON / CSV / gzip, quarantine summary), pipe call, token ls|create."""

from __future__ import annotations

import gzip
import json

import pytest

from mergetree.cli import main

from .conftest import ADMIN


@pytest.fixture(scope="module")
def srv(own_live_server):
    return own_live_server


def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def remote(srv):
    return ["--host", srv.host, "--token", ADMIN]


def test_token_ls_local_and_remote(srv, capsys):
    code, out, _ = run(capsys, "token", "ls", "--data-dir", str(srv.data_dir))
    assert code == 0 and f"admin token\t{ADMIN}\tADMIN" in out
    code, out, _ = run(capsys, "token", "ls", *remote(srv))
    assert code == 0 and "tracker\t" in out and "DATASOURCES:APPEND:events" in out
    code, out, _ = run(capsys, "token", "create", "cli_reader", "--scope", "PIPES:READ:user_activity", *remote(srv))
    assert code == 0 and out.strip().startswith("p.")
    code, _, err = run(capsys, "token", "ls", "--host", srv.host, "--token", "p.wrong")
    assert code == 1 and "403" in err and "Invalid token" in err


def test_append_sql_and_pipe_call(srv, capsys, tmp_path):
    nd = tmp_path / "ev.ndjson.gz"
    lines = [json.dumps({"event_id": f"e{i}", "user_id": "cli_user", "event_type": "click",
                         "timestamp": "2026-11-20 10:00:00"}) for i in range(5)]
    lines.append('{"event_id": "bad", "user_id": "cli_user", "event_type": "x", "timestamp": "not a date"}')
    nd.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    code, out, _ = run(capsys, "append", "events", str(nd), *remote(srv))
    assert code == 0 and "5 rows appended to events" in out and "1 rows quarantined" in out
    csv = tmp_path / "ev.csv"
    csv.write_text("event_id,user_id,event_type,properties,timestamp\n"
                   "c1,cli_user,view,{},2026-11-20 11:00:00\nc2,cli_user,view,{},2026-11-20 12:00:00\n")
    code, out, _ = run(capsys, "append", "events", str(csv), *remote(srv))
    assert code == 0 and "2 rows appended" in out
    code, out, _ = run(capsys, "sql", "SELECT event_type, count() FROM events WHERE user_id = 'cli_user' "
                                      "GROUP BY event_type ORDER BY event_type", *remote(srv))
    assert code == 0 and out == "click\t5\nview\t2\n"
    code, out, _ = run(capsys, "pipe", "call", "user_activity", "--param", "user_id=cli_user",
                       "--param", "days=100000", "--format", "csv", *remote(srv))
    assert code == 0 and '"click",5' in out and '"view",2' in out
    code, _, err = run(capsys, "sql", "SELECT nope FROM events", *remote(srv))
    assert code == 1 and "400" in err and "nope" in err


def test_push_and_deploy(srv, capsys, tmp_path):
    proj = tmp_path / "proj"
    (proj / "pipes").mkdir(parents=True)
    (proj / "pipes" / "event_count.pipe").write_text(
        "TOKEN \"counter\" READ\n\nNODE n\nSQL >\n    SELECT count() AS n FROM events\n\nTYPE endpoint\n")
    code, out, _ = run(capsys, "push", str(proj), "--dry-run", *remote(srv))
    assert code == 0 and "checked 1 datafiles" in out
    assert "event_count" not in srv.get_json("/v0/pipes")["pipes"].__repr__()
    code, out, _ = run(capsys, "push", str(proj), *remote(srv))
    assert code == 0 and "pushed 1 datafiles" in out and "event_count" in out
    names = {p["name"] for p in srv.get_json("/v0/pipes")["pipes"]}
    assert {"event_count", "user_activity", "daily_active_users"} <= names      # push adds to the project
    counter = {t["name"]: t["token"] for t in srv.get_json("/v0/tokens")["tokens"]}["counter"]
    assert srv.get_json("/v0/pipes/event_count.json", counter)["data"][0]["n"] >= 0
    # a broken datafile is refused with its file and line, and nothing changes
    (proj / "pipes" / "broken.pipe").write_text("NODE n\nSQL >\n    SELECT FROM WHERE\n\nTYPE endpoint\n")
    code, _, err = run(capsys, "push", str(proj), *remote(srv))
    assert code == 1 and "400" in err and "broken.pipe" in err
    (proj / "pipes" / "broken.pipe").unlink()
    # deploy: the project IS these files; the quickstart pipes go, the data source stays
    code, out, _ = run(capsys, "deploy", str(proj), *remote(srv))
    assert code == 0 and "removed files" in out
    names = {p["name"] for p in srv.get_json("/v0/pipes")["pipes"]}
    assert names == {"event_count"}
    assert "events" in {d["name"] for d in srv.get_json("/v0/datasources")["datasources"]}
    # only the admin may push
    code, _, err = run(capsys, "push", str(proj), "--host", srv.host, "--token", counter)
    assert code == 1 and "403" in err


def test_chunks_repeat_the_csv_header_and_read_gzip(tmp_path):
    from mergetree.client import chunks

    p = tmp_path / "x.csv.gz"
    p.write_bytes(gzip.compress(("c1,c2\n" + "".join(f"{i},v\n" for i in range(10))).encode()))
    pieces = [piece for piece, _ in chunks(str(p), "csv", size=20, columns=["c1", "c2"])]
    assert len(pieces) == 2 and all(x.startswith(b"c1,c2\n") for x in pieces)
    assert b"".join(x[len(b"c1,c2\n"):] for x in pieces) == "".join(f"{i},v\n" for i in range(10)).encode()
    # a first line that does not name the columns is data
    assert next(chunks(str(p), "csv", size=1000, columns=["a"]))[0].startswith(b"c1,c2\n0,v")


def test_token_create_jwt(srv, capsys):
    import jwt as pyjwt

    code, out, _ = run(capsys, "token", "create", "u1", "--expires-in", "600",
                       "--scope", "DATASOURCES:READ:events:user_id = 'cli_user'",
                       "--fixed-param", "user_activity:user_id=cli_user", "--rps", "5", *remote(srv))
    assert code == 0
    token = out.strip()
    claims = pyjwt.decode(token, ADMIN, algorithms=["HS256"])
    assert claims["limits"] == {"rps": 5.0}
    assert {"type": "DATASOURCES:READ", "resource": "events", "filter": "user_id = 'cli_user'"} in claims["scopes"]
    assert {"type": "PIPES:READ", "resource": "user_activity",
            "fixed_params": {"user_id": "cli_user"}} in claims["scopes"]
    code, out, _ = run(capsys, "sql", "SELECT DISTINCT user_id FROM events", "--host", srv.host, "--token", token)
    assert code == 0 and out == "cli_user\n"            # the JWT's filter: only cli_user's rows
    with pytest.raises(SystemExit, match="--expires-in"):
        main(["token", "create", "x", "--scope", "PIPES:READ:p", "--rps", "3", *remote(srv)])
