"""Database: the embedded API (a directory of tables + one background merge worker).

::

    import mergetree
    db = mergetree.connect("path/to/data")        # no argument: a temporary directory removed on close
    db.create_table("events", schema="event_id String, user_id String, timestamp DateTime",
                    engine="MergeTree", order_by="timestamp, user_id",
                    partition_by="toYYYYMM(timestamp)")
    db.insert("events", rows)                     # list of dicts, dict of columns, NDJSON bytes, Block
    db.optimize("events", final=True)             # OPTIMIZE TABLE events FINAL
    db.table("events").parts()                    # like system.parts
    db.table("events").read(columns=["user_id"], where="user_id = 'u1'")
    db.delete("events", "user_id = 'u1'")         # DELETE FROM events WHERE ... (lightweight)
    db.close()                                    # waits for running merges

Layout on disk: ``<path>/<table>/`` per table (see ``storage/table.py``), each with its
``metadata.json``, part directories, ``detached/`` and mutation files. A directory without
``metadata.json`` (a crash inside ``create_table``) is ignored with a warning.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import threading
import uuid
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from mergetree.errors import BadArgumentsError, MergeTreeError, TableAlreadyExistsError, UnknownTableError
from mergetree.storage.background import BackgroundMerger
from mergetree.storage.metadata import METADATA_FILE, TableMetadata, fsync_dir
from mergetree.storage.table import MergeTreeTable

log = logging.getLogger("mergetree.database")

_DROPPED_PREFIX = ".dropped_"


class Database:
    """A directory of MergeTree tables with a background merge thread."""

    def __init__(self, path: str | Path | None = None, *, background_merges: bool = True,
                 merge_interval: float = 1.0):
        self._temporary = path is None
        self.path = Path(tempfile.mkdtemp(prefix="mergetree-")) if path is None else Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._tables: dict[str, MergeTreeTable] = {}
        self._closed = False
        from mergetree.views import ViewRegistry, recover_commit_journal

        recover_commit_journal(self.path)      # a crash inside a multi-table (materialized view) commit
        _recover_exchange(self.path)           # a crash inside EXCHANGE TABLES
        for entry in sorted(self.path.iterdir()):
            if entry.name.startswith(_DROPPED_PREFIX):
                shutil.rmtree(entry, ignore_errors=True)   # a DROP TABLE interrupted by a crash
            elif entry.is_dir() and (entry / METADATA_FILE).exists():
                self._attach(_named(MergeTreeTable.open(entry), entry.name))
            elif entry.is_dir():
                log.warning("database %s: ignoring directory %s without %s", self.path, entry.name,
                            METADATA_FILE)
        self.views = ViewRegistry(self)        # materialized views (mergetree/views.py)
        self._merger = BackgroundMerger(self._all_tables, interval=merge_interval)
        if background_merges:
            self._merger.start()

    def _all_tables(self) -> list[MergeTreeTable]:
        with self._lock:
            return list(self._tables.values())

    def _attach(self, table: MergeTreeTable) -> None:
        table.on_new_part = lambda: self._merger.wake()
        self._tables[table.name] = table

    def _check_open(self) -> None:
        if self._closed:
            raise MergeTreeError(f"Database {self.path} is closed")

    # ---- tables

    def create_table(self, name: str, schema, *, engine: str = "MergeTree", order_by=None,
                     partition_by=None, primary_key=None, ttl: str | None = None,
                     settings: Mapping[str, Any] | None = None, if_not_exists: bool = False) -> MergeTreeTable:
        """CREATE TABLE name (schema) ENGINE = engine ORDER BY ... [PARTITION BY ...] [TTL ...]."""
        self._check_open()
        metadata = TableMetadata.create(name, schema=schema, engine=engine, order_by=order_by,
                                        partition_by=partition_by, primary_key=primary_key, ttl=ttl,
                                        settings=settings)
        with self._lock:
            if name in self._tables:
                if if_not_exists:
                    return self._tables[name]
                raise TableAlreadyExistsError(f"Table {name} already exists in {self.path}")
            table_dir = self.path / name
            if table_dir.exists():
                # a crash inside create_table leaves at most detached/ and metadata.json.tmp;
                # anything else is somebody's data: refuse rather than delete it
                unknown = sorted(set(p.name for p in table_dir.iterdir()) - {"detached", METADATA_FILE + ".tmp"})
                if unknown:
                    raise TableAlreadyExistsError(f"Directory {table_dir} exists and holds {unknown[:5]}: "
                                                  f"not creating table {name} over it")
                shutil.rmtree(table_dir)
            table = MergeTreeTable.create(table_dir, metadata)
            self._attach(table)
            return table

    def drop_table(self, name: str, if_exists: bool = False) -> None:
        self._check_open()
        with self._lock:
            table = self._tables.get(name)
            if table is None and name in self.views:     # DROP TABLE works on views, as in ClickHouse
                self.views.drop(name)
                return
            if table is None:
                if if_exists:
                    return
                raise UnknownTableError(f"Table {name} does not exist in {self.path}")
            users = [f"{v.name} ({'source' if v.source == name else 'target'})"
                     for v in self.views.all() if name in (v.source, v.target)]
            if users:
                raise BadArgumentsError(f"Cannot drop table {name}: materialized view(s) {', '.join(users)} "
                                        f"depend on it; DROP VIEW them first")
            _retire(table, self.path)
            del self._tables[name]
            trash = self.path / f"{_DROPPED_PREFIX}{name}_{uuid.uuid4().hex[:8]}"
            table.path.rename(trash)
            fsync_dir(self.path)
        shutil.rmtree(trash, ignore_errors=True)

    def table(self, name: str) -> MergeTreeTable:
        self._check_open()
        with self._lock:
            try:
                return self._tables[name]
            except KeyError:
                if name in self.views:           # reading / inserting a view means its target table
                    return self._tables[self.views.get(name).target]
                raise UnknownTableError(f"Table {name} does not exist in {self.path}; tables: "
                                        f"{', '.join(sorted(self._tables)) or '(none)'}") from None

    def tables(self) -> list[str]:
        with self._lock:
            return sorted(self._tables)

    # ---- data

    def insert(self, name: str, rows) -> int:
        """Insert rows (list of dicts, dict of columns, NDJSON bytes/str, or a Block); returns rows."""
        from mergetree.column import Block

        from mergetree.views import insert_cascade

        table = self.table(name)
        version = table.metadata.version
        block = rows if isinstance(rows, Block) else self._to_block(table, rows)
        block = _complete_block(table, block)
        with self.views.lock.shared():      # views attach (and snapshot for POPULATE) between inserts
            if table.metadata.version != version:     # an ALTER ... COLUMN ran since the rows were converted
                from mergetree.storage.alter import upgrade_block

                block = upgrade_block(block, table.metadata) or block
            if self.views.for_source(table.name):
                insert_cascade(self, table.name, block)   # source + views' targets in one commit
            else:
                table.insert(block)
        return block.num_rows

    # ---- materialized views

    def create_materialized_view(self, name: str, target: str, query: str, *, populate: bool = False,
                                 if_not_exists: bool = False, or_replace: bool = False):
        """CREATE MATERIALIZED VIEW name TO target AS query [POPULATE] (see mergetree/views.py)."""
        self._check_open()
        return self.views.create(name, target, query, populate=populate, if_not_exists=if_not_exists,
                                 or_replace=or_replace)

    def drop_view(self, name: str, if_exists: bool = False) -> None:
        self._check_open()
        self.views.drop(name, if_exists=if_exists)

    def populate_view(self, name: str, truncate: bool = False, lock=None) -> int:
        """Backfill a view from its source's current rows; returns the source rows read."""
        from mergetree.views import populate

        self._check_open()
        return populate(self, name, truncate=truncate, lock=lock)

    def replace(self, name: str, rows, condition: str | None = None) -> int:
        """Replace the rows of table ``name`` by ``rows`` in one crash-atomic step; returns the rows of
        ``rows`` that went in.

        With ``condition`` (Tinybird's ``replace_condition``) only the rows matching it are replaced:
        the table keeps its rows where it is false and gets the new rows where it is true (new rows
        outside it are dropped). The replace cascades to the materialized views' targets, as in
        Tinybird: a target's content (with ``condition``: its rows matching the condition, when it
        has the condition's columns; else the view's rows are appended) is replaced by the views'
        results over the new rows, in the same commit."""
        from mergetree.column import Block
        from mergetree.storage.select import empty_block
        from mergetree.views import expand

        table = self.table(name)
        block = _complete_block(table, rows if isinstance(rows, Block) else self._to_block(table, rows))
        cond = None
        if condition:
            from sqlparse_ch import parse_expr

            from mergetree.exec.expression import evaluate_filter
            from mergetree.storage.metadata import referenced_columns

            cond = parse_expr(condition)
            cond_columns = set(referenced_columns(cond))
            if block.num_rows:
                block = block.filter(evaluate_filter(cond, block))
        new_rows = block.num_rows

        def with_kept(t, b):
            """``b`` plus the rows of ``t`` outside the condition (a partial replace keeps them)."""
            keep = t.read(where=f"NOT ({condition})")
            if not keep.num_rows:
                return b
            keep = keep.select(t.metadata.column_names)
            return Block.concat([b.select(t.metadata.column_names), keep]) if b.num_rows else keep

        with self.views.lock.shared():
            outputs: dict[str, list] = {}
            if self.views.for_source(table.name) and block.num_rows:
                for t, b in expand(self, table.name, block)[1:]:
                    outputs.setdefault(t.name, []).append(b)
            cascade, also = [], []
            for target in sorted(self.views._downstream(table.name) - {table.name}):
                t = self.table(target)
                parts = outputs.get(target, [])
                out = Block.concat(parts) if parts else empty_block(t.metadata, t.metadata.column_names)
                if cond is None:
                    cascade.append((t, out))
                elif cond_columns <= set(t.metadata.column_names):
                    cascade.append((t, with_kept(t, out)))
                elif out.num_rows:
                    also.append((t, out))
            if cond is not None:
                block = with_kept(table, block)
            table.replace_contents(block, also=also, cascade=cascade, db_path=self.path)
        return new_rows

    @staticmethod
    def _to_block(table: MergeTreeTable, rows):
        from mergetree.convert import rows_to_block

        if isinstance(rows, str):
            rows = rows.encode()
        return rows_to_block(table.metadata.schema, rows, defaults=_default_callables(table) or None)

    def optimize(self, name: str, final: bool = True, partition=None) -> list[str]:
        return self.table(name).optimize(final=final, partition=partition)

    def delete(self, name: str, where) -> int:
        return self.table(name).delete(where)

    def alter_delete(self, name: str, where: str) -> int:
        """ALTER TABLE name DELETE WHERE ... (a rewriting mutation)."""
        return self.table(name).alter_delete(where)

    def alter_update(self, name: str, assignments: dict[str, str], where: str) -> int:
        """ALTER TABLE name UPDATE col = expr WHERE ... (``assignments``: column -> SQL expression)."""
        return self.table(name).alter_update(assignments, where)

    # ---- schema changes (metadata-only; see mergetree/storage/alter.py)

    def _alter_columns(self, name: str, change: str, *args, **kwargs) -> bool:
        return self.alter_columns(name, [(change, args, kwargs)])

    def alter_columns(self, name: str, changes: list[tuple[str, tuple, dict]]) -> bool:
        """Several column changes as one ALTER, all or none: ``[("add_column", ("c UInt8",), {}),
        ("rename_column", ("a", "b"), {}), ...]`` (the names of the ``alter_*`` methods without the
        prefix; ``ALTER TABLE t ADD COLUMN .., RENAME COLUMN ..`` in SQL)."""
        self._check_open()
        table = self.table(name)
        with self.views.lock.exclusive():     # no insert is between converting its rows and committing
            for change, args, _ in changes:
                if change in ("drop_column", "rename_column") and args:
                    self._refuse_if_view_reads(table.name, args[0], change.split("_")[0].upper())
            return table.alter_many(changes)

    def _refuse_if_view_reads(self, table: str, column: str, what: str) -> None:
        """A materialized view's SELECT that names the column would fail at the next insert: refuse
        (ClickHouse lets it break; a data source fed by events must keep ingesting)."""
        import re

        for v in self.views.all():
            if table in (v.source, v.target) and re.search(rf"(?<![\w`]){re.escape(column)}(?![\w`])|`{re.escape(column)}`",
                                                           v.query):
                raise BadArgumentsError(f"Cannot {what} column {column} of table {table}: materialized view "
                                        f"{v.name} uses it ({'reads' if v.source == table else 'writes'} it); "
                                        f"DROP VIEW {v.name} first or change its query")

    def alter_add_column(self, name: str, column: str, *, if_not_exists: bool = False, after: str | None = None,
                         first: bool = False) -> bool:
        """ALTER TABLE name ADD COLUMN [IF NOT EXISTS] column [AFTER c | FIRST] (``column``:
        ``"c UInt64 DEFAULT a * 2"``). Existing parts are not rewritten: their rows read the column's
        DEFAULT (computed over each part's rows) or the type default; merges write it. False when
        IF NOT EXISTS found the column."""
        return self._alter_columns(name, "add_column", column, if_not_exists=if_not_exists, after=after,
                                   first=first)

    def alter_drop_column(self, name: str, column: str, *, if_exists: bool = False) -> bool:
        """ALTER TABLE name DROP COLUMN [IF EXISTS] column (not a key column)."""
        return self._alter_columns(name, "drop_column", column, if_exists=if_exists)

    def alter_rename_column(self, name: str, old: str, new: str, *, if_exists: bool = False) -> bool:
        """ALTER TABLE name RENAME COLUMN [IF EXISTS] old TO new (not a key column)."""
        return self._alter_columns(name, "rename_column", old, new, if_exists=if_exists)

    def alter_modify_column(self, name: str, column: str, *, if_exists: bool = False) -> bool:
        """ALTER TABLE name MODIFY COLUMN column: ``"c DEFAULT x"``, ``"c COMMENT 'text'"`` or a lossless
        type change ``"c UInt64"`` (others are refused: nothing is rewritten, nothing is lost)."""
        return self._alter_columns(name, "modify_column", column, if_exists=if_exists)

    def alter_comment_column(self, name: str, column: str, comment: str) -> bool:
        """ALTER TABLE name COMMENT COLUMN column 'comment'."""
        return self._alter_columns(name, "comment_column", column, comment)

    def alter_remove_default(self, name: str, column: str) -> bool:
        """ALTER TABLE name MODIFY COLUMN column REMOVE DEFAULT."""
        return self._alter_columns(name, "remove_default", column)

    def alter_materialize_column(self, name: str, column: str) -> int:
        """ALTER TABLE name MATERIALIZE COLUMN column: parts written before the column was added get its
        DEFAULT written (one-part rewrites); returns the parts rewritten."""
        from mergetree.storage.alter import materialize_column

        self._check_open()
        return materialize_column(self.table(name), column)

    def alter_modify_ttl(self, name: str, ttl: str | None) -> bool:
        """ALTER TABLE name MODIFY TTL ttl (None / "": REMOVE TTL); applied by the next merges."""
        return self._alter_columns(name, "modify_ttl", ttl)

    def rename_table(self, old: str, new: str) -> None:
        """RENAME TABLE old TO new: one directory rename (the directory name is the table's name: a
        crash before metadata.json says so is repaired at open). Refused while a materialized view
        reads or writes the table."""
        from mergetree.storage.metadata import _NAME_RE

        self._check_open()
        if not _NAME_RE.match(new or ""):
            raise BadArgumentsError(f"Invalid table name {new!r}: use letters, digits and '_'")
        with self.views.lock.exclusive(), self._lock:
            table = self._real_table(old)
            if new in self._tables or new in self.views or (self.path / new).exists():
                raise TableAlreadyExistsError(f"Table {new} already exists in {self.path}")
            self._refuse_if_viewed(old, "rename")
            _retire(table, self.path)
            del self._tables[old]
            os.rename(table.path, self.path / new)
            fsync_dir(self.path)
            self._attach(_named(MergeTreeTable.open(self.path / new), new))

    def exchange_tables(self, a: str, b: str, *, same_columns: bool = False) -> None:
        """EXCHANGE TABLES a AND b: atomically swap two tables (definitions and data, as ClickHouse
        does); ``same_columns`` (Tinybird's exchange) refuses tables whose columns differ.

        Crash-safe: a journal names the swap before the three directory renames and is rolled forward
        at open. Materialized views keep their names: a view reading ``a`` reads the new ``a``."""
        self._check_open()
        if a == b:
            raise BadArgumentsError(f"Cannot exchange table {a} with itself")
        with self.views.lock.exclusive(), self._lock:
            ta, tb = self._real_table(a), self._real_table(b)
            sa, sb = ta.metadata.declared_schema, tb.metadata.declared_schema
            if same_columns and [(n, str(t)) for n, t in sa] != [(n, str(t)) for n, t in sb]:
                diff = next(((x, y) for x, y in zip(sa, sb) if (x[0], str(x[1])) != (y[0], str(y[1]))), None)
                what = (f"column {diff[0][0]} {diff[0][1]} vs {diff[1][0]} {diff[1][1]}" if diff else
                        f"{len(sa)} vs {len(sb)} columns")
                raise BadArgumentsError(f"Cannot exchange tables {a} and {b}: their columns differ ({what})")
            _retire(ta, self.path)
            _retire(tb, self.path)
            journal = self.path / _EXCHANGE_JOURNAL
            from mergetree.storage.metadata import atomic_write

            atomic_write(journal, json.dumps({"a": a, "b": b}).encode())
            _recover_exchange(self.path)
            for n in (a, b):
                self._attach(_named(MergeTreeTable.open(self.path / n), n))

    def _real_table(self, name: str) -> MergeTreeTable:
        with self._lock:
            if name not in self._tables:
                raise UnknownTableError(f"Table {name} does not exist in {self.path}")
            return self._tables[name]

    def _refuse_if_viewed(self, name: str, what: str) -> None:
        users = [v.name for v in self.views.all() if name in (v.source, v.target)]
        if users:
            raise BadArgumentsError(f"Cannot {what} table {name}: materialized view(s) {', '.join(users)} "
                                    f"depend on it")

    def truncate(self, name: str) -> int:
        return self.table(name).truncate()

    def drop_partition(self, name: str, partition) -> int:
        return self.table(name).drop_partition(partition)

    def read(self, name: str, columns=None, where=None, final: bool = False):
        return self.table(name).read(columns=columns, where=where, final=final)

    # ---- SQL

    def sql(self, text: str, params: dict | None = None, settings: dict | None = None, data=None,
            row_policies: dict | None = None, cancel=None):
        """Run one ClickHouse SQL statement; returns a :class:`mergetree.result.Result`.

        ``params`` binds ``{name:Type}`` query parameters; ``data`` is the payload of
        ``INSERT INTO t FORMAT X``. ``SET k = v`` persists for this Database object.
        ``row_policies`` ({table: SQL condition}) is ANDed into every read of those tables.
        ``cancel`` (a ``threading.Event``): set it from another thread to stop the query
        (QUERY_WAS_CANCELLED); ``max_execution_time`` / ``max_memory_usage`` settings bound it too.
        """
        from mergetree.sql import execute

        return execute(self, text, params=params, settings=settings, data=data, row_policies=row_policies,
                       cancel=cancel)

    # ---- merges

    def stop_merges(self) -> None:
        """SYSTEM STOP MERGES: returns once no background merge is running."""
        self._merger.pause()

    def start_merges(self) -> None:
        """SYSTEM START MERGES."""
        self._merger.resume()

    @property
    def merger(self) -> BackgroundMerger:
        return self._merger

    # ---- lifecycle

    def close(self) -> None:
        """Wait for the running merge, close every table; a temporary database is deleted."""
        if self._closed:
            return
        self._merger.shutdown()
        with self._lock:
            for t in self._tables.values():
                t.close()
            self._closed = True
        if self._temporary:
            shutil.rmtree(self.path, ignore_errors=True)

    def __enter__(self) -> "Database":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Database({str(self.path)!r}, tables={self.tables()})"


def _default_callables(table: MergeTreeTable) -> dict:
    """DEFAULT / MATERIALIZED expressions as convert.rows_to_block's ``defaults`` callables.

    rows_to_block calls them with the columns converted so far and casts the result to the column
    type; a constant expression (``DEFAULT 0``) is broadcast to the block's length here.
    """
    from mergetree.exec.expression import evaluate

    def make(ast):
        def default(block):
            col = evaluate(ast, block)
            if len(col) != block.num_rows:
                col = col.take(np.zeros(block.num_rows, dtype=np.int64))
            return col
        return default

    return {c.name: make(table.metadata.default_asts[c.name]) for c in table.metadata.columns if c.default}


def _complete_block(table: MergeTreeTable, block):
    """``block`` with every column of ``table``: MATERIALIZED columns computed from the others, always
    (ClickHouse never stores a given value for one: JSONEachRow skips the field, naming it in an INSERT
    is ILLEGAL_COLUMN), missing ones from their DEFAULT or the type default (``INSERT INTO t (a) SELECT``).
    A block that has every column of a table without MATERIALIZED columns is returned as is."""
    cols = table.metadata.columns
    if all(c.default_kind != "MATERIALIZED" and c.name in block.columns for c in cols):
        return block
    from mergetree.column import Block, default_column
    from mergetree.exec.cast import cast_column as _cast

    out, n, defaults = dict(block.columns), block.num_rows, None
    for c in cols:
        if c.name in out and c.default_kind != "MATERIALIZED":
            continue
        if c.default_kind:
            defaults = defaults or _default_callables(table)
            out[c.name] = _cast(defaults[c.name](Block(out, n)), c.type)
        else:
            out[c.name] = default_column(c.type, n)
    return Block({c.name: out[c.name] for c in cols}, n)


_EXCHANGE_JOURNAL = "_exchange_journal.json"
_EXCHANGE_TMP = ".exchange_tmp"


def _recover_exchange(path: Path) -> None:
    """Finish an EXCHANGE TABLES whose journal exists: a -> tmp, b -> a, tmp -> b, from wherever a
    crash stopped it (each step is one rename; the state says which were done), then drop the journal."""
    journal = path / _EXCHANGE_JOURNAL
    if not journal.exists():
        return
    import json as _json

    doc = _json.loads(journal.read_bytes())
    a, b, tmp = path / doc["a"], path / doc["b"], path / _EXCHANGE_TMP
    if not tmp.exists() and a.exists() and b.exists():
        os.rename(a, tmp)
        fsync_dir(path)
    if tmp.exists() and not a.exists():
        os.rename(b, a)
        fsync_dir(path)
    if tmp.exists() and not b.exists():
        os.rename(tmp, b)
        fsync_dir(path)
    journal.unlink()
    fsync_dir(path)


def _retire(table: MergeTreeTable, db_path: Path) -> None:
    """Close a table whose directory is about to move (RENAME / EXCHANGE) or go (DROP) and make it
    forget its parts: a reader still holding a snapshot must not, on release, remove parts by name from
    a directory that by then holds another table's parts (leftovers are dropped as covered parts when
    the table opens). A query that pinned parts reads them to the end, as in ClickHouse: they are hard-
    linked into ``.dropped_<table>_<id>_pinned`` (removed after the last release, or at the next open)
    and read from there, since after the move their old directory may hold another table's same-named
    parts (a table created again, or the other side of an EXCHANGE). A query that planned with the
    table but had not pinned its parts yet fails with UNKNOWN_TABLE (``MergeTreeTable.retired``)."""
    table.close()
    with table._lock:
        table.retired = True
        pinned = [e for e in table._entries.values() if e.refs > 0]
        table._entries.clear()
    if not pinned:
        return
    keep = db_path / f"{_DROPPED_PREFIX}{table.path.name}_{uuid.uuid4().hex[:8]}_pinned"
    for e in pinned:
        dst = keep / e.part.path.name
        try:
            shutil.copytree(e.part.path, dst, copy_function=os.link)
        except OSError as err:     # no hard links: the query fails ("file is missing"), never reading
            log.warning("table %s: cannot keep part %s for a running query: %s", table.name, e.name, err)
        e.part.path = dst          # another table's same-named part; closed parts map files by path per read

    def after_release():
        if all(e.refs <= 0 for e in pinned):
            table.after_release = None
            shutil.rmtree(keep, ignore_errors=True)

    table.after_release = after_release
    after_release()                # every pin released meanwhile


def _named(table: MergeTreeTable, name: str) -> MergeTreeTable:
    """The directory name is the table's name (RENAME / EXCHANGE move directories): make metadata.json agree."""
    if table.metadata.name != name:
        import dataclasses

        table.metadata = dataclasses.replace(table.metadata, name=name)
        table.metadata.save(table.path)
    return table


def connect(path: str | Path | None = None, **options) -> Database:
    """Open (creating if needed) a database directory; no path = a temporary one removed on close."""
    return Database(path, **options)
