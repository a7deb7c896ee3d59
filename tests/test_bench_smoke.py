"""Smoke run of the benchmark harness (bench/) so that it cannot rot.

One 20k-row run of the events suite with every installed engine, each in its own subprocess as
`python -m bench run` does, plus a deliberately wrong engine (mergetree answering count() + 1):
the cross-check must flag exactly that answer, agreeing engines must be marked OK, and the report
must list every query.  No timing is asserted.
"""

from __future__ import annotations

import json

import pytest

from bench import engines as bench_engines
from bench.compare import compare
from bench.engines import MergeTreeEngine
from bench.report import to_html, to_markdown
from bench.runner import RunConfig, compare_rows, load_suite, run, run_engine, write_results

ROWS = 20_000
FAKE = "tests.test_bench_smoke:WrongCountEngine"


try:        # the cheapest engine to start: DuckDB when installed
    import duckdb  # noqa: F401

    from bench.engines import DuckdbEngine as _Base
except ImportError:
    _Base = MergeTreeEngine


class WrongCountEngine(_Base):
    """A real engine, except that `SELECT count() FROM events` is off by one."""

    name = "wrong"

    def query(self, sql: str) -> list[tuple]:
        rows = super().query(sql)
        if sql.strip().replace("count(*)", "count()") == "SELECT count() FROM events":
            return [(rows[0][0] + 1,)]
        return rows


def _installed() -> list[str]:
    ok, _ = bench_engines.available(["mergetree", "chdb", "duckdb"])
    return ok


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bench")
    cfg = RunConfig(rows=ROWS, engines=_installed() + [FAKE], repeat=1, data_dir=tmp / "data",
                    work_dir=tmp / "stores", isolate=True, cold_start_engines=_installed())
    return run(cfg)


def test_every_query_is_run_and_reported(result):
    names = [q.name for q in load_suite("events")]
    assert len(names) >= 15
    assert [q["name"] for q in result["queries"]] == names
    md = to_markdown(result)
    for n in names:
        assert f"`{n}`" in md
        for e, rec in result["engines"].items():
            assert n in rec["queries"], (e, n)
            assert rec["queries"][n]["check"] in {"OK", "MISMATCH", "UNSUPPORTED", "ERROR", "UNCHECKED",
                                                  "DISPUTED"}
    assert "<svg" in to_html(result)


def test_engines_loaded_and_measured(result):
    for e in _installed():
        rec = result["engines"][e]
        assert "load_error" not in rec, rec.get("load_error")
        assert rec["ingest"]["seconds"] > 0 and rec["bytes_on_disk"] > 0
        assert rec["peak_rss_bytes"] > 0
        # the cold-start process reopened the store and counted every row
        assert rec["cold_start"]["result"] == [[ROWS]], rec["cold_start"]


def test_wrong_answer_is_flagged_and_agreeing_engines_are_ok(result):
    fake = result["engines"][FAKE]["queries"]["q01_count"]
    assert fake["check"] == "MISMATCH"
    assert f"{ROWS + 1}" in fake["check_detail"] and f"{ROWS}" in fake["check_detail"]
    for e in _installed():
        assert result["engines"][e]["queries"]["q01_count"]["check"] == "OK"
        assert result["engines"][e]["queries"]["q01_count"]["rows"] == [[ROWS]]
    # the wrong engine is right elsewhere: the same verdicts as the engine it wraps
    base = result["engines"][_Base.name]["queries"]
    for name, rec in result["engines"][FAKE]["queries"].items():
        if name != "q01_count":
            assert rec["check"] == base[name]["check"], name
    md = to_markdown(result)
    row = next(line for line in md.splitlines() if line.startswith("| `q01_count`"))
    assert "MISMATCH" in row


def test_installed_engines_agree_on_every_query_they_run(result):
    real = _installed()
    for q in result["queries"]:
        for e in real:
            rec = result["engines"][e]["queries"][q["name"]]
            assert rec["check"] != "MISMATCH", (e, q["name"], rec.get("check_detail"))
            if e != "mergetree":        # the peers run the whole suite
                assert rec["check"] == "OK", (e, q["name"], rec)


def test_results_file_round_trip_and_compare(result, tmp_path):
    path = write_results(result, tmp_path)
    again = json.loads(path.read_text())
    assert again["machine"]["cpu_count"] >= 1 and "duckdb" in again["packages"]
    text = compare(again, again)
    assert "| **geometric mean** |" in text
    gm = next(line for line in text.splitlines() if line.startswith("| **geometric mean**"))
    assert "**1.00**" in gm and "Verdict changes" not in text


def test_compare_shows_ratios_and_verdict_changes(result):
    import copy

    b = copy.deepcopy(result)
    for rec in b["engines"]["mergetree"]["queries"].values():
        if rec.get("median"):
            rec["median"] *= 2
    b["engines"]["mergetree"]["queries"]["q01_count"]["check"] = "MISMATCH"
    text = compare(result, b)
    row = next(line for line in text.splitlines() if line.startswith("| `q02_group_low_card`"))
    if result["engines"]["mergetree"]["queries"]["q02_group_low_card"]["check"] == "OK":
        assert "2.00 slower" in row
    assert "- `q01_count` mergetree: OK -> MISMATCH" in text


def test_unsupported_query_is_reported_not_timed(tmp_path):
    from bench.runner import prepare_data

    parquet, _ = prepare_data(1000, 42, tmp_path / "data")
    out = run_engine({"engine": "mergetree", "store": str(tmp_path / "mt"), "parquet": str(parquet),
                      "rows": 1000, "repeat": 1, "queries": [
                          {"name": "bad", "sql": "SELECT noSuchFunctionAnywhere(user_id) FROM events"},
                          {"name": "good", "sql": "SELECT count() FROM events"}]})
    assert out["queries"]["bad"]["status"] == "unsupported"
    assert "noSuchFunctionAnywhere" in out["queries"]["bad"]["error"]
    assert "times" not in out["queries"]["bad"]
    assert out["queries"]["good"]["rows"] == [[1000]]


def test_suites_parse_with_overrides_and_datasets():
    events, hits = load_suite("events"), load_suite("clickbench")
    assert {q.dataset for q in events} == {"events"} and {q.dataset for q in hits} == {"hits"}
    assert len(hits) >= 15
    q = {q.name: q for q in events}
    assert q["q07_uniq_all"].approx == 0.05 and q["q02_group_low_card"].ordered
    assert not q["q01_count"].ordered
    assert "approx_count_distinct" in q["q07_uniq_all"].text("duckdb")
    assert q["q17_min_max_ts"].text("duckdb") == q["q17_min_max_ts"].text("clickhouse")


def test_hits_generator_is_deterministic():
    from bench.gen_hits import generate_hits

    a, b = generate_hits(2000, seed=7), generate_hits(2000, seed=7)
    for k in a:
        if isinstance(a[k], tuple):
            assert all((x == y).all() for x, y in zip(a[k], b[k])), k
            assert len(a[k][0]) == 2001 and a[k][0][0] == 0 and a[k][0][-1] == len(a[k][1])
        else:
            assert (a[k] == b[k]).all() and len(a[k]) == 2000, k
    assert (generate_hits(2000, seed=8)["WatchID"] != a["WatchID"]).any()
    # the dominant counter of ClickBench's queries is present; phrases are mostly empty
    assert (a["CounterID"] == 62).mean() > 0.1
    assert 0.05 < (a["SearchPhrase"][0][1:] != a["SearchPhrase"][0][:-1]).mean() < 0.3


def test_cross_check_verdicts():
    from bench.runner import Query, cross_check

    def ok(rows, **kw):
        return {"status": "ok", "rows": rows, "median": 0.1, **kw}

    qs = [Query(n, {"clickhouse": "SELECT 1"}) for n in ("agree", "chdb_alone", "lonely", "failed", "big")]
    engines = {
        "mergetree": {"queries": {"agree": ok([[1]]), "chdb_alone": ok([[1]]), "lonely": ok([[1]]),
                                  "failed": {"status": "unsupported", "error": "x"},
                                  "big": ok([[1]], truncated=True)}},
        "chdb": {"queries": {"agree": ok([[1]]), "chdb_alone": ok([[2]]),
                             "lonely": {"status": "error", "error": "boom"}, "failed": ok([[1]]),
                             "big": ok([[1]])}},
        "duckdb": {"queries": {"agree": ok([[1]]), "chdb_alone": ok([[1]]),
                               "lonely": {"status": "error", "error": "boom"}, "failed": ok([[1]])}},
    }
    refs = cross_check(qs, engines)
    v = {q.name: {e: engines[e]["queries"][q.name]["check"] for e in engines} for q in qs}
    assert refs["agree"]["reference"] == "chdb"
    assert v["agree"] == {"mergetree": "OK", "chdb": "OK", "duckdb": "OK"}
    assert v["chdb_alone"] == {"mergetree": "MISMATCH", "chdb": "DISPUTED", "duckdb": "MISMATCH"}
    assert refs["lonely"]["reference"] == "mergetree" and v["lonely"]["mergetree"] == "UNCHECKED"
    assert v["failed"] == {"mergetree": "UNSUPPORTED", "chdb": "OK", "duckdb": "OK"}
    # duckdb never ran "big": an ERROR, not silently OK; mergetree's answer was too large to keep
    assert v["big"] == {"mergetree": "UNCHECKED", "chdb": "UNCHECKED", "duckdb": "ERROR"}


def test_compare_rows_rules():
    # unordered: same multiset in another order agrees; ordered does not
    assert compare_rows([["a", 1], ["b", 2]], [["b", 2], ["a", 1]], ordered=False, approx=0) is None
    assert compare_rows([["a", 1], ["b", 2]], [["b", 2], ["a", 1]], ordered=True, approx=0) is not None
    # floats: 1e-6 relative by default; approx widens it
    assert compare_rows([[1.0]], [[1.0000001]], ordered=True, approx=0) is None
    assert compare_rows([[100.0]], [[103.0]], ordered=True, approx=0) is not None
    assert compare_rows([[100.0]], [[103.0]], ordered=True, approx=0.05) is None
    assert compare_rows([[100]], [[110]], ordered=True, approx=0.05) is not None
    # arrays compare element-wise; row count differences are reported
    assert compare_rows([[[1.0, 2.0]]], [[[1.0, 2.0]]], ordered=True, approx=0) is None
    assert compare_rows([[[1.0, 2.0]]], [[[1.0, 2.5]]], ordered=True, approx=0) is not None
    assert compare_rows([[1]], [[1], [2]], ordered=False, approx=0) == "2 rows, expected 1"
    # strings never match numbers loosely
    assert compare_rows([["x"]], [["y"]], ordered=True, approx=0.5) is not None


def test_user_parquet_in_clickbench_layout(tmp_path):
    """--data: the real ClickBench hits.parquet stores EventTime as Int64 seconds, EventDate as
    UInt16 days and strings as binary; every engine must read it into the suite's types."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from bench.gen_hits import generate_hits

    n = 3000
    cols = generate_hits(n, seed=3)
    arrays, names = [], []
    for k, v in cols.items():
        if isinstance(v, tuple):
            o, d = v
            arrays.append(pa.Array.from_buffers(pa.large_binary(), n, [None, pa.py_buffer(o),
                                                                      pa.py_buffer(d)]))
        else:
            arrays.append(pa.array(v.astype(np.int64) if k == "EventTime" else v))
        names.append(k)
    path = tmp_path / "hits.parquet"
    pq.write_table(pa.Table.from_arrays(arrays, names=names), str(path))
    engines = [e for e in _installed() if e != "chdb"]    # in-process: one chDB path per process
    res = run(RunConfig(rows=0, engines=engines, suite="clickbench", repeat=1, isolate=False,
                        data_file=path, work_dir=tmp_path / "stores",
                        queries=["cb00", "cb06", "cb12", "cb42"]))
    assert res["rows"] == n and not res["data"]["generated"]
    days = cols["EventDate"]
    for e in engines:
        q = res["engines"][e]["queries"]
        assert q["cb00_count"]["rows"] == [[n]], e
        lo, hi = (np.datetime64(int(days.min()), "D"), np.datetime64(int(days.max()), "D"))
        assert q["cb06_min_max_date"]["rows"] == [[str(lo), str(hi)]], e
        assert q["cb12_search_phrase_top"]["check"] in ("OK", "UNCHECKED"), (e, q["cb12_search_phrase_top"])
        assert q["cb42_minute_buckets"]["status"] == "ok" or e == "mergetree", (e, q["cb42_minute_buckets"])


class HangingEngine(bench_engines.EngineAdapter):
    """A stand-in engine (cheap to start) whose query containing 'hang' blocks and ignores interrupts."""

    name = "hanging"

    @staticmethod
    def version() -> str:
        return "test"

    def load(self, parquet, dataset) -> None:
        pass

    def query(self, sql: str) -> list[tuple]:
        if "hang" in sql:
            import time

            time.sleep(120)
        return [(1000,)]


def test_slow_query_is_reported_as_timeout(tmp_path):
    from bench.runner import prepare_data

    parquet, _ = prepare_data(1000, 42, tmp_path / "data")
    out = run_engine({"engine": "mergetree", "store": str(tmp_path / "mt"), "parquet": str(parquet),
                      "rows": 1000, "repeat": 1, "query_timeout": 0.3, "queries": [
                          {"name": "slow", "sql": "SELECT count() FROM numbers(100000000000) "
                                                  "WHERE sipHash64(number) = 1"},
                          {"name": "good", "sql": "SELECT count() FROM events"}]})
    assert out["queries"]["slow"]["status"] == "timeout" and "timeout" in out["queries"]["slow"]["error"]
    assert "times" not in out["queries"]["slow"]
    assert out["queries"]["good"]["rows"] == [[1000]]


def test_hung_worker_is_killed_and_keeps_earlier_answers(tmp_path, monkeypatch):
    from bench import runner
    from bench.report import cell

    parquet, _ = runner.prepare_data(1000, 42, tmp_path / "data")
    monkeypatch.setattr(runner, "HUNG_GRACE", 1.0)
    job = {"engine": "tests.test_bench_smoke:HangingEngine", "store": str(tmp_path / "h"),
           "parquet": str(parquet), "rows": 1000, "repeat": 1, "query_timeout": 0.5, "queries": [
               {"name": "first", "sql": "SELECT count() FROM events"},
               {"name": "stuck", "sql": "SELECT 'hang'"},
               {"name": "after", "sql": "SELECT 1"}]}
    out = runner._run_engine_subprocess(job, timeout=120)
    q = out["queries"]
    assert q["first"]["status"] == "ok" and q["first"]["rows"] == [[1000]]
    assert q["stuck"]["status"] == "timeout" and "worker killed" in q["stuck"]["error"]
    assert q["after"]["status"] == "error" and "not run" in q["after"]["error"]
    assert cell({"status": "timeout", "check": "TIMEOUT"}) == "timeout"


@pytest.mark.slow
def test_ingest_bulk_load_and_measurement_report(tmp_path):
    from bench.ingest import bulk_load, prepare_files
    from bench.report import to_html

    files = prepare_files(3000, 42, tmp_path / "data")
    assert set(files) == {"Parquet", "NDJSON", "CSV"}
    recs = bulk_load(["mergetree"], files, 3000, tmp_path / "work", lambda s: None)
    assert [r["name"] for r in recs] == ["bulk load Parquet", "bulk load NDJSON", "bulk load CSV"]
    for r in recs:
        assert r["status"] == "ok" and r["rows"] == 3000 and r["value"] > 0, r
    result = {"suite": "ingest", "rows": 3000, "started": "now", "machine": {}, "measurements": recs + [
        {"engine": "mergetree", "name": "Events API, batches of 1 row", "unit": "rows/s", "value": 12.5,
         "status": "MISMATCH", "detail": "9 rows in the table, 10 acknowledged"}]}
    md = to_markdown(result)
    assert "| bulk load CSV | mergetree |" in md and "MISMATCH: 9 rows in the table" in md
    assert "12.5 rows/s" in md
    assert "<svg" in to_html(result)


@pytest.mark.slow
def test_ingest_and_api_suites_end_to_end(tmp_path):
    from bench.api_suite import run_api
    from bench.ingest import run_ingest

    cfg = RunConfig(rows=5000, engines=_installed(), data_dir=tmp_path / "data", work_dir=tmp_path / "w")
    res = run_ingest(cfg, seconds=1, threads=2, single_threads=2)
    names = {(r["engine"], r["name"]) for r in res["measurements"]}
    assert ("mergetree", "Events API, batches of 1,000 rows") in names
    assert all(r["status"] == "ok" for r in res["measurements"]), res["measurements"]
    api = run_api(RunConfig(rows=5000, engines=["mergetree"]), seconds=1, clients=2)
    assert all(r["status"] == "ok" for r in api["measurements"]), api["measurements"]
    assert any(r["unit"] == "req/s" and r["value"] > 0 for r in api["measurements"])


def test_compare_measurement_suites():
    a = {"suite": "ingest", "rows": 10, "started": "a", "measurements": [
        {"engine": "mergetree", "name": "bulk load CSV", "unit": "rows/s", "value": 1000.0},
        {"engine": "mergetree", "name": "plan", "unit": "ms", "value": 2.0}]}
    b = {"suite": "ingest", "rows": 10, "started": "b", "measurements": [
        {"engine": "mergetree", "name": "bulk load CSV", "unit": "rows/s", "value": 2000.0},
        {"engine": "mergetree", "name": "plan", "unit": "ms", "value": 4.0}]}
    text = compare(a, b)
    assert "| bulk load CSV | mergetree | 1,000 rows/s | 2,000 | 2.00 better |" in text
    assert "| plan | mergetree | 2 ms | 4 | 2.00 worse |" in text
