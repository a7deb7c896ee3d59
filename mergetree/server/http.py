"""Request/response helpers shared by the views (body with a size limit, auth, parameters)."""

from __future__ import annotations

import asyncio
import os
import threading
import zlib

import orjson
from starlette.requests import Request
from starlette.responses import Response

from mergetree.server.auth import Principal, request_token
from mergetree.server.errors import ApiError


def service(request: Request):
    """The request's Service: the served one, or a workspace created over the API when the request's
    token is that workspace's (``server/workspace.py``; ``route`` is None while there is none)."""
    svc = request.app.state.service
    route = getattr(svc, "route", None)
    return svc if route is None else route(request)


def principal(request: Request) -> Principal:
    """The request's authenticated caller (once per request), after its rate limit (ratelimit.py):
    a 429 when exceeded; the X-RateLimit-* headers go on the response (app._endpoint)."""
    state = request.scope.setdefault("state", {})       # request.state's dict, without the State object
    who = state.get("principal")
    if who is None:
        svc = service(request)
        who = svc.tokens.authenticate(request_token(request))
        limiter = getattr(svc, "ratelimiter", None)
        if limiter is not None:
            state["ratelimit_headers"] = limiter.check(who)
        state["principal"] = who
    return who


# ------------------------------------------------------------------ the query pool
#
# The engine work of a read request (compile, plan, execute, encode) runs on a SMALL dedicated
# pool, not on anyio's default pool of 40 threads. That work is mostly Python holding the GIL:
# 16 concurrent requests on 16 threads share one core by GIL hand-offs (every 5 ms switch interval
# a thread is preempted mid-query and caches are thrashed): in-process, user_activity with 16 in
# flight cost 5.0 ms CPU per request on 40 threads vs 3.4 ms on 1 (2-core machine at load ~3;
# at load ~9 the difference was within noise). With 2 threads requests queue FIFO and each runs
# nearly alone; a closed loop of N clients still waits ~N x the CPU per request (Little's law), so
# the pool bounds the work in flight and its CPU, not the queueing. Two rather than one so a single
# slow query does not stop every endpoint; the numba kernels and the scan's read pool
# (``exec/scan.py``) release the GIL and still use the cores. ``mergetree serve --query-threads N``
# (or MERGETREE_QUERY_THREADS) sets the size; ``serve --workers N`` sizes it N + 1.

DEFAULT_QUERY_THREADS = 2
_query_pool: "QueryPool | None" = None
_query_pool_size = 0
_query_pool_lock = threading.Lock()


class QueryPool:
    """A fixed set of threads taking work from one queue, answering an asyncio future directly.

    ``run_query`` used ``ThreadPoolExecutor.submit`` + ``asyncio.wrap_future``: a concurrent Future
    (a Condition, its lock), a work item, the executor's thread-count check, then on completion the
    future's callback chain (``_call_set_state`` -> ``call_soon_threadsafe`` -> ``_set_state`` ->
    ``_copy_future_state``): ~40 us of the event loop's ~250 us per request. Here a request is one
    queue entry and one ``call_soon_threadsafe`` back, which sets the asyncio future. The semantics
    are the executor's: FIFO, at most ``size`` running, work already queued still runs after
    ``shutdown`` (and at interpreter exit, as ``ThreadPoolExecutor`` joins its threads), an entry whose
    awaiting task was cancelled before it started is skipped (``wrap_future`` cancels its future)."""

    def __init__(self, size: int, name: str = "mergetree-query"):
        import queue

        self._max_workers = size
        self._queue = queue.SimpleQueue()
        self._threads = [threading.Thread(target=self._work, name=f"{name}_{i}", daemon=True) for i in range(size)]
        self._shutdown = False
        for t in self._threads:
            t.start()
        register = getattr(threading, "_register_atexit", None)     # as concurrent.futures.thread does
        if register is not None:
            try:
                register(self._at_exit)
            except RuntimeError:            # the interpreter is already shutting down
                pass

    def _work(self) -> None:
        get = self._queue.get
        while True:
            item = get()
            if item is None:
                return
            fn, args, kwargs, loop, future = item
            del item
            if future.cancelled():          # racy read, as in Future.set_running_or_notify_cancel: a skip is
                continue                    # only ever of a future already cancelled
            try:
                result = fn(*args, **kwargs)
            except BaseException as e:      # noqa: BLE001 - handed to the awaiting task, as the executor does
                _post(loop, _set_exception, future, e)
            else:
                _post(loop, _set_result, future, result)
                del result
            del fn, args, kwargs, future

    def run(self, fn, args, kwargs):
        """An asyncio future (of the running loop) for ``fn(*args, **kwargs)`` run on the pool."""
        if self._shutdown:
            raise RuntimeError("cannot schedule new queries after shutdown")
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._queue.put((fn, args, kwargs, loop, future))
        return future

    def submit(self, fn, *args, **kwargs):
        """``Executor.submit``: a concurrent.futures.Future (for callers outside an event loop)."""
        import concurrent.futures

        if self._shutdown:
            raise RuntimeError("cannot schedule new futures after shutdown")
        future = concurrent.futures.Future()

        def call():
            if not future.set_running_or_notify_cancel():
                return
            try:
                future.set_result(fn(*args, **kwargs))
            except BaseException as e:      # noqa: BLE001
                future.set_exception(e)
        self._queue.put((call, (), {}, None, _NOT_CANCELLED))
        return future

    def shutdown(self, wait: bool = True) -> None:
        """No new work; what is queued still runs, then the threads end."""
        if not self._shutdown:
            self._shutdown = True
            for _ in self._threads:
                self._queue.put(None)
        if wait:
            for t in self._threads:
                if t is not threading.current_thread():
                    t.join()

    def _at_exit(self) -> None:
        self.shutdown(wait=True)


class _NotCancelled:
    @staticmethod
    def cancelled() -> bool:
        return False


_NOT_CANCELLED = _NotCancelled()


def _post(loop, fn, future, value) -> None:
    if loop is None:
        return
    try:
        loop.call_soon_threadsafe(fn, future, value)
    except RuntimeError:                    # the loop is closed: nobody is waiting any more
        pass


def _set_result(future, result) -> None:
    if not future.done():                   # cancelled meanwhile
        future.set_result(result)


def _set_exception(future, exc) -> None:
    if not future.done():
        future.set_exception(exc)


def query_threads() -> int:
    """The configured size of the query pool (``configure_query_threads``, else the environment, else 2)."""
    if _query_pool_size:
        return _query_pool_size
    env = os.environ.get("MERGETREE_QUERY_THREADS", "").strip()
    return int(env) if env.isdigit() and int(env) > 0 else DEFAULT_QUERY_THREADS


def configure_query_threads(n: int | None) -> None:
    """Size the query pool (before serving; a running pool is replaced, its queued work finishes)."""
    global _query_pool, _query_pool_size
    if n is not None and n < 1:
        raise ValueError(f"query threads must be >= 1, got {n}")
    with _query_pool_lock:
        _query_pool_size = n or 0
        old, _query_pool = _query_pool, None
    if old is not None:
        old.shutdown(wait=False)


def query_pool() -> QueryPool:
    global _query_pool
    pool = _query_pool
    if pool is None:
        with _query_pool_lock:
            if _query_pool is None:
                _query_pool = QueryPool(query_threads(), "mergetree-query")
            pool = _query_pool
    return pool


def run_query(fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` on the query pool (one thread hop for the whole engine part of a request):
    an awaitable (asyncio future) of its result."""
    return query_pool().run(fn, args, kwargs)


def json_response(data, status: int = 200, headers: dict | None = None) -> Response:
    return Response(orjson.dumps(data, option=orjson.OPT_SERIALIZE_NUMPY), status_code=status,
                    media_type="application/json", headers=headers)


def too_large(limit: int) -> ApiError:
    return ApiError(413, f"Request body too large: the limit is {limit} bytes")


async def read_body(request: Request) -> bytes:
    """The request body, at most the service's ``max_body_bytes`` (413 beyond), gunzipped if sent so."""
    limit = service(request).max_body_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise too_large(limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        chunks.append(chunk)
    body = b"".join(chunks)
    encoding = request.headers.get("content-encoding", "").strip().lower()
    if encoding in ("gzip", "x-gzip"):
        body = gunzip(body, limit * 10)
    elif encoding not in ("", "identity"):
        raise ApiError(415, f"Unsupported Content-Encoding '{encoding}': send the body as is or gzip")
    return body


def gunzip(data: bytes, limit: int) -> bytes:
    """Decompress gzip with a cap on the output size (a gzip bomb is a 413, not an OOM)."""
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = d.decompress(data, limit + 1)
        if len(out) > limit or d.unconsumed_tail:
            raise ApiError(413, f"Request body too large once decompressed: the limit is {limit} bytes")
        if not d.eof:
            raise ApiError(400, "Invalid gzip body: the stream is truncated")
        return out
    except zlib.error as e:
        raise ApiError(400, f"Invalid gzip body: {e}") from None


def flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


async def form_params(request: Request) -> dict:
    """Query parameters overlaid by url-encoded form fields of a POST body (multi-values kept last)."""
    params = dict(request.query_params)
    ctype = request.headers.get("content-type", "")
    if request.method == "POST" and ctype.startswith("application/x-www-form-urlencoded"):
        from urllib.parse import parse_qsl

        body = await read_body(request)
        params.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    return params


