"""Query API: ``GET|POST /v0/sql`` (``q`` as a query parameter, a form field or the raw body).

Output format: the ``format`` parameter, else the statement's ``FORMAT`` clause, else JSON.
Tokens without ADMIN may only run reads (SELECT, DESCRIBE, SHOW, EXPLAIN, EXISTS) over data
sources they hold ``DATASOURCES:READ`` for.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from mergetree.server.auth import authorize_read, visible_result
from mergetree.server import pipes
from mergetree.server.errors import DOC_QUERY, ApiError
from mergetree.server.http import form_params, principal, read_body, run_query, service
from mergetree.server.service_ds import set_result_stats

CONTENT_TYPES = {"json": "application/json", "jsoncompact": "application/json",
                 "jsoneachrow": "application/x-ndjson", "ndjson": "application/x-ndjson",
                 "csv": "text/csv", "csvwithnames": "text/csv",
                 "tabseparated": "text/tab-separated-values", "tsv": "text/tab-separated-values",
                 "tsvwithnames": "text/tab-separated-values",
                 "tabseparatedwithnames": "text/tab-separated-values"}


async def run_cancellable(request: Request, fn, *args):
    """``fn(*args, cancel=event)`` on the query pool (``http.run_query``); the event is set when the
    client disconnects (checked every 0.1 s), so a query nobody waits for stops (QUERY_WAS_CANCELLED)
    instead of running on. A query done within 0.1 s costs one timer, not an ``asyncio.wait`` per 0.1 s
    (a waiter future, done callbacks and a timer each time: ~15 us of the event loop per request)."""
    import asyncio
    import threading

    cancel = threading.Event()
    future = run_query(fn, *args, cancel=cancel)
    loop = asyncio.get_running_loop()
    watcher = None

    async def watch():                     # after 0.1 s: every 0.1 s until the query is done
        while not future.done():
            if await request.is_disconnected():
                cancel.set()
                return
            await asyncio.sleep(0.1)

    def start_watching():
        nonlocal watcher
        if not future.done():
            watcher = loop.create_task(watch())

    timer = loop.call_later(0.1, start_watching)
    try:
        return await future
    finally:
        timer.cancel()
        if watcher is not None:
            watcher.cancel()
        cancel.set()                       # this request is over either way


async def sql(request: Request):
    who = principal(request)
    svc = service(request)
    ctype = request.headers.get("content-type", "")
    if request.method == "POST" and not ctype.startswith("application/x-www-form-urlencoded") \
            and "q" not in request.query_params:
        params = dict(request.query_params)
        params["q"] = (await read_body(request)).decode("utf-8", "replace")
    else:
        params = await form_params(request)
    text = (params.get("q") or "").strip()
    if not text:
        raise ApiError(400, "The 'q' parameter with the SQL query is required", DOC_QUERY)
    if text.startswith("%"):        # a templated query takes the other request parameters
        text = pipes.render_sql_template(text, params)
    try:
        stmt = svc.engine.parse(text)
    except ValueError as e:
        raise ApiError(400, f"[Error] {e} (SYNTAX_ERROR)", DOC_QUERY) from None
    if "tinybird" in text and any(db == "tinybird" for db, _ in svc.engine.referenced_tables(stmt)):
        request.scope["mt.no_stats"] = True     # H9: reads of service data sources are not logged (as Tinybird)
    pipe_names = pipes.sql_pipe_names(svc, stmt, params.get("pipeline"))   # `_` with pipeline=P, pipe names
    if "_" in pipe_names:
        who.require("PIPES:READ", pipe_names["_"], f"read the pipe '{pipe_names['_']}'")
    authorize_read(who, svc.engine, stmt, pipes=[t for t in pipe_names if t != "_"],
                   allowed=("_",) if "_" in pipe_names else ())

    def run(cancel):          # one hop to the query pool: expand pipes, execute, format
        expanded = pipes.expand_pipes(svc, who, stmt, pipe_names, params)
        result = svc.engine.run(expanded, None, None, who.row_policies(), cancel=cancel)
        result = visible_result(who, expanded, result)      # SHOW TABLES: only what the token may read
        set_result_stats(request, result)       # H9: read rows/bytes for tinybird.pipe_stats_rt ('query_api')
        fmt = params.get("format") or result.format_name or getattr(expanded, "format", None) or "JSON"
        return result.format(fmt), fmt

    body, fmt = await run_cancellable(request, run)
    return Response(body, media_type=CONTENT_TYPES.get(fmt.lower(), "text/plain; charset=utf-8"))
