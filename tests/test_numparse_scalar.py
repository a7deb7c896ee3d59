"""parse_ints' one-value fast path (a constant such as toInt32('30')) answers exactly as the
array path (parse_ints_numpy, itself the numba kernel's twin)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings, strategies as st

from mergetree.kernels import numparse

EDGES = [b"30", b"-0", b"+5", b"-", b"+", b"", b"12a", b" 1", b"1 ", b"18446744073709551615",
         b"18446744073709551616", b"-9223372036854775808", "\u0663".encode(), "\u00b2".encode(), b"0x1",
         b"00012", b"1.0", b"99999999999999999999999", b"+-1", b"--1"]


def _both(text: bytes):
    offsets = np.array([0, len(text)], np.int64)
    data = np.frombuffer(text, np.uint8) if text else np.zeros(0, np.uint8)
    return numparse.parse_ints(offsets, data), numparse.parse_ints_numpy(offsets, data)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.sampled_from(EDGES), st.binary(max_size=24),
                 st.text(alphabet="0123456789+- a\u0663", max_size=24).map(str.encode)))
def test_one_value_matches_the_array_path(text):
    fast, ref = _both(text)
    for x, y in zip(fast, ref):
        assert x.dtype == y.dtype and np.array_equal(x, y), (text, fast, ref)


def test_known_values():
    (mag, neg, status), _ = _both(b"-42")
    assert (int(mag[0]), bool(neg[0]), int(status[0])) == (42, True, 1)
    (mag, neg, status), _ = _both(b"18446744073709551616")
    assert int(status[0]) == 2                       # overflow, from the array path
    (mag, neg, status), _ = _both(b"4x")
    assert int(status[0]) == 0
