"""Materialized views: insert triggers that pre-aggregate every inserted block into a target table.

    db.sql("CREATE MATERIALIZED VIEW mv TO daily AS "
           "SELECT toDate(ts) AS day, uniqState(user_id) AS users FROM events GROUP BY day")
    db.insert("events", rows)          # also inserts SELECT ... over just these rows into `daily`
    db.sql("SELECT day, uniqMerge(users) FROM daily GROUP BY day")

A view is (name, source, target, SELECT). Its *source* is the leftmost table of the SELECT's FROM
(looking through subqueries, as ClickHouse does); joined tables do not trigger it.

The write path (:func:`insert_cascade`, called by ``Database.insert`` for any table that has views;
the SQL INSERT, the Events API flusher and appends all arrive there):

1. **Expand.** The block's rows run through every view of the source: its SELECT is planned with
   the source replaced by the in-memory block (``block_sources``, read by ``planner._source`` as a
   ``ReadBlock``), and the result is matched to the target's columns by name (missing columns get
   the type default) and cast. Targets with views of their own expand in turn (chains A -> B -> C).
   A failing SELECT or conversion fails the insert before anything is written.
2. **Prepare.** Every table's block is written as temporary parts (``MergeTreeTable.prepare_insert``:
   sorted, optimize_on_insert, fsynced ``tmp_insert_*``) on helper threads, the source's while step 1
   runs; an error removes them all.
3. **Commit together** (:func:`commit_together`): under the parts locks of all the tables (taken in
   name order), block numbers are allocated, a journal ``_commit_journal_<id>.json`` (one per commit:
   tmp name -> final name per table) is written and fsynced -- the commit point --, the directories
   are renamed into place,
   the parts published, and the journal removed. A crash after the journal is written is rolled
   forward by :func:`recover_commit_journal` when the database opens (before the tables delete
   leftover ``tmp_*``); before it, nothing happened. So the source and all targets change together:
   an acknowledged row is never missing from a view, and the write-ahead log's replay argument
   (``server/wal.py``: a partition with a part above the watermark was committed) still holds, now for
   the source *and* its views.

Creating a view and POPULATE: inserts hold the registry's shared lock from expand to commit; a view
is attached and the source snapshot taken under the exclusive lock, so every committed row is
either in the snapshot (populated) or went through the trigger, never both. :func:`populate` runs the
SELECT over the snapshot part by part and inserts the results through the normal cascade (so views of
the target see them too). Truncating or deleting from the source does not touch the targets.

Views persist in ``<database>/_views.json`` (written atomically). ``CREATE MATERIALIZED VIEW v ENGINE =
...`` (no ``TO``) creates the view's own table ``_inner_v`` from the SELECT's columns; DROP VIEW drops it.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from mergetree.errors import BadArgumentsError, MergeTreeError, TableAlreadyExistsError, UnknownTableError

log = logging.getLogger("mergetree.views")

VIEWS_FILE = "_views.json"
JOURNAL_FILE = "_commit_journal.json"
MAX_CHAIN_DEPTH = 32


@dataclass
class MaterializedView:
    name: str
    source: str
    target: str
    query: str                  # the SELECT, as written
    kind: str = "materialized"  # "materialized" (SQL / .pipe TYPE materialized)
    inner: bool = False         # the target is the view's own `.inner.<name>` table (dropped with it)

    def to_json(self) -> dict:
        return asdict(self)


# --------------------------------------------------------------------------- reader/writer lock


class _RWLock:
    """Shared for inserts, exclusive for attaching a view (+ taking the populate snapshot)."""

    def __init__(self):
        self._cond = threading.Condition(threading.Lock())
        self._readers = 0
        self._writer = False

    @contextmanager
    def shared(self):
        with self._cond:
            while self._writer:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                if not self._readers:
                    self._cond.notify_all()

    @contextmanager
    def exclusive(self):
        with self._cond:
            while self._writer:
                self._cond.wait()
            self._writer = True
            while self._readers:
                self._cond.wait()
        try:
            yield
        finally:
            with self._cond:
                self._writer = False
                self._cond.notify_all()


# --------------------------------------------------------------------------- registry


class ViewRegistry:
    """The materialized views of one Database (``db.views``)."""

    def __init__(self, db):
        self.db = db
        self.path = Path(db.path) / VIEWS_FILE
        self.lock = _RWLock()
        self._mutex = threading.RLock()
        self._views: dict[str, MaterializedView] = {}
        if self.path.exists():
            for d in json.loads(self.path.read_text()).get("views", []):
                v = MaterializedView(**d)
                self._views[v.name] = v

    # ---- queries

    def names(self) -> list[str]:
        with self._mutex:
            return sorted(self._views)

    def get(self, name: str) -> MaterializedView:
        with self._mutex:
            try:
                return self._views[name]
            except KeyError:
                raise UnknownTableError(f"Materialized view {name} does not exist in {self.db.path}") from None

    def __contains__(self, name: str) -> bool:
        with self._mutex:
            return name in self._views

    def all(self) -> list[MaterializedView]:
        with self._mutex:
            return [self._views[n] for n in sorted(self._views)]

    def for_source(self, table: str) -> list[MaterializedView]:
        with self._mutex:
            return [v for v in self._views.values() if v.source == table]

    def targeting(self, table: str) -> list[MaterializedView]:
        with self._mutex:
            return [v for v in self._views.values() if v.target == table]

    def dependencies(self, table: str) -> list[str]:
        """Views reading `table` (system.tables.dependencies_table)."""
        return sorted(v.name for v in self.for_source(table))

    # ---- DDL

    def create(self, name: str, target: str, query: str, *, populate: bool = False, if_not_exists: bool = False,
               or_replace: bool = False, kind: str = "materialized", inner: bool = False) -> MaterializedView | None:
        """CREATE MATERIALIZED VIEW name TO target AS query [POPULATE]."""
        from sqlparse_ch import parse

        db = self.db
        ast = parse(query) if isinstance(query, str) else query
        text = query if isinstance(query, str) else _format(query)
        source = source_table(ast)
        if name in db.tables():
            raise TableAlreadyExistsError(f"Table {name} already exists: a view cannot have its name")
        db.table(source)
        db.table(target)
        if source == target or source in self._downstream(target):
            raise BadArgumentsError(f"Materialized view {name}: inserting into {target} would trigger "
                                    f"itself (a cycle through {source})")
        view = MaterializedView(name, source, target, text, kind, inner)
        # the SELECT must run and fit the target: check it over an empty block of the source
        _run_view(db, view, _empty_block(db.table(source)), check_names=True)
        snapshot = None
        with self.lock.exclusive():
            with self._mutex:
                if name in self._views:
                    if if_not_exists:
                        return None
                    if not or_replace:
                        raise TableAlreadyExistsError(f"Materialized view {name} already exists")
                self._views[name] = view
                try:
                    self._save()
                except BaseException:
                    del self._views[name]
                    raise
            if populate:
                snapshot = db.table(source).snapshot()
        if snapshot is not None:
            try:
                populate_snapshot(db, view, snapshot.parts)
            finally:
                snapshot.release()
        return view

    def drop(self, name: str, if_exists: bool = False) -> None:
        with self.lock.exclusive(), self._mutex:
            if name not in self._views:
                if if_exists:
                    return
                raise UnknownTableError(f"Materialized view {name} does not exist in {self.db.path}")
            view = self._views.pop(name)
            try:
                self._save()
            except BaseException:
                self._views[name] = view
                raise
        if view.inner:                      # CREATE MATERIALIZED VIEW .. ENGINE: its table goes with it
            self.db.drop_table(view.target, if_exists=True)

    def _downstream(self, table: str) -> set[str]:
        out, todo = set(), [table]
        while todo:
            t = todo.pop()
            for v in self.for_source(t):
                if v.target not in out:
                    out.add(v.target)
                    todo.append(v.target)
        return out

    def _save(self) -> None:
        from mergetree.storage.metadata import atomic_write

        data = {"format": 1, "views": [v.to_json() for v in self._views.values()]}
        atomic_write(self.path, json.dumps(data, indent=1).encode())


def _format(ast) -> str:
    from sqlparse_ch import format_sql

    return format_sql(ast)


def inner_table_name(view: str) -> str:
    return f"_inner_{view}"      # ClickHouse: `.inner.<view>` (our table names are identifiers)


def result_schema(db, query) -> list[tuple[str, object]]:
    """[(name, type)] a view's SELECT returns (run over an empty block of its source)."""
    from sqlparse_ch import parse

    from mergetree.sql import execute

    ast = parse(query) if isinstance(query, str) else query
    source = source_table(ast)
    res = execute(_BlockSources(db, {source: _empty_block(db.table(source))}), ast)
    return list(res.schema)


def source_table(query) -> str:
    """The table whose inserts trigger a view: the leftmost FROM table (through subqueries)."""
    from sqlparse_ch.ast import expr as E
    from sqlparse_ch.ast import query as Q

    q = query
    for _ in range(64):
        if isinstance(q, Q.SetOperation):
            q = q.left if hasattr(q, "left") else q.queries[0]
            continue
        if not isinstance(q, Q.Select) or q.from_ is None:
            break
        src = q.from_.source
        if isinstance(src, Q.TableName):
            if src.database not in (None, "default"):
                break
            return src.name
        if isinstance(src, E.Subquery):
            q = src.query
            continue
        break
    raise BadArgumentsError("A materialized view's SELECT must read FROM a table (its source)")


# --------------------------------------------------------------------------- running a view


class _BlockSources:
    """A Database whose `block_sources` tables are read from in-memory blocks (planner hook)."""

    def __init__(self, db, blocks: dict):
        self._db = db
        self.block_sources = blocks

    def __getattr__(self, name):
        return getattr(self._db, name)


def _empty_block(table):
    from mergetree.column import Block, default_column

    return Block({n: default_column(t, 0) for n, t in table.metadata.schema}, 0)


def _run_view(db, view: MaterializedView, block, check_names: bool = False):
    """The view's SELECT over `block` (rows of its source) as a block of the target's columns.
    ``check_names`` (CREATE): every column the SELECT outputs must be a column of the target, as in
    ClickHouse (THERE_IS_NO_COLUMN); views created before this check keep ignoring the others."""
    from sqlparse_ch import parse

    from mergetree.column import Block, default_column
    from mergetree.exec.cast import cast_column as _cast
    from mergetree.sql import execute

    res = execute(_BlockSources(db, {view.source: block}), _parsed(view.query) if isinstance(view.query, str)
                  else parse(view.query))
    target = db.table(view.target)
    produced = {n: (t, c) for (n, t), c in zip(res.schema, res.column_data)}
    if check_names:
        from mergetree.errors import ThereIsNoColumnError

        have = set(target.metadata.column_names)
        extra = next((n for n in produced if n not in have), None)
        if extra is not None:
            raise ThereIsNoColumnError(f"SELECT query outputs column with name '{extra}', which is not found in "
                                       f"the target table. Use 'AS' to assign alias that matches a column name")
    n = len(res.column_data[0]) if res.column_data else 0
    cols = {}
    for name, t in target.metadata.schema:
        if name in produced:
            ptype, col = produced[name]
            try:
                cols[name] = _cast(col, t)
            except MergeTreeError as e:
                raise BadArgumentsError(f"Materialized view {view.name}: column {name} of type {ptype} does not "
                                        f"fit column {name} {t} of {view.target}: {e}") from None
        else:
            cols[name] = default_column(t, n)
    missing = [c.name for c in target.metadata.columns
               if c.default and (c.name not in produced or c.default_kind == "MATERIALIZED")]
    if missing:                  # the target's DEFAULT / MATERIALIZED expressions, over the view's columns
        from mergetree.database import _default_callables

        defaults = _default_callables(target)
        for name in missing:
            cols[name] = _cast(defaults[name](Block(dict(cols), n)), dict(target.metadata.schema)[name])
    if produced and not set(produced) & set(cols):
        raise BadArgumentsError(f"Materialized view {view.name}: its SELECT returns none of the columns of "
                                f"{view.target} ({', '.join(produced)}); name them with AS")
    return Block(cols, n)


_PARSED: dict = {}


def _parsed(text: str):
    ast = _PARSED.get(text)
    if ast is None:
        from sqlparse_ch import parse

        ast = _PARSED[text] = parse(text)
    return ast


# --------------------------------------------------------------------------- the write path


def expand(db, name: str, block) -> list[tuple]:
    """[(table, block)]: the insert into `name` and everything its views (recursively) insert."""
    steps = [(db.table(name), block)]
    todo = [(name, block, 0)]
    while todo:
        src, b, depth = todo.pop(0)
        for view in db.views.for_source(src):
            if depth >= MAX_CHAIN_DEPTH:
                raise BadArgumentsError(f"Materialized views nested deeper than {MAX_CHAIN_DEPTH} from {name}")
            out = _run_view(db, view, b)
            if out.num_rows:
                steps.append((db.table(view.target), out))
                todo.append((view.target, out, depth + 1))
    return steps


def insert_cascade(db, name: str, block) -> None:
    """Insert `block` into `name` and, in the same commit, the views' results into their targets.

    Every table's parts are written on helper threads (the source's while the views' SELECTs run):
    numba kernels, compression and fsync release the GIL."""
    source = db.table(name)
    pool = _pool()
    writers = [(source, pool.submit(source.prepare_insert, block))]
    error = None
    try:
        for table, b in expand(db, name, block)[1:]:    # targets' parts are written concurrently too
            writers.append((table, pool.submit(table.prepare_insert, b)))
    except BaseException as e:        # noqa: BLE001 - re-raised once every writer is done
        error = e
    prepared = []
    for table, fut in writers:
        try:
            prepared.append((table, fut.result()))
        except BaseException as e:    # noqa: BLE001
            error = error or e
    if error is not None:
        for _, items in prepared:
            for tmp, _ in items:
                shutil.rmtree(tmp, ignore_errors=True)
        raise error
    commit_together(db.path, prepared)


_POOL = None
_POOL_LOCK = threading.Lock()


def _forget_pool_after_fork() -> None:      # a forked child has none of the parent's threads
    global _POOL, _POOL_LOCK
    _POOL, _POOL_LOCK = None, threading.Lock()


os.register_at_fork(after_in_child=_forget_pool_after_fork)


def _pool():
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            from concurrent.futures import ThreadPoolExecutor

            _POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="mv-part-writer")
        return _POOL


def commit_together(db_path: Path, prepared: list[tuple], covering: list[tuple] = ()) -> dict[str, list[str]]:
    """Publish the temporary parts of several tables atomically (module docstring, step 3).

    ``covering``: ``[(table, tmp dir, PartInfo, old entries)]``, parts with a fixed name that
    replace ``old entries`` (the empty parts of ``MergeTreeTable.replace_contents``, which drop a
    table's old rows): published in the same journaled step and the old entries outdated, so a
    crash leaves either none of it or all of it (recovery drops the parts they cover)."""
    import uuid

    from mergetree.storage.metadata import atomic_write, fsync_dir
    from mergetree.storage.part import DataPart
    from mergetree.storage.part_info import PartInfo
    from mergetree.storage.table import OUTDATED, _PartEntry

    items = [(t, tmp, pid) for t, lst in prepared for tmp, pid in lst]
    tables = {t.name: t for t, _, _ in items}
    tables.update({t.name: t for t, _, _, _ in covering})
    names: dict[str, list[str]] = {n: [] for n in tables}
    if not items and not covering:
        return names
    # one journal file per commit: commits on disjoint tables run concurrently and must not
    # overwrite (or unlink) each other's journal
    journal = Path(db_path) / f"{JOURNAL_FILE[:-5]}_{uuid.uuid4().hex}.json"
    journaled = len(tables) > 1 or bool(covering)
    locked = []
    try:
        for n in sorted(tables):
            tables[n]._lock.acquire()
            locked.append(tables[n])
        for t in locked:
            t._check_open()
        plan = [(t, Path(tmp), info) for t, tmp, info, _ in covering]
        for t, tmp, pid in items:
            k = t._allocate_block_number()
            plan.append((t, Path(tmp), PartInfo(pid, k, k, 0)))
        if journaled:
            atomic_write(journal, json.dumps({"format": 1, "parts": [
                {"table": t.path.name, "tmp": tmp.name, "final": info.name} for t, tmp, info in plan]}).encode())
        done = []
        try:
            for t, tmp, info in plan:
                os.rename(tmp, t.path / info.name)
                done.append((t, tmp, info))
            for t in locked:
                fsync_dir(t.path)
        except BaseException:
            for t, tmp, info in done:        # not published yet: undo, as if never committed
                os.rename(t.path / info.name, tmp)
            if journal.exists():
                journal.unlink()
                fsync_dir(journal.parent)
            raise
        now = time.time()
        for _, _, _, old in covering:
            for e in old:
                e.state, e.outdated_at = OUTDATED, now
        for t, tmp, info in plan:
            t._entries[info.name] = _PartEntry(DataPart.open(t.path / info.name, verify=False), info)
            if info.level == 0:
                names[t.name].append(info.name)
        if journaled:
            journal.unlink()
            fsync_dir(journal.parent)
    except BaseException:
        for t, tmp in [(t, tmp) for t, tmp, _ in items] + [(t, tmp) for t, tmp, _, _ in covering]:
            if Path(tmp).exists():
                shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        for t in reversed(locked):
            t._lock.release()
    for t in tables.values():
        if t.on_new_part is not None:
            t.on_new_part()
    return names


def recover_commit_journal(db_path: Path) -> None:
    """Roll a multi-table commit interrupted by a crash forward (before tables load)."""
    from mergetree.storage.metadata import fsync_dir

    journals = sorted(Path(db_path).glob(JOURNAL_FILE[:-5] + "*.json"))
    for journal in journals:
        try:
            data = json.loads(journal.read_text())
        except ValueError:        # torn journal write: atomic_write makes this impossible; be safe
            log.warning("database %s: unreadable %s ignored", db_path, journal.name)
            journal.unlink()
            continue
        for e in data.get("parts", []):
            tdir = Path(db_path) / e["table"]
            tmp, final = tdir / e["tmp"], tdir / e["final"]
            if tmp.exists() and not final.exists():
                os.rename(tmp, final)
                fsync_dir(tdir)
                log.info("database %s: committed %s/%s from the commit journal", db_path, e["table"], e["final"])
        journal.unlink()
    for torn in Path(db_path).glob(JOURNAL_FILE[:-5] + "*.json.tmp"):    # killed inside atomic_write
        torn.unlink()
    if journals:
        fsync_dir(Path(db_path))


# --------------------------------------------------------------------------- backfill


def populate_snapshot(db, view: MaterializedView, parts, max_rows: int = 1 << 20, lock=None) -> int:
    """Run the view over the given parts of its source (a snapshot) and insert into the target
    (through the target's own views). Returns the source rows read."""
    from mergetree.storage.select import read_parts

    source = db.table(view.source)
    names = source.metadata.column_names
    rows = 0
    for part in parts:
        block = read_parts(source, [part], names, None, False)
        if isinstance(block, tuple):
            block = block[0]
        for start in range(0, block.num_rows, max_rows):
            chunk = block.slice(start, min(start + max_rows, block.num_rows))
            out = _run_view(db, view, chunk)
            rows += chunk.num_rows
            if out.num_rows:
                with lock or _nolock(), db.views.lock.shared():   # lock: e.g. the server's write lock
                    insert_cascade(db, view.target, out)
    return rows


@contextmanager
def _nolock():
    yield


def populate(db, name: str, truncate: bool = False, lock=None) -> int:
    """Backfill view `name` from the rows its source holds now (``POST .../population``).

    Rows inserted while this runs go through the trigger only: the snapshot is taken under the
    registry's exclusive lock, which inserts hold shared from trigger to commit. With `truncate`,
    the target is emptied first (Tinybird's populate with truncate). `lock` (the server's write lock)
    is taken around the snapshot and each insert, as every writer of the service does."""
    view = db.views.get(name)
    with lock or _nolock(), db.views.lock.exclusive():
        if truncate:
            db.table(view.target).truncate()
        snapshot = db.table(view.source).snapshot()
    try:
        return populate_snapshot(db, view, snapshot.parts, lock=lock)
    finally:
        snapshot.release()
