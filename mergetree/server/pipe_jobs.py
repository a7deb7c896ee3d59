"""Write pipes in the service: materialized nodes kept in sync as views, copy pipes as jobs and
on their schedule (the engine side is ``mergetree/copy.py``, reached through ``Engine``).

* ``POST /v0/pipes/P/copy`` runs copy pipe P once as a job (parameters from the query string /
  body, ``_mode=append|replace`` overrides ``COPY_MODE``); answers ``{"id", "job_id", "job_url",
  "status", "pipe", ...}`` like Tinybird; ``GET /v0/jobs/ID`` follows it.
* ``POST /v0/pipes/P/nodes/N/population`` backfills materialized node N of P as a job
  (``truncate=true`` empties the target first).
* ``POST /v0/pipes/P/copy/pause`` / ``.../resume``: P's schedule stops / starts again (kept in
  ``<data dir>/server/paused_copies.json``).
* :class:`PipeJobs` (started by the Service): every second, starts the copy pipes whose
  ``COPY_SCHEDULE`` is due. (Materialized nodes become views in ``project.ensure_materialized_views``.)
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from pathlib import Path

import orjson

from starlette.requests import Request

from mergetree.server.errors import ApiError
from mergetree.server.http import flag, json_response, principal, service

log = logging.getLogger("mergetree.server.pipe_jobs")

DOC_COPY = "https://www.tinybird.co/docs/api-reference/pipe-api/copy-pipes-api"
DOC_MV = "https://www.tinybird.co/docs/api-reference/pipe-api/materialized-views"


def pipe_ref(svc, request: Request) -> str:
    """The pipe a path names, by name or by id (``t_<name>``, as ``GET /v0/pipes/NAME`` gives it: the
    Classic CLI addresses pipes by id)."""
    ref = request.path_params["name"]
    if ref not in svc.pipes and ref.startswith("t_") and ref[2:] in svc.pipes:
        return ref[2:]
    return ref


def _compile(svc):
    from mergetree.server.pipes import compile_pipe

    def compile_node(pipe, node, params):
        options: dict = {}
        stmt = compile_pipe(svc.pipes, pipe, params, node=node, options=options)
        secrets = options.get("query_params")
        if not secrets:
            return stmt
        from mergetree.server.workspace import bind_secrets

        return bind_secrets(stmt, secrets)

    return compile_node


def submit_copy(svc, pipe, params: dict, mode: str | None = None, base_url: str = "") -> dict:
    if not svc.engine.is_copy_pipe(pipe):
        raise ApiError(400, f"The pipe '{pipe.name}' is not a copy pipe", DOC_COPY)

    def job():
        return svc.engine.run_copy(pipe, _compile(svc), params, mode=mode)

    return svc.jobs.submit("copy", {"pipe": {"name": pipe.name}, "pipe_name": pipe.name,
                                    "target_datasource": svc.engine.copy_target(pipe)}, job, base_url)


async def copy_pipe(request: Request):
    from mergetree.server.pipes import request_params

    svc = service(request)
    name = pipe_ref(svc, request)
    principal(request).require_admin(f"run the copy pipe '{name}'")
    pipe = svc.pipes.get(name)
    params = await request_params(request)
    mode = params.pop("_mode", None)
    job = submit_copy(svc, pipe, params, mode, str(request.base_url).rstrip("/"))
    # Tinybird names the target by id in tags.copy_target_datasource (the tb CLI then reads
    # /v0/datasources/<it>): its name answers that read here
    return json_response({**job, "job": job, "tags": {"copy_target_datasource": job["target_datasource"]}})


async def populate(request: Request):
    svc = service(request)
    name, node = pipe_ref(svc, request), request.path_params["node"]
    principal(request).require_admin(f"populate the node '{node}' of pipe '{name}'")
    pipe = svc.pipes.get(name)
    if not any(n.name == node for n in pipe.nodes):
        raise ApiError(404, f"The node '{node}' does not exist in pipe '{name}'", DOC_MV)
    view = svc.engine.node_view(name, node)
    if view is None:
        raise ApiError(400, f"The node '{node}' of pipe '{name}' is not a materialized node", DOC_MV)
    truncate = flag(request.query_params.get("truncate"))

    def job():
        return {"rows_read": svc.engine.populate_view(view, truncate=truncate)}

    job_info = svc.jobs.submit("populateview", {"pipe": {"name": name}, "pipe_name": name, "node": node},
                               job, str(request.base_url).rstrip("/"))
    return json_response({**job_info, "job": job_info})


async def pause_copy(request: Request):
    """``POST /v0/pipes/P/copy/pause``: P's COPY_SCHEDULE stops starting copies (on-demand runs still work)."""
    return await _set_paused(request, True)


async def resume_copy(request: Request):
    """``POST /v0/pipes/P/copy/resume``."""
    return await _set_paused(request, False)


async def _set_paused(request: Request, paused: bool):
    svc = service(request)
    name = pipe_ref(svc, request)
    principal(request).require_admin(f"{'pause' if paused else 'resume'} the copy pipe '{name}'")
    pipe = svc.pipes.get(name)
    if not svc.engine.is_copy_pipe(pipe):
        raise ApiError(400, f"The pipe '{name}' is not a copy pipe", DOC_COPY)
    svc.pipe_jobs.set_paused(name, paused)
    return json_response({"name": name, "copy_status": "paused" if paused else "ok",
                          "schedule": {"cron": next((n.copy_schedule for n in pipe.nodes if n.copy_schedule), None),
                                       "status": "paused" if paused else "running"}})


ROUTES = [
    (["POST"], "/v0/pipes/{name}/copy/pause", pause_copy),
    (["POST"], "/v0/pipes/{name}/copy/resume", resume_copy),
    (["POST"], "/v0/pipes/{name}/copy", copy_pipe),
    (["POST"], "/v0/pipes/{name}/nodes/{node}/population", populate),
]


class PipeJobs:
    """The Service's background thread for scheduled copies."""

    def __init__(self, svc, interval: float = 1.0):
        self.svc = svc
        self.interval = interval
        self.schedule = svc.engine.copy_schedule()
        self._paused_path = Path(svc.data_dir) / "server" / "paused_copies.json"
        self.paused: set[str] = set(orjson.loads(self._paused_path.read_bytes())) if self._paused_path.exists() else set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pipe-jobs", daemon=True)

    def start(self) -> "PipeJobs":
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def set_paused(self, name: str, paused: bool) -> None:
        from mergetree.server.files import atomic_write

        (self.paused.add if paused else self.paused.discard)(name)
        atomic_write(self._paused_path, orjson.dumps(sorted(self.paused)))

    def tick(self, now: dt.datetime | None = None) -> list[str]:
        """One round: submit the due copies (not the paused ones). Returns the pipes started."""
        pipes = {k: v for k, v in self.svc.pipes.snapshot().items() if k not in self.paused}
        started = []
        for pipe in self.schedule.due(pipes, now or dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)):
            submit_copy(self.svc, pipe, {})
            started.append(pipe.name)
        return started

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.tick()
            except Exception as e:  # noqa: BLE001 - the thread must survive
                log.warning("pipe jobs: %s", e)
