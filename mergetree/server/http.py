"""Request/response helpers shared by the views (body with a size limit, auth, parameters)."""

from __future__ import annotations

import asyncio
import os
import threading
import zlib
from concurrent.futures import ThreadPoolExecutor

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
    who = getattr(request.state, "principal", None)
    if who is None:
        svc = service(request)
        who = svc.tokens.authenticate(request_token(request))
        limiter = getattr(svc, "ratelimiter", None)
        if limiter is not None:
            request.state.ratelimit_headers = limiter.check(who)
        request.state.principal = who
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
_query_pool: ThreadPoolExecutor | None = None
_query_pool_size = 0
_query_pool_lock = threading.Lock()


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


def query_pool() -> ThreadPoolExecutor:
    global _query_pool
    pool = _query_pool
    if pool is None:
        with _query_pool_lock:
            if _query_pool is None:
                _query_pool = ThreadPoolExecutor(query_threads(), thread_name_prefix="mergetree-query")
            pool = _query_pool
    return pool


async def run_query(fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` on the query pool (one thread hop for the whole engine part of a request)."""
    future = query_pool().submit(fn, *args, **kwargs)
    return await asyncio.wrap_future(future)


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


