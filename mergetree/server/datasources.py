"""Data Sources API and jobs.

``POST /v0/datasources`` (mode=create | append | replace, raw or multipart file, CSV/NDJSON, gzip), ``GET /v0/datasources[/NAME]``,
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
from mergetree.server.http import flag, form_params, gunzip, json_response, principal, read_body, service



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
    if mode in ("append", "replace"):
        return await _append(request, q, replace=mode == "replace")
    raise ApiError(400, f"Unsupported mode '{mode}': use create, append or replace", DOC_DATASOURCES)


_FORMATS = ("csv", "ndjson")


async def _upload(request: Request, q: dict) -> tuple[bytes, str | None]:
    """The data of an append/replace: a raw body, or the file of a multipart/form-data body (field
    ``csv``, ``ndjson`` or any file field); a gzip file (by its magic bytes) is decompressed.
    Returns (data, format guessed from the field or file name or None)."""
    body = await read_body(request)
    ctype = request.headers.get("content-type", "")
    fmt = None
    if ctype.lower().startswith("multipart/form-data"):
        body, fmt = _multipart_file(ctype, body)
    if body[:2] == b"\x1f\x8b":
        limit = service(request).max_body_bytes
        body = gunzip(body, limit * 10)
    return body, fmt


def _multipart_file(ctype: str, body: bytes) -> tuple[bytes, str | None]:
    from email.parser import BytesParser
    from email.policy import HTTP

    msg = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + ctype.encode("latin-1") + b"\r\n\r\n" + body)
    if not msg.is_multipart():
        raise ApiError(400, "Invalid multipart/form-data body: no parts found (is the boundary right?)",
                       DOC_DATASOURCES)
    for part in msg.iter_parts():
        field = part.get_param("name", header="content-disposition") or ""
        filename = part.get_filename() or ""
        if field not in _FORMATS and not filename:
            continue
        data = part.get_payload(decode=True) or b""
        base = filename.lower().removesuffix(".gz")
        fmt = field if field in _FORMATS else next((f for f in _FORMATS if base.endswith("." + f)), None)
        return data, fmt
    raise ApiError(400, "The multipart/form-data body has no file: send the data in a field named "
                        "'csv' or 'ndjson' (or any file field)", DOC_DATASOURCES)


async def append_v1(request: Request):
    """``POST /v1/datasources/NAME/append|replace?format=csv|ndjson``: a raw body (``Content-Type`` text/csv or
    application/x-ndjson, optional gzip) as ``tinybird`` 5.x sends it; the same work as mode=append|replace."""
    q = dict(request.query_params)
    q["name"] = request.path_params["name"]
    if not q.get("format"):
        ctype = request.headers.get("content-type", "").lower()
        q["format"] = "ndjson" if ("ndjson" in ctype or "json" in ctype) else "csv"
    return await _append(request, q, replace=request.url.path.rstrip("/").endswith("/replace"))


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


async def _append(request: Request, q: dict, replace: bool = False):
    """mode=append (DATASOURCES:APPEND:ds) or mode=replace (DATASOURCES:CREATE, as in Tinybird), with
    an optional ``replace_condition``. Rows that cannot be converted go to ``<ds>_quarantine``."""
    svc = service(request)
    name = q.get("name")
    if not name:
        raise ApiError(400, "The 'name' parameter is required", DOC_DATASOURCES)
    who = principal(request)
    if replace:
        who.require("DATASOURCES:CREATE", None, f"replace the data of the Data Source '{name}'")
    else:
        who.require("DATASOURCES:APPEND", name, f"append to the Data Source '{name}'")
    _require_exists(svc, name)
    if q.get("url"):
        raise ApiError(400, "Importing from a 'url' is not supported: send the data in the request body "
                            "(raw or multipart/form-data)", DOC_DATASOURCES)
    body, guessed = await _upload(request, q)
    fmt = (q.get("format") or guessed or "csv").lower()
    if fmt not in _FORMATS:
        raise ApiError(400, f"Unsupported format '{fmt}': use csv or ndjson", DOC_DATASOURCES)
    delimiter = q.get("dialect_delimiter") or ","
    condition = (q.get("replace_condition") or "").strip() or None
    if condition is not None:
        if not replace:
            raise ApiError(400, "'replace_condition' needs mode=replace", DOC_DATASOURCES)
        try:
            condition = svc.engine.normalize_condition(condition)
        except ValueError as e:
            raise ApiError(400, f"Invalid replace_condition: {e}", DOC_DATASOURCES) from None
    import_id = uuid.uuid4().hex

    def run():
        engine = svc.engine
        if fmt == "ndjson":
            block, rejected = engine.convert(name, body)
        else:
            block, rejected = engine.convert_csv(name, body, delimiter)
        if replace:
            if block.num_rows == 0 and not condition and not flag(q.get("replace_truncate_when_empty")) \
                    and body.strip():
                raise ApiError(400, "Replace with no valid row would empty the Data Source: pass "
                                    "replace_truncate_when_empty=true to do that", DOC_DATASOURCES)
            svc.flusher.flush()         # Events API rows acknowledged before the replace are replaced too
            good = engine.replace(name, block, condition)
        else:
            good = engine.insert_block(name, block) if block.num_rows else 0
        if rejected:
            engine.insert_block(engine.ensure_quarantine(name), engine.quarantine_block(name, rejected, import_id))
        return good, len(rejected)

    good, bad = await run_in_threadpool(run)
    info = svc.engine.describe(name)
    kind = "replace" if replace else "import"
    svc.jobs.record(import_id, kind, {"datasource": {"id": info["id"], "name": name}, "mode": kind,
                                       "import_id": import_id, "statistics": {"row_count": good},
                                       "quarantine_rows": bad, **({"replace_condition": condition}
                                                                  if condition else {})},
                    base_url=str(request.base_url).rstrip("/"))
    return json_response({"id": import_id, "job_id": import_id, "datasource": info, "import_id": import_id,
                          "invalid_lines": 0, "quarantine_rows": bad, "error": False, "successful_rows": good,
                          "status": "done", "job_url": f"{str(request.base_url).rstrip('/')}/v0/jobs/{import_id}"})


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


def _require_change(who, name: str, action: str) -> None:
    """Truncate / delete rows: DATASOURCES:CREATE (as Tinybird documents it) or DATASOURCES:DROP:ds."""
    if not who.allows("DATASOURCES:CREATE"):
        who.require("DATASOURCES:DROP", name, action)


async def truncate(request: Request):
    svc = service(request)
    name = request.path_params["name"]
    _require_change(principal(request), name, f"truncate the Data Source '{name}'")
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
    _require_change(principal(request), name, f"delete rows from the Data Source '{name}'")
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


MAX_JOBS = 10_000


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

    def record(self, job_id: str, kind: str, fields: dict, base_url: str = "") -> dict:
        """A job that already ran (a synchronous import or replace), so that ``GET /v0/jobs/ID`` of its
        ``import_id`` answers as for the asynchronous ones."""
        now = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
        job = {"id": job_id, "job_id": job_id, "kind": kind, "status": "done", "created_at": now,
               "updated_at": now, "job_url": f"{base_url}/v0/jobs/{job_id}", "error": None, **fields}
        with self._lock:
            self._jobs[job_id] = job
            while len(self._jobs) > MAX_JOBS:              # keep the newest jobs only
                self._jobs.pop(next(iter(self._jobs)))
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
