"""The background merge worker: one thread per Database (ClickHouse's background merges pool, size 1).

Loop (:meth:`BackgroundMerger._run`):

1. Sleep until woken (an insert committed a part: ``MergeTreeTable.on_new_part``) or until
   ``interval`` seconds passed.
2. Unless merges are stopped (``SYSTEM STOP MERGES`` = :meth:`stop`), for every table call
   ``MergeTreeTable.merge_once()`` (selector + merger; the heavy work runs outside the parts lock,
   so inserts and reads continue) until it reports nothing to do, then
   ``MergeTreeTable.cleanup_outdated()`` removes parts no snapshot holds any more.
3. An exception in one merge is logged and does not kill the worker: the parts involved stay
   active, the ``tmp_merge_*`` directory is removed by the merger or by the next open, and the
   table is left alone for a while (1 s, doubling up to 60 s) so a merge that keeps failing
   (e.g. CollapsingMergeTree rows with sign 2) does not spin.

Simplification against ClickHouse: one thread runs every merge in turn (ClickHouse has a pool of
``background_pool_size`` threads and lets several merges of one table run on disjoint ranges).
Numba kernels release the GIL, so a merge overlaps with inserts and queries.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Callable, Iterable

log = logging.getLogger("mergetree.storage.background")


class BackgroundMerger:
    def __init__(self, tables: Callable[[], Iterable], interval: float = 1.0,
                 max_merges_per_round: int = 16):
        self._tables = tables
        self.interval = interval
        self.max_merges_per_round = max_merges_per_round
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._paused = False
        self._busy = threading.Lock()        # held while a round of merges runs
        self._thread: threading.Thread | None = None
        self.merges_done = 0
        self.errors = 0
        self._backoff: dict[int, tuple[float, float]] = {}   # id(table) -> (retry at, delay)

    # ---- control

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="mergetree-merges", daemon=True)
            self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def pause(self) -> None:
        """SYSTEM STOP MERGES: no new merge starts; returns after the running one finished."""
        self._paused = True
        with self._busy:
            pass

    def resume(self) -> None:
        """SYSTEM START MERGES."""
        self._paused = False
        self._wake.set()

    @property
    def paused(self) -> bool:
        return self._paused

    def shutdown(self) -> None:
        """Stop the thread, waiting for the running merge to finish."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    # ---- the loop

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.interval)
            self._wake.clear()
            if self._stop.is_set():
                break
            if self._paused:
                continue
            with self._busy:
                if not self._paused:
                    self.run_round()

    def run_round(self) -> int:
        """Merge what the selector proposes in every table; clean up outdated parts."""
        done = 0
        for table in list(self._tables()):
            retry_at, delay = self._backoff.get(id(table), (0.0, 0.0))
            if time.monotonic() < retry_at:
                continue
            for _ in range(self.max_merges_per_round):
                if self._stop.is_set() or self._paused:
                    return done
                try:
                    if not table.merge_once():
                        break
                    done += 1
                    self._backoff.pop(id(table), None)
                except Exception:
                    self.errors += 1
                    delay = min(60.0, max(1.0, delay * 2))
                    self._backoff[id(table)] = (time.monotonic() + delay, delay)
                    log.exception("background merge in table %s failed; retrying in %.0f s",
                                  getattr(table, "name", "?"), delay)
                    break
            try:
                table.cleanup_outdated()
            except Exception:
                log.exception("cleanup of outdated parts in table %s failed", getattr(table, "name", "?"))
        self.merges_done += done
        return done
