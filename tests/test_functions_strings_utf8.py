"""String long tail: the text kernels against Python twins, and the functions against chDB on
random strings mixing ASCII, multi-byte UTF-8 (Greek, German, CJK, emoji) and invalid bytes."""

from __future__ import annotations

import base64

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.test_functions_url import chdb_hex, ours_hex, string_column
from sqlparse_ch.ast.expr import Literal

chdb = pytest.importorskip("chdb")

_PIECES = ["a", "B", "z", " ", "é", "ß", "Σ", "ΑΣ ", "İ", "日本", "😀", "ﬁ", "\xff", "\xc3", "\x80", "\xe2\x82",
           "abc", "ABC", "0", "+", "/", "="]


def _to_bytes(s: str) -> bytes:
    # the \x80-\xff pieces stand for raw (possibly invalid) bytes
    return b"".join(ch.encode("latin-1") if "\x80" <= ch <= "\xff" and ch not in "éß" else ch.encode("utf-8")
                    for ch in s)


texts = st.lists(st.sampled_from(_PIECES), max_size=10).map("".join).map(_to_bytes)

CASES = [("lowerUTF8", ()), ("upperUTF8", ()), ("reverseUTF8", ()), ("reverse", ()), ("toValidUTF8", ()),
         ("hex", ()), ("base64Encode", ()), ("base64URLEncode", ()), ("substringUTF8", (2, 3)),
         ("substringUTF8", (-2,)), ("leftPadUTF8", (6, "é")), ("rightPad", (7, "*-")), ("repeat", (2,)),
         ("unhex", ())]


def _sql_arg(v) -> str:
    return f"'{v}'" if isinstance(v, str) else str(v)


def check(items: list[bytes]) -> None:
    exprs = [f"hex({f}(X{''.join(', ' + _sql_arg(a) for a in args)}))" for f, args in CASES]
    exprs += ["toString(lengthUTF8(X))", "toString(positionCaseInsensitive(X, 'ab'))",
              "toString(positionUTF8(X, 'z'))", "toString(countSubstrings(X, 'a'))"]
    want = chdb_hex(exprs, items)
    got = [ours_hex(f, items, *[Literal(a) for a in args]) for f, args in CASES]
    for j, (f, args) in enumerate(CASES):
        bad = [(items[i], got[j][i], want[i][j]) for i in range(len(items)) if got[j][i] != want[i][j]]
        assert not bad, f"{f}{args}: (input, ours hex, chDB hex) {bad[:3]}"
    from mergetree.column import Block
    from mergetree.exec.expression import evaluate
    from sqlparse_ch.ast.expr import FunctionCall, Identifier

    block = Block({"x": string_column(items)})
    for k, (f, extra) in enumerate([("lengthUTF8", ()), ("positionCaseInsensitive", ("ab",)),
                                    ("positionUTF8", ("z",)), ("countSubstrings", ("a",))]):
        col = evaluate(FunctionCall(f, (Identifier("x"), *[Literal(a) for a in extra])), block)
        assert [str(v) for v in col.to_pylist()] == [w[len(CASES) + k] for w in want], f


def test_string_functions_fixed_cases_match_chdb():
    check([b"", b"h\xc3\xa9llo w\xc3\xb6rld", "ΟΔΟΣ straße İ".encode(), b"abcABC", b"\xff\xfeA\xf0\x9f\x98\x80",
           b"a\xffb\xc3\xa9\xc3", "Ǆ ǅ ǆ ﬁ 日本語".encode(), b"0a1", b"YWJjZA=="])


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(texts, min_size=1, max_size=50))
def test_string_functions_random_strings_match_chdb(items):
    check(items)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.binary(max_size=40), max_size=30))
def test_text_kernels_match_python_twins(items):
    from mergetree.kernels import text as K

    col = string_column(items)
    o, d = col.offsets, col.data

    def rows(res):
        oo, dd = res[0], res[1]
        return [bytes(dd[oo[i]:oo[i + 1]]) for i in range(len(oo) - 1)]

    assert rows(K.hex_encode(o, d)) == [x.hex().upper().encode() for x in items]
    assert rows(K.base64_encode(o, d, False)) == [base64.b64encode(x) for x in items]
    assert rows(K.reverse_utf8(o, d, False)) == [x[::-1] for x in items]
    enc = string_column([base64.b64encode(x) for x in items])
    dec_o, dec_d, ok = K.base64_decode(enc.offsets, enc.data, False)
    assert ok.all() and rows((dec_o, dec_d)) == items
    hx = string_column([x.hex().encode() for x in items])
    assert rows(K.unhex(hx.offsets, hx.data)) == items
    assert list(K.count_substrings(o, d, np.frombuffer(b"ab", np.uint8), False)) == [x.count(b"ab") for x in items]
    assert list(K.find_ci(o, d, np.frombuffer(b"aB", np.uint8), 0, False, True)) == \
        [x.lower().find(b"ab") + 1 for x in items]
    valid = [x for x in items if _is_utf8(x)]
    vc = string_column(valid)
    assert rows(K.to_valid_utf8(vc.offsets, vc.data)) == valid
    assert list(K.utf8_starts(vc.offsets, vc.data)) == [len(x.decode()) for x in valid]


def _is_utf8(b: bytes) -> bool:
    try:
        b.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False
