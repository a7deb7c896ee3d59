"""Run every tests/queries/NNNNN_topic.sql through mergetree and compare with the .reference
that chDB generated (tests/queries/generate_references.py). Also with all optimizer rules off:
the rules must never change a result."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "queries"))

from golden import query_files, statements  # noqa: E402

import mergetree  # noqa: E402
from mergetree.errors import MergeTreeError  # noqa: E402
from mergetree.sql import execute  # noqa: E402


def run_file(path: Path, settings: dict | None = None) -> bytes:
    out = []
    with mergetree.connect(background_merges=False) as db:
        for sql, error in statements(path):
            if error is not None:
                with pytest.raises(MergeTreeError) as info:
                    execute(db, sql, settings=settings)
                assert info.value.code == error, f"{sql!r}: expected {error}, got {info.value.code}: {info.value}"
                continue
            out.append(execute(db, sql, settings=settings).format())
    return b"".join(out)


FILES = query_files()


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_golden(path):
    expected = path.with_suffix(".reference").read_bytes()
    got = run_file(path)
    assert got.decode() == expected.decode()


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_golden_without_optimizer(path):
    expected = path.with_suffix(".reference").read_bytes()
    assert run_file(path, {"optimizer_disabled_rules": "all"}).decode() == expected.decode()
