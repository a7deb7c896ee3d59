"""The Tinybird-compatible HTTP service (``mergetree serve``).

Modules, outermost first:

* ``app.py``: the ASGI app: ONE route table, thin views, CORS, body limit, error handling.
* ``auth.py``: tokens (static scoped tokens, the admin token, HS256 JWTs), scopes, row filters
  (``Principal.row_policies`` -> ``planner/row_policy.py``); ``tokens.py``: the Tokens API.
* ``ratelimit.py``: per-token rate limits (X-RateLimit-* headers, 429 + Retry-After).
* ``deploy.py``: ``POST /v0/datafiles`` (``mergetree push`` / ``deploy``, client in ``mergetree/client.py``).
* ``events.py``: the Events API (``POST /v0/events``) on top of ``wal.py``.
* ``wal.py``: write-ahead log with group commit, and the batching flusher that turns it into parts.
* ``datasources.py``: the Data Sources API and jobs.
* ``engine.py``: the one narrow interface to the database (run a statement, insert a block into
  a data source, describe a data source). Nothing else in this package touches storage.
* ``errors.py``: the one JSON error shape.
* ``cli_commands.py``: ``mergetree serve``.

``create_app`` is imported lazily so that ``import mergetree.server`` stays cheap.
"""

from __future__ import annotations


def create_app(*args, **kwargs):
    from mergetree.server.app import create_app as _create_app

    return _create_app(*args, **kwargs)
