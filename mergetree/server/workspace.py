"""The workspace around the data: secrets (``/v0/variables``), workspace and auth info, the local
workspaces tinybird-local's CLI creates, and Forward's build / deploy / deployments.

Routes (in ``app.py``'s route table through :data:`ROUTES`):

* ``GET|POST /v0/variables``, ``GET|PUT|DELETE /v0/variables/NAME``: secrets for templates
  (``{{ tb_secret('NAME'[, 'default']) }}`` / ``tb_var``), kept in ``<data dir>/server/variables.json``
  (mode 0600). Admin only, as in Tinybird; values are never listed back (Tinybird's ``secret`` type
  "prevents endpoints from exposing its value"): a template renders ``{NAME: String}`` and the value
  is bound as a query parameter, so it never becomes SQL text.
* ``GET /v0/workspace``, ``GET /v0/auth``: who the token is and which workspace it works in.
* tinybird-local's extras, so that the unmodified ``tb --local`` (Forward CLI) works:
  ``GET /tokens`` (``{user_token, admin_token, workspace_admin_token}``, loopback clients only and
  never through a reverse proxy (``X-Forwarded-For``, ``Forwarded``, ``X-Real-IP``): it hands out the admin
  token; ``MERGETREE_DISABLE_LOCAL_TOKENS=1`` turns it off), ``GET /v1/user/workspaces``, ``POST /v1/workspaces?name=``,
  ``DELETE /v1/workspaces/ID``.
* ``POST /v1/build``, ``POST /v1/deploy``, ``GET /v1/deployments``, ``GET|DELETE /v1/deployments/ID``,
  ``POST /v1/deployments/ID/set-live``.

Workspaces. The served data directory is the *default* workspace (its admin token is the server's).
``POST /v1/workspaces`` creates a separate, empty workspace: a data directory of its own under
``<data dir>/workspaces/<id>/`` served by a second :class:`~mergetree.server.app.Service` with its
own admin token. A request is routed by its token (:meth:`Workspaces.route`, hooked into
``http.service``): a workspace's token, or a JWT signed with it, reaches that workspace; every other
credential the default one. The Forward CLI builds
and tests each project in such a workspace (``Tinybird_Local_Build_<hash>``,
``Tinybird_Local_Test_<uuid>``), so ``tb --local build`` never touches the served data.

Build and deploy. ``/v1/build`` in a created workspace is fresh, as tinybird-local's: when the
datafiles changed, the workspace's data is discarded and the project created again (the CLI then
appends the fixtures). In the default workspace a build is a deploy: nothing is dropped, and a schema
change is refused with file:line (``server/deploy.py``). A deployment with ``auto_promote=true`` is
applied at once: ``data_ready`` and ``live`` when the answer comes back, the earlier one ``deleted``.
Without it, it is a checked candidate that ``set-live`` applies (:class:`Deployments`); there is no
staging copy of the data served side by side (``__tb__deployment=staging`` reads the live project).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import threading
import uuid
from email.parser import BytesParser
from email.policy import HTTP
from pathlib import Path

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from mergetree.server.auth import request_token
from mergetree.server.errors import DOCS, ApiError
from mergetree.server.files import atomic_write
from mergetree.server.http import flag, json_response, principal, read_body, service

DOC_VARIABLES = f"{DOCS}/environment-variables-api"
DOC_WORKSPACES = f"{DOCS}/workspace-api"
DOC_DEPLOY = "https://www.tinybird.co/docs/forward/test-and-deploy/deployments"

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
MAX_VARIABLES = 100                 # Tinybird's limits
MAX_VALUE_BYTES = 8 * 1024
_LOOPBACK = ("127.0.0.1", "::1", "localhost", "testclient")
_CHILD = threading.local()             # set while a created workspace's Service starts


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


# --------------------------------------------------------------------------- variables (secrets)


class Variables:
    """Secrets by name, persisted (0600). A mapping for the template renderer (``name in``, ``[name]``)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._vars: dict[str, dict] = {}
        if self.path.exists():
            self._vars = {v["name"]: v for v in orjson.loads(self.path.read_bytes())["variables"]}

    # mapping protocol used by sqlparse_ch.template's tb_secret
    def __contains__(self, name) -> bool:
        return name in self._vars

    def __getitem__(self, name) -> str:
        return self._vars[name]["value"]

    def __len__(self) -> int:
        return len(self._vars)

    def _save(self) -> None:
        atomic_write(self.path, orjson.dumps({"variables": list(self._vars.values())}), mode=0o600)

    @staticmethod
    def public(v: dict) -> dict:
        return {k: v[k] for k in ("name", "type", "created_at", "updated_at", "edited_by")}

    def list(self) -> list[dict]:
        with self._lock:
            return [self.public(v) for v in self._vars.values()]

    def get(self, name: str) -> dict:
        with self._lock:
            v = self._vars.get(name)
        if v is None:
            raise ApiError(404, f"Variable '{name}' not found", DOC_VARIABLES)
        return self.public(v)

    def set(self, name: str, value, *, create: bool, edited_by: str = "", kind: str | None = None) -> dict:
        if kind not in (None, "", "secret"):
            raise ApiError(400, f"Unsupported variable type '{kind}': the only type is 'secret'", DOC_VARIABLES)
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise ApiError(400, f"Invalid variable name {name!r}: use letters, digits and underscores, not starting "
                                f"with a digit", DOC_VARIABLES)
        if not isinstance(value, str):
            raise ApiError(400, f"Missing 'value' for variable '{name}'", DOC_VARIABLES)
        if len(value.encode()) > MAX_VALUE_BYTES:
            raise ApiError(400, f"The value of variable '{name}' is larger than {MAX_VALUE_BYTES} bytes",
                           DOC_VARIABLES)
        with self._lock:
            old = self._vars.get(name)
            if create and old is not None:
                raise ApiError(409, f"Variable '{name}' already exists: update it with PUT /v0/variables/{name}",
                               DOC_VARIABLES)
            if not create and old is None:
                raise ApiError(404, f"Variable '{name}' not found", DOC_VARIABLES)
            if create and len(self._vars) >= MAX_VARIABLES:
                raise ApiError(400, f"Too many variables: the limit is {MAX_VARIABLES} per workspace", DOC_VARIABLES)
            now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")    # as Tinybird's answers
            v = {"name": name, "type": "secret", "value": value, "created_at": (old or {}).get("created_at", now),
                 "updated_at": now, "edited_by": edited_by}
            self._vars[name] = v
            self._save()
        return self.public(v)

    def delete(self, name: str) -> None:
        with self._lock:
            if name not in self._vars:
                raise ApiError(404, f"Variable '{name}' not found", DOC_VARIABLES)
            del self._vars[name]
            self._save()


def variables(svc) -> Variables:
    store = svc.__dict__.get("variables")
    if store is None:
        store = svc.variables = Variables(Path(svc.data_dir) / "server" / "variables.json")
        svc.pipes.secrets = store          # pipes.compile_pipe passes them to tb_secret()
    return store


def bind_secrets(node, values: dict):
    """The ``{name: String}`` query parameters that ``tb_secret()`` rendered in a pipe's compiled statement,
    replaced by their values as string literals in the AST (never text splicing). Bound before a ``q=``
    or a /v0/sql query is put around the pipe, so that query cannot name a secret as ``{name:String}``."""
    import dataclasses

    from sqlparse_ch.ast.expr import Literal, QueryParameter

    if isinstance(node, QueryParameter):
        return Literal(values[node.name]) if node.name in values else node
    if isinstance(node, (list, tuple)):
        out = [bind_secrets(x, values) for x in node]
        return out if isinstance(node, list) else tuple(out)
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        changes = {}
        for f in dataclasses.fields(node):
            old = getattr(node, f.name)
            if old is None or isinstance(old, (str, int, float, bool)):
                continue
            new = bind_secrets(old, values)
            if new is not old:
                changes[f.name] = new
        return dataclasses.replace(node, **changes) if changes else node
    return node


async def _fields(request: Request) -> dict:
    """Form fields, a JSON object body or the query string (Tinybird's clients use all three)."""
    params = dict(request.query_params)
    params.pop("token", None)
    body = await read_body(request) if request.method in ("POST", "PUT") else b""
    text = body.strip()
    if text.startswith(b"{"):
        try:
            data = orjson.loads(text)
        except orjson.JSONDecodeError as e:
            raise ApiError(400, f"Invalid JSON body: {e}", DOC_VARIABLES) from None
        if isinstance(data, dict):
            params.update(data)
    elif text:
        from urllib.parse import parse_qsl

        params.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    return params


def _admin(request: Request, action: str):
    who = principal(request)
    who.require_admin(action)
    return who


async def list_variables(request: Request):
    _admin(request, "listing variables")
    return json_response({"variables": variables(service(request)).list()})


async def create_variable(request: Request):
    who = _admin(request, "creating variables")
    f = await _fields(request)
    return json_response(variables(service(request)).set(f.get("name"), f.get("value"), create=True,
                                                         edited_by=f"token: '{who.name}'", kind=f.get("type")))


async def get_variable(request: Request):
    _admin(request, "reading variables")
    return json_response(variables(service(request)).get(request.path_params["name"]))


async def update_variable(request: Request):
    who = _admin(request, "updating variables")
    f = await _fields(request)
    return json_response(variables(service(request)).set(request.path_params["name"], f.get("value"),
                                                         create=False, edited_by=f"token: '{who.name}'"))


async def delete_variable(request: Request):
    _admin(request, "deleting variables")
    variables(service(request)).delete(request.path_params["name"])
    return json_response({"ok": True})


# --------------------------------------------------------------------------- workspaces


class Workspaces:
    """The default workspace (the served data directory) and the workspaces created over the API."""

    def __init__(self, main):
        self.main = main
        self.path = Path(main.data_dir) / "server" / "workspaces.json"
        self._lock = threading.RLock()
        data = orjson.loads(self.path.read_bytes()) if self.path.exists() else {}
        self.default_id = data.get("default_id") or str(uuid.uuid4())
        self.organization_id = data.get("organization_id") or str(uuid.uuid4())
        self.records: dict[str, dict] = {w["id"]: w for w in data.get("workspaces", [])}
        self._by_token = {w["token"]: w["id"] for w in self.records.values()}
        self._open: dict[str, object] = {}
        self._ws_locks: dict[str, threading.Lock] = {}
        if not data:
            self._save()

    def _save(self) -> None:
        atomic_write(self.path, orjson.dumps({"default_id": self.default_id, "organization_id": self.organization_id,
                                              "workspaces": list(self.records.values())}), mode=0o600)
        self._by_token = {w["token"]: w["id"] for w in self.records.values()}
        self.main.route = self.route if self.records else None

    # ---- routing (http.service)

    def route(self, request: Request):
        token = request_token(request) or ""
        ws_id = self._by_token.get(token)
        if ws_id is None and token.startswith("ey") and token.count(".") == 2:
            ws_id = self._jwt_workspace(token)
        return self.main if ws_id is None else self.service(ws_id)

    #: JWT -> the created workspace whose admin token signed it (None: the default workspace), bounded
    _JWT_CACHE_SIZE = 10_000

    def _jwt_workspace(self, token: str) -> str | None:
        """A JWT signed with a created workspace's admin token goes to that workspace (its TokenStore then
        verifies it fully: expiry, scopes). Signature checks only, once per distinct JWT."""
        cache = self.__dict__.setdefault("_jwt_ws", {})
        if token in cache:
            return cache[token]
        import jwt

        found = None
        for rec in list(self.records.values()):
            try:
                jwt.decode(token, rec["token"], algorithms=["HS256"], options={"verify_exp": False})
            except jwt.InvalidTokenError:
                continue
            found = rec["id"]
            break
        if len(cache) >= self._JWT_CACHE_SIZE:
            cache.clear()
        cache[token] = found
        return found

    def service(self, ws_id: str):
        with self._lock:
            svc = self._open.get(ws_id)
            if svc is None:
                rec = self.records.get(ws_id)
                if rec is None:
                    raise ApiError(404, f"Workspace '{ws_id}' not found", DOC_WORKSPACES)
                svc = self._open[ws_id] = self._new_service(rec)
            return svc

    def _dir(self, ws_id: str) -> Path:
        return Path(self.main.data_dir) / "workspaces" / ws_id

    def _new_service(self, rec: dict):
        from mergetree.server.app import Service

        m = self.main
        _CHILD.active = True
        try:
            limiter = getattr(m, "ratelimiter", None)
            svc = Service(self._dir(rec["id"]), admin_token=rec["token"],
                          flush_interval=getattr(m.flusher, "interval", 1.0), max_body_bytes=m.max_body_bytes,
                          rate_limit_rps=getattr(limiter, "default_rps", None))
        finally:
            _CHILD.active = False
        svc.workspace = rec
        variables(svc)
        from mergetree.server.deploy import stored_project

        stored = stored_project(svc.data_dir)      # what was built / deployed into it before a restart
        if stored is not None:
            from mergetree.server.project import apply_project, load

            try:
                apply_project(svc, load(stored))
            except BaseException:
                svc.close()
                raise
        return svc

    def workspace_of(self, svc) -> dict:
        rec = getattr(svc, "workspace", None)
        return rec or self.default()

    def default(self) -> dict:
        name = getattr(self.main, "workspace_name", None) or "mergetree"
        return {"id": self.default_id, "name": name, "token": self.main.tokens.admin_token,
                "created_at": None}

    def all(self) -> list[dict]:
        with self._lock:
            return [self.default(), *self.records.values()]

    def create(self, name: str) -> dict:
        if not name or not re.fullmatch(r"[A-Za-z0-9_]+", name):
            raise ApiError(400, f"Invalid workspace name {name!r}: use letters, digits and underscores",
                           DOC_WORKSPACES)
        with self._lock:
            if any(w["name"] == name for w in self.all()):
                raise ApiError(409, f"A workspace named '{name}' already exists", DOC_WORKSPACES)
            from mergetree.server.auth import new_token_value

            rec = {"id": str(uuid.uuid4()), "name": name, "token": new_token_value(), "created_at": _now()}
            self.records[rec["id"]] = rec
            self._save()
        return rec

    def delete(self, ws_id: str) -> dict:
        with self._lock:
            if ws_id == self.default_id:
                raise ApiError(400, "The default workspace (the server's data directory) cannot be deleted",
                               DOC_WORKSPACES)
            rec = self.records.pop(ws_id, None)
            if rec is None:
                raise ApiError(404, f"Workspace '{ws_id}' not found", DOC_WORKSPACES)
            self._save()
            svc = self._open.pop(ws_id, None)
        if svc is not None:
            svc.close()
        shutil.rmtree(self._dir(ws_id), ignore_errors=True)
        return rec

    def reset(self, svc):
        """A created workspace emptied (its data directory discarded): the service to use from now on."""
        rec = getattr(svc, "workspace", None)
        if rec is None:
            raise ApiError(400, "The default workspace cannot be reset", DOC_WORKSPACES)
        with self._lock:
            old = self._open.pop(rec["id"], None)
            if old is not None:
                old.close()
            shutil.rmtree(self._dir(rec["id"]), ignore_errors=True)
            return self.service(rec["id"])

    def lock_for(self, svc) -> threading.Lock:
        key = self.workspace_of(svc)["id"]
        with self._lock:
            return self._ws_locks.setdefault(key, threading.Lock())

    def close(self) -> None:
        with self._lock:
            opened, self._open = list(self._open.values()), {}
        for svc in opened:
            svc.close()


def attach(svc) -> None:
    """Called by the Service at start: the workspace registry and the secrets (a created workspace's
    Service gets only its secrets)."""
    variables(svc)
    if getattr(_CHILD, "active", False):          # a created workspace: no workspaces of its own
        svc.route = None
        return
    svc.workspaces = Workspaces(svc)
    svc.route = svc.workspaces.route if svc.workspaces.records else None


def detach(svc) -> None:
    """Called by ``Service.close``: closes the created workspaces' services."""
    ws = svc.__dict__.get("workspaces")
    if ws is not None:
        ws.close()


def _manager(request: Request) -> Workspaces:
    ws = request.app.state.service.__dict__.get("workspaces")
    if ws is None:
        raise ApiError(404, "Workspaces are not available on this server", DOC_WORKSPACES)
    return ws


def _ws_json(rec: dict, base: str, with_token: bool = True) -> dict:
    out = {"id": rec["id"], "name": rec["name"], "created_at": rec.get("created_at"), "is_branch": False,
           "main": None, "role": "admin", "host": base}
    if with_token:
        out["token"] = rec["token"]
    return out


async def get_workspace(request: Request):
    """``GET /v0/workspace``: the workspace the token works in."""
    who = principal(request)
    svc = service(request)
    rec = _manager(request).workspace_of(svc)
    base = str(request.base_url).rstrip("/")
    out = {**_ws_json(rec, base, with_token=False), "user_id": who.name, "user_email": "", "releases": [],
           "plan": "local", "organization_id": _manager(request).organization_id}
    if who.is_admin:
        out["scope"] = "admin"         # the Classic CLI warns "not an admin token" without it
    return json_response(out)


async def get_auth(request: Request):
    """``GET /v0/auth``: is the token valid, and what may it do."""
    who = principal(request)
    svc = service(request)
    rec = _manager(request).workspace_of(svc)
    return json_response({"is_valid": True, "is_user": False, "is_admin": who.is_admin, "token_name": who.name,
                          "is_jwt": who.is_jwt, "workspace_id": rec["id"], "workspace_name": rec["name"],
                          "scopes": [s.to_json() for s in who.scopes],
                          "host": str(request.base_url).rstrip("/")})


async def local_tokens(request: Request):
    """tinybird-local's ``GET /tokens``: no credential asked, so only for clients on this machine."""
    host = request.client.host if request.client else ""
    proxied = any(h in request.headers for h in ("x-forwarded-for", "forwarded", "x-real-ip"))
    if host not in _LOOPBACK or proxied or os.environ.get("MERGETREE_DISABLE_LOCAL_TOKENS", "") not in ("", "0"):
        raise ApiError(403, "GET /tokens answers only clients on the server's own machine, not through a proxy "
                            "(it hands out the admin token); MERGETREE_DISABLE_LOCAL_TOKENS=1 turns it off",
                       DOC_WORKSPACES)
    token = request.app.state.service.tokens.admin_token
    return json_response({"user_token": token, "admin_token": token, "workspace_admin_token": token})


def _main_admin(request: Request) -> None:
    """The default workspace's admin token (the "user" of tinybird-local)."""
    svc = service(request)
    if svc is not request.app.state.service:
        raise ApiError(403, "Forbidden: managing workspaces needs the server's admin token", DOC_WORKSPACES)
    principal(request).require_admin("managing workspaces")


async def user_workspaces(request: Request):
    _main_admin(request)
    mgr = _manager(request)
    base = str(request.base_url).rstrip("/")
    current = mgr.default()          # the caller's (the Classic CLI reads the top-level id)
    return json_response({"id": current["id"], "name": current["name"], "organization_id": mgr.organization_id,
                          "workspaces": [{**_ws_json(w, base), "plan": "local"} for w in mgr.all()]})


async def create_workspace(request: Request):
    _main_admin(request)
    rec = await run_in_threadpool(_manager(request).create, request.query_params.get("name", ""))
    return json_response(_ws_json(rec, str(request.base_url).rstrip("/")))


async def delete_workspace(request: Request):
    mgr = _manager(request)
    ws_id = request.path_params["ws_id"]
    svc = service(request)
    if getattr(svc, "workspace", {}).get("id") != ws_id:      # a workspace may delete itself
        _main_admin(request)
    else:
        principal(request).require_admin("deleting the workspace")
    rec = await run_in_threadpool(mgr.delete, ws_id)
    return json_response({"id": rec["id"], "name": rec["name"], "deleted": True})


# --------------------------------------------------------------------------- build / deploy


def _datafile_parts(ctype: str, body: bytes) -> dict[str, str]:
    """The ``data_project://`` parts of a Forward CLI multipart body: {relative path: text}."""
    if not ctype.lower().startswith("multipart/form-data"):
        raise ApiError(400, "Send the datafiles as multipart/form-data: one part named 'data_project://' per file, "
                            "its filename the project-relative path", DOC_DEPLOY)
    msg = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + ctype.encode("latin-1") + b"\r\n\r\n" + body)
    if not msg.is_multipart():
        raise ApiError(400, "Invalid multipart/form-data body: no parts found", DOC_DEPLOY)
    files: dict[str, str] = {}
    for part in msg.iter_parts():
        field = part.get_param("name", header="content-disposition") or ""
        if field != "data_project://":
            continue                      # context://, data_project_vendored:// (not supported), ...
        filename = part.get_filename() or ""
        data = part.get_payload(decode=True) or b""
        try:
            files[filename] = data.decode("utf-8")
        except UnicodeDecodeError:
            raise ApiError(400, f"The datafile '{filename}' is not UTF-8 text", DOC_DEPLOY) from None
    if not files:          # an empty project would unpublish every pipe: surely a mistake
        raise ApiError(400, "No datafiles: send each one as a part named 'data_project://' whose filename is its "
                            "project-relative path", DOC_DEPLOY)
    return files


def _supported(files: dict[str, str]) -> tuple[dict[str, str], list[dict]]:
    """Datafiles mergetree applies, and feedback for the ones it skips (``.connection``)."""
    from mergetree.server.deploy import SUFFIXES, _safe_relpath

    keep, feedback = {}, []
    for name, text in files.items():
        if name.endswith(SUFFIXES):
            keep[_safe_relpath(name).as_posix()] = text
        else:
            feedback.append({"level": "WARNING", "resource": name,
                             "message": f"'{name}' is not applied: mergetree serves .datasource and .pipe files"})
    if not keep:           # an empty project would unpublish every pipe: surely a mistake
        raise ApiError(400, "No .datasource or .pipe datafiles in the request: nothing to build or deploy", DOC_DEPLOY)
    return keep, feedback


def _errors(e: ApiError) -> list[dict]:
    return [{"filename": getattr(e, "filename", ""), "error": getattr(e, "detail", e.message)}]


async def build(request: Request):
    """``POST /v1/build``: the project in these datafiles, built in the token's workspace."""
    principal(request).require_admin("building a project")
    svc = service(request)
    files, feedback = _supported(_datafile_parts(request.headers.get("content-type", ""), await read_body(request)))
    mgr = _manager(request)

    def run():
        from mergetree.server.deploy import apply_files, changes, current_files

        with mgr.lock_for(svc):
            target = svc
            if getattr(svc, "workspace", None) is not None:          # fresh, as tinybird-local's build
                diff = changes(current_files(svc), files)
                if not any(diff.values()):
                    return {"result": "success", "build": {"id": str(uuid.uuid4()), **diff, "feedback": feedback}}
                apply_files(svc, files, mode="deploy", dry_run=True, check_schemas=False)   # check before discarding
                target = mgr.reset(svc)
                report = apply_files(target, files, mode="deploy")
                report["changes"] = diff
            else:
                report = apply_files(target, files, mode="deploy")
        return {"result": "success", "build": {"id": str(uuid.uuid4()), **report["changes"], "feedback": feedback}}

    try:
        return json_response(await run_in_threadpool(run))
    except ApiError as e:
        if e.status != 400:
            raise
        return json_response({"result": "failed", "error": e.message, "errors": _errors(e)}, status=400)


class Deployments:
    """The deployments of a workspace (``<data dir>/server/deployments.json``).

    With ``auto_promote=true`` (the CLI's default) a deployment is applied at once and is live when
    answered. Without it, it is a *candidate*: checked (templates, migrations), kept with its datafiles,
    ``data_ready`` but not live, until ``POST /v1/deployments/ID/set-live`` applies it (then the former
    live one is ``deleted``) or ``DELETE /v1/deployments/ID`` discards it. ``GET /v1/deployments`` lists
    the deployments not deleted, the live one first (the order ``tb deployment promote|discard`` reads);
    before any deployment went live, deployment ``0`` (Tinybird's seed) is the live one."""

    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()
        self.items: list[dict] = orjson.loads(path.read_bytes())["deployments"] if path.exists() else []

    def _save(self) -> None:
        atomic_write(self.path, orjson.dumps({"deployments": self.items[-100:]}), mode=0o600)

    @staticmethod
    def public(d: dict) -> dict:
        return {k: v for k, v in d.items() if k != "files"}

    def add(self, report: dict, feedback: list[dict], *, live: bool, files: dict | None = None) -> dict:
        with self._lock:
            for d in self.items:
                if d["status"] != "deleted" and (live or not d["live"]):   # a new candidate replaces the old one
                    d.update(live=False, status="deleted", updated_at=_now())
            next_id = str(max((int(d["id"]) for d in self.items), default=0) + 1)
            d = {"id": next_id, "status": "data_ready", "live": live, "created_at": _now(), "updated_at": _now(),
                 "feedback": feedback, "errors": [], **report["changes"]}
            if not live:
                d["files"] = files
            self.items.append(d)
            self._save()
        return self.public(d)

    def _seed(self) -> dict:
        """Deployment 0, Tinybird's "seed": live while nothing was deployed, deleted once something was."""
        live = not any(d["live"] for d in self.items)
        return {"id": "0", "status": "data_ready" if live else "deleted", "live": live, "created_at": None,
                "updated_at": None, "feedback": [], "errors": []}

    def _find(self, dep_id: str) -> dict:
        for d in self.items:
            if d["id"] == dep_id:
                return d
        if dep_id == "0":
            return self._seed()
        raise ApiError(404, f"Deployment '{dep_id}' not found", DOC_DEPLOY)

    def get(self, dep_id: str) -> dict:
        with self._lock:
            return self.public(self._find(dep_id))

    def candidate_files(self, dep_id: str) -> dict | None:
        """The datafiles of a candidate (None when it is live already); 400 when deleted."""
        with self._lock:
            d = self._find(dep_id)
            if d["live"]:
                return None
            if d["status"] == "deleted":
                raise ApiError(400, f"Deployment '{dep_id}' was deleted: deploy again", DOC_DEPLOY)
            return dict(d.get("files") or {})

    def promote(self, dep_id: str) -> dict:
        with self._lock:
            target = self._find(dep_id)
            for d in self.items:
                if d["live"] and d is not target:
                    d.update(live=False, status="deleted", updated_at=_now())
            target.update(live=True, updated_at=_now())
            target.pop("files", None)
            self._save()
            return self.public(target)

    def discard(self, dep_id: str) -> dict:
        with self._lock:
            d = self._find(dep_id)
            if d["live"]:
                raise ApiError(400, f"Deployment '{dep_id}' is live: deploy another version instead of deleting it",
                               DOC_DEPLOY)
            if d["id"] != "0":
                d.update(status="deleted", updated_at=_now())
                d.pop("files", None)
                self._save()
            return self.public(d)

    def list(self) -> list[dict]:
        with self._lock:
            alive = [d for d in reversed(self.items) if d["status"] != "deleted"]
            if not any(d["live"] for d in alive):
                alive.append(self._seed())
            return [self.public(d) for d in sorted(alive, key=lambda d: not d["live"])]


def deployments(svc) -> Deployments:
    d = svc.__dict__.get("deployments")
    if d is None:
        d = svc.deployments = Deployments(Path(svc.data_dir) / "server" / "deployments.json")
    return d


async def deploy(request: Request):
    """``POST /v1/deploy[?check=true][&auto_promote=true]``: the project becomes exactly these datafiles
    (data sources that leave it are kept; schema changes refused with file:line). With ``auto_promote``
    applied at once (live when answered); without, a candidate promoted by ``.../set-live``."""
    principal(request).require_admin("deploying a project")
    svc = service(request)
    files, feedback = _supported(_datafile_parts(request.headers.get("content-type", ""), await read_body(request)))
    check = flag(request.query_params.get("check"))
    auto = flag(request.query_params.get("auto_promote"))

    def run():
        from mergetree.server.deploy import apply_files, changes, current_files

        with _manager(request).lock_for(svc):
            if not any(changes(current_files(svc), files).values()) and not check:
                return {"result": "no_changes", "deployment": {**_live(svc), "feedback": feedback, "errors": []}}
            report = apply_files(svc, files, mode="deploy", dry_run=check or not auto)
            if check:
                return {"result": "success", "deployment": {"status": "calculating", "feedback": feedback,
                                                            "errors": [], **report["changes"]}}
            return {"result": "success",
                    "deployment": deployments(svc).add(report, feedback, live=auto, files=None if auto else files)}

    try:
        return json_response(await run_in_threadpool(run))
    except ApiError as e:
        if e.status != 400:
            raise
        return json_response({"result": "failed", "error": e.message,
                              "deployment": {"status": "failed", "errors": _errors(e), "feedback": feedback}},
                             status=400)


def _live(svc) -> dict:
    return next((d for d in deployments(svc).list() if d["live"]),
                {"id": "0", "status": "data_ready", "live": True, "errors": [], "feedback": []})


async def list_deployments(request: Request):
    principal(request).require_admin("listing deployments")
    return json_response({"deployments": deployments(service(request)).list()})


async def get_deployment(request: Request):
    principal(request).require_admin("reading deployments")
    return json_response({"deployment": deployments(service(request)).get(request.path_params["dep_id"])})


async def delete_deployment(request: Request):
    principal(request).require_admin("deleting deployments")
    return json_response({"deployment": deployments(service(request)).discard(request.path_params["dep_id"])})


async def set_live(request: Request):
    """``POST /v1/deployments/ID/set-live``: a candidate's datafiles applied (checked again: the data may
    have changed since); it becomes live and the former live deployment ``deleted``."""
    principal(request).require_admin("promoting deployments")
    svc = service(request)
    dep_id = request.path_params["dep_id"]
    store = deployments(svc)

    def run():
        from mergetree.server.deploy import apply_files

        with _manager(request).lock_for(svc):
            files = store.candidate_files(dep_id)
            if files is not None:
                apply_files(svc, files, mode="deploy")
            return store.promote(dep_id)

    return json_response({"deployment": await run_in_threadpool(run)})


async def example_url(request: Request):
    """``GET /examples/query.http?pipe=P&format=json&token=T``: the URL to call an endpoint (the tb
    CLI's ``endpoint url`` prints it)."""
    from urllib.parse import urlencode

    q = request.query_params
    pipe = q.get("pipe") or ""
    if not re.fullmatch(r"[A-Za-z0-9_]+", pipe):
        raise ApiError(400, "Pass the endpoint's name as pipe=NAME", DOC_WORKSPACES)
    fmt = q.get("format") or "json"
    if fmt not in ("json", "csv", "ndjson", "parquet"):
        raise ApiError(400, f"Unsupported format '{fmt}'", DOC_WORKSPACES)
    params = {k: v for k, v in (("q", q.get("q")), ("token", q.get("token"))) if v}
    url = f"{str(request.base_url).rstrip('/')}/v0/pipes/{pipe}.{fmt}" + (f"?{urlencode(params)}" if params else "")
    return Response(url, headers={"content-type": "text/plain"})


def v1_append(view):
    """``POST /v1/datasources/NAME/append|replace`` as the Forward CLI reads it: its
    ``datasource_append_data`` treats ANY ``error`` key in the answer as a failure, so a successful
    answer must not carry ``"error": false`` (the v0 import answer does)."""
    async def append(request: Request):
        response = await view(request)
        if response.status_code < 300 and response.media_type == "application/json":
            data = orjson.loads(response.body)
            if isinstance(data, dict) and "error" in data and not data["error"]:
                del data["error"]
                return json_response(data, status=response.status_code)
        return response

    append.__name__ = view.__name__
    return append


ROUTES = [
    (["GET"], "/v0/variables", list_variables),
    (["POST"], "/v0/variables", create_variable),
    (["GET"], "/v0/variables/{name}", get_variable),
    (["PUT"], "/v0/variables/{name}", update_variable),
    (["DELETE"], "/v0/variables/{name}", delete_variable),
    (["GET"], "/v0/workspace", get_workspace),
    (["GET"], "/v0/auth", get_auth),
    (["GET"], "/tokens", local_tokens),
    (["GET"], "/examples/query.http", example_url),
    (["GET"], "/v1/user/workspaces", user_workspaces),
    (["GET"], "/v1/user/workspaces/", user_workspaces),
    (["GET"], "/v0/user/workspaces", user_workspaces),
    (["GET"], "/v0/user/workspaces/", user_workspaces),
    (["POST"], "/v1/workspaces", create_workspace),
    (["DELETE"], "/v1/workspaces/{ws_id}", delete_workspace),
    (["DELETE"], "/v0/workspaces/{ws_id}", delete_workspace),
    (["POST"], "/v1/build", build),
    (["POST"], "/v1/deploy", deploy),
    (["GET"], "/v1/deployments", list_deployments),
    (["GET"], "/v1/deployments/{dep_id}", get_deployment),
    (["DELETE"], "/v1/deployments/{dep_id}", delete_deployment),
    (["POST"], "/v1/deployments/{dep_id}/set-live", set_live),
]
