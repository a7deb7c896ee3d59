"""``serve --workers N``: DROP / RENAME / EXCHANGE of a table while a worker process reads it.

The server pins the statement's parts and sends the worker each part's directory and identity
(mergetree/replica.py ``_part_ref``); a DROP under the pin hard-links the pinned parts into
``.dropped_<t>_<id>_pinned`` (database._retire). What must hold, as for an in-process query
(tests/test_drop_while_reading.py, ClickHouse's Atomic databases): the worker answers from the rows
the table held when the statement was pinned, never from a table created again under the same
name (whose parts get the very same names), and the new table stays whole; if the pinned parts
are nowhere (no hard links on this filesystem) the statement fails with UNKNOWN_TABLE naming the
table, not "file is missing" nor the new table's rows.

Deterministic: the worker stops at a step of the statement (``before_open``: it has the part list
but opened nothing; ``before_read``: parts opened, no column file read yet) by connecting to a Unix
socket the test listens on (MERGETREE_WORKER_TEST_PAUSE_DIR) and waits for the test's answer; the
DROP / CREATE / INSERT happen meanwhile. Expected rows are hand-computed from the inserts.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading

import pytest

from mergetree.errors import UnknownTableError

pytestmark = pytest.mark.skipif(not hasattr(socket, "AF_UNIX"), reason="POSIX workers")

QUERY = "SELECT sum(k), count(), max(s) FROM t"


@pytest.fixture(scope="module")
def pause_dir():
    d = tempfile.mkdtemp(prefix="mtw", dir="/tmp")      # a Unix socket path must stay short
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def shared_engine(tmp_path_factory, pause_dir):
    """One engine and worker for the module (a worker takes seconds to start on a loaded machine)."""
    from mergetree.server.engine import Engine

    root = tmp_path_factory.mktemp("workers_drop")
    with pytest.MonkeyPatch.context() as m:
        m.setenv("MERGETREE_WORKER_WARMUP", "0")
        m.setenv("MERGETREE_WORKER_TEST_PAUSE_DIR", pause_dir)
        eng = Engine(root / "tables", root / "registry.json", merge_interval=3600)
        eng.start_workers(1)
    assert eng.workers.wait_ready(120), "query worker did not start"
    yield eng
    eng.close()


@pytest.fixture
def engine(shared_engine):
    """The shared engine with no tables (a table created here is new to the worker: new metadata)."""
    for name in shared_engine.db.tables():
        shared_engine.run(f"DROP TABLE {name}")
    assert _kept(shared_engine) == []
    return shared_engine


class _WorkerPause:
    """The worker stops at ``step`` of its next statement until :meth:`resume`."""

    def __init__(self, pause_dir: str, step: str):
        self.path = os.path.join(pause_dir, f"{step}.sock")
        self.step = step
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(self.path)
        self.server.listen(1)
        self.server.settimeout(60)
        self.conn = None

    def wait_reached(self) -> None:
        self.conn, _ = self.server.accept()
        os.unlink(self.path)                 # later statements do not stop
        self.server.close()
        self.conn.settimeout(60)
        assert self.conn.recv(16) == self.step.encode()

    def resume(self) -> None:
        self.conn.sendall(b"go")
        self.conn.close()


def _run(fn):
    out = {}

    def target():
        try:
            out["value"] = fn()
        except Exception as e:     # noqa: BLE001 - the test inspects it
            out["error"] = e

    t = threading.Thread(target=target)
    t.start()
    return t, out


def _fill(engine, name, values, prefix):
    engine.run(f"CREATE TABLE {name} (k UInt32, s String) ENGINE = MergeTree ORDER BY k")
    for v in values:                       # one part each: all_1_1_0, all_2_2_0, ...
        engine.db.insert(name, [{"k": v, "s": f"{prefix}{v}"}])


def _kept(engine):
    return [p.name for p in engine.db.path.iterdir() if p.name.startswith(".dropped_")]


def _read_while(engine, pause_dir, step, change):
    """Run QUERY in the worker, stopped at ``step`` while ``change()`` runs; (thread's out, stats delta)."""
    stats = dict(engine.workers.stats)
    pause = _WorkerPause(pause_dir, step)
    reader, out = _run(lambda: engine.run(QUERY).rows)
    pause.wait_reached()
    change()
    pause.resume()
    reader.join(60)
    assert not reader.is_alive()
    return out, {k: engine.workers.stats[k] - stats[k] for k in stats}


def _drop_and_create_again(engine):
    engine.run("DROP TABLE t")
    # a new table under the same name, whose parts get the very same names all_1_1_0 .. all_3_3_0
    _fill(engine, "t", [10, 20, 30], "w")


@pytest.mark.parametrize("warm", [False, True])
@pytest.mark.parametrize("step", ["before_open", "before_read"])
def test_a_worker_reads_its_pinned_parts_across_drop_and_create_again(engine, pause_dir, step, warm):
    _fill(engine, "t", [1, 2, 3], "v")
    if warm:                   # the worker has read t before: its parts are open and their files mapped
        assert engine.run(QUERY).rows == [(6, 3, "v3")]
    out, delta = _read_while(engine, pause_dir, step, lambda: _drop_and_create_again(engine))
    assert out.get("error") is None, repr(out.get("error"))
    assert out["value"] == [(6, 3, "v3")]                    # the dropped table's rows, read to the end
    assert delta["worker"] == 1 and delta["fallback"] == 0   # answered by the worker, not in-process
    # the new table is whole, in the worker and in-process; nothing of the old one is left
    assert engine.run(QUERY).rows == [(60, 3, "w30")]
    assert engine.db.sql(QUERY).rows == [(60, 3, "w30")]
    assert sorted(p.name for p in engine.db.table("t").active_parts()) == ["all_1_1_0", "all_2_2_0", "all_3_3_0"]
    assert _kept(engine) == []


@pytest.mark.parametrize("step", ["before_open", "before_read"])
def test_a_worker_reads_its_own_table_across_an_exchange(engine, pause_dir, step):
    _fill(engine, "t", [1, 2], "v")
    _fill(engine, "u", [10, 20], "w")                        # the same part names as t's
    assert engine.run(QUERY).rows == [(3, 2, "v2")]
    out, delta = _read_while(engine, pause_dir, step, lambda: engine.run("EXCHANGE TABLES t AND u"))
    assert out.get("error") is None, repr(out.get("error"))
    assert out["value"] == [(3, 2, "v2")]                    # what t held when the statement was pinned
    assert delta["worker"] == 1 and delta["fallback"] == 0
    assert engine.run("SELECT sum(k) FROM t").rows == [(30,)]
    assert engine.run("SELECT sum(k) FROM u").rows == [(3,)]
    assert _kept(engine) == []


def test_a_worker_reads_its_own_table_across_a_rename_and_create_again(engine, pause_dir):
    _fill(engine, "t", [1, 2], "v")

    def change():
        engine.run("RENAME TABLE t TO t_old")
        _fill(engine, "t", [10, 20], "w")                    # the same part names again under t/

    out, delta = _read_while(engine, pause_dir, "before_open", change)
    assert out.get("error") is None, repr(out.get("error"))
    assert out["value"] == [(3, 2, "v2")]
    assert delta["worker"] == 1 and delta["fallback"] == 0
    assert engine.run(QUERY).rows == [(30, 2, "w20")]
    assert engine.run("SELECT sum(k), count(), max(s) FROM t_old").rows == [(3, 2, "v2")]
    assert _kept(engine) == []


@pytest.mark.parametrize("step", ["before_open", "before_read"])
def test_a_worker_whose_parts_are_gone_fails_with_unknown_table(engine, pause_dir, step, monkeypatch):
    """The worker has never read t (a worker that has, still has the files it mapped and answers
    from them: the pinned rows, which is right too)."""
    _fill(engine, "t", [1, 2, 3], "v")
    assert engine.db.sql(QUERY).rows == [(6, 3, "v3")]

    def no_links(src, dst, *args, **kwargs):                 # a filesystem without hard links
        raise OSError(f"cannot link {src}")

    def change():
        with monkeypatch.context() as m:
            m.setattr(os, "link", no_links)
            engine.run("DROP TABLE t")
        _fill(engine, "t", [10, 20, 30], "w")

    out, delta = _read_while(engine, pause_dir, step, change)
    assert isinstance(out.get("error"), UnknownTableError), (repr(out), delta)
    assert "Table t was dropped, renamed or exchanged while the query ran" in str(out["error"])
    assert delta["fallback"] == 0                            # the worker's answer, not an in-process rerun
    assert engine.run(QUERY).rows == [(60, 3, "w30")]       # the new table is untouched
    assert engine.db.sql(QUERY).rows == [(60, 3, "w30")]
    assert _kept(engine) == []


def test_a_statement_pinned_while_a_table_is_retired_runs_elsewhere_not_wrong(engine):
    """pin_tables skips a table retired between listing and pinning (it used to raise out of the
    pool and lose the idle worker); the worker pool still answers afterwards."""
    _fill(engine, "t", [1], "v")
    table = engine.db.table("t")
    engine.run("DROP TABLE t")
    _fill(engine, "t", [5], "w")
    real = engine.db.table
    engine.db.table = lambda name: table if name == "t" else real(name)   # the listed, now-dropped object
    try:
        assert "t" not in engine.pin_tables()
    finally:
        del engine.db.table
    assert engine.run(QUERY).rows == [(5, 1, "w5")]
    assert engine.workers.stats["worker"] >= 1
