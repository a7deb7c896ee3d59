"""Classic pipe administration: create, change and drop pipes over HTTP (``tb push``'s calls).

Routes (``app.py``'s route table through :data:`ROUTES`):

* ``POST /v0/pipes``: form ``name`` + ``sql`` (one node, ``NAME_0``), or a JSON body
  ``{name, description, nodes: [{name, sql, description, type, datasource, target_datasource,
  mode, schedule_cron}]}``; ``force=true`` replaces an existing pipe. Answers the pipe's JSON
  (the shape of ``GET /v0/pipes/NAME``).
* ``DELETE /v0/pipes/NAME`` (204), ``POST /v0/pipes/NAME/nodes`` (body = the node's SQL, ``name=``,
  ``description=``: a node appended), ``POST /v0/pipes/NAME/nodes/NODE/endpoint`` (publish the node:
  ``TYPE endpoint``), ``DELETE`` of the same (the node loses ``TYPE endpoint``).
* ``POST|PUT|DELETE /v0/pipes/NAME/nodes/NODE/copy`` (``target_datasource``, ``schedule_cron``, ``mode``):
  make / unmake the pipe's copy node; ``DELETE /v0/pipes/NAME/nodes/NODE/materialization``: the node
  stops materializing (the view is dropped, the target keeps its rows).
* ``GET /v0/pipes/NAME/nodes/NODE/analysis``: the node's columns and generated datafiles (the Classic
  CLI checks a materialized pipe with it before pushing it).
* ``GET /v1/pipes/NAME.pipe``: the pipe's datafile text.
* Pipes and nodes may be named by id (``t_<pipe>``, ``t_<pipe>_<node>``), as the Classic CLI does.
* The Classic CLI's SQL helpers (its fallbacks when the native clickhouse-toolset is missing):
  ``POST /v0/sql_tables``, ``POST /v0/sql_replace``, ``GET /v0/sql_format``.

Every change is a datafile: the pipe is written as ``pipes/NAME.pipe`` text and pushed with
``deploy.apply_files`` (checked first, file:line errors, stored in the data directory and served
again after a restart), so a pipe made over the API and one from a project folder are the same thing.

Scopes: creating needs ``PIPES:CREATE`` (or ADMIN), dropping ``PIPES:DROP:NAME``, changing nodes
``PIPES:CREATE`` as well (Tinybird's "pipe owner" has no equivalent here), reading the datafile
``PIPES:READ:NAME``.

Limits: with no node of ``TYPE endpoint`` mergetree still serves a pipe's last node (as the rest of
the server does for datafiles without TYPE), so unpublishing removes the TYPE but the pipe stays callable.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from mergetree.server.errors import ApiError
from mergetree.server.http import flag, json_response, principal, read_body, service
from mergetree.server.pipe_jobs import pipe_ref
from mergetree.server.pipes import DOC_PIPES, pipe_info

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NODE_TYPES = ("endpoint", "materialized", "copy", "standard")


def _check_name(name, what: str) -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ApiError(400, f"Invalid {what} name {name!r}: use letters, digits and underscores, not starting "
                            f"with a digit", DOC_PIPES)
    return name


def _block(text: str) -> str:
    lines = text.strip("\n").splitlines() or [""]
    return "\n".join(("    " + line) if line.strip() else "" for line in lines)


_CRON = re.compile(r"[A-Za-z0-9*/,@ -]+")


def datafile_text(name: str, description: str | None, nodes: list[dict]) -> str:
    """A ``.pipe`` datafile for a pipe given as Tinybird's JSON (``POST /v0/pipes``). Every free text
    (descriptions, SQL) goes into an indented block and every single-line value is checked, so a value
    can never add datafile lines of its own (a TOKEN, another NODE, ...)."""
    if description is not None and not isinstance(description, str):
        raise ApiError(400, f"The description of pipe '{name}' must be a string", DOC_PIPES)
    out = []
    if description:
        out += ["DESCRIPTION >", _block(description), ""]
    for i, n in enumerate(nodes):
        if not isinstance(n, dict):
            raise ApiError(400, f"Node {i} of pipe '{name}' must be a JSON object {{name, sql, ...}}", DOC_PIPES)
        node = _check_name(n.get("name") or f"{name}_{i}", "node")
        sql = n.get("sql")
        if not isinstance(sql, str) or not sql.strip():
            raise ApiError(400, f"Node '{node}' of pipe '{name}' has no 'sql'", DOC_PIPES)
        out.append(f"NODE {node}")
        if n.get("description"):
            if not isinstance(n["description"], str):
                raise ApiError(400, f"The description of node '{node}' must be a string", DOC_PIPES)
            out += ["DESCRIPTION >", _block(n["description"])]
        out += ["SQL >", _block(sql)]
        kind = n.get("type") or n.get("node_type") or ""
        if not isinstance(kind, str):
            raise ApiError(400, f"Node '{node}': 'type' must be a string", DOC_PIPES)
        kind = kind.lower()
        if kind and kind not in _NODE_TYPES:
            raise ApiError(400, f"Node '{node}': unsupported type '{kind}' (use {', '.join(_NODE_TYPES)})", DOC_PIPES)
        if n.get("datasource") and not kind:
            kind = "materialized"
        if n.get("target_datasource") and not kind:
            kind = "copy"
        if kind and kind != "standard":
            out.append(f"TYPE {kind}")
        if kind == "materialized":
            out.append(f"DATASOURCE {_check_name(n.get('datasource'), 'data source')}")
        if kind == "copy":
            out.append(f"TARGET_DATASOURCE {_check_name(n.get('target_datasource'), 'data source')}")
            cron = n.get("schedule_cron") or n.get("copy_schedule")
            if cron:
                if not isinstance(cron, str) or not _CRON.fullmatch(cron.strip()):
                    raise ApiError(400, f"Node '{node}': invalid schedule_cron {cron!r} (5 cron fields or "
                                        f"@hourly, @daily, ...)", DOC_PIPES)
                out.append(f"COPY_SCHEDULE {cron.strip()}")
            mode = n.get("mode") or n.get("copy_mode")
            if mode:
                if mode not in ("append", "replace"):
                    raise ApiError(400, f"Node '{node}': mode must be append or replace", DOC_PIPES)
                out.append(f"COPY_MODE {mode}")
        out.append("")
    if not nodes:
        raise ApiError(400, f"The pipe '{name}' needs at least one node", DOC_PIPES)
    return "\n".join(out)


def timestamps(pipe) -> dict:
    """A pipe's ``created_at`` / ``updated_at`` as Tinybird writes them (``2024-01-01 10:00:00.123456``):
    its datafile's modification time (the time it was pushed or last edited)."""
    import datetime as dt
    import os

    try:
        t = os.stat(pipe.path).st_mtime
    except (OSError, TypeError, ValueError):
        t = 0.0
    text = dt.datetime.fromtimestamp(t, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")
    return {"created_at": text, "updated_at": text}


def _path_of(svc, name: str) -> str | None:
    from mergetree.server.deploy import current_files

    return next((k for k in current_files(svc) if k.endswith(".pipe") and PurePosixPath(k).stem == name), None)


def _push(svc, name: str, text: str) -> dict:
    from mergetree.server.deploy import apply_files

    rel = _path_of(svc, name) or f"pipes/{name}.pipe"
    _bind_check(svc, name, text)
    apply_files(svc, {rel: text})
    return admin_info(svc.pipes.get(name))


def admin_info(pipe) -> dict:
    """``pipe_info`` plus what the Classic CLI reads after creating a copy pipe: ``copy_target_datasource``
    (the target; Tinybird gives its id, the name answers ``GET /v0/datasources/<it>`` here too),
    ``copy_node`` and ``schedule: {cron}``."""
    info = pipe_info(pipe)
    node = next((n for n in pipe.nodes if n.type == "copy"), None)
    if node is not None:
        info.update(copy_target_datasource=node.target_datasource, copy_node=node.name,
                    schedule={"cron": node.copy_schedule} if node.copy_schedule else {})
    return info


def _bind_check(svc, name: str, text: str) -> None:
    """Every node bound against the served data sources and pipes before anything changes (an unknown
    column or table is a 400 naming the node, as Tinybird refuses such a node)."""
    import tempfile
    import types

    from sqlparse_ch.datafiles import DatafileError, read_datafile

    from mergetree.server.project import _bind_pipe

    with tempfile.TemporaryDirectory(prefix="pipe-") as tmp:
        path = Path(tmp) / f"{name}.pipe"
        path.write_text(text)
        try:
            pipe = read_datafile(str(path))
        except DatafileError as e:
            raise ApiError(400, f"Invalid pipe '{name}': {e.message} (line {e.line})", DOC_PIPES) from None
        project = types.SimpleNamespace(pipes={**svc.pipes.snapshot(), name: pipe})
        err = _bind_pipe(svc.engine, project, pipe)
    if err is not None:
        raise ApiError(400, err.message, DOC_PIPES)


def _node_json(pipe) -> list[dict]:
    return [{"name": n.name, "sql": n.sql, "description": n.description, "type": n.type,
             "datasource": n.datasource, "target_datasource": n.target_datasource,
             "schedule_cron": n.copy_schedule, "mode": n.copy_mode} for n in pipe.nodes]


async def create_pipe(request: Request):
    svc = service(request)
    who = principal(request)
    who.require("PIPES:CREATE", None, "create pipes")
    q = request.query_params
    body = await read_body(request)
    ctype = request.headers.get("content-type", "")
    if body.strip().startswith(b"{"):
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError as e:
            raise ApiError(400, f"Invalid JSON body: {e}", DOC_PIPES) from None
        name, description, nodes = data.get("name") or q.get("name"), data.get("description"), data.get("nodes")
        if not isinstance(nodes, list):
            raise ApiError(400, "The JSON body needs 'nodes': [{name, sql, ...}]", DOC_PIPES)
    else:
        from urllib.parse import parse_qsl

        fields = dict(q)
        if body and not ctype.startswith("multipart/"):
            fields.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        name, description = fields.get("name"), fields.get("description")
        if not fields.get("sql"):
            raise ApiError(400, "Missing 'sql': send name=...&sql=... or a JSON body {name, nodes: [...]}", DOC_PIPES)
        nodes = [{"name": f"{name}_0", "sql": fields["sql"]}]
    name = _check_name(name, "pipe")
    if name in svc.pipes and not flag(q.get("force")):
        raise ApiError(409, f"The pipe '{name}' already exists: use force=true to replace it", DOC_PIPES)
    if svc.engine.exists(name):
        raise ApiError(409, f"There is already a Data Source named '{name}'", DOC_PIPES)
    text = datafile_text(name, description, nodes)
    return json_response(await run_in_threadpool(_push, svc, name, text))


async def drop_pipe(request: Request):
    svc = service(request)
    name = pipe_ref(svc, request)
    svc.pipes.get(name)
    principal(request).require("PIPES:DROP", name, f"drop the pipe '{name}'")

    def run():
        from mergetree.server.deploy import apply_files

        rel = _path_of(svc, name)
        if rel is None:
            raise ApiError(404, f"The pipe '{name}' does not exist", DOC_PIPES)
        apply_files(svc, {}, remove=(rel,))
        views = {r[0] for r in svc.engine.run("SELECT name FROM system.tables WHERE engine = 'MaterializedView'").rows}
        if name in views:                          # a materialized pipe stops materializing
            svc.engine.run(f"DROP VIEW `{name}`")

    await run_in_threadpool(run)
    return Response(status_code=204)


async def append_node(request: Request):
    svc = service(request)
    name = pipe_ref(svc, request)
    pipe = svc.pipes.get(name)
    principal(request).require("PIPES:CREATE", None, f"change the pipe '{name}'")
    q = request.query_params
    sql = (await read_body(request)).decode("utf-8", "replace")
    if not sql.strip():
        raise ApiError(400, "Send the node's SQL as the request body", DOC_PIPES)
    node = _check_name(q.get("name") or f"{name}_{len(pipe.nodes)}", "node")
    if any(n.name == node for n in pipe.nodes):
        raise ApiError(409, f"The pipe '{name}' already has a node '{node}'", DOC_PIPES)
    nodes = [*_node_json(pipe), {"name": node, "sql": sql, "description": q.get("description")}]
    info = await run_in_threadpool(_push, svc, name, datafile_text(name, pipe.description, nodes))
    return json_response(next(n for n in info["nodes"] if n["name"] == node))


def _node_name(pipe, ref: str) -> str:
    """A node named by its name or by its id (``t_<pipe>_<node>``, as ``GET /v0/pipes/NAME`` gives it)."""
    for n in pipe.nodes:
        if ref in (n.name, f"t_{pipe.name}_{n.name}"):
            return n.name
    return ref


async def _set_endpoint(request: Request, publish: bool):
    svc = service(request)
    name = pipe_ref(svc, request)
    pipe = svc.pipes.get(name)
    node = _node_name(pipe, request.path_params["node"])
    principal(request).require("PIPES:CREATE", None, f"change the pipe '{name}'")
    if not any(n.name == node for n in pipe.nodes):
        raise ApiError(404, f"The node '{node}' does not exist in pipe '{name}'", DOC_PIPES)
    nodes = _node_json(pipe)
    for n in nodes:
        if n["name"] == node:
            if n["type"] not in (None, "standard", "endpoint"):
                raise ApiError(400, f"The node '{node}' is a {n['type']} node: it cannot be an endpoint", DOC_PIPES)
            n["type"] = "endpoint" if publish else None
        elif publish and n["type"] == "endpoint":
            n["type"] = None
    return json_response(await run_in_threadpool(_push, svc, name, datafile_text(name, pipe.description, nodes)))


async def publish_endpoint(request: Request):
    return await _set_endpoint(request, True)


async def unpublish_endpoint(request: Request):
    return await _set_endpoint(request, False)


async def _change_node(request: Request, change) -> dict:
    """Rewrite one node of a pipe (``change(node_json)``) and push the pipe again."""
    svc = service(request)
    name = pipe_ref(svc, request)
    pipe = svc.pipes.get(name)
    principal(request).require("PIPES:CREATE", None, f"change the pipe '{name}'")
    node = _node_name(pipe, request.path_params["node"])
    nodes = _node_json(pipe)
    target = next((n for n in nodes if n["name"] == node), None)
    if target is None:
        raise ApiError(404, f"The node '{node}' does not exist in pipe '{name}'", DOC_PIPES)
    change(target, nodes)
    return await run_in_threadpool(_push, svc, name, datafile_text(name, pipe.description, nodes))


async def set_copy_node(request: Request):
    """``POST|PUT /v0/pipes/NAME/nodes/NODE/copy`` (``target_datasource``, ``schedule_cron``, ``mode``):
    the node becomes the pipe's copy node."""
    from urllib.parse import parse_qsl

    fields = dict(request.query_params)
    body = await read_body(request)
    if body.strip().startswith(b"{"):
        try:
            fields.update(orjson.loads(body))
        except orjson.JSONDecodeError as e:
            raise ApiError(400, f"Invalid JSON body: {e}", DOC_PIPES) from None
    elif body:
        fields.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))

    def change(node, nodes):
        if any(n["type"] in ("copy", "materialized", "endpoint") for n in nodes if n is not node):
            raise ApiError(400, "A copy pipe has one copy node and no endpoint or materialized node", DOC_PIPES)
        node["type"] = "copy"
        node["target_datasource"] = fields.get("target_datasource") or node.get("target_datasource")
        if not node["target_datasource"]:
            raise ApiError(400, "Missing 'target_datasource' for the copy node", DOC_PIPES)
        cron = fields.get("schedule_cron")
        node["schedule_cron"] = None if cron in (None, "", "None", "@on-demand") else cron
        node["mode"] = fields.get("mode") or node.get("mode")

    return json_response(await _change_node(request, change))


async def unset_copy_node(request: Request):
    def change(node, nodes):
        if node["type"] != "copy":
            raise ApiError(400, f"The node '{node['name']}' is not a copy node", DOC_PIPES)
        node.update(type=None, target_datasource=None, schedule_cron=None, mode=None)

    return json_response(await _change_node(request, change))


async def unlink_materialization(request: Request):
    """``DELETE /v0/pipes/NAME/nodes/NODE/materialization``: the node stops materializing (its target data
    source and the rows already written stay)."""
    svc = service(request)
    name = pipe_ref(svc, request)

    def change(node, nodes):
        if node["type"] != "materialized":
            raise ApiError(400, f"The node '{node['name']}' is not a materialized node", DOC_PIPES)
        node.update(type=None, datasource=None)

    info = await _change_node(request, change)

    def drop_view():
        views = {r[0] for r in svc.engine.run("SELECT name FROM system.tables WHERE engine = 'MaterializedView'").rows}
        if name in views:
            svc.engine.run(f"DROP VIEW `{name}`")

    await run_in_threadpool(drop_view)
    return json_response(info)


async def node_analysis(request: Request):
    """``GET /v0/pipes/NAME/nodes/NODE/analysis``: what a node would materialize, for the Classic CLI's
    check before it pushes a materialized pipe: ``{"analysis": {"pipe": {name, datafile}, "datasource":
    {name, columns, schema, datafile}}, "warnings": []}``; a node that does not bind is a 400. With
    ``datasource=T``, T's columns must all be produced by the node (by name)."""
    svc = service(request)
    name = pipe_ref(svc, request)
    pipe = svc.pipes.get(name)
    principal(request).require("PIPES:CREATE", None, f"analyze the pipe '{name}'")
    node = _node_name(pipe, request.path_params["node"])
    if not any(n.name == node for n in pipe.nodes):
        raise ApiError(404, f"The node '{node}' does not exist in pipe '{name}'", DOC_PIPES)
    target = request.query_params.get("datasource") or next(
        (n.datasource for n in pipe.nodes if n.name == node and n.datasource), None) or f"{name}_mv"

    def run():
        from mergetree.server.pipes import PipeError, compile_pipe, inline_tables, parse_sql

        options: dict = {}
        try:
            stmt = compile_pipe(svc.pipes, pipe, {}, node=pipe.node(node), test_mode=True, options=options)
        except PipeError as e:
            raise e.api_error() from None
        if options.get("query_params"):
            from mergetree.server.workspace import bind_secrets

            stmt = bind_secrets(stmt, options["query_params"])
        probe = inline_tables(parse_sql("SELECT * FROM _ LIMIT 0"), lambda t: stmt if t == "_" else None)
        try:
            result = svc.engine.run(probe)
        except Exception as e:  # noqa: BLE001 - binder errors, named like the rest of the API
            code = getattr(e, "code", type(e).__name__)
            raise ApiError(400, f"[Error] {str(e).rstrip('.')}. ({code})", DOC_PIPES) from None
        return [(n, str(t)) for n, t in result.schema]

    columns = await run_in_threadpool(run)
    produced = {n for n, _ in columns}
    if svc.engine.exists(target):
        missing = [n for n, _ in svc.engine.schema(target) if n not in produced]
        if missing:
            raise ApiError(400, f"The node '{node}' does not produce the column(s) {', '.join(missing)} of the Data "
                                f"Source '{target}'", DOC_PIPES)
    schema = ",\n".join(f"    `{n}` {t}" for n, t in columns)
    return json_response({"analysis": {
        "pipe": {"name": name, "datafile": datafile_text(name, pipe.description, _node_json(pipe))},
        "datasource": {"name": target, "columns": [{"name": n, "type": t} for n, t in columns],
                       "schema": schema.replace("    ", "").replace("\n", " "),
                       "datafile": f"SCHEMA >\n{schema}\n\nENGINE \"MergeTree\"\n"}},
        "warnings": []})


async def pipe_datafile(request: Request):
    svc = service(request)
    name = pipe_ref(svc, request)
    pipe = svc.pipes.get(name)
    principal(request).require("PIPES:READ", name, f"read the pipe '{name}'")
    from mergetree.server.deploy import current_files

    rel = _path_of(svc, name)
    text = current_files(svc).get(rel) if rel else None
    if text is None:
        text = datafile_text(name, pipe.description, _node_json(pipe))
    return Response(text, headers={"content-type": "text/plain"})     # exactly: the tb CLI reads it as text


# --------------------------------------------------------------------------- Classic CLI SQL helpers
# tinybird-cli (Classic) calls these when its native clickhouse-toolset cannot be imported.


async def _sql_fields(request: Request) -> dict:
    from urllib.parse import parse_qsl

    fields = dict(request.query_params)
    if request.method == "POST":
        fields.update(parse_qsl((await read_body(request)).decode("utf-8", "replace"), keep_blank_values=True))
    if not fields.get("q"):
        raise ApiError(400, "Missing 'q': the SQL to analyze", DOC_PIPES)
    return fields


def _parse(q: str):
    from sqlparse_ch.errors import ParseError

    from mergetree.server.pipes import parse_sql

    try:
        return parse_sql(q)
    except ParseError as e:
        raise ApiError(400, f"[Error] {e} (SYNTAX_ERROR)", DOC_PIPES) from None


async def sql_tables(request: Request):
    """``POST /v0/sql_tables`` (``q``, ``raising``): ``{"tables": [[database, table], ...]}``, the tables a
    query reads (CTE names and table functions left out; ``""`` for no database)."""
    from mergetree.server.auth import _cte_names

    principal(request)
    f = await _sql_fields(request)
    try:
        stmt = _parse(f["q"])
    except ApiError:
        if flag(f.get("raising")):
            raise
        return json_response({"tables": []})
    ctes = _cte_names(stmt)
    tables = sorted({(db or "", t) for db, t in service(request).engine.referenced_tables(stmt)
                     if db is not None or t not in ctes})
    return json_response({"tables": [list(t) for t in tables]})


async def sql_replace(request: Request):
    """``POST /v0/sql_replace`` (``q``, ``replacements`` = JSON {table: replacement}): ``{"query"}`` with
    each named table read from its replacement (a table name, ``[database, table]``, or a query)."""
    from sqlparse_ch import format_sql

    from mergetree.server.pipes import inline_tables

    principal(request)
    f = await _sql_fields(request)
    try:
        replacements = orjson.loads(f.get("replacements") or "{}")
    except orjson.JSONDecodeError as e:
        raise ApiError(400, f"Invalid 'replacements' JSON: {e}", DOC_PIPES) from None
    if not isinstance(replacements, dict):
        raise ApiError(400, "'replacements' must be a JSON object {table: replacement}", DOC_PIPES)
    subqueries = {}
    for name, to in replacements.items():
        if isinstance(to, list) and len(to) == 2:
            to = f"{to[0]}.{to[1]}" if to[0] else str(to[1])
        if not isinstance(to, str) or not to.strip():
            raise ApiError(400, f"Invalid replacement for '{name}': a table name or a query", DOC_PIPES)
        text = to.strip()
        if text.startswith("("):
            text = text[1:-1] if text.endswith(")") else text
        elif not text.upper().startswith(("SELECT", "WITH")):
            text = f"SELECT * FROM {text}"
        subqueries[str(name).split(".")[-1]] = _parse(text)
    stmt = inline_tables(_parse(f["q"]), subqueries.get)
    return json_response({"query": format_sql(stmt)})


async def sql_format(request: Request):
    """``GET /v0/sql_format?q=``: ``{"q": formatted SQL}`` (the text unchanged when it does not parse)."""
    from sqlparse_ch import format_sql

    principal(request)
    f = await _sql_fields(request)
    try:
        return json_response({"q": format_sql(_parse(f["q"]))})
    except ApiError:
        return json_response({"q": f["q"]})


ROUTES = [
    (["POST"], "/v0/sql_tables", sql_tables),
    (["POST"], "/v0/sql_replace", sql_replace),
    (["GET", "POST"], "/v0/sql_format", sql_format),
    (["POST"], "/v0/pipes", create_pipe),
    (["DELETE"], "/v0/pipes/{name}", drop_pipe),
    (["POST"], "/v0/pipes/{name}/nodes", append_node),
    (["POST"], "/v0/pipes/{name}/nodes/{node}/endpoint", publish_endpoint),
    (["DELETE"], "/v0/pipes/{name}/nodes/{node}/endpoint", unpublish_endpoint),
    (["GET"], "/v1/pipes/{name}.pipe", pipe_datafile),
    (["POST", "PUT"], "/v0/pipes/{name}/nodes/{node}/copy", set_copy_node),
    (["DELETE"], "/v0/pipes/{name}/nodes/{node}/copy", unset_copy_node),
    (["DELETE"], "/v0/pipes/{name}/nodes/{node}/materialization", unlink_materialization),
    (["GET"], "/v0/pipes/{name}/nodes/{node}/analysis", node_analysis),
]
