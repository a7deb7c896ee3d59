"""Pipes: the registry of a project's pipes, their execution, and the Pipes API.

Tinybird's semantics:

* A pipe is a list of nodes; the node served is the one with ``TYPE endpoint``, else the last.
* A node's SQL may name an earlier node of the same pipe, or another pipe (its endpoint node),
  as if it were a table. :func:`compile_pipe` renders the nodes it needs with the request
  parameters (``sqlparse_ch.template``), parses each once (an LRU cache keyed by the rendered
  text), and inlines every such reference as a subquery, at the AST level (``FROM node`` ->
  ``FROM (SELECT ...) AS node``; ``x IN node`` likewise). Only the nodes reached from the
  served node are rendered. The result is ONE statement that goes to ``Engine.run``.
* Request parameters: the query string and, for POST, a JSON object body or a form; a repeated
  key makes an array (:func:`request_params`). A JWT's ``fixed_params`` override them
  (:func:`apply_fixed_params`: the one place where the parameters of a pipe call are final).
* Errors: unknown pipe 404; template errors (missing ``required=`` parameter, bad value) 400
  with Tinybird's text; SQL errors 400 with ClickHouse's text.

Routes (in ``app.py``'s route table): ``GET /v0/pipes``, ``GET /v0/pipes/openapi.json``,
``GET|POST /v0/pipes/NAME.{json,csv,ndjson,parquet}`` (``q=`` runs extra SQL over ``_``, the
pipe's result), ``GET /v0/pipes/NAME``. ``/v0/sql`` uses :func:`sql_pipe_names` and
:func:`expand_pipes` for ``pipeline=P`` and pipes named in the query.

Access: a non-admin token needs ``PIPES:READ:name`` to call a pipe; the data sources the pipe
reads need no scope of their own (as in Tinybird). ``q=`` on an endpoint may only read ``_``.
Row policies (a token's datasource ``filter``) are applied by :func:`run_statement`, the one
place where pipe statements reach the engine (hook for ``planner/row_policy.py``).
"""

from __future__ import annotations

import dataclasses
import re
import threading
import time
from collections import OrderedDict
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response

from mergetree.errors import MergeTreeError
from mergetree.server.errors import DOCS, ApiError
from mergetree.server.auth import authorize_read
from mergetree.server.service_ds import set_result_stats
from mergetree.server.http import json_response, principal, read_body, run_query, service
from sqlparse_ch.ast.base import replaced

DOC_PIPES = f"{DOCS}/pipe-api"
FORMATS = {"json": ("JSON", "application/json"),
           "csv": ("CSVWithNames", "text/csv"),
           "ndjson": ("JSONEachRow", "application/x-ndjson"),
           "parquet": ("Parquet", "application/octet-stream"),
           "csvwithnames": ("CSVWithNames", "text/csv"),             # Tinybird's spellings (H7)
           "prometheus": ("Prometheus", "text/plain; version=0.0.4")}
#: request parameters that are never template parameters
_NOT_PARAMS = frozenset({"token", "q"})


# --------------------------------------------------------------------------- registry


class PipeRegistry:
    """The pipes being served (name -> ``sqlparse_ch.datafiles.Pipe``), swapped whole on reload."""

    def __init__(self):
        self._pipes: dict = {}
        self._lock = threading.Lock()

    def replace_all(self, pipes: dict) -> None:
        with self._lock:
            self._pipes = dict(pipes)

    def register(self, pipe) -> None:
        with self._lock:
            self._pipes = {**self._pipes, pipe.name: pipe}

    def names(self) -> list[str]:
        return sorted(self._pipes)

    def __contains__(self, name) -> bool:
        return name in self._pipes

    def find(self, name: str):
        return self._pipes.get(name)

    def get(self, name: str):
        pipe = self._pipes.get(name)
        if pipe is None:
            raise ApiError(404, f"The pipe '{name}' does not exist", DOC_PIPES)
        return pipe

    def snapshot(self) -> dict:
        return self._pipes


def is_endpoint(pipe) -> bool:
    """Materialized, copy and sink pipes write data; they are not API endpoints."""
    return pipe.kind in ("endpoint", "standard")


def served_node(pipe):
    """The node a pipe serves: TYPE endpoint, else the last node."""
    return pipe.endpoint_node or pipe.nodes[-1]


# --------------------------------------------------------------------------- parameters


async def request_params(request: Request, query: list | None = None) -> dict:
    """Template parameters of a request: query string, then (POST) a JSON object or a form
    (a body starting with ``{`` is JSON whatever its Content-Type: ``curl -d '{...}'`` sends it as a form).

    A key given several times becomes a list (Tinybird's arrays: ``?x=1&x=2``); JSON arrays stay
    lists; other JSON values become their text (``true``, ``5``). ``token`` and ``q`` are not
    parameters. ``query``: the query string's pairs if already parsed (:func:`query_pairs`).
    """
    params: dict = {}

    def add(key: str, value) -> None:
        if key in _NOT_PARAMS:
            return
        if key in params:
            old = params[key]
            params[key] = (old if isinstance(old, list) else [old]) + [value]
        else:
            params[key] = value

    for key, value in query_pairs(request) if query is None else query:
        add(key, value)
    if request.method == "POST":
        ctype = request.headers.get("content-type", "")
        body = await read_body(request)
        if body.strip():
            if ctype.startswith("application/x-www-form-urlencoded") and body.lstrip()[:1] != b"{":
                from urllib.parse import parse_qsl

                for key, value in parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True):
                    add(key, value)
            else:
                import orjson

                try:
                    doc = orjson.loads(body)
                except orjson.JSONDecodeError as e:
                    raise ApiError(400, f"Invalid JSON body: {e}: send the parameters as a JSON object or "
                                        f"in the query string", DOC_PIPES) from None
                if not isinstance(doc, dict):
                    raise ApiError(400, "Invalid JSON body: expected an object of parameters", DOC_PIPES)
                for key, value in doc.items():      # the body wins over the query string
                    if key == "q" and isinstance(value, str):
                        params["__q__"] = value
                    elif key not in _NOT_PARAMS:
                        params[key] = _param_text(value)
    return params


def query_pairs(request: Request) -> list[tuple[str, str]]:
    """The query string's (key, value) pairs in order: ``request.query_params.multi_items()`` without
    building the QueryParams (the same parse: latin-1 text, blank values kept)."""
    return parse_qsl(request.scope["query_string"].decode("latin-1"), keep_blank_values=True)


def _param_text(value):
    if isinstance(value, list):
        return [_param_text(v) for v in value]
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None or isinstance(value, str):
        return value
    import orjson

    return orjson.dumps(value).decode() if isinstance(value, dict) else str(value)


def apply_fixed_params(who, pipe_name: str, params: dict) -> dict:
    """The final parameters of a call of ``pipe_name``: a JWT scope's ``fixed_params`` for this
    pipe override whatever the request sent (Tinybird's multi-tenant JWTs).

    HOOK (tokens/JWT owner): this is the one place pipe parameters are finalised; every pipe
    call (endpoints, ``/v0/sql`` with ``pipeline=``/pipe names) goes through it.
    """
    if hasattr(who, "params_for_pipe"):                  # auth.py's implementation when present
        return who.params_for_pipe(pipe_name, params)
    fixed = {}
    for s in getattr(who, "scopes", ()):
        if s.type == "PIPES:READ" and s.resource == pipe_name and s.fixed_params:
            fixed.update(s.fixed_params)
    if not fixed:
        return params
    return {**params, **{k: _param_text(v) for k, v in fixed.items()}}


# --------------------------------------------------------------------------- compiling


_PARSE_CACHE: OrderedDict = OrderedDict()
_PARSE_CACHE_SIZE = 2048
_parse_lock = threading.Lock()
_STRING_LITERAL = re.compile(r"'(?:[^'\\]|\\[\s\S]|'')*'")
_MARKER = "__mt_lit_{}__"


class _Shape:
    """A cached parse of a statement shape (its text with string literals as markers): the AST,
    where the markers are (a path trie, so a request's values are put in by rebuilding only the
    nodes above them) and the table references :func:`inline_tables` looks up (same for every
    statement of the shape: substituting string literal values changes no structure)."""

    __slots__ = ("stmt", "markers", "sites")

    def __init__(self, stmt, markers, sites):
        self.stmt = stmt
        self.markers = markers      # path trie, leaves = marker numbers; None when no literals
        self.sites = sites          # _Site list (pre-order)


def parse_sql(text: str):
    """``sqlparse_ch.parse`` with an LRU cache (ASTs are frozen dataclasses: safe to share).

    Rendered pipe SQL differs between requests mostly in its string literals (``user_id =
    'user_123'``), so the cache key is the text with every string literal replaced by a numbered
    marker; a hit substitutes this request's values into the cached AST (~20x cheaper than
    parsing). A shape is cached only after checking, the first time, that the substituted AST
    equals a real parse of the text (so literals inside comments, typed literals and the like
    fall back to plain parsing). Positions (spans) in a substituted AST are those of the shape.
    """
    return _parse_shape(text)[0]


def _parse_shape(text: str):
    """(statement, its table-reference sites) for ``text``, through the shape cache."""
    from sqlparse_ch import parse
    from sqlparse_ch.literals import unquote_string

    literals = _STRING_LITERAL.findall(text)
    key = _STRING_LITERAL.sub(_numbered_marker(), text) if literals else text
    with _parse_lock:
        shape = _PARSE_CACHE.get(key)
        if shape is not None:
            _PARSE_CACHE.move_to_end(key)
    if shape is not None and shape is not False:
        if not literals:
            return shape.stmt, shape.sites
        return _apply_trie(shape.stmt, shape.markers, [unquote_string(x) for x in literals], _put_literal), \
            shape.sites
    stmt = parse(text)
    if shape is None:
        cached = _Shape(stmt, None, _sites(stmt))
        if literals:
            try:
                parsed = parse(key)
                trie = _marker_trie(parsed, len(literals))
                if trie is None or _apply_trie(parsed, trie, [unquote_string(x) for x in literals],
                                               _put_literal) != stmt:
                    cached = False
                else:
                    cached = _Shape(parsed, trie, _sites(parsed))
            except Exception:  # noqa: BLE001 - a marker changed the meaning: never use the shape
                cached = False
        with _parse_lock:
            _PARSE_CACHE[key] = cached
            if len(_PARSE_CACHE) > _PARSE_CACHE_SIZE:
                _PARSE_CACHE.popitem(last=False)
        if cached is not False:
            return stmt, cached.sites
    return stmt, _sites(stmt)


def _numbered_marker():
    counter = iter(range(1 << 30))
    return lambda m: "'" + _MARKER.format(next(counter)) + "'"


def _substitute(stmt, values: list[str]):
    """``stmt`` (a parse of the marker text) with marker i replaced by ``values[i]``."""
    trie = _marker_trie(stmt, len(values))
    if trie is None:
        raise ValueError("literal markers lost")
    return _apply_trie(stmt, trie, values, _put_literal)


def _put_literal(node, values, i):
    return _rebuilt(node, {"value": values[i]})


# ---- AST paths: a statement's nodes addressed by field names and tuple/list indexes. A "trie"
# maps a path's steps to nested dicts; the key _HERE holds what to do at that node. Rebuilding
# along a trie replaces only the nodes on the paths (the rest of the tree is shared).

_HERE = object()


def _trie_add(trie: dict, path: tuple, value) -> None:
    for step in path:
        trie = trie.setdefault(step, {})
    trie[_HERE] = value


def _apply_trie(node, trie: dict, arg, put):
    """``node`` rebuilt along ``trie``: below, then ``put(node, arg, leaf value)`` where a path ends."""
    here = _HERE
    t = type(node)
    if t is tuple or t is list:
        items = list(node)
        for step, sub in trie.items():
            if step is not here:
                items[step] = _apply_trie(items[step], sub, arg, put)
        node = tuple(items) if t is tuple else items
    else:
        changes = {step: _apply_trie(getattr(node, step), sub, arg, put)
                   for step, sub in trie.items() if step is not here}
        if changes:
            node = _rebuilt(node, changes)
    if here in trie:
        node = put(node, arg, trie[here])
    return node


def _rebuilt(node, changes: dict):
    """= ``dataclasses.replace(node, **changes)`` (sqlparse_ch.ast.base.replaced: positional)."""
    return replaced(node, **changes)


_KIND: dict = {}


def _kind(t) -> int:
    """1: an AST node (dataclass instance), 2: a tuple or list (items walked), 3: a leaf."""
    k = _KIND.get(t)
    if k is None:
        k = _KIND[t] = 1 if hasattr(t, "__dataclass_fields__") else 2 if t is list or issubclass(t, tuple) else 3
    return k


_FIELDS: dict = {}


def _fields(cls) -> tuple:
    names = _FIELDS.get(cls)
    if names is None:
        names = _FIELDS[cls] = tuple(f.name for f in dataclasses.fields(cls) if f.name != "span")
    return names


def _marker_trie(stmt, count: int):
    """The paths of the Literal markers ``__mt_lit_<i>__`` in ``stmt`` (trie leaves: i), or None
    unless each of the ``count`` markers is found exactly where a Literal's value is."""
    from sqlparse_ch.ast.expr import Literal

    markers = {_MARKER.format(i): i for i in range(count)}
    trie: dict = {}
    found = 0

    def rec(node, path):
        nonlocal found
        k = _KIND.get(type(node)) or _kind(type(node))
        if k == 2:
            for i, x in enumerate(node):
                rec(x, path + (i,))
        elif k == 1:
            if isinstance(node, Literal) and isinstance(node.value, str) and node.value in markers:
                found += 1
                _trie_add(trie, path, markers[node.value])
                return
            for name in _FIELDS.get(type(node)) or _fields(type(node)):
                v = getattr(node, name)
                if v is not None:
                    rec(v, path + (name,))

    rec(stmt, ())
    return trie if found == count else None


class _Site:
    """A table reference :func:`inline_tables` may replace: ``FROM name`` / ``JOIN name`` (kind
    'table', at a TableExpr) or ``x IN name`` (kind 'in', at an InList); ``inner``: the sites
    below it that are looked at too (for 'table' only when ``name`` is not inlined)."""

    __slots__ = ("path", "kind", "name", "inner")

    def __init__(self, path, kind, name, inner):
        self.path, self.kind, self.name, self.inner = path, kind, name, inner


def _sites(stmt) -> tuple:
    """(sites in the order inline_tables looks them up, CTE names of the statement)."""
    from sqlparse_ch.ast.expr import Identifier, InList
    from sqlparse_ch.ast.query import CTE, TableExpr, TableName

    ctes = set()

    def rec(node, path, out):
        k = _KIND.get(type(node)) or _kind(type(node))
        if k == 2:
            for i, x in enumerate(node):
                rec(x, path + (i,), out)
            return
        if k != 1:
            return
        if isinstance(node, CTE):
            ctes.add(node.name)
        if isinstance(node, TableExpr) and isinstance(node.source, TableName) and node.source.database is None:
            inner: list = []
            fields(node, path, inner)
            out.append(_Site(path, "table", node.source.name, inner))
            return
        if isinstance(node, InList) and isinstance(node.values, Identifier) and node.values.table is None \
                and node.values.database is None:
            inner = []
            rec(node.expr, path + ("expr",), inner)
            out.append(_Site(path, "in", node.values.name, inner))
            return
        fields(node, path, out)

    def fields(node, path, out):
        for name in _FIELDS.get(type(node)) or _fields(type(node)):
            v = getattr(node, name)
            if v is not None:
                rec(v, path + (name,), out)

    sites: list = []
    rec(stmt, (), sites)
    return sites, frozenset(ctes)


def _inline(stmt, sites_info, resolve):
    """``stmt`` with the sites whose name ``resolve`` gives a query for replaced by that query."""
    from sqlparse_ch.ast.expr import Subquery

    sites, shadow = sites_info
    if not sites:
        return stmt
    cache: dict = {}
    trie: dict = {}

    def lookup(name):
        if name in shadow:
            return None
        if name not in cache:
            cache[name] = resolve(name)
        return cache[name]

    def visit(items):
        for s in items:
            q = lookup(s.name)
            if q is not None:
                _trie_add(trie, s.path, (s.kind, Subquery(_strip_format(q))))
                if s.kind == "table":
                    continue
            visit(s.inner)

    visit(sites)
    if not trie:
        return stmt
    return _apply_trie(stmt, trie, None, _put_subquery)


def _put_subquery(node, _, what):
    kind, sub = what
    if kind == "table":
        return _rebuilt(node, {"source": sub, "alias": node.alias or node.source.name})
    return _rebuilt(node, {"values": sub})


class PipeError(Exception):
    """A problem in a pipe's node (template or SQL), with where it happened."""

    def __init__(self, status: int, message: str, pipe=None, node=None, line: int | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.pipe = pipe
        self.node = node
        self.line = line

    def api_error(self) -> ApiError:
        return ApiError(self.status, self.message, DOC_PIPES)


def render_node(pipe, node, params: dict, *, test_mode: bool = False, options: dict | None = None,
                secrets=None) -> str:
    """The node's SQL with the template rendered (400 with Tinybird's message on errors);
    template options (``{{max_threads(2)}}``, ...) are added to ``options``."""
    from sqlparse_ch.template import TemplateCustomError, TemplateError, render

    try:
        rendered = render(node.sql, params, test_mode=test_mode, name=f"{pipe.name}.pipe", secrets=secrets)
        if options is not None and rendered.options:
            options.update(rendered.options)
        if options is not None and rendered.query_params:    # tb_secret(): bound values (H7 hook)
            options.setdefault("query_params", {}).update(rendered.query_params)
        return rendered.sql
    except TemplateCustomError as e:
        raise PipeError(e.code, e.message, pipe, node, node.file_line(e.line) if e.line else node.line) from None
    except TemplateError as e:
        raise PipeError(400, str(e), pipe, node, node.file_line(e.line) if e.line else node.line) from None


def _parse_node(pipe, node, sql: str):
    from sqlparse_ch.errors import ParseError

    try:
        return _parse_shape(sql)
    except ParseError as e:
        raise PipeError(400, f"[Error] {e.message} in node '{node.name}' of pipe '{pipe.name}' (SYNTAX_ERROR)",
                        pipe, node, node.file_line(e.line) if not node.is_template else node.file_line(1)) from None


def compile_pipe(pipes, pipe, params: dict, *, node=None, test_mode: bool = False, options: dict | None = None,
                 _stack: tuple = ()):
    """The served node (or ``node``) of ``pipe`` as one statement AST, earlier nodes and other
    pipes inlined as subqueries. ``pipes`` is a registry or a dict name -> Pipe; ``options``
    collects the rendered templates' options (``max_threads``, ``cache_ttl``, ...)."""
    if pipe.name in _stack:
        raise PipeError(400, f"Circular reference between pipes: {' -> '.join(_stack + (pipe.name,))}", pipe)
    stack = _stack + (pipe.name,)
    target = node or served_node(pipe)
    index = {n.name: i for i, n in enumerate(pipe.nodes)}
    done: dict = {}
    find = pipes.find if hasattr(pipes, "find") else pipes.get

    def build(n):
        if n.name in done:
            return done[n.name]
        stmt, sites = _parse_node(pipe, n, render_node(pipe, n, params, test_mode=test_mode, options=options,
                                                       secrets=getattr(pipes, "secrets", None)))
        pos = index[n.name]

        def resolve(name):
            i = index.get(name)
            if i is not None and i < pos:
                return build(pipe.nodes[i])
            other = find(name) if name != pipe.name else None
            if other is not None and i is None:
                return compile_pipe(pipes, other, params, test_mode=test_mode, options=options, _stack=stack)
            return None

        done[n.name] = _inline(stmt, sites, resolve)
        return done[n.name]

    return build(target)


def inline_tables(stmt, resolve):
    """Replace each unqualified table name ``t`` for which ``resolve(t)`` gives a query by that
    query as a subquery aliased ``t`` (``FROM t``, ``JOIN t``, ``x IN t``). CTE names shadow.
    Only the nodes above a replaced name are rebuilt; with nothing to replace, ``stmt`` itself."""
    return _inline(stmt, _sites(stmt), resolve)


def _strip_format(q):
    if getattr(q, "format", None):
        return dataclasses.replace(q, format=None)
    return q


def _map_children(node, fn):
    k = _KIND.get(type(node)) or _kind(type(node))
    if k == 2:
        if type(node) is list:
            return [fn(x) for x in node]
        out = tuple(fn(x) for x in node)
        return node if all(a is b for a, b in zip(out, node)) else out
    if k != 1 or isinstance(node, type):
        return node
    changes = {}
    for name in _FIELDS.get(type(node)) or _fields(type(node)):
        old = getattr(node, name)
        if old is None or (_KIND.get(type(old)) or _kind(type(old))) == 3:
            continue
        new = fn(old)
        if new is not old:
            changes[name] = new
    return dataclasses.replace(node, **changes) if changes else node


def _walk(node):
    stack = [node]
    while stack:
        n = stack.pop()
        k = _KIND.get(type(n)) or _kind(type(n))
        if k == 2:
            stack.extend(n)
            continue
        if k != 1:
            continue
        yield n
        for name in _FIELDS.get(type(n)) or _fields(type(n)):
            v = getattr(n, name)
            if v is not None and (_KIND.get(type(v)) or _kind(type(v))) != 3:
                stack.append(v)


def table_references(stmt) -> set[str]:
    """Every table a statement reads: ``[db.]t`` in FROM/JOIN and ``x IN t`` (as 'db.t' or 't')."""
    from sqlparse_ch.ast.expr import Identifier, InList
    from sqlparse_ch.ast.query import CTE, TableName

    found, ctes = set(), set()
    for n in _walk(stmt):
        if isinstance(n, CTE):
            ctes.add(n.name)
        elif isinstance(n, TableName):
            found.add(n.name if n.database is None else f"{n.database}.{n.name}")
        elif isinstance(n, InList) and isinstance(n.values, Identifier) and n.values.table is None:
            found.add(n.values.name)
    return found - ctes


# --------------------------------------------------------------------------- running


def run_statement(svc, who, stmt, *, pipe_name: str | None = None, settings: dict | None = None,
                  params: dict | None = None):
    """Run a compiled pipe statement (the one place pipe SQL reaches the engine).

    A token's datasource ``filter`` (``Principal.row_policies``) is ANDed by the engine into
    every read of that data source, inside the pipe's nodes, other pipes and ``q=`` alike.
    """
    try:
        policies = who.row_policies() if hasattr(who, "row_policies") else None
        if policies:                                    # the token's datasource filters
            return svc.engine.run(stmt, params, settings, row_policies=policies)
        return svc.engine.run(stmt, params, settings)
    except MergeTreeError as e:
        raise ApiError(400, f"[Error] {public_message(e)}. ({e.code})", DOC_PIPES) from None


_TABLE_LEAK = re.compile(r"^(Table \S+ does not exist) in \S+?(;.*)?$", re.S)


def public_message(e: Exception) -> str:
    """An engine error's text without server internals (the data directory, every table's name)."""
    text = str(e).rstrip(".")
    m = _TABLE_LEAK.match(text)
    return m.group(1) if m else text


def execute_pipe(svc, who, pipe, params: dict, q: str | None = None):
    """Compile and run a pipe (and ``q`` over ``_``); returns a Result."""
    options: dict = {}
    try:
        stmt = compile_pipe(svc.pipes, pipe, params, options=options)
    except PipeError as e:
        raise e.api_error() from None
    settings = {"max_threads": options["max_threads"]} if options.get("max_threads") else None
    if options.get("query_params"):     # tb_secret() values, bound into the pipe's own AST (never into q=)
        from mergetree.server.workspace import bind_secrets

        stmt = bind_secrets(stmt, options["query_params"])
    if q:
        from sqlparse_ch.errors import ParseError

        try:
            outer = parse_sql(q)
        except ParseError as e:
            raise ApiError(400, f"[Error] {e} (SYNTAX_ERROR)", DOC_PIPES) from None
        if not svc.engine.is_read(outer):
            raise ApiError(403, "Forbidden: q= on a pipe endpoint may only run a SELECT over _", DOC_PIPES)
        authorize_read(who, svc.engine, outer, allowed=("_",))     # H2: scope-aware (CTE shadowing)
        others = table_references(outer) - {"_"}
        if others and not who.is_admin:
            raise ApiError(403, f"Forbidden: q= on a pipe endpoint can only read '_' (the pipe's result), "
                                f"not {', '.join(sorted(others))}", DOC_PIPES)
        stmt = inline_tables(outer, lambda name: stmt if name == "_" else None)
    return run_statement(svc, who, stmt, pipe_name=pipe.name, settings=settings)


def run_pipe_in_worker(svc, who, pipe, params: dict, ext: str, started: float):
    """HOOK (H5, ``serve --workers N``): the call compiled, run and encoded by a query worker
    (``Engine.run_pipe``, ``mergetree/replica.py``): (body, (rows read, bytes read, rows)), or None:
    then :func:`execute_pipe` does it here (also for every template/SQL error, so errors are this
    module's). Engine errors get :func:`run_statement`'s text."""
    pipes = svc.pipes.snapshot()
    if pipes.get(pipe.name) is not pipe:        # reloaded meanwhile: the usual path
        return None
    policies = who.row_policies() if hasattr(who, "row_policies") else None
    try:
        return svc.engine.run_pipe(pipes, pipe.name, params, ext, policies or None, started)
    except MergeTreeError as e:
        raise ApiError(400, f"[Error] {public_message(e)}. ({e.code})", DOC_PIPES) from None


class _WorkerResult:
    """What ``set_result_stats`` reads of a Result, for an answer encoded by a worker."""

    __slots__ = ("statistics", "num_rows")

    def __init__(self, rows_read, bytes_read, num_rows):
        self.statistics = {"rows_read": rows_read, "bytes_read": bytes_read}
        self.num_rows = num_rows


def encode(result, ext: str) -> bytes:
    fmt, _ = FORMATS[ext]
    if ext == "parquet":
        return _parquet(result)
    if ext == "json" and result.rows_before_limit is None:
        result.rows_before_limit = result.num_rows      # Tinybird always reports it
    return result.format(fmt)


def _parquet(result) -> bytes:
    from mergetree.errors import UnknownFormatError

    try:
        return result.format("Parquet")
    except (ImportError, UnknownFormatError) as e:
        raise ApiError(400, f"The parquet format is not available: {e} (pip install pyarrow)", DOC_PIPES) from None


# --------------------------------------------------------------------------- views


def _split_name(raw: str) -> tuple[str, str]:
    name, dot, ext = raw.rpartition(".")
    if not dot:
        return raw, ""
    return name, ext.lower()


async def pipe_data(request: Request):
    """``GET|POST /v0/pipes/NAME.{json,csv,ndjson,parquet}``."""
    svc = service(request)
    who = principal(request)
    name, ext = _split_name(request.path_params["name"] + "." + request.path_params["fmt"])
    if ext not in FORMATS:
        raise ApiError(400, f"Unsupported format '{ext}': use .json, .csv, .csvwithnames, .ndjson, .parquet or .prometheus", DOC_PIPES)
    pipe = svc.pipes.get(name)
    who.require("PIPES:READ", name, f"read the pipe '{name}'")
    if not is_endpoint(pipe):
        raise ApiError(404, f"The pipe '{name}' is a {pipe.kind} pipe, not an API endpoint", DOC_PIPES)
    query = query_pairs(request)
    params = await request_params(request, query)
    request.scope["mt.params"] = params       # H9: tinybird.pipe_stats_rt.parameters (POST bodies too)
    q = None
    for key, value in query:                  # request.query_params.get("q"): the last one
        if key == "q":
            q = value
    q = q or params.pop("__q__", None)
    params.pop("__q__", None)
    params = apply_fixed_params(who, name, params)
    call = svc.engine.pipe_call(remote=not q)        # H5: in a query worker, or here (engine.PipeCall)

    def run() -> bytes:                 # one thread hop: compile, execute, encode
        started = time.perf_counter()
        with call.placed() as remote:
            if remote:
                done = run_pipe_in_worker(svc, who, pipe, params, ext, started)
                if done is not None:
                    set_result_stats(request, _WorkerResult(*done[1]))
                    return done[0]
            result = execute_pipe(svc, who, pipe, params, q)
        result.statistics["elapsed"] = time.perf_counter() - started
        set_result_stats(request, result)     # H9: read rows/bytes for tinybird.pipe_stats_rt (service_ds.py)
        return encode(result, ext)

    with call:
        return Response(await run_query(run), media_type=FORMATS[ext][1])   # H4: the small query pool (http.py)


def _visible(who, names):
    return [n for n in names if who.allows("PIPES:READ", n)]


def pipe_info(pipe) -> dict:
    endpoint = served_node(pipe)
    params = [p.to_dict() for p in pipe.parameters()]
    return {
        "id": f"t_{pipe.name}", "name": pipe.name, "description": pipe.description or "",
        "type": "endpoint" if pipe.kind in ("endpoint", "standard") else pipe.kind,
        "endpoint": endpoint.name, "url": f"/v0/pipes/{pipe.name}.json",
        "nodes": [{"id": f"t_{pipe.name}_{n.name}", "name": n.name, "sql": n.sql,
                   "description": n.description or "", "node_type": n.type or "standard",
                   "params": [p.to_dict() for p in pipe.parameters(upto=n.name)],
                   "materialized": n.datasource} for n in pipe.nodes],
        "params": params,
        **_timestamps(pipe),
    }


def _timestamps(pipe) -> dict:
    """``created_at`` / ``updated_at`` (the datafile's mtime; the tb CLI sorts and prints them)."""
    from mergetree.server.pipe_admin import timestamps

    return timestamps(pipe)


async def list_pipes(request: Request):
    svc = service(request)
    who = principal(request)
    pipes = svc.pipes.snapshot()
    return json_response({"pipes": [pipe_info(pipes[n]) for n in _visible(who, sorted(pipes))]})


async def get_pipe(request: Request):
    svc = service(request)
    who = principal(request)
    name = request.path_params["name"]
    pipe = svc.pipes.get(name)
    who.require("PIPES:READ", name, f"read the pipe '{name}'")
    return json_response(pipe_info(pipe))


async def openapi(request: Request):
    from mergetree.server.openapi import openapi_document

    svc = service(request)
    who = principal(request)
    pipes = svc.pipes.snapshot()
    server = str(request.base_url).rstrip("/")
    return json_response(openapi_document([pipes[n] for n in _visible(who, sorted(pipes)) if is_endpoint(pipes[n])],
                                          server))


# --------------------------------------------------------------------------- /v0/sql support


def sql_pipe_names(svc, stmt, pipeline: str | None) -> dict[str, str]:
    """Table names of a /v0/sql statement that mean a pipe: ``_`` with ``pipeline=P``, and any
    name of a served pipe that is not also a data source. Returns table name -> pipe name."""
    out = {}
    if pipeline:
        svc.pipes.get(pipeline)
        out["_"] = pipeline
    for t in table_references(stmt):
        if t in svc.pipes and t not in out and not svc.engine.exists(t):
            out[t] = t
    return out


def expand_pipes(svc, who, stmt, names: dict[str, str], params: dict):
    """Inline the pipes of ``names`` (from :func:`sql_pipe_names`) into ``stmt``."""
    if not names:
        return stmt
    params = {k: v for k, v in params.items() if k not in ("q", "token", "pipeline", "format")}
    compiled: dict = {}

    def resolve(t):
        pipe_name = names.get(t)
        if pipe_name is None:
            return None
        if pipe_name not in compiled:
            try:
                options: dict = {}
                compiled[pipe_name] = compile_pipe(svc.pipes, svc.pipes.get(pipe_name),
                                                   apply_fixed_params(who, pipe_name, params), options=options)
            except PipeError as e:
                raise e.api_error() from None
            if options.get("query_params"):      # tb_secret() values into the pipe's AST, not the outer query
                from mergetree.server.workspace import bind_secrets

                compiled[pipe_name] = bind_secrets(compiled[pipe_name], options["query_params"])
        return compiled[pipe_name]

    return inline_tables(stmt, resolve)


def render_sql_template(text: str, params: dict) -> str:
    """A ``%``-templated ``q`` of /v0/sql rendered with the other request parameters."""
    from sqlparse_ch.template import TemplateError, render

    try:
        return render(text, {k: v for k, v in params.items() if k not in ("q", "token", "pipeline", "format")}).sql
    except TemplateError as e:
        raise ApiError(e.code if e.code >= 400 else 400, str(e), DOC_PIPES) from None
