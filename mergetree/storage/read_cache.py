"""Process-wide caches of the read path: open file mappings and decompressed blocks.

:class:`MappedFiles` keeps the ``.bin`` files of parts memory-mapped between reads, so a small
query does not pay ``open`` + ``mmap`` + ``munmap`` + ``close`` per stream (ClickHouse's
``MMappedFileCache``). A part maps its files lazily on first read; its mappings are closed by
:meth:`DataPart.close` (the table calls it when the part is removed from disk after it became
outdated and unpinned, when it is quarantined as broken, and on table close / DROP TABLE /
``Database.close``). The number of open mappings is bounded (each holds one file descriptor):
past :data:`MAX_OPEN_MAPPINGS` the least recently used one is closed and reopened when needed.
A mapping still in use by a reader when it is closed (a numpy view of it being decoded) cannot
be unmapped at once: it is dropped from the cache and unmapped when the reader lets go of it.

:class:`UncompressedCache` is ClickHouse's ``uncompressed_cache``: decompressed blocks of ``.bin``
files, keyed by ``(part uid, file, block offset)``, bounded in bytes, least recently used out.
``uid`` is a per-process counter taken when a :class:`DataPart` object is created, so a part
directory opened again (a new part with the same name after DROP + INSERT, a re-attach) never
finds the blocks of its predecessor; a closed part's entries are dropped eagerly. The values are
read-only arrays; readers copy the bytes they return. It is used only for small reads (the query
setting ``use_uncompressed_cache``, default on, and at most ``merge_tree_max_rows_to_use_cache``
rows selected in all, ClickHouse's rule), so a big scan neither fills nor evicts it.

The size is ``uncompressed_cache_size`` bytes (default 128 MiB; environment variable
``MERGETREE_UNCOMPRESSED_CACHE_SIZE`` or :func:`set_uncompressed_cache_size`; 0 disables it).
"""

from __future__ import annotations

import itertools
import mmap
import os
import threading
from collections import OrderedDict

import numpy as np

__all__ = ["MappedFiles", "UncompressedCache", "mapped_files", "uncompressed_cache", "next_part_uid",
           "set_uncompressed_cache_size", "cache_settings", "MAX_OPEN_MAPPINGS",
           "DEFAULT_UNCOMPRESSED_CACHE_SIZE", "DEFAULT_MAX_ROWS_TO_USE_CACHE"]

#: open mappings kept at most (each holds a file descriptor); ClickHouse's mmap_cache_size is 1000
MAX_OPEN_MAPPINGS = 1000
DEFAULT_UNCOMPRESSED_CACHE_SIZE = 128 << 20
#: ClickHouse's merge_tree_max_rows_to_use_cache (128 granules of 8192 rows)
DEFAULT_MAX_ROWS_TO_USE_CACHE = 128 * 8192
#: ClickHouse's merge_tree_max_bytes_to_use_cache
DEFAULT_MAX_BYTES_TO_USE_CACHE = 192 * 10 * 1024 * 1024
#: bookkeeping bytes charged per cached block on top of its data
ENTRY_OVERHEAD = 200

_uids = itertools.count(1)


def next_part_uid() -> int:
    """A number never handed out before in this process (thread-safe: itertools.count is atomic
    under the GIL)."""
    return next(_uids)


class _Mapping:
    __slots__ = ("mm", "view", "array")

    def __init__(self, path):
        with open(path, "rb") as f:
            if os.fstat(f.fileno()).st_size == 0:
                self.mm = None
                self.view = memoryview(b"")
            else:
                self.mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
                self.view = memoryview(self.mm)
        self.array = np.frombuffer(self.view, np.uint8)

    def close(self) -> None:
        """Unmap now if no reader holds a view of it; otherwise when the last view goes away."""
        self.array = None
        try:
            self.view.release()
            if self.mm is not None:
                self.mm.close()
        except BufferError:     # a reader's numpy view is alive: the GC unmaps it after the reader
            pass


class MappedFiles:
    """Open read-only mappings, keyed by (part uid, file name), at most ``capacity`` of them."""

    def __init__(self, capacity: int = MAX_OPEN_MAPPINGS):
        self.capacity = capacity
        self._lock = threading.Lock()
        self._maps: OrderedDict = OrderedDict()
        self._by_part: dict[int, set] = {}
        self.opened = 0          # mappings created (misses)
        self.hits = 0

    def get(self, uid: int, path, name: str):
        """(memoryview, uint8 array) of the file ``path / name`` (mapped on first use)."""
        key = (uid, name)
        with self._lock:
            m = self._maps.get(key)
            if m is not None:
                self._maps.move_to_end(key)
                self.hits += 1
                return m.view, m.array
        m = _Mapping(path / name)          # FileNotFoundError goes to the caller
        evicted = []
        with self._lock:
            other = self._maps.get(key)
            if other is not None:          # another thread mapped it meanwhile
                evicted.append(m)
                m = other
            else:
                self._maps[key] = m
                self._by_part.setdefault(uid, set()).add(name)
                self.opened += 1
                while len(self._maps) > self.capacity:
                    (ouid, oname), old = self._maps.popitem(last=False)
                    names = self._by_part.get(ouid)
                    if names is not None:
                        names.discard(oname)
                        if not names:
                            del self._by_part[ouid]
                    evicted.append(old)
            view, array = m.view, m.array
        for old in evicted:
            old.close()
        return view, array

    def close_part(self, uid: int) -> None:
        with self._lock:
            names = self._by_part.pop(uid, ())
            gone = [self._maps.pop((uid, n)) for n in names if (uid, n) in self._maps]
        for m in gone:
            m.close()

    def open_count(self, uid: int | None = None) -> int:
        with self._lock:
            return len(self._maps) if uid is None else len(self._by_part.get(uid, ()))

    def clear(self) -> None:
        with self._lock:
            gone = list(self._maps.values())
            self._maps.clear()
            self._by_part.clear()
        for m in gone:
            m.close()


class UncompressedCache:
    """Decompressed blocks, byte-bounded LRU, keyed by (part uid, file, block offset).

    A value is ``(data, compressed_size)``: the block's decoded bytes (read-only uint8 array) and
    the size of its payload in the file, so a reader walks consecutive cached blocks without
    parsing their headers again."""

    def __init__(self, max_bytes: int = DEFAULT_UNCOMPRESSED_CACHE_SIZE):
        self.max_bytes = int(max_bytes)
        self._lock = threading.Lock()
        self._entries: OrderedDict = OrderedDict()
        self._by_part: dict[int, set] = {}
        self.bytes = 0
        self.hits = 0
        self.misses = 0
        self.evictions = 0

    def get(self, key):
        with self._lock:
            v = self._entries.get(key)
            if v is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return v

    def put(self, key, data: np.ndarray, compressed_size: int) -> None:
        cost = data.nbytes + ENTRY_OVERHEAD
        if cost > self.max_bytes:
            return
        data.flags.writeable = False
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self.bytes -= old[0].nbytes + ENTRY_OVERHEAD
            self._entries[key] = (data, compressed_size)
            self._by_part.setdefault(key[0], set()).add(key)
            self.bytes += cost
            while self.bytes > self.max_bytes and self._entries:
                k, (d, _) = self._entries.popitem(last=False)
                self.bytes -= d.nbytes + ENTRY_OVERHEAD
                self.evictions += 1
                keys = self._by_part.get(k[0])
                if keys is not None:
                    keys.discard(k)
                    if not keys:
                        del self._by_part[k[0]]

    def drop_part(self, uid: int) -> None:
        with self._lock:
            for k in self._by_part.pop(uid, ()):
                v = self._entries.pop(k, None)
                if v is not None:
                    self.bytes -= v[0].nbytes + ENTRY_OVERHEAD

    def resize(self, max_bytes: int) -> None:
        with self._lock:
            self.max_bytes = int(max_bytes)
            while self.bytes > self.max_bytes and self._entries:
                k, (d, _) = self._entries.popitem(last=False)
                self.bytes -= d.nbytes + ENTRY_OVERHEAD
                keys = self._by_part.get(k[0])
                if keys is not None:
                    keys.discard(k)
                    if not keys:
                        del self._by_part[k[0]]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._by_part.clear()
            self.bytes = 0

    def stats(self) -> dict:
        with self._lock:
            return {"entries": len(self._entries), "bytes": self.bytes, "max_bytes": self.max_bytes,
                    "hits": self.hits, "misses": self.misses, "evictions": self.evictions}


def _size_from_env() -> int:
    text = os.environ.get("MERGETREE_UNCOMPRESSED_CACHE_SIZE")
    if not text:
        return DEFAULT_UNCOMPRESSED_CACHE_SIZE
    try:
        return max(0, int(text))
    except ValueError:
        return DEFAULT_UNCOMPRESSED_CACHE_SIZE


mapped_files = MappedFiles()
uncompressed_cache = UncompressedCache(_size_from_env())


def _after_fork_in_child() -> None:
    """A forked child has none of the parent's threads: a lock one of them held stays held."""
    mapped_files._lock = threading.Lock()
    uncompressed_cache._lock = threading.Lock()


os.register_at_fork(after_in_child=_after_fork_in_child)


def set_uncompressed_cache_size(max_bytes: int) -> None:
    """Resize the process's uncompressed cache (0 turns it off)."""
    uncompressed_cache.resize(max_bytes)


def _truthy(v) -> bool:
    if isinstance(v, str):
        return v.strip().lower() not in ("0", "false", "")
    return bool(v)


def cache_settings(settings) -> tuple[bool, int, int]:
    """(use the cache at all, max rows, max bytes) from query settings (ClickHouse's names)."""
    if not settings:
        return uncompressed_cache.max_bytes > 0, DEFAULT_MAX_ROWS_TO_USE_CACHE, DEFAULT_MAX_BYTES_TO_USE_CACHE
    use = _truthy(settings.get("use_uncompressed_cache", 1)) and uncompressed_cache.max_bytes > 0
    return (use, int(settings.get("merge_tree_max_rows_to_use_cache", DEFAULT_MAX_ROWS_TO_USE_CACHE)),
            int(settings.get("merge_tree_max_bytes_to_use_cache", DEFAULT_MAX_BYTES_TO_USE_CACHE)))
