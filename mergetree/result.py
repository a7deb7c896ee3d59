"""Result of a statement: column names and types, the rows, statistics, and output formats.

    res = db.sql("SELECT event_type, count() AS c FROM events GROUP BY event_type")
    res.columns      # [('event_type', 'String'), ('c', 'UInt64')]
    res.rows         # [('click', 10), ...]
    res.to_dicts()   # [{'event_type': 'click', 'c': 10}, ...]
    res.to_numpy()   # {'event_type': array([...]), 'c': array([...], dtype=uint64)}
    res.statistics   # {'elapsed': 0.001, 'rows_read': 1000, 'bytes_read': 8000}
    res.to_arrow(), res.to_pandas()   # when pyarrow / pandas are installed
    res.format("JSON")  # bytes, byte-compatible with ClickHouse; format() uses the FORMAT clause
"""

from __future__ import annotations

from functools import cached_property

import numpy as np


class Result:
    def __init__(self, schema: list, columns: list, *, statistics: dict | None = None,
                 format_name: str | None = None, rows_before_limit: int | None = None):
        self.schema = list(schema)                # [(name, DataType)]
        self.column_data = list(columns)          # Columns, same order (names may repeat)
        self.statistics = statistics or {"elapsed": 0.0, "rows_read": 0, "bytes_read": 0}
        self.format_name = format_name
        self.rows_before_limit = rows_before_limit

    @classmethod
    def empty(cls, statistics: dict | None = None) -> "Result":
        """The result of a statement that returns nothing (CREATE, INSERT ...)."""
        return cls([], [], statistics=statistics)

    @property
    def columns(self) -> list[tuple[str, str]]:
        return [(n, t.name) for n, t in self.schema]

    @property
    def names(self) -> list[str]:
        return [n for n, _ in self.schema]

    @property
    def num_rows(self) -> int:
        return len(self.column_data[0]) if self.column_data else 0

    def __len__(self) -> int:
        return self.num_rows

    @cached_property
    def rows(self) -> list[tuple]:
        if not self.column_data:
            return []
        return list(zip(*(c.to_pylist() for c in self.column_data)))

    def to_dicts(self) -> list[dict]:
        names = self.names
        return [dict(zip(names, r)) for r in self.rows]

    def to_numpy(self) -> dict[str, np.ndarray]:
        """Column name -> numpy array (numbers as their dtype, strings as a numpy str array)."""
        out = {}
        for (name, t), col in zip(self.schema, self.column_data):
            values = getattr(col, "values", None)
            if isinstance(values, np.ndarray) and values.ndim == 1 and not hasattr(col, "nulls"):
                out[name] = values
            else:
                out[name] = np.array(col.to_pylist())
        return out

    def to_arrow(self):
        """A pyarrow.Table (needs pyarrow; types as ClickHouse's Arrow output, formats/arrow.py)."""
        from mergetree.formats.arrow import to_arrow

        return to_arrow(self)

    def to_pandas(self):
        """A pandas.DataFrame (needs pandas; through Arrow when pyarrow is installed)."""
        from mergetree.formats.arrow import to_pandas

        return to_pandas(self)

    def format(self, name: str | None = None) -> bytes:
        from mergetree.formats import write

        return write(self, name or self.format_name or "TabSeparated")

    def __repr__(self) -> str:
        return f"Result({self.columns}, {self.num_rows} rows)"
