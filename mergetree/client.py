"""A small HTTP client for a running ``mergetree serve`` (or any Tinybird-compatible host), and the
CLI commands built on it: ``push``, ``deploy``, ``append``, ``pipe call``, ``token ls|create`` and
``sql --host``.

Standard library only (urllib), so the ``mergetree`` command stays light. The host and token come
from ``--host`` / ``--token``, else ``$MERGETREE_HOST`` / ``$MERGETREE_TOKEN`` (``$TB_HOST`` /
``$TB_TOKEN`` as Tinybird's tools use), else ``http://127.0.0.1:7181``.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

DEFAULT_HOST = "http://127.0.0.1:7181"
#: bytes per append request (under the server's default 10 MiB body limit)
CHUNK_BYTES = 4 * 1024 * 1024


class ClientError(Exception):
    """An HTTP error answer: ``status`` and the server's ``error`` text."""

    def __init__(self, status: int, message: str):
        super().__init__(f"HTTP {status}: {message}")
        self.status = status
        self.message = message


class Client:
    def __init__(self, host: str | None = None, token: str | None = None, timeout: float = 60.0):
        host = host or os.environ.get("MERGETREE_HOST") or os.environ.get("TB_HOST") or DEFAULT_HOST
        if "://" not in host:
            host = "http://" + host
        self.host = host.rstrip("/")
        self.token = token or os.environ.get("MERGETREE_TOKEN") or os.environ.get("TB_TOKEN")
        self.timeout = timeout

    # ---- transport

    def request(self, method: str, path: str, params=None, body: bytes | None = None,
                headers: dict | None = None) -> tuple[int, dict, bytes]:
        url = self.host + path
        if params:
            url += "?" + urllib.parse.urlencode(params, doseq=True)
        h = dict(headers or {})
        if self.token:
            h["Authorization"] = f"Bearer {self.token}"
        req = urllib.request.Request(url, data=body, method=method, headers=h)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                return resp.status, dict(resp.headers), resp.read()
        except urllib.error.HTTPError as e:
            data = e.read()
            try:
                message = json.loads(data)["error"]
            except (ValueError, KeyError, TypeError):
                message = data.decode("utf-8", "replace")[:500] or e.reason
            raise ClientError(e.code, message) from None
        except urllib.error.URLError as e:
            raise ClientError(0, f"cannot reach {self.host}: {e.reason}") from None

    def json(self, method: str, path: str, params=None, body=None, headers=None):
        return json.loads(self.request(method, path, params, body, headers)[2] or b"null")

    # ---- API

    def sql(self, query: str, fmt: str | None = None) -> bytes:
        params = {"format": fmt} if fmt else None
        return self.request("POST", "/v0/sql", params, query.encode(), {"Content-Type": "text/plain"})[2]

    def pipe(self, name: str, params: dict | None = None, fmt: str = "json") -> bytes:
        return self.request("GET", f"/v0/pipes/{urllib.parse.quote(name)}.{fmt}", params or {})[2]

    def append(self, datasource: str, data: bytes, fmt: str, mode: str = "append",
               replace_condition: str | None = None) -> dict:
        params = {"name": datasource, "mode": mode, "format": fmt}
        if replace_condition:
            params["replace_condition"] = replace_condition
        ctype = {"ndjson": "application/x-ndjson", "parquet": "application/vnd.apache.parquet"}.get(fmt, "text/csv")
        return self.json("POST", "/v0/datasources", params, data, {"Content-Type": ctype})

    def push(self, files: dict[str, str], mode: str = "push", dry_run: bool = False) -> dict:
        params = {"mode": mode, **({"dry_run": "true"} if dry_run else {})}
        return self.json("POST", "/v0/datafiles", params, json.dumps({"files": files}).encode(),
                         {"Content-Type": "application/json"})

    def tokens(self) -> list[dict]:
        return self.json("GET", "/v0/tokens")["tokens"]

    def create_token(self, name: str, scopes: list[str], description: str = "") -> dict:
        params = [("name", name), ("description", description)] + [("scope", s) for s in scopes]
        return self.json("POST", "/v0/tokens", params)

    def create_jwt(self, name: str, scopes: list[dict], expiration_time: int, limits: dict | None = None) -> str:
        body = {"name": name, "scopes": scopes, **({"limits": limits} if limits else {})}
        return self.json("POST", "/v0/tokens/", {"expiration_time": str(int(expiration_time))},
                         json.dumps(body).encode(), {"Content-Type": "application/json"})["token"]


def jwt_scopes(scopes: list[str], fixed_params: list[str]) -> list[dict]:
    """``--scope TYPE:resource[:filter]`` and ``--fixed-param PIPE:NAME=VALUE`` -> a JWT's scope objects."""
    out: list[dict] = []
    for text in scopes:
        parts = text.split(":", 3)
        if len(parts) < 3:
            raise SystemExit(f"mergetree: a JWT scope is TYPE:ACTION:resource[:filter], got '{text}'")
        scope = {"type": f"{parts[0]}:{parts[1]}", "resource": parts[2]}
        if len(parts) == 4 and parts[3]:
            scope["filter"] = parts[3]
        out.append(scope)
    for text in fixed_params:
        pipe, _, kv = text.partition(":")
        key, eq, value = kv.partition("=")
        if not (pipe and key and eq):
            raise SystemExit(f"mergetree: --fixed-param expects PIPE:NAME=VALUE, got '{text}'")
        target = next((s for s in out if s["type"] == "PIPES:READ" and s["resource"] == pipe), None)
        if target is None:
            target = {"type": "PIPES:READ", "resource": pipe}
            out.append(target)
        target.setdefault("fixed_params", {})[key] = value
    return out


# --------------------------------------------------------------------------- helpers


def project_files(root: str | Path) -> dict[str, str]:
    """Every datafile under a project folder, by path relative to it."""
    root = Path(root)
    if not root.is_dir():
        raise SystemExit(f"mergetree: {root} is not a folder")
    return {p.relative_to(root).as_posix(): p.read_text() for p in sorted(root.rglob("*"))
            if p.is_file() and p.suffix in (".datasource", ".pipe", ".incl")}


def file_format(path: str, explicit: str | None = None) -> str:
    if explicit:
        return explicit.lower()
    base = path.lower().removesuffix(".gz")
    if base.endswith((".ndjson", ".jsonl", ".json")):
        return "ndjson"
    if base.endswith(".parquet"):
        return "parquet"
    return "csv"


def _is_header(line: bytes, columns: list[str] | None) -> bool:
    """A CSV first line is a header when every field names a column (as the server decides); without
    the column names, when it has no digits."""
    if columns is None:
        return not any(ch in line for ch in b"0123456789")
    import csv

    fields = next(csv.reader([line.decode("utf-8", "replace")]), [])
    return bool(fields) and all(f.strip() in columns for f in fields)


def chunks(path: str, fmt: str, size: int = CHUNK_BYTES, columns: list[str] | None = None):
    """The file (gzip or not) in pieces of whole lines of about ``size`` bytes; a CSV header row is
    repeated at the start of every piece. Yields (piece, bytes of the file consumed so far)."""
    opener = gzip.open if _is_gzip(path) else open
    with opener(path, "rb") as f:
        header = b""
        buf = io.BytesIO()
        for i, line in enumerate(f):
            if i == 0 and fmt == "csv" and _is_header(line, columns):
                header = line if line.endswith(b"\n") else line + b"\n"
                continue
            buf.write(line)
            if buf.tell() >= size:
                yield header + buf.getvalue(), _position(f)
                buf = io.BytesIO()
        if buf.tell():
            yield header + buf.getvalue(), _position(f)


def _position(f) -> int:
    raw = getattr(f, "fileobj", None)       # gzip: the compressed file's position
    return (raw or f).tell()


def _is_gzip(path: str) -> bool:
    with open(path, "rb") as f:
        return f.read(2) == b"\x1f\x8b"


def _progress(total: int):
    """A rich progress bar on a terminal; else nothing (returns an update(done) function)."""
    if not sys.stderr.isatty():
        return (lambda done: None), (lambda: None)
    try:
        from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn
    except ImportError:
        return (lambda done: None), (lambda: None)
    progress = Progress("[progress.description]{task.description}", BarColumn(), DownloadColumn(),
                        TimeRemainingColumn(), transient=True)
    task = progress.add_task("appending", total=total)
    progress.start()
    return (lambda done: progress.update(task, completed=done)), progress.stop


# --------------------------------------------------------------------------- commands


def _client(args) -> Client:
    return Client(getattr(args, "host", None), getattr(args, "token", None))


def cmd_push(args) -> int:
    files = project_files(args.project_dir)
    mode = "deploy" if args.command == "deploy" else "push"
    report = _client(args).push(files, mode=mode, dry_run=args.dry_run)
    what = "checked" if args.dry_run else ("deployed" if mode == "deploy" else "pushed")
    print(f"{what} {len(files)} datafiles to {_client(args).host}: {report['result']}")
    for key in ("changed_files", "removed_files", "created_datasources"):
        if report.get(key):
            print(f"  {key.replace('_', ' ')}: {', '.join(report[key])}")
    if report.get("pipes"):
        print(f"  pipes served: {', '.join(report['pipes'])}")
    return 0


def cmd_append_url(args) -> int:
    """``mergetree append DS https://...``: the server downloads the file in an import job; follow it."""
    import time

    client = _client(args)
    params = {"name": args.datasource, "mode": args.mode, "url": args.file}
    if args.format:
        params["format"] = args.format
    if args.replace_condition:
        params["replace_condition"] = args.replace_condition
    job = client.json("POST", "/v0/datasources", params, b"")
    print(f"import job {job['id']}: {job['job_url']}")
    while job["status"] in ("waiting", "working", "cancelling"):
        time.sleep(0.5)
        job = client.json("GET", f"/v0/jobs/{urllib.parse.quote(job['id'])}")
    if job["status"] != "done":
        print(f"import {job['status']}: {job.get('error') or ''}", file=sys.stderr)
        return 1
    good, bad = job["statistics"]["row_count"], job.get("quarantine_rows", 0)
    print(f"{good} rows {'appended to' if args.mode == 'append' else 'replaced in'} {args.datasource}")
    if bad:
        print(f"{bad} rows quarantined: see them with\n  mergetree sql --host {client.host} "
              f"\"SELECT * FROM {args.datasource}_quarantine ORDER BY insertion_date DESC LIMIT 10\"")
    return 0


def cmd_append(args) -> int:
    if args.file.startswith(("http://", "https://")):
        return cmd_append_url(args)
    client = _client(args)
    fmt = file_format(args.file, args.format)
    if fmt == "parquet":                    # one request: a Parquet file cannot be cut into pieces as text
        with open(args.file, "rb") as f:
            res = client.append(args.datasource, f.read(), fmt, mode=args.mode,
                                replace_condition=args.replace_condition)
        print(f"{res.get('successful_rows', 0)} rows {'appended to' if args.mode == 'append' else 'replaced in'} "
              f"{args.datasource}" + (f", {res['quarantine_rows']} quarantined" if res.get("quarantine_rows") else ""))
        return 0
    total = os.path.getsize(args.file)
    update, stop = _progress(total)
    good = bad = 0
    mode = args.mode
    columns = None
    if fmt == "csv":
        try:
            info = client.json("GET", f"/v0/datasources/{urllib.parse.quote(args.datasource)}")
            columns = [c["name"] for c in info["schema"]["columns"]]
        except (ClientError, KeyError, TypeError):
            columns = None
    try:
        for piece, done in chunks(args.file, fmt, columns=columns):
            res = client.append(args.datasource, piece, fmt, mode=mode, replace_condition=args.replace_condition)
            good += int(res.get("successful_rows", 0))
            bad += int(res.get("quarantine_rows", 0))
            update(done)
            if mode == "replace" and not args.replace_condition:
                mode = "append"          # the first piece replaced everything, the others add to it
    finally:
        stop()
    print(f"{good} rows appended to {args.datasource}" if args.mode == "append"
          else f"{good} rows replaced in {args.datasource}")
    if bad:
        print(f"{bad} rows quarantined: see them with\n  mergetree sql --host {client.host} "
              f"\"SELECT * FROM {args.datasource}_quarantine ORDER BY insertion_date DESC LIMIT 10\"")
    return 0


def cmd_pipe_call(args) -> int:
    params: dict[str, list[str]] = {}
    for p in args.param:
        if "=" not in p:
            raise SystemExit(f"mergetree: --param expects NAME=VALUE, got '{p}'")
        k, v = p.split("=", 1)
        params.setdefault(k, []).append(v)
    if args.q:
        params["q"] = [args.q]
    out = _client(args).pipe(args.name, params, args.format)
    sys.stdout.buffer.write(out if out.endswith(b"\n") else out + b"\n")
    return 0


def cmd_token(args) -> int:
    if args.token_command == "ls":
        if args.data_dir:
            path = Path(args.data_dir) / "server" / "tokens.json"
            if not path.exists():
                raise SystemExit(f"mergetree: no tokens in {args.data_dir} (start `mergetree serve --data-dir "
                                 f"{args.data_dir}` once to create the admin token)")
            tokens = json.loads(path.read_text())["tokens"]
        else:
            tokens = _client(args).tokens()
        for t in tokens:
            scopes = ",".join(s["type"] + (f":{s['resource']}" if s.get("resource") else "")
                              + (f":{s['filter']}" if s.get("filter") else "") for s in t.get("scopes", []))
            print(f"{t['name']}\t{t['token']}\t{scopes}")
        return 0
    if args.token_command == "create":
        if not args.scope:
            raise SystemExit("mergetree: token create needs at least one --scope (e.g. PIPES:READ:my_pipe)")
        if args.expires_in is not None:         # a JWT, signed by the server with the admin token
            import time

            limits = {"rps": args.rps} if args.rps else None
            print(_client(args).create_jwt(args.name, jwt_scopes(args.scope, args.fixed_param),
                                           int(time.time()) + args.expires_in, limits))
            return 0
        if args.fixed_param or args.rps:
            raise SystemExit("mergetree: --fixed-param and --rps need a JWT: add --expires-in SECONDS")
        t = _client(args).create_token(args.name, args.scope, args.description or "")
        print(t["token"])
        return 0
    raise SystemExit("mergetree: token ls | token create NAME --scope SCOPE")


def cmd_remote_sql(args) -> int:
    query = args.query if args.query is not None else sys.stdin.read()
    fmt = args.format or ("PrettyCompact" if sys.stdout.isatty() else "TabSeparated")
    out = _client(args).sql(query, fmt)
    sys.stdout.buffer.write(out)
    sys.stdout.flush()
    return 0


def _remote(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default=None, help=f"server URL (default $MERGETREE_HOST or {DEFAULT_HOST})")
    p.add_argument("--token", default=None, help="token (default $MERGETREE_TOKEN or $TB_TOKEN)")


def add_client_parsers(sub) -> None:
    """``push``, ``deploy``, ``append``, ``pipe call``, ``token ls|create`` (cli.build_parser calls this)."""
    for name, what in (("push", "add/update a project's datafiles on a running server"),
                       ("deploy", "make a running server serve exactly this project's datafiles")):
        p = sub.add_parser(name, help=what)
        p.add_argument("project_dir", help="project folder with .datasource/.pipe files")
        p.add_argument("--dry-run", action="store_true", help="check on the server without changing anything")
        _remote(p)
        p.set_defaults(func=cmd_push)

    p = sub.add_parser("append", help="append a CSV/NDJSON/Parquet file (gzip ok) or an http(s) URL (imported "
                                      "by the server) to a data source on a running server")
    p.add_argument("datasource")
    p.add_argument("file", help="a local file, or an http(s):// URL the server downloads")
    p.add_argument("--format", choices=["csv", "ndjson", "parquet"], default=None,
                   help="default: from the file name (or the server sniffs it)")
    p.add_argument("--mode", choices=["append", "replace"], default="append")
    p.add_argument("--replace-condition", default=None, help="with --mode replace: replace only these rows")
    _remote(p)
    p.set_defaults(func=cmd_append)

    p = sub.add_parser("pipe", help="call a pipe endpoint on a running server")
    psub = p.add_subparsers(dest="pipe_command", metavar="call")
    call = psub.add_parser("call", help="call NAME with --param k=v (repeatable)")
    call.add_argument("name")
    call.add_argument("--param", action="append", default=[], metavar="NAME=VALUE")
    call.add_argument("--format", default="json", choices=["json", "csv", "ndjson"])
    call.add_argument("--q", default=None, help="extra SQL over _ (the pipe's result)")
    _remote(call)
    call.set_defaults(func=cmd_pipe_call)

    p = sub.add_parser("token", help="list or create tokens (ls also reads a local --data-dir)")
    tsub = p.add_subparsers(dest="token_command", metavar="{ls,create}")
    ls = tsub.add_parser("ls", help="list tokens: of a running server, or of a local --data-dir")
    ls.add_argument("--data-dir", default=None)
    _remote(ls)
    ls.set_defaults(func=cmd_token)
    create = tsub.add_parser("create", help="create a static token with scopes")
    create.add_argument("name")
    create.add_argument("--scope", action="append", default=[],
                        help="DATASOURCES:READ:ds, DATASOURCES:APPEND:ds, PIPES:READ:p, ... (repeatable)")
    create.add_argument("--description", default=None)
    create.add_argument("--expires-in", type=int, default=None, metavar="SECONDS",
                        help="make a JWT valid this long (scopes may carry a filter: DATASOURCES:READ:ds:cond)")
    create.add_argument("--fixed-param", action="append", default=[], metavar="PIPE:NAME=VALUE",
                        help="with --expires-in: a parameter value the JWT forces on a pipe (repeatable)")
    create.add_argument("--rps", type=float, default=None, help="with --expires-in: requests per second allowed")
    _remote(create)
    create.set_defaults(func=cmd_token)
