"""Crash safety of ``Database.replace`` (Data Sources API ``mode=replace``): kill -9 a process that
replaces a partitioned table again and again (tests/replace_crash_worker.py); after reopening, the
table holds exactly one generation, complete (the last acknowledged one or the one in flight), never
the old rows dropped without the new ones, and the materialized view's target got the rows of
exactly the replaces (and appends) that committed.

The deterministic test kills the worker at the k-th directory rename of a replace, i.e. between the
publish of the empty parts that drop the old partitions and the publish of the new parts: before the
commit journal, that left the table empty."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import replace_crash_worker as worker  # noqa: E402

WORKER = Path(__file__).parent / "replace_crash_worker.py"
ROOT = Path(__file__).parent.parent


def _run(data_dir: Path, run_id: int, rng: random.Random, kill_at: int = 0) -> list[tuple[str, int]]:
    """Run the worker until killed (by itself with ``kill_at``, else after a few ACKs); its events."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    args = [sys.executable, str(WORKER), str(data_dir), str(run_id), str(rng.randrange(10**6))]
    proc = subprocess.Popen(args + ([str(kill_at)] if kill_at else []), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, text=True)
    events: list[tuple[str, int]] = []
    try:
        if not kill_at:
            line = proc.stdout.readline()
            assert line.strip() == "READY", (line, proc.stderr.read() if proc.poll() is not None else "")
            target = rng.randrange(1, 6)
            while sum(1 for e in events if e[0] == "ACK") < target:
                line = proc.stdout.readline()
                if not line:
                    break
                kind, gen = line.split()
                events.append((kind, int(gen)))
            time.sleep(rng.uniform(0, 0.05))
            proc.send_signal(signal.SIGKILL)
        rest, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == -signal.SIGKILL, f"worker exited by itself ({proc.returncode}): {err[-3000:]}"
    events += [(x.split()[0], int(x.split()[1])) for x in rest.splitlines() if x.startswith(("ACK ", "APPEND "))]
    return events


def _check(data_dir: Path, history: list[tuple[str, int]], in_flight: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """Check the reopened database against the acknowledged history; return the history including the
    in-flight operation if it turned out to be committed."""
    import mergetree

    db = mergetree.connect(str(data_dir), background_merges=False)
    try:
        assert not list(data_dir.glob("_commit_journal*")), "commit journal survived recovery"
        for name in ("t", "tgt"):
            table = db.table(name)
            leftovers = [p.name for p in table.path.iterdir() if p.name.startswith(("tmp_", "delete_tmp_"))]
            assert leftovers == [], f"{name}: temporary directories survived recovery: {leftovers}"
            assert os.listdir(table.path / "detached") == []
            table.verify()
        rows = db.sql("SELECT gen, count(), uniqExact(seq) FROM t GROUP BY gen").rows
        views = dict(db.sql("SELECT gen, sum(c) FROM tgt GROUP BY gen").rows)
    finally:
        db.close()

    def expected(hist):
        """(gen in t, rows in t) and {gen: rows the view saw} after the operations ``hist``."""
        gen, n, seen = None, 0, {}
        for kind, g in hist:
            if kind == "APPEND":
                n += worker.gen_rows(g)
                seen[g] = seen.get(g, 0) + worker.gen_rows(g)
            else:                   # the replace cascades: the target holds the view over the new rows
                n, seen = worker.gen_rows(g), {g: worker.gen_rows(g)}
            gen = g
        return gen, n, seen

    candidates = [history] + [history + in_flight[:k] for k in range(1, len(in_flight) + 1)]
    got = (rows[0][0], rows[0][1], views) if len(rows) == 1 else (None, 0, views)
    assert len(rows) <= 1, f"the table mixes generations after the crash: {rows}"
    for hist in candidates:
        gen, n, seen = expected(hist)
        if got == (gen, n, seen):
            assert not rows or rows[0][2] == worker.gen_rows(gen)
            return hist
    raise AssertionError(f"after the crash: table {rows}, view {views}; acknowledged {history[-3:]}, "
                         f"in flight {in_flight}")


def _next_ops(history: list[tuple[str, int]], events: list[tuple[str, int]], run_id: int) -> list[tuple[str, int]]:
    """The operations that may have been in flight when the worker died after ``events``."""
    if not events:
        first = [("ACK", run_id * 1000 + 999), ("ACK", run_id * 1000)] if not history else [("ACK", run_id * 1000)]
        return first
    kind, gen = events[-1]
    # after ACK g the worker may append g (APPEND g) and then replace by g+1; after APPEND g, replace g+1
    return [("APPEND", gen), ("ACK", gen + 1)] if kind == "ACK" else [("ACK", gen + 1)]


def test_replace_killed_inside_its_publish(tmp_path):
    """SIGKILL at directory renames of a replace of 4 old partitions by 4 new ones, cascading to the
    view's target (renames 1-4 publish t's empty parts, 5 tgt's, 6-9 t's new parts, 10 tgt's): after
    one drop, after all drops, in the middle of the new parts, at the target's new part: both tables
    are all old or all new."""
    data_dir = tmp_path / "data"
    rng = random.Random(7)
    history: list[tuple[str, int]] = []
    for run_id, kill_at in enumerate((2, 5, 8, 10), start=1):
        events = _run(data_dir, run_id, rng, kill_at=kill_at)
        if not history:                 # first run: the unarmed replace that created the old rows
            assert events and events[0] == ("ACK", run_id * 1000 + 999), events
        history += events
        in_flight = [("ACK", run_id * 1000)]
        history = _check(data_dir, history, in_flight)


@pytest.mark.slow
def test_replace_killed_at_random(tmp_path):
    data_dir = tmp_path / "data"
    rng = random.Random(11)
    history: list[tuple[str, int]] = []
    for run_id in range(1, 16):
        events = _run(data_dir, run_id, rng)
        history += events
        history = _check(data_dir, history, _next_ops(history, events, run_id))


def test_replace_cascades_to_the_views_targets(tmp_path):
    """As in Tinybird, a replace cascades to the materialized views: each target's content becomes
    the view's result over the new rows (hand-computed counts), in the same commit; a replace by
    nothing empties the targets too."""
    import mergetree

    db = mergetree.connect(str(tmp_path / "db"), background_merges=False)
    try:
        db.create_table("t", schema=worker.SCHEMA, order_by="seq", partition_by="p")
        db.create_table("tgt", schema="gen UInt64, c UInt64", order_by="gen")
        db.sql("CREATE MATERIALIZED VIEW mv TO tgt AS SELECT gen, count() AS c FROM t GROUP BY gen")
        db.insert("t", {"gen": [1, 1, 1], "seq": [0, 1, 2], "p": [0, 1, 2]})
        assert db.replace("t", {"gen": [2, 2], "seq": [0, 1], "p": [3, 3]}) == 2
        assert db.sql("SELECT gen, count() FROM t GROUP BY gen").rows == [(2, 2)]
        assert db.sql("SELECT gen, sum(c) FROM tgt GROUP BY gen ORDER BY gen").rows == [(2, 2)]
        assert [p["partition"] for p in db.table("t").parts()] == ["3"]
        assert db.replace("t", []) == 0
        assert db.sql("SELECT count() FROM t").rows == [(0,)]
        assert db.sql("SELECT count() FROM tgt").rows == [(0,)]
    finally:
        db.close()


def test_partial_replace_cascades_where_the_target_has_the_condition_columns(tmp_path):
    """``replace_condition``: the table keeps its rows outside the condition. A target that has the
    condition's columns (by_p) gets the same partial replace; one that lacks them (tgt) gets the
    view's rows over the new rows appended (the kept rows were counted when they arrived).
    Hand-computed counts."""
    from mergetree.column import Block  # noqa: F401
    from mergetree.server.engine import Engine

    engine = Engine(tmp_path / "tables", tmp_path / "registry.json")
    db = engine.db
    try:
        db.create_table("t", schema=worker.SCHEMA, order_by="seq", partition_by="p")
        db.create_table("tgt", schema="gen UInt64, c UInt64", order_by="gen")
        db.sql("CREATE MATERIALIZED VIEW mv TO tgt AS SELECT gen, count() AS c FROM t GROUP BY gen")
        db.create_table("by_p", schema="p UInt8, gen UInt64", order_by="p")
        db.sql("CREATE MATERIALIZED VIEW mv_p TO by_p AS SELECT p, gen FROM t")
        db.insert("t", {"gen": [1, 1, 1, 1], "seq": [0, 1, 2, 3], "p": [0, 1, 2, 3]})
        new = db._to_block(db.table("t"), [{"gen": 2, "seq": 9, "p": 0}, {"gen": 2, "seq": 8, "p": 1},
                                           {"gen": 2, "seq": 7, "p": 2}])       # p = 2 is outside
        assert engine.replace("t", new, "p < 2") == 2
        assert db.sql("SELECT gen, p, seq FROM t ORDER BY p, seq").rows == [(2, 0, 9), (2, 1, 8), (1, 2, 2), (1, 3, 3)]
        assert db.sql("SELECT gen, sum(c) FROM tgt GROUP BY gen ORDER BY gen").rows == [(1, 4), (2, 2)]
        assert db.sql("SELECT p, gen FROM by_p ORDER BY p").rows == [(0, 2), (1, 2), (2, 1), (3, 1)]
    finally:
        db.close()


def test_copy_pipe_replace_cascades_like_a_data_source_replace(tmp_path):
    """A copy pipe in COPY_MODE replace is a replace of its target data source: the target's own
    materialized views follow it (COPY_MODE append already triggers them). Hand-computed counts."""
    import textwrap

    import mergetree
    from mergetree.copy import run_copy
    from sqlparse_ch import parse
    from sqlparse_ch.datafiles.parse import parse_pipe

    cp = parse_pipe(textwrap.dedent("""
        NODE top
        SQL >
            SELECT k, count() AS n FROM src GROUP BY k

        TYPE copy
        TARGET_DATASOURCE snap
        COPY_MODE replace
    """), name="cp")
    with mergetree.connect(str(tmp_path / "db"), background_merges=False) as db:
        db.sql("CREATE TABLE src (k UInt8) ENGINE = MergeTree ORDER BY k")
        db.sql("CREATE TABLE snap (k UInt8, n UInt64) ENGINE = MergeTree ORDER BY k")
        db.sql("CREATE TABLE snap_total (n UInt64) ENGINE = MergeTree ORDER BY tuple()")
        db.sql("CREATE MATERIALIZED VIEW snap_mv TO snap_total AS SELECT sum(n) AS n FROM snap")
        db.insert("src", {"k": [1, 1, 2]})
        for _ in range(2):
            assert run_copy(db, cp, lambda pipe, node, params: parse(node.sql))["rows"] == 2
        assert db.sql("SELECT k, n FROM snap ORDER BY k").rows == [(1, 2), (2, 1)]
        assert db.sql("SELECT sum(n), count() FROM snap_total").rows == [(3, 1)]
