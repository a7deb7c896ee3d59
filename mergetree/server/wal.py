"""Write-ahead log for the Events API: group commit, batching flusher, idempotent replay.

The life of an event (``POST /v0/events?name=DS``):

1. ``events.py`` converts the NDJSON body into a Block of good rows and a Block of quarantined
   rows (``Engine.convert`` / ``Engine.quarantine_block``) and calls :meth:`IngestLog.append`.
2. :class:`WalWriter` queues the record; its committer thread takes *every* queued record,
   writes them with one ``write`` and one ``fdatasync`` to the current segment file
   (``wal/segment_<id>.wal``) and only then resolves the requests' futures: concurrent requests
   share one fsync (group commit). The request answers **202** here: the rows are durable.
3. The durable records are handed (in the same critical section) to the flusher's in-memory
   ``pending`` list, in log order, each with a sequence number.
4. The :class:`Flusher` thread wakes every ``interval`` seconds (default 1 s; sooner when a
   ``wait=true`` request is waiting, after up to ``wait_linger`` (20 ms) for the other
   ``wait=true`` requests being converted, or, when the last flush answered several waiters,
   for the clients it released; or when ``max_pending_rows`` are pending),
   *rotates* the log
   (the current segment is closed and a new one opened, under the same lock as the committer's
   writes, so the swapped ``pending`` list holds exactly the records of the closed segments) and
   writes one block per data source (and one per quarantine table) with ``Engine.insert_block``:
   parts are written in batches, never one part per request.
5. After every table's insert has committed, the closed segments are deleted and
   ``wait=true`` requests answer **200**.

Record format: ``b"MTW2"`` (or ``b"MTW1"``), payload length (u32 LE), CRC-32 of the payload
(u32 LE), payload = ``(datasource, good Block, quarantine Block | None[, tag])``: MTW2 as msgpack
of each column's type name and raw arrays (number/date and String columns), MTW1 as ``pickle``
(protocol 5) for blocks with other columns (see ``encode_record``). A segment is
read up to the first incomplete or mismatching record (a torn tail of a write that was never
acknowledged). A failed write is truncated away before anything else is appended.

Why replay cannot insert a row twice (kill -9 anywhere):

* Before inserting, the flush takes ``Engine.write_lock`` (every writer of the tables takes it),
  records for each table the *watermark* (the highest block number among its active parts) and
  writes ``flush.json`` = ``{"upto": last segment id, "watermarks": {table: N}, "done": []}``
  atomically (tmp + fsync + rename + fsync dir). After each table's insert commits it rewrites
  ``flush.json`` with the table added to ``done``. Then it deletes segments <= ``upto`` and
  ``flush.json``.
* Retries after a failed attempt (too many parts, I/O, a bug) stay inside the write lock, so the
  watermark argument holds for them too (see :meth:`Flusher._apply`).
* At start, if ``flush.json`` exists, the records of segments <= ``upto`` are re-applied table by
  table: tables in ``done`` are skipped; for the others, a committed part with a block number
  above the watermark can only come from this flush (the write lock excluded other writers, and
  merges keep block ranges), and an insert commits one part per partition, so
  ``Engine.not_committed_since`` drops the rows of partitions that already have such a part and
  only the rest is inserted. The crash can fall between the commits of two partitions of one
  insert, so the check is per partition, not per table.
* Segments above ``upto`` (or all, without ``flush.json``) were never flushed: replayed as a
  normal flush. A crash between writing a record and answering 202 may replay rows the client
  saw fail; every row of a 2xx answer is present exactly once.

An insert that fails without a crash (too many parts) is retried the same way (``flush.json``
stays, committed partitions are skipped); a flush that raises is kept as *unfinished* and
completed from its ``flush.json`` before the next flush takes new records. A data source dropped
before its rows were flushed loses them (logged, counted in ``Flusher.dropped_rows``): the user
deleted the destination; so does one dropped and re-created with other columns (blocks whose
columns differ from the table's). Nothing else discards an acknowledged row. Rows are converted
to the table's types before they are logged, so a flush never parses input: no row can fail
there for its content.

A table whose insert keeps failing (an engine refusal, a bug) must neither lose its rows nor
block the other tables. Its rows not yet committed (``Engine.not_committed_since``, still under
the write lock) are *re-logged*: appended to the current segment (above ``upto``) as a record
tagged ``(upto, table)`` and fsynced, and only then is the table marked done in ``flush.json``,
so the flush completes for everyone else. The tagged record is the commit point: recovery (and
the retry of an unfinished flush) treats a table as done when a record tagged with its flush
is in the log, so the rows are never inserted twice nor lost. The table then backs off
(``retry_backoff`` doubling up to ``retry_backoff_max``): until its next try its rows are
re-logged, not inserted, by each flush. Each failed try is logged once and counted
(``Flusher.insert_failures``); ``Flusher.status()`` (``GET /v0/health``) reports the failing
tables' count. ``wait=true`` requests of re-logged rows follow them to their new record.

Simplifications: records with other column kinds are pickled Blocks (ties the log to the column
classes of this version, so a version upgrade must start with an empty log: a segment that cannot be read is
moved to ``wal/broken/`` and reported, never deleted); pending rows are held in memory until
their flush.
"""

from __future__ import annotations

import concurrent.futures
import functools
import logging
import os
import pickle
import re
import shutil
import struct
import threading
import time
import zlib
from pathlib import Path

import msgpack
import numpy as np
import orjson

from mergetree.server.files import atomic_write, fsync_dir

log = logging.getLogger("mergetree.server.wal")

MAGIC = b"MTW1"              # payload: pickle
MAGIC_COMPACT = b"MTW2"      # payload: msgpack of raw column arrays (encode_record)
_HEADER = struct.Struct("<4sII")
_SEGMENT_RE = re.compile(r"^segment_(\d{16})\.wal$")
FLUSH_LOG = "flush.json"


def encode_record(ds: str, block, quarantine, tag: tuple | None = None) -> bytes:
    """``tag`` = ``(upto, table)`` marks rows re-logged by a flush whose insert failed.

    Blocks of plain number/date and String columns (the Events API's usual rows) are written
    compactly (``MTW2``: msgpack of each column's type name and raw arrays, ~5x cheaper than
    pickling the column objects, which cost a single-event request ~30 us); any other block
    is pickled (``MTW1``)."""
    compact = _compact_block(block) if block is not None else None
    qcompact = _compact_block(quarantine) if quarantine is not None else None
    if (block is None or compact is not None) and (quarantine is None or qcompact is not None):
        payload = msgpack.packb([ds, compact, qcompact, list(tag) if tag is not None else None])
        magic = MAGIC_COMPACT
    else:
        record = (ds, block, quarantine) if tag is None else (ds, block, quarantine, tag)
        payload = pickle.dumps(record, protocol=5)
        magic = MAGIC
    return _HEADER.pack(magic, len(payload), zlib.crc32(payload)) + payload


#: type -> its name when parse_type(name) gives the type back, else None (pickled)
_TYPE_NAMES: dict = {}


def _type_name(t) -> str | None:
    try:
        return _TYPE_NAMES[t]
    except KeyError:
        pass
    from mergetree.types import parse_type

    try:
        name = str(t)
        name = name if parse_type(name) == t else None
    except Exception:  # noqa: BLE001 - not expressible by name: pickle it
        name = None
    _TYPE_NAMES[t] = name
    return name


def _compact_block(block) -> list | None:
    """[rows, [name, type, b"F", values] | [name, type, b"S", offsets, data], ...], or None."""
    from mergetree.column import FixedColumn, StringColumn

    cols = []
    for name, c in block.columns.items():
        tname = _type_name(c.type)
        if tname is None:
            return None
        if type(c) is FixedColumn:
            v = c.values
            if v.ndim != 1 or v.dtype.hasobject:
                return None
            cols.append([name, tname, v.dtype.str, v.tobytes()])
        elif type(c) is StringColumn:
            if c.offsets.dtype != np.int64 or c.data.dtype != np.uint8:
                return None
            cols.append([name, tname, "S", c.offsets.tobytes(), c.data.tobytes()])
        else:
            return None
    return [block.num_rows, cols]


def _block_from_compact(enc):
    from mergetree.column import Block, FixedColumn, StringColumn

    if enc is None:
        return None
    rows, cols = enc
    out = {}
    for col in cols:
        name, tname, kind = col[0], _parse_type_cached(col[1]), col[2]
        if kind == "S":
            out[name] = StringColumn(tname, np.frombuffer(col[3], np.int64).copy(),
                                     np.frombuffer(col[4], np.uint8).copy())
        else:
            out[name] = FixedColumn(tname, np.frombuffer(col[3], np.dtype(kind)).copy())
    return Block(out, num_rows=rows)


@functools.lru_cache(maxsize=1024)
def _parse_type_cached(name: str):
    from mergetree.types import parse_type

    return parse_type(name)


def _decode(magic: bytes, payload: bytes) -> tuple:
    if magic == MAGIC:
        return pickle.loads(payload)
    ds, block, quarantine, tag = msgpack.unpackb(payload)
    record = (ds, _block_from_compact(block), _block_from_compact(quarantine))
    return record if tag is None else (*record, tuple(tag))


def read_segment(path: Path) -> list[tuple]:
    """The records of one segment file, up to the first torn or corrupt one."""
    data = path.read_bytes()
    out, pos = [], 0
    while pos + _HEADER.size <= len(data):
        magic, length, crc = _HEADER.unpack_from(data, pos)
        start = pos + _HEADER.size
        payload = data[start:start + length]
        if magic not in (MAGIC, MAGIC_COMPACT) or len(payload) != length or zlib.crc32(payload) != crc:
            break
        out.append(_decode(magic, payload))
        pos = start + length
    if pos != len(data):
        log.warning("WAL segment %s: ignoring %d bytes of an unacknowledged torn write at offset %d",
                    path.name, len(data) - pos, pos)
    return out


def _record_rows(rec: tuple) -> int:
    return sum(b.num_rows for b in rec[1:3] if b is not None)


def _settle(fut: concurrent.futures.Future, result=None, exception: BaseException | None = None) -> None:
    """Resolve a request's future; one cancelled by its request (timeout, disconnect) is skipped."""
    try:
        if exception is not None:
            fut.set_exception(exception)
        else:
            fut.set_result(result)
    except concurrent.futures.InvalidStateError:
        pass


def _settle_all(pairs: list, exception: BaseException | None = None) -> None:
    """Resolve [(future, result)]: concurrent futures here, asyncio futures by one callback per loop."""
    loops: dict = {}
    for fut, result in pairs:
        if isinstance(fut, concurrent.futures.Future):
            _settle(fut, result, exception)
        else:
            loops.setdefault(fut.get_loop(), []).append((fut, result))
    for loop, items in loops.items():
        try:
            loop.call_soon_threadsafe(_settle_async, items, exception)
        except RuntimeError:        # the loop is closed: nobody waits any more
            pass


def _settle_async(items: list, exception: BaseException | None) -> None:
    for fut, result in items:
        if fut.done():              # its request was cancelled (timeout, disconnect)
            continue
        if exception is not None:
            fut.set_exception(exception)
        else:
            fut.set_result(result)


class WalWriter:
    """Segment files + the group-commit thread."""

    def __init__(self, directory: Path, on_durable):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.on_durable = on_durable          # called with [(ds, block, qblock)] under io_lock
        self.io_lock = threading.Lock()
        self._cond = threading.Condition()
        self._queue: list[tuple[bytes, tuple, concurrent.futures.Future]] = []
        self._stopping = False
        self._fd: int | None = None
        self.segment_id = 0
        self.fsyncs = 0
        self._thread = threading.Thread(target=self._run, name="wal-committer", daemon=True)

    def segments(self) -> list[tuple[int, Path]]:
        out = []
        for p in self.dir.iterdir():
            m = _SEGMENT_RE.match(p.name)
            if m:
                out.append((int(m.group(1)), p))
        return sorted(out)

    def start(self, segment_id: int) -> None:
        self._open(segment_id)
        self._thread.start()

    def _open(self, segment_id: int) -> None:
        self.segment_id = segment_id
        path = self.dir / f"segment_{segment_id:016d}.wal"
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        fsync_dir(self.dir)

    def rotate(self) -> int:
        """Close the current segment, open the next; returns the closed id. Caller holds io_lock."""
        closed = self.segment_id
        os.close(self._fd)
        self._open(closed + 1)
        return closed

    def delete_upto(self, segment_id: int) -> None:
        for sid, path in self.segments():
            if sid <= segment_id:
                path.unlink(missing_ok=True)
        fsync_dir(self.dir)

    def append(self, frame: bytes, record: tuple, loop=None):
        """Queue a record; returns a future of its sequence number, resolved once fsynced.

        With ``loop`` (called on that event loop's thread) the future is an asyncio future of
        that loop, and every such future of one group commit is resolved by one
        ``call_soon_threadsafe``: a request then costs no ``concurrent.futures.Future`` (a
        Condition and its lock), no ``wrap_future`` chaining and no wake-up of its own."""
        fut = loop.create_future() if loop is not None else concurrent.futures.Future()
        with self._cond:
            if self._stopping:
                raise RuntimeError("the write-ahead log is closed")
            self._queue.append((frame, record, fut))
            if len(self._queue) == 1:
                self._cond.notify()
        return fut

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._stopping:
                    self._cond.wait()
                if not self._queue:
                    return
                batch, self._queue = self._queue, []
            try:
                with self.io_lock:
                    self._write_all(b"".join(f for f, _, _ in batch) if len(batch) > 1 else batch[0][0])
                    seqs = self.on_durable([r for _, r, _ in batch])
            except BaseException as e:   # noqa: BLE001 - every waiter must learn about it
                log.exception("WAL write failed")
                _settle_all([(fut, None) for _, _, fut in batch], e)
                continue
            _settle_all([(fut, seq) for (_, _, fut), seq in zip(batch, seqs)])

    def _write_all(self, data: bytes) -> None:
        start = os.lseek(self._fd, 0, os.SEEK_END)
        try:
            view = memoryview(data)
            while view:
                n = os.write(self._fd, view)
                view = view[n:]
            os.fdatasync(self._fd)
            self.fsyncs += 1
        except BaseException:
            os.ftruncate(self._fd, start)     # never leave a torn record before later ones
            raise

    def stop(self) -> None:
        """Refuse new records and wait until every queued one is written (the file stays open)."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join()

    def close(self) -> None:
        self.stop()
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class Flusher:
    """Pending durable records -> parts, in batches; recovery of the log at start."""

    def __init__(self, engine, directory: Path, *, interval: float = 1.0, max_pending_rows: int = 1_000_000,
                 overload_rows: int = 10_000_000):
        self.engine = engine
        self.dir = Path(directory)
        self.interval = interval
        #: called (table, block, seconds) after each committed insert (H9: server/service_ds.py ops log)
        self.on_flushed = None
        self.max_pending_rows = max_pending_rows      # wake the flusher early beyond this
        #: a flush started by a wait=true request first waits up to this long for the other wait=true
        #: requests being converted (clients released by one flush send their next ones together):
        #: one part for all of them, not one each; a lone client never waits
        self.wait_linger = 0.02
        #: wait=true requests between their arrival and their waiting for visibility (events.py)
        self.waits_in_flight = 0
        self._released_last = 0             # waiters answered by the last flush (>1: concurrent clients)
        self.overload_rows = overload_rows            # the Events API answers 503 beyond this
        self.wal = WalWriter(self.dir, self._on_durable)
        self._lock = threading.Lock()                 # pending, seq, waiters
        self._flush_lock = threading.Lock()           # one flush at a time
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._pending: list[tuple[int, tuple]] = []
        self._pending_rows = 0
        self._seq = 0
        self.flushed_seq = 0
        self._waiters: list[tuple[int, concurrent.futures.Future]] = []
        self._unfinished: tuple[list, int] | None = None     # (batch, upto) of a failed flush
        self.dropped_rows = 0                 # rows of dropped data sources, discarded
        self.flushes = 0
        self.insert_failures = 0              # failed insert tries (each logged once)
        self.retry_backoff = 1.0              # seconds before the 2nd try of a failing table
        self.retry_backoff_max = 60.0
        self._failing: dict[str, dict] = {}   # table -> {"attempts", "since", "next_try"}
        self._redirect: dict[int, int] = {}   # seq of a record -> seq its rows were re-logged as
        self._thread = threading.Thread(target=self._run, name="wal-flusher", daemon=True)

    # ---- public

    def start(self) -> None:
        """Replay the log (synchronously), then start the committer and the flusher threads."""
        segments = self.wal.segments()
        records = self._read_segments(segments)
        # the committer runs during recovery: a failing table's rows are re-logged (above upto)
        self.wal.start(max([sid for sid, _ in segments], default=0) + 1)
        pending = self._recover(records)
        if pending:
            with self._lock:
                for rec in pending:
                    self._seq += 1
                    self._pending.append((self._seq, rec))
                    self._pending_rows += _record_rows(rec)
            try:
                self.flush()
            except Exception:  # noqa: BLE001 - kept as unfinished; the flusher thread retries it
                log.exception("replaying the write-ahead log failed; the flusher will retry")
        self._thread.start()
        if hasattr(self.engine, "prepare_ndjson_kernels"):
            self.engine.prepare_ndjson_kernels()    # the Events API's NDJSON kernels get ready in the background

    def append(self, ds: str, block, quarantine=None) -> concurrent.futures.Future:
        """Durably log rows for ``ds``; the future resolves to a sequence number once fsynced."""
        return self.wal.append(encode_record(ds, block, quarantine), (ds, block, quarantine))

    def append_frame(self, frame: bytes, record: tuple, loop=None):
        """``append`` of an encoded record; with ``loop``, an asyncio future (see ``WalWriter.append``)."""
        return self.wal.append(frame, record, loop)

    def visible(self, seq: int) -> concurrent.futures.Future:
        """A future resolved once the record ``seq`` is in committed parts."""
        fut: concurrent.futures.Future = concurrent.futures.Future()
        with self._lock:
            if self._resolve(seq) <= self.flushed_seq:
                fut.set_result(seq)
                return fut
            self._waiters.append((seq, fut))
        self._wake.set()
        return fut

    def flush(self) -> int:
        """Flush everything durable so far; returns the number of records flushed.

        A flush that failed (an exception, not a crash) is finished first, from its own
        ``flush.json``, before new records are taken: its tables may be partly committed, so
        its watermarks, not fresh ones, decide what is still missing.
        """
        with self._flush_lock:
            if self._unfinished is not None:
                self._finish_unfinished()
            with self.wal.io_lock:
                with self._lock:
                    if self._failing and all(self._backing_off_only(rec) for _, rec in self._pending):
                        return 0      # only tables waiting for their next try: nothing to do yet
                    batch, self._pending, self._pending_rows = self._pending, [], 0
                if not batch:
                    return 0
                upto = self.wal.rotate()
            try:
                moved = self._flush_batch([rec for _, rec in batch], upto)
            except BaseException:
                self._unfinished = (batch, upto)
                raise
            self._complete(batch, upto, moved)
            return len(batch)

    def status(self) -> dict:
        """For ``GET /v0/health``: counts only (no table names, no error texts)."""
        failing = len(self._failing)
        return {"status": "failing" if failing else "ok", "pending_rows": self._pending_rows,
                "failing_tables": failing, "insert_failures": self.insert_failures,
                "dropped_rows": self.dropped_rows}

    def _finish_unfinished(self) -> None:
        batch, upto = self._unfinished
        records = [rec for _, rec in batch]
        path = self.dir / FLUSH_LOG
        if path.exists():
            with self._lock:       # tables whose rows this flush already re-logged
                moved = {rec[3][1]: seq for seq, rec in self._pending if len(rec) > 3 and rec[3][0] == upto}
            with self.engine.write_lock:
                moved.update(self._apply(orjson.loads(path.read_bytes()), self._group(records),
                                         recovering=True, moved=moved))
        else:                       # it failed before writing its log: nothing was inserted
            moved = self._flush_batch(records, upto)
        self._unfinished = None
        self._complete(batch, upto, moved)

    def _complete(self, batch: list, upto: int, moved: dict[str, int] | None = None) -> None:
        self.wal.delete_upto(upto)
        (self.dir / FLUSH_LOG).unlink(missing_ok=True)
        self.flushes += 1
        if moved:                   # wait=true requests follow their re-logged rows
            with self._lock:
                for seq, rec in batch:
                    hit = [moved[n] for n in self._group([rec]) if n in moved]
                    if hit:
                        self._redirect[seq] = max(hit)
        self._release(batch[-1][0])

    def close(self) -> None:
        """Stop accepting, flush what is durable, stop the threads, close the log."""
        self.wal.stop()
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join()
        try:
            self.flush()
        except Exception:  # noqa: BLE001 - the log keeps the rows; the next start replays them
            log.exception("final flush failed; rows stay in the write-ahead log")
        self.wal.close()

    @property
    def pending_rows(self) -> int:
        return self._pending_rows

    @property
    def overloaded(self) -> bool:
        """More rows wait in memory than ``overload_rows`` (flushes cannot keep up): push back."""
        return self._pending_rows >= self.overload_rows

    # ---- internals

    def _on_durable(self, records: list[tuple]) -> list[int]:
        with self._lock:
            seqs = []
            for rec in records:
                self._seq += 1
                self._pending.append((self._seq, rec))
                self._pending_rows += _record_rows(rec)
                seqs.append(self._seq)
            if self._pending_rows >= self.max_pending_rows:
                self._wake.set()
        return seqs

    def _resolve(self, seq: int) -> int:
        """The sequence number of the record that now holds ``seq``'s rows. Caller holds _lock."""
        while seq in self._redirect:
            seq = self._redirect[seq]
        return seq

    def _release(self, seq: int) -> None:
        with self._lock:
            self.flushed_seq = max(self.flushed_seq, seq)
            if self._redirect:
                self._redirect = {s: t for s, t in self._redirect.items() if self._resolve(t) > self.flushed_seq}
            ready = [f for s, f in self._waiters if self._resolve(s) <= self.flushed_seq]
            self._waiters = [(s, f) for s, f in self._waiters if self._resolve(s) > self.flushed_seq]
            self._released_last = len(ready)
        for f in ready:
            _settle(f, result=seq)

    def _backing_off(self, name: str) -> bool:
        st = self._failing.get(name)
        return st is not None and time.monotonic() < st["next_try"]

    def _backing_off_only(self, rec: tuple) -> bool:
        return all(self._backing_off(n) for n in self._group([rec]))

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.interval)
            self._wake.clear()
            if self._stop.is_set():
                return
            if self._waiters and self.wait_linger:
                deadline = time.monotonic() + self.wait_linger
                concurrent_clients = self._released_last > 1    # they come back together: wait for all
                while (concurrent_clients or self.waits_in_flight > 0) \
                        and self._pending_rows < self.max_pending_rows and time.monotonic() < deadline:
                    if self._stop.wait(0.002):
                        return
                self._wake.clear()
            try:
                self.flush()
            except Exception:  # noqa: BLE001 - retried at the next tick; the rows are in the log
                log.exception("flush failed; retrying")
                time.sleep(min(self.interval, 1.0))

    @staticmethod
    def _group(records: list[tuple]) -> dict[str, list]:
        from mergetree.server.engine import QUARANTINE_SUFFIX

        groups: dict[str, list] = {}
        for ds, block, quarantine, *_ in records:
            if block is not None and block.num_rows:
                groups.setdefault(ds, []).append(block)
            if quarantine is not None and quarantine.num_rows:
                groups.setdefault(ds + QUARANTINE_SUFFIX, []).append(quarantine)
        return groups

    def _flush_batch(self, records: list[tuple], upto: int) -> dict[str, int]:
        from mergetree.server.engine import QUARANTINE_SUFFIX

        groups = self._group(records)
        if hasattr(self.engine, "flush_order"):   # materialized-view targets before their sources
            groups = {n: groups[n] for n in self.engine.flush_order(list(groups))}
        with self.engine.write_lock:
            for name in list(groups):
                base = name[:-len(QUARANTINE_SUFFIX)] if name.endswith(QUARANTINE_SUFFIX) else None
                if base is not None and self.engine.exists(base):
                    self.engine.ensure_quarantine(base)
                elif not self.engine.exists(name):
                    self._drop(name, groups.pop(name), "the data source was dropped")
            flush_log = {"upto": upto, "watermarks": {n: self.engine.insert_watermark(n) for n in groups},
                         "done": []}
            atomic_write(self.dir / FLUSH_LOG, orjson.dumps(flush_log))
            return self._apply(flush_log, groups, recovering=False)

    def _apply(self, flush_log: dict, groups: dict[str, list], recovering: bool,
               moved: dict[str, int] | None = None) -> dict[str, int]:
        """Insert each table's rows that are not committed yet; mark tables done in flush.json.

        Runs under ``Engine.write_lock`` (the caller holds it): retries happen *inside* the lock,
        so no other writer can commit parts between an attempt and the watermark check of the
        next one. Transient failures (too many parts, I/O) are retried here. Any other failure
        (an engine refusal, a bug) re-logs the rows not committed yet and backs the table off
        (see the module docstring); so does a table still backing off from an earlier failure.
        ``moved`` names tables this flush already re-logged. Returns {table: seq of the record
        its rows were re-logged as}.
        """
        from mergetree.column import Block
        from mergetree.errors import TooManyPartsError

        moved = dict(moved or {})
        relogged: dict[str, int] = {}
        upto = int(flush_log["upto"])
        for name, watermark in flush_log["watermarks"].items():
            if name in flush_log["done"] or name not in groups:
                continue
            if name in moved:       # its remaining rows are already in a record tagged (upto, name)
                relogged[name] = moved[name]
                flush_log["done"].append(name)
                atomic_write(self.dir / FLUSH_LOG, orjson.dumps(flush_log))
                continue
            blocks = groups[name]
            if self.engine.exists(name):  # no ALTER changes columns: other ones = dropped + re-created
                current = self.engine.schema(name)
                # rows acknowledged before an ALTER ADD COLUMN (H6 hook): carried over to the new columns
                blocks = [b if b.schema == current else (self.engine.upgrade_block(name, b) or b) for b in blocks]
                stale = [b for b in blocks if b.schema != current]
                if stale:
                    self._drop(name, stale, "the data source was dropped and re-created with other columns")
                    blocks = [b for b in blocks if b.schema == current]
            block = Block.concat(blocks)
            attempt = 0
            keep = False            # re-log the rows left in ``block`` (outside the retry loop)
            while True:
                try:
                    if not self.engine.exists(name):
                        self._drop(name, [block], "the table no longer exists")
                        break
                    if recovering or attempt:
                        block = self.engine.not_committed_since(name, block, watermark)
                    if block.num_rows and self._backing_off(name):
                        keep = True
                        break
                    if block.num_rows:
                        t0 = time.perf_counter()
                        self.engine.insert_block(name, block)
                        if self.on_flushed is not None:
                            self.on_flushed(name, block, time.perf_counter() - t0)
                    self._succeeded(name)
                    break
                except (TooManyPartsError, OSError) as e:
                    attempt += 1
                    if self._stop.is_set() and attempt > 3:
                        raise
                    log.warning("flush into %s failed (%s); retrying", name, e)
                    time.sleep(min(0.1 * 2 ** attempt, 5.0))
                except Exception as e:  # noqa: BLE001 - keep the rows, back off, let the others go
                    block = self.engine.not_committed_since(name, block, watermark)
                    self._failed(name, e, block.num_rows)
                    keep = True
                    break
            if keep and block.num_rows:
                relogged[name] = self._relog(name, block, upto)
            flush_log["done"].append(name)
            atomic_write(self.dir / FLUSH_LOG, orjson.dumps(flush_log))
        return relogged

    def _relog(self, name: str, block, upto: int) -> int:
        """Durably append ``block`` (rows for table ``name``) as a record tagged ``(upto, name)``."""
        record = (name, block, None, (upto, name))
        return self.wal.append(encode_record(*record), record).result()

    def _failed(self, name: str, error: Exception, rows: int) -> None:
        st = self._failing.setdefault(name, {"attempts": 0, "since": time.time()})
        st["attempts"] += 1
        self.insert_failures += 1
        delay = min(self.retry_backoff * 2 ** (st["attempts"] - 1), self.retry_backoff_max)
        st["next_try"] = time.monotonic() + delay
        log.error("write-ahead log: insert into %s failed (try %d, %s); its %d rows stay in the log, "
                  "next try in %.1f s", name, st["attempts"], type(error).__name__, rows, delay,
                  exc_info=error)
        if not rows:                # it failed after committing everything: nothing is waiting
            self._failing.pop(name, None)

    def _succeeded(self, name: str) -> None:
        st = self._failing.pop(name, None)
        if st is not None:
            log.warning("write-ahead log: insert into %s succeeded after %d failed tries", name, st["attempts"])

    def _drop(self, name: str, blocks: list, why: str) -> None:
        n = sum(b.num_rows for b in blocks)
        self.dropped_rows += n
        log.error("write-ahead log: %d rows for %s not inserted: %s", n, name, why)

    def _read_segments(self, segments: list[tuple[int, Path]]) -> list[tuple[int, tuple]]:
        records: list[tuple[int, tuple]] = []
        for sid, path in segments:
            try:
                records.extend((sid, r) for r in read_segment(path))
            except Exception as e:  # noqa: BLE001 - keep the file for a human, never delete it
                broken = self.dir / "broken"
                broken.mkdir(exist_ok=True)
                shutil.move(str(path), broken / path.name)
                log.error("WAL segment %s cannot be read (%s): moved to %s", path.name, e, broken)
        return records

    def _recover(self, records: list[tuple[int, tuple]]) -> list[tuple]:
        """Finish an interrupted flush; return the records of never-flushed segments."""
        flush_path = self.dir / FLUSH_LOG
        upto = 0
        if flush_path.exists():
            flush_log = orjson.loads(flush_path.read_bytes())
            upto = int(flush_log["upto"])
            old = [r for sid, r in records if sid <= upto]
            log.info("WAL: finishing an interrupted flush of %d records (segments <= %d)", len(old), upto)
            moved = {r[3][1]: 0 for sid, r in records if sid > upto and len(r) > 3 and r[3][0] == upto}
            with self.engine.write_lock:
                self._apply(flush_log, self._group(old), recovering=True, moved=moved)
            self.wal.delete_upto(upto)
            flush_path.unlink()
            fsync_dir(self.dir)
        rest = [r for sid, r in records if sid > upto]
        if rest:
            log.info("WAL: replaying %d records", len(rest))
        return rest
