"""Tokens API: ``GET|POST /v0/tokens``, ``GET|PUT|DELETE /v0/tokens/NAME``, ``POST /v0/tokens/NAME/refresh``."""

from __future__ import annotations

import orjson
from starlette.requests import Request
from starlette.responses import Response

from mergetree.server.errors import DOC_TOKENS, ApiError
from mergetree.server.http import json_response, principal, read_body, service


def _may_manage(request: Request) -> None:
    who = principal(request)
    if not (who.is_admin or who.allows("TOKENS")):
        raise ApiError(403, "Forbidden: managing tokens needs a token with the ADMIN or TOKENS scope", DOC_TOKENS)


async def list_tokens(request: Request):
    _may_manage(request)
    return json_response({"tokens": service(request).tokens.list()})


async def get_token(request: Request):
    _may_manage(request)
    return json_response(service(request).tokens.get(request.path_params["name"]))


async def create_token(request: Request):
    """Static token (``?name=&scope=A&scope=B``) or, with ``expiration_time``, a JWT from a JSON body."""
    _may_manage(request)
    store = service(request).tokens
    q = request.query_params
    if q.get("expiration_time"):
        try:
            exp = int(q["expiration_time"])
        except ValueError:
            raise ApiError(400, "'expiration_time' must be a Unix timestamp in seconds", DOC_TOKENS) from None
        try:
            body = orjson.loads(await read_body(request) or b"{}")
        except orjson.JSONDecodeError as e:
            raise ApiError(400, f"Invalid JSON body: {e}", DOC_TOKENS) from None
        if not isinstance(body, dict) or not isinstance(body.get("scopes"), list):
            raise ApiError(400, "A JWT needs a JSON body {name, scopes: [{type, resource, ...}]}", DOC_TOKENS)
        token = store.sign_jwt(str(body.get("name") or q.get("name") or "jwt"), body["scopes"], exp,
                               body.get("limits"))
        return json_response({"token": token})
    scopes = q.getlist("scope")
    return json_response(store.create(q.get("name", ""), scopes, q.get("description", "")))


async def delete_token(request: Request):
    _may_manage(request)
    service(request).tokens.delete(request.path_params["name"])
    return Response(status_code=204)


async def update_token(request: Request):
    """``PUT /v0/tokens/NAME?scope=A&scope=B&description=..&name=NEW`` (scopes replaced when given)."""
    _may_manage(request)
    q = request.query_params
    scopes = q.getlist("scope") if "scope" in q else None
    token = service(request).tokens.update(request.path_params["name"], scopes, q.get("description"),
                                           q.get("name"))
    return json_response(token)


async def refresh_token(request: Request):
    _may_manage(request)
    return json_response(service(request).tokens.refresh(request.path_params["name"]))
