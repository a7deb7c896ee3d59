"""Per-query execution context: settings and the statistics ClickHouse reports
(rows_read, bytes_read, elapsed)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class ExecutionContext:
    settings: dict = field(default_factory=dict)
    rows_read: int = 0
    bytes_read: int = 0
    started: float = field(default_factory=time.perf_counter)
    #: rows before the outermost LIMIT (JSON's rows_before_limit_at_least)
    rows_before_limit: int | None = None

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def statistics(self) -> dict:
        return {"elapsed": self.elapsed, "rows_read": self.rows_read, "bytes_read": self.bytes_read}
