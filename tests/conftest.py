"""Shared pytest fixtures (keep generic; other test modules may append fixtures here)."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def chdb_query():
    """``chdb_query(sql, fmt='TabSeparated') -> str``: run SQL in chDB (embedded ClickHouse), the
    independent oracle. Skips the test when chDB is not installed."""
    chdb = pytest.importorskip("chdb")

    def run(sql: str, fmt: str = "TabSeparated") -> str:
        res = chdb.query(sql, fmt)
        return res.bytes().decode() if hasattr(res, "bytes") else str(res)

    return run
