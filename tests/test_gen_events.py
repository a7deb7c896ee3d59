"""Tests for bench/gen_events.py: determinism, distributions, formats, and chDB reading the output."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import uuid

import numpy as np
import orjson
import pytest

from bench import gen_events as ge  # bench/ is importable through pytest's pythonpath (pyproject.toml)

ANCHOR = "2026-01-01 00:00:00"
ANCHOR_TS = int(dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc).timestamp())
STRUCT = "event_id String, user_id String, event_type String, properties String, timestamp DateTime('UTC')"


@pytest.fixture(scope="module")
def big():
    """200k rows: enough for distribution checks, fast (~0.5 s)."""
    return ge.generate_events(200_000, seed=7)


def _sha(path) -> str:
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def _fmt_ts(ts: int) -> str:
    return dt.datetime.fromtimestamp(int(ts), dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


# ----------------------------------------------------------------------------------- determinism


def test_same_seed_same_bytes(tmp_path):
    a = ge.generate_events(5000, seed=3)
    b = ge.generate_events(5000, seed=3)
    for k in ge.COLUMNS[:4]:
        assert np.array_equal(a[k].offsets, b[k].offsets) and np.array_equal(a[k].data, b[k].data), k
    assert np.array_equal(a["timestamp"], b["timestamp"])
    ge.write_ndjson(tmp_path / "a.ndjson", 5000, seed=3)
    ge.write_ndjson(tmp_path / "b.ndjson", 5000, seed=3)
    assert _sha(tmp_path / "a.ndjson") == _sha(tmp_path / "b.ndjson")
    ge.write_csv(tmp_path / "a.csv", 5000, seed=3)
    ge.write_csv(tmp_path / "b.csv", 5000, seed=3)
    assert _sha(tmp_path / "a.csv") == _sha(tmp_path / "b.csv")


def test_different_seed_differs_and_prefix_stable():
    a = ge.generate_events(1000, seed=1)
    b = ge.generate_events(1000, seed=2)
    assert a["event_id"].to_pylist() != b["event_id"].to_pylist()
    assert a["user_id"].to_pylist() != b["user_id"].to_pylist()
    # a smaller dataset is an exact prefix of a larger one (rows are drawn in seeded blocks)
    n_small = ge.DRAW_BLOCK + 17
    small = ge.generate_events(n_small, seed=1)
    large = ge.generate_events(n_small + ge.DRAW_BLOCK, seed=1)
    for k in ge.COLUMNS[:4]:
        assert small[k].to_pylist() == large[k].to_pylist()[:n_small], k
    assert np.array_equal(small["timestamp"], large["timestamp"][:n_small])


def test_not_relative_to_now():
    """The data depends on the anchor, never on the clock; a different anchor shifts the range."""
    a = ge.generate_events(2000, seed=5, anchor="2020-03-01")
    assert a["timestamp"].max() < int(dt.datetime(2020, 3, 1, tzinfo=dt.timezone.utc).timestamp())
    with pytest.raises(ValueError, match="midnight"):
        ge.draw_codes(10, anchor="2026-01-01 12:00:00")


# ----------------------------------------------------------------------------------- shape / values


def test_columns_shape_and_formats():
    n = 3000
    c = ge.generate_events(n)
    assert set(c) == set(ge.COLUMNS)
    for k in ge.COLUMNS[:4]:
        s = c[k]
        assert len(s) == n and s.offsets[0] == 0 and s.offsets.dtype == np.int64
        assert s.data.dtype == np.uint8 and s.offsets[-1] == len(s.data)
    assert c["timestamp"].dtype == np.uint32 and len(c["timestamp"]) == n
    ids = c["event_id"].to_pylist()
    assert len(set(ids)) == n
    for s in ids[:500]:
        u = uuid.UUID(s)
        assert str(u) == s and u.version == 4 and u.variant == uuid.RFC_4122
    users = c["user_id"].to_pylist()
    assert all(re.fullmatch(r"user_[1-9][0-9]*", u) for u in users)
    nums = [int(u[5:]) for u in users]
    assert 1 <= min(nums) and max(nums) <= ge.N_USERS
    assert set(c["event_type"].to_pylist()) <= set(ge.EVENT_TYPES)


def test_properties_json_depends_on_type(big):
    types = big["event_type"].to_pylist()
    props = big["properties"].to_pylist()
    rng = np.random.default_rng(0)
    sample = rng.choice(len(props), 5000, replace=False)
    button_types = {"click", "login", "logout", "add_to_cart", "remove_from_cart", "share",
                    "signup", "subscribe", "begin_checkout"}
    plan_types = {"signup", "subscribe", "begin_checkout", "purchase"}
    amount_types = {"add_to_cart", "remove_from_cart", "begin_checkout", "purchase", "subscribe"}
    seen = set()
    for i in sample:
        obj = orjson.loads(props[i])
        t = types[i]
        seen.add(t)
        expected = {"page"} | ({"button"} if t in button_types else set()) \
            | ({"plan"} if t in plan_types else set()) | ({"amount"} if t in amount_types else set())
        assert set(obj) == expected, (t, props[i])
        assert obj["page"] in ge.PAGES
        if "button" in obj:
            assert obj["button"] in ge.BUTTONS
        if "plan" in obj:
            assert obj["plan"] in ge.PLANS
        if "amount" in obj:
            assert isinstance(obj["amount"], float) and 0.99 <= obj["amount"] <= 99999.99
            assert re.search(r'"amount":[0-9]+\.[0-9]{2}}$', props[i])
    assert {"purchase", "page_view", "click"} <= seen


def test_amount_text_matches_codes():
    codes = ge.draw_codes(4000, seed=11)
    props = ge.generate_events(0, codes=codes)["properties"].to_pylist()
    for i in np.flatnonzero(codes.has_amount)[:300]:
        cents = int(codes.amount_cents[i])
        assert orjson.loads(props[i])["amount"] == pytest.approx(cents / 100)
        assert props[i].endswith(f'"amount":{cents // 100}.{cents % 100:02d}}}')


# ----------------------------------------------------------------------------------- distributions


def test_timestamp_span_and_patterns(big):
    ts = big["timestamp"].astype(np.int64)
    start = ANCHOR_TS - 90 * 86400
    assert ts.min() >= start and ts.max() < ANCHOR_TS
    assert ts.min() < start + 86400 and ts.max() >= ANCHOR_TS - 86400  # covers all 90 days
    days = (ts - start) // 86400
    assert len(np.unique(days)) == 90
    hours = (ts % 86400) // 3600
    per_hour = np.bincount(hours, minlength=24)
    assert per_hour[13:16].sum() > 4 * per_hour[2:5].sum()  # daily: afternoon >> night
    weekday = (ts // 86400 + 3) % 7  # Monday = 0
    per_day = np.bincount(ts // 86400 - ts.min() // 86400)
    day_weekday = (np.arange(len(per_day)) + ts.min() // 86400 + 3) % 7
    weekend = per_day[day_weekday >= 5].mean()
    weekdays = per_day[day_weekday < 5].mean()
    assert weekend < 0.8 * weekdays  # weekly: quieter weekends
    assert np.bincount(weekday, minlength=7)[5:].sum() < 2 / 7 * len(ts)


def test_event_type_skew(big):
    types = np.array(big["event_type"].to_pylist())
    vals, counts = np.unique(types, return_counts=True)
    assert len(vals) == 20
    share = dict(zip(vals, counts / len(types)))
    assert abs(share["page_view"] - 0.30) < 0.01
    assert abs(share["click"] - 0.15) < 0.01
    assert share["subscribe"] < 0.01
    assert max(share, key=share.get) == "page_view"


def test_user_zipf_skew(big):
    users = big["user_id"].to_pylist()
    _, counts = np.unique(users, return_counts=True)
    counts = np.sort(counts)[::-1]
    n = len(users)
    # Expected share of the 1000 heaviest users under weight(k) = 1 / (k + 50), k = 1..1e6,
    # computed here independently of the generator's code.
    k = np.arange(1, 1_000_001, dtype=np.float64)
    w = 1.0 / (k + 50.0)
    expected_top = w[:1000].sum() / w.sum()
    assert abs(counts[:1000].sum() / n - expected_top) < 0.02
    assert expected_top > 0.25  # i.e. far from uniform (1000 / 1e6 users)
    # the heaviest user gets ~ n * w[0] / sum(w) events
    assert 0.7 < counts[0] / (n * w[0] / w.sum()) < 1.5
    # distinct users: most of the 1M users appear only in big datasets
    assert 50_000 < len(counts) < 150_000


def test_sorted_option():
    c = ge.generate_events(20_000, seed=9, sort=True)
    ts = c["timestamp"].astype(np.int64)
    users = c["user_id"].to_pylist()
    keys = list(zip(ts.tolist(), [u.encode() for u in users]))
    assert keys == sorted(keys)
    u = ge.generate_events(20_000, seed=9)
    assert sorted(u["event_id"].to_pylist()) == sorted(c["event_id"].to_pylist())


def test_strings_helpers():
    s = ge.Strings.from_list(["a", "", "héllo", "xyz"])
    assert s.to_pylist() == ["a", "", "héllo", "xyz"]
    assert s.to_numpy().tolist() == [b"a", b"", "héllo".encode(), b"xyz"]
    assert s.take(np.array([3, 1, 2, 2])).to_pylist() == ["xyz", "", "héllo", "héllo"]
    assert ge.Strings.concat([s, ge.Strings.from_list(["q"])]).to_pylist() == [
        "a", "", "héllo", "xyz", "q"]
    assert s[2] == "héllo"


def test_parse_rows():
    assert ge.parse_rows("1M") == 1_000_000
    assert ge.parse_rows("10k") == 10_000
    assert ge.parse_rows("2.5m") == 2_500_000
    assert ge.parse_rows("1_000") == 1000
    with pytest.raises(Exception, match="bad row count"):
        ge.parse_rows("lots")


# ----------------------------------------------------------------------------------- chDB reads it


chdb = pytest.importorskip("chdb")


def _chq(sql: str) -> list[list[str]]:
    out = chdb.query(sql, "TabSeparated").bytes().decode()
    return [line.split("\t") for line in out.splitlines()]


def test_chdb_reads_ndjson(tmp_path):
    n = 10_000
    path = tmp_path / "ev.ndjson"
    ge.write_ndjson(path, n, seed=42)
    cols = ge.generate_events(n, seed=42)
    users = cols["user_id"].to_pylist()
    [[count, uniq]] = _chq(
        f"SELECT count(), uniqExact(user_id) FROM file('{path}', JSONEachRow, \"{STRUCT}\")")
    assert int(count) == n
    assert int(uniq) == len(set(users))
    # full content: every value read by ClickHouse equals the generator's columns
    rows = _chq(
        f"SELECT event_id, user_id, event_type, properties, toUnixTimestamp(timestamp) "
        f"FROM file('{path}', JSONEachRow, \"{STRUCT}\")")
    assert [r[0] for r in rows] == cols["event_id"].to_pylist()
    assert [r[1] for r in rows] == users
    assert [r[2] for r in rows] == cols["event_type"].to_pylist()
    assert [r[3] for r in rows] == cols["properties"].to_pylist()
    assert [int(r[4]) for r in rows] == cols["timestamp"].tolist()
    # and the properties are JSON for ClickHouse too, with amounts matching the codes
    codes = ge.draw_codes(n, seed=42)
    [[valid, amount_cents]] = _chq(
        f"SELECT countIf(isValidJSON(properties)), "
        f"sum(toInt64(round(JSONExtractFloat(properties, 'amount') * 100))) "
        f"FROM file('{path}', JSONEachRow, \"{STRUCT}\")")
    assert int(valid) == n
    assert int(amount_cents) == int(codes.amount_cents[codes.has_amount].sum())


def test_chdb_reads_csv_and_timestamp_text(tmp_path):
    n = 3000
    path = tmp_path / "ev.csv"
    ge.write_csv(path, n, seed=8)
    cols = ge.generate_events(n, seed=8)
    rows = _chq(f"SELECT properties, formatDateTime(timestamp, '%F %T', 'UTC'), user_id "
                f"FROM file('{path}', CSVWithNames, \"{STRUCT}\")")
    assert len(rows) == n
    assert [r[0] for r in rows] == cols["properties"].to_pylist()
    assert [r[1] for r in rows] == [_fmt_ts(t) for t in cols["timestamp"].tolist()]
    assert [r[2] for r in rows] == cols["user_id"].to_pylist()


def test_chdb_reads_parquet(tmp_path):
    pytest.importorskip("pyarrow")
    n = 3000
    path = tmp_path / "ev.parquet"
    ge.write_parquet(path, n, seed=8, row_group_rows=1000)
    cols = ge.generate_events(n, seed=8)
    rows = _chq(f"SELECT event_id, properties, toUnixTimestamp(timestamp) FROM file('{path}', Parquet)")
    assert [r[0] for r in rows] == cols["event_id"].to_pylist()
    assert [r[1] for r in rows] == cols["properties"].to_pylist()
    assert [int(r[2]) for r in rows] == cols["timestamp"].tolist()


def test_cli_writes_file(tmp_path):
    out = tmp_path / "cli.ndjson"
    assert ge.main(["--rows", "2k", "--format", "ndjson", "--out", str(out), "--seed", "4"]) == 0
    lines = out.read_bytes().splitlines()
    assert len(lines) == 2000
    first = orjson.loads(lines[0])
    cols = ge.generate_events(1, seed=4)
    assert first == {
        "event_id": cols["event_id"][0], "user_id": cols["user_id"][0],
        "event_type": cols["event_type"][0], "properties": cols["properties"][0],
        "timestamp": _fmt_ts(cols["timestamp"][0]),
    }


def test_events_block_is_a_mergetree_block():
    pytest.importorskip("mergetree.column")
    cols = ge.generate_events(50, seed=12)
    block = ge.events_block(cols)
    assert block.num_rows == 50
    assert [(n, str(t)) for n, t in block.schema] == [
        ("event_id", "String"), ("user_id", "String"), ("event_type", "String"),
        ("properties", "String"), ("timestamp", "DateTime")]
    rows = block.to_pylist_rows()
    assert [r[1] for r in rows] == cols["user_id"].to_pylist()
    assert [r[4] for r in rows] == [dt.datetime.fromtimestamp(int(t), dt.timezone.utc).replace(tzinfo=None)
                                    for t in cols["timestamp"]]


def test_storage_report_harness_with_chdb(tmp_path):
    """The storage benchmark harness end to end on 20k rows with chDB as the engine: one 20k-row
    insert into `events` (3 monthly partitions -> 3 parts); the merge input `events_merge` gets
    10 inserts x 3 partitions = 30 parts, OPTIMIZE FINAL -> 3; the scan sums read back by chDB
    equal the generator's (the harness refuses to time wrong answers)."""
    from bench import storage_report as sr

    run = sr.run_rows(20_000, ["chdb"], tmp_path, 42, log=lambda m: None)
    r = run["engines"]["chdb"]
    assert "error" not in r["insert"] and "error" not in r["merge"] and "error" not in r["scan"], r
    assert run["expected"]["block_rows"] == 2_000 and run["expected"]["insert_block_rows"] == 20_000
    assert r["insert"]["rows"] == 20_000 and r["insert"]["parts"] == 3 and r["insert"]["inserts"] == 1
    small = r["insert"]["small"]
    assert small["rows"] == 20_000 and small["parts"] == 30 and small["inserts"] == 10
    assert r["merge"]["table"] == "events_merge" == r["scan"]["table"]
    assert r["merge"]["parts_before"] == 30 and r["merge"]["parts"] == 3 and r["merge"]["rows"] == 20_000
    assert r["scan"]["sum_timestamp"] == run["expected"]["sum_timestamp"]
    assert r["scan"]["sum_len_properties"] == run["expected"]["sum_len_properties"]
    assert r["scan"]["t1_sum_timestamp"] == run["expected"]["sum_timestamp"]  # max_threads = 1
    md = sr.markdown([run], ["chdb"])
    assert "| insert rows/s |" in md and "| bytes on disk / row |" in md and "WRONG" not in md
    # a wrong answer is flagged instead of timed
    run["engines"]["chdb"]["scan"]["sum_timestamp"] += 1
    assert "WRONG RESULT" in sr.markdown([run], ["chdb"])


def test_storage_report_harness_with_mergetree(tmp_path):
    """The same harness drives mergetree: part counts, merge and every checked scan sum (table
    read and DataPart.read) agree with the generator."""
    from bench import storage_report as sr

    run = sr.run_rows(20_000, ["mergetree"], tmp_path, 42, log=lambda m: None)
    r = run["engines"]["mergetree"]
    assert "error" not in r["insert"] and "error" not in r["merge"] and "error" not in r["scan"], r
    assert r["insert"]["rows"] == 20_000 and r["insert"]["parts"] == 3
    assert r["insert"]["small"]["parts"] == 30
    assert r["merge"]["table"] == "events_merge" and r["merge"]["parts_before"] == 30
    assert r["merge"]["parts"] == 3 and r["merge"]["rows"] == 20_000
    exp = run["expected"]
    assert r["scan"]["sum_timestamp"] == exp["sum_timestamp"] == r["scan"]["part_sum_timestamp"]
    assert r["scan"]["sum_len_properties"] == exp["sum_len_properties"] == r["scan"]["part_sum_len_properties"]
    assert "WRONG" not in sr.markdown([run], ["mergetree"])
