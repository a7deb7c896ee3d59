"""Tinybird's service data sources: ``tinybird.pipe_stats_rt``, ``tinybird.pipe_stats``,
``tinybird.endpoint_errors`` and ``tinybird.datasources_ops_log``, read-only tables about the
service's own use.

* ``tinybird.pipe_stats_rt``: one row per endpoint request (``GET|POST /v0/pipes/NAME.fmt``),
  errors included (status 400/403/...), and per Query API request (``/v0/sql``: pipe_id and
  pipe_name ``query_api``) except those reading the service data sources. TTL 7 days, as in Tinybird.
* ``tinybird.pipe_stats``: the same requests aggregated per day and pipe (a materialized view over
  pipe_stats_rt into an AggregatingMergeTree: ``sum(view_count)``, ``avgMerge(avg_duration_state)``,
  ``quantilesTimingMerge(0.9, 0.95, 0.99)(quantile_timing_state)``).
* ``tinybird.endpoint_errors``: the endpoint requests answered with an error (4xx/5xx): parameters as
  JSON, status code and the error message. TTL 30 days.
* ``tinybird.datasources_ops_log``: one row per data operation: Events API flushes (``append-hfi``,
  one row per data source per flush), ``/v0/datasources`` ``create``, ``append``, ``replace``,
  ``truncate``, ``delete`` (DROP) and ``delete_data`` (rows by ``delete_condition``), url imports
  (``datasources._import_url``). Not logged yet: ALTER / rename / exchange (schema.py), copy pipes and
  materialized view populates. TTL 30 days (our choice; Tinybird does not document one).

Recording is off the request's critical path: a request appends one tuple to a ``deque`` (a few
microseconds: what the request already knows, nothing formatted); a background thread turns the
tuples into column lists and inserts them as one block per table through
``Engine.insert_service_block`` (normal parts; merges and the TTL do the rest). When: a row is
written once it is ``interval`` old (1 s), but each kind (requests: pipe_stats_rt + endpoint_errors
+ the pipe_stats view; data operations: datasources_ops_log) gets at most one write per
``busy_interval`` (``BUSY_INTERVAL``, 5 s). So a request after a quiet spell is visible after ~1 s,
and under load after at most ~5 s (ClickHouse flushes its system log tables every 7.5 s), in one
part per 5 s instead of one per second: every part costs ~100 files written and fsynced, then read,
rewritten and deleted by merges, whatever its row count (16 clients, 400-550 req/s, live server: the
writer, encoding and merge threads took 0.2-0.3 ms CPU per request at one part per second, 0.07-0.10
at one per 5 s; with no writes at all recording costs nothing measurable, the request's part being one
tuple). ``flush()`` writes everything now (tests, close).
``MERGETREE_SERVICE_DATASOURCES=0`` turns it off (no tables are created then).

Storage: table ``tinybird__X`` is ``tinybird.X`` (``planner._source`` maps the name). They are not
data sources: ``Engine.exists`` says no, so ``/v0/datasources`` does not list them and no client can
append to, replace, truncate or drop them (404), and the Events API refuses them. Reading them needs
the ADMIN scope through ``/v0/sql`` (``auth.authorize_read``); an endpoint whose nodes read them is
readable with its own ``PIPES:READ`` scope, as any pipe.

Columns we cannot fill truthfully are kept (for queries written against Tinybird) and documented:
``release`` (no releases: ''), ``resource_tags`` ([]), ``cpu_time`` (0: not measured per request),
``pipe_stats_rt.parameters`` holds the parameters the endpoint read (query string and POST body, repeated
keys joined with ','), never ``token``; ``url`` is path + query string (no host, as Tinybird's);
``datasources_ops_log.blocks_ids`` ([]), ``Options`` (two arrays ``Options.Names``/``Options.Values``
as Tinybird's Nested column: here empty), ``read_rows``/``read_bytes`` (0, except ``read_bytes`` = the
body size of an append/replace).
"""

from __future__ import annotations

import collections
import itertools
import logging
import os
import threading
import time
import uuid
from urllib.parse import parse_qsl, urlencode

import orjson

log = logging.getLogger("mergetree.server.service_ds")

#: table name prefix of the service data sources (``tinybird.X`` is table ``tinybird__X``)
PREFIX = "tinybird__"
PIPE_STATS_RT = PREFIX + "pipe_stats_rt"
PIPE_STATS = PREFIX + "pipe_stats"
OPS_LOG = PREFIX + "datasources_ops_log"
ENDPOINT_ERRORS = PREFIX + "endpoint_errors"
#: pipe_id and pipe_name of a Query API (/v0/sql) request in pipe_stats_rt, as in Tinybird
QUERY_API = "query_api"
#: under load, each service table gets at most one part per this many seconds (see ServiceSources)
BUSY_INTERVAL = 5.0

#: (name, type) per column, Tinybird's documented columns and types
PIPE_STATS_RT_SCHEMA = [
    ("start_datetime", "DateTime"), ("pipe_id", "String"), ("pipe_name", "String"),
    ("duration", "Float32"), ("read_bytes", "UInt64"), ("read_rows", "UInt64"), ("result_rows", "UInt64"),
    ("url", "Nullable(String)"), ("error", "UInt8"), ("request_id", "String"), ("token", "String"),
    ("token_name", "String"), ("status_code", "Int32"), ("method", "String"),
    ("parameters", "Map(String, String)"), ("release", "String"), ("user_agent", "Nullable(String)"),
    ("resource_tags", "Array(String)"), ("cpu_time", "Float32"),
]
OPS_LOG_SCHEMA = [
    ("timestamp", "DateTime"), ("event_type", "String"), ("datasource_id", "String"),
    ("datasource_name", "String"), ("result", "String"), ("elapsed_time", "Float32"),
    ("error", "Nullable(String)"), ("request_id", "String"), ("import_id", "Nullable(String)"),
    ("job_id", "Nullable(String)"), ("rows", "Nullable(UInt64)"), ("rows_quarantine", "Nullable(UInt64)"),
    ("blocks_ids", "Array(String)"), ("Options.Names", "Array(String)"), ("Options.Values", "Array(String)"),
    ("read_rows", "UInt64"), ("read_bytes", "UInt64"), ("written_rows", "UInt64"), ("written_bytes", "UInt64"),
    ("written_rows_quarantine", "UInt64"), ("written_bytes_quarantine", "UInt64"), ("operation_id", "String"),
    ("release", "String"), ("resource_tags", "Array(String)"), ("cpu_time", "Float32"),
]
ENDPOINT_ERRORS_SCHEMA = [
    ("start_datetime", "DateTime"), ("request_id", "String"), ("pipe_id", "String"), ("pipe_name", "String"),
    ("params", "Nullable(String)"), ("url", "Nullable(String)"), ("status_code", "Nullable(Int32)"),
    ("error", "Nullable(String)"),
]
PIPE_STATS_SCHEMA = [
    ("date", "Date"), ("pipe_id", "String"), ("pipe_name", "String"), ("view_count", "UInt64"),
    ("error_count", "UInt64"), ("avg_duration_state", "AggregateFunction(avg, Float32)"),
    ("quantile_timing_state", "AggregateFunction(quantilesTiming(0.9, 0.95, 0.99), Float64)"),
    ("read_bytes_sum", "UInt64"), ("read_rows_sum", "UInt64"), ("resource_tags", "Array(String)"),
]
#: name -> (schema, ORDER BY, PARTITION BY, TTL, engine)
TABLES = {
    PIPE_STATS_RT: (PIPE_STATS_RT_SCHEMA, "(pipe_name, start_datetime)", "toYYYYMM(start_datetime)",
                    "start_datetime + INTERVAL 7 DAY", "MergeTree"),
    OPS_LOG: (OPS_LOG_SCHEMA, "(datasource_name, timestamp)", "toYYYYMM(timestamp)",
              "timestamp + INTERVAL 30 DAY", "MergeTree"),
    ENDPOINT_ERRORS: (ENDPOINT_ERRORS_SCHEMA, "(pipe_name, start_datetime)", "toYYYYMM(start_datetime)",
                      "start_datetime + INTERVAL 30 DAY", "MergeTree"),
}
PIPE_STATS_VIEW = PREFIX + "pipe_stats_mv"
PIPE_STATS_SELECT = (
    f"SELECT toDate(start_datetime) AS date, pipe_id, pipe_name, count() AS view_count, "
    f"countIf(error = 1) AS error_count, avgState(duration) AS avg_duration_state, "
    f"quantilesTimingState(0.9, 0.95, 0.99)(round(toFloat64(duration) * 1000)) AS quantile_timing_state, "
    f"sum(read_bytes) AS read_bytes_sum, sum(read_rows) AS read_rows_sum, resource_tags "
    f"FROM {PIPE_STATS_RT} GROUP BY date, pipe_id, pipe_name, resource_tags")


def enabled_by_env() -> bool:
    return os.environ.get("MERGETREE_SERVICE_DATASOURCES", "1").strip().lower() not in ("0", "false", "off", "no")


# --------------------------------------------------------------------------- request ids

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _crockford(v: int, n: int) -> str:
    out = []
    for _ in range(n):
        out.append(_CROCKFORD[v & 31])
        v >>= 5
    return "".join(reversed(out))


#: 9 random characters per process (45 bits), then a 7-digit counter: a ULID's 80 "random" bits
_PROCESS_PART = _crockford(uuid.uuid4().int, 9)
_counter = itertools.count()
_last_ms = [-1, ""]


def new_request_id(ms: int) -> str:
    """A ULID (26 Crockford base32 characters: 48 bits of milliseconds, then 80 bits that are unique
    per process: a random part and a counter). ~0.5 us: the time part is encoded once per ms."""
    last = _last_ms
    if last[0] != ms:
        last[1] = _crockford(ms, 10)
        last[0] = ms
    return f"{last[1]}{_PROCESS_PART}{next(_counter) % 10_000_000:07d}"


# --------------------------------------------------------------------------- the recorder


class ServiceSources:
    """Buffers of rows for the service data sources and the thread that writes them."""

    def __init__(self, engine, *, enabled: bool | None = None, interval: float = 1.0,
                 busy_interval: float = BUSY_INTERVAL, tokens=None, pipes=None):
        self.engine = engine
        self.enabled = enabled_by_env() if enabled is None else enabled
        self.interval = interval                # a row waits this long after a quiet spell
        self.busy_interval = max(busy_interval, interval)   # and at most this long under load
        self._last_flush = {"requests": 0.0, "ops": 0.0}     # wall time of each kind's last write
        self.tokens = tokens            # TokenStore: token ids by name
        self.pipes = pipes              # PipeRegistry: pipe ids
        self._requests: collections.deque = collections.deque()
        self._ds_ids: dict[str, str] = {}       # data source name -> id, for datasources_ops_log
        self._ops: collections.deque = collections.deque()
        self._stop = threading.Event()
        self._flush_lock = threading.Lock()
        self._thread = None
        self.dropped = 0
        self._ready = False         # tables created (by the writer thread: ~1 s of imports and kernel
        #                             loading the first time in a process, kept off the server's start)
        if self.enabled:
            self._thread = threading.Thread(target=self._run, name="service-datasources", daemon=True)
            self._thread.start()

    def _ensure(self) -> bool:
        """Create the tables once (under ``_flush_lock``); a failure is logged and turns recording off."""
        if not self._ready and self.enabled:
            try:
                self._ensure_tables()
                self._ready = True
            except Exception:  # noqa: BLE001 - observability must never take the server down
                log.exception("the service data sources (tinybird.*) could not be created; not recording")
                self.enabled = False
        return self._ready

    def _ensure_tables(self) -> None:
        for name, (schema, order_by, partition_by, ttl, engine) in TABLES.items():
            self.engine.create_service_table(name, ", ".join(f"`{c}` {t}" for c, t in schema),
                                             order_by=order_by, partition_by=partition_by, ttl=ttl, engine=engine)
        try:
            self.engine.create_service_view(PIPE_STATS_VIEW, PIPE_STATS,
                                            ", ".join(f"`{c}` {t}" for c, t in PIPE_STATS_SCHEMA),
                                            order_by="(pipe_name, date)", partition_by="toYYYYMM(date)",
                                            select=PIPE_STATS_SELECT)
        except Exception:  # noqa: BLE001 - the daily aggregate is optional; pipe_stats_rt still works
            log.exception("tinybird.pipe_stats not available")

    # ---- hot path: append a tuple, nothing else

    def request(self, entry: tuple) -> None:
        """One endpoint request: (wall start, seconds, pipe name, status, stats, scope, request_id, error body)."""
        self._requests.append(entry)

    def op(self, event_type: str, datasource: str, *, elapsed: float = 0.0, rows: int | None = None,
           rows_quarantine: int | None = None, error: str | None = None, import_id: str | None = None,
           job_id: str | None = None, read_bytes: int = 0, written_bytes: int = 0,
           written_bytes_quarantine: int = 0) -> None:
        """One data operation on ``datasource`` (``result`` is 'error' when ``error`` is given)."""
        if not self.enabled or datasource.startswith(PREFIX):
            return
        self._ops.append((time.time(), event_type, datasource, elapsed, rows, rows_quarantine, error,
                          import_id, job_id, read_bytes, written_bytes, written_bytes_quarantine))

    def flushed(self, table: str, block, elapsed: float) -> None:
        """The Events API flusher committed ``block`` into ``table`` (a data source or its quarantine)."""
        from mergetree.server.engine import QUARANTINE_SUFFIX

        try:                # runs inside the flusher's commit loop: must never raise there
            n = block.num_rows
            nbytes = _block_bytes(block)
            if table.endswith(QUARANTINE_SUFFIX) and self.engine.exists(table[:-len(QUARANTINE_SUFFIX)]):
                self.op("append-hfi", table[:-len(QUARANTINE_SUFFIX)], elapsed=elapsed, rows=0, rows_quarantine=n,
                        written_bytes_quarantine=nbytes)
            else:
                self.op("append-hfi", table, elapsed=elapsed, rows=n, rows_quarantine=0, written_bytes=nbytes)
        except Exception:  # noqa: BLE001
            log.exception("tinybird.datasources_ops_log: could not log a flush into %s", table)

    # ---- background

    def _run(self) -> None:
        with self._flush_lock:
            self._ensure()
        timeout = self.interval
        while not self._stop.wait(timeout):
            try:
                timeout = self._flush_due(time.time())
            except Exception:  # noqa: BLE001 - observability must never take the server down
                log.exception("writing the service data sources failed")
                timeout = self.interval

    def _due(self, kind: str, q: collections.deque, now: float) -> float | None:
        """When ``kind``'s buffered rows are to be written (wall time), None when there are none: once
        the oldest is ``interval`` old, but not sooner than ``busy_interval`` after the previous write."""
        try:
            oldest = min(q[0][0], now)      # (a clock set back: never wait longer than the policy says)
        except IndexError:
            return None
        last = self._last_flush[kind]
        if last > now:                      # the clock went back
            last = now - self.busy_interval
        return max(oldest + self.interval, last + self.busy_interval)

    def _flush_due(self, now: float) -> float:
        """Write each kind whose time has come; returns the seconds until the next check."""
        wait = self.interval
        for kind, q in (("requests", self._requests), ("ops", self._ops)):
            due = self._due(kind, q, now)
            if due is None:
                continue
            if due <= now:
                self._flush_kind(kind)
            else:
                wait = min(wait, due - now)
        return max(wait, 0.01)

    def flush(self) -> int:
        """Write everything buffered now (tests, close). Returns rows written."""
        return self._flush_kind("requests") + self._flush_kind("ops")

    def _flush_kind(self, kind: str) -> int:
        if not self.enabled:
            return 0
        with self._flush_lock:
            if not self._ensure():
                return 0
            if kind == "requests":
                reqs = _drain(self._requests)
                if reqs:
                    self._last_flush[kind] = time.time()
                    cols = self._request_columns(reqs)
                    self.engine.insert_service_block(PIPE_STATS_RT, cols)
                    errors = self._error_columns(reqs, cols)
                    if errors is not None:
                        self.engine.insert_service_block(ENDPOINT_ERRORS, errors)
                return len(reqs)
            ops = _drain(self._ops)
            if ops:
                self._last_flush[kind] = time.time()
                self.engine.insert_service_block(OPS_LOG, self._op_columns(ops))
            return len(ops)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        try:
            self.flush()
        except Exception:  # noqa: BLE001
            log.exception("writing the service data sources at close failed")

    # ---- rows

    def _token_id(self, name: str) -> str:
        if not name or self.tokens is None:
            return ""
        try:
            return self.tokens.get(name).get("id", "")
        except Exception:  # noqa: BLE001 - a JWT's name, a deleted token
            return ""

    def _pipe_id(self, name: str) -> str:
        if name == QUERY_API:
            return QUERY_API
        return f"t_{name}"             # the id GET /v0/pipes/NAME answers (pipes.pipe_info)

    def _request_columns(self, reqs: list) -> dict:
        cols: dict[str, list] = {c: [] for c, _ in PIPE_STATS_RT_SCHEMA}
        queries: dict[bytes, tuple] = {}        # a dashboard repeats its query strings
        token_ids: dict[str, str] = {}
        for wall, seconds, pipe_name, status, stats, scope, request_id, _ in reqs:
            qs = scope.get("query_string", b"")
            parsed = queries.get(qs)
            if parsed is None:
                pairs = [(k, v) for k, v in parse_qsl(qs.decode("latin-1"), keep_blank_values=True) if k != "token"]
                suffix = urlencode(pairs) if b"token" in qs else qs.decode("latin-1")    # as sent, minus the token
                parsed = queries[qs] = ("?" + suffix if suffix else "", dict(pairs))
            state = scope.get("state") or {}
            who = state.get("principal")
            token_name = getattr(who, "name", "") or ""
            headers = dict(scope.get("headers") or ())
            url = scope.get("path", "") + parsed[0]     # path + query, no host: Tinybird's CLI prepends its host
            body_params = scope.get("mt.params")         # the endpoint's parameters: query string + POST body
            params = parsed[1] if body_params is None else _text_params(body_params)
            ua = headers.get(b"user-agent")
            rows_read, bytes_read, result_rows = stats if stats is not None else (0, 0, 0)
            cols["start_datetime"].append(int(wall))
            cols["pipe_id"].append(self._pipe_id(pipe_name))
            cols["pipe_name"].append(pipe_name)
            cols["duration"].append(seconds)
            cols["read_bytes"].append(int(bytes_read))
            cols["read_rows"].append(int(rows_read))
            cols["result_rows"].append(int(result_rows))
            cols["url"].append(url)
            cols["error"].append(0 if status < 400 else 1)
            cols["request_id"].append(request_id)
            tid = token_ids.get(token_name)
            if tid is None:
                tid = token_ids[token_name] = self._token_id(token_name)
            cols["token"].append(tid)
            cols["token_name"].append(token_name)
            cols["status_code"].append(status)
            cols["method"].append(scope.get("method", ""))
            cols["parameters"].append(params)
            cols["release"].append("")
            cols["user_agent"].append(ua.decode("latin-1") if ua is not None else None)
            cols["resource_tags"].append([])
            cols["cpu_time"].append(0.0)
        return cols

    def _error_columns(self, reqs: list, cols: dict) -> dict | None:
        """tinybird.endpoint_errors: the endpoint requests (not /v0/sql) answered 4xx/5xx, with the error."""
        rows = [i for i, r in enumerate(reqs) if r[3] >= 400 and r[2] != QUERY_API]
        if not rows:
            return None
        out: dict[str, list] = {c: [] for c, _ in ENDPOINT_ERRORS_SCHEMA}
        for i in rows:
            body = reqs[i][7]
            try:
                message = orjson.loads(body).get("error") if body else None
            except (orjson.JSONDecodeError, AttributeError):
                message = None
            params = cols["parameters"][i]
            out["start_datetime"].append(cols["start_datetime"][i])
            out["request_id"].append(cols["request_id"][i])
            out["pipe_id"].append(cols["pipe_id"][i])
            out["pipe_name"].append(cols["pipe_name"][i])
            out["params"].append(orjson.dumps(params).decode() if params else None)
            out["url"].append(cols["url"][i])
            out["status_code"].append(cols["status_code"][i])
            out["error"].append(None if message is None else str(message))
        return out

    def _op_columns(self, ops: list) -> dict:
        cols: dict[str, list] = {c: [] for c, _ in OPS_LOG_SCHEMA}
        ids = self._ds_ids          # kept across batches: a dropped data source's row keeps its id
        for (ts, event_type, ds, elapsed, rows, rows_q, error, import_id, job_id, read_bytes, written_bytes,
             written_bytes_q) in ops:
            if ds not in ids or event_type == "create" or not ids[ds]:
                try:
                    ids[ds] = self.engine.describe(ds)["id"] if self.engine.exists(ds) else ids.get(ds, "")
                except Exception:  # noqa: BLE001 - dropped meanwhile
                    ids.setdefault(ds, "")
            cols["timestamp"].append(int(ts))
            cols["event_type"].append(event_type)
            cols["datasource_id"].append(ids[ds])
            cols["datasource_name"].append(ds)
            cols["result"].append("error" if error else "ok")
            cols["elapsed_time"].append(float(elapsed))
            cols["error"].append(error)
            cols["request_id"].append(import_id or job_id or "")
            cols["import_id"].append(import_id)
            cols["job_id"].append(job_id)
            cols["rows"].append(rows)
            cols["rows_quarantine"].append(rows_q)
            cols["blocks_ids"].append([])
            cols["Options.Names"].append([])
            cols["Options.Values"].append([])
            cols["read_rows"].append(0)
            cols["read_bytes"].append(int(read_bytes))
            cols["written_rows"].append(int(rows or 0))
            cols["written_bytes"].append(int(written_bytes))
            cols["written_rows_quarantine"].append(int(rows_q or 0))
            cols["written_bytes_quarantine"].append(int(written_bytes_q))
            cols["operation_id"].append(job_id or import_id or "")
            cols["release"].append("")
            cols["resource_tags"].append([])
            cols["cpu_time"].append(0.0)
        return cols


def _text_params(params: dict) -> dict:
    """Request parameters as Map(String, String): repeated keys joined with ',', never the token."""
    return {str(k): (",".join(map(str, v)) if isinstance(v, (list, tuple)) else str(v))
            for k, v in params.items() if k not in ("token", "__q__")}


def _drain(q: collections.deque) -> list:
    out = []
    try:
        while True:
            out.append(q.popleft())
    except IndexError:
        return out


def _block_bytes(block) -> int:
    try:
        return int(sum(block[name].nbytes for name in block.columns))
    except Exception:  # noqa: BLE001 - a column kind without nbytes
        return 0


# --------------------------------------------------------------------------- hooks


def of(svc):
    """The service's recorder, or None (off, or a Service without one)."""
    rec = getattr(svc, "service_ds", None)
    return rec if rec is not None and rec.enabled else None


def log_op(svc, event_type: str, datasource: str, **kw) -> None:
    """Hook for the Data Sources API (datasources.py): one row of tinybird.datasources_ops_log."""
    rec = of(svc)
    if rec is not None:
        rec.op(event_type, datasource, **kw)


def record_pipe_request(request, response, wall: float, started: float) -> None:
    """Hook of ``app._endpoint`` around ``GET|POST /v0/pipes/NAME.fmt``: append one tuple (the
    formatting happens on the writer thread) and give the response its ``x-request-id``."""
    from mergetree.server.http import service

    svc = service(request)
    rec = of(svc)
    if rec is None:
        return
    scope = request.scope
    if "mt.no_stats" in scope:         # a query of the service data sources themselves (not logged)
        return
    path_params = scope.get("path_params")
    if path_params:
        name = path_params.get("name", "")
        if name not in svc.pipes:      # an unknown pipe: nothing to attribute the request to
            return
    else:
        name = QUERY_API               # /v0/sql, as Tinybird logs it
    request_id = new_request_id(int(wall * 1000))
    response.raw_headers.append((b"x-request-id", request_id.encode()))     # (headers[k] = v scans: 3 us)
    status = response.status_code
    rec.request((wall, time.perf_counter() - started, name, status, scope.get("mt.pipe_stats"), scope, request_id,
                 response.body if status >= 400 else None))


def set_result_stats(request, result) -> None:
    """Hook of ``pipes.pipe_data``: what the pipe's query read and returned."""
    st = result.statistics
    request.scope["mt.pipe_stats"] = (st.get("rows_read", 0), st.get("bytes_read", 0), result.num_rows)
