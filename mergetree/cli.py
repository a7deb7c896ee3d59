"""The `mergetree` command.

Kept import-light: `mergetree --help` must not import numba or build the parser. Each
subcommand imports what it needs inside its handler.
"""

from __future__ import annotations

import argparse
import sys


def _cmd_demo(args: argparse.Namespace) -> int:
    from mergetree.demo import run_demo

    return run_demo(rows=args.rows, data_dir=args.data_dir, out=sys.stdout)


def _cmd_sql(args: argparse.Namespace) -> int:
    """Like clickhouse-local: one query, or statements from stdin; TSV when piped, PrettyCompact on a terminal."""
    if getattr(args, "host", None):                 # against a running server (mergetree/client.py)
        from mergetree.client import cmd_remote_sql

        return cmd_remote_sql(args)
    import mergetree
    from sqlparse_ch import parse_many

    text = args.query if args.query is not None else sys.stdin.read()
    params = dict(p.split("=", 1) for p in args.param)
    settings = dict(x.split("=", 1) for x in getattr(args, "setting", []) if "=" in x) or None
    fmt = args.format or ("PrettyCompact" if sys.stdout.isatty() else "TabSeparated")
    db = mergetree.connect(args.data_dir)
    try:
        for stmt in parse_many(text):
            result = db.sql(stmt, params=params, settings=settings)
            sys.stdout.buffer.write(result.format(None if getattr(stmt, "format", None) else fmt))
        sys.stdout.flush()
    finally:
        db.close()
    return 0


def _cmd_warmup(args: argparse.Namespace) -> int:
    from mergetree.warmup import warm_up

    warm_up(sys.stdout, rows=args.rows, sweep_budget=args.sweep_seconds)
    return 0


def _cmd_parts(args: argparse.Namespace) -> int:
    import mergetree

    db = mergetree.connect(args.data_dir)
    try:
        for table in db.tables():
            for p in db.table(table).parts():
                print(f"{table}\t{p['name']}\t{p['rows']}\t{p['marks']}\t{p['bytes_on_disk']}\t{p['level']}")
    finally:
        db.close()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mergetree",
        description="Tinybird on your laptop: a self-hosted real-time analytics engine.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = sub.add_parser("demo", help="serve the quickstart project in-process, send generated events through "
                                       "the Events API, call its endpoints, and show the curl commands to try")
    demo.add_argument("--rows", type=int, default=50_000, help="events to generate (default 50000)")
    demo.add_argument("--data-dir", default=None, help="keep the data here instead of a temporary directory")
    demo.set_defaults(func=_cmd_demo)

    sql = sub.add_parser("sql", help="run ClickHouse SQL against a local data directory (like clickhouse-local)")
    sql.add_argument("query", nargs="?", default=None, help="the query; statements are read from stdin when omitted")
    sql.add_argument("--data-dir", default=None, help="data directory (default: a temporary one)")
    sql.add_argument("--format", default=None, help="output format (default TabSeparated, PrettyCompact on a terminal)")
    sql.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                     help="bind a {NAME:Type} query parameter (repeatable)")
    sql.add_argument("--setting", action="append", default=[], metavar="NAME=VALUE",
                     help="a query setting for every statement, e.g. max_memory_usage=1000000000, "
                          "max_execution_time=10, max_threads=1 (repeatable)")
    sql.add_argument("--multiquery", action="store_true", help="accepted for clickhouse-local compatibility: "
                     "several ;-separated statements always run in order")
    sql.add_argument("--host", default=None, help="run it on a mergetree/Tinybird server instead (/v0/sql)")
    sql.add_argument("--token", default=None, help="with --host: the token (default $MERGETREE_TOKEN)")
    sql.set_defaults(func=_cmd_sql)

    parts = sub.add_parser("parts", help="list the active parts of every table in a data directory")
    parts.add_argument("--data-dir", required=True)
    parts.set_defaults(func=_cmd_parts)

    warmup = sub.add_parser("warmup", help="compile every numba kernel into the on-disk cache (first queries "
                            "of later processes skip compilation)")
    warmup.add_argument("--rows", type=int, default=5000, help="rows per part of the scratch table (default 5000)")
    warmup.add_argument("--sweep-seconds", type=float, default=120.0,
                        help="time budget for calling every scalar function once (default 120; 0 = skip)")
    warmup.set_defaults(func=_cmd_warmup)

    from mergetree.server.cli_commands import add_project_parsers, add_serve_parser

    add_serve_parser(sub)
    add_project_parsers(sub)
    from mergetree.client import add_client_parsers

    add_client_parsers(sub)     # push, deploy, append, pipe call, token ls|create
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    from mergetree.errors import MergeTreeError
    from sqlparse_ch import ParseError

    try:
        return args.func(args)
    except ParseError as e:
        first, _, snippet = str(e).partition("\n")
        print(f"Code: 62. DB::Exception: {first} (SYNTAX_ERROR)", file=sys.stderr)
        if snippet:
            print(snippet, file=sys.stderr)
        return 62
    except MergeTreeError as e:
        print(f"DB::Exception: {e} ({e.code})", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as e:      # noqa: BLE001 - a server's answer to a client command: its message, no traceback
        from mergetree.client import ClientError

        if not isinstance(e, ClientError):
            raise
        print(f"mergetree: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
