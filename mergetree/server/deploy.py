"""Pushing datafiles to a running server: ``POST /v0/datafiles`` (``mergetree push`` / ``deploy``).

Admin only. Body: JSON ``{"files": {"relative/path.datasource": "text", ...}}``; query
``mode=push`` (default: the files are added to / replace files of the served project) or
``mode=deploy`` (the files ARE the project: datafiles not sent are removed from it; their data
sources are kept, never dropped implicitly), ``dry_run=true`` (check only).

The server keeps the pushed project in ``<data dir>/server/project/`` and serves it again at the
next start (``stored_project``). The first push onto a server started with ``serve PROJECT_DIR``
starts from that folder's datafiles. Everything is checked before anything changes: the new
folder is assembled in a temporary directory, loaded and applied with ``project.apply_project``
(which refuses schema changes with file:line); only then does it replace the stored project.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path, PurePosixPath

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from mergetree.server.errors import DOC_OVERVIEW, ApiError
from mergetree.server.http import flag, json_response, principal, read_body, service

SUFFIXES = (".datasource", ".pipe", ".incl")


def project_store(data_dir) -> Path:
    return Path(data_dir) / "server" / "project"


def stored_project(data_dir) -> Path | None:
    """The project pushed to this data directory earlier, if any (served again at start)."""
    store = project_store(data_dir)
    if store.is_dir() and any(p.suffix in SUFFIXES for p in store.rglob("*")):
        return store
    return None


def _safe_relpath(name: str) -> PurePosixPath:
    p = PurePosixPath(name.replace("\\", "/"))
    if p.is_absolute() or ".." in p.parts or not p.parts or p.suffix not in SUFFIXES:
        raise ApiError(400, f"Invalid datafile path '{name}': a relative path ending in "
                            f"{', '.join(SUFFIXES)} and without '..'", DOC_OVERVIEW)
    return p


def _datafiles(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): p.read_text() for p in sorted(root.rglob("*"))
            if p.is_file() and p.suffix in SUFFIXES}


async def push_datafiles(request: Request):
    who = principal(request)
    who.require_admin("pushing datafiles")
    svc = service(request)
    try:
        body = orjson.loads(await read_body(request) or b"{}")
    except orjson.JSONDecodeError as e:
        raise ApiError(400, f"Invalid JSON body: {e}: send {{\"files\": {{\"path\": \"text\"}}}}") from None
    files = body.get("files") if isinstance(body, dict) else None
    if not isinstance(files, dict) or not all(isinstance(v, str) for v in files.values()):
        raise ApiError(400, "The body must be a JSON object {\"files\": {\"relative/path.datasource\": \"text\"}}")
    mode = (request.query_params.get("mode") or "push").lower()
    if mode not in ("push", "deploy"):
        raise ApiError(400, f"Unsupported mode '{mode}': use push or deploy")
    files = {_safe_relpath(k).as_posix(): v for k, v in files.items()}
    report = await run_in_threadpool(_apply, svc, files, mode, flag(request.query_params.get("dry_run")))
    return json_response(report)


def _apply(svc, files: dict[str, str], mode: str, dry_run: bool) -> dict:
    report = apply_files(svc, files, mode=mode, dry_run=dry_run)
    return {"result": report["result"], "dry_run": dry_run, "mode": mode,
            "files": report["files"], "changed_files": report["changed_files"],
            "removed_files": report["removed_files"], "created_datasources": report["created_datasources"],
            "altered_datasources": report["altered_datasources"], "pipes": report["pipes"]}


def current_files(svc) -> dict[str, str]:
    """The datafiles the service serves now: the pushed project, else the ``serve PROJECT_DIR`` folder."""
    store = project_store(svc.data_dir)
    root = getattr(svc, "project_root", None)      # `serve PROJECT_DIR`: the first push starts there
    if root and not getattr(svc, "_pushed", False):
        return _datafiles(Path(root))
    if store.is_dir():
        return _datafiles(store)
    return {}


def _names(files, suffix: str) -> dict[str, str]:
    """{resource name: relative path} of the datafiles with ``suffix`` (the name is the file's stem)."""
    return {PurePosixPath(k).stem: k for k in files if k.endswith(suffix)}


def changes(before: dict[str, str], after: dict[str, str]) -> dict[str, list[str]]:
    """What a new set of datafiles creates, changes and deletes, in the names Tinybird's build and
    deployment answers use (``new_datasource_names``, ``changed_pipe_names``, ...)."""
    out = {}
    for kind, suffix in (("datasource", ".datasource"), ("pipe", ".pipe")):
        old, new = _names(before, suffix), _names(after, suffix)
        out[f"new_{kind}_names"] = sorted(set(new) - set(old))
        out[f"changed_{kind}_names"] = sorted(n for n in set(new) & set(old) if before[old[n]] != after[new[n]])
        out[f"deleted_{kind}_names"] = sorted(set(old) - set(new))
    return out


def apply_files(svc, files: dict[str, str], *, mode: str = "push", dry_run: bool = False,
                remove: tuple[str, ...] = (), check_schemas: bool = True) -> dict:
    """Make ``svc`` serve its current datafiles with ``files`` added (``mode=push``) or exactly ``files``
    (``mode=deploy``), minus the relative paths in ``remove``. Checked first (a bad datafile or a schema
    change raises ``ApiError`` 400 naming file:line, and nothing changes), then stored in the data
    directory and served. Data sources that left the project are kept (never dropped implicitly);
    pipes that left it stop being served. Returns the report (``changes`` names included).
    A dry run checks the templates and (``check_schemas``) the data sources' migrations."""
    from sqlparse_ch.datafiles import DatafileError

    from mergetree.server.project import apply_project, load

    store = project_store(svc.data_dir)
    with _lock(svc):
        current = current_files(svc)
        merged = dict(files) if mode == "deploy" else {**current, **files}
        for rel in remove:
            merged.pop(rel, None)
        store.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix="push-", dir=store.parent))
        try:
            for rel, text in merged.items():
                target = tmp / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text)
            try:
                project = load(tmp)
                if dry_run:
                    from sqlparse_ch.datafiles import check_pipe

                    from mergetree.server.project import check_migrations

                    for pipe in project.pipes.values():
                        check_pipe(pipe)
                    applied = {"created": [], "unchanged": [], "pipes": sorted(project.pipes),
                               "altered": check_migrations(svc.engine, project) if check_schemas else []}
                else:
                    applied = apply_project(svc, project)
            except DatafileError as e:
                msg = str(e).replace(str(tmp) + os.sep, "")
                err = ApiError(400, f"Invalid datafiles: {msg}")
                err.filename = str(e.filename).replace(str(tmp) + os.sep, "")    # for /v1/build's errors
                err.detail = e.message
                raise err from None
            if not dry_run:
                old = store.with_name("project.old")
                shutil.rmtree(old, ignore_errors=True)
                if store.exists():
                    os.rename(store, old)
                os.rename(tmp, store)
                shutil.rmtree(old, ignore_errors=True)
                tmp = None
                svc._pushed = True
                _repoint(svc, store)
        finally:
            if tmp is not None:
                shutil.rmtree(tmp, ignore_errors=True)
    changed = sorted(k for k in merged if current.get(k) != merged[k])
    removed = sorted(set(current) - set(merged))
    return {"result": "success" if changed or removed else "no_changes", "files": sorted(merged),
            "changed_files": changed, "removed_files": removed,
            "created_datasources": applied.get("created", []), "altered_datasources": applied.get("altered", []),
            "pipes": applied.get("pipes", []),
            "changes": changes(current, merged)}


def _repoint(svc, store: Path) -> None:
    """The served pipes were loaded from the temporary folder that became ``store``: load them again
    from ``store`` so that their ``path`` (error messages, ``GET /v1/pipes/NAME.pipe``) exists."""
    try:
        from mergetree.server.project import load

        svc.pipes.replace_all(load(store).pipes)
    except Exception:  # noqa: BLE001 - the pipes were applied already; only their paths are stale
        pass


def _lock(svc):
    import threading

    lock = getattr(svc, "_push_lock", None)
    if lock is None:
        lock = svc._push_lock = threading.Lock()
    return lock
