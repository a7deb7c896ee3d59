"""``mergetree serve``: the argparse wiring that ``mergetree.cli.build_parser`` adds to the command."""

from __future__ import annotations

import argparse
import os
import sys


def add_serve_parser(subparsers) -> argparse.ArgumentParser:
    serve = subparsers.add_parser("serve", help="serve the Tinybird-compatible HTTP API (events, sql, data sources)")
    serve.add_argument("--data-dir", default="./mergetree-data",
                       help="directory for tables, tokens and the write-ahead log (default ./mergetree-data)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=7181, help="port (default 7181, as Tinybird Local)")
    serve.add_argument("--admin-token", default=None,
                       help="fix the admin token (default: $MERGETREE_ADMIN_TOKEN, else generated on first start "
                            "and kept in DATA_DIR/server/tokens.json)")
    serve.add_argument("--flush-interval", type=float, default=1.0,
                       help="seconds between Events API flushes into parts (default 1)")
    serve.add_argument("--max-body-mb", type=float, default=10.0, help="request body limit in MiB (default 10)")
    serve.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    serve.set_defaults(func=cmd_serve)
    return serve


def cmd_serve(args: argparse.Namespace) -> int:
    import logging

    import uvicorn

    from mergetree.server.app import create_app

    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = create_app(args.data_dir, admin_token=args.admin_token or os.environ.get("MERGETREE_ADMIN_TOKEN"),
                     flush_interval=args.flush_interval, max_body_bytes=int(args.max_body_mb * 1024 * 1024))
    service = app.state.service
    print(f"mergetree serving {os.path.abspath(args.data_dir)} on http://{args.host}:{args.port}", file=sys.stderr)
    if not (args.admin_token or os.environ.get("MERGETREE_ADMIN_TOKEN")):
        print(f"admin token: {service.tokens.admin_token}", file=sys.stderr)
    sys.stderr.flush()
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, access_log=False)
    finally:
        service.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m mergetree.server.cli_commands serve ...`` until the lead wires it into mergetree.cli."""
    parser = argparse.ArgumentParser(prog="mergetree")
    add_serve_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
