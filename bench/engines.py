"""One adapter per benchmarked engine: mergetree (embedded), chDB (ClickHouse in-process), DuckDB.

Every adapter owns one *store* directory, loads the events table from the same Parquet file, runs
SQL in its own dialect and returns rows as plain Python tuples (normalised later by
``bench.runner.normalize_rows``).  The runner starts each engine in its own subprocess
(``python -m bench.runner --worker ...``) so that peak memory (VmHWM) is per engine and chDB gets
the one data path it allows per process; tests may run adapters in-process.

    adapter = ENGINES["duckdb"](store_dir, threads=2)
    adapter.load(parquet_path, bench.datasets.get("events"))   # CREATE + ingest (timed by the caller)
    adapter.optimize()                # merge to one part where that means something
    rows = adapter.query("SELECT count() FROM events")
    adapter.close()

An adapter constructed on an existing store reopens it (used for the cold-start measurement).
"""

from __future__ import annotations

import importlib
from pathlib import Path



class EngineAdapter:
    """Base class: `name`, `dialect` ('clickhouse' or 'duckdb'), and the four methods below."""

    name = "?"
    dialect = "clickhouse"

    def __init__(self, store: Path, threads: int | None = None):
        self.store = Path(store)
        self.threads = threads

    @staticmethod
    def version() -> str:
        raise NotImplementedError

    def load(self, parquet: Path, dataset) -> None:
        """CREATE TABLE dataset.table (dataset.schema) sorted by dataset.order_by; load the file."""
        raise NotImplementedError

    def warm_up(self) -> None:
        """Pay one-time costs (lazy imports, JIT caches) before the timed load; default: nothing."""

    def optimize(self, dataset) -> None:
        pass

    def table_bytes(self, dataset) -> int | None:
        """Bytes on disk of the table's data alone (the store may also hold logs, metadata)."""
        return None

    def table_parts(self, dataset) -> int | None:
        """Active parts after OPTIMIZE FINAL (engines with parts), else None."""
        return None

    def query(self, sql: str) -> list[tuple]:
        raise NotImplementedError

    def interrupt(self) -> bool:
        """Stop the query running in another thread (the runner's per-query timeout); False when
        the engine cannot (the runner then relies on `set_query_timeout` or kills the worker)."""
        return False

    def set_query_timeout(self, seconds: float | None) -> None:
        """Let the engine itself stop queries after `seconds` (where it has such a setting)."""

    def close(self) -> None:
        pass

    @staticmethod
    def classify_error(exc: BaseException) -> str:
        """'unsupported' for a feature the engine does not have (yet), else 'error'."""
        return "error"


# --------------------------------------------------------------------------- mergetree


def _arrow_strings(arr):
    """A pyarrow string array -> bench.gen_events.Strings (offsets int64 from 0, uint8 data)."""
    import numpy as np
    import pyarrow as pa

    from bench.gen_events import Strings

    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    arr = arr.cast(pa.large_string())
    if arr.null_count:
        raise ValueError("mergetree adapter: NULL in a String column of the Parquet input")
    _, off_buf, data_buf = arr.buffers()
    offsets = np.frombuffer(off_buf, dtype=np.int64)[arr.offset : arr.offset + len(arr) + 1]
    data = np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else np.zeros(0, np.uint8)
    start, end = int(offsets[0]), int(offsets[-1])
    return Strings(offsets - start, data[start:end])


def parquet_blocks(parquet: Path, dataset):
    """Yield the Parquet file as mergetree Blocks, one per row group (types from dataset.schema)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from mergetree.column import Block, FixedColumn
    from mergetree.types import parse_type

    types = [(name, parse_type(t)) for name, t in dataset.columns()]
    f = pq.ParquetFile(str(parquet))
    for i in range(f.num_row_groups):
        t = f.read_row_group(i)
        cols = {}
        for name, typ in types:
            a = t.column(name).combine_chunks()
            tn = typ.name
            if tn == "String":
                cols[name] = _arrow_strings(a).to_column()
            elif tn.startswith("DateTime"):
                secs = a if pa.types.is_integer(a.type) else a.cast(pa.timestamp("s", tz="UTC"))
                secs = secs.cast(pa.int64())
                cols[name] = FixedColumn(typ, secs.to_numpy(zero_copy_only=False).astype(np.uint32))
            elif tn == "Date":
                days = a.cast(pa.int32()).to_numpy(zero_copy_only=False)
                cols[name] = FixedColumn(typ, days.astype(np.uint16))
            else:
                arr = a.to_numpy(zero_copy_only=False)
                cols[name] = FixedColumn(typ, np.ascontiguousarray(arr, dtype=arr.dtype))
        yield Block(cols)


class MergeTreeEngine(EngineAdapter):
    name = "mergetree"
    dialect = "clickhouse"

    def __init__(self, store: Path, threads: int | None = None):
        super().__init__(store, threads)
        import threading

        import mergetree

        self.db = mergetree.connect(str(self.store / "db"), background_merges=False)
        self.settings = {"max_threads": threads} if threads else None
        self._cancel = threading.Event()

    @staticmethod
    def version() -> str:
        import subprocess

        import mergetree

        root = Path(mergetree.__file__).resolve().parent.parent
        try:
            rev = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
                                 capture_output=True, text=True, timeout=5).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            rev = ""
        return f"git {rev}" if rev else "unknown"

    def load(self, parquet: Path, dataset) -> None:
        from mergetree.sql import execute

        execute(self.db, f"CREATE TABLE {dataset.table} ({dataset.schema}) ENGINE = MergeTree "
                         f"ORDER BY ({dataset.order_by})")
        for block in parquet_blocks(parquet, dataset):
            self.db.insert(dataset.table, block)

    def warm_up(self) -> None:
        """Insert 1,000 generated rows into a scratch table and query it: loads numba caches and
        lazily imported modules, so the timed load measures steady-state ingest."""
        from bench.gen_events import EVENTS_SCHEMA, events_block, generate_events
        from mergetree.sql import execute

        execute(self.db, f"CREATE TABLE _warmup ({EVENTS_SCHEMA}) ENGINE = MergeTree "
                         f"ORDER BY (timestamp, user_id)")
        self.db.insert("_warmup", events_block(generate_events(1000, seed=1)))
        execute(self.db, "SELECT event_type, count() FROM _warmup GROUP BY event_type")
        execute(self.db, "DROP TABLE _warmup")

    def optimize(self, dataset) -> None:
        self.db.optimize(dataset.table, final=True)

    def table_bytes(self, dataset) -> int | None:
        return sum(p["bytes_on_disk"] for p in self.db.table(dataset.table).parts() if p.get("active", True))

    def table_parts(self, dataset) -> int | None:
        return sum(1 for p in self.db.table(dataset.table).parts() if p.get("active", True))

    def query(self, sql: str) -> list[tuple]:
        from mergetree.sql import execute

        self._cancel.clear()
        return execute(self.db, sql, settings=self.settings, cancel=self._cancel).rows

    def interrupt(self) -> bool:
        self._cancel.set()          # QUERY_WAS_CANCELLED at the query's next block
        return True

    def close(self) -> None:
        self.db.close()

    @staticmethod
    def classify_error(exc: BaseException) -> str:
        """A clean MergeTreeError (unknown function, not implemented, a type the binder rejects...)
        means the engine cannot run that query *yet*: 'unsupported'.  A raw Python exception
        (TypeError, IndexError...) escaping the engine is a bug: 'error'."""
        from mergetree.errors import MergeTreeError

        if isinstance(exc, (MergeTreeError, NotImplementedError)):
            return "unsupported"
        return "error"


# --------------------------------------------------------------------------- chDB


class ChdbEngine(EngineAdapter):
    """chDB: one Session with its own data path (chDB allows one data path per process)."""

    name = "chdb"
    dialect = "clickhouse"

    def __init__(self, store: Path, threads: int | None = None):
        super().__init__(store, threads)
        from chdb import session

        self.session = session.Session(str(self.store / "chdb"))
        self.session.query("SET session_timezone = 'UTC'")
        self.session.query("SET output_format_json_quote_64bit_integers = 0")
        self.session.query("SET output_format_json_quote_denormals = 1")
        if threads:
            self.session.query(f"SET max_threads = {int(threads)}")

    @staticmethod
    def version() -> str:
        import chdb

        return chdb.__version__

    def load(self, parquet: Path, dataset) -> None:
        self.session.query(f"CREATE TABLE {dataset.table} ({dataset.schema}) ENGINE = MergeTree "
                           f"ORDER BY ({dataset.order_by})")
        self.session.query(f"INSERT INTO {dataset.table} SELECT * FROM file('{parquet}', Parquet, "
                           f"'{dataset.schema}')")

    def optimize(self, dataset) -> None:
        self.session.query(f"OPTIMIZE TABLE {dataset.table} FINAL")

    def table_bytes(self, dataset) -> int | None:
        rows = self.query(f"SELECT sum(bytes_on_disk) FROM system.parts WHERE active "
                          f"AND database = currentDatabase() AND table = '{dataset.table}'")
        return int(rows[0][0]) if rows else None

    def table_parts(self, dataset) -> int | None:
        rows = self.query(f"SELECT count() FROM system.parts WHERE active "
                          f"AND database = currentDatabase() AND table = '{dataset.table}'")
        return int(rows[0][0]) if rows else None

    def query(self, sql: str) -> list[tuple]:
        import json

        out = self.session.query(sql, "JSONCompact").bytes()
        if not out:
            return []
        return [tuple(r) for r in json.loads(out)["data"]]

    def set_query_timeout(self, seconds: float | None) -> None:
        self.session.query(f"SET max_execution_time = {float(seconds or 0)}")   # TIMEOUT_EXCEEDED

    def close(self) -> None:
        self.session.close()

    @staticmethod
    def classify_error(exc: BaseException) -> str:
        text = str(exc)
        return "unsupported" if ("NOT_IMPLEMENTED" in text or "UNKNOWN_FUNCTION" in text) else "error"


# --------------------------------------------------------------------------- DuckDB


class DuckdbEngine(EngineAdapter):
    """DuckDB in-process, a database file in the store; rows sorted by the same key at load."""

    name = "duckdb"
    dialect = "duckdb"

    def __init__(self, store: Path, threads: int | None = None):
        super().__init__(store, threads)
        import duckdb

        self.store.mkdir(parents=True, exist_ok=True)
        self.con = duckdb.connect(str(self.store / "events.duckdb"))
        self.con.execute("SET TimeZone = 'UTC'")
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")

    @staticmethod
    def version() -> str:
        import duckdb

        return duckdb.__version__

    def load(self, parquet: Path, dataset) -> None:
        import pyarrow.parquet as pq

        physical = pq.read_schema(str(parquet))
        select = ", ".join(_duckdb_column(name, t, physical.field(name).type)
                           for name, t in dataset.columns())
        self.con.execute(f"CREATE TABLE {dataset.table} AS SELECT {select} "
                         f"FROM read_parquet('{parquet}') ORDER BY {dataset.order_by}")
        self.con.execute("CHECKPOINT")

    def table_bytes(self, dataset) -> int | None:
        """The database file holds only this table (after CHECKPOINT)."""
        return (self.store / "events.duckdb").stat().st_size

    def query(self, sql: str) -> list[tuple]:
        return self.con.execute(sql).fetchall()

    def interrupt(self) -> bool:
        self.con.interrupt()
        return True

    def close(self) -> None:
        self.con.close()

    @staticmethod
    def classify_error(exc: BaseException) -> str:
        name = type(exc).__name__
        return "unsupported" if name in {"NotImplementedException", "CatalogException"} else "error"


def _duckdb_column(name: str, ch_type: str, arrow_type) -> str:
    """DuckDB select expression turning a Parquet column into the dataset's type: timestamps or
    unix seconds -> TIMESTAMP (UTC wall time), day numbers -> DATE, binary -> VARCHAR (the real
    ClickBench hits.parquet stores EventTime as Int64, EventDate as UInt16, strings as binary)."""
    import pyarrow as pa

    if ch_type.startswith("DateTime"):
        expr = f"to_timestamp({name})" if pa.types.is_integer(arrow_type) else name
        return f"CAST({expr} AS TIMESTAMP) AS {name}"      # session TimeZone is UTC
    if ch_type == "Date" and pa.types.is_integer(arrow_type):
        return f"CAST(DATE '1970-01-01' + CAST({name} AS INTEGER) AS DATE) AS {name}"
    if ch_type == "String" and (pa.types.is_binary(arrow_type) or pa.types.is_large_binary(arrow_type)):
        return f"CAST({name} AS VARCHAR) AS {name}"
    return name


ENGINES: dict[str, type[EngineAdapter]] = {
    "mergetree": MergeTreeEngine,
    "chdb": ChdbEngine,
    "duckdb": DuckdbEngine,
}

_PROBE_MODULES = {"mergetree": "mergetree", "chdb": "chdb", "duckdb": "duckdb"}


def resolve(spec: str) -> type[EngineAdapter]:
    """An engine name from ENGINES, or 'package.module:ClassName' (used by tests for fakes)."""
    if spec in ENGINES:
        return ENGINES[spec]
    if ":" in spec:
        mod, _, attr = spec.partition(":")
        return getattr(importlib.import_module(mod), attr)
    raise ValueError(f"unknown engine {spec!r}; expected one of {', '.join(ENGINES)} or module:Class")


def available(names) -> tuple[list[str], dict[str, str]]:
    """Split engine names into (installed, {skipped: reason})."""
    ok, skipped = [], {}
    for n in names:
        mod = _PROBE_MODULES.get(n)
        if mod is None:
            ok.append(n)
            continue
        try:
            importlib.import_module(mod)
            ok.append(n)
        except ImportError as e:
            skipped[n] = f"not installed ({e})"
    return ok, skipped
