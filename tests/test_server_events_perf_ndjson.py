"""The NDJSON byte scanner (kernels/ndjson.py) and convert.fast_ndjson_block.

The independent expectation is the general path: orjson parses each line into a dict and
``rows_to_block`` converts the list of dicts. The fast path must give the very same block, or
decline (None) so that the general path runs: it must never give a different answer. Bodies
are generated with escapes, raw unicode, JSON-in-a-string columns, nulls, missing, unknown and
repeated keys, odd whitespace and blank lines; the declines cover every input orjson refuses or
that the fast path does not convert itself.
"""

from __future__ import annotations

import json
import random

import numpy as np
import orjson
import pytest

from mergetree import types as T
from mergetree.convert import fast_ndjson_block, rows_to_block, rows_to_block_partial
from mergetree.convert import fast_ndjson_kernels
from mergetree.kernels import ndjson as K

assert fast_ndjson_kernels(wait=True) is K    # compiled (or loaded from numba's cache) before the tests

SCHEMA = [(n, T.parse_type(t)) for n, t in [
    ("s", "String"), ("ns", "Nullable(String)"), ("lc", "LowCardinality(String)"), ("i32", "Int32"),
    ("u8", "UInt8"), ("i64", "Int64"), ("f64", "Float64"), ("f32", "Float32"), ("b", "Bool"),
    ("dt", "DateTime"), ("dt3", "DateTime64(3)"), ("dtz", "DateTime('Asia/Tokyo')"), ("nf", "Nullable(Float64)"),
]]

STRINGS = ["", "plain", 'quote " inside', "back\\slash", "line\nbreak\ttab\r", "caf\u00e9", "\u65e5\u672c",
           "emoji \U0001F600", "nul \x00 byte", "ctrl \x01\x1f", "slash /", json.dumps({"a": 1, "b": [1, "x\"y"]}),
           "\u2028\u2029", "\x7f"]


def _value(rng: random.Random, t: T.DataType):
    if isinstance(t, T.NullableType):
        return None if rng.random() < 0.3 else _value(rng, t.inner)
    if isinstance(t, T.LowCardinalityType):
        return rng.choice(["a", "b", "c\u00e9"])
    if isinstance(t, T.StringType):
        if rng.random() < 0.1:               # integers and bools into String: their JSON text
            return rng.choice([0, -5, 123456789012345678, -987654321012345678, True, False])
        return rng.choice(STRINGS) + str(rng.randrange(100))
    if isinstance(t, T.IntType):
        if t.signed:
            lim = 2 ** (t.bits - 1)
            return rng.choice([0, 1, -1, lim - 1, -lim, rng.randrange(-lim, lim), rng.randrange(-10 ** 15, 10 ** 15)])
        return rng.choice([0, 1, 255, 256, 300, rng.randrange(0, 10 ** 12)])   # wraps like ClickHouse
    if isinstance(t, T.FloatType):
        return rng.choice([0, 1, -2, 0.1, -0.0, 1e-300, 1.7976931348623157e308, 3.4e38, 123456789.123456789,
                           rng.uniform(-1e6, 1e6), rng.randrange(-10 ** 17, 10 ** 17), 2 ** 60 + 1])
    if isinstance(t, T.BoolType):
        return rng.random() < 0.5
    if isinstance(t, (T.DateTimeType, T.DateTime64Type)):
        if rng.random() < 0.2:
            return rng.randrange(0, 2 ** 31)
        y, mo, d = rng.randrange(1971, 2100), rng.randrange(1, 13), rng.randrange(1, 29)
        return f"{y:04d}-{mo:02d}-{d:02d} {rng.randrange(24):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}"
    raise AssertionError(t)


def _line(rng: random.Random, row: dict) -> bytes:
    items = list(row.items())
    rng.shuffle(items)
    if rng.random() < 0.2:                   # unknown keys with scalar values are skipped
        items.insert(rng.randrange(len(items) + 1), ("extra\u00e9", rng.choice([1, "x", None, True, 2.5])))
    if items and rng.random() < 0.1:         # a repeated key: the last value wins
        k, v = items[0]
        items.append((k, v))
        items[0] = (k, _value(rng, dict(SCHEMA)[k]) if k in dict(SCHEMA) else v)
    sep = rng.choice([(",", ":"), (", ", ": "), (" ,\t", " :  ")])
    text = "{" + sep[0].join(json.dumps(k, ensure_ascii=False) + sep[1] +   # keys with escapes: declined
                             json.dumps(v, ensure_ascii=rng.random() < 0.5) for k, v in items) + "}"
    return text.encode()


def _body(rng: random.Random, rows: int, schema=SCHEMA, absent: float = 0.15) -> bytes:
    lines = []
    for _ in range(rows):
        row = {}
        for name, t in schema:
            if rng.random() < absent:
                continue                     # missing key
            v = _value(rng, t)
            if rng.random() < 0.05:
                v = None                     # null: the type default (or NULL)
            row[name] = v
        lines.append(_line(rng, row))
        if rng.random() < 0.05:
            lines.append(rng.choice([b"", b"  ", b"\t"]))     # blank lines are skipped
    eol = rng.choice([b"\n", b"\r\n"])
    return eol.join(lines) + rng.choice([b"", eol])


def _general(schema, body: bytes, defaults=None):
    rows = [orjson.loads(ln) for ln in body.split(b"\n") if ln.strip()]
    return rows_to_block(schema, rows, defaults=defaults)


def _same(a, b) -> None:
    assert a.num_rows == b.num_rows
    assert list(a.columns) == list(b.columns)
    for name in a.columns:
        x, y = a[name], b[name]
        assert x.type == y.type, name
        px, py = x.to_pylist(), y.to_pylist()
        if isinstance(x.type, T.FloatType) or isinstance(getattr(x.type, "inner", None), T.FloatType):
            assert np.array_equal(np.asarray(px, dtype=float), np.asarray(py, dtype=float), equal_nan=True), name
            assert [np.signbit(v) if v is not None else None for v in px] == \
                   [np.signbit(v) if v is not None else None for v in py], name
        else:
            assert px == py, name


@pytest.mark.parametrize("seed", range(12))
def test_fast_path_equals_orjson_path(seed):
    rng = random.Random(seed)
    body = _body(rng, rng.choice([1, 3, 40, 300]))
    fast = fast_ndjson_block(SCHEMA, body)
    assert fast is not None, body[:300]
    _same(fast, _general(SCHEMA, body))


def test_partial_conversion_takes_the_fast_path_and_matches():
    rng = random.Random(99)
    body = _body(rng, 500)
    block, rejected = rows_to_block_partial(SCHEMA, body)
    assert rejected == []
    _same(block, _general(SCHEMA, body))


def test_defaults_fill_missing_and_null_like_the_general_path():
    from mergetree.column import StringColumn

    def upper_of_s(block):                  # a DEFAULT expression: depends on another column
        col = block["s"]
        return StringColumn(T.String, col.offsets.copy(), np.frombuffer(bytes(col.data).upper(), np.uint8))

    schema = [("s", T.String), ("d", T.String), ("nd", T.parse_type("Nullable(String)"))]
    defaults = {"d": upper_of_s, "nd": upper_of_s}
    body = b'{"s":"ab","d":"x","nd":null}\n{"s":"cd"}\n{"s":"ef","d":null,"nd":"y"}\n' * 200
    fast = fast_ndjson_block(schema, body, defaults)
    assert fast is not None
    _same(fast, _general(schema, body, defaults))
    assert fast["d"].to_pylist()[:3] == ["x", "CD", "EF"]
    assert fast["nd"].to_pylist()[:3] == [None, "CD", "y"]
    all_missing = b'{"s":"ab"}\n' * 100
    _same(fast_ndjson_block(schema, all_missing, defaults), _general(schema, all_missing, defaults))


@pytest.mark.parametrize("values", [
    ["2024-01-02 03:04:05", "2024-01-02", "2024-02-29T23:59:59", "1970-01-01 00:00:00", "2106-02-07 06:28:16"],
    ["2024-03-31 02:30:00", "2024-10-27 02:30:00", 1700000000, None],     # DST edges (Europe) and numbers
    ["1969-12-31 23:59:59", "2024-01-02 03:04:05", None],                  # saturation at 0 (DateTime)
    ["2024-01-02 03:04:05.123", "1969-12-31 23:59:59.999"],                # fractions (numpy's parser)
    ["2024-01-02T03:04:05Z", "2024-01-02T23:59:59Z", 5],
])
def test_datetime_text_shapes_match_the_general_path(values):
    schema = [(n, T.parse_type(t)) for n, t in [("a", "DateTime"), ("b", "DateTime64(3)"),
                                                ("c", "DateTime('Europe/Berlin')"), ("d", "DateTime64(6, 'Asia/Kolkata')")]]
    body = b"".join(orjson.dumps({"a": v, "b": v, "c": v, "d": v}) + b"\n" for v in values) * 50
    fast = fast_ndjson_block(schema, body)
    assert fast is not None
    _same(fast, _general(schema, body))


DECLINED = [
    b'{"s":{"nested":1}}', b'{"s":[1,2]}', b'{"s":"a"', b'{"s":"a"}{"s":"b"}', b'{"s":"a"} x', b'["s"]',
    b'{"s":"\\ud800"}', b'{"s":"\\udc00x"}', b'{"s":"\\ud800\\u0041"}', b'{"s":"\xed\xa0\x80"}', b'{"s":"\xc0\xaf"}',
    b'{"s":"\xff"}', b'{"s":"a\tb"}', b'{"s":"\\x"}', b'{"s":"\\u12"}', b'{"i32":01}', b'{"i32":1.}', b'{"i32":-}',
    b'{"f64":.5}', b'{"f64":1e400}', b'{"f64":1e}', b'{"s":1.5}', b'{"s":-0}', b'{"s":1234567890123456789}',
    b'{"s":1e3}', b'{"i32":"5"}', b'{"i32":1.5}',
    b'{"u8":-1}', b'{"i64":12345678901234567890}', b'{"b":1}', b'{"dt":"2024-01-02T03:04:05+01:00"}',
    b'{"dt":"bad date text"}', b'{"dt":"2024-02-30 00:00:00"}', b'{"dt":"2024-01-02 24:00:00"}',
    b'{"dt3":"2024-01-02 03:04:60"}', b'{"dtz":"2023-13-01"}', b'{"dt":"2024-01-02\\u0020"}', b'{"s\\u0041":"a"}',
    b'{"s":"a",}', b'{,"s":"a"}', b'{"s" "a"}', b'{"s":tru}', b'{"s":nul}', b'{"s":\n"a"}', b'5', b'"s"', b'{"s":"a"}\x0b',
    b'\xef\xbb\xbf{"s":"a"}', b'{"s":"a"}\r{"s":"b"}',
]


@pytest.mark.parametrize("body", DECLINED)
def test_declines_whatever_it_does_not_read_like_orjson(body):
    good = b'{"s":"ok","i32":1,"f64":2.5,"dt":"2024-01-02 03:04:05"}\n'
    assert fast_ndjson_block(SCHEMA, body) is None
    assert fast_ndjson_block(SCHEMA, good * 3 + body) is None
    assert fast_ndjson_block(SCHEMA, good * 3) is not None


@pytest.mark.parametrize("body, good, rejected, middle", [
    (b'{"s":"a"}\n{"s":{"n":1}}\n{"s":"b"}', 300, 0, '{"n":1}'),     # an object into String: its JSON text
    (b'{"s":"a"}\n{"s":"\xff"}\n{"s":"b"}', 200, 100, None),          # invalid UTF-8: a malformed line
    (b'{"s":"a"}\n{"i32":"x"}\n{"s":"b"}', 200, 100, None)])         # not a number: quarantined
def test_declined_bodies_still_convert_and_quarantine_through_the_general_path(body, good, rejected, middle):
    body = (body + b"\n") * 100                 # big enough for the fast path to be tried
    assert fast_ndjson_block(SCHEMA, body) is None
    block, bad = rows_to_block_partial(SCHEMA, body)
    assert (block.num_rows, len(bad)) == (good, rejected)
    assert block["s"].to_pylist()[:3] == (["a", middle, "b"] if middle else ["a", "b", "a"])
    assert [r.row for r in bad] == [3 * i + 1 for i in range(rejected)]


def test_empty_and_blank_bodies_are_left_to_the_general_path():
    assert fast_ndjson_block(SCHEMA, b"") is None
    assert fast_ndjson_block(SCHEMA, b"\n \n") is None


def test_scanner_python_twin_agrees_with_the_kernel():
    rng = random.Random(7)
    body = _body(rng, 60)
    names = [n.encode() for n, _ in SCHEMA]
    ko = np.zeros(len(names) + 1, np.int64)
    np.cumsum([len(b) for b in names], out=ko[1:])
    kd = np.frombuffer(b"".join(names), np.uint8)
    buf = np.frombuffer(body, np.uint8)
    out = []
    for fn in (K.scan, K.scan.py_func):
        rm = body.count(b"\n") + 1
        arrays = [np.zeros((len(names), rm), dt) for dt in (np.int8, np.int64, np.int64)] + \
                 [np.zeros((len(names), 8), np.int64)]
        out.append((fn(buf, ko, kd, *arrays), arrays))
    (res_a, arr_a), (res_b, arr_b) = out
    assert tuple(res_a) == tuple(res_b) and res_a[1] == 0
    for a, b in zip(arr_a, arr_b):
        assert np.array_equal(a, b)
    kinds, starts, ends, counts = arr_a
    for k in range(len(names)):              # counts: values per kind and string bytes, from the spans
        assert counts[k, 1:].tolist() == [int((kinds[k] == j).sum()) for j in range(1, 8)]
        strings = (kinds[k] == K.K_STRING) | (kinds[k] == K.K_ESCAPED)
        assert counts[k, 0] == int((ends[k] - starts[k])[strings].sum())
    k = 0                                       # the "s" column: gather (kernel and twin) vs orjson
    rows = res_a[0]
    for fn in (K.gather_strings, K.gather_strings.py_func):
        offsets = np.empty(rows + 1, np.int64)
        data = np.empty(len(body), np.uint8)
        w = fn(buf, arr_a[0][k, :rows], arr_a[1][k, :rows], arr_a[2][k, :rows], offsets, data)
        got = [bytes(data[offsets[i]:offsets[i + 1]]).decode() for i in range(rows)]
        want = [v if isinstance(v := orjson.loads(ln).get("s"), str) else "" if v is None else orjson.dumps(v).decode()
                for ln in body.split(b"\n") if ln.strip()]
        assert got == want and w == offsets[-1]


def test_events_api_sized_body_is_read_by_the_fast_path():
    """The load generator's body (bench/bench_server_events.py) is a fast-path body."""
    from bench.bench_server_events import body_for

    schema = [(n, T.String) for n in ("event_id", "user_id", "event_type", "properties")] + [("timestamp", T.DateTime)]
    body = body_for(0, 1000)
    fast = fast_ndjson_block(schema, body)
    assert fast is not None
    _same(fast, _general(schema, body))
    assert fast["properties"].to_pylist()[0] == '{"a":1}'


@pytest.mark.parametrize("seed", range(6))
def test_single_event_body_equals_the_general_path(seed):
    """One-line bodies (single events) take convert.one_row_block: same block, or None."""
    from mergetree.convert import one_row_block

    rng = random.Random(1000 + seed)
    schema = [(n, t) for n, t in SCHEMA if not isinstance(t, (T.LowCardinalityType, T.BoolType))]
    taken = 0
    for _ in range(150):
        line = _body(rng, 1, schema, absent=0.1).strip()
        block = one_row_block(schema, line)
        if block is None:
            continue
        taken += 1
        _same(block, _general(schema, line))
        got, rejected = rows_to_block_partial(schema, line)
        assert rejected == []
        _same(got, block)
    assert taken > 100


@pytest.mark.parametrize("line", [b'{"s":1}', b'{"i32":"5"}', b'{"u8":-1}', b'{"i32":true}', b'{"f64":"1.5"}',
                                  b'{"dt":"not a date"}', b'{"dt":1.5}', b'{"s":"a"}\n{"s":"b"}', b'[{"s":"a"}]',
                                  b'{"s":"a"', b'5', b'{"b":true}', b'{"lc":"x"}', b'{"i64":9223372036854775808}'])
def test_single_event_declines_what_the_general_path_must_decide(line):
    from mergetree.convert import one_row_block

    assert one_row_block(SCHEMA, line) is None


def test_single_event_with_a_default_expression_is_left_to_the_general_path():
    from mergetree.column import StringColumn
    from mergetree.convert import one_row_block

    schema = [("s", T.String), ("d", T.String), ("nd", T.parse_type("Nullable(String)"))]
    defaults = {"d": lambda b: StringColumn(T.String, np.array([0, 1]), np.frombuffer(b"D", np.uint8)),
                "nd": lambda b: StringColumn(T.String, np.array([0, 1]), np.frombuffer(b"N", np.uint8))}
    assert one_row_block(schema, b'{"s":"a"}', defaults) is None
    assert one_row_block(schema, b'{"s":"a","d":null,"nd":"x"}', defaults) is None
    block = one_row_block(schema, b'{"s":"a","d":"y","nd":null}', defaults)
    assert block["d"].to_pylist() == ["y"] and block["nd"].to_pylist() == [None]
    assert rows_to_block_partial(schema, b'{"s":"a"}', defaults=defaults)[0]["d"].to_pylist() == ["D"]


def test_events_api_large_bodies_through_both_paths(tmp_path):
    """Through the HTTP API: a clean 1000-row body (fast path) keeps every byte; the same body with
    three bad rows (general path) quarantines exactly those, with their reasons, and keeps the rest."""
    from starlette.testclient import TestClient

    from mergetree.server.app import create_app

    H = {"Authorization": "Bearer adm"}
    app = create_app(tmp_path / "d", admin_token="adm", flush_interval=3600)
    with TestClient(app, raise_server_exceptions=False) as client:
        r = client.post("/v0/datasources", headers=H, params={
            "name": "ev", "schema": "id UInt32, s String, p String, ts DateTime", "engine_sorting_key": "id"})
        assert r.status_code == 200, r.text
        texts = [f'caf\u00e9 "{i}"\\\n\U0001F600' for i in range(1000)]
        lines = [orjson.dumps({"id": i, "s": texts[i], "p": json.dumps({"k": [i, "x\"y"]}), "ts": 1767225600 + i})
                 for i in range(1000)]
        r = client.post("/v0/events?name=ev&wait=true", headers=H, content=b"\n".join(lines))
        assert r.status_code == 200 and r.json() == {"successful_rows": 1000, "quarantined_rows": 0}
        bad = list(lines)
        bad[10] = b'{"id": 10, "s": "x", "p": "y", "ts": "not a date"}'
        bad[20] = b'{"id": 20, "s": "x", "p": "y", "ts": '
        bad[30] = b'{"id": {"nested": 1}, "s": "x", "p": "y", "ts": 0}'
        r = client.post("/v0/events?name=ev&wait=true", headers=H, content=b"\n".join(bad))
        assert r.status_code == 200 and r.json() == {"successful_rows": 997, "quarantined_rows": 3}

        def sql(q):
            r = client.get("/v0/sql", params={"q": q + " FORMAT JSONEachRow"}, headers=H)
            assert r.status_code == 200, r.text
            return [orjson.loads(x) for x in r.content.splitlines()]

        got = sql("SELECT id, s, p, toUnixTimestamp(ts) AS t, count() AS c FROM ev GROUP BY id, s, p, t ORDER BY id")
        assert [g["id"] for g in got] == list(range(1000))
        assert [g["c"] for g in got] == [1 if i in (10, 20, 30) else 2 for i in range(1000)]
        assert [g["s"] for g in got] == texts
        assert [orjson.loads(g["p"]) for g in got] == [{"k": [i, "x\"y"]} for i in range(1000)]
        assert [g["t"] for g in got] == [1767225600 + i for i in range(1000)]
        q = sql("SELECT id, c__error_column AS col, c__error AS err FROM ev_quarantine ORDER BY id")
        assert len(q) == 3
        reasons = " | ".join(e for row in q for e in row["err"])
        assert "not a date" in reasons and "Malformed JSON" in reasons
        assert sorted(c for row in q for c in row["col"]) == ["id", "ts"]


def test_keys_that_prefix_each_other_non_ascii_and_unsafe_names_match_like_dict_lookups():
    schema = [("a", T.String), ("ab", T.Int32), ("\u00e9t\u00e9", T.String), ('q"x', T.String), ("b", T.String)]
    rng = random.Random(5)
    lines = []
    for i in range(300):
        row = {"a": f"v{i}", "ab": i, "\u00e9t\u00e9": "\u00e9" * (i % 3), 'q"x': "quoted", "abc": "unknown", "b": "x"}
        items = list(row.items())
        if i % 7:                               # mostly the same order (the scanner's guess), sometimes not
            rng.shuffle(items) if i % 5 == 0 else None
        lines.append(("{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + json.dumps(v, ensure_ascii=False)
                                     for k, v in items if k != 'q"x') + "}").encode())
    body = b"\n".join(lines)
    fast = fast_ndjson_block(schema, body)
    assert fast is not None
    _same(fast, _general(schema, body))
    assert fast["ab"].to_pylist()[:3] == [0, 1, 2] and fast["\u00e9t\u00e9"].to_pylist()[:3] == ["", "\u00e9", "\u00e9\u00e9"]
    assert fast['q"x'].to_pylist() == [""] * 300


def test_big_bodies_are_scanned_in_pieces_with_the_same_result(monkeypatch):
    import mergetree.convert as C

    rng = random.Random(11)
    body = _body(rng, 400)
    whole = fast_ndjson_block(SCHEMA, body)
    monkeypatch.setattr(C, "FAST_NDJSON_MAX_CELLS", 300)        # ~23 rows per piece
    pieces = fast_ndjson_block(SCHEMA, body)
    assert whole is not None and pieces is not None
    _same(pieces, whole)
    _same(pieces, _general(SCHEMA, body))
    bad = body + b'\n{"s": {"nested": 1}}\n' + body
    assert fast_ndjson_block(SCHEMA, bad) is None                 # one piece declines: the whole body does
