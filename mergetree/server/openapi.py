"""``GET /v0/pipes/openapi.json``: an OpenAPI 3.0 document for the pipes a token can read.

One path per pipe and output format (``/pipes/NAME.json`` ...), its query parameters from the
template metadata (``String(x, default, required=, description=, example=, enum=, format=)``),
the JSON response schema of ClickHouse's JSON format, and both ways of passing the token.
"""

from __future__ import annotations

import re

_INT = re.compile(r"^U?Int(8|16|32|64|128|256)?$|^Integer$")


def param_schema(type_name: str, *, default=None, enum=None, fmt=None) -> dict:
    """A template parameter type -> JSON schema."""
    t = type_name
    if t.startswith("Array(") and t.endswith(")"):
        schema = {"type": "array", "items": param_schema(t[6:-1])}
    elif _INT.match(t):
        schema = {"type": "integer"}
        if t in ("Int32", "Int", "Integer"):
            schema["format"] = "int32"
        elif t == "Int64":
            schema["format"] = "int64"
        if t.startswith("UInt"):
            schema["minimum"] = 0
    elif t.startswith("Float"):
        schema = {"type": "number", "format": "float" if t == "Float32" else "double"}
    elif t == "Boolean":
        schema = {"type": "boolean"}
    elif t == "Date":
        schema = {"type": "string", "format": "date"}
    elif t.startswith("DateTime"):
        schema = {"type": "string", "format": "date-time"}
    else:
        schema = {"type": "string"}
    if fmt and "format" not in schema:
        schema["format"] = fmt
    if default is not None:
        schema["default"] = default
    if enum:
        schema["enum"] = list(enum)
    return schema


def _parameter(p) -> dict:
    out = {"in": "query", "name": p.name, "required": bool(p.required),
           "schema": param_schema(p.type, default=p.default, enum=p.enum, fmt=p.format)}
    if p.description:
        out["description"] = p.description
    if p.example is not None:
        out["example"] = p.example
    if p.type.startswith("Array("):
        out["style"] = "form"
        out["explode"] = False           # Tinybird's arrays: ?x=a,b (repeated keys work too)
    return out


_JSON_RESPONSE = {
    "type": "object",
    "properties": {
        "meta": {"type": "array", "items": {"type": "object", "properties": {
            "name": {"type": "string"}, "type": {"type": "string"}}}},
        "data": {"type": "array", "items": {"type": "object"}},
        "rows": {"type": "integer"},
        "rows_before_limit_at_least": {"type": "integer"},
        "statistics": {"type": "object", "properties": {
            "elapsed": {"type": "number"}, "rows_read": {"type": "integer"},
            "bytes_read": {"type": "integer"}}},
    },
}
_ERROR = {"type": "object", "properties": {"error": {"type": "string"}, "documentation": {"type": "string"}}}
_MEDIA = {"json": "application/json", "csv": "text/csv", "ndjson": "application/x-ndjson",
          "parquet": "application/octet-stream"}


def openapi_document(pipes, server_url: str = "http://127.0.0.1:7181") -> dict:
    paths = {}
    for pipe in pipes:
        params = [_parameter(p) for p in pipe.parameters()]
        params.append({"in": "query", "name": "q", "required": False,
                       "description": "SQL over the pipe's result, which is the table '_'",
                       "schema": {"type": "string"}})
        for ext, media in _MEDIA.items():
            schema = _JSON_RESPONSE if ext == "json" else {"type": "string",
                                                           **({"format": "binary"} if ext == "parquet" else {})}
            paths[f"/pipes/{pipe.name}.{ext}"] = {"get": {
                "summary": (pipe.description or pipe.name).strip().splitlines()[0],
                "description": (pipe.description or "").strip(),
                "operationId": f"{pipe.name}_{ext}",
                "parameters": params,
                "responses": {
                    "200": {"description": f"The result of the pipe '{pipe.name}'",
                            "content": {media: {"schema": schema}}},
                    "400": {"description": "Bad parameter, template or SQL error",
                            "content": {"application/json": {"schema": _ERROR}}},
                    "403": {"description": "Missing or insufficient token",
                            "content": {"application/json": {"schema": _ERROR}}},
                },
            }}
    return {
        "openapi": "3.0.0",
        "info": {"title": "mergetree API endpoints", "version": "0.1.0",
                 "description": "The pipes published by this mergetree server (Tinybird-compatible)."},
        "servers": [{"url": server_url.rstrip("/") + "/v0"}],
        "paths": paths,
        "components": {"securitySchemes": {
            "TokenHeader": {"type": "http", "scheme": "bearer"},
            "TokenQuery": {"type": "apiKey", "in": "query", "name": "token"}}},
        "security": [{"TokenHeader": []}, {"TokenQuery": []}],
    }
