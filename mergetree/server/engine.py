"""Engine: the one narrow interface between the HTTP service and the database.

The HTTP layer (views, the Events API, the WAL flusher) talks to data only through this class:

* :meth:`Engine.run` runs a rendered SQL statement and returns a ``Result``;
* :meth:`Engine.convert` / :meth:`Engine.insert_block` turn input rows into a block and append
  it to a data source (a table) as new parts;
* :meth:`Engine.describe` / :meth:`Engine.create_datasource` / :meth:`Engine.drop_datasource` /
  :meth:`Engine.truncate` / :meth:`Engine.delete_rows` manage data sources;
* :meth:`Engine.insert_watermark` / :meth:`Engine.not_committed_since` are what the write-ahead
  log needs to make replay idempotent (see ``wal.py``).

A later deployment can put a ClickHouse cluster behind the same methods; nothing else in
``mergetree.server`` imports storage modules.

Writes are serialized by ``write_lock`` (inserts of the flusher, appends, truncates, deletes,
SQL statements that are not reads). Reads run concurrently with everything (storage snapshots).
The WAL's replay argument depends on this: between a flush's watermark and its commit, no other
writer allocates block numbers in the table.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import threading
import time
import uuid
from pathlib import Path

import numpy as np
import orjson

from mergetree.errors import BadArgumentsError, MergeTreeError, UnknownTableError

QUARANTINE_SUFFIX = "_quarantine"
#: tables of the service data sources (``tinybird.X`` = table ``tinybird__X``, server/service_ds.py)
SERVICE_PREFIX = "tinybird__"
QUARANTINE_EXTRA = [("c__error_column", "Array(String)"), ("c__error", "Array(String)"),
                    ("c__import_id", "Nullable(String)"), ("insertion_date", "DateTime")]
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
#: statement classes a non-admin token may run through /v0/sql
_READ_STATEMENTS = ("Select", "SetOperation", "Describe", "Show", "Explain", "ExistsStatement")


def preload_engine_modules() -> None:
    """Import the query engine (parser, planner, executor, converters) in the calling thread: the
    service calls it before starting its background threads, because two threads importing packages
    with import cycles at the same time can see one half-initialised."""
    import mergetree.convert  # noqa: F401
    import mergetree.sql  # noqa: F401


class Engine:
    def __init__(self, tables_dir: Path, registry_path: Path, *, merge_interval: float = 1.0):
        from mergetree.database import Database

        self.db = Database(tables_dir, merge_interval=merge_interval)
        self.write_lock = threading.RLock()
        self._registry_path = Path(registry_path)
        self._registry: dict[str, dict] = {}
        if self._registry_path.exists():
            self._registry = orjson.loads(self._registry_path.read_bytes())
        self._reg_lock = threading.Lock()
        self.workers = None             # mergetree.replica.WorkerPool with `serve --workers N`
        #: with workers, a pipe call that is the only one in flight runs here (PipeCall); tests turn it
        #: off (MERGETREE_WORKERS_LOCAL_WHEN_ALONE=0) to send every call to the workers
        self.local_when_alone = os.environ.get("MERGETREE_WORKERS_LOCAL_WHEN_ALONE", "1") != "0"
        self._calls = 0
        self._calls_lock = threading.Lock()
        self._here = threading.local()  # .on: this thread's reads run in-process (PipeCall.placed)

    def start_workers(self, n: int) -> None:
        """Run SELECTs in ``n`` read-only worker processes (``mergetree/replica.py``)."""
        from mergetree.replica import WorkerPool

        if n and self.workers is None:
            self.workers = WorkerPool(self.pin_tables, self.view_targets, n)

    def pin_tables(self) -> dict:
        """{table: (table, Snapshot)} of every table now: what a worker may read until released."""
        out = {}
        for name in self.db.tables():
            try:
                table = self.db.table(name)
                out[name] = (table, table.snapshot())
            except UnknownTableError:       # dropped (renamed, exchanged) meanwhile: snapshot() refuses
                continue                    # a retired table; raising would leak the pins taken so far
        return out

    def pipe_call(self, remote: bool = True) -> "PipeCall":
        """Where a pipe endpoint call runs (``server/pipes.pipe_data``): ``with call:`` around the whole
        request (counted from its arrival, queued for a query thread included), and on the query
        thread ``with call.placed() as remote:`` -> whether to hand the whole call to a worker
        (:meth:`run_pipe`). ``remote=False`` (``q=``): the call is compiled here."""
        return PipeCall(self, remote)

    def run_pipe(self, pipes: dict, pipe_name: str, params: dict, ext: str, row_policies=None,
                 started: float | None = None):
        """With ``serve --workers N``: a pipe endpoint call (no ``q=``) compiled, run and encoded in a
        query worker, so the server only pins the tables and relays bytes: ``(body, (rows read, bytes
        read, rows))``; None when there are no workers or the worker declined (the caller then
        compiles and runs it the usual way, :meth:`run`). Engine errors are raised as in :meth:`run`."""
        if self.workers is None:
            return None
        from mergetree.replica import FALLBACK

        out = self.workers.run_pipe(pipes, pipe_name, params, ext, row_policies,
                                    time.perf_counter() if started is None else started)
        return None if out is FALLBACK else out

    def view_targets(self) -> dict[str, str]:
        return {v.name: v.target for v in self.db.views.all()}

    def close(self) -> None:
        if self.workers is not None:
            self.workers.close()
        self.db.close()

    # ---------------------------------------------------------------- data sources

    def exists(self, name: str) -> bool:
        """A data source: service data sources (``tinybird__X``, server/service_ds.py) are not ones."""
        return not name.startswith(SERVICE_PREFIX) and name in self.db.tables()

    def require(self, name: str) -> None:
        if not self.exists(name):
            raise UnknownTableError(f"Data Source '{name}' not found")

    def datasource_names(self) -> list[str]:
        """User data sources (quarantine tables of existing data sources are hidden)."""
        names = [n for n in self.db.tables() if not n.startswith(SERVICE_PREFIX)]
        present = set(names)
        return [n for n in names if not (n.endswith(QUARANTINE_SUFFIX) and n[:-len(QUARANTINE_SUFFIX)] in present)]

    # ---- service data sources (server/service_ds.py): internal tables, written only by the server

    def create_service_table(self, name: str, schema: str, *, order_by: str, partition_by: str | None = None,
                             ttl: str | None = None, engine: str = "MergeTree") -> None:
        with self.write_lock:
            self.db.create_table(name, schema, engine=engine, order_by=order_by, partition_by=partition_by,
                                 ttl=ttl, if_not_exists=True)

    def create_service_view(self, view: str, target: str, schema: str, *, order_by: str, partition_by: str,
                            select: str) -> None:
        """An AggregatingMergeTree ``target`` fed by the materialized view ``view`` (once)."""
        with self.write_lock:
            self.db.create_table(target, schema, engine="AggregatingMergeTree", order_by=order_by,
                                 partition_by=partition_by, if_not_exists=True)
            self.db.create_materialized_view(view, target, select, if_not_exists=True)

    def insert_service_block(self, name: str, columns: dict) -> int:
        """Append rows (a dict of column lists) to a service table: one insert, normal parts. Not under
        ``write_lock``: no other writer touches these tables (the WAL's replay argument is per table), so
        the Events API's flusher never waits for it."""
        from mergetree.convert import rows_to_block

        block = rows_to_block(self.db.table(name).metadata.schema, columns)
        self.db.insert(name, block)
        return block.num_rows

    def schema(self, name: str) -> list[tuple]:
        return self.db.table(name).metadata.schema

    def create_datasource(self, name: str, schema: str, *, engine: str = "MergeTree", sorting_key=None,
                          partition_key=None, primary_key=None, ttl=None, settings=None,
                          description: str = "", jsonpaths: dict[str, str] | None = None) -> dict:
        """CREATE TABLE + the service's registry entry (id, description, JSONPaths per column)."""
        if not _NAME_RE.match(name or ""):
            raise BadArgumentsError(f"Invalid Data Source name '{name}': use letters, digits and '_', "
                                    f"not starting with a digit")
        with self.write_lock:
            self.db.create_table(name, schema, engine=engine, order_by=sorting_key or "tuple()",
                                 partition_by=partition_key or None, primary_key=primary_key or None,
                                 ttl=ttl or None, settings=settings or None)
            self._register(name, description, jsonpaths, replace=True)
        return self.describe(name)

    def _register(self, name: str, description: str = "", jsonpaths: dict | None = None,
                  replace: bool = False) -> dict:
        """The registry entry of a table (made on first sight for tables created through SQL)."""
        with self._reg_lock:
            entry = None if replace else self._registry.get(name)
            if entry is None:
                now = _now_text()
                entry = {"id": "t_" + uuid.uuid4().hex, "description": description,
                         "created_at": now, "updated_at": now, "jsonpaths": dict(jsonpaths or {})}
                self._registry[name] = entry
                self._save_registry()
            return entry

    def update_datasource_meta(self, name: str, *, description: str | None = None,
                               jsonpaths: dict[str, str] | None = None) -> bool:
        """Change what does not touch stored data (the description, the JSONPaths read at ingest);
        True when something changed."""
        self._register(name)
        with self._reg_lock:
            entry = self._registry[name]
            new = dict(entry)
            if description is not None:
                new["description"] = description
            if jsonpaths is not None:
                new["jsonpaths"] = dict(jsonpaths)
            if new == entry:
                return False
            new["updated_at"] = _now_text()
            self._registry[name] = new
            self._save_registry()
        return True

    def _save_registry(self) -> None:
        from mergetree.server.files import atomic_write

        atomic_write(self._registry_path, orjson.dumps(self._registry, option=orjson.OPT_INDENT_2))

    def drop_datasource(self, name: str) -> None:
        with self.write_lock:
            self.db.drop_table(name)
            self.db.drop_table(name + QUARANTINE_SUFFIX, if_exists=True)
            with self._reg_lock:
                if self._registry.pop(name, None) is not None:
                    self._save_registry()

    def truncate(self, name: str) -> int:
        with self.write_lock:
            n = self.db.truncate(name)
            if self.exists(name + QUARANTINE_SUFFIX):
                self.db.truncate(name + QUARANTINE_SUFFIX)
            return n

    def delete_rows(self, name: str, condition: str) -> int:
        """Lightweight DELETE FROM name WHERE condition; returns the rows deleted."""
        with self.write_lock:
            return self.db.delete(name, condition)

    # ---- schema changes (H6: server/schema.py, project migrations; storage/alter.py does the work)

    def add_columns(self, name: str, columns: list[tuple[str, str | None]]) -> None:
        """ALTER TABLE name ADD COLUMN for each ``(column SQL, JSONPath or None)``, at the end, and the
        same columns as Nullable(String) in its quarantine table; metadata-only (old rows read DEFAULT)."""
        from mergetree.storage.metadata import parse_column_def

        with self.write_lock:
            qname = name + QUARANTINE_SUFFIX
            for sql, _ in columns:
                self.db.alter_add_column(name, sql)
                if self.exists(qname):
                    c = parse_column_def(sql)
                    last = self.schema(name)[-2][0]
                    self.db.alter_add_column(qname, f"`{c.name}` Nullable(String)", if_not_exists=True, after=last)
            paths = {parse_column_def(sql).name: p for sql, p in columns if p}
            if paths:
                reg = self._register(name)
                self.update_datasource_meta(name, jsonpaths={**(reg.get("jsonpaths") or {}), **paths})

    def column_defaults(self, name: str) -> dict[str, tuple[str, str] | None]:
        """Column -> (DEFAULT | MATERIALIZED, expression printed canonically) or None."""
        return {c.name: (c.default_kind, self.normalize_condition(c.default)) if c.default else None
                for c in self.db.table(name).metadata.columns}

    def set_column_defaults(self, name: str, defaults: dict[str, tuple[str, str] | None]) -> None:
        """ALTER TABLE name MODIFY COLUMN c DEFAULT expr / REMOVE DEFAULT, all in one metadata change."""
        changes = [("remove_default", (c,), {}) if d is None else ("modify_column", (f"`{c}` {d[0]} {d[1]}",), {})
                   for c, d in defaults.items()]
        with self.write_lock:
            self.db.alter_columns(name, changes)

    def modify_ttl(self, name: str, ttl: str | None) -> None:
        with self.write_lock:
            self.db.alter_modify_ttl(name, ttl)

    def exchange(self, a: str, b: str) -> None:
        """Swap the contents of two data sources (same columns); names, descriptions, tokens stay."""
        with self.write_lock:
            self.db.exchange_tables(a, b, same_columns=True)

    def rename_datasource(self, old: str, new: str) -> None:
        if not _NAME_RE.match(new or ""):
            raise BadArgumentsError(f"Invalid Data Source name '{new}': use letters, digits and '_', "
                                    f"not starting with a digit")
        with self.write_lock:
            self.db.rename_table(old, new)
            if self.exists(old + QUARANTINE_SUFFIX):
                self.db.rename_table(old + QUARANTINE_SUFFIX, new + QUARANTINE_SUFFIX)
            with self._reg_lock:
                if old in self._registry:
                    self._registry[new] = self._registry.pop(old)
                    self._registry[new]["updated_at"] = _now_text()
                    self._save_registry()

    def upgrade_block(self, name: str, block):
        """Rows converted before an ALTER of ``name``'s columns -> the current columns, or None (also
        for a table never ALTERed: other columns then mean it was dropped and created again)."""
        from mergetree.storage.alter import upgrade_block

        try:
            metadata = self.db.table(name).metadata
            return upgrade_block(block, metadata) if metadata.version else None
        except Exception:  # noqa: BLE001 - the caller keeps its rule for blocks that do not fit
            return None

    def describe(self, name: str) -> dict:
        """Tinybird's data source description (``GET /v0/datasources/NAME``)."""
        table = self.db.table(name)
        m = table.metadata
        parts = table.parts()
        reg = self._register(name)
        paths = reg.get("jsonpaths") or {}
        columns = [{"name": c.name, "type": str(c.type), "nullable": str(c.type).startswith("Nullable("),
                    "jsonpath": paths.get(c.name),
                    "normalized_name": c.name, "codec": c.codec,
                    "default_value": f"{c.default_kind} {c.default}" if c.default_kind else None}
                   for c in m.columns]
        sql_schema = ", ".join(f"`{c.name}` {c.type}"     # with JSONPaths, as Tinybird (tb push --force compares it)
                               + (f" `json:{paths[c.name]}`" if paths.get(c.name) else "")
                               + (f" {c.default_kind} {c.default}" if c.default_kind else "")
                               + (f" CODEC({c.codec})" if c.codec else "") for c in m.columns)
        engine = {"engine": m.engine_name, "engine_full": self.engine_full(name),
                  "sorting_key": ", ".join(m.order_by) or "tuple()",
                  "partition_key": ", ".join(m.partition_by), "primary_key": ", ".join(m.primary_key),
                  "ttl": m.ttl or ""}
        return {"id": reg["id"], "name": name, "type": "ndjson", "description": reg.get("description", ""),
                "engine": engine, "schema": {"columns": columns, "sql_schema": sql_schema},
                "indexes": [], "statistics": {"bytes": int(sum(p["bytes_on_disk"] for p in parts)),
                                              "row_count": int(table.count())},   # after deletes
                "used_by": [], "tags": {}, "shared_with": [], "created_at": reg["created_at"],
                "updated_at": reg["updated_at"], "version": 0, "replicated": False, "headers": {},
                "quarantine_rows": self._count(name + QUARANTINE_SUFFIX)}

    def _count(self, name: str) -> int:
        if not self.exists(name):
            return 0
        return int(self.db.table(name).count())

    def engine_full(self, name: str) -> str:
        m = self.db.table(name).metadata
        text = m.engine
        if m.partition_by:
            text += f" PARTITION BY {_key(m.partition_by)}"
        if m.primary_key and m.primary_key != m.order_by:
            text += f" PRIMARY KEY {_key(m.primary_key)}"
        text += f" ORDER BY {_key(m.order_by) if m.order_by else 'tuple()'}"
        if m.ttl:
            text += f" TTL {m.ttl}"
        return text

    # ---------------------------------------------------------------- ingest

    def prepare_ndjson_kernels(self) -> None:
        """Start compiling (or loading from numba's cache) the NDJSON scanner in a background thread;
        until it is ready, Events API bodies take the orjson path (``convert.fast_ndjson_kernels``)."""
        from mergetree.convert import fast_ndjson_kernels

        fast_ndjson_kernels()

    def convert(self, name: str, rows):
        """Input rows (NDJSON bytes or a list of dicts) -> (Block of good rows, rejected rows)."""
        from mergetree.convert import rows_to_block_partial
        from mergetree.database import _default_callables   # TODO(lead): a public name for this

        table = self.db.table(name)
        paths = self._jsonpath_steps(name)
        if paths is None or not isinstance(rows, (bytes, bytearray, memoryview, str)):
            return rows_to_block_partial(table.metadata.schema, rows, defaults=_default_callables(table) or None)
        return self._convert_with_paths(table, rows, paths)

    def convert_columns(self, name: str, columns: dict):
        """Whole columns ({column: list or numpy array}) -> a Block of data source ``name`` in one call
        (DEFAULT expressions for missing or NULL values included). Raises ConversionError at the first
        value that does not convert: file imports (server/imports.py) then take :meth:`convert` on rows,
        which sets the bad rows aside."""
        from mergetree.convert import rows_to_block
        from mergetree.database import _default_callables

        table = self.db.table(name)
        return rows_to_block(table.metadata.schema, columns, defaults=_default_callables(table) or None)

    @staticmethod
    def convert_with_schema(schema: list, rows):
        """Rows (dicts or NDJSON bytes) -> (Block, rejected rows) for a schema [(name, type text)] of no
        data source: ``POST /v0/analyze`` (server/analyze.py) checks its guesses on the sample with it."""
        from mergetree.convert import rows_to_block_partial

        return rows_to_block_partial(schema, rows)

    def _jsonpath_steps(self, name: str) -> dict[str, list] | None:
        """Column -> JSONPath steps, or None when every column is read from its own top-level key."""
        paths = (self._registry.get(name) or {}).get("jsonpaths") or {}
        steps = {col: parse_jsonpath(p) for col, p in paths.items()}
        if all(s == [col] for col, s in steps.items()):
            return None
        return steps

    def _convert_with_paths(self, table, body, paths: dict[str, list]):
        """NDJSON whose columns come from JSONPaths: pick the values, then convert as usual.

        Row numbers in errors count every non-blank line, as ``rows_to_block_partial`` does.
        The picking is a Python loop over parsed rows (a later step: JSONExtract kernels).
        """
        from mergetree.convert import RejectedRow, rows_to_block_partial
        from mergetree.database import _default_callables
        from mergetree.errors import ConversionError

        data = body.encode() if isinstance(body, str) else bytes(body)
        picked, numbers, rejected = [], [], []
        lines = [ln for ln in data.split(b"\n") if ln.strip()]
        if len(lines) == 1 and lines[0].lstrip()[:1] == b"[":
            lines = [orjson.dumps(x) for x in _json_array(lines[0])]
        for number, line in enumerate(lines):
            try:
                doc = orjson.loads(line)
                if type(doc) is not dict:
                    raise ValueError("expected a JSON object per line")
            except ValueError as e:
                rejected.append(RejectedRow(number, line, ConversionError(
                    None, number, line, f"Malformed JSON at line {number + 1}: {e}", "INCORRECT_DATA")))
                continue
            picked.append({col: v for col, steps in paths.items() if (v := _pick(doc, steps)) is not None})
            numbers.append(number)
        block, bad = rows_to_block_partial(table.metadata.schema, picked, defaults=_default_callables(table) or None)
        rejected += [RejectedRow(numbers[r.row], r.raw, r.error.at(row=numbers[r.row])) for r in bad]
        return block, sorted(rejected, key=lambda r: r.row)

    def convert_csv(self, name: str, body: bytes, delimiter: str = ","):
        """CSV (header row optional: matched by name when every field names a column) -> convert().

        A line with another number of fields than the header/schema is rejected, not guessed.
        """
        import csv
        import io

        from mergetree.convert import RejectedRow
        from mergetree.errors import ConversionError

        columns = [n for n, _ in self.schema(name)]
        lines = [r for r in csv.reader(io.StringIO(body.decode("utf-8", "replace")), delimiter=delimiter) if r]
        first = [c.strip() for c in lines[0]] if lines else []
        header = columns
        if first and all(c in columns for c in first):
            header, lines = first, lines[1:]
        good, bad_rows = [], []
        for i, fields in enumerate(lines):       # csv module rows: the parse itself is per line
            if len(fields) == len(header):
                good.append(dict(zip(header, fields)))
            else:
                raw = dict(zip(header, fields))
                bad_rows.append(RejectedRow(i, raw, ConversionError(
                    None, i, delimiter.join(fields),
                    f"Expected {len(header)} fields ({', '.join(header)}), got {len(fields)}", "INCORRECT_DATA")))
        block, rejected = self.convert(name, good)
        return block, sorted(rejected + bad_rows, key=lambda r: r.row)

    def quarantine_block(self, name: str, rejected: list, import_id: str):
        """The rejected rows as a block of ``<name>_quarantine`` (values kept as text)."""
        from mergetree.convert import rows_to_block
        from mergetree.types import parse_type

        schema = self.quarantine_schema(name)
        columns = [n for n, _ in self.schema(name)]
        now = int(time.time())
        out = []
        for r in rejected:
            row = {"c__error_column": [r.error.column] if r.error.column else [],
                   "c__error": [str(r.error)], "c__import_id": import_id, "insertion_date": now}
            if isinstance(r.raw, dict):
                for c in columns:
                    v = r.raw.get(c)
                    row[c] = None if v is None else v if isinstance(v, str) else orjson.dumps(v).decode()
            else:   # a malformed line: no columns to keep, the raw text goes into the error
                raw = bytes(r.raw)[:1000].decode("utf-8", "replace")
                row["c__error"] = [f"{r.error}: {raw}"]
            out.append(row)
        return rows_to_block([(n, parse_type(t) if isinstance(t, str) else t) for n, t in schema], out)

    def quarantine_schema(self, name: str) -> list[tuple]:
        return [(n, "Nullable(String)") for n, _ in self.schema(name)] + QUARANTINE_EXTRA

    def ensure_quarantine(self, name: str) -> str:
        qname = name + QUARANTINE_SUFFIX
        with self.write_lock:
            if not self.exists(qname):
                schema = ", ".join(f"`{n}` {t}" for n, t in self.quarantine_schema(name))
                self.db.create_table(qname, schema, engine="MergeTree", order_by="insertion_date",
                                     if_not_exists=True)
        return qname

    def insert_block(self, name: str, block) -> int:
        """Append a converted block to data source ``name`` (durable and visible on return)."""
        with self.write_lock:
            self.db.insert(name, block)
        return block.num_rows

    def replace(self, name: str, block, condition: str | None = None) -> int:
        """Replace the data source's rows by ``block`` (Data Sources API ``mode=replace``), atomically
        for readers. With ``condition`` (``replace_condition``) only the rows matching it are
        replaced: the table keeps its rows where the condition is false and gets the new rows
        where it is true (new rows outside the condition are dropped, as in Tinybird). Returns the
        rows inserted from ``block``."""
        with self.write_lock:
            inserted = self.db.replace(name, block, condition)
        return inserted

    # ---------------------------------------------------------------- write pipes (mergetree/copy.py)

    def run_copy(self, pipe, compile_node, params: dict, mode: str | None = None) -> dict:
        """Run copy pipe ``pipe`` once (its write holds ``write_lock``): {"rows", "mode", "target"}."""
        from mergetree.copy import run_copy

        return run_copy(self.db, pipe, compile_node, params, mode=mode, lock=self.write_lock)

    def is_copy_pipe(self, pipe) -> bool:
        from mergetree.copy import copy_node

        return copy_node(pipe) is not None

    def copy_target(self, pipe) -> str | None:
        from mergetree.copy import copy_node

        node = copy_node(pipe)
        return node.target_datasource if node is not None else None

    def node_view(self, pipe: str, node: str) -> str | None:
        """The materialized view of node ``node`` of pipe ``pipe``, or None."""
        from mergetree.copy import view_name

        name = view_name(pipe, node)
        return name if name in self.db.views else None

    def populate_view(self, name: str, truncate: bool = False) -> int:
        """Backfill view ``name``; its writes hold ``write_lock`` (the WAL's replay argument)."""
        return self.db.populate_view(name, truncate=truncate, lock=self.write_lock)

    def copy_schedule(self):
        from mergetree.copy import CopySchedule

        return CopySchedule()

    def flush_order(self, names: list[str]) -> list[str]:
        """``names`` ordered so that every materialized view's target comes before its source.

        An insert into a source also commits parts into its views' targets (mergetree/views.py).
        Flushing a target's own rows first keeps the replay argument of ``wal.py`` true for it:
        when a flush is replayed, parts above the target's watermark can only be its own insert's,
        because the sources' inserts (which add parts to it) come after."""
        views = self.db.views.all()
        downstream: dict[str, set] = {n: set() for n in names}
        for n in names:
            todo = [n]
            while todo:
                t = todo.pop()
                for v in views:
                    if v.source == t and v.target not in downstream[n]:
                        downstream[n].add(v.target)
                        todo.append(v.target)
        out, left = [], list(names)
        while left:
            ready = [n for n in left if not (downstream[n] & set(left) - {n})] or left[:1]
            out += ready
            left = [n for n in left if n not in ready]
        return out

    def insert_watermark(self, name: str) -> int:
        """The highest block number of the table's active parts (call under ``write_lock``)."""
        parts = self.db.table(name).parts()
        return max((int(p["max_block"]) for p in parts), default=0)

    def not_committed_since(self, name: str, block, watermark: int):
        """The rows of ``block`` whose partition got no part above ``watermark``.

        An insert commits one part per partition, each with a block number above the watermark
        taken before it; parts above the watermark (even after merges, which keep block ranges)
        name exactly the partitions that insert committed.
        """
        from mergetree.storage.part_info import partition_id

        table = self.db.table(name)
        committed = {p["partition_id"] for p in table.parts() if int(p["max_block"]) > watermark}
        if not committed or block.num_rows == 0:
            return block
        m = table.metadata
        if not m.partition_by:
            return block.slice(0, 0)            # one partition: the insert was all or nothing
        key_cols = table.key_columns(block, m.partition_key_asts, m.partition_by)
        types = [c.type for c in key_cols]
        values = list(zip(*(c.to_pylist() for c in key_cols)))   # recovery only, not a hot path
        ids = {v: partition_id(v, types) for v in set(values)}
        keep = np.fromiter((ids[v] not in committed for v in values), dtype=bool, count=len(values))
        return block.filter(keep)

    # ---------------------------------------------------------------- SQL

    def parse(self, text: str):
        from sqlparse_ch import parse

        return parse(text)

    @staticmethod
    def normalize_type(text: str) -> str:
        """A column type as the engine spells it (``Int`` -> ``Int32``); raises on an unknown type."""
        from mergetree.types import parse_type

        return str(parse_type(text))

    @staticmethod
    def normalize_condition(text: str) -> str:
        """A WHERE condition parsed and printed back (raises ValueError when it does not parse)."""
        from sqlparse_ch import format_sql, parse_expr

        return format_sql(parse_expr(text))

    @staticmethod
    def is_read(stmt) -> bool:
        return type(stmt).__name__ in _READ_STATEMENTS

    @staticmethod
    def referenced_tables(stmt) -> set[tuple[str | None, str]]:
        """Every ``[db.]table`` a statement names (walks the AST dataclasses)."""
        from sqlparse_ch.ast.query import TableName

        found: set = set()
        seen: set = set()

        def walk(node):
            if isinstance(node, TableName):
                found.add((node.database, node.name))
                return
            if isinstance(node, (list, tuple)):
                for x in node:
                    walk(x)
                return
            if not hasattr(node, "__dataclass_fields__") or id(node) in seen:
                return
            seen.add(id(node))
            for f in node.__dataclass_fields__:
                if f != "span":
                    walk(getattr(node, f, None))

        walk(stmt)
        return found

    def run(self, stmt, params: dict | None = None, settings: dict | None = None,
            row_policies: dict | None = None, cancel=None):
        """Run a parsed (or text) statement; writes take the write lock.

        ``row_policies`` ({data source: SQL condition}, from the caller's token, see
        ``Principal.row_policies``) is ANDed into every read of those data sources at any depth.
        ``cancel`` (threading.Event): set when the client went away; the query stops at its next block."""
        from mergetree.sql import execute

        if isinstance(stmt, str):
            stmt = self.parse(stmt)
        if self.is_read(stmt):
            if self.workers is not None and type(stmt).__name__ in ("Select", "SetOperation") \
                    and not getattr(self._here, "on", False):
                from mergetree.replica import FALLBACK

                result = self.workers.run(stmt, params, settings, row_policies, cancel)
                if result is not FALLBACK:
                    return result
            return execute(self.db, stmt, params, settings, row_policies=row_policies, cancel=cancel)
        for database, table in self.referenced_tables(stmt):     # the service data sources are read-only
            if database == "tinybird" or table.startswith(SERVICE_PREFIX):
                raise BadArgumentsError(f"tinybird.{table.removeprefix(SERVICE_PREFIX)} is a service data source: "
                                        f"read-only, written by the server")
        with self.write_lock:
            return execute(self.db, stmt, params, settings, row_policies=row_policies, cancel=cancel)


class PipeCall:
    """With ``serve --workers N``, a pipe call that is the only one in flight (counted from the
    requests' arrival) runs in this process, its statement too (:meth:`Engine.run` does not send
    it): the hand-off costs a lone request more than it saves (user_activity at 1 client: 1.6-1.9 ms
    of CPU here, 2.6-3.4 ms through a worker; p50 1.8 against 2.5-3.5 ms). With others in flight
    the workers take it, so that the calls use the other cores. Without workers: here, always."""

    __slots__ = ("engine", "remote", "counted")

    def __init__(self, engine: "Engine", remote: bool):
        self.engine = engine
        self.remote = remote
        self.counted = False

    def __enter__(self) -> "PipeCall":
        e = self.engine
        if e.workers is not None:
            with e._calls_lock:
                e._calls += 1
            self.counted = True
        return self

    def __exit__(self, *exc) -> None:
        if self.counted:
            self.counted = False
            e = self.engine
            with e._calls_lock:
                e._calls -= 1

    @contextlib.contextmanager
    def placed(self):
        e = self.engine
        if e.workers is None:
            yield False
            return
        local = e.local_when_alone and e._calls <= 1
        e._here.on = local
        try:
            yield self.remote and not local
        finally:
            e._here.on = False


_JSONPATH_STEP = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\['([^']*)'\]|\[\"([^\"]*)\"\]")


def parse_jsonpath(path: str) -> list:
    """``$.a.b[0]`` -> ['a', 'b', 0]. Supported: ``.key``, ``['key']``, ``[index]``, and a trailing
    ``[:]`` (Tinybird's whole array, as /v0/analyze writes it: ``$.tags[:]`` reads ``$.tags``) (raises ValueError)."""
    if not path.startswith("$"):
        raise ValueError(f"JSONPath '{path}' must start with '$'")
    if path.endswith("[:]"):
        path = path[:-3]
    steps, pos = [], 1
    while pos < len(path):
        m = _JSONPATH_STEP.match(path, pos)
        if m is None:
            raise ValueError(f"JSONPath '{path}': unsupported syntax at '{path[pos:]}' "
                             f"(supported: $.key, $.a.b, $['key'], $.list[0])")
        key, index, q1, q2 = m.groups()
        steps.append(int(index) if index is not None else key if key is not None else q1 if q1 is not None else q2)
        pos = m.end()
    if not steps:
        raise ValueError(f"JSONPath '{path}' selects the whole document")
    return steps


def _pick(doc, steps: list):
    for step in steps:
        if isinstance(step, int):
            doc = doc[step] if isinstance(doc, list) and step < len(doc) else None
        else:
            doc = doc.get(step) if isinstance(doc, dict) else None
        if doc is None:
            return None
    return doc


def _json_array(text: bytes) -> list:
    from mergetree.errors import ConversionError

    try:
        rows = orjson.loads(text)
    except orjson.JSONDecodeError as e:
        raise ConversionError(None, None, text[:100], f"Malformed JSON array of rows: {e}") from None
    return rows


def _key(cols: list[str]) -> str:
    return cols[0] if len(cols) == 1 else "(" + ", ".join(cols) + ")"


def _now_text() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def is_engine_error(e: BaseException) -> bool:
    return isinstance(e, MergeTreeError)
