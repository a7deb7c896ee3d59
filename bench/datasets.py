"""The generated datasets a suite can run on: table name, schema, sorting key, Parquet writer.

A suite file names its dataset in a `-- dataset: <name>` header line (default: events).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Dataset:
    name: str
    table: str
    schema: str                    # ClickHouse column list, e.g. "a UInt32, b String"
    order_by: str                  # sorting key (ClickHouse ORDER BY, DuckDB load order)
    write_parquet: Callable        # (path, rows, seed) -> bytes written

    def columns(self) -> list[tuple[str, str]]:
        out = []
        depth, cur = 0, ""
        for ch in self.schema + ",":
            if ch == "," and depth == 0:
                name, _, t = cur.strip().partition(" ")
                out.append((name, t.strip()))
                cur = ""
                continue
            depth += ch == "("
            depth -= ch == ")"
            cur += ch
        return out


def _events_writer(path, rows, seed):
    from bench.gen_events import write_parquet

    return write_parquet(path, rows, seed)


def _hits_writer(path, rows, seed):
    from bench.gen_hits import write_parquet

    return write_parquet(path, rows, seed)


def _events() -> Dataset:
    from bench.gen_events import EVENTS_SCHEMA

    return Dataset("events", "events", EVENTS_SCHEMA, "timestamp, user_id", _events_writer)


def _hits() -> Dataset:
    from bench.gen_hits import HITS_ORDER_BY, HITS_SCHEMA

    return Dataset("hits", "hits", HITS_SCHEMA, HITS_ORDER_BY, _hits_writer)


_FACTORIES = {"events": _events, "hits": _hits}


def get(name: str) -> Dataset:
    try:
        return _FACTORIES[name]()
    except KeyError:
        raise ValueError(f"unknown dataset {name!r}; expected one of {', '.join(_FACTORIES)}") from None
