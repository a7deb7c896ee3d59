"""Request/response helpers shared by the views (body with a size limit, auth, parameters)."""

from __future__ import annotations

import zlib

import orjson
from starlette.requests import Request
from starlette.responses import Response

from mergetree.server.auth import Principal, request_token
from mergetree.server.errors import ApiError


def service(request: Request):
    return request.app.state.service


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


