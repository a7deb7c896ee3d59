"""URL functions against chDB on random URL-like byte strings (hypothesis), plus the kernels
against plain-Python twins of the simplest scanners."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mergetree import types as T
from mergetree.column import Block, StringColumn
from mergetree.exec.expression import evaluate
from sqlparse_ch.ast.expr import FunctionCall, Identifier, Literal

chdb = pytest.importorskip("chdb")

URL_FUNCTIONS = ["protocol", "domain", "domainWithoutWWW", "topLevelDomain", "firstSignificantSubdomain",
                 "cutToFirstSignificantSubdomain", "path", "pathFull", "queryString", "fragment",
                 "queryStringAndFragment", "cutQueryString", "cutFragment", "cutQueryStringAndFragment", "cutWWW",
                 "decodeURLComponent", "encodeURLComponent", "decodeURLFormComponent", "encodeURLFormComponent"]
ARRAY_FUNCTIONS = ["extractURLParameters", "extractURLParameterNames", "URLHierarchy", "URLPathHierarchy"]

_PIECES = ["http", "https", "://", "//", "www.", "a", "b", "co", ".", ".uk", ".com", ":", "/", "?", "#", "&", "=",
           "@", "%", "%2F", "%4", "+", " ", "-", "_", "~", ";", "1", "8080", "x=1", "\t", "\xff", "\x00", "é"]
urls = st.lists(st.sampled_from(_PIECES), max_size=14).map("".join)


def string_column(items: list[bytes]) -> StringColumn:
    offsets = np.zeros(len(items) + 1, np.int64)
    np.cumsum([len(x) for x in items], out=offsets[1:])
    return StringColumn(T.String, offsets, np.frombuffer(b"".join(items), np.uint8).copy())


def chdb_hex(exprs: list[str], items: list[bytes]) -> list[list[str]]:
    """chDB's hex() of each expression (X = the row) over the rows `items`."""
    src = "arrayJoin([" + ",".join(f"unhex('{x.hex()}')" for x in items) + "])"
    q = f"SELECT {', '.join(e.replace('X', 'x') for e in exprs)} FROM (SELECT {src} AS x)"
    out = chdb.query(q, "TabSeparated").data().rstrip("\n").split("\n")
    return [r.split("\t") for r in out]


def _hex_of(value) -> str:
    if isinstance(value, list):
        return "[" + ",".join("'" + _hex_of(v) + "'" for v in value) + "]"
    b = value if isinstance(value, bytes) else value.encode("utf-8", "surrogateescape")
    return b.hex().upper()


def ours_hex(fn: str, items: list[bytes], *extra) -> list[str]:
    col = evaluate(FunctionCall(fn, (Identifier("x"), *extra)), Block({"x": string_column(items)}))
    if isinstance(col, StringColumn):
        o, d = col.offsets, col.data
        return [bytes(d[o[i]:o[i + 1]]).hex().upper() for i in range(len(col))]
    inner = col.values
    o, d = inner.offsets, inner.data
    rows = []
    for i in range(len(col)):
        a, z = col.offsets[i], col.offsets[i + 1]
        rows.append("[" + ",".join("'" + bytes(d[o[k]:o[k + 1]]).hex().upper() + "'" for k in range(a, z)) + "]")
    return rows


def check(items: list[bytes]) -> None:
    exprs = [f"hex({f}(X))" for f in URL_FUNCTIONS] + [f"arrayMap(y -> hex(y), {f}(X))" for f in ARRAY_FUNCTIONS]
    exprs += ["hex(extractURLParameter(X, 'x'))", "hex(extractURLParameter(X, 'a'))"]
    want = chdb_hex(exprs, items)
    got = [ours_hex(f, items) for f in URL_FUNCTIONS + ARRAY_FUNCTIONS]
    got += [ours_hex("extractURLParameter", items, Literal("x")), ours_hex("extractURLParameter", items, Literal("a"))]
    names = URL_FUNCTIONS + ARRAY_FUNCTIONS + ["extractURLParameter(x)", "extractURLParameter(a)"]
    for j, name in enumerate(names):
        bad = [(items[i], got[j][i], want[i][j]) for i in range(len(items)) if got[j][i] != want[i][j]]
        assert not bad, f"{name}: (url, ours, chDB) {bad[:3]}"


FIXED = [b"", b"http://www.a.com/p/q?a=1&b=2#f=3&a=5", b"www.a.com/x", b"a#b?c=1", b"http://www.", b"//www.a.b/c",
         b"https://u:p@www.x.com:80/a//b?c", b"http://news.example.co.uk/", b"http://a.b.github.io/x",
         b"%D1%82%D0%B5+%zz%4", b"http://1.2.3.4/", b"http://a.b.c.example.com.", b"http://www.com", b"\xff\xfe.com/",
         b"mailto:joe@x.org", b"x:y//a.b", b"http://a b.com/", b"a:////", b"z://x/y", b"h0://x/y", b"A://x/y",
         b"?x=1\x00//y&x=2"]


def test_url_functions_fixed_cases_match_chdb():
    check(FIXED)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(urls, min_size=1, max_size=60))
def test_url_functions_random_strings_match_chdb(texts):
    check([t.encode("utf-8") for t in texts])


# --------------------------------------------------------------------------- kernel twins


def _twin_query_string(u: bytes) -> bytes:
    q = u.find(b"?")
    if q < 0:
        return b""
    h = u.find(b"#", q)
    return u[q + 1:] if h < 0 else u[q + 1:h]


def _twin_fragment(u: bytes) -> bytes:
    h = u.find(b"#")
    return b"" if h < 0 else u[h + 1:]


def _twin_encode(u: bytes) -> bytes:
    safe = set(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")
    return b"".join(bytes([c]) if c in safe else b"%%%02X" % c for c in u)


@settings(max_examples=30, deadline=None)
@given(st.lists(urls, max_size=40))
def test_url_kernels_match_python_twins(texts):
    from mergetree.kernels import url as K

    items = [t.encode("utf-8") for t in texts]
    col = string_column(items)
    for op, twin in [(K.OP_QUERY, _twin_query_string), (K.OP_FRAGMENT, _twin_fragment)]:
        s, e = K.extract(col.offsets, col.data, op, np.zeros(1, np.int64), np.zeros(0, np.uint8),
                         np.zeros(0, np.uint64))
        o, d = K.gather(col.data, s, e)
        assert [bytes(d[o[i]:o[i + 1]]) for i in range(len(items))] == [twin(x) for x in items]
    o, d = K.encode_component(col.offsets, col.data, False)
    assert [bytes(d[o[i]:o[i + 1]]) for i in range(len(items))] == [_twin_encode(x) for x in items]
