"""Data Sources API and jobs.

``POST /v0/datasources`` (mode=create | append), ``GET /v0/datasources[/NAME]``,
``POST /v0/datasources/NAME/truncate``, ``POST /v0/datasources/NAME/delete`` (a job),
``DELETE /v0/datasources/NAME``, ``GET /v0/jobs[/ID]``. Views are thin: they check scopes,
read parameters and call ``Engine``.
"""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from mergetree.server.errors import DOC_DATASOURCES, DOC_JOBS, ApiError
from mergetree.server.http import flag, form_params, json_response, principal, read_body, service



def _require_exists(svc, name: str) -> None:
    if not svc.engine.exists(name):
        raise ApiError(404, f"Data Source '{name}' not found", DOC_DATASOURCES)


def _parse_schema(text: str) -> tuple[str, dict[str, str]]:
    """Tinybird's schema (with `json:$.path` markers) -> (CREATE TABLE columns, column -> JSONPath)."""
    from sqlparse_ch.datafiles.schema import SchemaError, parse_schema

    from mergetree.server.engine import parse_jsonpath

    try:
        columns = parse_schema(text)
        for c in columns:
            if c.jsonpath:
                parse_jsonpath(c.jsonpath)
    except (SchemaError, ValueError) as e:
        raise ApiError(400, f"Invalid schema: {e}", DOC_DATASOURCES) from None
    return ", ".join(c.to_sql() for c in columns), {c.name: c.jsonpath for c in columns if c.jsonpath}


def engine_string(params: dict) -> str:
    """``engine`` + ``engine_ver`` / ``engine_is_deleted`` / ``engine_sign`` ... -> 'ReplacingMergeTree(v)'."""
    engine = (params.get("engine") or "MergeTree").strip()
    if "(" in engine:
        return engine
    args = []
    if engine == "ReplacingMergeTree":
        args = [a for a in (params.get("engine_ver"), params.get("engine_is_deleted")) if a]
    elif engine in ("CollapsingMergeTree", "VersionedCollapsingMergeTree"):
        args = [a for a in (params.get("engine_sign"), params.get("engine_version")) if a]
    elif engine == "SummingMergeTree" and params.get("engine_summing_columns"):
        args = [params["engine_summing_columns"]]
    return f"{engine}({', '.join(args)})" if args else engine


def _settings(text: str | None) -> dict | None:
    if not text:
        return None
    out = {}
    for item in text.split(","):
        key, sep, value = item.partition("=")
        if not sep:
            raise ApiError(400, f"Invalid engine_settings item '{item.strip()}': expected name=value", DOC_DATASOURCES)
        value = value.strip().strip("'\"")
        out[key.strip()] = int(value) if value.lstrip("-").isdigit() else value
    return out


async def create_or_append(request: Request):
    q = dict(request.query_params)
    mode = (q.get("mode") or "create").lower()
    if mode == "create":
        return await _create(request, await form_params(request))
    if mode == "append":
        return await _append(request, q)
    raise ApiError(400, f"Unsupported mode '{mode}': use create or append (replace is not supported yet)",
                   DOC_DATASOURCES)


async def _create(request: Request, params: dict):
    svc = service(request)
    principal(request).require("DATASOURCES:CREATE", None, "create a Data Source")
    name = params.get("name")
    schema = params.get("schema")
    if not name:
        raise ApiError(400, "The 'name' parameter is required", DOC_DATASOURCES)
    if not schema:
        raise ApiError(400, "The 'schema' parameter is required to create a Data Source "
                            "(e.g. schema=`id` UInt64, `ts` DateTime)", DOC_DATASOURCES)
    if svc.engine.exists(name):
        raise ApiError(409, f"Data Source '{name}' already exists", DOC_DATASOURCES)
    schema, jsonpaths = _parse_schema(schema)
    info = await run_in_threadpool(
        svc.engine.create_datasource, name, schema, engine=engine_string(params), jsonpaths=jsonpaths,
        sorting_key=params.get("engine_sorting_key"), partition_key=params.get("engine_partition_key"),
        primary_key=params.get("engine_primary_key"), ttl=params.get("engine_ttl"),
        settings=_settings(params.get("engine_settings")), description=params.get("description", ""))
    return json_response({"datasource": info})


async def _append(request: Request, q: dict):
    svc = service(request)
    name = q.get("name")
    if not name:
        raise ApiError(400, "The 'name' parameter is required", DOC_DATASOURCES)
    principal(request).require("DATASOURCES:APPEND", name, f"append to the Data Source '{name}'")
    _require_exists(svc, name)
    body = await read_body(request)
    fmt = (q.get("format") or "csv").lower()
    if fmt not in ("csv", "ndjson"):
        raise ApiError(400, f"Unsupported format '{fmt}': use csv or ndjson", DOC_DATASOURCES)
    delimiter = q.get("dialect_delimiter") or ","
    import_id = uuid.uuid4().hex

    def run():
        engine = svc.engine
        if fmt == "ndjson":
            block, rejected = engine.convert(name, body)
        else:
            block, rejected = engine.convert_csv(name, body, delimiter)
        if block.num_rows:
            engine.insert_block(name, block)
        if rejected:
            engine.insert_block(engine.ensure_quarantine(name), engine.quarantine_block(name, rejected, import_id))
        return block.num_rows, len(rejected)

    good, bad = await run_in_threadpool(run)
    info = svc.engine.describe(name)
    return json_response({"datasource": info, "import_id": import_id, "invalid_lines": 0,
                          "quarantine_rows": bad, "error": False, "successful_rows": good})


async def list_datasources(request: Request):
    svc, who = service(request), principal(request)
    names = [n for n in svc.engine.datasource_names()
             if who.allows("DATASOURCES:READ", n) or who.allows("DATASOURCES:APPEND", n)]
    return json_response({"datasources": [svc.engine.describe(n) for n in names]})


async def get_datasource(request: Request):
    svc, who = service(request), principal(request)
    name = request.path_params["name"]
    if not (who.allows("DATASOURCES:READ", name) or who.allows("DATASOURCES:APPEND", name)):
        who.require("DATASOURCES:READ", name, f"read the Data Source '{name}'")
    _require_exists(svc, name)
    return json_response(svc.engine.describe(name))


async def truncate(request: Request):
    svc = service(request)
    name = request.path_params["name"]
    principal(request).require("DATASOURCES:DROP", name, f"truncate the Data Source '{name}'")
    _require_exists(svc, name)
    await run_in_threadpool(svc.flusher.flush)      # rows acknowledged before the truncate go too
    await run_in_threadpool(svc.engine.truncate, name)
    return json_response({})


async def drop(request: Request):
    svc = service(request)
    name = request.path_params["name"]
    principal(request).require("DATASOURCES:DROP", name, f"drop the Data Source '{name}'")
    _require_exists(svc, name)
    await run_in_threadpool(svc.flusher.flush)
    await run_in_threadpool(svc.engine.drop_datasource, name)
    return Response(status_code=204)


async def delete_rows(request: Request):
    svc = service(request)
    name = request.path_params["name"]
    principal(request).require("DATASOURCES:DROP", name, f"delete rows from the Data Source '{name}'")
    _require_exists(svc, name)
    params = await form_params(request)
    condition = (params.get("delete_condition") or "").strip()
    if not condition:
        raise ApiError(400, "The 'delete_condition' parameter is required", DOC_DATASOURCES)
    try:
        condition = svc.engine.normalize_condition(condition)
    except ValueError as e:
        raise ApiError(400, f"Invalid delete_condition: {e}", DOC_DATASOURCES) from None
    ds_id = svc.engine.describe(name)["id"]
    job = svc.jobs.submit("delete_data", {"datasource": {"id": ds_id, "name": name},
                                          "delete_condition": condition},
                          lambda: _delete(svc, name, condition, flag(params.get("dry_run"))),
                          base_url=str(request.base_url).rstrip("/"))
    return json_response(job)


def _delete(svc, name: str, condition: str, dry_run: bool) -> dict:
    svc.flusher.flush()
    if dry_run:
        res = svc.engine.run(f"SELECT count() FROM `{name}` WHERE {condition}")
        return {"rows_affected": int(res.rows[0][0]), "dry_run": True}
    return {"rows_affected": int(svc.engine.delete_rows(name, condition))}


class Jobs:
    """Asynchronous jobs (one worker thread): ``GET /v0/jobs/ID`` reports their status."""

    def __init__(self):
        self._jobs: dict[str, dict] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="job")

    def submit(self, kind: str, fields: dict, fn, base_url: str = "") -> dict:
        job_id = str(uuid.uuid4())
        now = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
        job = {"id": job_id, "job_id": job_id, "kind": kind, "status": "waiting", "created_at": now,
               "updated_at": now, "job_url": f"{base_url}/v0/jobs/{job_id}", "error": None, **fields}
        with self._lock:
            self._jobs[job_id] = job
        self._pool.submit(self._run, job_id, fn)
        return dict(job)

    def _run(self, job_id: str, fn) -> None:
        self._update(job_id, status="working")
        try:
            result = fn()
        except Exception as e:  # noqa: BLE001 - a job reports its failure, it never crashes the server
            self._update(job_id, status="error", error=str(e))
            return
        self._update(job_id, status="done", **(result or {}))

    def _update(self, job_id: str, **fields) -> None:
        with self._lock:
            self._jobs[job_id].update(fields, updated_at=time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()))

    def get(self, job_id: str) -> dict:
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                raise ApiError(404, f"Job '{job_id}' not found", DOC_JOBS)
            return dict(job)

    def list(self) -> list[dict]:
        with self._lock:
            return [dict(j) for j in self._jobs.values()]

    def close(self) -> None:
        self._pool.shutdown(wait=True)


async def get_job(request: Request):
    principal(request)
    return json_response(service(request).jobs.get(request.path_params["job_id"]))


async def list_jobs(request: Request):
    principal(request)
    return json_response({"jobs": service(request).jobs.list()})
