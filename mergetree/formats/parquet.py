"""Parquet output (``FORMAT Parquet``, ``res.format("Parquet")``) through pyarrow, an optional
extra: ``pip install "mergetree[parquet]"`` or ``pip install pyarrow``.

The Arrow table comes from `mergetree.formats.arrow.to_arrow` (ClickHouse's Parquet type mapping:
UInt8..UInt64 -> uint8..uint64, Date -> date32, DateTime -> timestamp[s], String -> binary as
ClickHouse writes it by default (output_format_parquet_string_as_string = 0 in 26.x? see
to_arrow), Nullable -> nullable columns). Bytes are not identical to ClickHouse's writer; the
decoded table is what the tests compare with chDB's.
"""

from __future__ import annotations

import io


def write_parquet(result) -> bytes:
    from mergetree.formats.arrow import require_pyarrow, to_arrow

    pq = require_pyarrow("FORMAT Parquet", "pyarrow.parquet")
    sink = io.BytesIO()
    pq.write_table(to_arrow(result), sink, compression="zstd")
    return sink.getvalue()
