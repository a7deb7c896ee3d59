"""The one JSON error shape of the HTTP API: ``{"error": message, "documentation": url}``.

Views raise :class:`ApiError`; ``app.py`` turns it (and every other failure) into
:func:`error_response`. Tinybird's clients read ``error`` (zod-bird, verdin) and sometimes
``documentation``; nothing else is promised.
"""

from __future__ import annotations

import orjson
from starlette.responses import Response

DOCS = "https://www.tinybird.co/docs/api-reference"
DOC_EVENTS = f"{DOCS}/events-api"
DOC_DATASOURCES = f"{DOCS}/datasource-api"
DOC_QUERY = f"{DOCS}/query-api"
DOC_TOKENS = f"{DOCS}/token-api"
DOC_JOBS = f"{DOCS}/jobs-api"
DOC_OVERVIEW = f"{DOCS}/overview"


class ApiError(Exception):
    """An error to report to the client with an HTTP status (4xx; 5xx only for our own faults)."""

    def __init__(self, status: int, message: str, documentation: str = DOC_OVERVIEW,
                 headers: dict | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.documentation = documentation
        self.headers = headers or {}


def error_body(message: str, documentation: str = DOC_OVERVIEW) -> dict:
    return {"error": message, "documentation": documentation}


def error_response(status: int, message: str, documentation: str = DOC_OVERVIEW,
                   headers: dict | None = None) -> Response:
    return Response(orjson.dumps(error_body(message, documentation)), status_code=status,
                    media_type="application/json", headers=headers)
