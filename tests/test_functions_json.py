"""JSON functions: byte-scanning kernels against Python's json module, SQL against chDB, and a
hypothesis differential test over random (and broken) documents."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mergetree.column import StringColumn

chdb = pytest.importorskip("chdb")

DOCS = ['{"a":1,"b":[1,2,{"c":"x"}],"d":{"e":null}}', '[1, "two", [3], {"k": true}]', '{}', '[]', 'bad',
        '{"a":1', ' {"sp" : [ 1 , 2 ] } ', '"str"', '12', '{"q":"\\u00e9\\n","r":[[],[[]]]}', '']


def _strict_loads(text):
    return json.loads(text, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))


def _col(docs):
    return StringColumn.from_bytes_list([d.encode() for d in docs])


def test_valid_rows_matches_python():
    from mergetree.kernels import json as J

    col = _col(DOCS)
    out = np.empty(len(DOCS), np.uint8)
    J.valid_rows(col.offsets, col.data, out)
    want = []
    for d in DOCS:
        try:
            _strict_loads(d)
            want.append(1)
        except ValueError:
            want.append(0)
    assert out.tolist() == want


def test_members_match_python():
    from mergetree.functions.json import _locate, _members, _path
    from mergetree.kernels import json as J

    col = _col(DOCS)
    path = _path("t", [None], [None])
    data, start, end, vtype, count = _locate(col, path)
    cnt, first, ms, me, ks, ke = _members(data, start, end, vtype, count)
    raw = bytes(data)
    for i, d in enumerate(DOCS):
        try:
            v = _strict_loads(d)
        except ValueError:
            assert cnt[i] == 0
            continue
        if isinstance(v, (list, dict)):
            assert cnt[i] == len(v)
            got = [_strict_loads(raw[ms[j]:me[j]]) for j in range(first[i], first[i] + cnt[i])]
            assert got == (list(v.values()) if isinstance(v, dict) else v)
            if isinstance(v, dict):
                keys = [_strict_loads(raw[ks[j]:ke[j]]) for j in range(first[i], first[i] + cnt[i])]
                assert keys == list(v)
        else:
            assert cnt[i] == 0
    assert vtype.tolist()[DOCS.index("bad")] == J.T_MISSING


def test_visit_param_matches_bytes_find():
    from mergetree.kernels import json as J

    docs = ['{"a":1}', 'x"a":2"a":3', '"a" :1', '', '"a":']
    col = _col(docs)
    out = np.empty(len(docs), np.int64)
    J.visit_param(col.offsets, col.data, np.frombuffer(b'"a":', np.uint8).copy(), out)
    want = []
    for i, d in enumerate(docs):
        k = d.encode().find(b'"a":')
        want.append(-1 if k < 0 else int(col.offsets[i]) + k + 4)
    assert out.tolist() == want


CASES = [
    """select JSONExtract('{"a":1,"b":"x","c":[1,2],"d":{"e":true},"f":1.5,"g":null}', 'a', 'Int32') a,
       JSONExtract('{"a":1}', 'a', 'String') b, JSONExtract('{"b":"x"}', 'b', 'String') c,
       JSONExtract('{"a":1}', 'a', 'Nullable(Int32)') d, JSONExtract('{"a":"q"}', 'a', 'Nullable(Int32)') e,
       JSONExtract('{"a":null}', 'a', 'Nullable(Int32)') f, JSONExtract('{}', 'a', 'Nullable(String)') g""",
    """select JSONExtract('{"c":[1,2,"3",4.5,null]}', 'c', 'Array(Int32)') a,
       JSONExtract('{"c":[1,2,"3",null]}', 'c', 'Array(Nullable(Int32))') b,
       JSONExtract('{"c":[1,"a"]}', 'c', 'Tuple(Int32, String)') c,
       JSONExtract('{"c":{"x":1,"y":"a"}}', 'c', 'Tuple(y String, x Int32)') d,
       JSONExtract('{"c":[[1],[2,3]]}', 'c', 'Array(Array(UInt8))') e,
       JSONExtract('{"c":{"x":1,"y":2}}', 'c', 'Map(String, Int32)') f""",
    """select JSONExtract('[1,2]', 'Array(Int32)') a, JSONExtract('bad', 'Array(Int32)') b,
       JSONExtract('{"a":1.9}', 'a', 'Int64') c, JSONExtract('{"a":true}', 'a', 'Bool') d,
       JSONExtract('{"a":true}', 'a', 'UInt8') e, JSONExtract('{"a":"2020-01-01"}', 'a', 'Date') f,
       JSONExtract('{"a":1}', 'a', 'Float64') g, JSONExtract('{"a":[1]}', 'a', 'String') h,
       JSONExtract('{"a":"x"}', 'a', 'LowCardinality(String)') i""",
    """select JSONExtractInt('{"a":true}', 'a') a, JSONExtract('{"a":true}', 'a', 'Int64') b,
       JSONExtract('{"a":true}', 'a', 'Float64') c, JSONExtract('{"a":true}', 'a', 'Nullable(Int8)') d,
       JSONExtract('{"a":2}', 'a', 'Bool') e, JSONExtract('{"a":"x"}', 'a', 'Nullable(Bool)') f,
       JSONExtract('{"a":1.5}', 'a', 'Nullable(UInt8)') g""",
    """select JSONExtractKeys('{"a":1,"b":{"c":2}}') a, JSONExtractKeys('{"a":1,"b":{"c":2}}', 'b') b,
       JSONExtractKeys('[1]') c, JSONExtractKeys('bad') d, JSONExtractArrayRaw('[1, "a", {"b": 2}, [3 ]]') e,
       JSONExtractArrayRaw('{"a":[1,2]}', 'a') f, JSONExtractArrayRaw('{"a":1}') g,
       JSONExtractArrayRaw('{"a": {"x": 1}}', 'a') h""",
    """select JSONExtractKeysAndValues('{"a":1,"b":"2","c":"x"}', 'Int8') a,
       JSONExtractKeysAndValues('{"x":{"a":"s","b":"t"}}', 'x', 'String') b,
       JSONExtractKeysAndValuesRaw('{"a":[1, 2],"b":{"c": 1}}') c""",
    """select isValidJSON('{"a":1}') a, isValidJSON('[1,') b, isValidJSON('') c, isValidJSON('1') d,
       isValidJSON(' "x" ') e""",
    """select visitParamExtractUInt('{"a":123,"b":"x"}', 'a') a, visitParamExtractString('{"b":"x\\\\ny"}', 'b') b,
       visitParamExtractRaw('{"c":{"d": [1, 2]}}', 'c') c, visitParamHas('{"a":1}', 'a') d,
       visitParamHas('{"a":1}', 'z') e, visitParamExtractInt('{"a":-5}', 'a') f,
       visitParamExtractFloat('{"a":1.5e1}', 'a') g, visitParamExtractBool('{"a":true}', 'a') h,
       simpleJSONExtractUInt('{"x": {"a": 7}}', 'a') i, simpleJSONExtractString('{"a" : "q"}', 'a') j,
       simpleJSONExtractInt('{"a": 7}', 'a') k, simpleJSONExtractUInt('{"a":"12"}', 'a') l,
       simpleJSONExtractRaw('{"a":"x"}', 'a') m, simpleJSONExtractString('{"a":"\\\\u00e9"}', 'a') n,
       simpleJSONHas('{"a":1}','a') o""",
    """select visitParamExtractUInt('{"a":12abc}', 'a') a, visitParamExtractInt('{"a":1.9}', 'a') b,
       visitParamExtractFloat('{"a":"1.5"}', 'a') c, visitParamExtractBool('{"a":1}', 'a') d,
       visitParamExtractString('{"a":1}', 'a') e, visitParamExtractRaw('{"a":"x\\\\"y", "b":2}', 'a') f,
       visitParamExtractRaw('{"a":[1,{"x":"]"}]}', 'a') g, visitParamExtractUInt('{"a":-3}', 'a') h""",
    """select visitParamExtractInt('{"a":"-12x"}', 'a') a, visitParamExtractUInt('{"a":+5}', 'a') b,
       visitParamExtractInt('{"a":99999999999999999999}', 'a') c,
       visitParamExtractUInt('{"a":18446744073709551615}', 'a') d, visitParamExtractInt('{"a":-}', 'a') e,
       visitParamExtractInt('{"a":1e3}', 'a') f, visitParamExtractUInt('{"a":"  7"}', 'a') g,
       visitParamExtractInt('{"a":-9223372036854775808}', 'a') h, visitParamExtractInt('{"a":9223372036854775808}', 'a') i,
       visitParamExtractUInt('{"a":-3}', 'a') j""",
    """select toJSONString(1) a, toJSONString('a/b"') b, toJSONString([1,2]) c, toJSONString(map('a',1)) d,
       toJSONString(tuple(1,'x')) e, toJSONString(1.5) f, toJSONString(toDate('2020-01-01')) h,
       toJSONString(nan) i, toJSONString(CAST((1,'x'), 'Tuple(a UInt8, b String)')) j,
       toJSONString(toUInt64(18446744073709551615)) k, toJSONString(true) l""",
    """select JSONExtract(s, 'a', 'Array(Nullable(String))') a, JSONExtract(s, 'b', 'Tuple(UInt8, Array(String))') b,
       JSONExtractKeys(s) c, JSONLength(s) d, isValidJSON(s) e
       from (select arrayJoin(['{"a":["x",null,1],"b":[1,["q"]]}', '{}', 'bad', '{"a":[]}', '{"b":{"x":2}}']) s)""",
]


@pytest.fixture(scope="module")
def db():
    import mergetree

    return mergetree.connect()


def _ours(db, q):
    out = db.sql(q).format("TabSeparatedWithNamesAndTypes")
    return out.decode() if isinstance(out, bytes) else out


def _theirs(q):
    return chdb.query(q, "TabSeparatedWithNamesAndTypes").bytes().decode()


@pytest.mark.parametrize("q", CASES)
def test_against_chdb(db, q):
    assert _ours(db, q) == _theirs(q)


hypothesis = pytest.importorskip("hypothesis")
st = hypothesis.strategies

_scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
                     # floats that ClickHouse re-prints as written (it normalizes 1.50 / 1e3 in raw text;
                     # we keep the spelling: a documented difference in functions/json.py)
                     st.integers(-1000, 1000).map(lambda k: k + 0.5),
                     st.text("abxé\"\\/\n", max_size=4))
_values = st.recursive(_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(["a", "b", "c", "é"]), inner, max_size=3)),
    max_leaves=10)


def _sql_string(s: str) -> str:
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"


_EXPRS = ["JSONExtract(s, 'a', 'Nullable(Int64)')", "JSONExtract(s, 'a', 'Array(Nullable(Float64))')",
          "JSONExtract(s, 'Tuple(a String, b Array(String))')", "JSONExtract(s, 1, 'String')",
          "JSONExtractKeys(s)", "JSONExtractArrayRaw(s)", "JSONExtractArrayRaw(s, 'b')", "JSONLength(s)",
          "isValidJSON(s)", "JSONExtractKeysAndValues(s, 'String')", "JSONExtract(s, 'Map(String, String)')",
          "JSONExtractString(s, 'a')", "JSONExtract(s, 'a', 'UInt8')", "JSONHas(s, 'b')",
          "visitParamExtractRaw(s, 'a')", "visitParamHas(s, 'b')"]


@hypothesis.settings(max_examples=15, deadline=None)
@hypothesis.given(docs=st.lists(st.one_of(_values.map(lambda v: json.dumps(v, ensure_ascii=False)),
                                          _values.map(lambda v: json.dumps(v)[:-1] or "{"),
                                          _values.map(lambda v: json.dumps(v, indent=1))), min_size=1, max_size=5),
                  exprs=st.lists(st.sampled_from(_EXPRS), min_size=1, max_size=4, unique=True))
def test_random_documents_against_chdb(db, docs, exprs):
    q = (f"select {', '.join(exprs)} from (select arrayJoin([{', '.join(_sql_string(d) for d in docs)}]) s)")
    assert _ours(db, q) == _theirs(q)


def test_fast_floats_exact_against_python():
    from mergetree.kernels import json as J

    rng = np.random.default_rng(2)
    texts = ["0", "-0", "1.5", "12.25", "-3.0e2", "1e22", "1e23", "123456789012345678901", "0.1", ".5", "5.",
             "1e", "-", "", "9007199254740993", "2.5E-3", "1.7976931348623157e308", "abc", "1.2.3"]
    texts += [f"{rng.integers(-10**6, 10**6)}.{rng.integers(0, 10**4):04d}e{rng.integers(-30, 30)}" for _ in range(300)]
    col = _col(texts)
    out = np.zeros(len(texts))
    ok = np.zeros(len(texts), np.bool_)
    J.fast_floats(col.data, col.offsets[:-1].copy(), col.offsets[1:].copy(), out, ok)
    for t, v, good in zip(texts, out, ok):
        if good:  # whatever the fast path accepts must be exactly Python's correctly rounded value
            assert v == float(t), t
    assert ok[texts.index("1.5")] and not ok[texts.index("1e23")] and not ok[texts.index("abc")]


def test_visit_ints_match_python():
    from mergetree.kernels import json as J

    docs = ["12", '"-12x"', "+5", "99999999999999999999", "18446744073709551615", "-", "1e3", "-0", "x", ""]
    col = _col(docs)
    for signed in (False, True):
        out = np.empty(len(docs), np.uint64)
        J.visit_ints(col.data, col.offsets, col.offsets[:-1].copy(), signed, out)
        want = []
        for d in docs:
            t = d[1:] if d.startswith('"') else d
            sign, digits = (-1 if t[:1] == "-" else 1), ""
            t = t[1:] if t[:1] in "+-" else t
            while t[:1].isdigit():
                digits, t = digits + t[0], t[1:]
            v = sign * int(digits) if digits else 0
            lo, hi = (-2 ** 63, 2 ** 63 - 1) if signed else (0, 2 ** 64 - 1)
            want.append(v % 2 ** 64 if lo <= v <= hi else 0)
        assert out.tolist() == want
