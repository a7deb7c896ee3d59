"""The expression engine's numba kernels against their plain-numpy twins (and Python oracles)
on random arrays: calendar arithmetic, date/time text parsing, string comparison, LIKE."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mergetree.kernels import compare as C
from mergetree.kernels import datetime as K
from mergetree.kernels import like as LK


def _strings(items: list[bytes]):
    offsets = np.zeros(len(items) + 1, np.int64)
    offsets[1:] = np.cumsum([len(x) for x in items])
    data = np.frombuffer(b"".join(items), np.uint8).copy() if items else np.zeros(0, np.uint8)
    return offsets, data


# --------------------------------------------------------------------------- calendar


def test_civil_from_days_matches_numpy_twin_and_python_date():
    rng = np.random.default_rng(1)
    days = rng.integers(-719_000, 3_000_000, 50_000)
    y, m, d = K.civil_from_days(days)
    ny, nm, nd = K.civil_from_days_numpy(days)
    assert (y == ny).all() and (m == nm).all() and (d == nd).all()
    for i in range(0, 50_000, 997):  # spot-check against Python's calendar
        if -719_162 <= days[i] <= 2_932_896:
            ref = dt.date(1970, 1, 1) + dt.timedelta(days=int(days[i]))
            assert (y[i], m[i], d[i]) == (ref.year, ref.month, ref.day)


def test_days_from_civil_inverts_civil_from_days():
    rng = np.random.default_rng(2)
    days = rng.integers(-800_000, 800_000, 50_000)
    y, m, d = K.civil_from_days(days)
    assert (K.days_from_civil(y, m, d) == days).all()
    assert (K.days_from_civil_numpy(y, m, d) == days).all()


def test_add_months_matches_twin_and_clamps_to_month_end():
    rng = np.random.default_rng(3)
    days = rng.integers(-50_000, 100_000, 50_000)
    months = rng.integers(-3000, 3000, 50_000)
    assert (K.add_months(days, months) == K.add_months_numpy(days, months)).all()
    jan31 = (dt.date(2024, 1, 31) - dt.date(1970, 1, 1)).days
    assert K.add_months(np.array([jan31]), 1)[0] == (dt.date(2024, 2, 29) - dt.date(1970, 1, 1)).days
    assert K.add_months(np.array([jan31]), 13)[0] == (dt.date(2025, 2, 28) - dt.date(1970, 1, 1)).days
    assert K.add_months(np.array([jan31]), -2)[0] == (dt.date(2023, 11, 30) - dt.date(1970, 1, 1)).days


DATE_TEXTS = [b"2024-01-01", b"2024-1-5", b"20240105", b"2024-01-01 10:00:00", b"2024-01-01T10:00:00Z",
              b"2024-01-01 10:00:00+05:30", b"2024-01-01 10:00:00-0800", b"1704067200", b"abc", b"2024-13-01",
              b"2024-02-30", b"2023-02-29", b"2024-02-29", b" 2024-01-01 10:00 ", b"2024-01-01 10:00:00.123",
              b"", b"2024-01-01 24:00:00", b"2024-01-01X", b"1970-01-01 00:00:00", b"2106-02-07 06:28:15"]


def test_parse_datetime_matches_python_reference():
    secs, status, nanos = K.parse_datetime(*_strings(DATE_TEXTS), with_fraction=True)
    rsecs, rstatus, rnanos = K.parse_datetime_reference(DATE_TEXTS, with_fraction=True)
    assert status.tolist() == rstatus.tolist()
    assert secs[status > 0].tolist() == rsecs[rstatus > 0].tolist()
    assert nanos[status > 0].tolist() == rnanos[rstatus > 0].tolist()
    assert nanos[14] == 123_000_000
    # hand-checked values
    assert secs[0] == 1704067200 and status[0] == 3  # a date alone
    assert status[3] == 1
    assert secs[5] == 1704067200 + 10 * 3600 - 5 * 3600 - 30 * 60 and status[5] == 2
    assert status[8] == 0 and status[9] == 0 and status[10] == 0 and status[11] == 0


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1900, 2299), st.integers(1, 12), st.integers(1, 31),
                          st.integers(0, 23), st.integers(0, 59), st.integers(0, 59), st.booleans()),
                min_size=17, max_size=30))  # > kernels.datetime.SMALL: the numba kernel runs
def test_parse_datetime_random_dates(rows):
    texts = [(f"{y:04d}-{m:02d}-{d:02d} {h:02d}:{mi:02d}:{s:02d}" if full else f"{y:04d}-{m:02d}-{d:02d}").encode()
             for y, m, d, h, mi, s, full in rows]
    secs, status = K.parse_datetime(*_strings(texts))
    rsecs, rstatus = K.parse_datetime_reference(texts)
    assert status.tolist() == rstatus.tolist()
    assert (secs == rsecs).all()


# --------------------------------------------------------------------------- string compare

_alphabet = st.binary(min_size=0, max_size=6).map(lambda b: bytes(x % 4 + 97 if x < 200 else x for x in b))


@settings(max_examples=80, deadline=None)
@given(st.lists(_alphabet, min_size=17, max_size=40), _alphabet)  # > compare.SMALL: the kernels run
def test_compare_with_const_matches_twin_and_python(items, const):
    off, data = _strings(items)
    got = C.compare_with_const(off, data, const)
    assert (got == C.compare_with_const_numpy(off, data, const)).all()
    assert got.tolist() == [(a > const) - (a < const) for a in items]
    assert (C.equals_const(off, data, const) == C.equals_const_numpy(off, data, const)).all()


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(_alphabet, _alphabet), min_size=17, max_size=40))
def test_compare_columns_matches_twin_and_python(pairs):
    oa, da = _strings([a for a, _ in pairs])
    ob, db = _strings([b for _, b in pairs])
    got = C.compare_columns(oa, da, ob, db)
    assert (got == C.compare_columns_numpy(oa, da, ob, db)).all()
    assert got.tolist() == [(a > b) - (a < b) for a, b in pairs]


# --------------------------------------------------------------------------- LIKE family

_text = st.lists(st.sampled_from([b"a", b"b", b"%", b"_", b"\xc3\xa9", b"\\"]), max_size=6).map(b"".join)
_pattern = st.lists(st.sampled_from([b"a", b"b", b"%", b"_", b"\\%", b"\\_", b"\xc3\xa9"]), max_size=5).map(b"".join)


@settings(max_examples=150, deadline=None)
@given(st.lists(_text, min_size=1, max_size=20), _pattern)
def test_like_matches_regex_oracle(items, pattern):
    off, data = _strings(items)
    rx = re.compile(LK.like_to_regex(pattern), re.DOTALL)
    want = [rx.fullmatch(x) is not None for x in items]
    tokens = LK.compile_like(pattern)
    assert LK.like_match(off, data, tokens).tolist() == want
    from mergetree.functions.strings import like_matcher

    assert like_matcher(pattern)(off, data).tolist() == want  # fast paths agree too


@settings(max_examples=80, deadline=None)
@given(st.lists(_text, min_size=1, max_size=30), _text)
def test_affix_kernels_match_twins(items, needle):
    off, data = _strings(items)
    assert (LK.starts_with(off, data, needle) == LK.starts_with_numpy(off, data, needle)).all()
    assert (LK.ends_with(off, data, needle) == LK.ends_with_numpy(off, data, needle)).all()
    assert (LK.contains(off, data, needle) == LK.contains_numpy(off, data, needle)).all()
    assert LK.contains(off, data, needle).tolist() == [needle in x for x in items]


def test_lower_latin_matches_twin():
    rng = np.random.default_rng(5)
    data = rng.integers(0, 256, 20_000).astype(np.uint8)
    data[::7] = 0xC3
    assert (LK.lower_latin(data) == LK.lower_latin_numpy(data)).all()
    assert bytes(LK.lower_latin(np.frombuffer("ÄÖÜ ABC×".encode(), np.uint8))).decode() == "äöü abc×"


def test_like_pattern_errors_and_fast_paths():
    with pytest.raises(ValueError):
        LK.compile_like(b"ab\\")
    assert LK.like_fast_path(LK.compile_like(b"abc%")) == ("prefix", b"abc")
    assert LK.like_fast_path(LK.compile_like(b"%abc")) == ("suffix", b"abc")
    assert LK.like_fast_path(LK.compile_like(b"%a\\%c%")) == ("contains", b"a%c")
    assert LK.like_fast_path(LK.compile_like(b"a_c")) is None


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet="0123456789-: TZ+.", max_size=26).map(str.encode), min_size=17, max_size=40))
def test_parse_datetime_fuzz_matches_reference(texts):
    # min_size > kernels.datetime.SMALL so the numba kernel (not the reference) runs
    secs, status, nanos = K.parse_datetime(*_strings(texts), with_fraction=True)
    rsecs, rstatus, rnanos = K.parse_datetime_reference(texts, with_fraction=True)
    assert status.tolist() == rstatus.tolist()
    assert secs[status > 0].tolist() == rsecs[rstatus > 0].tolist()
    assert nanos[status > 0].tolist() == rnanos[rstatus > 0].tolist()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(-2**63, 2**63 - 1), min_size=17, max_size=60))
def test_format_ints_matches_twin_and_str(values):
    from mergetree.kernels import format as FK

    v = np.array(values, np.int64)
    off, data = FK.format_ints(v)
    noff, ndata = FK.format_ints_numpy(v)
    assert (off == noff).all() and (data == ndata).all()
    assert [bytes(data[off[i]:off[i + 1]]).decode() for i in range(len(values))] == [str(x) for x in values]
    u = np.array([x % 2**64 for x in values], dtype=np.uint64)  # the whole UInt64 range
    off, data = FK.format_ints(u)
    assert [bytes(data[off[i]:off[i + 1]]).decode() for i in range(len(values))] == [str(int(x)) for x in u]


@settings(max_examples=80, deadline=None)
@given(st.lists(_alphabet, min_size=17, max_size=60), st.lists(_alphabet, min_size=0, max_size=12))
def test_in_sorted_set_matches_twin_and_python(items, values):
    off, data = _strings(items)
    got = C.in_sorted_set(off, data, values)
    uniq = sorted(set(values))
    so, sd = _strings(uniq)
    assert (got == C.in_sorted_set_numpy(off, data, so, sd)).all()
    assert got.tolist() == [x in set(values) for x in items]


@settings(max_examples=80, deadline=None)
@given(st.lists(st.lists(st.sampled_from([b" ", b"a", b"b", b"ab"]), max_size=6).map(b"".join),
                min_size=17, max_size=40), st.sampled_from([b"", b"a", b"b", b"ab", b"ba", b" "]))
def test_search_kernels_match_twins(items, needle):
    from mergetree.kernels import search as S

    off, data = _strings(items)
    got = S.find_first(off, data, needle)
    assert (got == S.find_first_numpy(off, data, needle)).all()
    assert got.tolist() == [x.find(needle) + 1 for x in items]
    for left, right in ((True, True), (True, False), (False, True)):
        start, end = S.trim_bounds(off, data, left, right)
        nstart, nend = S.trim_bounds_numpy(off, data, left, right)
        assert (start == nstart).all() and (end == nend).all()
        o, d = S.gather_ranges(data, start, end)
        want = [x.strip(b" ") if left and right else (x.lstrip(b" ") if left else x.rstrip(b" ")) for x in items]
        assert [bytes(d[o[i]:o[i + 1]]) for i in range(len(items))] == want


_num_text = st.lists(st.sampled_from([b"", b"-", b"+", b"0", b"1", b"9", b".", b"e", b"E", b" ", b"x",
                                      b"inf", b"NaN", b"99999999999"]), max_size=5).map(b"".join)


@settings(max_examples=120, deadline=None)
@given(st.lists(_num_text, min_size=17, max_size=50))
def test_number_parsing_kernels_match_twins(texts):
    import re

    from mergetree.kernels import numparse as NP

    off, data = _strings(texts)
    got = NP.parse_ints(off, data)
    twin = NP.parse_ints_numpy(off, data)
    assert all((a == b).all() for a, b in zip(got, twin))
    mag, neg, status = got
    for t, m, ng, stt in zip(texts, mag, neg, status):
        if re.fullmatch(rb"[+-]?\d+", t):
            v = int(t)
            assert stt == (1 if abs(v) < 2**64 else 2)
            if stt == 1:
                assert (int(m), bool(ng)) == (abs(v), t.startswith(b"-"))
        else:
            assert stt == 0
    assert (NP.float_syntax(off, data) == NP.float_syntax_reference(texts)).all()


def test_json_kernels_agree_with_python_json():
    """locate/unescape against Python's json module on random (sometimes broken) documents."""
    import json as pyjson

    from mergetree.kernels import json as J

    rng = np.random.default_rng(8)
    texts, parsed = [], []
    for _ in range(300):
        d = {str(rng.choice(["a", "b", "é", "k\"q"])): rng.choice(["x", "ünï", 'q"t\\', "\n", 5, None, True])
             for _ in range(rng.integers(0, 4))}
        d["arr"] = [int(v) for v in rng.integers(-9, 9, rng.integers(0, 4))]
        t = pyjson.dumps(d, ensure_ascii=bool(rng.integers(0, 2)), indent=None if rng.integers(0, 2) else 1)
        if rng.random() < 0.2:
            t = t[: rng.integers(0, len(t))] + str(rng.choice(["", ",", "}", "x"]))
        try:
            parsed.append(pyjson.loads(t))
        except ValueError:
            parsed.append(None)
        texts.append(t.encode())
    off, data = _strings(texts)
    for key in ["a", "é", "k\"q", "arr"]:
        kb = key.encode()
        start = np.empty(len(texts), np.int64)
        end = np.empty(len(texts), np.int64)
        vtype = np.empty(len(texts), np.int64)
        count = np.empty(len(texts), np.int64)
        J.locate(off, data, np.array([0]), np.array([0, len(kb)]), np.frombuffer(kb, np.uint8).copy(),
                 np.array([0]), start, end, vtype, count)
        out = np.zeros(len(data) + 1, np.uint8)
        out_len = np.zeros(len(texts), np.int64)
        J.unescape(data, start, end, out, out_len)
        for i, doc in enumerate(parsed):
            if doc is None or key not in doc:
                assert vtype[i] == J.T_MISSING, (texts[i], key)
                continue
            v = doc[key]
            assert pyjson.loads(bytes(data[start[i]:end[i]])) == v
            if isinstance(v, str):
                assert vtype[i] == J.T_STRING
                assert bytes(out[start[i]:start[i] + out_len[i]]).decode() == v
            if isinstance(v, list):
                assert vtype[i] == J.T_ARRAY and count[i] == len(v)


def test_siphash_kernel_matches_reference():
    from mergetree.kernels import siphash as SH

    rng = np.random.default_rng(12)
    items = [bytes(rng.integers(0, 256, rng.integers(0, 40)).astype(np.uint8)) for _ in range(300)]
    off, data = _strings(items)
    assert SH.hash_rows(off, data).tolist() == [SH.siphash64_reference(x) for x in items]
    assert SH.siphash64_reference(b"hello") == 10142490492830962361  # ClickHouse's value


def test_cityhash_kernel_matches_reference():
    from mergetree.kernels import cityhash as C

    rng = np.random.default_rng(13)
    items = [bytes(rng.integers(0, 256, k).astype(np.uint8)) for k in list(range(0, 150)) + [257, 1000]]
    off, data = _strings(items)
    assert C.hash_rows(off, data).tolist() == [C.cityhash64_reference(x) for x in items]
    assert C.cityhash64_reference(b"hello") == 2578220239953316063  # ClickHouse's value
