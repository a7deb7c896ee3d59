"""The ASGI app: one route table, thin views, one JSON error shape.

``create_app(data_dir)`` opens the data directory (``tables/`` for the database, ``server/`` for
tokens, the data source registry and the write-ahead log), replays the log, and returns a
Starlette app whose ``state.service`` holds the :class:`Service`. Every view is wrapped by
:func:`_endpoint`, which turns :class:`ApiError` and engine errors into
``{"error", "documentation"}`` with a 4xx status and anything else into a logged JSON 500;
the client never sees a traceback. CORS headers are on every route (browser trackers post
events directly), including preflight ``OPTIONS``.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import logging
import os
import re
import time
from pathlib import Path

from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Match, Route

from mergetree.errors import CorruptedPartError, MergeTreeError, UnknownTableError
from mergetree.server import datasources, deploy, events, pipe_admin, pipe_jobs, pipes, query, tokens, workspace
from mergetree.server import schema, service_ds
from mergetree.server.auth import TokenStore
from mergetree.server.ratelimit import RateLimiter
from mergetree.server.engine import Engine, preload_engine_modules
from mergetree.server.errors import DOC_OVERVIEW, DOC_QUERY, ApiError, error_response
from mergetree.server.http import json_response, too_large
from mergetree.server.wal import Flusher

log = logging.getLogger("mergetree.server")

DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024      # Tinybird's Events API limit (Free plan)


async def health(request: Request):
    """200 while serving (no token needed). ``status`` is ``degraded`` while inserts of Events API
    rows into some table keep failing (the rows wait in the write-ahead log and are retried).
    Anonymous callers get a count only: no table names, row counts or error texts."""
    failing = request.app.state.service.flusher.status()["failing_tables"]
    if not failing:
        return json_response({"status": "ok"})
    return json_response({"status": "degraded", "failing_event_tables": failing})


# ONE route table: (methods, path, view)
ROUTES = [
    (["GET"], "/v0/health", health),
    (["POST"], "/v0/events", events.post_events),
    (["GET", "POST"], "/v0/sql", query.sql),
    *schema.ROUTES,                        # /v0/datasources/NAME.datasource, /exchange, NAME/alter, PUT NAME
    (["GET"], "/v0/datasources", datasources.list_datasources),
    (["POST"], "/v0/datasources", datasources.create_or_append),
    (["GET"], "/v0/datasources/{name}", datasources.get_datasource),
    (["DELETE"], "/v0/datasources/{name}", datasources.drop),
    (["POST"], "/v0/datasources/{name}/truncate", datasources.truncate),
    (["POST"], "/v0/datasources/{name}/delete", datasources.delete_rows),
    (["POST"], "/v1/datasources/{name}/append", workspace.v1_append(datasources.append_v1)),   # no "error": false
    (["POST"], "/v1/datasources/{name}/replace", workspace.v1_append(datasources.append_v1)),  # (tb 5.x CLI)
    (["GET"], "/v0/jobs", datasources.list_jobs),
    (["GET"], "/v0/jobs/{job_id}", datasources.get_job),
    *datasources.ROUTES,                   # POST /v0/jobs/ID/cancel, POST /v0/analyze
    (["GET"], "/v0/tokens", tokens.list_tokens),
    (["POST"], "/v0/tokens", tokens.create_token),
    (["POST"], "/v0/tokens/", tokens.create_token),
    (["GET"], "/v0/tokens/{name}", tokens.get_token),
    (["DELETE"], "/v0/tokens/{name}", tokens.delete_token),
    (["PUT"], "/v0/tokens/{name}", tokens.update_token),
    (["POST"], "/v0/tokens/{name}/refresh", tokens.refresh_token),
    (["POST"], "/v0/datafiles", deploy.push_datafiles),
    (["GET"], "/v0/pipes", pipes.list_pipes),
    (["GET"], "/v0/pipes/openapi.json", pipes.openapi),
    (["GET", "POST"], "/v0/pipes/{name}.{fmt}", pipes.pipe_data),
    (["GET"], "/v0/pipes/{name}", pipes.get_pipe),
    *pipe_jobs.ROUTES,                     # POST /v0/pipes/P/copy, /v0/pipes/P/nodes/N/population
    *pipe_admin.ROUTES,                    # POST/DELETE /v0/pipes[/P], nodes, endpoint, /v1/pipes/P.pipe
    *workspace.ROUTES,                     # /v0/variables, /v0/workspace, /tokens, /v1/build, /v1/deploy, ...
]


class Service:
    """Everything the views share: engine, tokens, write-ahead log + flusher, jobs, limits."""

    def __init__(self, data_dir: str | Path, *, admin_token: str | None = None, flush_interval: float = 1.0,
                 max_body_bytes: int = DEFAULT_MAX_BODY_BYTES, merge_interval: float = 1.0,
                 rate_limit_rps: float | None = None, workers: int = 0):
        # Import the parser, planner and datafile packages here, before the background threads start
        # (WAL flusher, NDJSON kernel warm-up, service data sources): two threads importing a package
        # with import cycles at the same time can see it half-initialised ("cannot import name 'parse'
        # from partially initialized module 'sqlparse_ch.parser'").
        import mergetree.server.project  # noqa: F401

        preload_engine_modules()

        self.data_dir = Path(data_dir)
        server_dir = self.data_dir / "server"
        server_dir.mkdir(parents=True, exist_ok=True)
        self._lock_fd = _lock_data_dir(server_dir / "lock")
        self.max_body_bytes = max_body_bytes
        self.engine = Engine(self.data_dir / "tables", server_dir / "datasources.json",
                             merge_interval=merge_interval)
        if workers:             # SELECTs run in read-only worker processes (mergetree/replica.py)
            self.engine.start_workers(workers)
        self.tokens = TokenStore(server_dir / "tokens.json",
                                 admin_token or os.environ.get("MERGETREE_ADMIN_TOKEN") or None)
        self.flusher = Flusher(self.engine, server_dir / "wal", interval=flush_interval)
        self.flusher.start()
        self.jobs = datasources.Jobs()
        self.ratelimiter = RateLimiter(rate_limit_rps)   # per-token requests/s (None: env or unlimited)
        self.pipes = pipes.PipeRegistry()          # filled by project.apply_project
        # tinybird.pipe_stats_rt / datasources_ops_log (server/service_ds.py; MERGETREE_SERVICE_DATASOURCES=0: off)
        self.service_ds = service_ds.ServiceSources(self.engine, tokens=self.tokens, pipes=self.pipes)
        self.flusher.on_flushed = self.service_ds.flushed if self.service_ds.enabled else None
        self.pipe_jobs = pipe_jobs.PipeJobs(self).start()   # scheduled copy pipes (COPY_SCHEDULE)
        self.route = None           # set by workspace.attach when created workspaces exist (http.service)
        workspace.attach(self)      # secrets for tb_secret(), the workspaces created by tb --local
        self._closed = False

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        workspace.detach(self)
        self.pipe_jobs.close()
        self.flusher.close()
        self.service_ds.close()
        self.jobs.close()
        self.engine.close()
        os.close(self._lock_fd)


def _lock_data_dir(path: Path) -> int:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise MergeTreeError(f"The data directory {path.parent.parent} is in use by another mergetree server") from None
    return fd


def _endpoint(view):
    """Wrap a view: size limit up front, errors as the one JSON shape, no traceback to the client."""
    logged = view is pipes.pipe_data or view is query.sql    # tinybird.pipe_stats_rt rows (service_ds.py)
    async def handle(request: Request) -> Response:
        limit = request.app.state.service.max_body_bytes
        declared = request.headers.get("content-length", "")
        try:
            if declared.isdigit() and int(declared) > limit:
                raise too_large(limit)
            return await view(request)
        except ApiError as e:
            return error_response(e.status, e.message, e.documentation, e.headers)
        except UnknownTableError as e:
            return error_response(404, _unknown_table_message(e), DOC_QUERY)
        except CorruptedPartError as e:     # not the request's fault: 500 as ClickHouse, but named and logged
            log.error("%s %s: %s", request.method, request.url.path, e)
            return error_response(500, _clickhouse_message(e), DOC_QUERY)
        except MergeTreeError as e:
            return error_response(400, _clickhouse_message(e), DOC_QUERY)
        except ClientDisconnect:
            return Response(status_code=400)
        except Exception as e:  # noqa: BLE001 - a bug of ours: log it, answer JSON
            from sqlparse_ch.errors import ParseError

            if isinstance(e, ParseError):
                return error_response(400, f"[Error] {e} (SYNTAX_ERROR)", DOC_QUERY)
            log.exception("internal error on %s %s", request.method, request.url.path)
            return error_response(500, f"Internal server error ({type(e).__name__}); the server log has the "
                                       f"details")
    async def endpoint(request: Request) -> Response:
        if logged:                  # an endpoint request: one row of tinybird.pipe_stats_rt (service_ds.py)
            wall, started = time.time(), time.perf_counter()
            response = await handle(request)
            service_ds.record_pipe_request(request, response, wall, started)
        else:
            response = await handle(request)
        state = request.scope.get("state")
        limits = state.get("ratelimit_headers") if state else None   # ratelimit.py, set by http.principal
        if limits:              # on every answer after authentication, errors included
            for k, v in limits.items():
                response.headers.setdefault(k, v)
        return response

    endpoint.__name__ = view.__name__
    endpoint.fast_view = view               # _App's fast path serves the FAST_VIEWS
    return endpoint


def _unknown_table_message(e: UnknownTableError) -> str:
    """Only the missing table's name, as ClickHouse says it (``Table default.x does not exist``):
    the embedded API's text also names the data directory and every table (a leak over HTTP)."""
    from mergetree.server.pipes import public_message

    m = re.match(r"^Table (\S+) does not exist$", public_message(e))
    if not m:
        return str(e)            # the server's own texts ("Data Source 'x' not found")
    name = m.group(1)
    return f"[Error] Table {name if '.' in name else 'default.' + name} does not exist. ({e.code})"


def _clickhouse_message(e: MergeTreeError) -> str:
    return f"[Error] {str(e).rstrip('.')}. ({e.code})"


async def _http_error(request: Request, exc: HTTPException) -> Response:
    if exc.status_code == 404:
        return error_response(404, f"Not found: {request.method} {request.url.path} is not an API endpoint")
    if exc.status_code == 405:
        return error_response(405, f"Method {request.method} is not allowed on {request.url.path}")
    return error_response(exc.status_code, str(exc.detail), DOC_OVERVIEW)


#: CORSMiddleware's options (every route; the fast path of _App adds the same headers)
CORS = dict(allow_origins=["*"], allow_methods=["*"], allow_headers=["*"],
            expose_headers=["X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "Retry-After"],
            max_age=86400)

#: the views served by the fast path of :class:`_App` (the hot read routes)
FAST_VIEWS = (pipes.pipe_data, query.sql)


class _App(Starlette):
    """Starlette, with a direct path for the hot read routes (``/v0/pipes/NAME.FMT``, ``/v0/sql``).

    Through Starlette, a request passes ServerErrorMiddleware, CORSMiddleware (which wraps ``send``
    and rewrites the response headers through MutableHeaders), ExceptionMiddleware, the router (a
    regex per route until one matches) and ``request_response`` (two more wrappers of ``send``):
    ~0.1 ms of the ~0.4 ms the event loop spends on a request. Here the route is looked up once per
    (method, path) with the router's own matching, the view (the same ``_endpoint`` wrapper) is
    awaited directly and the response sent with the headers CORSMiddleware would add: the same bytes
    on the wire, the same error handling (an exception escaping the view: HTTPException through the
    app's handler, anything else the plain-text 500 of ServerErrorMiddleware, then re-raised).
    Every other request (other routes, OPTIONS preflights, mounted sub-apps) goes through Starlette.
    """

    _FAST_CACHE_SIZE = 4096

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._fast_routes: dict = {}             # (method, path) -> (route, path_params) or None
        self._fast = None                        # (ServerErrorMiddleware, CORSMiddleware, handlers) or False

    def _fast_setup(self):
        """The middleware instances of the built stack, if it is exactly the one the fast path stands in
        for: ServerErrorMiddleware (no handler, no debug) -> CORSMiddleware (any origin, no credentials)
        -> ExceptionMiddleware -> router. Anything else (middleware added later, other options): False."""
        from starlette.middleware.errors import ServerErrorMiddleware
        from starlette.middleware.exceptions import ExceptionMiddleware

        if self.middleware_stack is None:
            self.middleware_stack = self.build_middleware_stack()
        errors = self.middleware_stack
        cors = getattr(errors, "app", None)
        exceptions = getattr(cors, "app", None)
        if (type(errors) is ServerErrorMiddleware and errors.handler is None and not errors.debug
                and type(cors) is CORSMiddleware and cors.allow_all_origins and not cors.allow_credentials
                and type(exceptions) is ExceptionMiddleware and exceptions.app is self.router
                and not exceptions._status_handlers and exceptions._exception_handlers.get(HTTPException) is _http_error
                and all(k is HTTPException or k.__name__ == "WebSocketException"
                        for k in exceptions._exception_handlers)):      # the one handler the fast path calls
            raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in cors.simple_headers.items()]
            self._fast = (cors, (exceptions._exception_handlers, exceptions._status_handlers), raw)
        else:
            self._fast = False
        return self._fast

    def _fast_route(self, scope):
        key = (scope["method"], scope["path"])
        try:
            return self._fast_routes[key]
        except KeyError:
            pass
        found = None
        for route in self.router.routes:            # the router's order and matching (Router.app)
            match, child = route.matches(scope)
            if match is Match.FULL:
                if isinstance(route, Route) and getattr(route.endpoint, "fast_view", None) in FAST_VIEWS:
                    found = (route, child["path_params"])
                break
        if len(self._fast_routes) >= self._FAST_CACHE_SIZE:
            self._fast_routes.clear()
        self._fast_routes[key] = found
        return found

    async def __call__(self, scope, receive, send):
        fast = self._fast
        if fast is None:
            fast = self._fast_setup()
        if not fast or scope["type"] != "http" or scope["method"] == "OPTIONS" or scope.get("root_path") \
                or "path_params" in scope:
            return await super().__call__(scope, receive, send)
        hit = self._fast_route(scope)
        if hit is None:
            return await super().__call__(scope, receive, send)
        cors, handlers, cors_raw = fast
        route, path_params = hit
        # the keys Starlette's layers put in the scope on the way to the view
        scope["app"] = self
        scope["starlette.exception_handlers"] = handlers
        scope.setdefault("router", self.router)
        scope["route"] = route
        scope["endpoint"] = route.endpoint
        scope["path_params"] = dict(path_params)
        request = Request(scope, receive, send)
        try:
            try:
                response = await route.endpoint(request)
            except HTTPException as exc:            # ExceptionMiddleware's handler (inside CORS)
                response = await _http_error(request, exc)
                exc.__traceback__ = None
        except Exception:                           # ServerErrorMiddleware: plain 500, outside CORS, re-raised
            await PlainTextResponse("Internal Server Error", status_code=500)(scope, receive, send)
            raise
        headers = response.raw_headers
        if type(response) is not Response or response.background is not None \
                or any(k in _CORS_KEYS for k, _ in headers):
            return await response(scope, receive, functools.partial(cors.send, send=send,
                                                                     request_headers=Headers(scope=scope)))
        # CORSMiddleware.send when the response has none of its headers yet: its simple headers if the
        # request has an Origin, then Vary: Origin
        headers = list(headers)
        for k, _ in scope["headers"]:
            if k == b"origin":
                headers += cors_raw
                break
        headers.append((b"vary", b"Origin"))
        await send({"type": "http.response.start", "status": response.status_code, "headers": headers})
        await send({"type": "http.response.body", "body": response.body})


_CORS_KEYS = frozenset({b"access-control-allow-origin", b"access-control-expose-headers",
                        b"access-control-allow-credentials", b"vary"})


def create_app(data_dir: str | Path, *, admin_token: str | None = None, flush_interval: float = 1.0,
               max_body_bytes: int = DEFAULT_MAX_BODY_BYTES, merge_interval: float = 1.0,
               project=None, rate_limit_rps: float | None = None, workers: int = 0) -> Starlette:
    """``project``: a project folder (or a loaded ``sqlparse_ch.datafiles.Project``) to serve:
    its data sources are created and its pipes published (``server/project.py``).
    ``rate_limit_rps``: requests/s per non-admin token (server/ratelimit.py; None: unlimited).
    ``workers``: read-only query worker processes for SELECTs (mergetree/replica.py; 0: in-process)."""
    service = Service(data_dir, admin_token=admin_token, flush_interval=flush_interval,
                      max_body_bytes=max_body_bytes, merge_interval=merge_interval, rate_limit_rps=rate_limit_rps,
                      workers=workers)
    service.project_root = project if isinstance(project, (str, Path)) else None
    if project is None:                              # a project pushed earlier (server/deploy.py)
        project = deploy.stored_project(data_dir)
    if project is not None:
        from mergetree.server.project import apply_project, load

        try:
            apply_project(service, load(project) if isinstance(project, (str, Path)) else project)
        except BaseException:
            service.close()
            raise

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        service.close()

    app = _App(
        routes=[Route(path, _endpoint(view), methods=methods) for methods, path, view in ROUTES],
        middleware=[Middleware(CORSMiddleware, **CORS)],
        exception_handlers={HTTPException: _http_error},
        lifespan=lifespan,
    )
    app.state.service = service
    return app
