"""Read-only query replicas in worker processes: what ``mergetree serve --workers N`` runs SELECTs on.

A server process keeps everything that writes or decides (HTTP, tokens, pipes, the Events API,
the write-ahead log, merges) and hands the *execution* of read statements (plan + run) to N worker
processes, so that queries use more than the one core a Python process gets under the GIL. The
server reaches this module only through ``server/engine.py`` (``Engine.start_workers``; the
worker processes run ``python -m mergetree.replica``).

Correctness rests on one rule: **the server pins the parts, the worker reads exactly those.**
For each statement, ``Engine.run`` takes a storage snapshot of every table (``Engine.pin_tables``:
the same pin an in-process query takes) and sends the worker the statement and, per table, each
active part's current directory and identity (``_part_ref``: device/inode/size/mtime of its
``checksums.txt``), plus the table's metadata when the worker has not seen that version. The worker
opens those parts (read-only, kept while they stay in the snapshots: parts are immutable) and plans
and runs the statement over them; the server releases the pins only when the answer is back. So:

* a row acknowledged before the request (``wait=true`` 200, or flushed) is in a committed part,
  hence in the snapshot, hence visible in the worker: read-your-writes as in-process;
* a merge or a delete cannot remove a part a worker is reading (``cleanup_outdated`` removes only
  unpinned outdated parts; no grace period is needed); a worker drops its cached parts that left
  the snapshot before reading;
* the worker never writes: its tables are :class:`ReplicaTable` (no recovery at open, no
  cleanup, no quarantine), its database has no write methods;
* DROP / RENAME / EXCHANGE under a running statement (``database._retire`` hard-links the pinned
  parts into ``.dropped_<t>_<id>_pinned``): the worker opens the directory whose checksums.txt has
  the part's identity (the sent one, else the kept links) and reads its files through that
  directory's descriptor (``/proc/self/fd/N``), so a moved directory is followed and a table created
  again under the same name (same part names) is never read; files a DROP removed before the worker
  read them are read from the kept links (the statement runs again once); if the part is nowhere,
  UNKNOWN_TABLE "was dropped, renamed or exchanged while the query ran", as in-process.

A pipe endpoint call (``GET /v0/pipes/NAME.json`` without ``q=``) goes further
(:meth:`WorkerPool.run_pipe`, hook ``server/pipes.run_pipe_in_worker``): the server sends the pipe's
name and parameters (and the served pipes when the worker has not seen that version), the worker
renders, parses (its own shape cache), inlines, runs and encodes it and answers the body bytes, so the
server's GIL does only HTTP, the pins and the relay (measured: 1.28 -> 0.57 ms of server CPU per
user_activity call with 2 workers). A template or SQL error, a ``tb_secret()``, an encoding error:
"fallback", and the server does the whole call itself (so every error text is the usual one).

Anything the worker cannot do (an unknown attribute of the database, a crash, a non-engine error)
answers "fallback" and the server runs the statement itself: a worker never changes an answer,
it only moves where the work runs. Engine errors (``MergeTreeError``) come back as the same class
with the same message. Workers start in the background; until one is ready, statements run
in-process. A dead worker is replaced. A statement's cancel event is forwarded (a ``cancel`` frame
read while the statement runs by the worker's `_CancelWatcher`).

Protocol: a ``socketpair``; frames of a 4-byte big-endian length + a pickle of ``(seq, kind, (tables,
views), args)``, ``(tables, views)`` None when the worker holds exactly those already (after its last
"ok"; the usual case between inserts and merges: it then updates nothing). Kind "sql": the statement
AST (frozen dataclasses), answered by the Result's numpy columns; kind "pipe": answered by the
encoded body and the read statistics.
"""

from __future__ import annotations

import collections
import importlib
import logging
import os
import pickle
import socket
import struct
import subprocess
import sys
import threading
from pathlib import Path

from mergetree.errors import MergeTreeError, UnknownTableError

log = logging.getLogger("mergetree.replica")

_LEN = struct.Struct(">I")
FALLBACK = object()          # Engine.run: run it in-process
_CHECKSUMS = "checksums.txt"
_KEPT_PREFIX, _KEPT_SUFFIX = ".dropped_", "_pinned"      # database._retire's links of pinned parts
#: /proc/self/fd/N reaches an open directory wherever it moved (Linux): a worker's part reads its files
#: through it, so a RENAME / EXCHANGE / DROP of the table's directory cannot swap another table's in
_PROC_FD = os.path.isdir("/proc/self/fd")
#: tests only: a directory where the worker pauses at a step while ``<step>.sock`` exists (see _test_pause)
_PAUSE_DIR = os.environ.get("MERGETREE_WORKER_TEST_PAUSE_DIR")


def send_frame(sock: socket.socket, payload: bytes) -> None:
    if len(payload) < 65536:
        sock.sendall(_LEN.pack(len(payload)) + payload)       # one syscall for the usual small frame
    else:
        sock.sendall(_LEN.pack(len(payload)))
        sock.sendall(payload)


def recv_frame(sock: socket.socket) -> bytes | None:
    head = _recv_exact(sock, 4)
    if head is None:
        return None
    body = _recv_exact(sock, _LEN.unpack(head)[0])
    if body is None:
        raise ConnectionError("worker connection closed mid-frame")
    return body


def _recv_exact(sock: socket.socket, n: int) -> bytes | None:
    first = sock.recv(n)                    # the usual case: all of it at once, no copies
    if len(first) == n:
        return first
    if not first:
        return None
    buf = bytearray(n)
    buf[:len(first)] = first
    view = memoryview(buf)
    got = len(first)
    while got < n:
        k = sock.recv_into(view[got:], n - got)
        if k == 0:
            raise ConnectionError("worker connection closed mid-frame")
        got += k
    return bytes(buf)


# Statement ASTs (frozen slotted dataclasses of sqlparse_ch) pickle through dataclasses'
# __getstate__, which calls fields() per node: ~0.5 ms for an endpoint's statement. A reducer of
# (class, field values) by a cached attrgetter is 3x cheaper to write (and a little to read).

_AST_FIELDS: dict = {}


def _ast_getter(cls):
    import dataclasses
    from operator import attrgetter

    names = tuple(f.name for f in dataclasses.fields(cls))
    if not names:
        getter = lambda o: ()                              # noqa: E731
    elif len(names) == 1:
        getter = lambda o, n=names[0]: (getattr(o, n),)    # noqa: E731
    else:
        getter = attrgetter(*names)
    _AST_FIELDS[cls] = (names, getter)
    return _AST_FIELDS[cls]


def _make_ast(cls, values):
    names = (_AST_FIELDS.get(cls) or _ast_getter(cls))[0]
    obj = object.__new__(cls)
    for name, value in zip(names, values):
        object.__setattr__(obj, name, value)
    return obj


class _RequestPickler(pickle.Pickler):
    def reducer_override(self, obj):
        cls = type(obj)
        entry = _AST_FIELDS.get(cls)
        if entry is None:
            if not (cls.__module__.startswith("sqlparse_ch.") and hasattr(cls, "__dataclass_fields__")):
                return NotImplemented
            entry = _ast_getter(cls)
        return _make_ast, (cls, entry[1](obj))


def dumps_request(obj) -> bytes:
    import io

    buf = io.BytesIO()
    _RequestPickler(buf, 5).dump(obj)
    return buf.getvalue()


# =========================================================================== server side


class _Worker:
    def __init__(self, proc: subprocess.Popen, sock: socket.socket):
        self.proc = proc
        self.sock = sock
        self.seen_metadata: set = set()      # metadata keys this worker holds
        self.seen_pipes: set = set()         # the pipes version it holds (run_pipe)
        self.holds = None                    # the tables + parts it holds (WorkerPool._tables_message)
        self.seq = 0                         # statements sent (a cancel names the one it is for)

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


class _IdleWorkers:
    """The idle workers, handed out first come, first served: a worker given back goes straight to
    the thread that has waited longest. (With ``queue.Queue`` the thread that gives a worker back
    takes it again at once for its next request, ahead of a thread already waiting: at 16 clients
    over 2 workers and 3 query threads, the third thread's requests waited up to 2.4 s.)"""

    def __init__(self):
        self._lock = threading.Lock()
        self._idle: list = []
        self._waiters = collections.deque()     # [event, worker or None], oldest first

    def put(self, w) -> None:
        with self._lock:
            if self._waiters:
                slot = self._waiters.popleft()
                slot[1] = w
                slot[0].set()
                return
            self._idle.append(w)

    def get(self, timeout: float):
        """An idle worker, or None after ``timeout`` seconds."""
        with self._lock:
            if self._idle and not self._waiters:
                return self._idle.pop()
            slot = [threading.Event(), None]
            self._waiters.append(slot)
        slot[0].wait(timeout)
        with self._lock:
            if slot[1] is None:             # timed out, nothing handed over
                self._waiters.remove(slot)
                return None
        return slot[1]


class WorkerPool:
    """N worker processes; :meth:`run` is called from the server's query threads (blocking).

    ``pin_tables()`` -> {table: (MergeTreeTable, Snapshot)} and ``view_targets()`` -> {view: target}
    come from the owner of the database (``Engine``)."""

    def __init__(self, pin_tables, view_targets, n: int):
        if n < 1:
            raise ValueError(f"workers must be >= 1, got {n}")
        self.pin_tables = pin_tables
        self.view_targets = view_targets
        self.n = n
        self._idle = _IdleWorkers()
        self._ready = 0
        self._lock = threading.Lock()
        self._closed = False
        self._all: list[_Worker] = []
        self._meta: dict[str, tuple] = {}    # table -> (metadata object, key, pickled)
        self._pipes = None                   # (pipes dict, key, pickled) last sent (run_pipe)
        self._pipes_version = 0
        self._meta_version = 0
        self.stats = {"worker": 0, "fallback": 0, "respawned": 0}
        for _ in range(n):
            self._spawn()

    # ---- processes

    def _spawn(self) -> None:
        parent, child = socket.socketpair()
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        proc = subprocess.Popen([sys.executable, "-m", "mergetree.replica", "--fd", str(child.fileno())],
                                pass_fds=(child.fileno(),), stdin=subprocess.DEVNULL, env=env)
        child.close()
        w = _Worker(proc, parent)
        with self._lock:
            self._all.append(w)
        threading.Thread(target=self._await_ready, args=(w,), name="mergetree-worker-start", daemon=True).start()

    def _await_ready(self, w: _Worker) -> None:
        try:
            hello = recv_frame(w.sock)
        except OSError:
            hello = None
        if hello != b"ready":
            log.error("query worker pid %s did not start (exit code %s)", w.proc.pid, w.proc.poll())
            self._discard(w, respawn=False)
            return
        with self._lock:
            if self._closed:
                return
            self._ready += 1
        self._idle.put(w)

    def _discard(self, w: _Worker, respawn: bool) -> None:
        w.close()
        try:
            w.proc.kill()
            w.proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            pass
        with self._lock:
            if w in self._all:
                self._all.remove(w)
            closed = self._closed
        if respawn and not closed:
            self.stats["respawned"] += 1
            self._spawn()

    def wait_ready(self, timeout: float = 60.0) -> bool:
        """True once every worker has started (tests, benchmarks); statements never need to wait."""
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._ready >= self.n:
                return True
            time.sleep(0.05)
        return False

    def pids(self) -> list[int]:
        with self._lock:
            return [w.proc.pid for w in self._all]

    def close(self) -> None:
        with self._lock:
            self._closed = True
            workers = list(self._all)
            self._all.clear()
        for w in workers:
            w.close()                       # EOF: the worker exits after its current statement
        for w in workers:                   # read-only: killing one that lingers loses nothing
            try:
                w.proc.wait(timeout=1)
            except subprocess.TimeoutExpired:
                w.proc.kill()
                w.proc.wait()

    # ---- statements

    def _tables_message(self, w: _Worker, snaps: dict, views: dict):
        """(what the worker's tables will be, the message, or None when the worker holds exactly
        that already: the usual case between two inserts or merges, then it updates nothing)."""
        content, metas = [], []
        for name, (table, snap) in snaps.items():
            meta = table.metadata
            cached = self._meta.get(name)
            if cached is None or cached[0] is not meta:
                payload = pickle.dumps(meta, 5)
                with self._lock:
                    self._meta_version += 1
                    cached = self._meta[name] = (meta, (name, self._meta_version), payload)
            metas.append(cached)
            content.append((name, str(table.path), cached[1], tuple([_part_ref(table, p) for p in snap.parts])))
        content = (tuple(content), tuple(views.items()))
        if content == w.holds:
            return content, None
        out = {name: (path, key, None if key in w.seen_metadata else cached[2], list(refs))
               for (name, path, key, refs), cached in zip(content[0], metas)}
        return content, (out, views)

    def run(self, stmt, params, settings, row_policies, cancel=None):
        """The statement's Result from a worker, or FALLBACK (run it in-process). ``cancel``
        (threading.Event): when set, the worker is told to stop the statement (QUERY_WAS_CANCELLED)."""
        return self._call("sql", lambda w: (stmt, params, settings, row_policies, cancel is not None), cancel)

    def run_pipe(self, pipes: dict, pipe_name: str, params: dict, ext: str, row_policies, started: float):
        """A pipe endpoint call compiled, run and encoded by a worker: (body bytes, (rows read, bytes
        read, rows)), or FALLBACK (then the server does all of it, the usual way). ``pipes`` is the
        served pipes dict (swapped whole on a reload: its identity is its version), ``started`` the
        request's ``time.perf_counter()`` (CLOCK_MONOTONIC: the same clock in the worker), for the
        answer's ``statistics.elapsed``."""
        cached = self._pipes
        if cached is None or cached[0] is not pipes:
            try:
                payload = pickle.dumps(pipes, 5)
            except Exception as e:  # noqa: BLE001 - a pipe that does not pickle: the server compiles it
                log.debug("pipes not sendable to workers: %s", e)
                self.stats["fallback"] += 1
                return FALLBACK
            with self._lock:
                self._pipes_version += 1
                cached = self._pipes = (pipes, ("pipes", self._pipes_version), payload)
        key = cached[1]

        def message(w):
            return key, (None if key in w.seen_pipes else cached[2]), pipe_name, params, ext, row_policies, started

        def sent(w):
            w.seen_pipes.clear()
            w.seen_pipes.add(key)

        return self._call("pipe", message, None, sent)

    def _call(self, kind: str, args, cancel=None, sent=None):
        """Send ``(seq, kind, (tables, views) or None, args(worker))`` to an idle worker, with every table's parts
        pinned until the answer is back; its answer, or FALLBACK. ``sent(worker)`` after an answer."""
        if self._ready == 0 or self._closed:
            self.stats["fallback"] += 1
            return FALLBACK
        while True:                         # wait for an idle worker while any is alive
            w = self._idle.get(timeout=1.0)
            if w is not None:
                break
            if self._ready <= 0 or self._closed:
                self.stats["fallback"] += 1
                return FALLBACK
        if self._closed:
            self._idle.put(w)
            return FALLBACK
        try:
            snaps = self.pin_tables()
        except BaseException:
            self._idle.put(w)
            raise
        dead = None
        try:
            try:
                holds, tables = self._tables_message(w, snaps, self.view_targets())
                message = (w.seq + 1, kind, tables, args(w))
                # no AST in a pipe call's message: the C pickler as is (no reducer_override hook)
                payload = pickle.dumps(message, 5) if kind == "pipe" else dumps_request(message)
            except Exception as e:  # noqa: BLE001 - e.g. an unpicklable parameter: run it here
                self._idle.put(w)
                log.debug("statement not sent to a worker: %s", e)
                self.stats["fallback"] += 1
                return FALLBACK
            w.seq += 1
            try:
                send_frame(w.sock, payload)
                reply = self._await_reply(w, cancel)
                if reply is None:
                    raise ConnectionError("worker closed its connection")
                seq, (answer, *rest) = pickle.loads(reply)
                if seq != w.seq:
                    raise ConnectionError(f"answer to statement {seq} while waiting for {w.seq}")
            except (OSError, ConnectionError, pickle.UnpicklingError, EOFError) as e:
                dead = e
            except BaseException:          # interrupted mid-exchange: its answer could go to the next
                self._retire(w)             # statement, so this worker is replaced
                raise
            else:
                if tables is not None:
                    for key in [t[1] for t in tables[0].values()]:
                        w.seen_metadata.add(key)
                # after "ok" the worker holds exactly these parts; after anything else (its update may
                # have stopped halfway) the next statement sends them all again
                w.holds = holds if answer == "ok" else None
                if sent is not None:
                    sent(w)
                self._idle.put(w)
        finally:
            for _, snap in snaps.values():
                snap.release()
        if dead is not None:
            log.error("query worker pid %s failed (%s); running the statement in the server", w.proc.pid, dead)
            self._retire(w)
            self.stats["fallback"] += 1
            return FALLBACK
        if cancel is not None and cancel.is_set() and answer == "fallback":
            return FALLBACK                 # in-process with the set event: stops at once, as it would have
        if answer == "ok":
            self.stats["worker"] += 1
            return rest[0]
        if answer == "error":
            raise rebuild_error(*rest)
        log.debug("query worker fallback: %s", rest[0])
        self.stats["fallback"] += 1
        return FALLBACK

    def _retire(self, w: _Worker) -> None:
        with self._lock:
            self._ready -= 1
        self._discard(w, respawn=True)

    @staticmethod
    def _await_reply(w: _Worker, cancel) -> bytes | None:
        if cancel is None:
            return recv_frame(w.sock)
        import select

        told = False
        while True:
            ready, _, _ = select.select([w.sock], [], [], 0.1)
            if ready:
                return recv_frame(w.sock)
            if cancel.is_set() and not told:
                send_frame(w.sock, b"cancel" + _LEN.pack(w.seq))
                told = True


class _NotSendable(Exception):
    """A part whose identity cannot be taken safely now (its table is being retired): run in-process."""


def _part_ref(table, part) -> tuple:
    """(directory, identity) of a pinned part, what the worker reads: the directory is the part's
    own at this instant (``database._retire`` moves a retired table's pinned parts to hard links in
    ``.dropped_<t>_<id>_pinned`` and updates ``part.path``), the identity (device, inode, size,
    mtime of its ``checksums.txt``: the same file under every hard link) lets the worker tell this
    part from a same-named part of a table created again in that directory meanwhile, and find the
    kept links when the directory is gone (:meth:`ReplicaTable.set_parts`). Cached on the part."""
    path = part.path
    cached = part.__dict__.get("_worker_ref")
    if cached is not None and cached[0] is path:
        return cached[1]
    ident = cached[1][1] if cached is not None else None
    if ident is None:
        st = os.stat(path / _CHECKSUMS)
        # taken before any retire began (it sets retired first, then moves directories): this stat saw
        # the part's own file; otherwise it may be another table's, so this statement runs in-process
        if table.retired:
            raise _NotSendable(f"table {table.name} is being dropped, renamed or exchanged")
        ident = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
    ref = (str(path), ident)
    part._worker_ref = (path, ref)
    return ref


_REBUILT: dict = {}


def rebuild_error(module: str, qualname: str, message: str, code: str) -> MergeTreeError:
    """The worker's engine error as the same class (isinstance checks in the views still hold) and
    the same text."""
    cls = None
    try:
        cls = getattr(importlib.import_module(module), qualname, None)
    except ImportError:
        pass
    if not (isinstance(cls, type) and issubclass(cls, MergeTreeError)):
        cls = MergeTreeError
    sub = _REBUILT.get(cls)
    if sub is None:
        sub = _REBUILT[cls] = type(cls.__name__, (cls,), {"__str__": lambda self: self.args[0],
                                                          "__module__": cls.__module__})
    e = sub.__new__(sub)
    Exception.__init__(e, message)
    e.code = code
    return e


# =========================================================================== worker side


class Unsupported(AttributeError):
    """Something a read-only worker does not have: the server runs the statement instead."""


def _replica_table_class():
    from mergetree.storage.table import ACTIVE, MergeTreeTable, _PartEntry

    class ReplicaTable(MergeTreeTable):
        """A table whose active parts are set by the server for each statement; never writes."""

        def set_parts(self, refs: list[tuple]) -> None:
            """The statement's parts: ``refs`` = [(directory, identity)] (:func:`_part_ref`). A part
            is opened once (kept while it stays in the snapshots), through a descriptor of its own
            directory whose ``checksums.txt`` has the identity: never another table's same-named part."""
            wanted = {os.path.basename(d): (d, ident) for d, ident in refs}
            with self._lock:
                for name in [n for n, e in self._entries.items() if e.ref != wanted.get(n)]:
                    self._drop_entry(name)
                for name, ref in wanted.items():
                    entry = self._entries.get(name)
                    if entry is None:
                        self._add_entry(name, ref)
                    else:
                        entry.refs = 0

        def _add_entry(self, name: str, ref: tuple, kept_only: bool = False) -> None:
            from mergetree.storage.part_info import PartInfo

            part, fd = _open_part(Path(ref[0]), ref[1], Path(self.path).parent, kept_only)
            if part is None:
                raise UnknownTableError(f"Table {self.metadata.name} was dropped, renamed or exchanged while "
                                        f"the query ran; run the query again")
            entry = _PartEntry(part, PartInfo.parse(name), state=ACTIVE)
            entry.ref, entry.fd = ref, fd
            self._entries[name] = entry

        def _drop_entry(self, name: str) -> None:
            entry = self._entries.pop(name)
            entry.part.close()
            if entry.fd is not None:
                os.close(entry.fd)

        def reopen_moved(self) -> bool:
            """After a failed read: parts whose files went away meanwhile (a DROP removed the directory
            this worker opened) are opened again from the links kept for the server's pin. True if any
            was; UNKNOWN_TABLE if one is nowhere (as an in-process query that lost its table)."""
            with self._lock:
                gone = [(n, e.ref) for n, e in self._entries.items() if not _files_present(e)]
                for name, ref in gone:
                    self._drop_entry(name)
                    self._add_entry(name, ref, kept_only=True)
            return bool(gone)

        def cleanup_outdated(self) -> list[str]:
            return []

        def parts(self, *args, **kwargs):
            # system.parts also lists the server's outdated parts, which a replica never sees
            raise Unsupported("the part list is the server's (system.parts)")

        def _quarantine(self, part, error) -> None:
            pass                            # the server's own reads detach a broken part

        def _remove_part_dir(self, name: str) -> None:
            raise Unsupported("a query worker never removes parts")

        def _detach_broken(self, part_dir, error) -> None:
            raise Unsupported("a query worker never detaches parts")

        def _commit_part(self, *args, **kwargs):
            raise Unsupported("a query worker never writes")

        def close_parts(self) -> None:
            for name in list(self._entries):
                self._drop_entry(name)

    return ReplicaTable


def _open_dir(path: Path, ident: tuple) -> int | None:
    """A descriptor of ``path`` if it is a directory whose checksums.txt has ``ident``, else None."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return None
    try:
        st = os.stat(_CHECKSUMS, dir_fd=fd)
        if (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns) == ident:
            return fd
    except OSError:
        pass
    os.close(fd)
    return None


def _kept_copies(db_dir: Path, name: str):
    """Where ``database._retire`` keeps pinned parts named ``name`` (``.dropped_<t>_<id>_pinned/name``)."""
    try:
        entries = list(os.scandir(db_dir))
    except OSError:
        return
    for d in entries:
        if d.name.startswith(_KEPT_PREFIX) and d.name.endswith(_KEPT_SUFFIX):
            yield Path(d.path) / name


def _open_part(path: Path, ident: tuple, db_dir: Path, kept_only: bool = False):
    """(DataPart, directory descriptor or None) of the pinned part ``ident``: at ``path`` if that is
    still it, else in the links kept for a running query after a DROP / RENAME / EXCHANGE; (None, None)
    if it is nowhere. The part reads its files through the descriptor (/proc/self/fd/N), so its
    directory may move or a same-named directory appear while it is read."""
    from mergetree.errors import CorruptedPartError
    from mergetree.storage.part import DataPart
    from mergetree.storage.part_info import PartInfo

    name = path.name
    candidates = ([] if kept_only else [path]) + list(_kept_copies(db_dir, name))
    for candidate in candidates:
        fd = _open_dir(candidate, ident)
        if fd is None:
            continue
        try:
            if not _PROC_FD:                 # best effort: by path, checked just before
                os.close(fd)
                fd = None
                return DataPart.open(candidate, verify=False), None
            part = DataPart.open(Path(f"/proc/self/fd/{fd}"), verify=False)
            part.name, part.info = name, PartInfo.try_parse(name)
            return part, fd
        except (CorruptedPartError, OSError):  # its files went away while it was opened: the next place
            if fd is not None:
                os.close(fd)
    return None, None


def _files_present(entry) -> bool:
    fd = entry.fd
    try:
        if fd is None:
            return _open_dir_check(entry.part.path, entry.ref[1])
        os.stat(_CHECKSUMS, dir_fd=fd)
        for file in entry.part.checksums:
            os.stat(file, dir_fd=fd)
    except OSError:
        return False
    return True


def _open_dir_check(path: Path, ident: tuple) -> bool:
    fd = _open_dir(path, ident)
    if fd is None:
        return False
    os.close(fd)
    return True


def _test_pause(step: str) -> None:
    """Tests only (``MERGETREE_WORKER_TEST_PAUSE_DIR``): while ``<dir>/<step>.sock`` exists, connect to
    it, say ``step`` and wait for any answer (the test drops / creates tables meanwhile)."""
    sock_path = os.path.join(_PAUSE_DIR, f"{step}.sock")
    if not os.path.exists(sock_path):
        return
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.settimeout(60)
        s.connect(sock_path)
        s.sendall(step.encode())
        s.recv(16)
    except OSError:
        pass
    finally:
        s.close()


class _Views:
    def __init__(self, targets: dict):
        self.targets = targets

    def __contains__(self, name) -> bool:
        return name in self.targets

    def names(self) -> list[str]:
        return sorted(self.targets)

    def __getattr__(self, name):
        raise Unsupported(f"views.{name} is not available in a query worker")


class ReplicaDatabase:
    """What ``mergetree.sql.execute`` needs for a read, over the parts the server pinned."""

    def __init__(self):
        self._tables: dict = {}
        self._table_class = _replica_table_class()
        self.views = _Views({})
        self.path = "query-worker"
        self.synced = False                 # the last update went through (see update)

    def update(self, message) -> None:
        """The statement's tables and views: ``(tables, views)``, or None for the same as the last
        statement's (sent only after that one's update succeeded)."""
        if message is None:
            if not self.synced:
                raise Unsupported("tables not sent")
            return
        self.synced = False
        tables, views = message
        for name in [n for n in self._tables if n not in tables]:
            self._tables.pop(name).close_parts()
        for name, (path, key, payload, parts) in tables.items():
            self.path = str(Path(path).parent)          # the tables directory, as Database.path
            t = self._tables.get(name)
            if t is None or t.meta_key != key or str(t.path) != path:
                if payload is None:
                    raise Unsupported(f"metadata of {name} missing")
                if t is not None:
                    t.close_parts()
                t = self._table_class(Path(path), pickle.loads(payload))
                t.meta_key = key
                self._tables[name] = t
            t.set_parts(parts)
        self.views = _Views(views)
        self.synced = True

    def reopen_moved(self) -> bool:
        moved = False
        for t in self._tables.values():
            moved = t.reopen_moved() or moved
        return moved

    def table(self, name: str):
        t = self._tables.get(name)
        if t is None:
            target = self.views.targets.get(name)
            if target is not None and target in self._tables:
                return self._tables[target]
            raise UnknownTableError(f"Table {name} does not exist in {self.path}; tables: "
                                    f"{', '.join(sorted(self._tables)) or '(none)'}")
        return t

    def tables(self) -> list[str]:
        return sorted(self._tables)

    def _check_open(self) -> None:
        pass

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        raise Unsupported(f"Database.{name} is not available in a query worker")


class _NoSecrets:
    """The worker has no secrets: a template that asks for one (``tb_secret``) is compiled by the server."""

    def __len__(self) -> int:
        return 1

    def __contains__(self, name) -> bool:
        raise Unsupported("tb_secret() is rendered by the server")

    def __getitem__(self, name):
        raise Unsupported("tb_secret() is rendered by the server")


class _WorkerPipes:
    """The served pipes as last sent by the server (:meth:`WorkerPool.run_pipe`), and a pipe call's
    compilation: ``server/pipes.compile_pipe`` here (its own parse-shape cache), the answer encoded
    here. Anything unusual (a template or SQL error, a secret, an encoding error) is Unsupported: the
    server then does the whole call itself and answers exactly as without workers."""

    def __init__(self):
        self.key = None
        self.pipes: dict = {}
        self.secrets = _NoSecrets()          # read by compile_pipe (getattr(pipes, "secrets"))

    def find(self, name: str):
        return self.pipes.get(name)

    def compile(self, key, payload, pipe_name: str, params: dict, ext: str, row_policies, started: float):
        """(statement, settings, row policies, finish(result) -> (body, stats))."""
        from mergetree.server import pipes as server_pipes

        if key != self.key:
            if payload is None:
                raise Unsupported("pipes missing")
            self.pipes, self.key = pickle.loads(payload), key
        pipe = self.pipes.get(pipe_name)
        if pipe is None:
            raise Unsupported(f"pipe {pipe_name} not sent")
        options: dict = {}
        try:
            stmt = server_pipes.compile_pipe(self, pipe, params, options=options)
        except Exception as e:  # noqa: BLE001 - PipeError, Unsupported...: the server's answer is the one
            raise Unsupported(f"compile: {type(e).__name__}: {e}") from None
        if options.get("query_params"):
            raise Unsupported("tb_secret() values are bound by the server")
        settings = {"max_threads": options["max_threads"]} if options.get("max_threads") else None

        def finish(result):
            import time

            result.statistics["elapsed"] = time.perf_counter() - started
            st = result.statistics
            stats = (st.get("rows_read", 0), st.get("bytes_read", 0), result.num_rows)
            try:
                return server_pipes.encode(result, ext), stats
            except Exception as e:  # noqa: BLE001 - e.g. parquet unavailable: the server's error text
                raise Unsupported(f"encode: {type(e).__name__}: {e}") from None

        return stmt, settings, row_policies, finish


def _warm_up(budget_s: float = 10.0) -> None:
    """Run part of ``mergetree warmup``'s workload on a scratch database before taking statements,
    so that a fresh worker's first requests do not each pay seconds of numba cache loading and
    module imports (measured: 3.3 s for the first endpoint call of a cold worker)."""
    import time

    import mergetree
    from mergetree import warmup

    deadline = time.monotonic() + budget_s
    try:
        with mergetree.connect(background_merges=False) as db:
            db.sql(f"CREATE TABLE w ({warmup.SCHEMA}) ENGINE = MergeTree ORDER BY (ts, s) PARTITION BY toYYYYMM(d)")
            for part in range(2):
                db.insert("w", warmup._table_rows(1000, part))
            for q in warmup.QUERIES:
                if time.monotonic() > deadline:
                    break
                try:
                    db.sql(q).format("JSON")
                except Exception:  # noqa: BLE001 - a warm-up query the engine refuses: skip it
                    pass
    except Exception as e:  # noqa: BLE001 - warming up is an optimisation, never a reason not to serve
        log.warning("query worker warm-up failed: %s", e)


class _CancelWatcher:
    """While a cancellable statement runs (``/v0/sql``), a thread reads the server's frames so that a
    ``cancel`` frame sets the statement's event (checked between blocks). Other statements (every
    pipe call) run with none: the main thread reads the socket itself, one wake-up per statement."""

    def __init__(self, sock: socket.socket, seq: int, event: threading.Event, pending: list):
        self.sock, self.seq, self.event, self.pending = sock, seq, event, pending
        self._r, self._w = os.pipe()
        self._thread = threading.Thread(target=self._run, name="mergetree-worker-cancel", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        import select

        try:
            while True:
                ready, _, _ = select.select([self.sock, self._r], [], [])
                if self._r in ready:
                    return
                frame = recv_frame(self.sock)
                if frame is None:
                    self.pending.append(None)        # the server went away: stop, then exit
                    self.event.set()
                    return
                if frame[:6] == b"cancel":
                    if _LEN.unpack(frame[6:10])[0] == self.seq:
                        self.event.set()
                else:
                    self.pending.append(frame)       # not sent mid-statement today; kept in order anyway
        except OSError:
            self.pending.append(None)
            self.event.set()

    def stop(self) -> None:
        os.write(self._w, b"x")
        self._thread.join()
        os.close(self._r)
        os.close(self._w)


def serve_worker(sock: socket.socket) -> None:
    """Statements one at a time on this thread, read from the socket here; a cancellable one gets a
    :class:`_CancelWatcher` while it runs. A ``cancel`` frame arriving between statements is for one
    already answered: skipped."""
    from mergetree.sql import execute

    db = ReplicaDatabase()
    pipes = _WorkerPipes()
    pending: list = []                  # frames a watcher read (in order); None: the server went away
    if os.environ.get("MERGETREE_WORKER_WARMUP", "1") != "0":
        _warm_up()
    try:
        import mergetree.server.pipes  # noqa: F401 - pipe calls compile here (WorkerPool.run_pipe)
    except ImportError as e:
        log.warning("query worker: pipe calls will be compiled by the server (%s)", e)
    import gc

    gc.collect()        # long-lived objects out of the collector's reach (see server/cli_commands._GcFreezer)
    gc.freeze()
    send_frame(sock, b"ready")
    while True:
        if pending:
            frame = pending.pop(0)
        else:
            try:
                frame = recv_frame(sock)
            except OSError:
                frame = None
        if frame is None:
            return
        if frame[:6] == b"cancel":
            continue
        watcher = None
        seq = -1
        try:
            seq, kind, tables, args = pickle.loads(frame)
            if kind == "pipe":
                stmt, settings, row_policies, finish = pipes.compile(*args)
                params, cancellable = None, False
            else:
                stmt, params, settings, row_policies, cancellable = args
                finish = None
            cancel = None               # as in the server: no cancel handle, no checks between blocks
            if cancellable:
                cancel = threading.Event()
                watcher = _CancelWatcher(sock, seq, cancel, pending)
            if _PAUSE_DIR:
                _test_pause("before_open")
            db.update(tables)
            if _PAUSE_DIR:
                _test_pause("before_read")
            try:
                result = execute(db, stmt, params, settings, row_policies=row_policies, cancel=cancel)
            except Unsupported:
                raise
            except Exception:
                # a DROP removed files this worker had not read yet: read the links kept for the
                # server's pin (the same parts: the answer is the one it would have been), once
                if not db.reopen_moved():
                    raise
                result = execute(db, stmt, params, settings, row_policies=row_policies, cancel=cancel)
            reply = ("ok", result if finish is None else finish(result))
        except Unsupported as e:
            reply = ("fallback", f"{type(e).__name__}: {e}")
        except MergeTreeError as e:
            reply = ("error", type(e).__module__, type(e).__qualname__, str(e), e.code)
        except Exception as e:  # noqa: BLE001 - the server runs it again in-process and reports it
            reply = ("fallback", f"{type(e).__name__}: {e}")
        if watcher is not None:
            watcher.stop()
        try:
            payload = pickle.dumps((seq, reply), 5)
        except Exception as e:  # noqa: BLE001 - an unpicklable result: the server runs it
            payload = pickle.dumps((seq, ("fallback", f"unpicklable reply: {e}")), 5)
        send_frame(sock, payload)


def main(argv=None) -> int:
    import argparse

    ap = argparse.ArgumentParser(description="a mergetree read-only query worker (started by serve --workers)")
    ap.add_argument("--fd", type=int, required=True)
    args = ap.parse_args(argv)
    sock = socket.socket(fileno=args.fd)
    try:
        import signal

        signal.signal(signal.SIGINT, signal.SIG_IGN)      # Ctrl-C goes to the server, which closes us
        serve_worker(sock)
    except (ConnectionError, BrokenPipeError):
        pass
    finally:
        sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
