"""``mergetree serve``, ``dev`` and ``build``: the argparse wiring ``mergetree.cli.build_parser`` adds."""

from __future__ import annotations

import argparse
import os
import sys
import threading


def _add_server_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", default="./mergetree-data",
                   help="directory for tables, tokens and the write-ahead log (default ./mergetree-data)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=7181, help="port (default 7181, as Tinybird Local)")
    p.add_argument("--admin-token", default=None,
                   help="fix the admin token (default: $MERGETREE_ADMIN_TOKEN, else generated on first start "
                        "and kept in DATA_DIR/server/tokens.json)")
    p.add_argument("--flush-interval", type=float, default=1.0,
                   help="seconds between Events API flushes into parts (default 1)")
    p.add_argument("--max-body-mb", type=float, default=10.0, help="request body limit in MiB (default 10)")
    p.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    p.add_argument("--query-threads", type=int, default=None,
                   help="threads that run the queries of requests (pipes, /v0/sql; default 2, or "
                        "$MERGETREE_QUERY_THREADS): few threads queue requests instead of slicing one core "
                        "between them")
    p.add_argument("--workers", type=_workers_arg, default=0,
                   help="read-only query worker processes that run SELECTs (pipes, /v0/sql) so queries use "
                        "more than one core; the server keeps writes, merges and HTTP; a pipe call alone in "
                        "flight still runs in the server. 'auto': one more than the available cores, at most 4, "
                        "none on one core (default 0: in-process)")


#: ``--workers auto``: at most this many (each worker holds ~270 MB of its own: caches, numba code)
AUTO_WORKERS_MAX = 4


def _workers_arg(text: str) -> int:
    """``--workers N`` or ``auto``: one worker more than the cores the process may run on
    (sched_getaffinity), at most AUTO_WORKERS_MAX, and 0 on a single core (a worker there only adds
    the hand-off). One more than the cores because a worker idles during each hand-off (the server
    wakes, relays, pins and sends the next call): user_activity at 16 clients on 2 cores,
    ``bench_api --serve-arg=--workers=N`` alternated in the same minutes, 7 pairs: 3 workers
    714-1072 req/s (p50 14.2-20.7 ms, 1.81-1.83 cores used) against 2 workers 536-973 req/s
    (p50 15.9-29.6 ms, 1.52-1.63 cores), 3 ahead in 6 of the 7 pairs."""
    if text.strip().lower() == "auto":
        try:
            cores = len(os.sched_getaffinity(0))
        except (AttributeError, OSError):
            cores = os.cpu_count() or 1
        return min(cores + 1, AUTO_WORKERS_MAX) if cores >= 2 else 0
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number or 'auto', got {text!r}") from None


def add_serve_parser(subparsers) -> argparse.ArgumentParser:
    serve = subparsers.add_parser("serve", help="serve the Tinybird-compatible HTTP API (events, pipes, sql, "
                                                "data sources), optionally for a project folder")
    serve.add_argument("project_dir", nargs="?", default=None,
                       help="project folder with .datasource/.pipe files to create and publish (optional)")
    _add_server_options(serve)
    serve.set_defaults(func=cmd_serve)
    return serve


def add_project_parsers(subparsers) -> None:
    """``mergetree build`` and ``mergetree dev``."""
    build = subparsers.add_parser("build", help="check a project's datafiles, templates and node SQL "
                                                "(errors as file:line; exit code 1 on errors)")
    build.add_argument("project_dir", help="project folder")
    build.set_defaults(func=cmd_build)
    dev = subparsers.add_parser("dev", help="serve a project and reload its datafiles when they change")
    dev.add_argument("project_dir", help="project folder")
    _add_server_options(dev)
    dev.add_argument("--poll", type=float, default=0.5, help="seconds between checks for changed files")
    dev.set_defaults(func=cmd_dev)


def cmd_build(args: argparse.Namespace) -> int:
    from mergetree.server.project import build_errors

    errors = build_errors(args.project_dir)
    for e in errors:
        print(str(e), file=sys.stderr)
    if errors:
        print(f"build failed: {len(errors)} error{'s' if len(errors) > 1 else ''}", file=sys.stderr)
        return 1
    from sqlparse_ch.datafiles import load_project

    project = load_project(args.project_dir)
    print(f"build ok: {len(project.datasources)} data sources, {len(project.pipes)} pipes")
    return 0


def cmd_serve(args: argparse.Namespace, *, dev: bool = False) -> int:
    import logging

    import uvicorn

    from mergetree.server.app import create_app
    from sqlparse_ch.datafiles import DatafileError

    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if getattr(args, "query_threads", None) is not None:
        from mergetree.server.http import configure_query_threads

        if args.query_threads < 1:
            print(f"error: --query-threads must be >= 1, got {args.query_threads}", file=sys.stderr)
            return 2
        configure_query_threads(args.query_threads)
    workers = getattr(args, "workers", 0) or 0
    if workers < 0:
        print(f"error: --workers must be >= 0, got {workers}", file=sys.stderr)
        return 2
    if workers and getattr(args, "query_threads", None) is None:
        from mergetree.server.http import configure_query_threads

        configure_query_threads(workers + 1)     # a query thread waits on each worker, one compiles
    seen = None
    if dev:
        from mergetree.server.project import datafile_mtimes

        seen = datafile_mtimes(args.project_dir)        # before loading: edits made meanwhile are reloaded
    try:
        app = create_app(args.data_dir, admin_token=args.admin_token or os.environ.get("MERGETREE_ADMIN_TOKEN"),
                         flush_interval=args.flush_interval, max_body_bytes=int(args.max_body_mb * 1024 * 1024),
                         project=args.project_dir, workers=workers)
    except DatafileError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    service = app.state.service
    if workers and not service.engine.workers.wait_ready(120):     # listen once the workers are up
        print("warning: query workers are still starting; SELECTs run in the server until they are ready",
              file=sys.stderr)
    where = f" (project {args.project_dir}: pipes {', '.join(service.pipes.names()) or 'none'})" \
        if args.project_dir else ""
    print(f"mergetree serving {os.path.abspath(args.data_dir)}{where} on http://{args.host}:{args.port}",
          file=sys.stderr)
    if not (args.admin_token or os.environ.get("MERGETREE_ADMIN_TOKEN")):
        print(f"admin token: {service.tokens.admin_token}", file=sys.stderr)
    sys.stderr.flush()
    reloader = None
    if dev:
        from mergetree.server.project import Reloader

        def report(rep, err):
            if err is not None:
                print(f"reload failed (still serving the previous version): {err}", file=sys.stderr)
            else:
                print(f"reloaded: pipes {', '.join(rep['pipes'])}; new data sources "
                      f"{', '.join(rep['created']) or 'none'}"
                      + (f"; new columns / defaults in {', '.join(rep['altered'])}" if rep.get("altered") else ""),
                      file=sys.stderr)

        reloader = Reloader(service, args.project_dir, interval=args.poll, on_reload=report, seen=seen).start()
    freezer = _GcFreezer(enabled=os.environ.get("MERGETREE_GC_FREEZE", "1") != "0").start()
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, access_log=False,
                    **_fast_io())
    finally:
        freezer.stop()
        if reloader is not None:
            reloader.stop()
        service.close()
    return 0


class _GcFreezer:
    """Move the server's long-lived objects out of the garbage collector's reach (``gc.freeze``).

    A started server holds ~270k GC-tracked objects (modules, grammar tables, kernels, tables,
    pipes); every full (generation 2) collection walked all of them: ~300 ms with the whole server
    stopped, once every ~700 endpoint requests: with 16 clients that is the p99 (2% of requests
    wait behind it), and ~0.4 ms of CPU per request on average. Frozen, a full collection walks only
    what requests left behind (measured: 27-41 ms, GC time per request 0.61 -> 0.19 ms).
    Frozen now (after the project is loaded) and again 20 s and 120 s later, once the first requests
    have imported what they use lazily. Each time a full collection runs first, so only live objects
    are frozen (frozen objects are still freed by reference counting; only a cycle among them
    that becomes garbage later is never collected).
    """

    def __init__(self, later: tuple = (20.0, 120.0), enabled: bool = True):
        self.later = later
        self.enabled = enabled          # MERGETREE_GC_FREEZE=0 turns it off
        self._stop = threading.Event()

    @staticmethod
    def freeze() -> None:
        import gc

        gc.collect()
        gc.freeze()

    def start(self) -> "_GcFreezer":
        if not self.enabled:
            return self
        self.freeze()
        if self.later:
            threading.Thread(target=self._run, name="mergetree-gc-freeze", daemon=True).start()
        return self

    def _run(self) -> None:
        import time

        start = time.monotonic()
        for at in self.later:
            if self._stop.wait(max(0.0, start + at - time.monotonic())):
                return
            self.freeze()

    def stop(self) -> None:
        self._stop.set()


def _fast_io() -> dict:
    """uvloop and httptools when installed (uvicorn's "auto" picks them too; named here so that a
    missing one is a visible choice, not a silent 2x slower asyncio + h11 server)."""
    import importlib.util

    out = {}
    if importlib.util.find_spec("uvloop") is not None:
        out["loop"] = "uvloop"
    if importlib.util.find_spec("httptools") is not None:
        out["http"] = "httptools"
    return out


def cmd_dev(args: argparse.Namespace) -> int:
    return cmd_serve(args, dev=True)


def main(argv: list[str] | None = None) -> int:
    """``python -m mergetree.server.cli_commands serve ...`` until the lead wires it into mergetree.cli."""
    parser = argparse.ArgumentParser(prog="mergetree")
    sub = parser.add_subparsers(dest="command", required=True)
    add_serve_parser(sub)
    add_project_parsers(sub)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
