"""kernels.search.gather_ranges (numba byte loop) against its numpy twin and Python slicing, on
random byte ranges including empty and inverted ones (end < start gives an empty value)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from mergetree.kernels.search import gather_ranges, gather_ranges_numpy


@settings(max_examples=60, deadline=None)
@given(st.binary(min_size=1, max_size=300), st.lists(st.tuples(st.integers(0, 299), st.integers(-5, 40)),
                                                      min_size=0, max_size=80))
def test_gather_ranges_matches_twin_and_slices(blob, spans):
    data = np.frombuffer(blob, np.uint8)
    start = np.array([min(a, len(blob) - 1) for a, _ in spans], np.int64)
    end = np.array([min(max(a, 0) + d, len(blob)) for (a, d) in zip(start.tolist(), [d for _, d in spans])],
                   np.int64)
    offsets, out = gather_ranges(data, start, end)
    o2, d2 = gather_ranges_numpy(data, start, end)
    assert (offsets == o2).all() and (out == d2).all()
    got = [out[offsets[i]:offsets[i + 1]].tobytes() for i in range(len(start))]
    assert got == [blob[a:b] if b > a else b"" for a, b in zip(start.tolist(), end.tolist())]
