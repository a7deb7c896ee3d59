"""Parquet output (``FORMAT Parquet``, ``res.format("Parquet")``) through pyarrow, an optional
extra: ``pip install pyarrow`` (part of ``mergetree[bench]``).

The Arrow table comes from `mergetree.formats.arrow.to_arrow` (ClickHouse's type mapping: see
that module; non-Nullable columns are declared ``not null`` as ClickHouse does). The file bytes
are not identical to ClickHouse's writer (different writer library); the decoded schema and
values are what tests/test_formats_pretty.py compares with chDB's Parquet.
"""

from __future__ import annotations

import io


def write_parquet(result) -> bytes:
    from mergetree.formats.arrow import require_pyarrow, to_arrow

    pq = require_pyarrow("FORMAT Parquet", "pyarrow.parquet")
    sink = io.BytesIO()
    pq.write_table(to_arrow(result), sink, compression="zstd")
    return sink.getvalue()
