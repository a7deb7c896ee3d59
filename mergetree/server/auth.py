"""Tokens: who may do what.

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
            # DATASOURCES:READ:ds also covers ds_quarantine (as in Tinybird)
            if kind == "DATASOURCES:READ" and resource == f"{s.resource}_quarantine":
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


def new_token_value() -> str:
    return "p." + secrets.token_urlsafe(32)


class TokenStore:
    """Static tokens persisted in ``tokens.json`` (atomic rewrite on every change)."""

    def __init__(self, path: Path, admin_token: str | None = None):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._tokens: dict[str, dict] = {}
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
        atomic_write(self.path, orjson.dumps({"tokens": list(self._tokens.values())}, option=orjson.OPT_INDENT_2),
                     mode=0o600)
        self._by_value = {t["token"]: t for t in self._tokens.values()}

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
        stored = self._by_value.get(token)
        if stored is not None:
            return Principal(stored["name"], [_scope_from_json(s) for s in stored["scopes"]])
        if token.count(".") == 2 and token.startswith("ey"):
            return self._authenticate_jwt(token)
        raise ApiError(403, "Invalid token", DOC_TOKENS)

    def _authenticate_jwt(self, token: str) -> Principal:
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
        return Principal(str(payload.get("name") or "jwt"), parsed, is_jwt=True)


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
