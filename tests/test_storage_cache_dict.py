"""A dict_string column's dictionary is built once per part (storage/part._dictionary): reads after
the first equal the reads of a freshly opened part (no remembered dictionary), with and without the
uncompressed cache, with and without a row mask."""
from __future__ import annotations

import numpy as np

from mergetree.storage.part import DataPart
from tests.test_storage_cache import _part, cache  # noqa: F401 - fixture


def test_remembered_dictionary_reads_equal_fresh_reads(tmp_path, cache):  # noqa: F811
    part, block = _part(tmp_path, n=20_000)
    assert part._serialization["s"]["kind"] == "dict_string"     # the case under test
    rng = np.random.default_rng(3)
    for i in range(30):
        a = int(rng.integers(0, part.marks))
        ranges = [(a, min(part.marks, a + int(rng.integers(1, 3))))]
        rows = int(part.granule_rows[ranges[0][0]:ranges[0][1]].sum())
        mask = rng.random(rows) < 0.3 if i % 2 else None
        use = cache if i % 3 else None
        fresh = DataPart.open(part.path)
        want = fresh.read(["s"], ranges, mask=mask)["s"].to_pylist()
        got = part.read(["s"], ranges, cache=use, copy=bool(i % 4), mask=mask)["s"].to_pylist()
        assert got == want
        start = int(part.granule_rows[:a].sum())
        expect = block["s"].to_pylist()[start:start + rows]
        assert want == (expect if mask is None else [v for v, m in zip(expect, mask) if m])
    assert "\0dict" in part._serialization["s"]
