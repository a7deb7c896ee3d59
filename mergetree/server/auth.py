"""Tokens: who may do what.

HOOKS for the project loader and the pipe endpoints (mergetree/server/project.py, pipes.py):

* ``TokenStore.ensure_datafile_tokens(project)``: call after loading a project (serve/dev/push):
  ``TOKEN name READ|APPEND`` lines of .datasource / .pipe files become scoped static tokens.
* ``Principal.params_for_pipe(pipe, params)``: the request parameters with the token's
  ``fixed_params`` for that pipe applied over them (a JWT's fixed values win).
* ``Principal.row_policies()``: ``{data source: filter}`` to pass as ``Engine.run(..., row_policies=)``
  for EVERY statement run on behalf of the token (pipe nodes, ``q=``, /v0/sql).
* ``authorize_read(who, engine, stmt, pipes=..., allowed=...)``: 403 unless the token may read
  every table a statement names (``q=`` on an endpoint, /v0/sql).

Three kinds of credentials arrive as ``Authorization: Bearer <token>`` or ``?token=<token>``:

1. The **admin token** (scope ``ADMIN``): generated on first start and kept in
   ``<data dir>/server/tokens.json``, or fixed by ``--admin-token`` / ``MERGETREE_ADMIN_TOKEN``.
2. **Static tokens** with scopes, created with ``POST /v0/tokens?name=..&scope=..`` (and later by
   ``TOKEN`` lines in datafiles), kept in the same file. Scopes are Tinybird's strings:
   ``ADMIN``, ``TOKENS``, ``DATASOURCES:CREATE``, ``DATASOURCES:APPEND:ds``, ``DATASOURCES:READ:ds[:filter]``,
   ``DATASOURCES:DROP:ds``, ``PIPES:READ:p``, ...
3. **JWTs** (HS256, signed with the admin token, ``exp`` required) whose payload carries
   ``scopes: [{type, resource, fixed_params?, filter?}]``; nothing is stored for them.

:meth:`TokenStore.authenticate` turns the request's credential into a :class:`Principal`;
views call :meth:`Principal.require` with the scope they need, which raises a 403 naming it.
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from mergetree.server.errors import DOC_TOKENS, ApiError
from mergetree.server.files import atomic_write

ADMIN = "ADMIN"
#: scope types that name a resource (``TYPE:resource``)
RESOURCE_SCOPES = ("DATASOURCES:APPEND", "DATASOURCES:READ", "DATASOURCES:DROP", "PIPES:READ", "PIPES:DROP")
#: scope types without a resource
PLAIN_SCOPES = (ADMIN, "TOKENS", "DATASOURCES:CREATE", "PIPES:CREATE", "WORKSPACE:READ_ALL")


@dataclass(frozen=True)
class Scope:
    type: str
    resource: str | None = None
    filter: str | None = None
    fixed_params: dict | None = field(default=None, compare=False, hash=False)

    def to_json(self) -> dict:
        out = {"type": self.type}
        if self.resource is not None:
            out["resource"] = self.resource
        if self.filter:
            out["filter"] = self.filter
        return out

    def __str__(self) -> str:
        return self.type if self.resource is None else f"{self.type}:{self.resource}"


def parse_scope(text: str) -> Scope:
    """``DATASOURCES:READ:events:user_id = 1`` -> Scope('DATASOURCES:READ', 'events', 'user_id = 1')."""
    text = text.strip()
    if text in PLAIN_SCOPES:
        return Scope(text)
    for kind in RESOURCE_SCOPES:
        if text.startswith(kind + ":"):
            rest = text[len(kind) + 1:]
            resource, _, flt = rest.partition(":")
            if resource:
                return Scope(kind, resource, flt or None)
    raise ApiError(400, f"Invalid scope '{text}': expected one of {', '.join(PLAIN_SCOPES)} or "
                        f"{', '.join(k + ':<name>' for k in RESOURCE_SCOPES)}", DOC_TOKENS)


def _scope_from_json(d: dict) -> Scope:
    kind = d.get("type")
    if kind not in PLAIN_SCOPES and kind not in RESOURCE_SCOPES:
        raise ApiError(400, f"Invalid scope type {kind!r}", DOC_TOKENS)
    resource = d.get("resource")
    if kind in RESOURCE_SCOPES and not resource:
        raise ApiError(400, f"Scope {kind} needs a 'resource'", DOC_TOKENS)
    return Scope(kind, resource, d.get("filter") or None, d.get("fixed_params") or None)


@dataclass
class Principal:
    """The authenticated caller: a token name and its scopes."""

    name: str
    scopes: list[Scope]
    is_jwt: bool = False
    #: ``{"rps": N}``: a JWT's ``limits`` or a static token's (see ratelimit.py)
    limits: dict | None = None
    #: what identifies the caller for rate limiting (the token value)
    key: str = ""

    @property
    def is_admin(self) -> bool:
        return any(s.type == ADMIN for s in self.scopes)

    def allows(self, kind: str, resource: str | None = None) -> bool:
        if self.is_admin:
            return True
        for s in self.scopes:
            if s.type != kind:
                continue
            if resource is None or s.resource == resource:
                return True
            # DATASOURCES:READ:ds also covers ds_quarantine (as in Tinybird), unless the scope has a row
            # filter: the quarantine's rows are other rows of ds, which the filter would not limit
            if kind == "DATASOURCES:READ" and resource == f"{s.resource}_quarantine" and not s.filter:
                return True
        return False

    def require(self, kind: str, resource: str | None = None, action: str = "") -> None:
        if self.allows(kind, resource):
            return
        needed = kind if resource is None else f"{kind}:{resource}"
        what = f" to {action}" if action else ""
        raise ApiError(403, f"Forbidden: the token '{self.name}' does not have the scope needed{what}: "
                            f"{needed} (or ADMIN)", DOC_TOKENS)

    def require_admin(self, action: str) -> None:
        if not self.is_admin:
            raise ApiError(403, f"Forbidden: {action} needs a token with the ADMIN scope", DOC_TOKENS)

    def row_policies(self) -> dict[str, str] | None:
        """``{data source: condition}`` from the ``filter`` of DATASOURCES:READ scopes (None: no filter).

        Several filtered scopes on one data source are ORed; an unfiltered READ scope on it (or ADMIN)
        means no filter. Pass the result to ``Engine.run(..., row_policies=)`` for every statement run
        on behalf of this token: the engine ANDs it into every read of the data source at any depth
        (pipes reading pipes, subqueries, ``q=``)."""
        if self.is_admin:
            return None
        filters: dict[str, list[str]] = {}
        unfiltered: set[str] = set()
        for s in self.scopes:
            if s.type != "DATASOURCES:READ" or s.resource is None:
                continue
            if s.filter:
                filters.setdefault(s.resource, []).append(s.filter)
            else:
                unfiltered.add(s.resource)
        out = {ds: " OR ".join(f"({f})" for f in fs) if len(fs) > 1 else fs[0]
               for ds, fs in filters.items() if ds not in unfiltered}
        return out or None

    def fixed_params(self, pipe: str) -> dict:
        """The ``fixed_params`` of this token's PIPES:READ scope(s) for ``pipe`` (a JWT's)."""
        out: dict = {}
        for s in self.scopes:
            if s.type == "PIPES:READ" and s.resource == pipe and s.fixed_params:
                out.update(s.fixed_params)
        return out

    def params_for_pipe(self, pipe: str, params: dict) -> dict:
        """``params`` (the request's) with this token's fixed parameters for ``pipe`` over them."""
        fixed = self.fixed_params(pipe)
        if not fixed:
            return params
        return {**params, **{k: v if isinstance(v, (list, str)) else _param_text(v) for k, v in fixed.items()}}


def _param_text(v) -> str:
    """A JSON fixed_param value as the text a request parameter would carry (true -> 'true')."""
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def authorize_read(who: Principal, engine, stmt, pipes=(), allowed=("_",)) -> None:
    """403 unless ``who`` may run the read ``stmt``: every table it names (at any depth) must be a
    data source with DATASOURCES:READ, a pipe in ``pipes`` with PIPES:READ, or a name in ``allowed``
    (``_``: the endpoint's own result for ``q=``). Non-admin tokens may only read."""
    if who.is_admin:
        return
    from mergetree.server.errors import DOC_QUERY

    if not engine.is_read(stmt):
        raise ApiError(403, "Forbidden: only read queries (SELECT, DESCRIBE, SHOW, EXPLAIN) are allowed "
                            "with a token without the ADMIN scope", DOC_QUERY)
    pipes = set(pipes)
    # a CTE's own name needs no scope, unless a data source has that name (a CTE name is not
    # scoped here: `FROM secret ... (WITH secret AS ...)` must still check the real `secret`)
    ctes = {n for n in _cte_names(stmt) if not engine.exists(n)}
    for database, table in sorted(engine.referenced_tables(stmt), key=str):
        if database is None and table in ctes:
            continue
        if database == "tinybird":      # service data sources (server/service_ds.py)
            raise ApiError(403, f"Forbidden: the token '{who.name}' cannot read the service data source "
                                f"tinybird.{table}: it needs a token with the ADMIN scope", DOC_QUERY)
        if database is not None:
            raise ApiError(403, f"Forbidden: the token '{who.name}' cannot read {database}.{table}: "
                                f"only the workspace's data sources and pipes", DOC_QUERY)
        if table in allowed:
            continue
        if table in pipes and not engine.exists(table):
            who.require("PIPES:READ", table, f"read the Pipe '{table}'")
        else:
            who.require("DATASOURCES:READ", table, f"read the Data Source '{table}'")


def visible_result(who: Principal, stmt, result):
    """``SHOW TABLES`` for a non-admin token lists only the data sources it may read."""
    if who.is_admin or type(stmt).__name__ != "Show" or getattr(stmt, "what", "") != "TABLES" \
            or not result.column_data:
        return result
    import numpy as np

    names = result.column_data[0].to_pylist()
    mask = np.fromiter((who.allows("DATASOURCES:READ", n) for n in names), dtype=bool, count=len(names))
    return type(result)(result.schema, [c.filter(mask) for c in result.column_data], statistics=result.statistics,
                  format_name=result.format_name)


def _cte_names(stmt) -> set[str]:
    from sqlparse_ch.ast.query import CTE

    found: set[str] = set()
    seen: set[int] = set()

    def walk(node):
        if isinstance(node, (list, tuple)):
            for x in node:
                walk(x)
            return
        if not hasattr(node, "__dataclass_fields__") or id(node) in seen:
            return
        seen.add(id(node))
        if isinstance(node, CTE):
            found.add(node.name)
        for f in node.__dataclass_fields__:
            if f != "span":
                walk(getattr(node, f, None))

    walk(stmt)
    return found


def new_token_value() -> str:
    return "p." + secrets.token_urlsafe(32)


class TokenStore:
    """Static tokens persisted in ``tokens.json`` (atomic rewrite on every change)."""

    def __init__(self, path: Path, admin_token: str | None = None):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._tokens: dict[str, dict] = {}
        #: static token value -> (generation, Principal): the Principal of a stored token, built once per
        #: generation (bumped by every change of the tokens, ``_save``); principals are never mutated
        self._principals: dict[str, tuple[int, Principal]] = {}
        self._generation = 0
        if self.path.exists():
            self._tokens = {t["name"]: t for t in orjson.loads(self.path.read_bytes())["tokens"]}
        admin = self._tokens.get("admin token")
        if admin is None or (admin_token and admin["token"] != admin_token):
            self._tokens["admin token"] = {
                "id": (admin or {}).get("id") or str(uuid.uuid4()), "name": "admin token",
                "token": admin_token or new_token_value(), "description": "created at first start",
                "origin": {"type": "DS"}, "scopes": [{"type": ADMIN}]}
            self._save()
        self._by_value = {t["token"]: t for t in self._tokens.values()}

    @property
    def admin_token(self) -> str:
        return self._tokens["admin token"]["token"]

    def _save(self) -> None:
        try:
            atomic_write(self.path, orjson.dumps({"tokens": list(self._tokens.values())},
                                                 option=orjson.OPT_INDENT_2), mode=0o600)
            self._by_value = {t["token"]: t for t in self._tokens.values()}
        finally:            # every change of a token ends here: the principals built before are stale
            self._generation += 1

    # ---- static tokens

    def list(self) -> list[dict]:
        with self._lock:
            return [dict(t) for t in self._tokens.values()]

    def get(self, name: str) -> dict:
        with self._lock:
            token = self._tokens.get(name)
        if token is None:
            raise ApiError(404, f"Token '{name}' not found", DOC_TOKENS)
        return dict(token)

    def create(self, name: str, scopes: list[str], description: str = "") -> dict:
        parsed = [parse_scope(s) for s in scopes]
        if not name:
            raise ApiError(400, "Missing 'name' parameter for the new token", DOC_TOKENS)
        with self._lock:
            if name in self._tokens:
                raise ApiError(409, f"Token '{name}' already exists", DOC_TOKENS)
            token = {"id": str(uuid.uuid4()), "name": name, "token": new_token_value(),
                     "description": description, "origin": {"type": "C"},
                     "scopes": [s.to_json() for s in parsed]}
            self._tokens[name] = token
            self._save()
        return dict(token)

    def add_scopes(self, name: str, scopes: list[str]) -> dict:
        """Create the token if missing, else add the scopes (datafile ``TOKEN`` lines)."""
        parsed = [parse_scope(s).to_json() for s in scopes]
        with self._lock:
            token = self._tokens.get(name)
            if token is None:
                token = {"id": str(uuid.uuid4()), "name": name, "token": new_token_value(),
                         "description": "", "origin": {"type": "DS"}, "scopes": []}
                self._tokens[name] = token
            for s in parsed:
                if s not in token["scopes"]:
                    token["scopes"].append(s)
            self._save()
        return dict(token)

    def ensure_datafile_tokens(self, project) -> list[dict]:
        """The ``TOKEN name READ|APPEND`` lines of a project's datafiles as static tokens.

        ``project``: a ``sqlparse_ch.datafiles`` Project (``.datasources`` / ``.pipes`` dicts of
        objects with ``.tokens``). A data source's ``TOKEN t READ`` gives ``DATASOURCES:READ:ds``,
        ``APPEND`` gives ``DATASOURCES:APPEND:ds``; a pipe's ``TOKEN t READ`` gives ``PIPES:READ:p``.
        Token values are kept across restarts and reloads; a token that came only from datafiles
        (origin DF) gets exactly the scopes the project now declares, so deleting a TOKEN line revokes
        its scope. Tokens created through the API with the same name only gain scopes. Idempotent.
        Returns the datafile tokens."""
        wanted: dict[str, list[dict]] = {}
        for kind, items in (("DATASOURCES", getattr(project, "datasources", {}) or {}),
                            ("PIPES", getattr(project, "pipes", {}) or {})):
            for resource, item in items.items():
                for t in getattr(item, "tokens", ()) or ():
                    scope = parse_scope(f"{kind}:{t.permission}:{resource}").to_json()
                    scopes = wanted.setdefault(t.name, [])
                    if scope not in scopes:
                        scopes.append(scope)
        out = []
        with self._lock:
            changed = False
            for name, token in list(self._tokens.items()):    # revoke scopes dropped from datafiles
                if token.get("origin", {}).get("type") == "DF" and name not in wanted and token["scopes"]:
                    token["scopes"] = []
                    changed = True
            for name, scopes in wanted.items():
                token = self._tokens.get(name)
                if token is None:
                    token = {"id": str(uuid.uuid4()), "name": name, "token": new_token_value(),
                             "description": "from datafile TOKEN lines", "origin": {"type": "DF"},
                             "scopes": []}
                    self._tokens[name] = token
                    changed = True
                if token.get("origin", {}).get("type") == "DF":
                    if token["scopes"] != scopes:
                        token["scopes"] = list(scopes)
                        changed = True
                else:
                    for s in scopes:
                        if s not in token["scopes"] and name != "admin token":
                            token["scopes"].append(s)
                            changed = True
                out.append(dict(token))
            if changed:
                self._save()
        return out

    def update(self, name: str, scopes: list[str] | None = None, description: str | None = None,
               new_name: str | None = None) -> dict:
        """``PUT /v0/tokens/NAME``: replace the scopes (when given), the description, the name."""
        parsed = None if scopes is None else [parse_scope(x).to_json() for x in scopes]
        with self._lock:
            token = self._tokens.get(name)
            if token is None:
                raise ApiError(404, f"Token '{name}' not found", DOC_TOKENS)
            if name == "admin token" and (parsed is not None or new_name):
                raise ApiError(403, "The admin token's scopes and name cannot be changed", DOC_TOKENS)
            if new_name and new_name != name:
                if new_name in self._tokens:
                    raise ApiError(409, f"Token '{new_name}' already exists", DOC_TOKENS)
                self._tokens[new_name] = self._tokens.pop(name)
                token["name"] = new_name
            if parsed is not None:
                token["scopes"] = parsed
            if description is not None:
                token["description"] = description
            self._save()
            return dict(token)

    def refresh(self, name: str) -> dict:
        """``POST /v0/tokens/NAME/refresh``: a new secret value (the old one stops working at once).
        The admin token cannot be refreshed here: JWTs are signed with it, and it may be fixed by
        ``--admin-token``."""
        with self._lock:
            token = self._tokens.get(name)
            if token is None:
                raise ApiError(404, f"Token '{name}' not found", DOC_TOKENS)
            if name == "admin token":
                raise ApiError(403, "The admin token cannot be refreshed through the API: restart the server "
                                    "with another --admin-token", DOC_TOKENS)
            token["token"] = new_token_value()
            self._save()
            return dict(token)

    def delete(self, name: str) -> None:
        with self._lock:
            if name not in self._tokens:
                raise ApiError(404, f"Token '{name}' not found", DOC_TOKENS)
            if name == "admin token":
                raise ApiError(403, "The admin token cannot be deleted", DOC_TOKENS)
            del self._tokens[name]
            self._save()

    # ---- JWTs

    def sign_jwt(self, name: str, scopes: list[dict], expiration_time: int, limits: dict | None = None) -> str:
        import jwt

        parsed = [_scope_from_json(s) for s in scopes]
        if any(s.type == ADMIN for s in parsed):
            raise ApiError(400, "A JWT cannot carry the ADMIN scope: use the admin token itself", DOC_TOKENS)
        payload = {"workspace_id": "mergetree", "name": name, "exp": int(expiration_time),
                   "scopes": [{**s.to_json(), **({"fixed_params": s.fixed_params} if s.fixed_params else {})}
                              for s in parsed]}
        if limits:
            payload["limits"] = limits
        return jwt.encode(payload, self.admin_token, algorithm="HS256")

    # ---- authentication

    def authenticate(self, token: str | None) -> Principal:
        if not token:
            raise ApiError(403, "Missing token: pass it as 'Authorization: Bearer <token>' or '?token=<token>'",
                           DOC_TOKENS)
        generation = self._generation
        hit = self._principals.get(token)
        if hit is not None and hit[0] == generation:
            return hit[1]
        stored = self._by_value.get(token)
        if stored is not None:
            who = Principal(stored["name"], [_scope_from_json(s) for s in stored["scopes"]],
                            limits=stored.get("limits") or None, key=token)
            if len(self._principals) >= len(self._by_value) + 16:   # values of deleted/refreshed tokens
                self._principals.clear()
            self._principals[token] = (generation, who)
            return who
        if token.count(".") == 2 and token.startswith("ey"):
            return self._authenticate_jwt(token)
        raise ApiError(403, "Invalid token", DOC_TOKENS)

    #: verified JWTs kept (token -> (exp, Principal)): a dashboard sends the same JWT on every request,
    #: and signature checking + scope parsing cost ~100 us each time (the expiry is checked every time)
    JWT_CACHE_SIZE = 10_000

    def _authenticate_jwt(self, token: str) -> Principal:
        cache = self.__dict__.setdefault("_jwt_cache", {})
        hit = cache.get(token)
        if hit is not None:
            exp, who = hit
            if time.time() < exp:
                return who
            cache.pop(token, None)
        who, exp = self._verify_jwt(token)
        who.key = token
        if len(cache) >= self.JWT_CACHE_SIZE:
            cache.clear()
        cache[token] = (exp, who)
        return who

    def _verify_jwt(self, token: str) -> tuple[Principal, float]:
        import jwt

        try:
            payload = jwt.decode(token, self.admin_token, algorithms=["HS256"],
                                 options={"require": ["exp"]}, leeway=0)
        except jwt.ExpiredSignatureError:
            raise ApiError(403, "Invalid token: the JWT has expired", DOC_TOKENS) from None
        except jwt.InvalidTokenError as e:
            raise ApiError(403, f"Invalid token: {e}", DOC_TOKENS) from None
        scopes = payload.get("scopes")
        if not isinstance(scopes, list) or not all(isinstance(s, dict) for s in scopes):
            raise ApiError(403, "Invalid token: the JWT payload has no 'scopes' list", DOC_TOKENS)
        try:
            parsed = [_scope_from_json(s) for s in scopes]
        except ApiError as e:
            raise ApiError(403, f"Invalid token: {e.message}", DOC_TOKENS) from None
        if any(s.type == ADMIN for s in parsed):
            raise ApiError(403, "Invalid token: a JWT cannot carry the ADMIN scope", DOC_TOKENS)
        limits = payload.get("limits") if isinstance(payload.get("limits"), dict) else None
        return Principal(str(payload.get("name") or "jwt"), parsed, is_jwt=True, limits=limits), payload["exp"]


def request_token(request) -> str | None:
    """The credential of a request: ``Authorization: Bearer X`` first, else ``?token=X``."""
    header = request.headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    return request.query_params.get("token") or None


def now() -> int:
    return int(time.time())
