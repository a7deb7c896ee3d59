"""Data Sources API and jobs.

``POST /v0/datasources`` (mode=create | append | replace, raw or multipart file, CSV/NDJSON/Parquet,
gzip, CSV dialects, or ``url=`` imported by a background job), ``GET /v0/datasources[/NAME]``,
``POST /v0/datasources/NAME/truncate``, ``POST /v0/datasources/NAME/delete`` (a job),
``DELETE /v0/datasources/NAME``, ``GET /v0/jobs[/ID]``, ``POST /v0/jobs/ID/cancel``. Views are thin:
they check scopes, read parameters and call ``Engine``; file reading and URL imports are in
``imports.py``, schema inference (``POST /v0/analyze``) in ``analyze.py``.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from mergetree.server.errors import DOC_DATASOURCES, DOC_JOBS, ApiError
from mergetree.server.service_ds import log_op
from mergetree.server.http import flag, form_params, json_response, principal, read_body, service
from mergetree.server.imports import (FORMATS, CsvDialect, ImportFailed, check_format, check_url, fetch_url,
                                      format_from_content_type, format_from_name, max_import_bytes, open_data,
                                      run_import, sniff_dialect, sniff_format, temp_path)

_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")



def _require_exists(svc, name: str) -> None:
    if not svc.engine.exists(name):
        raise ApiError(404, f"Data Source '{name}' not found", DOC_DATASOURCES)


def _parse_schema(text: str) -> tuple[str, dict[str, str]]:
    """Tinybird's schema (with `json:$.path` markers) -> (CREATE TABLE columns, column -> JSONPath)."""
    from sqlparse_ch.datafiles.schema import SchemaError, parse_schema

    from mergetree.server.engine import parse_jsonpath

    try:
        columns = parse_schema(text)
        paths = {}
        for c in columns:
            if c.jsonpath:
                # `json:$.list[:]` (a whole array, as /v0/analyze suggests it) reads the array at $.list
                path = c.jsonpath
                if path.endswith("[:]"):
                    if not str(c.type).startswith("Array("):
                        raise ValueError(f"JSONPath '{path}' of column '{c.name}' selects every element of an "
                                         f"array: the column must be an Array, not {c.type}")
                    path = path[:-3]
                parse_jsonpath(path)
                paths[c.name] = path
    except (SchemaError, ValueError) as e:
        raise ApiError(400, f"Invalid schema: {e}", DOC_DATASOURCES) from None
    return ", ".join(c.to_sql() for c in columns), paths


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
        if _has_file(request):
            return await _append(request, q, create=True)
        params = await form_params(request)
        if params.get("url"):
            return await _import_url(request, params, "create")
        return await _create(request, params)
    if mode in ("append", "replace"):
        return await _append(request, q, replace=mode == "replace")
    raise ApiError(400, f"Unsupported mode '{mode}': use create, append or replace", DOC_DATASOURCES)


_FILE_FIELDS = ("csv", "ndjson", "parquet", "file")


async def _upload(request: Request, q: dict) -> tuple[bytes, str | None]:
    """The data of an append/replace: a raw body, or the file of a multipart/form-data body (field
    ``csv``, ``ndjson``, ``parquet`` or any file field). Returns (data, format guessed from the field,
    the file name or the Content-Type, or None). Gzip is undone later, by its magic bytes."""
    body = await read_body(request)
    ctype = request.headers.get("content-type", "")
    if ctype.lower().startswith("multipart/form-data"):
        return _multipart_file(ctype, body)
    return body, format_from_content_type(ctype)


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
        if field not in _FILE_FIELDS and not filename:
            continue
        data = part.get_payload(decode=True) or b""
        fmt = (field if field in FORMATS else None) or format_from_name(filename) \
            or format_from_content_type(part.get_content_type())
        return data, fmt
    raise ApiError(400, "The multipart/form-data body has no file: send the data in a field named "
                        "'csv', 'ndjson' or 'parquet' (or any file field)", DOC_DATASOURCES)


async def append_v1(request: Request):
    """``POST /v1/datasources/NAME/append|replace?format=csv|ndjson|parquet[&url=]``: a raw body
    (``Content-Type`` text/csv, application/x-ndjson or application/vnd.apache.parquet, optional gzip)
    as ``tinybird`` 5.x sends it; the same work as mode=append|replace."""
    q = dict(request.query_params)
    q["name"] = request.path_params["name"]
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
                            "(e.g. schema=`id` UInt64, `ts` DateTime), or a 'url' to create it from "
                            "a file (its schema is guessed as POST /v0/analyze does)", DOC_DATASOURCES)
    if svc.engine.exists(name):
        raise ApiError(409, f"Data Source '{name}' already exists", DOC_DATASOURCES)
    started = time.perf_counter()
    info = await run_in_threadpool(_create_now, svc, name, schema, params)
    log_op(svc, "create", name, elapsed=time.perf_counter() - started)     # H9: tinybird.datasources_ops_log
    return json_response({"datasource": info})


def _create_now(svc, name: str, schema: str, params: dict) -> dict:
    schema, jsonpaths = _parse_schema(schema)
    return svc.engine.create_datasource(
        name, schema, engine=engine_string(params), jsonpaths=jsonpaths,
        sorting_key=params.get("engine_sorting_key"), partition_key=params.get("engine_partition_key"),
        primary_key=params.get("engine_primary_key"), ttl=params.get("engine_ttl"),
        settings=_settings(params.get("engine_settings")), description=params.get("description", ""))


def _replace_condition(svc, q: dict, replace: bool) -> str | None:
    condition = (q.get("replace_condition") or "").strip() or None
    if condition is None:
        return None
    if not replace:
        raise ApiError(400, "'replace_condition' needs mode=replace", DOC_DATASOURCES)
    try:
        return svc.engine.normalize_condition(condition)
    except ValueError as e:
        raise ApiError(400, f"Invalid replace_condition: {e}", DOC_DATASOURCES) from None


def _require_write(who, name: str, replace: bool) -> None:
    """mode=append needs DATASOURCES:APPEND:ds, mode=replace DATASOURCES:CREATE (as in Tinybird)."""
    if replace:
        who.require("DATASOURCES:CREATE", None, f"replace the data of the Data Source '{name}'")
    else:
        who.require("DATASOURCES:APPEND", name, f"append to the Data Source '{name}'")


def _has_file(request: Request) -> bool:
    """A mode=create request that carries data: a multipart file or a raw (not form-encoded) body."""
    ctype = request.headers.get("content-type", "").lower()
    if ctype.startswith("multipart/form-data"):
        return True
    length = request.headers.get("content-length", "")
    return length.isdigit() and int(length) > 0 and not ctype.startswith("application/x-www-form-urlencoded")


async def _append(request: Request, q: dict, replace: bool = False, create: bool = False):
    """mode=append (DATASOURCES:APPEND:ds) or mode=replace (DATASOURCES:CREATE, as in Tinybird), with
    an optional ``replace_condition``. Rows that cannot be converted go to ``<ds>_quarantine``.
    ``create``: mode=create with a file: the data source is created first, from ``schema`` or, without
    one, from the schema ``POST /v0/analyze`` would guess, then the file is appended."""
    svc = service(request)
    name = q.get("name")
    if not name:
        raise ApiError(400, "The 'name' parameter is required", DOC_DATASOURCES)
    if q.get("url"):
        return await _import_url(request, q, "replace" if replace else "append")
    if create:
        principal(request).require("DATASOURCES:CREATE", None, "create a Data Source")
        if svc.engine.exists(name):
            raise ApiError(409, f"Data Source '{name}' already exists", DOC_DATASOURCES)
        if not _NAME_RE.match(name):
            raise ApiError(400, f"Invalid Data Source name '{name}': use letters, digits and '_', "
                                f"not starting with a digit", DOC_DATASOURCES)
    else:
        _require_write(principal(request), name, replace)
        _require_exists(svc, name)
    dialect = CsvDialect.from_params(q)
    condition = _replace_condition(svc, q, replace)
    body, guessed = await _upload(request, q)
    limit = service(request).max_body_bytes * 10
    import_id = uuid.uuid4().hex

    def run():
        stream = None
        try:
            stream, head = open_data(body, limit)
            fmt = check_format(q.get("format") or guessed or (sniff_format(head) if head.strip() else "csv"))
            if create:
                if q.get("schema"):
                    _create_now(svc, name, q["schema"], q)
                else:
                    _create_from_file(svc, name, stream, fmt, _sniffed(dialect, q, fmt, head), q)
                stream.close()
                stream, head = open_data(body, limit)
            return run_import(svc, name, stream, fmt, import_id=import_id, dialect=_sniffed(dialect, q, fmt, head),
                              replace=replace,
                              condition=condition, truncate_when_empty=flag(q.get("replace_truncate_when_empty")),
                              size=len(body))
        except ImportFailed as e:
            raise ApiError(400, str(e), DOC_DATASOURCES) from None
        finally:
            if stream is not None:
                stream.close()

    started = time.perf_counter()
    op = "replace" if replace else "append"         # H9: one row of tinybird.datasources_ops_log
    try:
        stats = await run_in_threadpool(run)
    except ApiError as e:
        if svc.engine.exists(name):
            log_op(svc, op, name, elapsed=time.perf_counter() - started, error=e.message, import_id=import_id,
                   job_id=import_id, read_bytes=len(body))
        raise
    if create:
        log_op(svc, "create", name)
    log_op(svc, op, name, elapsed=time.perf_counter() - started, rows=stats.rows, rows_quarantine=stats.quarantined,
           import_id=import_id, job_id=import_id, read_bytes=len(body))
    info = svc.engine.describe(name)
    kind = "replace" if replace else "import"
    base_url = str(request.base_url).rstrip("/")
    svc.jobs.record(import_id, kind, {"datasource": {"id": info["id"], "name": name}, "mode": kind,
                                       "import_id": import_id, **stats.to_json(),
                                       **({"replace_condition": condition} if condition else {})},
                    base_url=base_url)
    return json_response({"id": import_id, "job_id": import_id, "datasource": info, "import_id": import_id,
                          "invalid_lines": stats.invalid_lines, "quarantine_rows": stats.quarantined,
                          "error": False, "errors": [], "quarantine_errors": stats.errors,
                          "blocks": stats.to_json()["blocks"], "successful_rows": stats.rows,
                          "status": "done", "job_url": f"{base_url}/v0/jobs/{import_id}"})


async def _import_url(request: Request, q: dict, mode: str):
    """``url=``: check what can be checked now (4xx), then download + import in a job (``kind: import``).

    mode=create with a ``schema`` creates the data source first (409 if it exists); without one the
    job guesses the schema from the file (``analyze.py``) and creates it. The answer is the job,
    as Tinybird's: ``{id, job_id, job_url, status: waiting, kind, import_id, datasource, url, mode, ...}``."""
    svc = service(request)
    who = principal(request)
    name = q.get("name")
    if not name:
        raise ApiError(400, "The 'name' parameter is required", DOC_DATASOURCES)
    url = check_url(q["url"])
    fmt = check_format(q["format"]) if q.get("format") else None
    dialect = CsvDialect.from_params(q)
    replace = mode == "replace"
    create_from_file = False
    if mode == "create":
        who.require("DATASOURCES:CREATE", None, "create a Data Source")
        if q.get("schema"):
            if svc.engine.exists(name):
                raise ApiError(409, f"Data Source '{name}' already exists", DOC_DATASOURCES)
            await run_in_threadpool(_create_now, svc, name, q["schema"], q)
        elif svc.engine.exists(name):
            raise ApiError(409, f"Data Source '{name}' already exists: use mode=append or mode=replace to "
                                f"import into it", DOC_DATASOURCES)
        else:
            if not _NAME_RE.match(name):
                raise ApiError(400, f"Invalid Data Source name '{name}': use letters, digits and '_', "
                                    f"not starting with a digit", DOC_DATASOURCES)
            create_from_file = True
    else:
        _require_write(who, name, replace)
        _require_exists(svc, name)
    condition = _replace_condition(svc, q, replace)
    truncate_when_empty = flag(q.get("replace_truncate_when_empty"))
    limit = max_import_bytes(svc)
    job_id = str(uuid.uuid4())
    ds_ref = {"id": svc.engine.describe(name)["id"], "name": name} if svc.engine.exists(name) else {"name": name}

    op = "replace" if replace else "append"

    def work(ctx):
        path = temp_path(svc)
        stream = None
        started, size = time.perf_counter(), 0
        try:
            def downloaded(n):
                ctx.update(statistics={"bytes": n, "row_count": 0}, progress={"bytes_downloaded": n})

            size, ctype = fetch_url(url, path, max_bytes=limit, cancel=ctx.cancel, progress=downloaded,
                                    on_open=ctx.on_cancel)
            stream, head = open_data(path, limit)
            kind = check_format(fmt or format_from_name(url) or format_from_content_type(ctype)
                                or sniff_format(head))
            if create_from_file:
                _create_from_file(svc, name, stream, kind, _sniffed(dialect, q, kind, head), q)
                log_op(svc, "create", name)
                stream.close()
                stream, head = open_data(path, limit)
            ctx.update(datasource={"id": svc.engine.describe(name)["id"], "name": name}, format=kind)

            def batch_done(stats):
                ctx.update(**stats.to_json(), progress={"bytes_downloaded": size, "rows": stats.rows})

            stats = run_import(svc, name, stream, kind, import_id=job_id, dialect=_sniffed(dialect, q, kind, head),
                               replace=replace,
                               condition=condition, truncate_when_empty=truncate_when_empty, cancel=ctx.cancel,
                               progress=batch_done, size=size)
            log_op(svc, op, name, elapsed=time.perf_counter() - started, rows=stats.rows,    # H9's ops log
                   rows_quarantine=stats.quarantined, import_id=job_id, job_id=job_id, read_bytes=size)
            return {**stats.to_json(), "datasource": svc.engine.describe(name)}
        except Exception as e:
            if svc.engine.exists(name) and not ctx.cancel.is_set():
                log_op(svc, op, name, elapsed=time.perf_counter() - started, import_id=job_id, job_id=job_id,
                       read_bytes=size, error=e.message if isinstance(e, ApiError) else str(e))
            if isinstance(e, ApiError):     # e.g. format=parquet without pyarrow, detected after the download
                raise ImportFailed(e.message) from None
            raise
        finally:
            if stream is not None:
                stream.close()
            path.unlink(missing_ok=True)

    fields = {"import_id": job_id, "datasource": ds_ref, "url": url, "mode": mode,
              "statistics": {"bytes": 0, "row_count": 0}, "quarantine_rows": 0, "invalid_lines": 0, "errors": [],
              "block_log": [], "blocks": [],
              **({"replace_condition": condition} if condition else {})}
    job = svc.jobs.submit("import", fields, work, str(request.base_url).rstrip("/"), job_id=job_id,
                          cancellable=True, pool="import")
    # no "error" key at all: Tinybird's CLI (datasource_create_from_url) fails on `"error" in answer`
    job = {k: v for k, v in job.items() if k != "error"}
    return json_response({**job, "job": dict(job)})


def _sniffed(dialect: CsvDialect, q: dict, fmt: str, head: bytes) -> CsvDialect:
    """Without ``dialect_delimiter``, a CSV's delimiter is sniffed from its first lines (, ; TAB |)."""
    if fmt != "csv" or q.get("dialect_delimiter"):
        return dialect
    import dataclasses

    return dataclasses.replace(dialect, delimiter=sniff_dialect(head).delimiter)


def _create_from_file(svc, name: str, stream, fmt: str, dialect, params: dict) -> None:
    """mode=create&url= without a schema: the schema ``POST /v0/analyze`` would suggest."""
    from mergetree.server.analyze import analyze_stream

    result = analyze_stream(stream, fmt, dialect)
    schema = result["analysis"]["schema"]
    if not schema:
        raise ImportFailed("Cannot create the Data Source: no column could be guessed from the file")
    _create_now(svc, name, schema, params)


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
    started = time.perf_counter()
    await run_in_threadpool(svc.engine.truncate, name)
    log_op(svc, "truncate", name, elapsed=time.perf_counter() - started)    # H9
    return json_response({})


async def drop(request: Request):
    svc = service(request)
    name = request.path_params["name"]
    principal(request).require("DATASOURCES:DROP", name, f"drop the Data Source '{name}'")
    _require_exists(svc, name)
    await run_in_threadpool(svc.flusher.flush)
    started = time.perf_counter()
    await run_in_threadpool(svc.engine.drop_datasource, name)
    log_op(svc, "delete", name, elapsed=time.perf_counter() - started)      # H9
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
    started = time.perf_counter()
    n = int(svc.engine.delete_rows(name, condition))
    log_op(svc, "delete_data", name, elapsed=time.perf_counter() - started, rows=n)    # H9
    return {"rows_affected": n}


MAX_JOBS = 10_000
#: job statuses a job no longer changes from
FINAL_STATUSES = ("done", "error", "cancelled")


class JobContext:
    """What a cancellable job's function gets: ``cancel`` (an Event set by ``POST /v0/jobs/ID/cancel``)
    and ``update(**fields)`` to report progress on ``GET /v0/jobs/ID``."""

    def __init__(self, jobs: "Jobs", job_id: str):
        self.job_id = job_id
        self.cancel = threading.Event()
        self._jobs = jobs
        self._abort = None

    def update(self, **fields) -> None:
        self._jobs._update(self.job_id, **fields)

    def on_cancel(self, abort) -> None:
        """``abort()`` is called when the job is cancelled (e.g. to break a blocked download); None clears it."""
        self._abort = abort
        if abort is not None and self.cancel.is_set():
            self.stop()

    def stop(self) -> None:
        self.cancel.set()
        abort = self._abort
        if abort is not None:
            try:
                abort()
            except Exception:  # noqa: BLE001 - best effort: the job still stops at its next check
                pass


class Jobs:
    """Asynchronous jobs: ``GET /v0/jobs/ID`` reports their status (waiting, working, done, error,
    cancelled). Deletes, copies and populates run one at a time on one worker thread; URL imports
    (server/imports.py) on their own two, so that a slow download does not hold the others."""

    def __init__(self):
        self._jobs: dict[str, dict] = {}
        self._contexts: dict[str, JobContext] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="job")
        self._import_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="import-job")

    def submit(self, kind: str, fields: dict, fn, base_url: str = "", *, job_id: str | None = None,
               cancellable: bool = False, pool: str = "default") -> dict:
        """Queue ``fn`` (``fn()``, or ``fn(ctx)`` with a :class:`JobContext` when ``cancellable``);
        its returned dict is merged into the job when it is done."""
        job_id = job_id or str(uuid.uuid4())
        now = _now()
        job = {"id": job_id, "job_id": job_id, "kind": kind, "status": "waiting", "created_at": now,
               "updated_at": now, "job_url": f"{base_url}/v0/jobs/{job_id}", "error": None, **fields}
        ctx = JobContext(self, job_id) if cancellable else None
        with self._lock:
            self._jobs[job_id] = job
            if ctx is not None:
                self._contexts[job_id] = ctx
            self._trim()
            snapshot = dict(job)
        (self._import_pool if pool == "import" else self._pool).submit(self._run, job_id, fn, ctx)
        return snapshot

    def record(self, job_id: str, kind: str, fields: dict, base_url: str = "") -> dict:
        """A job that already ran (a synchronous import or replace), so that ``GET /v0/jobs/ID`` of its
        ``import_id`` answers as for the asynchronous ones."""
        now = _now()
        job = {"id": job_id, "job_id": job_id, "kind": kind, "status": "done", "created_at": now,
               "updated_at": now, "job_url": f"{base_url}/v0/jobs/{job_id}", "error": None, **fields}
        with self._lock:
            self._jobs[job_id] = job
            self._trim()
        return dict(job)

    def _trim(self) -> None:
        while len(self._jobs) > MAX_JOBS:              # keep the newest jobs only (finished ones first)
            victim = next((k for k, j in self._jobs.items() if j["status"] in FINAL_STATUSES),
                          next(iter(self._jobs)))
            self._jobs.pop(victim)
            self._contexts.pop(victim, None)

    def _run(self, job_id: str, fn, ctx: JobContext | None) -> None:
        from mergetree.server.imports import ImportCancelled

        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or job["status"] != "waiting":     # cancelled while waiting
                self._contexts.pop(job_id, None)
                return
        self._update(job_id, status="working")
        try:
            result = fn(ctx) if ctx is not None else fn()
            if ctx is not None and ctx.cancel.is_set():
                raise ImportCancelled()
        except ImportCancelled:
            self._update(job_id, status="cancelled", error=None)
        except Exception as e:  # noqa: BLE001 - a job reports its failure, it never crashes the server
            self._update(job_id, status="error", error=str(e) or type(e).__name__)
        else:
            self._update(job_id, status="done", **(result or {}))
        finally:
            with self._lock:
                self._contexts.pop(job_id, None)

    def _update(self, job_id: str, **fields) -> None:
        with self._lock:
            job = self._jobs.get(job_id)
            if job is not None:
                job.update(fields, updated_at=_now())

    def cancel(self, job_id: str) -> dict:
        """``POST /v0/jobs/ID/cancel``: a waiting job is cancelled at once; a working cancellable job
        (URL imports) is ``cancelling`` until it stops at its next batch, then ``cancelled``."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                raise ApiError(404, f"Job '{job_id}' not found", DOC_JOBS)
            status = job["status"]
            ctx = self._contexts.get(job_id)
            if status == "waiting":
                job.update(status="cancelled", updated_at=_now())
                if ctx is not None:
                    ctx.cancel.set()
                ctx = None
            elif status in ("working", "cancelling") and ctx is not None:
                job.update(status="cancelling", updated_at=_now())
            else:
                raise ApiError(400, f"Job '{job_id}' cannot be cancelled: its status is '{status}' "
                                    f"(only waiting jobs, and working imports, can be cancelled)", DOC_JOBS)
            answer = dict(job)
        if ctx is not None:
            ctx.stop()              # a blocked download is broken off now, not at its read timeout
        return answer

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
        with self._lock:
            running = list(self._contexts.values())
        for ctx in running:                         # running imports stop now (downloads broken off)
            ctx.stop()
        self._import_pool.shutdown(wait=True, cancel_futures=True)
        self._pool.shutdown(wait=True)


def _now() -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())


async def get_job(request: Request):
    principal(request)
    return json_response(service(request).jobs.get(request.path_params["job_id"]))


#: ``GET /v0/jobs`` filters (Tinybird's): equality on these fields
_JOB_FILTERS = ("kind", "status", "pipe_id", "pipe_name")


async def list_jobs(request: Request):
    """``GET /v0/jobs[?kind=&status=&pipe_id=&pipe_name=&created_after=&created_before=]``: newest first,
    at most 100, as Tinybird lists them."""
    principal(request)
    q = request.query_params
    jobs = service(request).jobs.list()
    for key in _JOB_FILTERS:
        if q.get(key):
            jobs = [j for j in jobs if str(j.get(key) if key != "pipe_id" else
                                           (j.get("pipe") or {}).get("id", j.get("pipe_id"))) == q[key]]
    for key, keep in (("created_after", lambda c, v: c > v), ("created_before", lambda c, v: c < v)):
        if q.get(key):
            bound = _job_time(q[key], key)
            jobs = [j for j in jobs if keep(j["created_at"], bound)]
    jobs.reverse()
    return json_response({"jobs": jobs[:100]})


def _job_time(text: str, key: str) -> str:
    """An ISO date/time (``2024-01-31``, ``2024-01-31T10:00:00[Z]``) as the jobs' ``created_at`` text."""
    import datetime as dt

    try:
        value = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(400, f"Invalid {key} '{text}': expected an ISO 8601 date or date-time "
                            f"(e.g. 2024-01-31T10:00:00)", DOC_JOBS) from None
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return value.strftime("%Y-%m-%d %H:%M:%S")


async def cancel_job(request: Request):
    """``POST /v0/jobs/ID/cancel`` (admin, or DATASOURCES:CREATE as for the imports themselves)."""
    who = principal(request)
    if not who.allows("DATASOURCES:CREATE"):
        who.require_admin("cancel a job")
    return json_response(service(request).jobs.cancel(request.path_params["job_id"]))


async def analyze(request: Request):
    """``POST /v0/analyze``: see analyze.py."""
    from mergetree.server.analyze import analyze as view

    return await view(request)


ROUTES = [
    (["POST"], "/v0/jobs/{job_id}/cancel", cancel_job),
    (["POST"], "/v0/analyze", analyze),
    (["POST"], "/v0/analyze/", analyze),
]
