"""Events API: ``POST /v0/events?name=DS[&wait=true]`` (NDJSON body, optional gzip).

The body is converted at once (so the answer can count good and quarantined rows), both blocks
are appended to the write-ahead log, and the answer is **202** when the log is fsynced or, with
``wait=true``, **200** when the rows are in committed parts (see ``wal.py``).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import uuid

from starlette.requests import Request

from mergetree.server.errors import DOC_EVENTS, ApiError
from mergetree.server.http import flag, json_response, principal, read_body, service
from mergetree.server.wal import encode_record

#: bodies smaller than this are converted on the event loop, larger ones in the thread pool
INLINE_BODY_BYTES = 16 * 1024
#: a wait=true request answers 202 (durable, not yet visible) if its flush takes longer than this
WAIT_TIMEOUT_SECONDS = 60.0
#: threads converting large bodies (conversion holds the GIL except in the NDJSON kernels)
CONVERT_THREADS = 4

_pool: concurrent.futures.ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _convert_pool() -> concurrent.futures.ThreadPoolExecutor:
    """The process-wide pool for large bodies: a hop through it costs ~20 us of CPU, one through
    starlette's ``run_in_threadpool`` (anyio: capacity limiter, worker queue) ~60 us."""
    global _pool
    if _pool is None:
        with _pool_lock:
            if _pool is None:
                _pool = concurrent.futures.ThreadPoolExecutor(CONVERT_THREADS, thread_name_prefix="events-convert")
    return _pool


async def post_events(request: Request):
    name = request.query_params.get("name")
    if not name:
        raise ApiError(400, "The 'name' parameter is required: POST /v0/events?name=<data source>", DOC_EVENTS)
    who = principal(request)
    who.require("DATASOURCES:APPEND", name, f"append to the Data Source '{name}'")
    svc = service(request)
    if not svc.engine.exists(name):
        raise ApiError(404, f"Data Source '{name}' not found", DOC_EVENTS)
    if svc.flusher.overloaded:
        raise ApiError(503, f"Too many rows waiting to be written ({svc.flusher.pending_rows}): retry shortly",
                       DOC_EVENTS, headers={"Retry-After": "1"})
    if not flag(request.query_params.get("wait")):
        seq, good, bad = await _ingest(svc, name, request)
        return json_response({"successful_rows": good, "quarantined_rows": bad}, 202)
    flusher = svc.flusher
    flusher.waits_in_flight += 1       # until it waits: a flush for another waiter lingers for it (wal.py)
    try:
        seq, good, bad = await _ingest(svc, name, request)
        visible = asyncio.wrap_future(flusher.visible(seq)) if seq is not None else None
    finally:
        flusher.waits_in_flight -= 1
    status = 200
    if visible is not None:
        try:
            await asyncio.wait_for(visible, WAIT_TIMEOUT_SECONDS)
        except asyncio.TimeoutError:
            status = 202              # durable but not yet visible (flushes are failing): say so
    return json_response({"successful_rows": good, "quarantined_rows": bad}, status)


async def _ingest(svc, name: str, request: Request):
    """Read, convert and durably log the body: (WAL sequence number or None, good rows, bad rows)."""
    body = await read_body(request)
    if len(body) < INLINE_BODY_BYTES:      # a few events: a thread hop costs more than converting here
        frame, record, good, bad = _prepare(svc.engine, name, body)
    else:
        frame, record, good, bad = await asyncio.get_running_loop().run_in_executor(
            _convert_pool(), _prepare, svc.engine, name, body)
    if not (good or bad):
        return None, good, bad
    return await svc.flusher.append_frame(frame, record, asyncio.get_running_loop()), good, bad


def _prepare(engine, name: str, body: bytes):
    """Convert (threadpool): good block, quarantine block, and the WAL frame of both."""
    block, rejected = engine.convert(name, body)
    quarantine = None
    if rejected:
        quarantine = engine.quarantine_block(name, rejected, uuid.uuid4().hex)
    record = (name, block, quarantine)
    return encode_record(*record), record, block.num_rows, len(rejected)
